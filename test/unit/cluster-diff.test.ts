// diffSnapshots on plain snapshots: leaked, terminating, namespaces, deleted, replaced, unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSnapshots } from '../../src/cluster/diff.ts';
import { parseIgnoreRule, DEFAULT_NOISE_RULES } from '../../src/cluster/noise.ts';
import type { Snapshot, SnapshotObject } from '../../src/model.ts';

const server = 'https://127.0.0.1:6443';
function obj(p: Partial<SnapshotObject> & { kind: string; name: string }): SnapshotObject {
  const resource = p.kind === 'Namespace' ? 'namespaces' : p.kind.toLowerCase() + 's';
  return { apiVersion: 'v1', resource, namespaced: p.kind !== 'Namespace', uid: `uid-${p.namespace ?? ''}-${p.name}`, ...p };
}
function snap(objects: SnapshotObject[], errors: Snapshot['errors'] = []): Snapshot {
  return { takenAt: 0, server, objects, errors, complete: errors.length === 0 };
}

const shared = obj({ kind: 'ConfigMap', namespace: 'default', name: 'shared' });
const ns1 = obj({ kind: 'Namespace', name: 'kube-system' });

test('objects created during the run are leaked; a new namespace is listed with its contents, noise aside', () => {
  const ns = obj({ kind: 'Namespace', name: 'test-a' });
  const inNs = obj({ kind: 'Secret', namespace: 'test-a', name: 's' });
  const sa = obj({ kind: 'ServiceAccount', namespace: 'test-a', name: 'default' });
  const ca = obj({ kind: 'ConfigMap', namespace: 'test-a', name: 'kube-root-ca.crt' });
  const ev = obj({ kind: 'Event', namespace: 'test-a', name: 'e.1' });
  const leak = obj({ kind: 'ConfigMap', namespace: 'default', name: 'leak' });
  const d = diffSnapshots(snap([shared, ns1]), snap([shared, ns1, ns, inNs, sa, ca, ev, leak]));
  assert.deepEqual(d.leaked.map((o) => o.name).sort(), ['leak', 's', 'test-a']);
  assert.equal(d.namespaces.length, 1);
  assert.equal(d.namespaces[0]!.namespace.name, 'test-a');
  assert.deepEqual(d.namespaces[0]!.contents.map((o) => o.name), ['s']);
  assert.deepEqual(d.ignored, { 'default-service-account': 1, 'root-ca-configmap': 1, events: 1 });
  assert.deepEqual(d.deleted, []);
  assert.deepEqual(d.warnings, []);
});

test('stuck objects: run-created terminating ones and baseline objects the run began deleting', () => {
  const stuck = obj({ kind: 'ConfigMap', namespace: 'default', name: 'stuck', deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/hold'] });
  const before = obj({ kind: 'Secret', namespace: 'default', name: 'keep' });
  const wasAlready = obj({ kind: 'Secret', namespace: 'default', name: 'old', deletionTimestamp: 'x', finalizers: ['f'] });
  const d = diffSnapshots(snap([shared, before, wasAlready]), snap([shared, { ...before, deletionTimestamp: 'y', finalizers: ['f'] }, wasAlready, stuck]));
  assert.deepEqual(d.terminating.map((o) => o.name).sort(), ['keep', 'stuck']);
  assert.deepEqual(d.leaked.map((o) => o.name), ['stuck']);
});

test('baseline objects missing after the run are deleted; same name with a new uid is a replacement', () => {
  const gone = obj({ kind: 'ConfigMap', namespace: 'default', name: 'config' });
  const again = { ...gone, uid: 'new-uid' };
  const d = diffSnapshots(snap([shared, gone]), snap([shared, again]));
  assert.deepEqual(d.deleted.map((o) => o.uid), [gone.uid]);
  assert.deepEqual(d.leaked.map((o) => o.uid), ['new-uid']);
  assert.equal(d.replaced.length, 1);
  assert.equal(d.replaced[0]!.before.uid, gone.uid);
});

test('a type either snapshot failed to list is unknown, never leaked nor deleted', () => {
  const cm = obj({ kind: 'ConfigMap', namespace: 'default', name: 'c' });
  const sec = obj({ kind: 'Secret', namespace: 'default', name: 's' });
  const d1 = diffSnapshots(snap([shared], [{ resource: 'secrets', message: 'forbidden' }]), snap([shared, sec]));
  assert.deepEqual(d1.leaked, []);
  assert.deepEqual(d1.unknown, ['secrets']);
  assert.match(d1.warnings.join(), /baseline is partial/);
  const d2 = diffSnapshots(snap([shared, cm]), snap([], [{ resource: '*', message: 'discovery failed' }]));
  assert.deepEqual(d2.deleted, []);
  assert.deepEqual(d2.unknown, ['configmaps']);
});

test('user ignore rules drop matching objects; different servers are flagged', () => {
  const mine = obj({ kind: 'ConfigMap', namespace: 'monitoring', name: 'prom' });
  const d = diffSnapshots(snap([]), { ...snap([mine]), server: 'https://other:6443' }, [...DEFAULT_NOISE_RULES, parseIgnoreRule('* monitoring/*')]);
  assert.deepEqual(d.leaked, []);
  assert.equal(d.ignored['user: * monitoring/*'], 1);
  assert.match(d.warnings[0]!, /other:6443/);
});
