// Whole hunts: a simulated suite (seeded full-list shuffle, then focus) with planted polluters,
// cleaners, state-setters, timing flakes and broken tests; planProbes is driven until it
// returns [], then analyze must name exactly what was planted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeakReport, ProbePlan, RunResult, TestId } from '../../src/model.ts';
import { analyze, reportVerdict } from '../../src/analysis/verdicts.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import { DEFAULT_HUNT_OPTIONS, probeKey } from '../../src/analysis/hunt.ts';
import { fail, id, pass, plannedRuns, runHunt, simulate, iris2Leak, type Oracle } from './analysis-sim.ts';

const A = id('ModelCache when deleting removes iris2');
const B = id('ModelCache when creating creates iris2');
const C = id('ModelCache cleanup deletes every ModelCache and waits');
const FILLER = ['Pod watcher reports ready pods', 'Status conditions are set', 'Webhook defaults the size', 'Metrics are exported', 'Config map is rendered'].map(id);
const BEING_DELETED = 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';

const irisLeak: LeakReport = iris2Leak(A, '001');

/** B fails when A ran before it, unless C ran between them (C waits for iris2 to be gone). */
const pollution: Oracle = (t, before) => {
  if (t !== B) return pass;
  const a = before.lastIndexOf(A);
  if (a < 0) return pass;
  return before.slice(a + 1).includes(C) ? pass : fail(BEING_DELETED);
};

const verdictsOf = (runs: RunResult[], leaks: LeakReport[] = []): Map<TestId, string> =>
  new Map(analyze({ runs, framework: 'ginkgo', command: ['ginkgo', '-r', './...'], leaks }).map((t) => [t.id, t.verdict]));

const findings = (runs: RunResult[], leaks: LeakReport[] = []): [TestId, string][] =>
  [...verdictsOf(runs, leaks)].filter(([, v]) => v !== 'stable' && v !== 'skipped');

test('the motivating case: B fails only after A; probes confirm A as its polluter, linked by the leaked iris2', () => {
  const all = [A, B, ...FILLER];
  const planned = plannedRuns(all, pollution, 10);
  const failedRuns = planned.filter((r) => r.cases.some((c) => c.id === B && c.status === 'failed')).length;
  assert.ok(failedRuns > 1 && failedRuns < 9, `precondition: B both passed and failed (failed ${failedRuns}/10)`);

  const hunt = runHunt(all, pollution, planned, { leaks: [irisLeak] });
  const purposes = hunt.plans.map((p) => p.purpose);
  assert.deepEqual(purposes.slice(0, 3), ['alone', 'polluter', 'polluter'], 'the alone control first, then A then B twice');
  assert.ok(purposes.every((p) => p === 'alone' || p === 'polluter'), `unexpected probes: ${purposes.join(', ')}`);
  assert.ok(hunt.plans.length <= 12);
  for (const plan of hunt.plans.filter((p) => p.purpose === 'polluter')) assert.deepEqual(plan.expectedOrder, [A, B]);
  // The seed the planner chose keeps A before B when only A and B run.
  const probe = hunt.runs.find((r) => r.id === 'probe-001');
  assert.deepEqual(probe?.order, [A, B]);

  const reports = analyze({ runs: hunt.runs, framework: 'ginkgo', command: ['ginkgo', '-r', './...'], leaks: [irisLeak] });
  const b = reports.find((r) => r.id === B);
  assert.equal(b?.verdict, 'order-dependent');
  assert.deepEqual(b?.polluters, [{ test: A, confirmed: true, via: [0], after: { failed: 2, runs: 2 } }], 'A then B failed in both pair probes');
  assert.equal(b?.alone?.failed, 0, 'B never failed alone');
  assert.equal(b?.reproduceTries, 1, 'a polluter that fires every time reproduces in one try');
  assert.deepEqual(b?.failureKinds, ['BeingDeleted']);
  assert.match(b?.hint ?? '', /wait for it to be gone after Delete/);
  assert.equal(b?.failed, failedRuns, 'counts come from planned runs only');
  assert.equal(b?.passed, 10 - failedRuns);
  assert.match(
    b?.why ?? '',
    new RegExp(
      `^failed in ${failedRuns}/10 runs, every time after ModelCache when deleting removes iris2; ` +
        'ModelCache when deleting removes iris2 then ModelCache when creating creates iris2 failed in 2 of 2 probes; ' +
        'alone it passed in 1 of 1 probe; its failure names ModelCache default/iris2, which ModelCache when deleting removes iris2 left behind$',
    ),
  );
  assert.match(b?.reproduce ?? '', /^ginkgo --randomize-all --seed=\d+ '--focus=\(\^\|\\s\)ModelCache when deleting removes iris2\$' '--focus=\(\^\|\\s\)ModelCache when creating creates iris2\$' -r \.\/\.\.\.$/);
  assert.deepEqual(
    reports.filter((r) => r.id !== B).map((r) => r.verdict),
    reports.filter((r) => r.id !== B).map(() => 'stable'),
  );
  assert.equal(reportVerdict(reports, []), 'findings');
});

test('a leak link lowers the evidence a polluter needs: fewer probes than the same hunt without it', () => {
  const all = [A, B, ...FILLER];
  const planned = plannedRuns(all, pollution, 6);
  const linked = runHunt(all, pollution, planned, { leaks: [irisLeak] });
  const unlinked = runHunt(all, pollution, planned, { leaks: [] });
  const verdictOf = (runs: RunResult[], leaks: LeakReport[]) => analyze({ runs, framework: 'ginkgo', leaks }).find((r) => r.id === B);
  assert.equal(verdictOf(linked.runs, [irisLeak])?.verdict, 'order-dependent');
  assert.ok(linked.plans.length < unlinked.plans.length, `linked ${linked.plans.length} probes, unlinked ${unlinked.plans.length}`);
});

test('a victim that passes when a cleaner runs between: the cleaner is confirmed by a probe', () => {
  const all = [A, B, C, ...FILLER];
  const planned = plannedRuns(all, pollution, 12, 4000);
  const cleanerWitness = planned.some((r) => {
    const o = r.order;
    return o.indexOf(A) < o.indexOf(C) && o.indexOf(C) < o.indexOf(B);
  });
  assert.ok(cleanerWitness, 'precondition: some planned run had A, C, B in that order');

  const hunt = runHunt(all, pollution, planned, { leaks: [irisLeak] });
  const cleanerProbe = hunt.plans.find((p) => p.purpose === 'cleaner');
  assert.deepEqual(cleanerProbe?.expectedOrder, [A, C, B]);
  const b = analyze({ runs: hunt.runs, framework: 'ginkgo', leaks: [irisLeak] }).find((r) => r.id === B);
  assert.equal(b?.verdict, 'order-dependent');
  assert.deepEqual(b?.cleaners, [C]);
  assert.match(b?.why ?? '', /with .*cleanup deletes every ModelCache and waits between .* it passed in probe-\d+/);
  assert.deepEqual(findings(hunt.runs, [irisLeak]), [[B, 'order-dependent']]);
});

test('a polluter is confirmed though a timing flake exists in the same suite, and the flake stays flaky', () => {
  const T = id('Reconciler eventually sets Ready');
  const all = [A, B, T, ...FILLER];
  const oracle: Oracle = (t, before, random, seed) => {
    if (t === T) return random() < 0.3 ? fail('Timed out after 10.001s.\nExpected\n    <bool>: false\nto be true') : pass;
    return pollution(t, before, random, seed);
  };
  // Many suites with different seeds: the flake must never be called order-dependent.
  let confirmed = 0;
  for (let base = 1; base <= 12; base += 1) {
    const planned = plannedRuns(all, oracle, 8, base * 1013);
    const hunt = runHunt(all, oracle, planned, { leaks: [irisLeak] });
    const verdicts = verdictsOf(hunt.runs, [irisLeak]);
    assert.notEqual(verdicts.get(T), 'order-dependent', `suite ${base}: the timing flake was called order-dependent`);
    assert.notEqual(verdicts.get(T), 'brittle', `suite ${base}: the timing flake was called brittle`);
    for (const f of FILLER) assert.equal(verdicts.get(f), 'stable');
    assert.ok(hunt.plans.length <= DEFAULT_HUNT_OPTIONS.maxProbes, `suite ${base}: ${hunt.plans.length} probes exceed the budget`);
    // The linked victim is hunted first and cheaply; the flake's hunt may take the rest.
    const forB = hunt.plans.filter((p) => p.subject === B).length;
    assert.ok(forB <= 6, `suite ${base}: ${forB} probes for B`);
    const bFailed = planned.some((r) => r.cases.some((c) => c.id === B && c.status === 'failed'));
    if (bFailed && verdicts.get(B) === 'order-dependent') confirmed += 1;
    if (!bFailed) assert.equal(verdicts.get(B), 'stable');
  }
  assert.ok(confirmed >= 9, `the real polluter was confirmed in only ${confirmed} of 12 suites`);
});

test('a broken test fails alone too and is broken; its neighbours are not blamed', () => {
  const X = id('ModelCache rejects a negative size');
  const all = [X, ...FILLER];
  const oracle: Oracle = (t) => (t === X ? fail('Expected\n    <int>: 0\nto equal\n    <int>: 1') : pass);
  // Runs where X never ran first: only the alone probe can tell it fails by itself.
  const planned = plannedRuns(all, oracle, 12).filter((r) => r.order[0] !== X).slice(0, 5);
  assert.equal(planned.length, 5, 'precondition: five runs where X did not run first');
  const hunt = runHunt(all, oracle, planned);
  assert.deepEqual(hunt.plans.map((p) => p.purpose), ['alone']);
  const x = analyze({ runs: hunt.runs, framework: 'ginkgo' }).find((r) => r.id === X);
  assert.equal(x?.verdict, 'broken');
  assert.deepEqual(x?.polluters, []);
  assert.match(x?.why ?? '', /failed in all 5 runs it ran in; alone it failed too in probe-000/);
  assert.deepEqual(x?.alone, { failed: 1, runs: 1 });
  assert.deepEqual(x?.failureKinds, ['AssertionFailed']);
});

test('a test that failed every run, once with nothing before it, is broken without a probe', () => {
  const X = id('ModelCache rejects a negative size');
  const all = [X, ...FILLER];
  const oracle: Oracle = (t) => (t === X ? fail('Expected\n    <int>: 0\nto equal\n    <int>: 1') : pass);
  const planned = plannedRuns(all, oracle, 12);
  const first = planned.find((r) => r.order[0] === X);
  assert.ok(first, 'precondition: X ran first in some run');
  assert.deepEqual(runHunt(all, oracle, planned).plans, []);
  const x = analyze({ runs: planned, framework: 'ginkgo' }).find((r) => r.id === X);
  assert.equal(x?.verdict, 'broken');
  assert.equal(x?.why, `failed in all 12 runs it ran in, with nothing before it in run ${first.id}`);
  assert.equal(x?.alone, undefined, 'never run alone');
});

test('a test that fails every run but passes alone is not broken: the polluter that always precedes it is found', () => {
  const first = id('BeforeAll-like spec that leaves a quota');
  const V = id('creates within quota');
  const all = [first, V, ...FILLER];
  // A seeded shuffle with V never before `first` is unusual, so the oracle plants it directly.
  const oracle: Oracle = (t, before) => (t === V && before.includes(first) ? fail('exceeded quota: compute-resources') : pass);
  const planned = plannedRuns(all, oracle, 6).filter((r) => r.order.indexOf(first) < r.order.indexOf(V));
  assert.ok(planned.length >= 2, 'precondition: at least two runs with first before V');
  const hunt = runHunt(all, oracle, planned);
  const v = analyze({ runs: hunt.runs, framework: 'ginkgo' }).find((r) => r.id === V);
  assert.equal(v?.verdict, 'order-dependent');
  assert.deepEqual(v?.polluters.map((p) => [p.test, p.confirmed]), [[first, true]]);
});

test('a brittle test passes only after its state-setter, and fails alone', () => {
  const S = id('Namespace setup creates shared');
  const Br = id('Config map is written into shared');
  const all = [S, Br, ...FILLER];
  const oracle: Oracle = (t, before) => (t === Br && !before.includes(S) ? fail('namespaces "shared" not found') : pass);
  const planned = plannedRuns(all, oracle, 10, 2000);
  const hunt = runHunt(all, oracle, planned);
  const purposes = hunt.plans.map((p) => p.purpose);
  assert.deepEqual(purposes.slice(0, 3), ['alone', 'state-setter', 'state-setter']);
  assert.ok(purposes.every((p) => p === 'alone' || p === 'state-setter'), `unexpected probes: ${purposes.join(', ')}`);
  const br = analyze({ runs: hunt.runs, framework: 'ginkgo' }).find((r) => r.id === Br);
  assert.equal(br?.verdict, 'brittle');
  assert.deepEqual(br?.stateSetters, [S]);
  assert.deepEqual(br?.failureKinds, ['NotFound']);
  assert.match(br?.why ?? '', /every time after Namespace setup creates shared; alone it failed in (\d+) of \1 probes?; Namespace setup creates shared then Config map is written into shared passed in 2 of 2 probes/);
  assert.match(br?.reproduce ?? '', /--focus=.*Config map is written into shared/);
  assert.doesNotMatch(br?.reproduce ?? '', /Namespace setup/, 'the brittle test is reproduced alone');
});

test('a brittle test whose NotFound names an object its state-setter leaves needs fewer probes than without that link', () => {
  const S = id('Namespace setup creates shared');
  const Br = id('Config map is written into shared');
  const all = [S, Br, ...FILLER];
  const oracle: Oracle = (t, before) => (t === Br && !before.includes(S) ? fail('namespaces "shared" not found') : pass);
  const planned = plannedRuns(all, oracle, 6, 2000);
  const sharedLeak: LeakReport = { apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'shared', uid: 'u-shared', terminating: false, finalizers: [], createdBy: S, runs: ['000'] };
  const linked = runHunt(all, oracle, planned, { leaks: [sharedLeak] });
  const unlinked = runHunt(all, oracle, planned, { leaks: [] });
  assert.equal(analyze({ runs: linked.runs, framework: 'ginkgo', leaks: [sharedLeak] }).find((r) => r.id === Br)?.verdict, 'brittle');
  assert.ok(linked.plans.length < unlinked.plans.length, `linked ${linked.plans.length} probes, unlinked ${unlinked.plans.length}`);
});

test('bisection finds two tests that pollute only together', () => {
  const P1 = id('creates 2 caches');
  const P2 = id('creates 3 caches');
  const V = id('counts caches');
  const fillers = Array.from({ length: 8 }, (_, i) => id(`filler ${i}`));
  const all = [P1, P2, V, ...fillers];
  const oracle: Oracle = (t, before) => (t === V && before.includes(P1) && before.includes(P2) ? fail('Expected\n    <int>: 5\nto equal\n    <int>: 0') : pass);
  const planned = plannedRuns(all, oracle, 8, 3000);
  assert.ok(planned.some((r) => r.cases.some((c) => c.id === V && c.status === 'failed')), 'precondition: V failed');
  const hunt = runHunt(all, oracle, planned, { maxProbes: 30 });
  assert.ok(hunt.plans.some((p) => p.purpose === 'bisect'), 'bisection ran');
  const v = analyze({ runs: hunt.runs, framework: 'ginkgo', maxProbes: 30 }).find((r) => r.id === V);
  assert.equal(v?.verdict, 'order-dependent');
  assert.deepEqual(v?.polluters.map((p) => p.test).sort(), [P1, P2].sort());
  assert.ok(v?.polluters.every((p) => p.confirmed));
});

test('a stable suite of 20 runs yields zero findings and no probes', () => {
  const all = [A, B, C, ...FILLER];
  const planned = plannedRuns(all, () => pass, 20);
  assert.deepEqual(planProbes({ runs: planned, framework: 'ginkgo' }), []);
  const reports = analyze({ runs: planned, framework: 'ginkgo' });
  assert.equal(reports.length, all.length);
  assert.ok(reports.every((r) => r.verdict === 'stable' && r.passed === 20 && r.failed === 0));
  assert.equal(reportVerdict(reports, []), 'clean');
});

test('the planner never re-plans a probe already run, and every batch respects the budget', () => {
  const all = [A, B, C, ...FILLER];
  const planned = plannedRuns(all, pollution, 12, 4000);
  for (const maxProbes of [1, 2, 3, 12]) {
    const hunt = runHunt(all, pollution, planned, { maxProbes });
    const keys = hunt.plans.map(probeKey);
    assert.equal(new Set(keys).size, keys.length, 'a probe was planned twice');
    assert.ok(hunt.plans.length <= maxProbes, `${hunt.plans.length} probes with maxProbes ${maxProbes}`);
    assert.deepEqual(planProbes({ runs: hunt.runs, framework: 'ginkgo', maxProbes }), []);
  }
  // With one probe only B stays unconfirmed: flaky, never order-dependent.
  const short = runHunt(all, pollution, planned, { maxProbes: 1 });
  assert.equal(verdictsOf(short.runs).get(B), 'flaky');
});

test('a probe that crashed before the victim ran is inconclusive: not re-planned, no verdict drawn from it', () => {
  const all = [A, B, ...FILLER];
  const planned = plannedRuns(all, pollution, 6);
  const [alone] = planProbes({ runs: planned, framework: 'ginkgo' });
  assert.equal(alone?.purpose, 'alone');
  const crashed = simulate(all, pollution, { id: 'probe-000', seed: alone?.seed ?? 0, focus: alone?.tests ?? [], plan: alone, crashAfter: 0 });
  const runs = [...planned, crashed];
  assert.deepEqual(planProbes({ runs, framework: 'ginkgo' }), []);
  const b = analyze({ runs, framework: 'ginkgo' }).find((r) => r.id === B);
  assert.equal(b?.verdict, 'flaky');
  assert.match(b?.why ?? '', /inconclusive \(probe-000 has no result/);
});

test('no probes for a generic framework or a command that cannot select tests', () => {
  const all = [A, B, ...FILLER];
  const planned = plannedRuns(all, pollution, 6);
  assert.ok(planProbes({ runs: planned, framework: 'ginkgo' }).length > 0);
  assert.deepEqual(planProbes({ runs: planned, framework: 'generic' }), []);
  assert.deepEqual(planProbes({ runs: planned, framework: 'go', command: ['ginkgo', '-r'] }), []);
  // make test runs go test: the exec shim selects tests there too.
  assert.ok(planProbes({ runs: planned, framework: 'ginkgo', command: ['make', 'test'] }).length > 0);
});

test('the alone check of a test that failed every run comes before the hunts of tests that passed and failed', () => {
  const X = id('always broken');
  const all = [A, B, X, ...FILLER];
  const oracle: Oracle = (t, before, r, seed) => (t === X ? fail('panic: runtime error: invalid memory address or nil pointer dereference') : pollution(t, before, r, seed));
  const planned = plannedRuns(all, oracle, 12).filter((r) => r.order[0] !== X).slice(0, 6);
  assert.ok(planned.some((r) => r.cases.some((c) => c.id === B && c.status === 'failed')), 'precondition: B failed');
  const hunt = runHunt(all, oracle, planned);
  assert.deepEqual([hunt.plans[0]?.subject, hunt.plans[0]?.purpose], [X, 'alone'], 'one probe settles X: it goes first');
  assert.ok(hunt.plans.slice(1).every((p) => p.subject === B));
  assert.equal(verdictsOf(hunt.runs).get(X), 'broken');
  assert.equal(verdictsOf(hunt.runs).get(B), 'order-dependent');
});

test('timing flakes at any rate are never called order-dependent or brittle across 120 simulated suites', () => {
  const T = id('Reconciler eventually sets Ready');
  const fillers = Array.from({ length: 10 }, (_, i) => id(`filler ${i}`));
  const all = [A, B, T, ...fillers];
  const alarms: string[] = [];
  let victims = 0;
  let confirmed = 0;
  for (const rate of [0.1, 0.3, 0.5, 0.7]) {
    for (let base = 1; base <= 30; base += 1) {
      const oracle: Oracle = (t, before, random) => {
        if (t === T) return random() < rate ? fail('Timed out after 10.001s.') : pass;
        return t === B && before.includes(A) ? fail(BEING_DELETED) : pass;
      };
      const planned = plannedRuns(all, oracle, 10, base * 7919 + rate * 100);
      const verdicts = verdictsOf(runHunt(all, oracle, planned).runs);
      const v = verdicts.get(T);
      if (v === 'order-dependent' || v === 'brittle') alarms.push(`rate ${rate} suite ${base}: ${v}`);
      if (planned.some((r) => r.cases.some((c) => c.id === B && c.status === 'failed'))) {
        victims += 1;
        if (verdicts.get(B) === 'order-dependent') confirmed += 1;
      }
    }
  }
  assert.deepEqual(alarms, []);
  assert.ok(confirmed >= victims * 0.95, `the real victim was confirmed in ${confirmed} of ${victims} suites`);
});

test('Ginkgo suite nodes that every focused probe runs do not make a probe inconclusive', async () => {
  const { planProbes, analyze } = await import('../../src/analysis/index.ts');
  const suite = 'S';
  const id = (name: string) => `${suite} :: ${name}`;
  const names = ['polluter', 'victim', 'a', 'b', 'c', 'd'];
  // Deterministic "shuffles": the victim fails exactly when the polluter ran before it.
  const orders = [
    ['polluter', 'a', 'victim', 'b', 'c', 'd'],
    ['victim', 'a', 'polluter', 'b', 'c', 'd'],
    ['a', 'polluter', 'b', 'victim', 'c', 'd'],
    ['d', 'victim', 'c', 'polluter', 'b', 'a'],
    ['b', 'c', 'polluter', 'd', 'a', 'victim'],
    ['victim', 'd', 'c', 'b', 'a', 'polluter'],
    ['c', 'polluter', 'victim', 'a', 'b', 'd'],
    ['a', 'b', 'victim', 'c', 'd', 'polluter'],
    ['polluter', 'b', 'c', 'd', 'a', 'victim'],
    ['d', 'c', 'victim', 'a', 'polluter', 'b'],
  ];
  const make = (runId: string, seed: number, order: string[], probe?: ProbePlan) => {
    const cases = ['[BeforeSuite]', ...order, '[AfterSuite]'].map((name, index) => {
      const failed = name === 'victim' && order.indexOf('polluter') >= 0 && order.indexOf('polluter') < order.indexOf('victim');
      return { id: id(name), name, suite, node: name.startsWith('[') ? 'suite-setup' as const : 'spec' as const, status: failed ? 'failed' as const : 'passed' as const, durationMs: 1, index, ...(failed ? { failure: { message: 'boom' } } : {}) };
    });
    return { id: runId, seed, probe: probe !== undefined, ...(probe ? { plan: probe } : {}), command: ['ginkgo', './...'], exitCode: 0, timedOut: false, startedAt: 0, endedAt: 1, durationMs: 1, orderSource: 'ginkgo-json' as const, order: cases.map((c) => c.id), cases, reports: ['ginkgo.json'], warnings: [] };
  };
  const runs = orders.map((order, i) => make(String(i).padStart(3, '0'), 100 + i, order));
  const seedOrder = new Map(orders.map((order, i) => [100 + i, order]));
  for (let n = 0; n < 20; n++) {
    const plans = planProbes({ runs, framework: 'ginkgo', command: ['ginkgo', './...'] });
    if (plans.length === 0) break;
    for (const plan of plans) {
      const full = seedOrder.get(plan.seed) ?? names;
      const focused = full.filter((name) => plan.tests.includes(id(name)));
      runs.push(make(`probe-${String(n).padStart(3, '0')}`, plan.seed, focused, plan));
    }
  }
  const victim = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'] }).find((t) => t.name === 'victim')!;
  assert.equal(victim.verdict, 'order-dependent', victim.why);
  assert.deepEqual(victim.polluters.filter((p) => p.confirmed).map((p) => p.test), [id('polluter')]);
});
