// The runner against the real ginkgo CLI and real Ginkgo v2 suites (test/fixtures/runner):
// reports land in the run folder, the seed reaches the suite, focus keeps the recorded order,
// a hung suite is killed with its whole process tree. No cluster needed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { executeRun, type RunSpec } from '../../src/runner/execute.ts';
import { isAlive } from '../../src/exec.ts';
import type { RunMeta } from '../../src/model.ts';
import { ginkgoCli, runnerFixture, type GinkgoCli } from '../support/ginkgo.ts';

let ginkgo: GinkgoCli;
before(async () => {
  ginkgo = await ginkgoCli();
});

const results = mkdtempSync(join(tmpdir(), 'kf-runner-ginkgo-'));
let runs = 0;
after(() => rmSync(results, { recursive: true, force: true }));

async function run(command: string[], extra: Partial<RunSpec> = {}): Promise<{ meta: RunMeta; dir: string }> {
  const id = String(runs++).padStart(3, '0');
  const dir = join(results, 'runs', id);
  const meta = await executeRun({
    id,
    seed: 17,
    command,
    framework: 'ginkgo',
    runDir: dir,
    cwd: runnerFixture,
    timeoutMs: 120_000,
    env: ginkgo.env,
    ...extra,
  });
  return { meta, dir };
}

interface SpecRun {
  suite: string;
  name: string;
  state: string;
}

/** The specs of ginkgo.json in execution order, suite nodes left out. */
function specs(dir: string): SpecRun[] {
  const suites = JSON.parse(readFileSync(join(dir, 'ginkgo.json'), 'utf8')) as {
    SuiteDescription: string;
    SpecReports: { LeafNodeType: string; LeafNodeText: string; ContainerHierarchyTexts: string[] | null; State: string; StartTime: string }[];
  }[];
  return suites.flatMap((suite) =>
    suite.SpecReports.filter((spec) => spec.LeafNodeType === 'It')
      .sort((a, b) => Date.parse(a.StartTime) - Date.parse(b.StartTime))
      .map((spec) => ({ suite: suite.SuiteDescription, name: [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].join(' '), state: spec.State })),
  );
}

const ran = (dir: string) => specs(dir).filter((spec) => spec.state !== 'skipped');
const names = (list: SpecRun[]) => list.map((spec) => spec.name.replace('Shared state ', ''));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

test('a ginkgo CLI run leaves junit/, ginkgo.json, log.txt and meta.json in the run folder, nothing in the project', async () => {
  const before = filesUnder(runnerFixture);
  const { meta, dir } = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 4242 });
  assert.deepEqual(meta.reports, ['junit/junit.xml', 'ginkgo.json']);
  assert.deepEqual(readdirSync(dir).sort(), ['ginkgo.json', 'junit', 'log.txt', 'meta.json']);
  assert.match(readFileSync(join(dir, 'junit', 'junit.xml'), 'utf8'), /<testsuite name="Order Suite"/);
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /Random Seed: (\x1b\[1m)?4242\b/);
  const stored = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RunMeta;
  assert.deepEqual(stored, meta);
  assert.equal(meta.seed, 4242);
  assert.equal(meta.framework, 'ginkgo');
  assert.deepEqual(meta.command.slice(0, 3), ['ginkgo', '--randomize-all', '--seed=4242']);
  assert.equal(meta.timedOut, false);
  assert.ok(meta.exitCode === 0 || meta.exitCode === 1, `exit ${meta.exitCode}`);
  assert.deepEqual(meta.warnings, []);
  assert.equal(specs(dir).length, 8);
  assert.deepEqual(filesUnder(runnerFixture), before, 'the run wrote files into the project');
});

test('the seed reaches the suite: same seed, same order; another seed, another order', async () => {
  const first = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 17 });
  const again = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 17 });
  const other = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 4242 });
  assert.equal(ran(first.dir).length, 8);
  assert.deepEqual(names(ran(again.dir)), names(ran(first.dir)));
  assert.notDeepEqual(names(ran(other.dir)), names(ran(first.dir)));
});

test('focus runs only the focused specs, in the relative order the full run recorded, and confirms a polluter', async () => {
  // Seed 1 runs polluter before victim: the victim fails in the full run.
  const full = await run(['ginkgo', '--focus=echo', './ginkgo/ordersuite'], { seed: 1 });
  // The user's --focus=echo was replaced, not added to: all 8 ran.
  assert.equal(ran(full.dir).length, 8);
  const order = names(ran(full.dir));
  assert.ok(order.indexOf('polluter') < order.indexOf('victim'), order.join(','));
  assert.equal(ran(full.dir).find((spec) => spec.name.endsWith('victim'))!.state, 'failed');

  const picked = ['Shared state victim', 'Shared state echo', 'Shared state polluter'].map((name) => ({ name }));
  const probe = await run(['ginkgo', './ginkgo/ordersuite'], { id: 'probe-000', seed: 1, focus: picked, probe: true });
  const expected = order.filter((name) => ['victim', 'echo', 'polluter'].includes(name));
  assert.deepEqual(names(ran(probe.dir)), expected);
  assert.equal(ran(probe.dir).find((spec) => spec.name.endsWith('victim'))!.state, 'failed');
  assert.equal(probe.meta.probe, true);

  const alone = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 1, focus: [{ name: 'Shared state victim' }] });
  assert.deepEqual(ran(alone.dir).map((spec) => [spec.name, spec.state]), [['Shared state victim', 'passed']]);
});

test('ginkgo -r over several suites: one merged JUnit and one ginkgo.json with every suite', async () => {
  const { meta, dir } = await run(['ginkgo', '-r', './ginkgo']);
  assert.deepEqual(meta.reports, ['junit/junit.xml', 'ginkgo.json']);
  const junit = readFileSync(join(dir, 'junit', 'junit.xml'), 'utf8');
  assert.match(junit, /<testsuite name="Order Suite"/);
  assert.match(junit, /<testsuite name="Other Suite"/);
  assert.deepEqual([...new Set(specs(dir).map((spec) => spec.suite))].sort(), ['Order Suite', 'Other Suite']);
  assert.equal(existsSync(join(dir, 'ginkgo-out')), false);
});

test('go test with -ginkgo.* flags: one report per package collected, the same order as the ginkgo CLI for the seed', async () => {
  const before = filesUnder(runnerFixture);
  const viaGo = await run(['go', 'test', '-count=1', './ginkgo/...', '-ginkgo.v'], { seed: 17 });
  assert.deepEqual(viaGo.meta.reports, ['junit/kubeflake.test_runner_ginkgo_ordersuite.xml', 'junit/kubeflake.test_runner_ginkgo_othersuite.xml', 'ginkgo.json']);
  assert.ok(viaGo.meta.command.includes('-ginkgo.seed=17'));
  assert.deepEqual(viaGo.meta.testBinaries?.map((binary) => binary.kind), ['ginkgo', 'ginkgo']);
  assert.deepEqual(filesUnder(runnerFixture), before, 'per-package reports were left in the project');
  const viaCli = await run(['ginkgo', './ginkgo/ordersuite'], { seed: 17 });
  assert.deepEqual(
    names(ran(viaGo.dir).filter((spec) => spec.suite === 'Order Suite')),
    names(ran(viaCli.dir)),
  );
});

test('a hung suite is killed at the timeout with its whole process tree; meta.json says so; Ginkgo still reports', async () => {
  // Compile first, so the timeout measures the hang and not the build.
  await run(['ginkgo', './hang']);
  const pidFile = join(results, 'hang.pid');
  const started = Date.now();
  const { meta, dir } = await run(['ginkgo', './hang'], {
    timeoutMs: 10_000,
    killGraceMs: 3_000,
    env: { ...ginkgo.env, KUBEFLAKE_FIXTURE_HANG: '1', KUBEFLAKE_FIXTURE_PIDFILE: pidFile },
  });
  assert.ok(Date.now() - started < 25_000, `took ${Date.now() - started} ms`);
  assert.equal(meta.timedOut, true);
  assert.match(meta.warnings.join('\n'), /killed after the 10 s run timeout \(the whole process group\)/);
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(isAlive(sleeper), false, `the suite's child ${sleeper} outlived the timeout`);
  const stored = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RunMeta;
  assert.equal(stored.timedOut, true);
  // Ginkgo handles the SIGTERM: the report names the spec that hung as interrupted.
  assert.deepEqual(meta.reports, ['junit/junit.xml', 'ginkgo.json']);
  assert.deepEqual(specs(dir).find((spec) => spec.name === 'Hang hangs when asked to')?.state, 'interrupted');
});
