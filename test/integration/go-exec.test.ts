// The go test -exec shim against the real go command (test/fixtures/gosrc/goexec: two Ginkgo
// suites and a plain Go package in one module): GOFLAGS=-exec reaches every test binary
// whatever started go test (go test ./..., make test with coverage, a wrapper script), the
// seed orders Ginkgo specs and plain tests, focus selects, reports land one set per package,
// failure messages survive, and the user's own GOFLAGS and -exec keep working. No cluster needed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type ProcessResult } from '../../src/exec.ts';
import { installGoExecShim } from '../../src/frameworks/go-exec-run.ts';
import { collectGoExecReports, type GoExecCollected } from '../../src/runner/go-exec-reports.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import type { GoExecFocus } from '../../src/frameworks/go-exec.ts';
import { fixtures } from '../support/paths.ts';

const module = join(fixtures, 'gosrc');
const suite = join(module, 'goexec');
const results = mkdtempSync(join(tmpdir(), 'kf-go-exec-'));
let runs = 0;
after(() => rmSync(results, { recursive: true, force: true }));
const pkg = (name: string) => `kubeflake.test/fixtures/goexec/${name}`;

interface GoTestRun {
  result: ProcessResult;
  collected: GoExecCollected;
  runDir: string;
  reportDir: string;
  output: string;
}

async function goTest(
  command: string[],
  options: { seed?: number; focus?: GoExecFocus[]; gomaxprocs?: number; goflags?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<GoTestRun> {
  const runDir = join(results, String(runs++).padStart(3, '0'));
  const setup = await installGoExecShim(runDir, { seed: options.seed ?? 42, focus: options.focus, gomaxprocs: options.gomaxprocs, goflags: options.goflags });
  const result = await runProcess(command, { cwd: options.cwd ?? suite, extraEnv: { ...options.env, ...setup.env }, capture: true, timeoutMs: 300_000 });
  const collected = await collectGoExecReports(setup.reportDir, join(runDir, 'junit'));
  return { result, collected, runDir, reportDir: setup.reportDir, output: result.stdout + result.stderr };
}

interface GinkgoSpec {
  LeafNodeText: string;
  LeafNodeType: string;
  State: string;
  Failure?: { Message: string; Location: { FileName: string; LineNumber: number } };
}

function ginkgoSpecs(file: string): GinkgoSpec[] {
  const suites = JSON.parse(readFileSync(file, 'utf8')) as { SpecReports: GinkgoSpec[] }[];
  return suites.flatMap((s) => s.SpecReports).filter((spec) => spec.LeafNodeType === 'It' && spec.State !== 'skipped');
}

function ginkgoOrder(run: GoTestRun, name: string): string[] {
  return ginkgoSpecs(join(run.reportDir, `kubeflake.test_fixtures_goexec_${name}.ginkgo.json`)).map((spec) => spec.LeafNodeText);
}

/** Top-level plain tests in the order the shim's test2json stream saw them start. */
function plainOrder(run: GoTestRun): string[] {
  return readFileSync(join(run.reportDir, 'kubeflake.test_fixtures_goexec_plainorder.go-test.json'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { Action: string; Test?: string })
    .filter((event) => event.Action === 'run' && event.Test)
    .map((event) => event.Test!);
}

before(async () => {
  // Build (or find in the Go build cache) the fixture's test binaries once, outside any timed part.
  await runProcess(['go', 'test', '-count=1', '-run=^$', './...'], { cwd: suite, capture: true, timeoutMs: 600_000 });
});

test('go test ./...: each binary is told apart by what it is, seeded, and reports into the run folder', async () => {
  const run = await goTest(['go', 'test', './...']);
  assert.equal(run.result.exitCode, 1, run.output);
  assert.deepEqual(
    run.collected.binaries.map((b) => [b.importPath, b.kind]).sort(),
    [[pkg('ginkgoorder'), 'ginkgo'], [pkg('ginkgoother'), 'ginkgo'], [pkg('plainorder'), 'go']],
  );
  assert.deepEqual(run.collected.ginkgoJson.map((file) => file.slice(file.lastIndexOf('/') + 1)).sort(), [
    'kubeflake.test_fixtures_goexec_ginkgoorder.ginkgo.json',
    'kubeflake.test_fixtures_goexec_ginkgoother.ginkgo.json',
  ]);
  assert.deepEqual(run.collected.junit.sort(), ['kubeflake.test_fixtures_goexec_ginkgoorder.xml', 'kubeflake.test_fixtures_goexec_ginkgoother.xml']);
  // A plain package's report is its test2json stream, left where the shim wrote it.
  assert.deepEqual(run.collected.goTestJson, ['kubeflake.test_fixtures_goexec_plainorder.go-test.json']);
  assert.match(run.output, /Random Seed: (\x1b\[[0-9;]*m)?42(\x1b\[[0-9;]*m)? - will randomize all specs/);
  assert.match(readFileSync(join(run.reportDir, 'kubeflake.test_fixtures_goexec_plainorder.go-test.json'), 'utf8'), /"Output":"-test.shuffle 42\\n"/);
  // Nothing written into the user's packages.
  assert.deepEqual(readdirSync(join(suite, 'ginkgoorder')), ['suite_test.go']);
  // The log reads like go test -v, no test2json framing marks.
  assert.doesNotMatch(run.output, /\x16/);
  assert.match(run.output, /^FAIL\tkubeflake\.test\/fixtures\/goexec\/ginkgoorder\t/m);
});

test('the seed orders Ginkgo specs and plain tests: the same seed the same order, another seed another', async () => {
  const a = await goTest(['go', 'test', './ginkgoorder', './plainorder'], { seed: 1 });
  const b = await goTest(['go', 'test', './ginkgoorder', './plainorder'], { seed: 1 });
  const c = await goTest(['go', 'test', './ginkgoorder', './plainorder'], { seed: 2 });
  assert.equal(ginkgoOrder(a, 'ginkgoorder').length, 6);
  assert.equal(plainOrder(a).length, 6);
  assert.deepEqual(ginkgoOrder(b, 'ginkgoorder'), ginkgoOrder(a, 'ginkgoorder'));
  assert.deepEqual(plainOrder(b), plainOrder(a));
  assert.notDeepEqual(ginkgoOrder(c, 'ginkgoorder'), ginkgoOrder(a, 'ginkgoorder'));
  assert.notDeepEqual(plainOrder(c), plainOrder(a));
});

test('failure messages survive: the Ginkgo message and location, the t.Fatalf text of a plain test', async () => {
  // Seeds where the polluter runs first in both packages (seed 1 for plain tests: see the JSON fixture).
  let run: GoTestRun | undefined;
  for (let seed = 1; seed < 40 && !run; seed++) {
    const attempt = await goTest(['go', 'test', './ginkgoorder', './plainorder'], { seed });
    const specs = ginkgoOrder(attempt, 'ginkgoorder');
    const tests = plainOrder(attempt);
    if (specs.indexOf('polluter') < specs.indexOf('victim') && tests.indexOf('TestPolluter') < tests.indexOf('TestVictim')) run = attempt;
  }
  assert.ok(run, 'no seed below 40 put both polluters first');
  const victim = ginkgoSpecs(run.collected.ginkgoJson.find((file) => file.includes('ginkgoorder'))!).find((spec) => spec.LeafNodeText === 'victim')!;
  assert.equal(victim.Failure?.Message, 'object is being deleted: widgets "iris2" already exists');
  assert.match(victim.Failure!.Location.FileName, /goexec\/ginkgoorder\/suite_test\.go$/);
  const plain = await parseReport(join(run.reportDir, 'kubeflake.test_fixtures_goexec_plainorder.go-test.json'));
  const plainVictim = plain.cases.find((c) => c.name === 'TestVictim')!;
  assert.equal(plainVictim.suite, pkg('plainorder'));
  assert.equal(plainVictim.failure?.message, 'creating secret: secrets "db-password" already exists\nleft by an earlier test');
});

test('a package whose TestMain fails before any test: the failure and its message reach the report', async () => {
  const run = await goTest(['go', 'test', './testdata/mainfails']);
  assert.equal(run.result.exitCode, 1);
  const report = await parseReport(join(run.reportDir, 'kubeflake.test_fixtures_goexec_testdata_mainfails.go-test.json'));
  assert.deepEqual(
    report.cases.map((c) => [c.name, c.failure?.message]),
    [['TestMain', 'unable to start the control plane: fork/exec /usr/local/kubebuilder/bin/etcd: no such file or directory']],
  );
});

test('a probe: only the focused tests run, plain tests by package and Ginkgo specs by text, in the recorded relative order', async () => {
  const seed = 5;
  const full = await goTest(['go', 'test', './...'], { seed });
  const specs = ginkgoOrder(full, 'ginkgoorder');
  const tests = plainOrder(full);
  const focus: GoExecFocus[] = [
    { suite: 'Ginkgo Order Suite', name: 'Widgets victim' },
    { suite: 'Ginkgo Order Suite', name: 'Widgets polluter' },
    { suite: pkg('plainorder'), name: 'TestVictim' },
    { suite: pkg('plainorder'), name: 'TestAlpha' },
  ];
  const probe = await goTest(['go', 'test', './...'], { seed, focus });
  assert.deepEqual(ginkgoOrder(probe, 'ginkgoorder'), specs.filter((name) => name === 'victim' || name === 'polluter'));
  assert.deepEqual(ginkgoOrder(probe, 'ginkgoother'), []);
  assert.deepEqual(plainOrder(probe), tests.filter((name) => name === 'TestVictim' || name === 'TestAlpha'));
  // A plain package with no focused test is not run at all.
  const ginkgoOnly = await goTest(['go', 'test', './...'], { seed, focus: focus.slice(0, 2) });
  const plainRecord = ginkgoOnly.collected.binaries.find((b) => b.importPath === pkg('plainorder'))!;
  assert.match(plainRecord.skipped ?? '', /no focused test is in kubeflake\.test\/fixtures\/goexec\/plainorder/);
  assert.equal(existsSync(join(ginkgoOnly.reportDir, 'kubeflake.test_fixtures_goexec_plainorder.go-test.json')), false);
});

test('make test with coverage: the shim runs under make, coverage still written, the user flags kept', async () => {
  rmSync(join(suite, 'cover.out'), { force: true });
  try {
    const run = await goTest(['make', 'test'], { seed: 3 });
    assert.equal(run.collected.binaries.length, 3, run.output);
    assert.ok(run.collected.binaries.every((b) => b.args.some((arg) => arg.startsWith('-test.coverprofile='))), 'go test passed -coverprofile on');
    assert.match(readFileSync(join(suite, 'cover.out'), 'utf8'), /^mode: set/);
    assert.equal(run.collected.junit.length + run.collected.goTestJson.length, 3);
  } finally {
    rmSync(join(suite, 'cover.out'), { force: true });
  }
});

test("a wrapper script, the user's GOFLAGS and their own -exec: all kept, the binaries still run through theirs", async () => {
  const marks = join(results, 'user-exec-marks.txt');
  const run = await goTest(['./hack/test.sh', '-v'], {
    goflags: `-tags=kubeflake -exec=${join(suite, 'testdata', 'user-exec.sh')}`,
    env: { USER_EXEC_MARKS: marks },
  });
  assert.equal(run.collected.binaries.length, 3, run.output);
  assert.equal(readFileSync(marks, 'utf8').trim().split('\n').filter((line) => line.endsWith('.test')).length, 3);
  assert.equal(run.collected.junit.length + run.collected.goTestJson.length, 3);
  assert.match(run.output, /=== RUN {3}TestPolluter/);
});

test('go test -json by the user: their stream stays valid JSON, the shim keeps its own copy', async () => {
  const run = await goTest(['go', 'test', '-json', './plainorder'], { seed: 4 });
  const lines = run.result.stdout.split('\n').filter((line) => line.trim() !== '');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
  const ran = lines.map((line) => JSON.parse(line) as { Action: string; Test?: string }).filter((e) => e.Action === 'run').map((e) => e.Test);
  assert.deepEqual(ran, plainOrder(run));
});

test('stress: the test processes run with GOMAXPROCS=1, the go command does not', async () => {
  for (const command of [['go', 'test', '-v', './plainorder'], ['go', 'test', './ginkgoorder', '-ginkgo.v']]) {
    const run = await goTest(command, { gomaxprocs: 1 });
    assert.match(run.output, /GOMAXPROCS=1 env=\\?"1\\?"/, command.join(' '));
    assert.doesNotMatch(run.output, /GOMAXPROCS=\d+ env=""/, command.join(' '));
  }
});

test('go run through the same GOFLAGS: the program runs untouched and leaves no record', async () => {
  const run = await goTest(['go', 'run', './cmd/hello', '-x', 'a b']);
  assert.equal(run.result.exitCode, 0, run.output);
  assert.equal(run.result.stdout, 'hello -x a b\n');
  assert.deepEqual(run.collected.binaries, []);
});
