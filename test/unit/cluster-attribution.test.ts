// attribute / attributeDeleted / mergeLeaks on plain runs and timelines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attribute, attributeDeleted, creatorsOf, mergeLeaks, settleAmbiguous, specWindows, summarizeAttribution } from '../../src/cluster/attribution.ts';
import { describeCreator } from '../../src/report/findings.ts';
/** Test ids here are "suite :: name"; the name is what a person reads. */
const testName = (id: string): string => id.split(' :: ').at(-1) ?? id;
import type { LeakReport, RunResult, SnapshotObject, TestCase, TimelineEvent, WatchLagSample } from '../../src/model.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
function kase(name: string, start: number | undefined, end: number | undefined, durationMs = 0): TestCase {
  const c: TestCase = { id: `S :: ${name}`, name, suite: 'S', status: 'passed', durationMs, node: name.startsWith('[') ? 'suite-setup' : 'spec' };
  if (start !== undefined) c.startedAt = T0 + start;
  if (end !== undefined) c.endedAt = T0 + end;
  return c;
}
function run(cases: TestCase[], endedAt = T0 + 10_000): RunResult {
  return {
    id: '003', seed: 1, probe: false, command: [], exitCode: 0, timedOut: false, startedAt: T0 - 30_000, endedAt, durationMs: 0,
    orderSource: 'ginkgo-json', order: cases.map((c) => c.id), cases, reports: [], warnings: [],
  };
}
function obj(name: string, extra: Partial<SnapshotObject> = {}): SnapshotObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, namespace: 'default', name, uid: `u-${name}`, ...extra };
}
function created(o: SnapshotObject, at: number, extra: Partial<TimelineEvent> = {}): TimelineEvent {
  return { at: T0 + at, verb: 'created', object: { apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name, uid: o.uid }, ...extra };
}

const exact = run([kase('A', 0, 1000), kase('B', 1010, 3000), kase('C', 3010, 5000)]);

/** Lag samples every 250 ms over the run, as the watch's probes record them. */
function lagSamples(minMs: number, maxMs: number, from = -1000, to = 6000): WatchLagSample[] {
  const out: WatchLagSample[] = [];
  for (let at = from; at <= to; at += 250) out.push({ at: T0 + at, verb: 'lag', resourceVersion: String(at + 10_000), minMs, maxMs });
  return out;
}
// Short specs a millisecond apart, as Ginkgo runs them.
const short = run([kase('A', 0, 10), kase('B', 11, 40), kase('C', 41, 2000)]);

test('exact: each object goes to the spec whose window holds its creation', () => {
  const a = obj('a'), b = obj('b'), c = obj('c');
  const leaks = attribute([a, b, c], [...lagSamples(5, 12), created(a, 500), created(b, 2000), created(c, 4999)], exact);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution]), [
    ['a', 'S :: A', 'exact'],
    ['b', 'S :: B', 'exact'],
    ['c', 'S :: C', 'exact'],
  ]);
  assert.deepEqual(leaks[0]!.runs, ['003']);
  assert.equal(leaks[0]!.resource, 'configmaps');
});

test('seen just after a spec ended: still that spec (watch lag); well before the first spec: nobody', () => {
  const late = obj('late'), early = obj('early');
  const leaks = attribute([late, early], [created(late, 5400), created(early, -20_000)], exact);
  assert.equal(leaks[0]!.createdBy, 'S :: C');
  assert.equal(leaks[1]!.createdBy, null);
  assert.equal(leaks[1]!.attribution, 'unknown');
});

test('seen a moment into the next spec but created in an earlier second: the previous spec', () => {
  const w = specWindows(run([kase('A', 0, 1000), kase('B', 2005, 3000)]))!;
  const o = obj('o');
  const second = created(o, 2010, { createdAt: new Date(T0 + 1000).toISOString() }); // second [1000, 2000) ends before B starts
  assert.deepEqual(attribute([o], [second], run([kase('A', 0, 1000), kase('B', 2005, 3000)])).map((l) => [l.createdBy, l.candidates]), [['S :: A', undefined]]);
  // Without the creation second, the lag assumed (not measured) leaves both: B, the spec running then, probably.
  assert.deepEqual(creatorsOf(w, { from: T0 + 8, to: T0 + 2010, likeliest: T0 + 2010 }, 2000), { candidates: ['S :: B', 'S :: A'], certain: false });
});

test('owner references: a controller-made object belongs to the test that made its owner', () => {
  const cr = obj('cache', { apiVersion: 'example.com/v1', kind: 'ModelCache', resource: 'modelcaches' });
  const deploy = obj('cache-dep', { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'ModelCache', name: 'cache', uid: cr.uid, controller: true }] });
  const rs = obj('cache-dep-1', { apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicasets', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cache-dep', uid: deploy.uid, controller: true }] });
  // The controller acted while test C was running; the owner was made by A.
  const leaks = attribute([cr, deploy, rs], [created(cr, 900), created(deploy, 3500, { ownerUids: [cr.uid] }), created(rs, 3600)], exact);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution]), [
    ['cache', 'S :: A', 'exact'],
    ['cache-dep', 'S :: A', 'owner'],
    ['cache-dep-1', 'S :: A', 'owner'],
  ]);
  assert.equal(leaks[2]!.owner?.name, 'cache');
});

test('an owner that existed before the run does not take the blame: the time decides', () => {
  const o = obj('child', { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'old', uid: 'baseline-uid' }] });
  const [l] = attribute([o], [...lagSamples(5, 12), created(o, 2500)], exact);
  assert.equal(l!.createdBy, 'S :: B');
  assert.equal(l!.attribution, 'exact');
});

test('missing from the timeline: creationTimestamp is used and the attribution is approximate', () => {
  const o = obj('unseen', { creationTimestamp: new Date(T0 + 2000).toISOString() });
  const [l] = attribute([o], [], exact);
  assert.equal(l!.createdBy, 'S :: B');
  assert.equal(l!.attribution, 'approximate');
});

test('without per-spec times: windows from order and durations, anchored at the run end, approximate', () => {
  const r = run([kase('A', undefined, undefined, 1000), kase('B', undefined, undefined, 2000), kase('C', undefined, undefined, 2000)], T0 + 10_000);
  const w = specWindows(r)!;
  assert.equal(w.precision, 'approximate');
  assert.deepEqual(w.windows.map((s) => [s.start - T0, s.end - T0]), [[5000, 6000], [6000, 8000], [8000, 10_000]]);
  const a = obj('a'), b = obj('b');
  const leaks = attribute([a, b], [created(a, 5500), created(b, 7000)], r);
  assert.deepEqual(leaks.map((l) => [l.createdBy, l.attribution]), [['S :: A', 'approximate'], ['S :: B', 'approximate']]);
});

test('parallel specs overlapping: latest started wins, said to be approximate', () => {
  const r = run([kase('A', 0, 5000), kase('B', 1000, 3000)]);
  const o = obj('o');
  const [l] = attribute([o], [created(o, 2000)], r);
  assert.equal(l!.createdBy, 'S :: B');
  assert.equal(l!.attribution, 'approximate');
});

test('late sightings (type appeared mid-run) use the creationTimestamp, not the sighting time', () => {
  const o = obj('w', { apiVersion: 'example.com/v1', kind: 'Widget', resource: 'widgets' });
  const [l] = attribute([o], [created(o, 4500, { late: true, createdAt: new Date(T0 + 1000).toISOString() })], exact);
  assert.equal(l!.createdBy, 'S :: B');
  assert.equal(l!.attribution, 'approximate');
});

test('deleted baseline objects name the test that deleted them', () => {
  const o = obj('shared');
  const [l] = attributeDeleted([o], [{ at: T0 + 1500, verb: 'deleted', object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'shared', uid: o.uid } }], exact);
  assert.equal(l!.deletedBy, 'S :: B');
  assert.equal(l!.createdBy, null);
});

test('mergeLeaks folds the same object from several runs and keeps distinct creators apart', () => {
  const a = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'd', name: 'x', uid: '1', terminating: false, finalizers: [], createdBy: 'S :: A', runs: ['000'] };
  const merged = mergeLeaks([[a], [{ ...a, uid: '2', runs: ['001'], terminating: true, finalizers: ['f'] }], [{ ...a, uid: '3', createdBy: 'S :: B', runs: ['002'] }]]);
  assert.equal(merged.length, 2);
  assert.deepEqual(merged[0]!.runs, ['000', '001']);
  assert.equal(merged[0]!.terminating, true);
  assert.deepEqual(merged[0]!.finalizers, ['f']);
  assert.deepEqual(a.runs, ['000']);
});

test('mergeLeaks: a destroyed baseline object seen in several runs is one entry, blamed on the test seen deleting it', () => {
  const base = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'shared', uid: 'b', terminating: false, finalizers: [], createdBy: null, attribution: 'unknown' as const };
  const merged = mergeLeaks([[{ ...base, deletedBy: null, runs: ['000'] }], [{ ...base, deletedBy: 'S :: P', attribution: 'exact', runs: ['001'] }], [{ ...base, deletedBy: null, runs: ['002'] }]]);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]!.deletedBy, 'S :: P');
  assert.equal(merged[0]!.attribution, 'exact');
  assert.deepEqual(merged[0]!.runs, ['000', '001', '002']);
});

test('an object seen just into the next spec, inside a namespace the previous spec made, is the previous spec\'s', () => {
  const ns = obj('tenant-x', { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, namespace: undefined, uid: 'u-ns' });
  const binding = obj('reader', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', resource: 'rolebindings', namespace: 'tenant-x', uid: 'u-rb' });
  const elsewhere = obj('other', { namespace: 'default', uid: 'u-other' });
  // A made the namespace; the binding and an unrelated object are seen 200 ms into B.
  const leaks = attribute([ns, binding, elsewhere], [created(ns, 900), created(binding, 1210), created(elsewhere, 1210)], exact);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy]), [
    ['tenant-x', 'S :: A'],
    ['reader', 'S :: A'],
    ['other', 'S :: B'],
  ]);
});

test('seen at a spec boundary: said to be ambiguous, and settled by the same object family in other runs', () => {
  const role = (name: string, uid: string) => obj(name, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false, namespace: undefined, uid });
  // Run 003: the role is seen 8 ms into B, A having ended 10 ms before: either could have made it.
  const boundary = role('tenant-reader-x7k2q', 'u1');
  const [atBoundary] = attribute([boundary], [created(boundary, 1018)], exact);
  assert.equal(atBoundary!.createdBy, 'S :: B');
  assert.equal(atBoundary!.ambiguousWith, 'S :: A');
  // Well inside a spec: not ambiguous.
  const clear = role('tenant-reader-b9zzm', 'u2');
  const [inside] = attribute([clear], [created(clear, 500)], exact);
  assert.equal(inside!.ambiguousWith, undefined);

  // Two other runs attribute the same family (generated suffix aside) to A without doubt.
  const other = (uid: string, name: string, run: string) => ({ ...inside!, uid, name, runs: [run] });
  const settled = settleAmbiguous([[atBoundary!], [other('u3', 'tenant-reader-mm4tq', '004')], [other('u4', 'tenant-reader-2hv8w', '005')]]);
  assert.equal(settled[0]![0]!.createdBy, 'S :: A');
  assert.equal(settled[0]![0]!.ambiguousWith, 'S :: B');
  // Boundary sightings in other runs count too, half as much: two of them for A outweigh this one.
  const alsoBoundary = (uid: string, name: string) => ({ ...atBoundary!, uid, name, createdBy: 'S :: A', ambiguousWith: 'S :: C', candidates: ['S :: A', 'S :: C'] });
  assert.equal(settleAmbiguous([[atBoundary!], [alsoBoundary('u5', 'tenant-reader-q2w4z')], [alsoBoundary('u6', 'tenant-reader-z7z7z')]])[0]![0]!.createdBy, 'S :: A');
  // A different family is not swayed.
  const unrelated = { ...atBoundary!, kind: 'Role', name: 'tenant-reader-x7k2q' };
  assert.equal(settleAmbiguous([[unrelated], [other('u3', 'tenant-reader-mm4tq', '004')]])[0]![0]!.createdBy, 'S :: B');
});


test('measured lag: a creation seen after its spec ended, in the next one, is probably the earlier spec, with both named', () => {
  const o = obj('o');
  // The watch lagged 5 to 12 ms: seen at 14, made in [0, 14], most likely around 9.
  const [l] = attribute([o], [...lagSamples(5, 12), created(o, 14)], short);
  assert.equal(l!.createdBy, 'S :: A');
  assert.deepEqual(l!.candidates, ['S :: A', 'S :: B']);
  assert.equal(l!.ambiguousWith, 'S :: B');
  assert.equal(l!.attribution, 'approximate');
  assert.equal(l!.evidence, 'watch');
  assert.equal(describeCreator(l!, testName), 'probably A (or B)');
});

test('measured lag: well inside a spec, or bounded below by a probe, the creation is exact', () => {
  const inside = obj('inside'), bounded = obj('bounded');
  // Seen at 30 with a lag of at most 12: made in [16, 30], inside B only.
  // Seen at 16, but a probe sent at 12 still saw an older version: made in [12, 16], inside B only.
  const leaks = attribute([inside, bounded], [...lagSamples(5, 12), created(inside, 30), created(bounded, 16, { notBefore: T0 + 12 })], short);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution, l.candidates]), [
    ['inside', 'S :: B', 'exact', undefined],
    ['bounded', 'S :: B', 'exact', undefined],
  ]);
  assert.equal(describeCreator(leaks[0]!, testName), 'B');
});

test('a namespace seen at a spec boundary is narrowed by what was made inside it; its contents belong to its maker', () => {
  const ns = obj('tenant-x', { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, namespace: undefined, uid: 'u-ns' });
  const cm = obj('tenant-config', { namespace: 'tenant-x', uid: 'u-cm' });
  const rb = obj('reader', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', resource: 'rolebindings', namespace: 'tenant-x', uid: 'u-rb' });
  // The namespace is seen at 12 (made in [0, 12]: A or B); the config map at 25 (made in [13, 25]: B only).
  const timeline = [...lagSamples(5, 12), created(ns, 12), created(cm, 25), created(rb, 45)];
  const leaks = attribute([ns, cm, rb], timeline, short);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution, l.evidence, l.candidates]), [
    ['tenant-x', 'S :: B', 'exact', 'watch', undefined],
    ['tenant-config', 'S :: B', 'exact', 'namespace', undefined],
    // Seen in C's window, yet inside B's namespace: B's.
    ['reader', 'S :: B', 'exact', 'namespace', undefined],
  ]);
});

test('a namespace made in BeforeSuite does not claim its contents: each is its own spec\'s', () => {
  const suite = run([kase('[BeforeSuite]', -500, -100), kase('A', 0, 10), kase('B', 11, 40), kase('C', 41, 2000)]);
  const ns = obj('shared', { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, namespace: undefined, uid: 'u-ns' });
  const a = obj('a', { namespace: 'shared' }), b = obj('b', { namespace: 'shared' });
  const leaks = attribute([ns, a, b], [...lagSamples(1, 3), created(ns, -300), created(a, 5), created(b, 20)], suite);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.evidence]), [
    ['shared', 'S :: [BeforeSuite]', 'watch'],
    ['a', 'S :: A', 'watch'],
    ['b', 'S :: B', 'watch'],
  ]);
});

test('settling never names a test outside the run\'s own candidates', () => {
  const guess: LeakReport = {
    apiVersion: 'v1', kind: 'ConfigMap', namespace: 'd', name: 'x', uid: '1', terminating: false, finalizers: [], runs: ['000'],
    createdBy: 'S :: B', candidates: ['S :: B', 'S :: C'], ambiguousWith: 'S :: C', attribution: 'approximate', evidence: 'watch',
  };
  const others = ['001', '002', '003'].map((r, i) => ({ ...guess, uid: `o${i}`, runs: [r], createdBy: 'S :: A', candidates: undefined, ambiguousWith: undefined, attribution: 'exact' as const }));
  const [[settled]] = settleAmbiguous([[guess], others]) as [[LeakReport]];
  assert.equal(settled.createdBy, 'S :: B');
  const [[toC]] = settleAmbiguous([[guess], others.map((o) => ({ ...o, createdBy: 'S :: C' }))]) as [[LeakReport]];
  assert.equal(toC.createdBy, 'S :: C');
  assert.deepEqual(toC.candidates, ['S :: C', 'S :: B']);
});

test('the summary counts exact, namespace, owner, fallback, guessed and unknown attributions, and the measured lag', () => {
  const ns = obj('tenant', { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, namespace: undefined, uid: 'u-ns' });
  const inNs = obj('in', { namespace: 'tenant', uid: 'u-in' });
  const guessed = obj('guessed', { uid: 'u-g' });
  const missed = obj('missed', { uid: 'u-m', creationTimestamp: new Date(T0 + 1000).toISOString() });
  const nobody = obj('nobody', { uid: 'u-n' });
  const child = obj('child', { uid: 'u-c', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'guessed', uid: 'u-g' }] });
  const timeline = [...lagSamples(5, 12), created(ns, 30), created(inNs, 35), created(guessed, 16), created(child, 500)];
  const leaks = attribute([ns, inNs, guessed, missed, nobody, child], timeline, short);
  assert.deepEqual(summarizeAttribution(leaks, [timeline]), {
    objects: 6, exact: 1, byNamespace: 1, byOwner: 1, fellBack: 1, guessed: 2, unknown: 1,
    lagMs: { samples: 29, median: 12, max: 12 },
  });
  assert.match(describeCreator(leaks[3]!, testName), /from its creation time only/);
});

test('the order of changes settles a creation between two of the same spec: a cluster role made between its spec\'s config map and binding', () => {
  const role = obj('tenant-reader-x7k2q', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false, namespace: undefined, uid: 'u-role' });
  const cm = obj('cm', { namespace: 'default', uid: 'u-cm' });
  const later = obj('later', { namespace: 'default', uid: 'u-later' });
  // cm (rv 99) and the binding (rv 102) are B's by time; the role (rv 101) is seen 3 ms into C.
  const timeline = [
    ...lagSamples(5, 12),
    created(cm, 30, { resourceVersion: '99' }),
    created(role, 44, { resourceVersion: '101' }),
    { at: T0 + 35, verb: 'created' as const, object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: 'default', name: 'rb', uid: 'u-rb' }, resourceVersion: '102' },
    // Made after a change placed in C: cannot be B's, even though seen at C's start.
    created(later, 47, { resourceVersion: '104' }),
    { at: T0 + 1000, verb: 'created' as const, object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c-anchor', uid: 'u-anchor' }, resourceVersion: '103' },
  ];
  const leaks = attribute([role, cm, later], timeline, short);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution, l.candidates]), [
    ['tenant-reader-x7k2q', 'S :: B', 'exact', undefined],
    ['cm', 'S :: B', 'exact', undefined],
    ['later', 'S :: C', 'exact', undefined],
  ]);
  // Without resource versions the role stays a guess between B and C.
  const [guess] = attribute([role], timeline.map((e) => (e.verb === 'lag' ? e : { ...e, resourceVersion: undefined })), short);
  assert.deepEqual(guess!.candidates?.slice().sort(), ['S :: B', 'S :: C']);
});

test('probe bounds hold over the lag measured on other changes: a change seen 50 ms late is placed by them', () => {
  const o = obj('late-seen');
  // Lag samples say 5-12 ms, but this change was seen at 80: probes put it in [12, 25], inside B.
  const [l] = attribute([o], [...lagSamples(5, 12), created(o, 80, { notBefore: T0 + 12, notAfter: T0 + 25 })], short);
  assert.deepEqual([l!.createdBy, l!.attribution, l!.candidates], ['S :: B', 'exact', undefined]);
});

test('a namespace that BeforeSuite may have made (seen as the first spec began) claims nothing: its contents go by their own evidence', () => {
  const suite = run([kase('[BeforeSuite]', -500, -1), kase('A', 0, 10), kase('B', 11, 40), kase('C', 41, 2000)]);
  const ns = obj('shared', { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, namespace: undefined, uid: 'u-ns' });
  const b = obj('b', { namespace: 'shared' });
  // The namespace is seen at 3: made in [-9, 3], by BeforeSuite or A.
  const leaks = attribute([ns, b], [...lagSamples(5, 12), created(ns, 3), created(b, 30)], suite);
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.evidence]), [
    ['shared', 'S :: [BeforeSuite]', 'watch'],
    ['b', 'S :: B', 'watch'],
  ]);
  assert.deepEqual(leaks[0]!.candidates, ['S :: [BeforeSuite]', 'S :: A']);
});

test('across runs, the spec every run lists as a candidate wins even where each run\'s likeliest was another', () => {
  const guess = (run: string, uid: string, createdBy: string, other: string): LeakReport => ({
    apiVersion: 'v1', kind: 'Namespace', namespace: '', name: `tenant-${uid}`, uid, terminating: false, finalizers: [], runs: [run],
    createdBy: `S :: ${createdBy}`, candidates: [`S :: ${createdBy}`, `S :: ${other}`], ambiguousWith: `S :: ${other}`, attribution: 'approximate', evidence: 'watch',
  });
  // The tenancy spec T is a candidate in every run; its random neighbours differ from run to run.
  const settled = settleAmbiguous([[guess('000', 'b2c4d', 'X', 'T')], [guess('001', 'f5g6h', 'Y', 'T')], [guess('002', 'j7k8l', 'T', 'Z')]]);
  assert.deepEqual(settled.map((r) => r[0]!.createdBy), ['S :: T', 'S :: T', 'S :: T']);
  assert.deepEqual(settled[0]![0]!.candidates, ['S :: T', 'S :: X']);
});
