// Scale out over runners: shards run disjoint slices of the same seeds, a merge job probes from
// all of them, and the merged report equals the one job that ran every seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/model.ts';
import { hunt, rebuildReport } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { useCluster } from '../support/cluster.ts';
import { ginkgoCli, runnerFixture } from '../support/ginkgo.ts';

const suite = join(runnerFixture, 'ginkgo', 'ordersuite');

async function huntWith(inputs: Record<string, string | string[]>): Promise<{ report: Report; dir: string }> {
  const cluster = await useCluster();
  const ginkgo = await ginkgoCli();
  const dir = join(mkdtempSync(join(tmpdir(), 'kubeflake-shards-')), 'results');
  const settings = parseSettings({
    command: ['ginkgo', './...'],
    'working-directory': suite,
    cluster: 'existing',
    kubeconfig: cluster.kubeconfigPath,
    results: dir,
    runs: '6',
    seed: '7',
    ...inputs,
  }, {});
  settings.testEnv = { PATH: ginkgo.env.PATH! };
  return { report: await hunt(settings, recordingPresenter()), dir };
}

/** What must agree between one job and merged shards: everything but times, exit details and when. */
function essence(report: Report) {
  return {
    verdict: report.verdict,
    runs: report.runs.map((r) => ({ id: r.id, seed: r.seed, probe: r.probe, order: r.order, failed: r.failed, purpose: r.purpose, subject: r.subject })),
    tests: report.tests.map((t) => ({ id: t.id, verdict: t.verdict, passed: t.passed, failed: t.failed, polluters: t.polluters, cleaners: t.cleaners, stateSetters: t.stateSetters, failureKinds: t.failureKinds, reproduce: t.reproduce, why: t.why })),
    leaks: report.leaks.map((l) => ({ kind: l.kind, namespace: l.namespace, name: l.name, createdBy: l.createdBy, runs: l.runs })),
  };
}

test('3 shards x 2 runs, merged and probed after the merge, equal 6 runs with the same seeds, field by field', async () => {
  const single = await huntWith({});
  const shards = [];
  for (const k of [1, 2, 3]) shards.push(await huntWith({ shard: `${k}/3`, 'max-probes': '0' }));
  for (const [i, shard] of shards.entries()) {
    assert.deepEqual(shard.report.runs.map((r) => r.id), [0, 1, 2, 3, 4, 5].filter((n) => n % 3 === i).map((n) => String(n).padStart(3, '0')), `shard ${i + 1} ran its slice`);
  }
  const merged = await huntWith({ 'merge-from': shards.map((s) => s.dir) });
  assert.ok(merged.report.runs.some((r) => r.probe), 'the merge job probed');
  assert.deepEqual(essence(merged.report), essence(single.report));
  const victim = merged.report.tests.find((t) => t.name === 'Shared state victim');
  assert.equal(victim?.verdict, 'order-dependent');

  // The merged directory stands alone: it rebuilds the same report, with every shard's baseline kept.
  assert.ok(existsSync(join(merged.dir, 'runs', '001', 'baseline.json')));
  assert.deepEqual(essence(await rebuildReport([merged.dir])), essence(merged.report));

  // Without probes after merge, `report DIR...` over the shards still gives every planned run once, in order.
  const unprobed = await rebuildReport(shards.map((s) => s.dir));
  assert.deepEqual(unprobed.runs.map((r) => r.id), ['000', '001', '002', '003', '004', '005']);
  assert.deepEqual(unprobed.runs.map((r) => r.failed), single.report.runs.filter((r) => !r.probe).map((r) => r.failed));
});

test('a shard without a shared seed is refused with what to set', () => {
  assert.throws(() => parseSettings({ command: ['ginkgo'], shard: '1/2' }, {}), /shard needs the seed every shard shares/);
  assert.throws(() => parseSettings({ command: ['ginkgo'], shard: '3/2', seed: '1' }, {}), /shard must be k\/n with 1 <= k <= n/);
});
