// A fix proven on the example operator: its iris2 polluter deletes iris2 without waiting (200
// shards drain for 10 s), and the serving spec that creates iris2 right after is refused. The
// patch is written at the polluter's line, vetted in a scratch copy, and the focused pair (seed 3
// runs the polluter first under kubeflake's focus) fails unpatched and passes patched there; the example stays untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBinaries } from '../support/cluster.ts';
import { projectRoot } from '../support/paths.ts';
import { executeRun } from '../../src/runner/execute.ts';
import { loadRun } from '../../src/ingest/run.ts';
import { goSourceTool } from '../../src/changed/gosource.ts';
import { defaultCacheDir } from '../../src/settings.ts';
import { catalogue } from '../../src/fix/catalogue.ts';
import { proveFix, type PairOutcome } from '../../src/fix/prove.ts';
import type { FixCandidate } from '../../src/fix/candidates.ts';
import type { ProbePlan } from '../../src/model.ts';

const SUITE = 'ModelCache Controller Suite';
const polluter = `${SUITE} :: ModelCache lifecycle evicts the iris2 cache on delete`;
const victim = `${SUITE} :: ModelCache serving warms the iris2 cache for inference`;

test('the iris2 polluter gets a patch at its line that compiles and cures the pair (unpatched 2 of 2 fail, patched 0 of 2)', { timeout: 900_000 }, async () => {
  // The example is copied: the user's tree a hunt reads is never written, and the copy is not a git repository.
  const work = await mkdtemp(join(tmpdir(), 'kubeflake-fix-modelcache-'));
  const example = join(work, 'modelcache');
  await cp(join(projectRoot, 'examples', 'modelcache'), example, { recursive: true });
  const lifecycle = join(example, 'internal', 'controller', 'lifecycle_test.go');
  const original = await readFile(lifecycle, 'utf8');
  const assets = await testBinaries();
  const plan: ProbePlan = { purpose: 'polluter', subject: victim, tests: [polluter, victim], seed: 3, expectedOrder: [polluter, victim], hypothesis: 'iris2 is still draining' };
  const names = new Map([[polluter, 'ModelCache lifecycle evicts the iris2 cache on delete'], [victim, 'ModelCache serving warms the iris2 cache for inference']]);
  const candidate: FixCandidate = { victim, polluter, polluterFile: lifecycle, polluterLine: 34, object: { type: 'modelcaches', name: 'iris2' }, entry: catalogue[0]!, plan, confirmation: 2 };
  const cwds: string[] = [];
  try {
    const fix = await proveFix(candidate, {
      tool: () => goSourceTool({ projectRoot, cacheDir: defaultCacheDir() }),
      root: example,
      cwd: example,
      fixDir: join(work, 'results', 'fixes', '1'),
      budget: { left: 6 },
      log: () => {},
      runPair: async ({ id, cwd, runDir }): Promise<PairOutcome> => {
        cwds.push(cwd);
        const meta = await executeRun({
          id, seed: plan.seed, probe: true, plan, command: ['go', 'test', './...'], framework: 'ginkgo', runDir, cwd, timeoutMs: 300_000,
          env: { KUBEBUILDER_ASSETS: assets, USE_EXISTING_CLUSTER: 'false' },
          focus: plan.tests.map((t) => ({ name: names.get(t)!, suite: SUITE })),
        });
        const run = await loadRun(runDir);
        const status = (t: string) => run.cases.find((c) => c.id === t)?.status ?? 'missing';
        assert.equal(meta.timedOut, false);
        return { victim: status(victim), polluter: status(polluter) };
      },
    });
    assert.equal(fix.offered, true, fix.noFix);
    assert.equal(fix.file, 'internal/controller/lifecycle_test.go');
    assert.deepEqual(fix.lines, { start: 38, end: 38 });
    assert.deepEqual(fix.before, { failed: 2, runs: 2, source: 'fix-runs' });
    assert.deepEqual(fix.after, { failed: 0, runs: 2 });
    assert.deepEqual(fix.runs?.map((r) => [r.id, r.patched, r.victim, r.polluter]), [
      ['before-1', false, 'failed', 'passed'], ['before-2', false, 'failed', 'passed'],
      ['after-1', true, 'passed', 'passed'], ['after-2', true, 'passed', 'passed'],
    ]);
    assert.match(fix.patch ?? '', /^\+\t\tEventually\(func\(\) bool \{$/m);
    assert.match(fix.patch ?? '', /^\+\t\t\treturn apierrors\.IsNotFound\(k8sClient\.Get\(ctx, client\.ObjectKeyFromObject\(mc\), mc\)\)$/m);
    assert.match(fix.patch ?? '', /^\+\t\t\}\)\.WithTimeout\(60 \* time\.Second\)\.Should\(BeTrue\(\)\)$/m);
    assert.match(fix.patch ?? '', /^\+\tapierrors "k8s\.io\/apimachinery\/pkg\/api\/errors"$/m);
    // Every pair ran in the scratch copy; the tree the hunt read is as it was.
    assert.ok(cwds.every((cwd) => !cwd.startsWith(example)), cwds.join(', '));
    assert.equal(await readFile(lifecycle, 'utf8'), original);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
