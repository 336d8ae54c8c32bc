import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedsFor } from '../../src/runner/seeds.ts';
import { formatRunLine } from '../../src/report/run-line.ts';

test('seedsFor: the same base seed gives the same seeds', () => {
  assert.deepEqual(seedsFor(20, 1712), seedsFor(20, 1712));
  assert.notDeepEqual(seedsFor(5, 1712), seedsFor(5, 1713));
});

test('seedsFor: seeds are distinct, positive and 31-bit', () => {
  for (const base of [0, 1, 2 ** 31 - 1, 2 ** 40 + 3]) {
    const seeds = seedsFor(500, base);
    assert.equal(new Set(seeds).size, 500);
    for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 1 && seed <= 2 ** 31 - 1, `${seed}`);
  }
});

test('seedsFor: a longer hunt extends a shorter one with the same base', () => {
  assert.deepEqual(seedsFor(10, 42).slice(0, 3), seedsFor(3, 42));
});

test('seedsFor refuses a negative count or base seed', () => {
  assert.throws(() => seedsFor(-1, 1), /number of runs/);
  assert.throws(() => seedsFor(1, -5), /base seed/);
});

const run = {
  seed: 1712,
  probe: false,
  cases: [
    { id: 'a', name: 'a', suite: '', status: 'failed' as const, durationMs: 1 },
    { id: 'b', name: 'b', suite: '', status: 'passed' as const, durationMs: 1 },
    { id: 'c', name: 'c', suite: '', status: 'failed' as const, durationMs: 1 },
  ],
  reports: ['junit/junit.xml'],
  durationMs: 41_200,
  timedOut: false,
  exitCode: 1,
  signal: null,
};

test('formatRunLine: run 3/5 seed 1712 - 2 failed - 41s', () => {
  assert.equal(formatRunLine(run, { index: 3, total: 5 }), 'run 3/5 seed 1712 - 2 failed - 41s');
});

test('formatRunLine: probes, labels, timeouts, no report, not started', () => {
  assert.equal(formatRunLine({ ...run, probe: true }, { index: 1, total: 2 }), 'probe 1/2 seed 1712 - 2 failed - 41s');
  assert.equal(formatRunLine(run, { index: 1, total: 2, label: 'probe 1 (polluter)' }), 'probe 1 (polluter) seed 1712 - 2 failed - 41s');
  assert.equal(
    formatRunLine({ ...run, reports: [], timedOut: true, exitCode: null, signal: 'SIGTERM' }, { index: 2, total: 5 }),
    'run 2/5 seed 1712 - no report - 41s - timed out',
  );
  assert.equal(formatRunLine({ ...run, reports: [], exitCode: null, durationMs: 3 }, { index: 1, total: 1 }), 'run 1/1 seed 1712 - did not run - 3ms');
});
