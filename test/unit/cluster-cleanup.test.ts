// planCleanup on plain snapshots, and executeCleanup against the in-memory fake API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dryRunReport, executeCleanup, formatCleanupPlan, mayTouch, Outage, planCleanup } from '../../src/cluster/cleanup.ts';
import { ApiUnreachableError } from '../../src/cluster/kube.ts';
import { takeSnapshot } from '../../src/cluster/snapshot.ts';
import type { Snapshot, SnapshotObject } from '../../src/model.ts';
import { FakeCluster, types } from './cluster-fake.ts';

const server = 'https://127.0.0.1:6443';
const T = Date.parse('2026-03-01T10:00:00Z');
function obj(p: Partial<SnapshotObject> & { kind: string; name: string }): SnapshotObject {
  const cluster = p.kind === 'Namespace' || p.kind === 'CustomResourceDefinition' || p.kind === 'ClusterRole';
  const resource = p.kind === 'Namespace' ? 'namespaces' : p.kind.toLowerCase() + 's';
  return { apiVersion: 'v1', resource, namespaced: !cluster, uid: `uid-${p.namespace ?? ''}-${p.name}`, creationTimestamp: new Date(T + 1000).toISOString(), ...p };
}
function snap(objects: SnapshotObject[], errors: Snapshot['errors'] = []): Snapshot {
  return { takenAt: T, server, objects, errors, complete: errors.length === 0 };
}

const preexisting = [
  obj({ kind: 'Namespace', name: 'default', creationTimestamp: '2020-01-01T00:00:00Z' }),
  obj({ kind: 'Namespace', name: 'kube-system', creationTimestamp: '2020-01-01T00:00:00Z' }),
  obj({ kind: 'ConfigMap', namespace: 'default', name: 'shared', creationTimestamp: '2020-01-01T00:00:00Z' }),
  obj({ kind: 'ConfigMap', namespace: 'other', name: 'leaky', creationTimestamp: '2020-01-01T00:00:00Z' }),
];

test('the plan deletes only run-created objects, namespaces last, contents and dependents cascade', () => {
  const ns = obj({ kind: 'Namespace', name: 'test-1' });
  const inNs = obj({ kind: 'Secret', namespace: 'test-1', name: 's' });
  const leak = obj({ kind: 'ConfigMap', namespace: 'default', name: 'leaky' }); // same name as a pre-existing one elsewhere
  const crd = obj({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', resource: 'customresourcedefinitions', name: 'widgets.example.com' });
  const role = obj({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', resource: 'clusterroles', name: 'r' });
  const owner = obj({ kind: 'ConfigMap', namespace: 'default', name: 'owner' });
  const dep = obj({ kind: 'Secret', namespace: 'default', name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.uid }] });
  const halfOwned = obj({ kind: 'Secret', namespace: 'default', name: 'half', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'shared', uid: preexisting[2]!.uid }] });
  const plan = planCleanup(snap(preexisting), snap([...preexisting, ns, inNs, leak, crd, role, owner, dep, halfOwned]), { run: '002' });
  assert.deepEqual(plan.deletes.map((a) => a.object.name), ['leaky', 'owner', 'half', 'r', 'widgets.example.com', 'test-1']);
  assert.deepEqual(plan.cascaded.map((a) => [a.object.name, a.reason]), [
    ['s', 'deleted with namespace test-1, created during run 002'],
    ['dep', 'garbage-collected with its owner v1 ConfigMap default/owner'],
  ]);
  assert.deepEqual(plan.left, []);
  for (const a of [...plan.deletes, ...plan.cascaded]) assert.ok(!preexisting.some((p) => p.uid === a.object.uid));
});

test('protected namespaces, their objects and the default namespace own objects are left, with why', () => {
  const sys = obj({ kind: 'ConfigMap', namespace: 'kube-system', name: 'x' });
  const mine = obj({ kind: 'ConfigMap', namespace: 'team-shared', name: 'y' });
  const teamNs = obj({ kind: 'Namespace', name: 'team-shared' });
  const svc = obj({ kind: 'Service', namespace: 'default', name: 'kubernetes' });
  // No noise rules: the control plane's own objects are protected by name, not only as noise.
  const plan = planCleanup(snap(preexisting), snap([...preexisting, sys, mine, teamNs, svc]), { run: '000', protectedNamespaces: ['team-shared'], rules: [] });
  assert.deepEqual(plan.deletes, []);
  assert.deepEqual(plan.left.map((l) => [l.object.name, l.why]), [
    ['x', 'in protected namespace kube-system'],
    ['y', 'in protected namespace team-shared'],
    ['team-shared', 'namespace team-shared is protected'],
    ['kubernetes', 'default/kubernetes belongs to the control plane'],
  ]);
});

test('nothing is touched when the baseline cannot prove an object new', () => {
  const sec = obj({ kind: 'Secret', namespace: 'default', name: 's' });
  const old = obj({ kind: 'ConfigMap', namespace: 'default', name: 'old', creationTimestamp: '2020-01-01T00:00:00Z' });
  const p1 = planCleanup(snap(preexisting, [{ resource: 'secrets', message: 'forbidden' }]), snap([...preexisting, sec, old]), { run: '0' });
  assert.deepEqual(p1.deletes, []);
  assert.match(p1.left[0]!.why, /baseline could not list secrets/);
  assert.match(p1.left[1]!.why, /before the baseline was taken/);
  const p2 = planCleanup(snap([], [{ resource: '*', message: 'discovery failed' }]), snap([sec]), { run: '0' });
  assert.deepEqual(p2.deletes, []);
  assert.match(p2.left[0]!.why, /listed nothing/);
  const p3 = planCleanup(snap([]), { ...snap([sec]), server: 'https://elsewhere' }, { run: '0' });
  assert.deepEqual(p3.deletes, []);
  assert.match(p3.left[0]!.why, /elsewhere/);
});

test('an object a test deleted and created again under the same name is left alone', () => {
  const again = { ...preexisting[2]!, uid: 'recreated', creationTimestamp: new Date(T + 5000).toISOString() };
  const plan = planCleanup(snap(preexisting), snap([preexisting[0]!, preexisting[1]!, preexisting[3]!, again]), { run: '0' });
  assert.deepEqual(plan.deletes, []);
  assert.match(plan.left[0]!.why, /created it again/);
});

function seeded(): FakeCluster {
  const f = new FakeCluster(Object.values(types));
  f.add(types.namespaces, { name: 'default', uid: 'ns-default' });
  f.add(types.namespaces, { name: 'kube-system', uid: 'ns-kube-system' });
  f.add(types.configmaps, { name: 'shared', namespace: 'default', uid: 'cm-shared' });
  f.add(types.configmaps, { name: 'x', namespace: 'kube-system', uid: 'cm-sys' });
  return f;
}

test('execute: deletes by uid, waits until gone, reports deleted; baseline objects untouched', async () => {
  const f = seeded();
  const baseline = await takeSnapshot(f);
  f.add(types.namespaces, { name: 't1', uid: 'ns-t1' });
  f.add(types.secrets, { name: 's', namespace: 't1', uid: 'sec-t1' });
  f.add(types.configmaps, { name: 'leak', namespace: 'default', uid: 'cm-leak' });
  f.add(types.configmaps, { name: 'y', namespace: 'kube-system', uid: 'cm-sys-new' });
  const after = await takeSnapshot(f);
  const plan = planCleanup(baseline, after, { run: '001', graceMs: 2000 });
  f.requests = [];
  const report = await executeCleanup(f, plan, { pollMs: 5 });
  assert.deepEqual(report.deleted.map((a) => a.object.name).sort(), ['leak', 's', 't1']);
  assert.deepEqual(report.left.map((a) => a.object.name), ['y']);
  assert.deepEqual(f.writes().map((r) => `${r.method} ${r.path}`), ['DELETE /api/v1/namespaces/default/configmaps/leak', 'DELETE /api/v1/namespaces/t1']);
  assert.deepEqual((f.requests.find((r) => r.method === 'DELETE')!.body as { preconditions: unknown }).preconditions, { uid: 'cm-leak' });
  assert.deepEqual(f.objects.map((o) => o.metadata.uid).sort(), ['cm-shared', 'cm-sys', 'cm-sys-new', 'ns-default', 'ns-kube-system']);
});

test('execute: a same-name replacement made after the snapshot is not deleted (uid precondition)', async () => {
  const f = seeded();
  const baseline = await takeSnapshot(f);
  f.add(types.configmaps, { name: 'leak', namespace: 'default', uid: 'first' });
  const plan = planCleanup(baseline, await takeSnapshot(f), { run: '0', graceMs: 100 });
  f.find('first')!.metadata.uid = 'second';
  const report = await executeCleanup(f, plan, { pollMs: 5 });
  assert.equal(f.find('second')?.metadata.name, 'leak');
  assert.match(report.left[0]!.why, /replaced by another object of the same name/);
});

test('execute: stuck finalizers stay without the option, are removed with it, and each act is listed', async () => {
  for (const removeFinalizers of [false, true]) {
    const f = seeded();
    const baseline = await takeSnapshot(f);
    f.add(types.namespaces, { name: 't2', uid: 'ns-t2' });
    f.add(types.widgets, { name: 'w', namespace: 't2', uid: 'w-1', finalizers: ['example.com/hold'] });
    f.add(types.widgets, { name: 'v', namespace: 'default', uid: 'w-2', finalizers: ['example.com/hold'] });
    f.add(types.widgets, { name: 'old', namespace: 'default', uid: 'w-base-stuck', finalizers: ['example.com/hold'], deletionTimestamp: 'x' });
    const b2 = { ...baseline, objects: [...baseline.objects, ...(await takeSnapshot(f)).objects.filter((o) => o.uid === 'w-base-stuck')] };
    const plan = planCleanup(b2, await takeSnapshot(f), { run: '004', graceMs: 60, removeFinalizers });
    const report = await executeCleanup(f, plan, { pollMs: 5 });
    assert.ok(f.find('w-base-stuck'), 'a baseline object is never unstuck');
    if (!removeFinalizers) {
      assert.deepEqual(report.finalizersRemoved, []);
      assert.deepEqual(report.left.map((l) => l.object.name).sort(), ['t2', 'v', 'w']);
      assert.match(report.left.find((l) => l.object.name === 'v')!.why, /terminating.*example\.com\/hold/);
      assert.ok(f.find('w-2'));
    } else {
      assert.deepEqual(report.finalizersRemoved.map((a) => a.object.name).sort(), ['v', 'w']);
      assert.deepEqual(report.left, []);
      assert.deepEqual(report.deleted.map((a) => a.object.name).sort(), ['t2', 'v', 'w']);
      assert.equal(f.find('w-2'), undefined);
      const patch = f.requests.find((r) => r.method === 'PATCH')!.body as { op: string; value?: string }[];
      assert.deepEqual(patch[0], { op: 'test', path: '/metadata/uid', value: patch[0]!.value });
    }
  }
});

test('dry-run makes no request at all and lists exactly what would be done', async () => {
  const f = seeded();
  const baseline = await takeSnapshot(f);
  f.add(types.configmaps, { name: 'leak', namespace: 'default', uid: 'cm-leak' });
  f.add(types.widgets, { name: 'v', namespace: 'default', uid: 'w-2', finalizers: ['example.com/hold'], deletionTimestamp: 'x' });
  const plan = planCleanup(baseline, await takeSnapshot(f), { run: '0', dryRun: true, removeFinalizers: true });
  f.requests = [];
  const report = await executeCleanup(f, plan);
  assert.deepEqual(f.requests, []);
  assert.equal(report.dryRun, true);
  assert.deepEqual(report.deleted.map((a) => a.object.name), ['leak', 'v']);
  assert.deepEqual(report.finalizersRemoved.map((a) => a.object.name), ['v']);
  const lines = formatCleanupPlan(plan);
  assert.match(lines[0]!, /^would delete v1 ConfigMap default\/leak \(uid cm-leak\)/);
  assert.match(lines[1]!, /^would delete example.com\/v1 Widget default\/v .*already terminating/);
  assert.match(lines[2]!, /would remove the finalizers/);
});

test('the API server going away mid-cleanup: clear error, what was done is kept, the rest is left', async () => {
  const f = seeded();
  const baseline = await takeSnapshot(f);
  for (let i = 0; i < 6; i++) f.add(types.configmaps, { name: `c${i}`, namespace: 'default', uid: `c${i}` });
  const plan = planCleanup(baseline, await takeSnapshot(f), { run: '007' });
  f.requests = [];
  f.failAfter = 3;
  const report = await executeCleanup(f, plan, { concurrency: 1, pollMs: 5 });
  assert.match(report.errors![0]!, /cleanup stopped: the API server https:\/\/fake:6443 is unreachable \(ECONNREFUSED\)/);
  assert.deepEqual(report.deleted.map((a) => a.object.name), ['c0', 'c1', 'c2']);
  assert.equal(report.left.length, 3);
  assert.ok(report.left.every((l) => /^not attempted: the API server https:\/\/fake:6443 is unreachable/.test(l.why)));
});

test('execute pieces: a dry run reports every act without a request; protected objects are refused; an outage is remembered once', () => {
  const ns = obj({ kind: 'Namespace', name: 'test-9' });
  const stuck = obj({ kind: 'ConfigMap', namespace: 'default', name: 'stuck', deletionTimestamp: new Date(T).toISOString(), finalizers: ['x/y'] });
  const plan = planCleanup(snap(preexisting), snap([...preexisting, ns, stuck]), { run: '007', dryRun: true, removeFinalizers: true, graceMs: 5000 });
  const report = dryRunReport(plan);
  assert.deepEqual(report.deleted.map((a) => a.object.name), ['stuck', 'test-9']);
  assert.deepEqual(report.finalizersRemoved.map((a) => a.reason), ['would remove [x/y] if still terminating after 5 s']);
  assert.equal(report.dryRun, true);
  assert.equal(mayTouch(obj({ kind: 'ConfigMap', namespace: 'kube-system', name: 'x' }), ['kube-system']), false);
  assert.equal(mayTouch(obj({ kind: 'Namespace', name: 'default' }), []), false);
  assert.equal(mayTouch(stuck, ['kube-system']), true);
  const outage = new Outage();
  assert.equal(outage.absorbs(new Error('409 Conflict')), false);
  assert.equal(outage.happened, false);
  const first = new ApiUnreachableError('https://x', 'ECONNREFUSED', 'GET /api');
  assert.equal(outage.absorbs(first), true);
  assert.equal(outage.absorbs(new ApiUnreachableError('https://x', 'ECONNRESET', 'GET /apis')), true);
  assert.equal(outage.error, first);
});

test('execute: the wait for stuck objects ends on the injected clock, not the wall clock', async () => {
  const f = seeded();
  const baseline = await takeSnapshot(f);
  f.add(types.widgets, { name: 'held', namespace: 'default', uid: 'w-held', finalizers: ['example.com/hold'] });
  // A grace of an hour, but the clock moves ten minutes with every look.
  const plan = planCleanup(baseline, await takeSnapshot(f), { run: '008', graceMs: 3_600_000 });
  let clock = T;
  const started = Date.now();
  const report = await executeCleanup(f, plan, { pollMs: 1, now: () => (clock += 600_000) });
  assert.ok(Date.now() - started < 10_000);
  assert.match(report.left[0]!.why, /still present after 3600 s \(terminating\), held by finalizers \[example.com\/hold\]/);
});
