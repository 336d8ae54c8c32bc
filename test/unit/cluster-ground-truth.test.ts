// The demo's ground-truth check judges the attribution of every run on its own: a leak right in
// most runs and wrong in one is a mismatch, and a leaker whose object is missing from a run that
// ran it is one too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithGroundTruth, type GroundTruth } from '../../examples/harness/ground-truth.ts';
import type { LeakReport, Report, RunReport, TestReport } from '../../src/model.ts';

const SUITE = 'S';
const id = (name: string) => `${SUITE} :: ${name}`;
const LEAKER = 'tenancy grants a tenant namespace read access';
const OTHER = 'status keeps user annotations';

const truth: GroundTruth = {
  suite: SUITE,
  specs: [
    {
      name: LEAKER, id: id(LEAKER), role: 'leaker', verdict: 'stable', fixedVerdict: 'stable',
      leaks: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespacePattern: '^tenant-[a-z0-9]{5}$', namePattern: '^reader$' }],
    },
    { name: OTHER, id: id(OTHER), role: 'clean', verdict: 'stable', fixedVerdict: 'stable' },
  ],
};

function testReport(name: string): TestReport {
  return { id: id(name), name, suite: SUITE, file: 'x_test.go', line: 1, verdict: 'stable', passed: 3, failed: 0, failureKinds: [], polluters: [], cleaners: [], stateSetters: [], reproduce: '' };
}
function runReport(runId: string): RunReport {
  return { id: runId, seed: 1, exitCode: 0, durationMs: 1, timedOut: false, order: [id(OTHER), id(LEAKER)], failed: [], probe: false };
}
function binding(ns: string, runs: string[], createdBy: string, extra: Partial<LeakReport> = {}): LeakReport {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: ns, name: 'reader', uid: ns, terminating: false, finalizers: [], createdBy: id(createdBy), runs, attribution: 'exact', ...extra };
}
function report(leaks: LeakReport[], runs = ['000', '001', '002']): Report {
  return {
    schema: 'kubeflake/report@1', command: 'ginkgo', framework: 'ginkgo', cluster: 'local', runs: runs.map(runReport),
    tests: [testReport(LEAKER), testReport(OTHER)], leaks, cleanup: { dryRun: false, deleted: [], finalizersRemoved: [], left: [] }, verdict: 'findings',
  };
}
const lines = (r: Report) => compareWithGroundTruth(r, truth, { fixed: false });

test('every run attributes the leak to the leaker: ok, and a right guess is said to be one', () => {
  const check = lines(report([
    binding('tenant-a2b4c', ['000'], LEAKER),
    binding('tenant-d5f6g', ['001'], LEAKER),
    binding('tenant-h7j8k', ['002'], LEAKER, { attribution: 'approximate', candidates: [id(LEAKER), id(OTHER)] }),
  ]));
  assert.equal(check.ok, true, check.lines.join('\n'));
  assert.ok(check.lines.some((l) => /RoleBinding \^reader\$: created by .* in 3 of 3 run\(s\) it leaked in \(1 by a guess among \[tenancy.*, status.*\]\)/.test(l)), check.lines.join('\n'));
});

test('right in two runs of three is still a mismatch: the run that got it wrong is named (no vote across runs)', () => {
  const check = lines(report([
    binding('tenant-a2b4c', ['000'], LEAKER),
    binding('tenant-d5f6g', ['001'], OTHER, { attribution: 'approximate' }),
    binding('tenant-h7j8k', ['002'], LEAKER),
  ]));
  assert.equal(check.ok, false);
  assert.equal(check.mismatches, 1);
  assert.ok(check.lines.some((l) => l.startsWith('MISMATCH') && /2 of 3 run\(s\).*; status keeps user annotations in run 001$/.test(l)), check.lines.join('\n'));
});

test('the same object merged across runs under one creator is judged for each of its runs', () => {
  assert.equal(lines(report([binding('tenant-a2b4c', ['000', '001', '002'], LEAKER)])).ok, true);
  const split = lines(report([binding('tenant-a2b4c', ['000', '002'], LEAKER), binding('tenant-a2b4c', ['001'], OTHER)]));
  assert.equal(split.ok, false);
});

test('a leaker whose object is missing from a run that ran it is a mismatch', () => {
  const check = lines(report([binding('tenant-a2b4c', ['000'], LEAKER), binding('tenant-d5f6g', ['002'], LEAKER)]));
  assert.equal(check.ok, false);
  assert.ok(check.lines.some((l) => l.startsWith('MISMATCH') && /leaked in each of the 3 run\(s\).*\(not in run 001\)/.test(l)), check.lines.join('\n'));
});

test('a victim no run placed after its polluter without the cleaner between must be stable; placed so and stable, it is a mismatch', () => {
  const [P, V, C] = ['evicts iris2', 'warms iris2', 'counts every cache'];
  const victimTruth: GroundTruth = {
    suite: SUITE,
    specs: [
      { name: P, id: id(P), role: 'polluter', verdict: 'stable', fixedVerdict: 'stable' },
      { name: V, id: id(V), role: 'victim', verdict: 'order-dependent', fixedVerdict: 'stable', polluters: [P], cleaners: [C], failsWhen: { after: [P], unlessBetween: [C] } },
      { name: C, id: id(C), role: 'cleaner', verdict: 'stable', fixedVerdict: 'stable' },
    ],
  };
  const withOrders = (orders: string[][]): Report => ({
    ...report([]),
    tests: [testReport(P), testReport(V), testReport(C)],
    runs: orders.map((order, i) => ({ ...runReport(String(i).padStart(3, '0')), order: order.map(id) })),
  });
  // Before its polluter, or with the cleaner between: no order that fails it.
  const hidden = compareWithGroundTruth(withOrders([[V, P, C], [P, C, V], [C, V, P]]), victimTruth, { fixed: false });
  assert.ok(hidden.ok, hidden.lines.join('\n'));
  assert.ok(hidden.lines.some((line) => line === `ok       ${V}: stable, no run placed it after its polluter without a cleaner between`), hidden.lines.join('\n'));
  // One run put it right after its polluter: stable there is missing a finding.
  const shown = compareWithGroundTruth(withOrders([[V, P, C], [C, P, V]]), victimTruth, { fixed: false });
  assert.equal(shown.ok, false);
  assert.ok(shown.lines.some((line) => line.startsWith(`MISMATCH ${V}: stable`)), shown.lines.join('\n'));
});

test('a guess among the same candidates in several runs is said once, with how many runs', () => {
  const guess = { attribution: 'approximate' as const, candidates: [id(LEAKER), id(OTHER)] };
  const check = lines(report([binding('tenant-a2b4c', ['000'], LEAKER, guess), binding('tenant-d5f6g', ['001'], LEAKER, guess), binding('tenant-h7j8k', ['002'], LEAKER, guess)]));
  const line = check.lines.find((l) => l.includes('RoleBinding ^reader$: created by'));
  assert.match(line ?? '', /in 3 of 3 run\(s\) it leaked in \(3 by a guess among \[tenancy[^\]]*\]\)$/, check.lines.join('\n'));
  assert.equal(line?.split('tenancy').length, 3, `the candidates once (the spec's own name and the list): ${line}`);
});

// The record's planted roles: a transient race (the object is gone before the run ends, so only
// the record of a failing run links the pair) and a latent hazard (the victim never failed).
const [TP, TV, HP, HV] = ['rolls whisper over', 'transcribes through whisper', 'retires bloom', 'warms bloom'];
const recordTruth: GroundTruth = {
  suite: SUITE,
  specs: [
    { name: TP, id: id(TP), role: 'polluter', verdict: 'stable', fixedVerdict: 'stable', transient: [{ apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'whisper', heldMs: 3000 }] },
    { name: TV, id: id(TV), role: 'victim', verdict: 'order-dependent', fixedVerdict: 'stable', polluters: [TP], via: { apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'whisper' }, failsWhen: { after: [TP], rate: 0.5, withinMs: 3000 } },
    { name: HP, id: id(HP), role: 'polluter', verdict: 'stable', fixedVerdict: 'stable', transient: [{ apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'bloom', heldMs: 50 }] },
    { name: HV, id: id(HV), role: 'victim', verdict: 'stable', fixedVerdict: 'stable', hazard: true, polluters: [HP], via: { apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'bloom' }, failsWhen: { after: [HP], rate: 0.05, withinMs: 60 } },
  ],
};
const object = (name: string) => ({ group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name });
function recordReport(options: { linked: boolean; hazard: boolean }): Report {
  const victim: TestReport = {
    ...testReport(TV), verdict: 'order-dependent', failed: 1,
    polluters: [{
      test: id(TP), via: [], confirmed: true, ...(options.linked ? {
        decidedBy: 'record' as const,
        link: { run: '001', victim: id(TV), polluter: id(TP), object: object('whisper'), state: 'terminating' as const, failure: 'BeingDeleted' as const, refusedAt: 2, refusal: { verb: 'create', code: 409 }, refusals: 1, margins: {} },
      } : { decidedBy: 'probes' as const }),
    }],
  };
  return {
    ...report([]),
    tests: [testReport(TP), victim, testReport(HP), testReport(HV)],
    runs: [{ ...runReport('000'), order: [TP, TV, HP, HV].map(id) }, { ...runReport('001'), order: [TP, TV, HP, HV].map(id) }],
    ...(options.hazard ? {
      hazards: [{ first: id(HP), second: id(HV), object: object('bloom'), kind: 'terminating' as const, access: 'create' as const, windowMs: 50, meetings: [{ run: '000', probe: false, windowMs: 50, marginMs: 40, fired: false }], probes: { runs: ['probe-000'], failed: [], stress: true }, outcome: 'held-off' as const }],
    } : {}),
  };
}

test('a transient race must be linked by the record of a failing run; a hazard victim must be stable with its hazard reported', () => {
  const good = compareWithGroundTruth(recordReport({ linked: true, hazard: true }), recordTruth, { fixed: false });
  assert.ok(good.ok, good.lines.join('\n'));
  assert.ok(good.lines.includes(`ok       ${TV}: linked to its polluter by the record of a failing run (run 001; ModelCache whisper never leaks)`), good.lines.join('\n'));
  assert.ok(good.lines.some((l) => l.startsWith(`ok       ${HV}: a hazard after ${HP} on bloom: held-off, window 50 ms, met in 1 run(s), 1 probe(s) under stress`)), good.lines.join('\n'));

  const unlinked = compareWithGroundTruth(recordReport({ linked: false, hazard: true }), recordTruth, { fixed: false });
  assert.deepEqual(unlinked.lines.filter((l) => l.startsWith('MISMATCH')), [`MISMATCH ${TV}: linked to its polluter by the record of a failing run (none; ModelCache whisper never leaks)`]);

  const unseen = compareWithGroundTruth(recordReport({ linked: true, hazard: false }), recordTruth, { fixed: false });
  assert.deepEqual(unseen.lines.filter((l) => l.startsWith('MISMATCH')), [`MISMATCH ${HV}: no hazard reported after ${HP} (expected one on bloom)`]);
});

test('the fixed variant has no hazards; with the record, a guessed leak is a mismatch', () => {
  const fixed = { ...recordReport({ linked: true, hazard: true }), tests: [TP, TV, HP, HV].map(testReport), verdict: 'clean' as const };
  const check = compareWithGroundTruth(fixed, recordTruth, { fixed: true });
  assert.ok(check.lines.some((l) => l.startsWith('MISMATCH hazards: 1 (')), check.lines.join('\n'));
  assert.equal(check.mismatches, 1);

  const guessed = lines({ ...report([binding('tenant-a2b4c', ['000', '001', '002'], LEAKER)]), attribution: { objects: 3, exact: 2, byNamespace: 0, byOwner: 0, fellBack: 0, guessed: 1, unknown: 0, byRecord: 2 } });
  assert.ok(guessed.lines.includes('MISMATCH attribution: 2 of 3 leaked object(s) named by the record, 1 by a guess (expected none: the specs run serially)'), guessed.lines.join('\n'));
});

test('a transient victim (its object gone before the run ends, never a leak) is linked to its polluter by the record of a failing run; an iris2-like one still by its leak', () => {
  const [P, V, C] = ['rolls whisper over', 'transcribes through whisper', 'counts every cache'];
  const whisper = { apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'whisper' };
  const transientTruth: GroundTruth = {
    suite: SUITE,
    specs: [
      { name: P, id: id(P), role: 'polluter', verdict: 'stable', fixedVerdict: 'stable' },
      { name: V, id: id(V), role: 'victim', verdict: 'order-dependent', fixedVerdict: 'stable', polluters: [P], cleaners: [C], via: whisper, failsWhen: { after: [P], unlessBetween: [C], rate: 0.5 } },
      { name: C, id: id(C), role: 'cleaner', verdict: 'stable', fixedVerdict: 'stable' },
    ],
  };
  const link = {
    run: '000', victim: id(V), polluter: id(P), object: { group: 'cache.kubeflake.dev', resource: 'modelcaches', name: 'whisper' }, failure: 'BeingDeleted' as const,
    refusedAt: 2, refusal: { verb: 'create', code: 409 }, refusals: 1, state: 'terminating' as const, margins: {},
  };
  const judged = (polluter: TestReport['polluters'][number]): Report => ({
    ...report([]),
    tests: [testReport(P), { ...testReport(V), verdict: 'order-dependent', passed: 1, failed: 1, polluters: [polluter] }, testReport(C)],
    runs: [{ ...runReport('000'), order: [id(P), id(V), id(C)] }, { ...runReport('001'), order: [id(V), id(P), id(C)] }],
  });
  const byRecord = compareWithGroundTruth(judged({ test: id(P), confirmed: true, via: [], decidedBy: 'record', link }), transientTruth, { fixed: false });
  assert.ok(byRecord.ok, byRecord.lines.join('\n'));
  assert.ok(byRecord.lines.some((l) => l.startsWith(`ok       ${V}: linked to its polluter by the record of a failing run (run 000`)), byRecord.lines.join('\n'));
  // Confirmed by probes alone: no record shows the object in its way.
  const byProbes = compareWithGroundTruth(judged({ test: id(P), confirmed: true, via: [], decidedBy: 'probes' }), transientTruth, { fixed: false });
  assert.equal(byProbes.ok, false);
  assert.ok(byProbes.lines.some((l) => l.startsWith(`MISMATCH ${V}: linked to its polluter by the record of a failing run (none`)), byProbes.lines.join('\n'));
  // The same victim of an object its polluter leaks must still be linked by the leak.
  const leakingTruth: GroundTruth = { ...transientTruth, specs: transientTruth.specs.map((s) => (s.name === P ? { ...s, leaks: [{ ...whisper, terminating: true }] } : s)) };
  const unleaked = compareWithGroundTruth(judged({ test: id(P), confirmed: true, via: [], decidedBy: 'record', link }), leakingTruth, { fixed: false });
  assert.equal(unleaked.ok, false);
  assert.ok(unleaked.lines.some((l) => l.startsWith(`MISMATCH ${V}: linked to its polluter by a leaked object (none)`)), unleaked.lines.join('\n'));
});
