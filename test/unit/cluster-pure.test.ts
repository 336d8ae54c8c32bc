// Discovery documents, snapshot items and noise rules, on plain data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionPath, fromAggregated, objectPath, typeName } from '../../src/cluster/discovery.ts';
import { toSnapshotObject } from '../../src/cluster/snapshot.ts';
import { DEFAULT_NOISE_RULES, matchNoise, parseIgnoreRule } from '../../src/cluster/noise.ts';
import type { SnapshotObject } from '../../src/model.ts';

function obj(p: Partial<SnapshotObject> & { kind: string; name: string }): SnapshotObject {
  return { apiVersion: 'v1', resource: p.kind.toLowerCase() + 's', namespaced: true, uid: `uid-${p.name}`, ...p };
}

test('aggregated discovery keeps the preferred version, listable types, no subresources', () => {
  const d = fromAggregated([
    {
      metadata: { name: '' },
      versions: [
        {
          version: 'v1',
          resources: [
            { resource: 'configmaps', scope: 'Namespaced', verbs: ['list', 'watch', 'delete'], responseKind: { kind: 'ConfigMap' } },
            { resource: 'pods/status', scope: 'Namespaced', verbs: ['get', 'list'], responseKind: { kind: 'Pod' } },
            { resource: 'bindings', scope: 'Namespaced', verbs: ['create'], responseKind: { kind: 'Binding' } },
            { resource: 'componentstatuses', scope: 'Cluster', verbs: ['get', 'list'], responseKind: { kind: 'ComponentStatus' } },
            { resource: 'namespaces', scope: 'Cluster', verbs: ['list', 'watch'], responseKind: { kind: 'Namespace' } },
          ],
        },
      ],
    },
    {
      metadata: { name: 'example.com' },
      versions: [
        { version: 'v2', resources: [{ resource: 'widgets', scope: 'Namespaced', verbs: ['list'], responseKind: { kind: 'Widget' } }] },
        { version: 'v1', resources: [{ resource: 'widgets', scope: 'Namespaced', verbs: ['list'], responseKind: { kind: 'Widget' } }] },
      ],
    },
    { metadata: { name: 'metrics.k8s.io' }, versions: [{ version: 'v1beta1', freshness: 'Stale', resources: [] }] },
  ]);
  assert.deepEqual(d.types.map(typeName), ['configmaps', 'namespaces', 'widgets.example.com']);
  assert.equal(d.types[2]!.version, 'v2');
  assert.equal(d.types[1]!.namespaced, false);
  assert.equal(d.errors.length, 1);
  assert.match(d.errors[0]!.resource, /metrics\.k8s\.io\/v1beta1/);
});

test('paths of collections and objects for core, groups, namespaced and cluster-scoped', () => {
  assert.equal(collectionPath({ group: '', version: 'v1', resource: 'configmaps' }), '/api/v1/configmaps');
  assert.equal(collectionPath({ group: 'apps', version: 'v1', resource: 'deployments' }, 'ns'), '/apis/apps/v1/namespaces/ns/deployments');
  assert.equal(objectPath({ apiVersion: 'v1', resource: 'namespaces', name: 'a' }), '/api/v1/namespaces/a');
  assert.equal(objectPath({ apiVersion: 'example.com/v1', resource: 'widgets', namespace: 'n', name: 'w 1' }), '/apis/example.com/v1/namespaces/n/widgets/w%201');
});

test('a listed item becomes a slim snapshot object; one without uid is dropped', () => {
  const t = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, verbs: [] };
  const o = toSnapshotObject(t, {
    name: 'd',
    namespace: 'n',
    uid: 'u1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    finalizers: [],
    labels: {},
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u0', controller: true }],
  });
  assert.deepEqual(o, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'd',
    namespace: 'n',
    uid: 'u1',
    resource: 'deployments',
    namespaced: true,
    creationTimestamp: '2026-01-01T00:00:00Z',
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u0', controller: true }],
  });
  assert.equal(toSnapshotObject(t, { name: 'no-uid' }), undefined);
});

test('default noise rules: events, leases, default service account, root CA, default service endpoints', () => {
  const noise = (o: SnapshotObject) => matchNoise(o, DEFAULT_NOISE_RULES)?.id;
  assert.equal(noise(obj({ kind: 'Event', name: 'e', namespace: 'x' })), 'events');
  assert.equal(noise(obj({ apiVersion: 'events.k8s.io/v1', kind: 'Event', name: 'e', namespace: 'x' })), 'events');
  assert.equal(noise(obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'l', namespace: 'kube-node-lease' })), 'leases');
  assert.equal(noise(obj({ kind: 'ServiceAccount', name: 'default', namespace: 'test-1' })), 'default-service-account');
  assert.equal(noise(obj({ kind: 'ConfigMap', name: 'kube-root-ca.crt', namespace: 'test-1' })), 'root-ca-configmap');
  assert.equal(noise(obj({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', resource: 'endpointslices', name: 'kubernetes', namespace: 'default' })), 'default-service-endpoints');
  // What a test makes is not noise.
  assert.equal(noise(obj({ kind: 'ServiceAccount', name: 'builder', namespace: 'test-1' })), undefined);
  assert.equal(noise(obj({ kind: 'ConfigMap', name: 'settings', namespace: 'default' })), undefined);
  assert.equal(noise(obj({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', resource: 'endpointslices', name: 'web-abcde', namespace: 'default' })), undefined);
  for (const r of DEFAULT_NOISE_RULES) assert.ok(r.why.length > 20, `rule ${r.id} says why`);
});

test('the APIService the API server registers for a CRD is noise; one a test makes is not', () => {
  const noise = (o: SnapshotObject) => matchNoise(o, DEFAULT_NOISE_RULES)?.id;
  const apiService = (labels?: Record<string, string>) =>
    obj({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', resource: 'apiservices', name: 'v1alpha1.cache.kubeflake.dev', ...(labels ? { labels } : {}) });
  assert.equal(noise(apiService({ 'kube-aggregator.kubernetes.io/automanaged': 'true' })), 'automanaged-apiservices');
  assert.equal(noise(apiService()), undefined);
});

test('user ignore rules: type forms, namespace/name globs, labels; bad rules are explained', () => {
  const cm = obj({ kind: 'ConfigMap', name: 'cache-1', namespace: 'ci-7', labels: { team: 'a' } });
  assert.ok(matchNoise(cm, [parseIgnoreRule('configmaps ci-*/cache-?')]));
  assert.ok(matchNoise(cm, [parseIgnoreRule('ConfigMap')]));
  assert.ok(matchNoise(cm, [parseIgnoreRule('* ci-7/*')]));
  assert.ok(matchNoise(cm, [parseIgnoreRule('configmaps cache-* team=a')]));
  assert.ok(matchNoise(cm, [parseIgnoreRule('configmaps * team=*')]));
  assert.equal(matchNoise(cm, [parseIgnoreRule('configmaps cache-* team=b')]), undefined);
  assert.equal(matchNoise(cm, [parseIgnoreRule('secrets')]), undefined);
  assert.equal(matchNoise(cm, [parseIgnoreRule('configmaps other/*')]), undefined);
  const w = obj({ apiVersion: 'example.com/v1', kind: 'Widget', resource: 'widgets', name: 'w', namespace: 'n' });
  assert.ok(matchNoise(w, [parseIgnoreRule('widgets.example.com')]));
  assert.ok(matchNoise(w, [parseIgnoreRule('Widget.example.com n/w')]));
  assert.equal(matchNoise(w, [parseIgnoreRule('widgets.other.io')]), undefined);
  assert.throws(() => parseIgnoreRule('a b c d'), /TYPE \[\[NAMESPACE\/\]NAME\]/);
  assert.throws(() => parseIgnoreRule('configmaps x nolabel'), /not KEY=VALUE/);
});

test('watch events become timeline events: created with owners, terminating once, deleted', async () => {
  const { toTimelineEvent } = await import('../../src/cluster/watch.ts');
  const t = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list', 'watch'] };
  const seen = new Set<string>();
  const meta = { name: 'w', namespace: 'n', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'o' }] };
  assert.deepEqual(toTimelineEvent(t, { type: 'ADDED', object: { metadata: meta } }, 5, seen), {
    at: 5,
    verb: 'created',
    object: { apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'n', name: 'w', uid: 'u', resource: 'widgets' },
    createdAt: '2026-01-01T00:00:00Z',
    ownerUids: ['o'],
  });
  assert.equal(toTimelineEvent(t, { type: 'MODIFIED', object: { metadata: meta } }, 6, seen), undefined);
  const dying = { ...meta, deletionTimestamp: '2026-01-01T00:00:01Z', finalizers: ['f'] };
  assert.equal(toTimelineEvent(t, { type: 'MODIFIED', object: { metadata: dying } }, 7, seen)?.verb, 'terminating');
  assert.equal(toTimelineEvent(t, { type: 'MODIFIED', object: { metadata: dying } }, 8, seen), undefined);
  assert.equal(toTimelineEvent(t, { type: 'DELETED', object: { metadata: dying } }, 9, seen)?.verb, 'deleted');
  assert.equal(toTimelineEvent(t, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }, 10, seen), undefined);
});

test('a timeline file reads back, skipping a line cut short', async () => {
  const { readTimeline } = await import('../../src/results.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'kf-timeline-'));
  const file = join(dir, 'timeline.jsonl');
  const e = { at: 1, verb: 'created', object: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'u' } };
  writeFileSync(file, JSON.stringify(e) + '\n' + JSON.stringify(e).slice(0, 20));
  assert.deepEqual(await readTimeline(file), { entries: [e], skipped: 1 });
  rmSync(dir, { recursive: true });
});

test('cleanup reports of several runs merge into one, errors kept', async () => {
  const { mergeCleanupReports } = await import('../../src/cluster/cleanup.ts');
  const act = (name: string, run: string) => ({ object: { apiVersion: 'v1', kind: 'ConfigMap', name }, run });
  const m = mergeCleanupReports([
    { dryRun: false, deleted: [act('a', '000')], finalizersRemoved: [], left: [] },
    { dryRun: false, deleted: [act('b', '001')], finalizersRemoved: [act('c', '001')], left: [{ ...act('d', '001'), why: 'x' }], errors: ['boom'] },
  ]);
  assert.deepEqual(m.deleted.map((a) => a.object.name), ['a', 'b']);
  assert.equal(m.finalizersRemoved.length, 1);
  assert.equal(m.left[0]!.why, 'x');
  assert.deepEqual(m.errors, ['boom']);
});
