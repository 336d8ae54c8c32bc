// The go test -json dialect: the shim's raw test2json stream read as it is, with no JUnit in
// between; and a results directory an older kubeflake wrote (the stream converted to junit/*.xml)
// loading to the same test cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFailureMessage, parseGoTestEvents, parseGoTestJson, testFailureMessage, BuildFailureScanner, GoTestStream, type GoTestEvent } from '../../src/ingest/gotest-json.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { parseCommand } from '../../src/ingest/cli.ts';
import { loadRun } from '../../src/ingest/run.ts';
import { defaultLimits } from '../../src/ingest/limits.ts';
import type { ParsedReport, RunMeta, TestCase } from '../../src/model.ts';
import { fixture as junitFixture, withTemp } from './ingest-support.ts';

const fixturePath = (name: string) => fileURLToPath(new URL(`../fixtures/runner/go-test-json/${name}`, import.meta.url));
const fixture = (name: string) => readFileSync(fixturePath(name), 'utf8');
// Real `go test -json` streams of test/fixtures/gosrc/goexec (regenerate: in that folder,
// `go test -count=1 -json -shuffle=1 ./plainorder`, `go test -count=1 -json ./testdata/mainfails`,
// `go test -count=1 -json ./testdata/panics` with the checkout and GOROOT paths replaced).
const goexecPath = (name: string) => fileURLToPath(new URL(`../fixtures/gosrc/goexec/testdata/${name}`, import.meta.url));
const pkg = 'kubeflake.test/runner/plain/order';

async function* chunksOf(text: string, size = text.length): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** The report of a stream given as text, read in chunks of `size` characters. */
function read(text: string, options: { interrupted?: string; size?: number; maxTextChars?: number } = {}): Promise<ParsedReport> {
  const limits = { ...defaultLimits, ...(options.maxTextChars ? { maxTextChars: options.maxTextChars } : {}) };
  return parseGoTestJson('stream.json', chunksOf(text, options.size), limits, options.interrupted ? { interrupted: options.interrupted } : {});
}

function streamOf(events: GoTestEvent[]): string {
  return events.map((event) => JSON.stringify(event)).join('\n') + '\n';
}

const byName = (report: ParsedReport, name: string): TestCase => report.cases.find((c) => c.name === name)!;

test('a real shuffled run: cases in execution order, the victim failed with its own message and output', async () => {
  const report = await read(fixture('shuffled-victim-fails.json'));
  assert.equal(report.dialect, 'go-test-json');
  assert.deepEqual(
    report.cases.map((c) => c.name),
    ['TestDelta', 'TestPolluter', 'TestCharlie', 'TestTable', 'TestTable/first', 'TestTable/second', 'TestTable/third', 'TestSkipped', 'TestBravo', 'TestVictim', 'TestEcho', 'TestAlpha'],
  );
  const victim = byName(report, 'TestVictim');
  assert.equal(victim.status, 'failed');
  assert.equal(victim.suite, pkg);
  assert.equal(victim.classname, undefined);
  assert.equal(victim.failure!.message, 'TestPolluter ran earlier and left state behind');
  assert.match(victim.failure!.text!, /--- FAIL: TestVictim/);
  assert.deepEqual(victim.failure!.location, { file: 'order_test.go', line: 13 });
  assert.equal(victim.startedAt, Date.parse('2026-11-25T17:06:48.459Z'), 'its run event, to the millisecond');
  assert.equal(victim.endedAt, victim.startedAt! + victim.durationMs);
  assert.equal(report.cases.filter((c) => c.status === 'failed').length, 1);
  assert.equal(byName(report, 'TestSkipped').status, 'skipped');
  assert.equal(byName(report, 'TestSkipped').failure, undefined);
  assert.equal(byName(report, 'TestDelta').failure, undefined);
  assert.deepEqual(report.suites.map((s) => s.name), [pkg]);
  assert.ok(report.suites[0]!.startedAt! > 0);
  assert.deepEqual(report.warnings, []);
});

test('read in chunks of any size, the stream gives the same report', async () => {
  const text = fixture('shuffled-victim-fails.json');
  const whole = await read(text);
  for (const size of [1, 7, 100, 4096]) assert.deepEqual(await read(text, { size }), whole, `chunks of ${size}`);
  // No newline after the last event: it still counts.
  assert.deepEqual(await read(text.trimEnd()), whole);
});

test('a build failure in the stream becomes a failed TestMain whose message is the first compiler error', async () => {
  const report = await read(fixture('build-failed.json'));
  assert.equal(report.cases.length, 1);
  assert.equal(report.cases[0]!.name, 'TestMain');
  assert.match(report.cases[0]!.failure!.message, /^\S+\.go:\d+:\d+: undefined: undefined$/);
  assert.match(report.cases[0]!.failure!.text!, /undefined: undefined/);
});

test('a stream cut mid-test (killed run): the running test fails with the reason the context gives', async () => {
  const lines = fixture('shuffled-victim-fails.json').split('\n');
  const cut = lines.findIndex((line) => line.includes('"Action":"run"') && line.includes('"TestBravo"'));
  const text = lines.slice(0, cut + 2).join('\n');
  const killed = await read(text, { interrupted: 'the run was killed at its timeout' });
  assert.match(byName(killed, 'TestBravo').failure!.text!, /TestBravo did not finish: the run was killed at its timeout/);
  assert.equal(byName(killed, 'TestBravo').failure!.message, 'TestBravo did not finish: the run was killed at its timeout');
  assert.equal(byName(killed, 'TestDelta').failure, undefined);
  const unknown = await read(text);
  assert.match(byName(unknown, 'TestBravo').failure!.message, /did not finish: its package failed before it ended/);
});

test('a package killed before any test: one failed TestMain says why', async () => {
  const text = streamOf([
    { Time: '2026-01-01T00:00:00Z', Action: 'start', Package: 'p' },
    { Action: 'output', Package: 'p', Output: 'init...\n' },
  ]);
  const report = await read(text, { interrupted: 'stopped' });
  // The package's own last words are the message; kubeflake's note on how it ended is in the text.
  assert.deepEqual(report.cases.map((c) => [c.name, c.status, c.failure?.message]), [['TestMain', 'failed', 'init...']]);
  assert.match(report.cases[0]!.failure!.text!, /package did not finish: stopped/);
  assert.deepEqual((await read(text)).cases, [], 'not interrupted and no end: nothing failed');
});

test('lines that are not events are passed over', async () => {
  const { events, other } = parseGoTestEvents('{"Action":"start","Package":"p"}\n# p\n{not json\n\n');
  assert.equal(events.length, 1);
  assert.deepEqual(other, ['# p', '{not json']);
  const report = await read('{"Action":"run","Package":"p","Test":"TestA"}\nnot an event\n{broken\n{"Action":"pass","Package":"p","Test":"TestA"}\n');
  assert.deepEqual(report.cases.map((c) => [c.name, c.status]), [['TestA', 'passed']]);
});

test('output with ANSI colours and control characters reads as text; CRLF as LF', async () => {
  const report = await read(
    streamOf([
      { Action: 'run', Package: 'p', Test: 'TestX' },
      { Action: 'output', Package: 'p', Test: 'TestX', Output: '\x1b[31m<b>&"x"</b>\x1b[0m\x00\x07 done\r\n' },
      { Action: 'fail', Package: 'p', Test: 'TestX', Elapsed: 0.5 },
      { Action: 'fail', Package: 'p', Elapsed: 0.6 },
    ]),
  );
  assert.equal(report.cases[0]!.failure!.text, '<b>&"x"</b>\uFFFD\uFFFD done\n');
  assert.equal(report.cases[0]!.durationMs, 500);
});

test('output beyond the per-test cap is cut and marked; failure text beyond maxTextChars is cut, flagged and warned', async () => {
  const stream = new GoTestStream(250);
  stream.add({ Action: 'run', Package: 'p', Test: 'TestBig' });
  for (let i = 0; i < 10; i++) stream.add({ Action: 'output', Package: 'p', Test: 'TestBig', Output: 'x'.repeat(100) });
  stream.add({ Action: 'fail', Package: 'p', Test: 'TestBig' });
  const capped = stream.toReport('f', 64 * 1024).cases[0]!.failure!.text!;
  assert.equal(capped.replace(/\n.*$/s, '').length, 250);
  assert.match(capped, /output truncated/);

  const big = streamOf([
    { Action: 'run', Package: 'p', Test: 'TestBig' },
    { Action: 'output', Package: 'p', Test: 'TestBig', Output: 'y'.repeat(5000) },
    { Action: 'fail', Package: 'p', Test: 'TestBig' },
  ]);
  const report = await read(big, { maxTextChars: 1000 });
  assert.equal(report.cases[0]!.failure!.text!.length, 1000);
  assert.equal(report.cases[0]!.failure!.truncated, true);
  assert.match(report.warnings.join('\n'), /1 failure outputs were longer than 1 KiB and were cut/);
});

test('a passing test keeps no output; a test run again (-count) that fails keeps what its failing run said', async () => {
  const report = await read(
    streamOf([
      { Action: 'run', Package: 'p', Test: 'TestA' },
      { Action: 'output', Package: 'p', Test: 'TestA', Output: 'first run\n' },
      { Action: 'pass', Package: 'p', Test: 'TestA' },
      { Action: 'run', Package: 'p', Test: 'TestA' },
      { Action: 'output', Package: 'p', Test: 'TestA', Output: '    a_test.go:3: second run broke\n' },
      { Action: 'fail', Package: 'p', Test: 'TestA' },
    ]),
  );
  assert.equal(report.cases.length, 1);
  assert.equal(report.cases[0]!.failure!.message, 'second run broke');
  assert.doesNotMatch(report.cases[0]!.failure!.text!, /first run/);
});

test("failure messages of real streams: t.Fatalf text with continuation lines, a TestMain's last words, a panic", async () => {
  const messages = async (name: string) => Object.fromEntries((await parseReport(goexecPath(name))).cases.filter((c) => c.failure).map((c) => [c.name, c.failure!.message]));
  assert.deepEqual(await messages('plain-victim-fails.json'), { TestVictim: 'creating secret: secrets "db-password" already exists\nleft by an earlier test' });
  assert.deepEqual(await messages('testmain-fails.json'), {
    TestMain: 'unable to start the control plane: fork/exec /usr/local/kubebuilder/bin/etcd: no such file or directory',
  });
  assert.equal((await messages('panics.json')).TestPanics, 'panic: assignment to entry in nil map');
});

test('failure messages from output shapes: last log entry wins, markers and summaries are skipped', () => {
  const cases: [string, string, string][] = [
    ['t.Errorf then t.Fatalf', '    a_test.go:3: first\n    a_test.go:4: second\n--- FAIL: TestX (0.00s)\n', 'second'],
    ['t.Log before t.Fatalf', '=== RUN   TestX\n    a_test.go:3: creating\n    a_test.go:9: boom\n        detail\n--- FAIL: TestX (0.00s)\n', 'boom\ndetail'],
    ['an indented line after a non-entry line is not a continuation', '    a_test.go:3: one\nother\n        stray\n', 'one'],
    ['nothing said', '=== RUN   TestX\n--- FAIL: TestX (0.00s)\n', 'Failed'],
    ['killed', '=== RUN   TestX\n\n[kubeflake: TestX did not finish: the run was killed at its timeout]\n', 'TestX did not finish: the run was killed at its timeout'],
  ];
  for (const [what, output, message] of cases) assert.equal(testFailureMessage(output), message, what);
  assert.equal(packageFailureMessage('setting up\nreal error here\nFAIL\tp\t0.1s\nexit status 1\n'), 'real error here', 'package summary lines skipped');
  assert.equal(packageFailureMessage('\n[kubeflake: package did not finish: stopped]\n'), 'package did not finish: stopped');
  assert.equal(packageFailureMessage('etcd: not found\n[kubeflake: the test binary exited with code 1]\n'), 'etcd: not found', 'the package own words first');
  assert.equal(testFailureMessage(`    a_test.go:1: ${'x'.repeat(3000)}`).length, 2001);
});

test('parseReport tells a go test -json stream from Ginkgo JSON by content, whatever the file is called', async () => {
  await withTemp(async (dir) => {
    const named = join(dir, 'report.json');
    await writeFile(named, fixture('shuffled-victim-fails.json'));
    assert.equal((await parseReport(named)).dialect, 'go-test-json');
    assert.equal((await parseReport(fixturePath('build-failed.json'))).dialect, 'go-test-json', 'a stream may begin with a build event');
    assert.equal((await parseReport(junitFixture('ginkgo.json'))).dialect, 'ginkgo-json');
  });
});

test('kubeflake parse accepts a go test -json stream', async () => {
  const pieces: string[] = [];
  const code = await parseCommand([fixturePath('shuffled-victim-fails.json')], (s) => pieces.push(s));
  const [report] = JSON.parse(pieces.join('')) as ParsedReport[];
  assert.equal(code, 0);
  assert.equal(report!.dialect, 'go-test-json');
  assert.equal(report!.cases.length, 12);
  assert.equal(report!.cases.find((c) => c.name === 'TestVictim')!.status, 'failed');
});

test('BuildFailureScanner: the compiler block of a package go test could not build, from its text output', () => {
  const scanner = new BuildFailureScanner();
  for (const line of ['# bf/broken [bf/broken.test]', 'broken/x_test.go:3:28: undefined: undefined', 'FAIL\tbf/broken [build failed]', 'ok  \tbf/fine\t0.1s']) scanner.add(line);
  assert.deepEqual(scanner.failures(), [{ importPath: 'bf/broken', output: '# bf/broken [bf/broken.test]\nbroken/x_test.go:3:28: undefined: undefined\n' }]);
});

// test/fixtures/runner/go-test-json/converted-results: run folders as kubeflake wrote them before it
// read go test -json streams directly: each stream converted to junit/<label>.xml (and a package that
// did not build written as junit/bf_broken.xml), meta.json listing only junit/; run 001 was killed at
// its timeout. Written by that kubeflake's collectGoExecReports from the fixture streams here.
const converted = fixturePath('converted-results');

/** The same run folder as kubeflake writes it now: the streams listed where the shim left them, build failures in meta.json. */
async function asWrittenNow(from: string, to: string, buildFailures?: RunMeta['buildFailures']): Promise<void> {
  await cp(from, to, { recursive: true });
  await rm(join(to, 'junit'), { recursive: true });
  const meta = JSON.parse(await readFile(join(to, 'meta.json'), 'utf8')) as RunMeta;
  const streams = (await readdir(join(to, 'go-exec'))).filter((name) => name.endsWith('.go-test.json')).sort();
  meta.reports = streams.map((name) => `go-exec/${name}`);
  if (buildFailures) meta.buildFailures = buildFailures;
  await writeFile(join(to, 'meta.json'), JSON.stringify(meta));
}

const sortedCases = (cases: TestCase[]) => [...cases].sort((a, b) => a.id.localeCompare(b.id));

test('a results directory an older kubeflake wrote (streams converted to junit/) still loads, to the same cases as reading the streams', async () => {
  await withTemp(async (dir) => {
    const old = await loadRun(join(converted, 'runs', '000'));
    assert.deepEqual(old.reports, [
      'junit/bf_broken.xml',
      'junit/kubeflake.test_fixtures_goexec_testdata_mainfails.xml',
      'junit/kubeflake.test_fixtures_goexec_testdata_panics.xml',
      'junit/kubeflake.test_runner_plain_order.xml',
    ]);
    assert.equal(old.cases.length, 16);
    assert.deepEqual(old.warnings, []);
    const scanner = new BuildFailureScanner();
    for (const line of ['# bf/broken [bf/broken.test]', 'broken/x_test.go:3:28: undefined: undefined', 'FAIL\tbf/broken [build failed]']) scanner.add(line);
    await asWrittenNow(join(converted, 'runs', '000'), join(dir, '000'), scanner.failures());
    const now = await loadRun(join(dir, '000'));
    assert.deepEqual(now.reports, [
      'go-exec/kubeflake.test_fixtures_goexec_testdata_mainfails.go-test.json',
      'go-exec/kubeflake.test_fixtures_goexec_testdata_panics.go-test.json',
      'go-exec/kubeflake.test_runner_plain_order.go-test.json',
      'meta.json',
    ]);
    assert.deepEqual(sortedCases(now.cases), sortedCases(old.cases));
    assert.deepEqual(now.warnings, []);
  });
});

test('a run killed at its timeout: the old converted folder and the stream read with the record give the same cases and order', async () => {
  await withTemp(async (dir) => {
    const old = await loadRun(join(converted, 'runs', '001'));
    assert.equal(old.timedOut, true);
    assert.match(old.cases.find((c) => c.name === 'TestBravo')!.failure!.message, /did not finish: the run was killed at its timeout/);
    await asWrittenNow(join(converted, 'runs', '001'), join(dir, '001'));
    const now = await loadRun(join(dir, '001'));
    assert.deepEqual(now.cases, old.cases);
    assert.deepEqual([now.order, now.orderSource], [old.order, old.orderSource]);
  });
});
