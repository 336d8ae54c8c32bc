// Verdict rules on hand-written runs; probes are answered by hand too, so each rule is seen
// with exactly the evidence it needs. falseAlarmBound: 1 switches off the evidence-strength
// bound where a test is about a rule, not about how many probes it takes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbePlan, RunResult, TestStatus } from '../../src/model.ts';
import { analyze, reportVerdict } from '../../src/analysis/verdicts.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import type { HuntOptions } from '../../src/analysis/hunt.ts';
import { SUITE, id, run } from './analysis-sim.ts';

const [A, V] = ['A', 'V'].map(id) as [string, string];
const BEING_DELETED = 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';

/** A probe run that executed the plan: the subject got `status`, the others passed. */
function answer(plan: ProbePlan, status: TestStatus, runId: string, message = BEING_DELETED): RunResult {
  const outcomes = plan.expectedOrder.map((t): [string, TestStatus, string?] => {
    const name = t.slice(SUITE.length + 4);
    return t === plan.subject ? [name, status, message] : [name, 'passed'];
  });
  return { ...run(runId, plan.seed, outcomes), probe: true, plan };
}

/** Drives planProbes, answering each probe with `decide`, until it returns []. */
function hunt(runs: RunResult[], decide: (plan: ProbePlan, index: number) => TestStatus, options: Partial<HuntOptions> = {}, message?: string): RunResult[] {
  const all = [...runs];
  for (let i = 0; i < 50; i += 1) {
    const [plan] = planProbes({ runs: all, framework: 'ginkgo', ...options });
    if (!plan) return all;
    all.push(answer(plan, decide(plan, i), `probe-${String(i).padStart(3, '0')}`, message));
  }
  throw new Error('planProbes never returned []');
}

const pollutedRuns = (): RunResult[] => [
  run('000', 11, [['A', 'passed'], ['V', 'failed', BEING_DELETED], ['B', 'passed']]),
  run('001', 12, [['V', 'passed'], ['A', 'passed'], ['B', 'passed']]),
  run('002', 13, [['B', 'passed'], ['A', 'passed'], ['V', 'failed', BEING_DELETED]]),
  run('003', 14, [['B', 'passed'], ['V', 'passed'], ['A', 'passed']]),
];

const verdictOf = (runs: RunResult[], test: string, options: Partial<HuntOptions> = {}) =>
  analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], ...options }).find((t) => t.id === test);

test('stable: passed every run; a run that crashed before it is missing data, not a pass or a fail', () => {
  const runs = [
    run('000', 1, [['A', 'passed'], ['V', 'passed']]),
    run('001', 2, [['A', 'passed']], { exitCode: null, timedOut: true }),
    run('002', 3, [['V', 'passed'], ['A', 'passed']]),
  ];
  const v = verdictOf(runs, V);
  assert.equal(v?.verdict, 'stable');
  assert.equal(v?.passed, 2);
  assert.equal(v?.failed, 0);
  assert.equal(v?.why, 'passed in 2/2 runs; no result in 1 run (crashed or timed out before it)');
  assert.equal(v?.reproduce, '');
  assert.equal(verdictOf(runs, A)?.why, 'passed in 3/3 runs');
});

test('a test that failed once, with no probe evidence, is flaky and not order-dependent; its suspects stay unconfirmed', () => {
  const runs = [
    run('000', 1, [['A', 'passed'], ['V', 'failed', BEING_DELETED]]),
    run('001', 2, [['V', 'passed'], ['A', 'passed']]),
    run('002', 3, [['V', 'passed'], ['A', 'passed']]),
  ];
  const v = verdictOf(runs, V);
  assert.equal(v?.verdict, 'flaky');
  assert.deepEqual(v?.polluters, [{ test: A, confirmed: false, via: [] }]);
  assert.match(v?.why ?? '', /^failed in 1\/3 runs; not probed/);
  assert.equal(v?.reproduce, 'ginkgo --randomize-all --seed=1 ./...', 'the seed of the failing run, whole suite');
  assert.equal(reportVerdict([v!], []), 'findings');
});

test('broken only when checked: failed every run and never alone is flaky, not checked alone; alone it fails too: broken', () => {
  const runs = [run('000', 1, [['A', 'passed'], ['V', 'failed']]), run('001', 2, [['B', 'passed'], ['V', 'failed'], ['A', 'passed']])];
  const unchecked = verdictOf(runs, V);
  assert.equal(unchecked?.verdict, 'flaky', 'A ran before it in both runs: it may be its victim');
  assert.equal(
    unchecked?.why,
    'failed in all 2 runs it ran in; not checked alone (probe budget spent, or the command cannot run single tests), so it may be broken or the victim of a test that ran before it every time',
  );
  assert.equal(unchecked?.alone, undefined);
  const probed = hunt(runs, () => 'failed');
  assert.deepEqual(probed.filter((r) => r.probe).map((r) => r.plan?.purpose), ['alone']);
  const checked = verdictOf(probed, V);
  assert.equal(checked?.verdict, 'broken');
  assert.equal(checked?.why, 'failed in all 2 runs it ran in; alone it failed too in probe-000');
  assert.deepEqual(checked?.alone, { failed: 1, runs: 1 });
  assert.equal(checked?.failed, 2, 'the probe failure is not counted with the planned runs');
  assert.deepEqual(checked?.failures?.map((f) => f.run), ['000', '001', 'probe-000']);
  assert.equal(checked?.reproduce, "ginkgo --randomize-all --seed=2 '--focus=(^|\\s)V$' ./...");
  assert.equal(checked?.reproduceTries, 1);
});

test('a victim whose polluter ran before it in every run is checked alone and found, not called broken', () => {
  const runs = [run('000', 1, [['A', 'passed'], ['V', 'failed', BEING_DELETED]]), run('001', 2, [['B', 'passed'], ['A', 'passed'], ['V', 'failed', BEING_DELETED]])];
  const probed = hunt(runs, (plan) => (plan.tests.includes(A) ? 'failed' : 'passed'), { falseAlarmBound: 1 });
  assert.equal(probed.find((r) => r.probe)?.plan?.purpose, 'alone');
  const v = verdictOf(probed, V, { falseAlarmBound: 1 });
  assert.equal(v?.verdict, 'order-dependent');
  assert.deepEqual(v?.polluters.map((p) => [p.test, p.confirmed]), [[A, true]]);
  // With no budget it is not called anything it was not checked for.
  assert.equal(hunt(runs, () => 'failed', { maxProbes: 0 }).length, 2);
  assert.equal(verdictOf(runs, V, { maxProbes: 0 })?.verdict, 'flaky');
});

test('order-dependent: alone passes, the polluter then the victim fails (every time), every failure had the polluter before it', () => {
  const runs = hunt(pollutedRuns(), (plan) => (plan.purpose === 'alone' ? 'passed' : plan.tests.includes(A) ? 'failed' : 'passed'), { falseAlarmBound: 1 });
  const purposes = runs.filter((r) => r.probe).map((r) => `${r.plan?.purpose}:${r.plan?.tests.length}`);
  assert.deepEqual(purposes, ['alone:1', 'polluter:2', 'polluter:2']);
  const v = verdictOf(runs, V, { falseAlarmBound: 1 });
  assert.equal(v?.verdict, 'order-dependent');
  assert.deepEqual(v?.polluters, [{ test: A, confirmed: true, via: [], after: { failed: 2, runs: 2 } }]);
  assert.equal(v?.why, 'failed in 2/4 runs, every time after A; A then V failed in 2 of 2 probes; alone it passed in 1 of 1 probe');
  // With the default bound, two agreeing probes over four runs are not enough: no verdict yet.
  assert.equal(verdictOf(runs, V)?.verdict, 'flaky');
  assert.match(verdictOf(runs, V)?.why ?? '', /the hunt stopped before anything was confirmed \(probe budget spent\?\)/);
});

test('a pair that fails once and then passes is no contradiction: the hunt repeats it and reports the rates, confirming nothing it cannot', () => {
  const runs = hunt(pollutedRuns(), (plan, i) => (plan.purpose === 'alone' ? 'passed' : i === 1 ? 'failed' : 'passed'), { maxProbes: 30 });
  const probes = runs.filter((r) => r.probe);
  assert.ok(probes.filter((r) => r.plan?.purpose === 'polluter').length > 2, 'the pair was repeated after it passed');
  const v = verdictOf(runs, V);
  assert.equal(v?.verdict, 'flaky');
  assert.match(v?.why ?? '', /probes agreed with an order, but too few to rule out a plain flake: it fails 1 of \d+ after A, 0 of \d+ alone/);
  const a = v?.polluters.find((p) => p.test === A);
  assert.equal(a?.confirmed, false);
  assert.equal(a?.after?.failed, 1);
});

test('a victim that also failed without the polluter before it is flaky, even with the polluter confirmed', () => {
  const runs = [...pollutedRuns(), run('004', 15, [['B', 'passed'], ['V', 'failed', 'Timed out after 1.000s.'], ['A', 'passed']])];
  const probed = hunt(runs, (plan) => (plan.purpose === 'alone' ? 'passed' : plan.tests.includes(A) ? 'failed' : 'passed'), { falseAlarmBound: 1 });
  const v = verdictOf(probed, V, { falseAlarmBound: 1 });
  assert.equal(v?.verdict, 'flaky');
  assert.match(v?.why ?? '', /A pollutes it \(confirmed in 2 probes\), but it also failed without it in 004/);
});

test('a failure where the test ran first rules out a polluter: no polluter probes are spent', () => {
  const runs = [
    run('000', 1, [['A', 'passed'], ['V', 'failed']]),
    run('001', 2, [['V', 'failed'], ['A', 'passed']]),
    run('002', 3, [['A', 'passed'], ['V', 'passed']]),
  ];
  const probed = hunt(runs, () => 'passed');
  assert.deepEqual(probed.filter((r) => r.probe).map((r) => r.plan?.purpose), ['alone']);
  const v = verdictOf(probed, V);
  assert.equal(v?.verdict, 'flaky');
  assert.match(v?.why ?? '', /it failed in run 001 where it ran first/);
});

test('brittle: fails alone, passes after its state-setter every time; no passes without it', () => {
  const runs = [
    run('000', 1, [['A', 'passed'], ['V', 'passed']]),
    run('001', 2, [['B', 'passed'], ['V', 'failed', 'namespaces "shared" not found'], ['A', 'passed']]),
    run('002', 3, [['B', 'passed'], ['A', 'passed'], ['V', 'passed']]),
    run('003', 4, [['V', 'failed', 'namespaces "shared" not found'], ['A', 'passed'], ['B', 'passed']]),
  ];
  const probed = hunt(runs, (plan) => (plan.purpose === 'alone' ? 'failed' : 'passed'), { falseAlarmBound: 1 }, 'namespaces "shared" not found');
  assert.deepEqual(probed.filter((r) => r.probe).map((r) => r.plan?.purpose), ['alone', 'state-setter', 'state-setter']);
  const v = verdictOf(probed, V, { falseAlarmBound: 1 });
  assert.equal(v?.verdict, 'brittle');
  assert.deepEqual(v?.stateSetters, [A]);
  assert.equal(v?.why, 'passed in 2/4 runs, every time after A; alone it failed in 1 of 1 probe; A then V passed in 2 of 2 probes');
  assert.deepEqual(v?.failureKinds, ['NotFound']);
});

test('a pass where the test ran first rules out a state-setter', () => {
  const runs = [
    run('000', 1, [['V', 'passed'], ['A', 'passed']]),
    run('001', 2, [['B', 'passed'], ['V', 'failed']]),
    run('002', 3, [['A', 'passed'], ['V', 'passed']]),
  ];
  const probed = hunt(runs, () => 'failed', { falseAlarmBound: 1 });
  assert.deepEqual(probed.filter((r) => r.probe).map((r) => r.plan?.purpose), ['alone']);
  assert.match(verdictOf(probed, V)?.why ?? '', /passed in run 000 where it ran first/);
});

test('a pass that needed a framework retry is flaky; a test skipped everywhere is skipped', () => {
  const retried = run('000', 1, [['V', 'passed'], ['S', 'skipped']]);
  const v0 = retried.cases[0];
  if (v0) v0.retries = [{ status: 'failed', failure: { message: 'Timed out after 1.000s.' } }];
  const runs = [retried, run('001', 2, [['V', 'passed'], ['S', 'skipped']])];
  const reports = analyze({ runs, framework: 'ginkgo' });
  const v = reports.find((r) => r.id === V);
  assert.equal(v?.verdict, 'flaky');
  assert.equal(v?.why, 'passed in all 2 runs, but only after a retry in 000');
  assert.deepEqual(v?.failureKinds, ['EventuallyTimeout']);
  assert.equal(reports.find((r) => r.id === id('S'))?.verdict, 'skipped');
  assert.deepEqual(reports.map((r) => r.verdict), ['flaky', 'skipped'], 'findings first');
});

test('failures carry kind, signature and location; kinds by frequency; the hint follows the commonest kind', () => {
  const runs = [
    run('000', 1, [['V', 'failed', BEING_DELETED]]),
    run('001', 2, [['V', 'failed', 'Timed out after 2.000s.']]),
    run('002', 3, [['V', 'failed', BEING_DELETED.replace('iris2', 'iris9')]]),
  ];
  const located = runs[0]?.cases[0];
  if (located?.failure) located.failure.location = { file: 'internal/controller/modelcache_test.go', line: 42 };
  const v = verdictOf(runs, V);
  assert.deepEqual(v?.failureKinds, ['BeingDeleted', 'EventuallyTimeout']);
  assert.match(v?.hint ?? '', /being deleted/);
  assert.deepEqual(v?.failures?.[0], {
    run: '000',
    kind: 'BeingDeleted',
    message: BEING_DELETED,
    signature: 'object is being deleted: modelcaches.cache.kubeflake.dev "NAME" already exists',
    location: { file: 'internal/controller/modelcache_test.go', line: 42 },
  });
  assert.equal(v?.failures?.[0]?.signature, v?.failures?.[2]?.signature);
});

test('a report verdict: findings win, errors without findings are an error, no tests is an error, else clean', () => {
  assert.equal(reportVerdict([{ verdict: 'stable' }, { verdict: 'skipped' }], []), 'clean');
  assert.equal(reportVerdict([{ verdict: 'stable' }], ['run 002 wrote no report']), 'error');
  assert.equal(reportVerdict([{ verdict: 'broken' }], ['run 002 wrote no report']), 'findings');
  assert.equal(reportVerdict([], []), 'error');
  for (const verdict of ['flaky', 'order-dependent', 'brittle', 'broken'] as const) assert.equal(reportVerdict([{ verdict }]), 'findings');
});

test('without a command the reproduce line is built from the latest planned run, with its flags replaced', () => {
  const runs = [run('000', 5, [['V', 'failed']], { command: ['ginkgo', '--randomize-all', '--seed=5', '--junit-report=x.xml', './...'] })];
  assert.equal(analyze({ runs, framework: 'ginkgo' })[0]?.reproduce, "ginkgo --randomize-all --seed=5 '--focus=(^|\\s)V$' --junit-report=x.xml ./...");
});

test('only a NotFound links a state-setter: an AlreadyExists naming what the candidate created asks for the full evidence', () => {
  const shared = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'shared', uid: 'u', terminating: false, finalizers: [], createdBy: A, runs: ['000'] };
  const probesFor = (message: string): number => {
    const runs = [
      run('000', 1, [['A', 'passed'], ['V', 'passed']]),
      run('001', 2, [['V', 'failed', message], ['A', 'passed']]),
      run('002', 3, [['A', 'passed'], ['V', 'passed']]),
      run('003', 4, [['V', 'failed', message], ['A', 'passed']]),
    ];
    const all = [...runs];
    for (let i = 0; i < 40; i += 1) {
      const [plan] = planProbes({ runs: all, framework: 'ginkgo', leaks: [shared] });
      if (!plan) break;
      all.push(answer(plan, plan.purpose === 'alone' ? 'failed' : 'passed', `probe-${String(i).padStart(3, '0')}`, message));
    }
    assert.equal(analyze({ runs: all, framework: 'ginkgo', leaks: [shared] }).find((t) => t.id === V)?.verdict, 'brittle', message);
    return all.length - runs.length;
  };
  const notFound = probesFor('configmaps "shared" not found');
  const alreadyExists = probesFor('configmaps "shared" already exists');
  assert.ok(notFound < alreadyExists, `NotFound took ${notFound} probes, AlreadyExists ${alreadyExists}`);
});
