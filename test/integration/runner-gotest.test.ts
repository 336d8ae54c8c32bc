// The runner against real `go test` on plain Go tests (test/fixtures/runner/plain): through the
// exec shim each test binary's test2json stream is kept and is the run's report (read as it is),
// `-shuffle` reaches the tests, `-run` keeps the recorded relative order. No cluster needed.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun, type RunSpec } from '../../src/runner/execute.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { loadRun } from '../../src/ingest/run.ts';
import type { RunMeta } from '../../src/model.ts';
import { runnerFixture } from '../support/ginkgo.ts';

const results = mkdtempSync(join(tmpdir(), 'kf-runner-go-'));
let runs = 0;
after(() => rmSync(results, { recursive: true, force: true }));
const pkg = 'kubeflake.test/runner/plain/order';
const label = 'kubeflake.test_runner_plain_order';

async function run(extra: Partial<RunSpec> = {}): Promise<{ meta: RunMeta; dir: string }> {
  const id = String(runs++).padStart(3, '0');
  const dir = join(results, 'runs', id);
  const meta = await executeRun({ id, seed: 17, command: ['go', 'test', '-count=1', './plain/order'], framework: 'go', runDir: dir, cwd: runnerFixture, timeoutMs: 120_000, ...extra });
  return { meta, dir };
}

/** Top-level tests in the order the shim's raw test2json stream started them. */
function order(dir: string): string[] {
  return readFileSync(join(dir, 'go-exec', `${label}.go-test.json`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { Action: string; Test?: string })
    .filter((event) => event.Action === 'run' && event.Test && !event.Test.includes('/'))
    .map((event) => event.Test!);
}

/** Test case names the stream gives, in its order, with failed ones marked. */
async function streamCases(dir: string): Promise<string[]> {
  const report = await parseReport(join(dir, 'go-exec', `${label}.go-test.json`));
  return report.cases.map((c) => `${c.name}${c.status === 'failed' ? ' FAILED' : ''}`);
}

test('a go test run: the raw test2json stream is the report, nothing converted into junit/, log.txt reads like go test -v', async () => {
  const { meta, dir } = await run({ seed: 2_000_000_000 });
  assert.deepEqual(meta.reports, [`go-exec/${label}.go-test.json`]);
  assert.deepEqual(readdirSync(join(dir, 'junit')), []);
  assert.deepEqual(readdirSync(dir).sort(), ['go-exec', 'junit', 'log.txt', 'meta.json']);
  assert.deepEqual(meta.command, ['go', 'test', '-shuffle=2000000000', '-count=1', './plain/order']);
  assert.deepEqual(meta.testBinaries, [{ importPath: pkg, kind: 'go', exitCode: 1 }]);
  assert.equal(meta.exitCode, 1);
  const log = readFileSync(join(dir, 'log.txt'), 'utf8');
  assert.match(log, /^-test\.shuffle 2000000000$/m);
  assert.match(log, /^--- FAIL: TestVictim/m);
  assert.doesNotMatch(log, /"Action"/);
  const cases = await streamCases(dir);
  assert.equal(cases.length, 12);
  assert.deepEqual(cases.filter((name) => name.endsWith('FAILED')), ['TestVictim FAILED']);
  const loaded = await loadRun(dir);
  assert.deepEqual([...new Set(loaded.cases.map((c) => c.suite))], [pkg]);
  assert.equal(loaded.cases.find((c) => c.name === 'TestVictim')?.failure?.message, 'TestPolluter ran earlier and left state behind');
  // The stream's order is execution order.
  assert.deepEqual(cases.filter((name) => !name.includes('/')).map((name) => name.replace(' FAILED', '')), order(dir));
});

test('-shuffle reaches the tests: same seed, same order; another seed, another order', async () => {
  const a = await run({ seed: 17 });
  const b = await run({ seed: 17 });
  const c = await run({ seed: 4242 });
  assert.equal(order(a.dir).length, 9);
  assert.deepEqual(order(b.dir), order(a.dir));
  assert.notDeepEqual(order(c.dir), order(a.dir));
});

test('focus by -run runs only the focused tests, in the recorded relative order, and confirms the polluter', async () => {
  const full = await run({ seed: 2_000_000_000 });
  const recorded = order(full.dir);
  assert.ok(recorded.indexOf('TestPolluter') < recorded.indexOf('TestVictim'), recorded.join(','));
  const focus = ['TestAlpha', 'TestVictim', 'TestPolluter', 'TestBravo'].map((name) => ({ name }));
  const probe = await run({ seed: 2_000_000_000, focus });
  assert.deepEqual(order(probe.dir), recorded.filter((name) => ['TestAlpha', 'TestVictim', 'TestPolluter', 'TestBravo'].includes(name)));
  const cases = await streamCases(probe.dir);
  assert.equal(cases.length, 4);
  assert.ok(cases.includes('TestVictim FAILED'), cases.join(','));
  const alone = await run({ seed: 2_000_000_000, focus: [{ name: 'TestVictim' }] });
  assert.deepEqual(await streamCases(alone.dir), ['TestVictim']);
});

test('focus on a subtest runs its parent and that subtest only', async () => {
  const probe = await run({ focus: [{ name: 'TestTable/second' }] });
  assert.deepEqual(await streamCases(probe.dir), ['TestTable', 'TestTable/second']);
});

test('a build failure still gives a report: TestMain failed with the compiler output', async () => {
  const broken = mkdtempSync(join(tmpdir(), 'kf-runner-broken-'));
  const { writeFileSync, mkdirSync } = await import('node:fs');
  writeFileSync(join(broken, 'go.mod'), 'module broken\n\ngo 1.25\n');
  mkdirSync(join(broken, 'pkg'));
  writeFileSync(join(broken, 'pkg', 'x_test.go'), 'package pkg\nimport "testing"\nfunc TestX(t *testing.T) { undefined() }\n');
  const { meta, dir } = await run({ cwd: broken, command: ['go', 'test', './pkg'] });
  // No test binary ran: the failure comes from go test's own output, kept in the runner's record.
  assert.deepEqual(meta.reports, []);
  assert.deepEqual(meta.testBinaries, []);
  assert.deepEqual(meta.unbuilt, ['broken/pkg']);
  assert.deepEqual(meta.buildFailures?.map((f) => f.importPath), ['broken/pkg']);
  assert.doesNotMatch(meta.warnings.join('\n'), /no report found/);
  assert.equal(meta.exitCode, 1);
  assert.deepEqual(readdirSync(join(dir, 'junit')), []);
  const loaded = await loadRun(dir);
  assert.deepEqual(loaded.reports, ['meta.json']);
  assert.deepEqual(loaded.cases.map((c) => [c.suite, c.name, c.status]), [['broken/pkg', 'TestMain', 'failed']]);
  assert.match(loaded.cases[0]!.failure!.message, /^pkg\/x_test\.go:3:\d+: undefined: undefined$/);
});
