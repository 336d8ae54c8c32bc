// The runner and the hunt through the go test exec shim, on the real go command and make
// (test/fixtures/gosrc/goexec: two Ginkgo suites and a plain Go package): `make test` and a
// wrapper script are ordered and reported per package, probes focus inside them, stress reaches
// the test processes, and a command that runs no go test stops the hunt after its first run.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun, type RunSpec } from '../../src/runner/execute.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { isAlive, runProcess } from '../../src/exec.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import type { RunMeta } from '../../src/model.ts';
import { useCluster } from '../support/cluster.ts';
import { fixtures } from '../support/paths.ts';

const suite = join(fixtures, 'gosrc', 'goexec');
const results = mkdtempSync(join(tmpdir(), 'kf-runner-go-exec-'));
let runs = 0;
after(() => {
  rmSync(results, { recursive: true, force: true });
  rmSync(join(suite, 'cover.out'), { force: true });
});
const pkg = (name: string) => `kubeflake.test/fixtures/goexec/${name}`;

before(async () => {
  // Build (or find in the Go build cache) the fixture's test binaries once, outside any timed part.
  await runProcess(['go', 'test', '-count=1', '-run=^$', './...'], { cwd: suite, capture: true, timeoutMs: 600_000 });
});

async function run(command: string[], extra: Partial<RunSpec> = {}): Promise<{ meta: RunMeta; dir: string }> {
  const id = String(runs++).padStart(3, '0');
  const dir = join(results, 'runs', id);
  const meta = await executeRun({ id, seed: 5, command, framework: 'go', runDir: dir, cwd: suite, timeoutMs: 300_000, ...extra });
  return { meta, dir };
}

/** Test names of one plain package's go test -json stream, in its order, failed ones marked. */
async function streamCases(dir: string, name: string): Promise<string[]> {
  const report = await parseReport(join(dir, 'go-exec', `kubeflake.test_fixtures_goexec_${name}.go-test.json`));
  return report.cases.map((c) => `${c.name}${c.status === 'failed' ? ' FAILED' : ''}`);
}

/** The specs a run's ginkgo.json says ran, as "<suite>: <leaf text>". */
function ranSpecs(dir: string): string[] {
  const suites = JSON.parse(readFileSync(join(dir, 'ginkgo.json'), 'utf8')) as { SuiteDescription: string; SpecReports: { LeafNodeType: string; LeafNodeText: string; State: string }[] }[];
  return suites.flatMap((s) => s.SpecReports.filter((spec) => spec.LeafNodeType === 'It' && spec.State !== 'skipped').map((spec) => `${s.SuiteDescription}: ${spec.LeafNodeText}`));
}

test('make test with coverage: every package ordered and reported through the shim, the command untouched', async () => {
  const { meta, dir } = await run(['make', 'test']);
  assert.deepEqual(meta.command, ['make', 'test']);
  assert.deepEqual(
    meta.testBinaries?.map((binary) => `${binary.importPath} ${binary.kind}`).sort(),
    [`${pkg('ginkgoorder')} ginkgo`, `${pkg('ginkgoother')} ginkgo`, `${pkg('plainorder')} go`],
  );
  assert.deepEqual(meta.reports, [
    'junit/kubeflake.test_fixtures_goexec_ginkgoorder.xml',
    'junit/kubeflake.test_fixtures_goexec_ginkgoother.xml',
    'go-exec/kubeflake.test_fixtures_goexec_plainorder.go-test.json',
    'ginkgo.json',
  ]);
  assert.match(readFileSync(join(suite, 'cover.out'), 'utf8'), /^mode: set/);
  const suites = JSON.parse(readFileSync(join(dir, 'ginkgo.json'), 'utf8')) as { SuiteDescription: string; SuiteConfig: { RandomSeed: number } }[];
  assert.deepEqual(suites.map((s) => [s.SuiteDescription, s.SuiteConfig.RandomSeed]).sort(), [['Ginkgo Order Suite', 5], ['Ginkgo Other Suite', 5]]);
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /^ok {2}\tkubeflake\.test\/fixtures\/goexec\/ginkgoother/m);
});

test('a probe through a wrapper script: only the focused tests run, a package with none is not run', async () => {
  const focus = [
    { name: 'TestVictim', suite: pkg('plainorder') },
    { name: 'TestPolluter', suite: pkg('plainorder') },
  ];
  const { meta, dir } = await run(['./hack/test.sh'], { focus });
  assert.deepEqual((await streamCases(dir, 'plainorder')).map((name) => name.replace(' FAILED', '')).sort(), ['TestPolluter', 'TestVictim']);
  // The Ginkgo suites got the plain names as spec focus: they ran no spec.
  assert.deepEqual(ranSpecs(dir), []);
  assert.ok(meta.testBinaries?.every((binary) => binary.skipped === undefined));
  const ginkgoOnly = await run(['./hack/test.sh'], { focus: [{ name: 'Widgets victim', suite: 'Ginkgo Order Suite' }] });
  assert.deepEqual(ranSpecs(ginkgoOnly.dir), ['Ginkgo Order Suite: victim']);
  assert.match(ginkgoOnly.meta.testBinaries!.find((binary) => binary.importPath === pkg('plainorder'))!.skipped!, /no focused test is in/);
});

test("go test's own -exec on the command line: the binaries still run through it, inside kubeflake's shim", async () => {
  const marks = join(results, 'command-line-exec-marks.txt');
  const { meta } = await run(['go', 'test', '-exec', join(suite, 'testdata', 'user-exec.sh'), './plainorder', './ginkgoother'], { env: { USER_EXEC_MARKS: marks } });
  assert.equal(meta.testBinaries?.length, 2, JSON.stringify(meta));
  assert.equal(readFileSync(marks, 'utf8').trim().split('\n').length, 2);
  assert.equal(meta.reports.length, 3);
  assert.match(meta.warnings.join('\n'), /runs them through your -exec .*user-exec\.sh/);
});

test('stress cpu: recorded in meta, GOMAXPROCS=1 reaches the test process through the shim', async () => {
  const { meta, dir } = await run(['go', 'test', '-v', './plainorder'], { stress: 'cpu' });
  assert.equal(meta.stress, 'cpu');
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /GOMAXPROCS=1 env="1"/);
  const calm = await run(['go', 'test', '-v', './plainorder']);
  assert.equal(calm.meta.stress, undefined);
  assert.doesNotMatch(readFileSync(join(calm.dir, 'log.txt'), 'utf8'), /env="1"/);
});

test('a hunt whose first run gives no test results stops there and says what to do', async () => {
  const cluster = await useCluster();
  const settings = parseSettings({
    command: ['sh', '-c', 'echo this script runs no go test'],
    'working-directory': suite,
    cluster: 'existing',
    kubeconfig: cluster.kubeconfigPath,
    results: mkdtempSync(join(tmpdir(), 'kf-go-exec-stop-')),
    runs: '5',
  }, {});
  try {
    const report = await hunt(settings, recordingPresenter());
    assert.equal(report.runs.length, 1, 'one run, not five');
    assert.deepEqual(readdirSync(join(settings.resultsDir, 'runs')), ['000']);
    assert.equal(report.verdict, 'error');
    assert.match(report.errors?.join('\n') ?? '', /the first run gave no test results: the command ran no Go test binary through `go test`; every further run would do the same, so the hunt stops here\. kubeflake orders tests through GOFLAGS=-exec/);
    assert.ok(existsSync(join(settings.resultsDir, 'runs', '000', 'log.txt')));
  } finally {
    rmSync(settings.resultsDir, { recursive: true, force: true });
  }
});

test('a hunt on `make test` names both victims, confirms their polluters by probe, and the reproduce lines fail them', async () => {
  const cluster = await useCluster();
  const settings = parseSettings({
    command: ['make', 'test'],
    'working-directory': suite,
    cluster: 'existing',
    kubeconfig: cluster.kubeconfigPath,
    results: mkdtempSync(join(tmpdir(), 'kf-go-exec-hunt-')),
    runs: '6',
    seed: '11',
  }, {});
  try {
    const presenter = recordingPresenter();
    const report = await hunt(settings, presenter);
    assert.equal(report.framework, 'ginkgo', 'the first run showed Ginkgo suites');
    const byName = new Map(report.tests.map((t) => [t.name, t]));
    const ginkgoVictim = byName.get('Widgets victim')!;
    const plainVictim = byName.get('TestVictim')!;
    assert.equal(ginkgoVictim.verdict, 'order-dependent', JSON.stringify(ginkgoVictim));
    assert.deepEqual(ginkgoVictim.polluters.map((p) => [p.test, p.confirmed]), [['Ginkgo Order Suite :: Widgets polluter', true]]);
    assert.equal(ginkgoVictim.failures?.[0]?.message ?? '', 'object is being deleted: widgets "iris2" already exists');
    assert.equal(plainVictim.verdict, 'order-dependent', JSON.stringify(plainVictim));
    assert.deepEqual(plainVictim.polluters.map((p) => [p.test, p.confirmed]), [[`${pkg('plainorder')} :: TestPolluter`, true]]);
    for (const other of report.tests.filter((t) => t !== ginkgoVictim && t !== plainVictim)) assert.equal(other.verdict, 'stable', other.name);
    // The plain victim's reproduce line orders make test through GOFLAGS, and really fails it.
    assert.match(plainVictim.reproduce, /GOFLAGS=.*-shuffle=\d+.*make test/);
    const reproduced = await runProcess(['sh', '-c', plainVictim.reproduce], { cwd: suite, capture: true, timeoutMs: 300_000 });
    assert.notEqual(reproduced.exitCode, 0, plainVictim.reproduce);
    assert.match(reproduced.stdout, /secrets "db-password" already exists/);
  } finally {
    rmSync(settings.resultsDir, { recursive: true, force: true });
  }
});

test('a go test killed at the run timeout: the shim lets the suite write its report, and the run records the hang', async () => {
  const runner = join(fixtures, 'runner');
  await runProcess(['go', 'test', '-count=1', '-run=^$', './hang'], { cwd: runner, capture: true, timeoutMs: 600_000 });
  // The timeout counts from the command's start: go test and the shim take seconds to start on a
  // loaded machine, so it is set from a warm run's time, never shorter than the hang needs to begin.
  const warm = await run(['go', 'test', '-count=1', './hang'], { cwd: runner });
  assert.equal(warm.meta.exitCode, 0, 'the fixture passes when it is not asked to hang');
  const timeoutMs = Math.max(10_000, 4 * warm.meta.durationMs);
  const pidFile = join(results, 'hang.pid');
  const cleanupFile = join(results, 'hang.cleanup');
  const { meta, dir } = await run(['go', 'test', '-count=1', './hang'], {
    cwd: runner,
    timeoutMs,
    killGraceMs: 5_000,
    env: { KUBEFLAKE_FIXTURE_HANG: '1', KUBEFLAKE_FIXTURE_PIDFILE: pidFile, KUBEFLAKE_FIXTURE_CLEANUPFILE: cleanupFile },
  });
  assert.equal(meta.timedOut, true);
  assert.ok(existsSync(pidFile), `the hanging spec had not started within the ${timeoutMs} ms timeout (the warm run took ${warm.meta.durationMs} ms)`);
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(isAlive(sleeper), false, `the suite's child ${sleeper} outlived the timeout`);
  // Ginkgo got the SIGTERM once and wrote its report through the shim: the hung spec is named.
  assert.deepEqual(meta.reports, ['junit/kubeflake.test_runner_hang.xml', 'ginkgo.json']);
  const suites = JSON.parse(readFileSync(join(dir, 'ginkgo.json'), 'utf8')) as { SpecReports: { LeafNodeText: string; State: string }[] }[];
  assert.equal(suites[0]?.SpecReports.find((spec) => spec.LeafNodeText === 'hangs when asked to')?.State, 'interrupted');
  // One interrupt, not two (the shim does not pass on a signal the binary already got): the spec's cleanup ran.
  assert.equal(readFileSync(cleanupFile, 'utf8'), 'cleaned up\n');
  // The test2json converter outlived the group's SIGTERM: the suite's interrupt summary is in the stream.
  assert.match(readFileSync(join(dir, 'go-exec', 'kubeflake.test_runner_hang.go-test.json'), 'utf8'), /Interrupted by User/);
});
