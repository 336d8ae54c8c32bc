import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRun, mergeReports } from '../../src/ingest/run.ts';
import { parseCommand } from '../../src/ingest/cli.ts';
import { ReportError } from '../../src/ingest/report-error.ts';
import type { ParsedReport, RunMeta, TestCase } from '../../src/model.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url));

const meta: RunMeta = {
  id: '003',
  seed: 4242,
  probe: false,
  framework: 'ginkgo',
  command: ['ginkgo', '--seed=4242', './...'],
  exitCode: 1,
  signal: null,
  timedOut: false,
  startedAt: 1_700_000_000_000,
  endedAt: 1_700_000_005_000,
  durationMs: 5000,
  reports: ['junit/junit.xml', 'ginkgo.json'],
  warnings: ['ginkgo printed a deprecation notice'],
};

async function runFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'kubeflake-run-'));
  const dir = join(root, 'runs', '003');
  await mkdir(join(dir, 'junit'), { recursive: true });
  try {
    await fn(dir);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('loadRun merges Ginkgo JSON and JUnit of one run: JSON wins, each spec once, exact order', async () => {
  await runFolder(async (dir) => {
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
    await copyFile(fixture('ginkgo.json'), join(dir, 'ginkgo.json'));
    await copyFile(fixture('ginkgo-junit.xml'), join(dir, 'junit', 'junit.xml'));
    const run = await loadRun(dir);
    assert.equal(run.id, '003');
    assert.equal(run.seed, 4242);
    assert.deepEqual(run.command, meta.command);
    assert.equal(run.exitCode, 1);
    assert.equal(run.durationMs, 5000);
    assert.deepEqual(run.reports, ['ginkgo.json', 'junit/junit.xml']);
    assert.equal(run.cases.length, 13, 'each spec once although both reports hold it');
    assert.ok(run.cases.every((c) => c.index !== undefined), 'the Ginkgo JSON copy is the one kept');
    assert.equal(run.orderSource, 'ginkgo-json');
    const ran = run.cases.filter((c) => c.status !== 'skipped').sort((a, b) => a.index! - b.index!);
    assert.deepEqual(run.order, ran.map((c) => c.id));
    assert.equal(run.order[0], 'Fixture Suite :: [BeforeSuite]');
    assert.ok(!run.order.includes('Fixture Suite :: Widget when created is pending'), 'skipped tests are not in the order');
    assert.deepEqual(run.warnings, ['ginkgo printed a deprecation notice']);
  });
});

test('loadRun never throws on a bad report: it warns, names the file, and keeps the good ones', async () => {
  await runFolder(async (dir) => {
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ ...meta, reports: ['junit/junit.xml', 'junit/gone.xml', '../../escape.xml'] }));
    await copyFile(fixture('gotestsum.xml'), join(dir, 'junit', 'junit.xml'));
    await writeFile(join(dir, 'junit', 'broken.xml'), '<html><body>502</body></html>');
    await writeFile(join(dir, 'junit', 'empty.xml'), '');
    await writeFile(join(dir, 'ginkgo.json'), '[{"SuiteDescription": "S", "SpecReports": [');
    const run = await loadRun(dir);
    assert.equal(run.cases.length, 5);
    assert.equal(run.orderSource, 'junit-document', 'a Ginkgo JSON cut before its first spec gives no order');
    // The cut Ginkgo JSON was read (zero specs, a warning); the HTML and empty files were not.
    assert.deepEqual(run.reports, ['ginkgo.json', 'junit/junit.xml']);
    const text = run.warnings.join('\n');
    assert.match(text, /broken\.xml: is an HTML page/);
    assert.match(text, /empty\.xml: is empty/);
    assert.match(text, /ginkgo\.json: ends before the report is complete/);
    assert.match(text, /gone\.xml: listed in meta\.json but missing/);
    assert.match(text, /"\.\.\/\.\.\/escape\.xml" points outside the run folder/);
  });
});

test('loadRun without meta.json or reports still loads, with warnings saying what is missing', async () => {
  await runFolder(async (dir) => {
    const run = await loadRun(dir);
    assert.equal(run.id, '003');
    assert.equal(run.exitCode, null);
    assert.deepEqual(run.cases, []);
    assert.equal(run.orderSource, 'unknown');
    assert.match(run.warnings.join('\n'), /meta\.json: missing/);
    assert.match(run.warnings.join('\n'), /no report found/);
    await writeFile(join(dir, 'meta.json'), '{"id": "003", "seed": ');
    assert.match((await loadRun(dir)).warnings.join('\n'), /meta\.json: not valid JSON/);
  });
  await assert.rejects(loadRun(join(tmpdir(), 'kubeflake-no-such-run')), ReportError);
});

test('loadRun orders by per-test JUnit timestamps when every test has one', async () => {
  await runFolder(async (dir) => {
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ ...meta, reports: [] }));
    await writeFile(
      join(dir, 'junit', 'junit.xml'),
      `<testsuites><testsuite name="example.com/pkg">
        <testcase classname="example.com/pkg" name="TestB" time="1" timestamp="2026-01-01T00:00:05Z"/>
        <testcase classname="example.com/pkg" name="TestA" time="1" timestamp="2026-01-01T00:00:01Z"/>
        <testcase classname="example.com/pkg" name="TestSkip" time="0" timestamp="2026-01-01T00:00:02Z"><skipped/></testcase>
      </testsuite></testsuites>`,
    );
    const run = await loadRun(dir);
    assert.equal(run.orderSource, 'junit-times');
    assert.deepEqual(run.order, ['example.com/pkg :: TestA', 'example.com/pkg :: TestB']);
  });
});

test('mergeReports: duplicates inside one report are kept, across reports the Ginkgo JSON copy wins', () => {
  const tc = (name: string, extra: Partial<TestCase> = {}): TestCase => ({ id: `S :: ${name}`, name, suite: 'S', status: 'passed', durationMs: 1, ...extra });
  const junit: ParsedReport = { file: 'j.xml', dialect: 'ginkgo-junit', cases: [tc('b'), tc('a'), tc('t'), tc('t')], suites: [], warnings: [] };
  const json: ParsedReport = { file: 'g.json', dialect: 'ginkgo-json', cases: [tc('a', { index: 0 }), tc('b', { index: 1 })], suites: [], warnings: [] };
  const merged = mergeReports([junit, json]);
  assert.deepEqual(merged.cases.map((c) => [c.name, c.index]), [['a', 0], ['b', 1], ['t', undefined], ['t', undefined]]);
  assert.deepEqual(merged.order, ['S :: a', 'S :: b', 'S :: t', 'S :: t']);
  assert.equal(merged.orderSource, 'ginkgo-json');
});

test('parseCommand prints one normalized report per file and exits 1 when one cannot be read', async () => {
  let printed = '';
  const code = await parseCommand([fixture('gotestsum.xml'), fixture('hostile/pom.xml')], (s) => (printed += s));
  assert.equal(code, 1);
  const out = JSON.parse(printed);
  assert.equal(out.length, 2);
  assert.equal(out[0].dialect, 'gotestsum');
  assert.equal(out[0].cases.length, 5);
  assert.match(out[1].error, /pom\.xml: is a Maven pom\.xml/);
  printed = '';
  assert.equal(await parseCommand([fixture('ginkgo.json')], (s) => (printed += s)), 0);
  assert.equal(JSON.parse(printed)[0].dialect, 'ginkgo-json');
});
