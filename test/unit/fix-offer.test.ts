// The offer decision (before/after rates), the runs a meaningful proof needs, and which verdicts
// get a fix tried: all on plain data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOffer, runsNeeded } from '../../src/fix/offer.ts';
import { fixCandidates } from '../../src/fix/candidates.ts';
import type { ProbePlan, Report, TestReport } from '../../src/model.ts';

test('offered only when the patched pair passed every run and the unpatched rate makes that more than luck', () => {
  assert.deepEqual(decideOffer({ failed: 4, runs: 6 }, { failed: 0, runs: 10 }), { offered: true, why: 'after the fix: 0 of 10 failed; before: 4 of 6' });
  assert.equal(decideOffer({ failed: 2, runs: 2 }, { failed: 0, runs: 1 }).offered, true);
  const still = decideOffer({ failed: 2, runs: 2 }, { failed: 1, runs: 1 });
  assert.equal(still.offered, false);
  assert.match(still.why, /the patched pair still failed \(after the fix: 1 of 1 failed; before: 2 of 2\): the fix does not cure it/);
  const luck = decideOffer({ failed: 1, runs: 6 }, { failed: 0, runs: 3 });
  assert.equal(luck.offered, false);
  assert.match(luck.why, /would pass 3 in a row by luck 58% of the time/);
  assert.match(decideOffer({ failed: 0, runs: 4 }, { failed: 0, runs: 4 }).why, /never failed here/);
  assert.match(decideOffer({ failed: 2, runs: 2 }, { failed: 0, runs: 0 }).why, /never ran/);
});

test('runs needed: enough that an unfixed pair passing them all is under 5%, never fewer than the confirmation', () => {
  assert.equal(runsNeeded({ failed: 2, runs: 2 }, 1), 1);
  assert.equal(runsNeeded({ failed: 2, runs: 2 }, 3), 3);
  assert.equal(runsNeeded({ failed: 1, runs: 2 }, 1), 5);
  assert.equal(runsNeeded({ failed: 4, runs: 6 }, 2), 3);
  // (5/6)^17 = 0.045: a 1-in-6 race needs 17 clean runs.
  assert.equal(runsNeeded({ failed: 1, runs: 6 }, 2), 17);
});

const P = 'S :: lifecycle evicts the iris2 cache on delete';
const V = 'S :: serving warms the iris2 cache for inference';
const Q = 'S :: status reports ready';

function testReport(id: string, more: Partial<TestReport>): TestReport {
  return { id, name: id.slice(5), suite: 'S', file: '', line: 0, verdict: 'stable', passed: 1, failed: 0, failureKinds: [], polluters: [], cleaners: [], stateSetters: [], reproduce: '', ...more };
}

function report(tests: TestReport[]): Report {
  return {
    schema: 'kubeflake/report@1', command: 'go test ./...', framework: 'ginkgo', cluster: 'local', tests, leaks: [], verdict: 'findings', version: '0', generatedAt: '',
    runs: [{ id: '002', seed: 9, exitCode: 1, durationMs: 1, timedOut: false, order: [Q, P, V], failed: [V], probe: false }],
    cleanup: { deleted: [], finalizersRemoved: [], left: [] },
  } as unknown as Report;
}

const victim = testReport(V, {
  verdict: 'order-dependent', failed: 2, failureKinds: ['BeingDeleted'],
  failures: [{ run: '002', kind: 'BeingDeleted', signature: 'x', message: 'Unexpected error: object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists' }],
  polluters: [{ test: P, confirmed: true, via: [], after: { failed: 2, runs: 2 } }],
});
const polluter = testReport(P, { file: 'internal/controller/lifecycle_test.go', line: 34 });
const pairProbe: ProbePlan = { purpose: 'polluter', subject: V, tests: [P, V], seed: 5, expectedOrder: [P, V], hypothesis: '' };

test('candidates: a confirmed polluter of a BeingDeleted victim, the object its failure names, the hunt\'s pair probe and rate', () => {
  const { candidates, skipped } = fixCandidates(report([victim, polluter]), [pairProbe, { ...pairProbe, purpose: 'alone', tests: [V] }, pairProbe], '/repo');
  assert.deepEqual(skipped, []);
  assert.equal(candidates.length, 1);
  const c = candidates[0]!;
  assert.deepEqual(
    { victim: c.victim, polluter: c.polluter, file: c.polluterFile, line: c.polluterLine, object: c.object, kind: c.entry.kind, before: c.before, seed: c.plan.seed, confirmation: c.confirmation },
    { victim: V, polluter: P, file: '/repo/internal/controller/lifecycle_test.go', line: 34, object: { type: 'modelcaches', name: 'iris2' }, kind: 'wait-after-delete', before: { failed: 2, runs: 2 }, seed: 5, confirmation: 2 },
  );
});

test('candidates: without a pair probe the failing run\'s seed keeps the order; nothing to fix gives nothing; a suspect or an uncatalogued class is no candidate', () => {
  const fromRun = fixCandidates(report([victim, polluter]), [], '/repo').candidates[0]!;
  assert.deepEqual({ seed: fromRun.plan.seed, tests: fromRun.plan.tests, before: fromRun.before === undefined ? 'none' : 'hunt' }, { seed: 9, tests: [P, V], before: 'hunt' });
  assert.deepEqual(fixCandidates(report([polluter, testReport(V, {})]), [], '/repo'), { candidates: [], skipped: [] });
  const suspected = { ...victim, polluters: [{ ...victim.polluters[0]!, confirmed: false }] };
  assert.deepEqual(fixCandidates(report([suspected, polluter]), [], '/repo').candidates, []);
  const conflict = { ...victim, failureKinds: ['Conflict' as const] };
  assert.deepEqual(fixCandidates(report([conflict, polluter]), [], '/repo').candidates, []);
});

test('candidates: no object named and no leak, or no source location, is skipped with the reason', () => {
  const unnamed = { ...victim, failures: [{ ...victim.failures![0]!, message: 'object is being deleted' }] };
  assert.deepEqual(fixCandidates(report([unnamed, polluter]), [], '/repo').skipped.map((s) => s.reason), ['the victim\'s failure names no object, and no leak links the pair']);
  const nowhere = fixCandidates(report([victim, testReport(P, {})]), [], '/repo').skipped;
  assert.deepEqual(nowhere.map((s) => [s.reason, s.object?.name]), [['the polluter\'s report gives no source location (Ginkgo JSON does)', 'iris2']]);
});
