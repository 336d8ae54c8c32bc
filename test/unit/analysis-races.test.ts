// Races that only show under pressure: a victim that fails in some runs after its polluter, never
// alone, is confirmed statistically with its measured rates; a plain flake failing at the same
// rate alone is not. Also the budget order and the test never checked alone. Plain data: the
// simulator of analysis-sim.ts, and the series rule of chance.ts on counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeakReport, RunResult } from '../../src/model.ts';
import { analyze } from '../../src/analysis/verdicts.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import { DEFAULT_HUNT_OPTIONS, huntOptions } from '../../src/analysis/hunt.ts';
import { seriesStep, triesFor, type OrderChance } from '../../src/analysis/chance.ts';
import { id, mulberry32, pass, plainFlake, plannedRuns, raceVictim, run, runHunt, iris2Leak, seededFlake, seededRace, type Oracle } from './analysis-sim.ts';

const P = id('ModelCache lifecycle evicts the iris2 cache on delete');
const V = id('ModelCache serving warms the iris2 cache for inference');
const FILLERS = Array.from({ length: 10 }, (_, i) => id(`filler ${i}`));
const ALL = [P, V, ...FILLERS];
const BEING_DELETED = 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';
const iris2: LeakReport = iris2Leak(P, '000');

/** Suites (seeded) where the subject failed at least once in eight planned runs, hunted to the end with a budget of 30. */
function hunted(oracle: Oracle, suites: number, leaks: LeakReport[]) {
  const out = [];
  for (let base = 1; base <= suites; base += 1) {
    const planned = plannedRuns(ALL, oracle, 8, base * 7717 + 3);
    if (!planned.some((r) => r.cases.some((c) => c.id === V && c.status === 'failed'))) continue;
    const options = { maxProbes: 30 };
    const hunt = runHunt(ALL, oracle, planned, { leaks, ...options });
    const v = analyze({ runs: hunt.runs, framework: 'ginkgo', command: ['ginkgo', './...'], leaks, ...options }).find((r) => r.id === V);
    assert.ok(v);
    out.push({ base, hunt, v });
  }
  return out;
}

test('a race victim failing about half the time after its polluter, never alone, is confirmed with its measured rates', () => {
  const results = hunted(raceVictim(V, P, 0.5, BEING_DELETED), 40, [iris2]);
  const confirmed = results.filter(({ v }) => v.verdict === 'order-dependent');
  // Measured: about 2 in 3 within a budget of 30 (the rest stay flaky, naming P unconfirmed with its rates).
  assert.ok(confirmed.length >= results.length / 2, `confirmed in ${confirmed.length} of ${results.length} suites`);
  for (const { base, v } of confirmed) assert.ok(v.polluters.some((p) => p.test === P && p.confirmed), `suite ${base}: P confirmed`);
  // Bisection may confirm P with a bystander (it assumes a polluter that fires every time): those aside.
  const alone = confirmed.filter(({ v }) => v.polluters.length === 1);
  const missed = alone.filter(({ v }) => (v.polluters[0]?.after?.failed ?? 0) < (v.polluters[0]?.after?.runs ?? 0));
  assert.ok(missed.length > 0, 'some confirmations include pair probes where the race did not fire');
  for (const { base, v } of missed) {
    const p = v.polluters[0];
    assert.equal(p?.test, P, `suite ${base}: the polluter`);
    assert.equal(p?.confirmed, true);
    assert.deepEqual(p?.via, [0], `suite ${base}: linked by iris2`);
    assert.equal(v.alone?.failed, 0, `suite ${base}: never failed alone`);
    const { failed, runs } = p?.after ?? { failed: 0, runs: 0 };
    assert.match(v.why ?? '', new RegExp(`it fails ${failed} of ${runs} after ModelCache lifecycle evicts the iris2 cache on delete, 0 of ${v.alone?.runs} alone; a plain flake gives that with chance \\S+, within the bound`));
    assert.equal(v.reproduceTries, triesFor(failed / runs), `suite ${base}: tries from the measured rate`);
    assert.ok((v.reproduceTries ?? 0) > 1);
    assert.match(v.why ?? '', new RegExp(`its reproduce command may need ${v.reproduceTries} tries \\(it failed ${failed} of ${runs} times after`));
  }
  // A race can miss the pair probes that would refute a suspect; that must stay rare.
  const refuted = results.filter(({ v }) => v.verdict === 'flaky' && !v.polluters.some((p) => p.test === P));
  assert.ok(refuted.length <= results.length / 6, `P cleared by unlucky probes in ${refuted.length} of ${results.length} suites`);
  for (const { base, v } of results) assert.ok(v.verdict === 'order-dependent' || v.verdict === 'flaky', `suite ${base}: ${v.verdict}`);
});

test('a plain flake failing at the same rate alone is never confirmed, even when its failure names an object the suspect left', () => {
  for (const rate of [0.3, 0.5]) {
    const results = hunted(plainFlake(V, rate, BEING_DELETED), 40, [iris2]);
    for (const { base, v, hunt } of results) {
      assert.ok(v.verdict === 'flaky' || (v.verdict === 'broken' && v.passed === 0), `rate ${rate} suite ${base}: ${v.verdict} (${v.why})`);
      assert.deepEqual(v.polluters.filter((p) => p.confirmed), []);
      // Once it failed alone after passing alone (its polluter hunt under way), no probe follows.
      const alone = hunt.runs.filter((r) => r.plan?.purpose === 'alone');
      const failedAlone = (r: RunResult | undefined): boolean => r?.cases.some((c) => c.id === V && c.status === 'failed') ?? false;
      const later = alone.slice(1).find(failedAlone);
      if (!failedAlone(alone[0]) && later) assert.equal(later, hunt.runs[hunt.runs.length - 1], `rate ${rate} suite ${base}: probes after the alone failure`);
    }
  }
});

test('a race the suite draws from the seed is replayed by the seeds it failed with: confirmed in every suite, every pair probe on such a seed', () => {
  const oracle = seededRace(V, P, 0.5, BEING_DELETED);
  const results = hunted(oracle, 40, [iris2]);
  assert.ok(results.length >= 10, `the race fired in ${results.length} of 40 suites`);
  for (const { base, hunt, v } of results) {
    assert.equal(v.verdict, 'order-dependent', `suite ${base}: ${v.why}`);
    const p = v.polluters.find((x) => x.test === P);
    assert.equal(p?.confirmed, true, `suite ${base}: P confirmed`);
    // Each pair probe repeats the seed of a planned run where V failed after P, so each fails.
    const failedAfterP = new Set(
      hunt.runs.filter((r) => !r.probe && r.cases.some((c) => c.id === V && c.status === 'failed')).map((r) => r.seed),
    );
    // The confirmation's pairs; a cleaner's control (the pair on the cleaner's seed) is not one.
    const pairs = hunt.runs.filter((r) => r.plan?.purpose === 'polluter' && r.plan.tests.join() === [P, V].join() && !r.plan.hypothesis.includes('control for the cleaner'));
    assert.ok(pairs.length >= 2, `suite ${base}: ${pairs.length} pair probes`);
    for (const pair of pairs) assert.ok(failedAfterP.has(pair.seed), `suite ${base}: ${pair.id} ran seed ${pair.seed}, on which V never failed after P`);
    assert.deepEqual(p?.after, { failed: pairs.length, runs: pairs.length }, `suite ${base}: the pair failed every time`);
    assert.equal(v.reproduceTries, 1, `suite ${base}: the failing seed reproduces it at the first try`);
    // Nothing cleans up after P here: a pass with a bystander between P and V on a seed that
    // draws no failure is not a cleaner (the control pair on that seed passes too).
    assert.deepEqual(v.cleaners, [], `suite ${base}: ${v.why}`);
    // Planned runs where it passed after P (the seed drew the small size) keep the race visible.
    const passedAfterP = hunt.runs.filter((r) => !r.probe && r.order.indexOf(P) >= 0 && r.order.indexOf(P) < r.order.indexOf(V) && !failedAfterP.has(r.seed));
    if (passedAfterP.length > 0) assert.match(v.why ?? '', /so it does not fail every time/, `suite ${base}`);
  }
});

test('a plain flake the suite draws from the seed is never confirmed: its alone control runs on a failing seed too', () => {
  for (const rate of [0.3, 0.5]) {
    const results = hunted(seededFlake(V, rate, BEING_DELETED), 40, [iris2]);
    assert.ok(results.length >= 10, `rate ${rate}: it failed in ${results.length} of 40 suites`);
    for (const { base, v } of results) {
      assert.ok(v.verdict === 'flaky' || v.verdict === 'broken', `rate ${rate} suite ${base}: ${v.verdict} (${v.why})`);
      assert.deepEqual(v.polluters.filter((p) => p.confirmed), [], `rate ${rate} suite ${base}`);
    }
  }
});

test('the series rule keeps a plain flake\'s confirmations under the bound at every rate, looking after every probe', () => {
  const flat: OrderChance = { grid: Array.from({ length: 99 }, (_, i) => (i + 1) / 100), values: Array.from({ length: 99 }, () => 1) };
  const rule = { chance: flat, bound: 0.02, cap: DEFAULT_HUNT_OPTIONS.maxConfirmProbes, refutingMisses: 4 };
  const random = mulberry32(7);
  /** One series against a subject that fails at `pairRate` after the suspect and `aloneRate` alone; the first alone control passed. */
  const series = (pairRate: number, aloneRate: number): boolean => {
    const n = { shown: 0, missed: 0, controls: 1, spent: 0 };
    for (;;) {
      const step = seriesStep(rule, n);
      if (step !== 'pair' && step !== 'alone') return step === 'confirmed';
      n.spent += 1;
      if (step === 'pair') {
        if (random() < pairRate) n.shown += 1;
        else n.missed += 1;
      } else if (random() < aloneRate) return false;
      else n.controls += 1;
    }
  };
  const trials = 3000;
  for (const q of [0.2, 0.3, 0.4, 0.5, 0.7]) {
    let alarms = 0;
    for (let i = 0; i < trials; i += 1) if (series(q, q)) alarms += 1;
    // The first alone control passed with chance 1 - q.
    const rate = (alarms / trials) * (1 - q);
    assert.ok(rate <= rule.bound, `flake rate ${q}: confirmed ${alarms} of ${trials} (false-alarm rate ${rate.toFixed(4)} > ${rule.bound})`);
  }
  let races = 0;
  for (let i = 0; i < 1000; i += 1) if (series(0.75, 0)) races += 1;
  assert.ok(races > 900, `a race firing 3 times in 4 was confirmed ${races} of 1000 times`);
});

test('a test that fails alone during its polluter hunt stops the hunt at once as a plain flake, with the rates so far', () => {
  const runs: RunResult[] = [
    run('000', 11, [['P', 'passed'], ['V', 'failed', BEING_DELETED], ['B', 'passed']]),
    run('001', 12, [['V', 'passed'], ['P', 'passed'], ['B', 'passed']]),
    run('002', 13, [['B', 'passed'], ['P', 'passed'], ['V', 'failed', BEING_DELETED]]),
    run('003', 14, [['B', 'passed'], ['V', 'passed'], ['P', 'passed']]),
  ];
  const v = id('V');
  const all = [...runs];
  let alones = 0;
  for (let i = 0; i < 30; i += 1) {
    const [plan] = planProbes({ runs: all, framework: 'ginkgo' });
    if (!plan) break;
    // The first alone control passes, the second fails; the pair always fails.
    const status = plan.purpose === 'alone' ? (alones++ === 0 ? 'passed' : 'failed') : 'failed';
    const outcomes = plan.expectedOrder.map((t): [string, 'passed' | 'failed', string?] => [t.slice(t.indexOf(' :: ') + 4), t === v ? status : 'passed', BEING_DELETED]);
    all.push({ ...run(`probe-${String(i).padStart(3, '0')}`, plan.seed, outcomes), probe: true, plan });
  }
  const probes = all.filter((r) => r.probe);
  assert.equal(probes[probes.length - 1]?.plan?.purpose, 'alone', 'the failing alone control was the last probe');
  const report = analyze({ runs: all, framework: 'ginkgo' }).find((r) => r.id === v);
  assert.equal(report?.verdict, 'flaky');
  assert.match(report?.why ?? '', /it failed alone in probe-\d+ too, with nothing before it, so a plain flake explains its failures \(it fails \d+ of \d+ after P, 1 of 2 alone/);
  assert.deepEqual(report?.polluters, [], 'the probes cleared P');
  assert.deepEqual(report?.alone, { failed: 1, runs: 2 });
});

test('beyond maxBrokenChecks a test that failed every run is not checked alone, and not called broken', () => {
  const broken = ['X1', 'X2', 'X3', 'X4'];
  const runs = [1, 2, 3].map((seed) => run(`00${seed}`, seed, [['A', 'passed'], ...broken.map((name): [string, 'failed'] => [name, 'failed'])]));
  const options = { maxBrokenChecks: 3 };
  const all = [...runs];
  for (let i = 0; i < 10; i += 1) {
    const [plan] = planProbes({ runs: all, framework: 'ginkgo', ...options });
    if (!plan) break;
    assert.equal(plan.purpose, 'alone');
    all.push({ ...run(`probe-00${i}`, plan.seed, [[plan.subject.slice(plan.subject.indexOf(' :: ') + 4), 'failed']]), probe: true, plan });
  }
  const reports = analyze({ runs: all, framework: 'ginkgo', ...options });
  const verdicts = broken.map((name) => reports.find((r) => r.name === name)?.verdict);
  assert.deepEqual([...verdicts].sort(), ['broken', 'broken', 'broken', 'flaky']);
  const unchecked = reports.find((r) => broken.includes(r.name) && r.verdict === 'flaky');
  assert.match(unchecked?.why ?? '', /^failed in all 3 runs it ran in; not checked alone/);
  assert.equal(unchecked?.alone, undefined);
});

test('hunt options: one record with defaults, the same for planProbes and analyze; bad values are named', () => {
  assert.deepEqual(huntOptions(), DEFAULT_HUNT_OPTIONS);
  assert.deepEqual(huntOptions({ maxProbes: 30, falseAlarmBound: undefined }), { ...DEFAULT_HUNT_OPTIONS, maxProbes: 30 });
  assert.ok(Object.isFrozen(DEFAULT_HUNT_OPTIONS));
  // Read from any record that carries them (an analysis input, hunt.json): other keys stay out.
  assert.deepEqual(huntOptions({ maxProbes: 5, runs: [], framework: 'ginkgo' } as Partial<typeof DEFAULT_HUNT_OPTIONS>), { ...DEFAULT_HUNT_OPTIONS, maxProbes: 5 });
  assert.throws(() => huntOptions({ maxProbes: -1 }), /hunt option maxProbes must be a whole number >= 0, got -1/);
  assert.throws(() => huntOptions({ maxConfirmProbes: 2.5 }), /maxConfirmProbes/);
  assert.throws(() => huntOptions({ falseAlarmBound: 0 }), /hunt option falseAlarmBound must be a chance above 0 and at most 1, got 0/);
  // JSON round trip (hunt.json): the record replays to the same verdicts.
  const saved = JSON.parse(JSON.stringify(huntOptions({ maxProbes: 12 }))) as unknown;
  assert.deepEqual(huntOptions(saved as Partial<typeof DEFAULT_HUNT_OPTIONS>), { ...DEFAULT_HUNT_OPTIONS, maxProbes: 12 });
});

test('tries for a 95% chance to see a failure: 1 when it always fails, more as the rate falls', () => {
  assert.equal(triesFor(1), 1);
  assert.equal(triesFor(0.5), 5);
  assert.equal(triesFor(0.6), 4);
  assert.equal(triesFor(0.25), 11);
  assert.equal(triesFor(0), Infinity);
  for (const rate of [0.1, 0.3, 0.5, 0.9]) {
    const n = triesFor(rate);
    assert.ok(1 - (1 - rate) ** n >= 0.95 && 1 - (1 - rate) ** (n - 1) < 0.95, `rate ${rate}: ${n}`);
  }
});

test('a pass is a pass: the simulator\'s race victim never fails without its polluter before it', () => {
  const oracle = raceVictim(V, P, 0.5, BEING_DELETED);
  const random = mulberry32(3);
  for (let i = 0; i < 200; i += 1) assert.deepEqual(oracle(V, [FILLERS[0] as string], random, i), pass);
  const after = Array.from({ length: 200 }, (_, i) => oracle(V, [P], random, i)).filter((o) => o?.status === 'failed').length;
  assert.ok(after > 70 && after < 130, `failed ${after} of 200 times after P`);
});
