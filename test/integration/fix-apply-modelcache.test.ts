// Applying the proven fixes cures the example's ordinary hunt: a hunt of a scratch copy of
// examples/modelcache (a git repository of its own, run by plain `go test ./...` in its own
// envtest) confirms the BeingDeleted polluters and proves a patch for each; `kubeflake fix
// RESULTS --apply` applies them all to the copy; the same hunt again (same base seed, so the same
// seeds and orders) no longer fails those victims, and the findings no patch touches stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report, TestReport } from '../../src/model.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { runProcess } from '../../src/exec.ts';
import { testBinaries } from '../support/cluster.ts';
import { projectRoot } from '../support/paths.ts';

const RUNS = '4';
const SEED = '2026';
const broken = 'ModelCache validation on create handles a cold-standby cache with zero shards';

async function huntCopy(example: string, results: string, budget: { maxProbes: string; fixProbes: string }): Promise<{ report: Report; lines: string[]; ms: number }> {
  const started = Date.now();
  const settings = parseSettings({
    command: ['go', 'test', './...'],
    'working-directory': example,
    runs: RUNS,
    seed: SEED,
    results,
    'remove-finalizers': true,
    'finalizer-grace': '5s',
    'max-probes': budget.maxProbes,
    'fix-probes': budget.fixProbes,
  }, { KUBEBUILDER_ASSETS: await testBinaries(), KUBECONFIG: '' });
  settings.testEnv = { ...settings.testEnv, MODELCACHE_FIXED: 'false' };
  const presenter = recordingPresenter();
  const report = await hunt(settings, presenter);
  return { report, lines: presenter.lines, ms: Date.now() - started };
}

const beingDeleted = (t: TestReport) => t.verdict === 'order-dependent' && t.failureKinds.some((kind) => kind === 'BeingDeleted' || kind === 'AlreadyExists');

test('kubeflake fix --apply: every confirmed BeingDeleted polluter gets a proven patch, and after applying them all the same hunt no longer fails those victims', { timeout: 60 * 60_000 }, async (testContext) => {
  const work = await mkdtemp(join(tmpdir(), 'kubeflake-fix-apply-'));
  const example = join(work, 'modelcache');
  try {
    await cp(join(projectRoot, 'examples', 'modelcache'), example, { recursive: true, filter: (source) => !/[\\/](bin|cover\.out)$/.test(source) });
    // The user's repository: the patches apply to its committed tree.
    for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'modelcache']]) {
      const git = await runProcess(['git', '-C', example, ...args], { capture: true });
      assert.equal(git.exitCode, 0, git.stderr);
    }

    const first = await huntCopy(example, join(work, 'before'), { maxProbes: '40', fixProbes: '40' });
    const victims = first.report.tests.filter(beingDeleted);
    const context = () => `${first.lines.filter((line) => line.startsWith('fix')).join('\n')}\n${JSON.stringify(victims.map((v) => [v.name, v.polluters, v.fix]), null, 1).slice(0, 6000)}`;
    assert.ok(victims.length >= 1, `no BeingDeleted victim with a confirmed polluter in ${RUNS} runs of seed ${SEED}:\n${context()}`);
    for (const victim of victims) {
      assert.ok(victim.polluters.some((p) => p.confirmed), `${victim.name}: no confirmed polluter\n${context()}`);
      assert.equal(victim.fix?.offered, true, `${victim.name}: ${victim.fix?.noFix ?? 'no fix tried'}\n${context()}`);
      assert.equal(victim.fix?.kind, 'wait-after-delete');
    }
    // The runs where a victim failed after its polluter: their seeds come back in the second hunt.
    const failedRuns = first.report.runs.filter((run) => !run.probe && victims.some((v) => run.failed.includes(v.id)));
    assert.ok(failedRuns.length > 0);

    const cli = await runProcess([process.execPath, join(projectRoot, 'src', 'cli.ts'), 'fix', join(work, 'before'), '--apply'], { cwd: example, capture: true, timeoutMs: 120_000 });
    assert.equal(cli.exitCode, 0, `${cli.stdout}${cli.stderr}`);
    assert.equal(cli.stdout.split('\n').filter((line) => line.startsWith('applied ')).length, victims.length, cli.stdout);
    const lifecycle = await readFile(join(example, 'internal', 'controller', 'lifecycle_test.go'), 'utf8');
    assert.match(lifecycle, /apierrors\.IsNotFound/);

    const second = await huntCopy(example, join(work, 'after'), { maxProbes: '0', fixProbes: '0' });
    for (const run of failedRuns) {
      const again = second.report.runs.find((r) => !r.probe && r.seed === run.seed);
      assert.ok(again, `seed ${run.seed} ran again`);
      assert.deepEqual(again.order, run.order, `seed ${run.seed} ran the same order`);
      for (const victim of victims.filter((v) => run.failed.includes(v.id))) {
        assert.ok(!again.failed.includes(victim.id), `${victim.name} failed again in seed ${run.seed} after the fix`);
      }
    }
    for (const victim of victims) {
      const now = second.report.tests.find((t) => t.id === victim.id)!;
      assert.equal(now.failed, 0, `${victim.name} failed ${now.failed} times after the fix`);
    }
    // What no patch touched fails as before: the broken spec, in every run of both hunts (its
    // verdict needs probes the second hunt does not make).
    const brokenRuns = (report: Report) => report.runs.filter((run) => !run.probe && run.failed.some((id) => report.tests.find((t) => t.id === id)?.name === broken)).length;
    assert.equal(brokenRuns(first.report), Number(RUNS));
    assert.equal(brokenRuns(second.report), Number(RUNS));
    testContext.diagnostic(`first hunt ${Math.round(first.ms / 1000)} s (${first.report.runs.filter((r) => r.probe).length} probes), second ${Math.round(second.ms / 1000)} s; fixed: ${victims.map((v) => `${v.name} (before ${v.fix?.before?.failed}/${v.fix?.before?.runs}, after ${v.fix?.after?.failed}/${v.fix?.after?.runs})`).join('; ')}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
