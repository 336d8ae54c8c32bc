// takeSnapshot against the in-memory fake: paging, every type, a partial result when the server goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotProblem, takeSnapshot } from '../../src/cluster/snapshot.ts';
import { FakeCluster, types } from './cluster-fake.ts';

function cluster(n: number): FakeCluster {
  const f = new FakeCluster(Object.values(types));
  for (let i = 0; i < n; i++) f.add(types.configmaps, { name: `c${String(i).padStart(4, '0')}`, namespace: 'default', uid: `c${i}` });
  f.add(types.namespaces, { name: 'default', uid: 'ns' });
  f.add(types.clusterwidgets, { name: 'cw', uid: 'cw' });
  return f;
}

test('lists every type, page by page, namespaced and cluster-scoped, sorted', async () => {
  const f = cluster(25);
  const s = await takeSnapshot(f, { pageSize: 10, concurrency: 2 });
  assert.equal(s.complete, true);
  assert.equal(s.objects.length, 27);
  assert.equal(f.requests.filter((r) => r.path.startsWith('/api/v1/configmaps?')).length, 3);
  assert.match(f.requests.find((r) => r.path.includes('continue='))!.path, /limit=10&continue=10/);
  assert.deepEqual(s.objects.map((o) => o.resource).filter((r, i, a) => a.indexOf(r) === i), ['clusterwidgets', 'configmaps', 'namespaces']);
  assert.equal(s.objects.find((o) => o.name === 'cw')!.apiVersion, 'example.com/v1');
  assert.equal(snapshotProblem(s), undefined);
});

test('the API server going away mid-snapshot: partial snapshot, clear error, gathered objects kept', async () => {
  const f = cluster(25);
  f.failAfter = 4; // discovery (2) + two pages
  const s = await takeSnapshot(f, { pageSize: 10, concurrency: 1 });
  assert.equal(s.complete, false);
  assert.match(s.errors[0]!.message, /the API server https:\/\/fake:6443 is unreachable \(ECONNREFUSED\).*listed 1 of 5 resource types.*partial/);
  assert.equal(s.objects.length, 1);
  assert.ok(s.errors.some((e) => e.resource === 'configmaps'));
  assert.match(snapshotProblem(s, 'runs/000/after.json')!, /^runs\/000\/after.json is partial: \*: the API server/);
});

test('discovery failing gives an empty partial snapshot that says so', async () => {
  const f = cluster(1);
  f.failAfter = 0;
  const s = await takeSnapshot(f);
  assert.equal(s.complete, false);
  assert.deepEqual(s.objects, []);
  assert.match(s.errors[0]!.message, /discovery failed, nothing was listed/);
});

test('a type the server sheds (429) is retried; one that keeps failing is a named error, the rest is listed', async () => {
  const { KubeApiError } = await import('../../src/cluster/kube.ts');
  const f = cluster(3);
  let throttled = 0;
  const request = f.request.bind(f);
  f.request = async <T>(method: Parameters<typeof f.request>[0], path: string, req?: Parameters<typeof f.request>[2]): Promise<T> => {
    if (path.startsWith('/api/v1/configmaps') && throttled++ < 2) throw new KubeApiError(429, 'TooManyRequests', path, 'too many requests');
    if (path.startsWith('/apis/example.com/v1/clusterwidgets')) throw new KubeApiError(403, 'Forbidden', path, 'clusterwidgets is forbidden');
    return request<T>(method, path, req);
  };
  const s = await takeSnapshot(f);
  assert.equal(s.objects.filter((o) => o.resource === 'configmaps').length, 3);
  assert.equal(s.complete, false);
  assert.deepEqual(s.errors.map((e) => e.resource), ['clusterwidgets.example.com']);
  assert.match(s.errors[0]!.message, /forbidden/);
});
