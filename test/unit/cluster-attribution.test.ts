// attribute / attributeDeleted / mergeLeaks on plain runs and timelines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attribute, attributeDeleted, mergeLeaks, settleAmbiguous, specAt, specWindows } from '../../src/cluster/attribution.ts';
import type { RunResult, SnapshotObject, TestCase, TimelineEvent } from '../../src/model.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
function kase(name: string, start: number | undefined, end: number | undefined, durationMs = 0): TestCase {
  const c: TestCase = { id: `S :: ${name}`, name, suite: 'S', status: 'passed', durationMs };
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

test('exact: each object goes to the spec whose window holds its creation', () => {
  const a = obj('a'), b = obj('b'), c = obj('c');
  const leaks = attribute([a, b, c], [created(a, 500), created(b, 2000), created(c, 4999)], exact);
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
  const createdAt = new Date(T0 + 1000).toISOString(); // second [1000, 2000) ends before B starts
  assert.equal(specAt(w, T0 + 2010, createdAt, 2000)?.test, 'S :: A');
  assert.equal(specAt(w, T0 + 2010, undefined, 2000)?.test, 'S :: B');
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
  const [l] = attribute([o], [created(o, 2500)], exact);
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
  const alsoBoundary = (uid: string, name: string) => ({ ...atBoundary!, uid, name, createdBy: 'S :: A', ambiguousWith: 'S :: C' });
  assert.equal(settleAmbiguous([[atBoundary!], [alsoBoundary('u5', 'tenant-reader-q2w4z')], [alsoBoundary('u6', 'tenant-reader-z7z7z')]])[0]![0]!.createdBy, 'S :: A');
  // A different family is not swayed.
  const unrelated = { ...atBoundary!, kind: 'Role', name: 'tenant-reader-x7k2q' };
  assert.equal(settleAmbiguous([[unrelated], [other('u3', 'tenant-reader-mm4tq', '004')]])[0]![0]!.createdBy, 'S :: B');
});
