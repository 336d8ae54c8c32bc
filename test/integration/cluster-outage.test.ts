// The API server going away in the middle of a snapshot, a watch and a cleanup: each says so
// clearly, keeps what it gathered, and resolves (the pipeline still writes the run's results).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivateCluster } from '../support/cluster.ts';
import { connectKube, forEachBounded, type HttpMethod, type KubeApi, type KubeRequest } from '../../src/cluster/kube.ts';
import { snapshotProblem, takeSnapshot } from '../../src/cluster/snapshot.ts';
import { watchCluster } from '../../src/cluster/watch.ts';
import { executeCleanup, planCleanup } from '../../src/cluster/cleanup.ts';

/** Calls `onRequest(n)` before the n-th request, so a test can pull the plug at a chosen moment. */
class TrippingApi implements KubeApi {
  readonly inner: KubeApi;
  readonly server: string;
  count = 0;
  onRequest: (n: number, method: HttpMethod) => Promise<void> = async () => {};
  constructor(inner: KubeApi) {
    this.inner = inner;
    this.server = inner.server;
  }
  async request<T>(method: HttpMethod, path: string, req?: KubeRequest): Promise<T> {
    await this.onRequest(++this.count, method);
    return this.inner.request<T>(method, path, req);
  }
  watch(path: string, req: Parameters<KubeApi['watch']>[1]): Promise<void> {
    return this.inner.watch(path, req);
  }
  close(): void {
    this.inner.close();
  }
}

async function seed(api: KubeApi, prefix: string, n: number): Promise<void> {
  await api.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: prefix } } });
  await forEachBounded(Array.from({ length: n }, (_, i) => i), 16, async (i) => {
    await api.request('POST', `/api/v1/namespaces/${prefix}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${i}` } } });
  });
}

test('the API server stopping mid-snapshot gives a partial snapshot with a clear error; the watch keeps its events', async () => {
  const cluster = await startPrivateCluster();
  const inner = await connectKube(cluster.kubeconfigPath);
  const api = new TrippingApi(inner);
  const watch = await watchCluster(inner);
  try {
    await seed(inner, 'kf-outage', 50);
    let stopped = false;
    api.onRequest = async (n) => {
      // Discovery and a handful of lists succeed, then the control plane goes away.
      if (n === 12 && !stopped) {
        stopped = true;
        await cluster.stop();
      }
    };
    const snapshot = await takeSnapshot(api, { concurrency: 2 });
    assert.equal(stopped, true);
    assert.equal(snapshot.complete, false);
    assert.ok(snapshot.objects.length > 0, 'objects listed before the outage are kept');
    assert.match(snapshot.errors[0]!.message, new RegExp(`the API server ${cluster.server.replace(/\./g, '\\.')} is unreachable \\((ECONNREFUSED|ECONNRESET)\\).*listed \\d+ of \\d+ resource types.*partial`));
    assert.match(snapshotProblem(snapshot, 'runs/000/after.json')!, /after\.json is partial/);
    assert.doesNotThrow(() => JSON.stringify(snapshot));
    const events = await watch.stop();
    assert.equal(events.filter((e) => e.verb === 'created' && e.object.namespace === 'kf-outage' && e.object.name.startsWith('kf-outage-')).length, 50);
    assert.ok(watch.problems.some((p) => /unreachable|ECONNREFUSED|ECONNRESET/.test(p)), watch.problems.join('\n'));
  } finally {
    await watch.stop();
    api.close();
    await cluster.stop({ remove: true });
  }
});

test('the API server stopping mid-cleanup: what was deleted is reported, the rest is left with the reason', async () => {
  const cluster = await startPrivateCluster();
  const inner = await connectKube(cluster.kubeconfigPath);
  const api = new TrippingApi(inner);
  try {
    const baseline = await takeSnapshot(inner);
    await seed(inner, 'kf-half', 0);
    for (let i = 0; i < 30; i++) {
      await inner.request('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `kf-half-${i}` } } });
    }
    const after = await takeSnapshot(inner);
    const plan = planCleanup(baseline, after, { run: '002', graceMs: 5000 });
    assert.equal(plan.deletes.length, 31);
    let deletes = 0;
    api.onRequest = async (_n, method) => {
      if (method === 'DELETE' && ++deletes === 11) await cluster.stop();
    };
    const report = await executeCleanup(api, plan, { concurrency: 1 });
    assert.match(report.errors?.[0] ?? '', /cleanup stopped: the API server .* is unreachable/);
    assert.equal(report.deleted.length, 10, 'the deletions answered before the outage are reported done');
    assert.equal(report.left.length, 21);
    assert.ok(report.left.some((l) => /^not attempted: the API server .* is unreachable/.test(l.why)));
    assert.ok(report.left.every((l) => /unreachable/.test(l.why)));
  } finally {
    api.close();
    await cluster.stop({ remove: true });
  }
});
