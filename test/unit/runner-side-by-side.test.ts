// Runs side by side: how many at once (auto from cores and memory, and only for suites whose
// packages start their own envtest), that work overlaps while results are recorded in the
// serial order, and that the planner's batches are the next probes of different hunts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoParallel, sideBySide, sideBySideWidth } from '../../src/runner/side-by-side.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import { analyze } from '../../src/analysis/verdicts.ts';
import { fail, id, pass, plannedRuns, plainFlake, runHunt, type Oracle } from './analysis-sim.ts';

const GB = 1024 ** 3;

test('parallel auto: one run on two cores, more with more cores and the memory to carry them', () => {
  assert.equal(autoParallel(2, 23 * GB), 1);
  assert.equal(autoParallel(1, 64 * GB), 1);
  assert.equal(autoParallel(4, 16 * GB), 2);
  assert.equal(autoParallel(16, 64 * GB), 8);
  assert.equal(autoParallel(16, 4 * GB), 2, 'memory bounds it');
  assert.equal(autoParallel(16, 1 * GB), 1, 'never below one');
});

test('side by side only when every package of the first run started its own envtest and left the shared cluster alone', () => {
  assert.deepEqual(sideBySideWidth(2, { binaries: 1, envtestInstances: 1, sharedClusterUse: 0 }).width, 2);
  assert.deepEqual(sideBySideWidth(3, { envtestInstances: 2, sharedClusterUse: 0 }).width, 3, 'no shim records: the instances decide');
  assert.equal(sideBySideWidth(1, { binaries: 1, envtestInstances: 1, sharedClusterUse: 0 }).width, 1);
  const shared = sideBySideWidth(2, { binaries: 1, envtestInstances: 0, sharedClusterUse: 4 });
  assert.equal(shared.width, 1);
  assert.match(shared.why, /no envtest control plane of its own/);
  assert.match(sideBySideWidth(2, { binaries: 2, envtestInstances: 1, sharedClusterUse: 0 }).why, /some package uses the shared cluster/);
  assert.match(sideBySideWidth(2, { binaries: 1, envtestInstances: 1, sharedClusterUse: 3 }).why, /used the shared cluster too/);
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('sideBySide: at most width at once, results recorded in the items\' order whatever order they end in', async () => {
  let running = 0;
  let most = 0;
  const ended: number[] = [];
  const recorded: number[] = [];
  // Later items end first: the recording order must still be the serial one.
  const out = await sideBySide([0, 1, 2, 3, 4], 2, async (item) => {
    running += 1;
    most = Math.max(most, running);
    for (let i = 0; i < 6 - item; i++) await tick();
    running -= 1;
    ended.push(item);
    return item * 10;
  }, async (result, item) => {
    assert.equal(result, item * 10);
    recorded.push(item);
    return result;
  });
  assert.deepEqual(out, [0, 10, 20, 30, 40]);
  assert.deepEqual(recorded, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
  assert.notDeepEqual(ended, [0, 1, 2, 3, 4], 'the work really overlapped');
});

test('sideBySide with width 1: each item recorded before the next starts', async () => {
  const events: string[] = [];
  await sideBySide(['a', 'b'], 1, async (item) => {
    events.push(`start ${item}`);
    await tick();
    return item;
  }, async (item) => {
    events.push(`record ${item}`);
  });
  assert.deepEqual(events, ['start a', 'record a', 'start b', 'record b']);
});

test('sideBySide: when recording fails, the runs already started are awaited before the error goes on', async () => {
  const finished: number[] = [];
  await assert.rejects(
    sideBySide([0, 1, 2], 3, async (item) => {
      for (let i = 0; i < 3; i++) await tick();
      finished.push(item);
      return item;
    }, async (item) => {
      if (item === 0) throw new Error('the cluster stopped answering');
    }),
    /stopped answering/,
  );
  assert.deepEqual(finished.sort(), [0, 1, 2]);
});

// Two independent hunts: B fails after A; F is a plain flake.
const A = id('A deletes iris2');
const B = id('B creates iris2');
const F = id('F times out sometimes');
const fillers = ['C one', 'D two', 'E three'].map(id);
const suite = [A, B, F, ...fillers];
const oracle: Oracle = (t, before, random, seed) => {
  if (t === B) return before.includes(A) ? fail('object is being deleted: iris2 already exists') : pass;
  return plainFlake(F, 0.4, 'timed out waiting')(t, before, random, seed);
};

test('the planner in batches: the next probes of different hunts, the first the one a batch of one gives, within the budget', () => {
  const planned = plannedRuns(suite, oracle, 6);
  const one = planProbes({ runs: planned, framework: 'ginkgo' });
  const two = planProbes({ runs: planned, framework: 'ginkgo', batch: 2 });
  assert.equal(one.length, 1);
  assert.equal(two.length, 2, 'two hunts are open');
  assert.deepEqual(two[0], one[0]);
  assert.notEqual(two[0]!.subject, two[1]!.subject, 'never two probes of one hunt');
  assert.equal(planProbes({ runs: planned, framework: 'ginkgo', batch: 5 }).length, 2, 'no more than the open hunts');
  assert.equal(planProbes({ runs: planned, framework: 'ginkgo', batch: 2, maxProbes: 1 }).length, 1, 'no more than the budget left');
});

test('batched probing names the same victims, polluters and flakes as probing one at a time', () => {
  const planned = plannedRuns(suite, oracle, 6);
  const verdicts = (batch: number) => {
    const hunt = runHunt(suite, oracle, planned, { batch });
    // Refuted suspects may differ (a batch tries another hunt's suspects before this one's result is in); what is named may not.
    return analyze({ runs: hunt.runs, framework: 'ginkgo' }).map((t) => [t.name, t.verdict, t.polluters.filter((p) => p.confirmed).map((p) => p.test)]);
  };
  assert.deepEqual(verdicts(2), verdicts(1));
  const b = analyze({ runs: runHunt(suite, oracle, planned, { batch: 2 }).runs, framework: 'ginkgo' }).find((t) => t.id === B)!;
  assert.equal(b.verdict, 'order-dependent');
  assert.deepEqual(b.polluters.map((p) => [p.test, p.confirmed]), [[A, true]]);
});
