import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherEvidence, precedes, tally, testsBefore, viewRun } from '../../src/analysis/evidence.ts';
import { rankCleanerCandidates, rankPolluterCandidates, rankStateSetterCandidates } from '../../src/analysis/order.ts';
import { id, run } from './analysis-sim.ts';

const [A, B, C, V] = ['A', 'B', 'C', 'V'].map(id) as [string, string, string, string];

test('polluter candidates: ran before the victim in every failing run, less often in passing runs; best first', () => {
  const evidence = gatherEvidence([
    run('000', 1, [['A', 'passed'], ['B', 'passed'], ['V', 'failed'], ['C', 'passed']]),
    run('001', 2, [['C', 'passed'], ['A', 'passed'], ['V', 'failed'], ['B', 'passed']]),
    run('002', 3, [['V', 'passed'], ['A', 'passed'], ['B', 'passed'], ['C', 'passed']]),
    run('003', 4, [['B', 'passed'], ['V', 'passed'], ['A', 'passed'], ['C', 'passed']]),
  ]);
  const ranked = rankPolluterCandidates(evidence, V);
  assert.deepEqual(
    ranked.map((c) => [c.test, c.score, c.tellingPreceded, c.otherPreceded]),
    [
      [A, 1, 2, 0],
      [C, 0.5, 1, 0],
    ],
  );
  // B preceded in 1 of 2 failures and 1 of 2 passes: no signal, not a candidate.
  assert.ok(!ranked.some((c) => c.test === B));
});

test('a leak linking a candidate to the victim lifts it above an equally placed one', () => {
  const evidence = gatherEvidence([
    run('000', 1, [['A', 'passed'], ['B', 'passed'], ['V', 'failed']]),
    run('001', 2, [['V', 'passed'], ['A', 'passed'], ['B', 'passed']]),
  ]);
  assert.deepEqual(rankPolluterCandidates(evidence, V).map((c) => c.test), [B, A], 'nearer first on ties');
  const linked = rankPolluterCandidates(evidence, V, new Set([A]));
  assert.deepEqual(linked.map((c) => [c.test, c.score, c.leakLinked]), [
    [A, 1.5, true],
    [B, 1, false],
  ]);
});

test('state-setter candidates: ran before the brittle test in every passing run, not in failing ones', () => {
  const evidence = gatherEvidence([
    run('000', 1, [['A', 'passed'], ['V', 'passed'], ['B', 'passed']]),
    run('001', 2, [['V', 'failed'], ['A', 'passed'], ['B', 'passed']]),
    run('002', 3, [['B', 'passed'], ['A', 'passed'], ['V', 'passed']]),
    run('003', 4, [['B', 'passed'], ['V', 'failed'], ['A', 'passed']]),
  ]);
  assert.deepEqual(rankStateSetterCandidates(evidence, V).map((c) => [c.test, c.score]), [[A, 1]]);
});

test('cleaner candidates: between polluter and victim when it passed, never between them when it failed', () => {
  const evidence = gatherEvidence([
    run('000', 1, [['A', 'passed'], ['V', 'failed'], ['C', 'passed'], ['D', 'passed']]),
    run('001', 2, [['A', 'passed'], ['C', 'passed'], ['D', 'passed'], ['V', 'passed']]),
    run('002', 3, [['A', 'passed'], ['D', 'passed'], ['B', 'passed'], ['V', 'failed'], ['C', 'passed']]),
    run('003', 4, [['A', 'passed'], ['C', 'passed'], ['V', 'passed'], ['B', 'passed'], ['D', 'passed']]),
  ]);
  const cleaners = rankCleanerCandidates(evidence, A, V);
  assert.deepEqual(cleaners.map((c) => [c.test, c.between, c.passesWithPolluter, c.score]), [[C, 2, 2, 1]]);
  assert.equal(cleaners[0]?.witness.run.id, '001');
});

test('missing data: a test absent from a crashed run is neither a pass nor a fail, and precedes nothing there', () => {
  const crashed = run('001', 2, [['A', 'passed'], ['B', 'passed']], { exitCode: null, timedOut: true });
  const evidence = gatherEvidence([run('000', 1, [['A', 'passed'], ['B', 'passed'], ['V', 'passed']]), crashed]);
  assert.deepEqual(tally(evidence, V), { passed: 1, failed: 0, skipped: 0, missing: 1, retried: [] });
  assert.deepEqual(tally(evidence, A), { passed: 2, failed: 0, skipped: 0, missing: 0, retried: [] });
  assert.equal(precedes(viewRun(crashed), A, V), undefined, 'the victim has no position: unknown, not false');
  assert.equal(precedes(viewRun(crashed), V, A), false, 'a test missing from the order did not run before');
});

test('runs whose order is unknown count for pass/fail but never as order evidence; probes are not samples', () => {
  const unordered = run('001', 2, [['A', 'passed'], ['V', 'failed']], { orderSource: 'unknown' });
  const probe = { ...run('probe-000', 2, [['A', 'passed'], ['V', 'failed']]), probe: true };
  const evidence = gatherEvidence([run('000', 1, [['V', 'passed'], ['A', 'passed']]), unordered, probe]);
  assert.equal(tally(evidence, V).failed, 1);
  assert.deepEqual(rankPolluterCandidates(evidence, V), []);
  assert.deepEqual(testsBefore(viewRun(unordered), V), []);
});

test('skipped tests are not candidates and not counted as runs of the test', () => {
  const evidence = gatherEvidence([
    run('000', 1, [['S', 'skipped'], ['A', 'passed'], ['V', 'failed']]),
    run('001', 2, [['V', 'passed'], ['S', 'skipped'], ['A', 'passed']]),
  ]);
  assert.deepEqual(rankPolluterCandidates(evidence, V).map((c) => c.test), [A]);
  assert.deepEqual(tally(evidence, id('S')), { passed: 0, failed: 0, skipped: 2, missing: 0, retried: [] });
});
