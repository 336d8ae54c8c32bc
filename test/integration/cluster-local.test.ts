import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig, KubernetesObjectApi, CoreV1Api, ApiextensionsV1Api } from '@kubernetes/client-node';
import { isAlive } from '../../src/exec.ts';
import { readLocalClusterState, stopLocalCluster, startLocalCluster } from '../../src/cluster/local.ts';
import { startPrivateCluster, testBinaries } from '../support/cluster.ts';
import { connectKube } from '../../src/cluster/kube.ts';
import { markAuditLogs, sliceAuditLogs } from '../../src/cluster/audit-log.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the local control plane serves a CRD instance and really deletes a namespace, then stops with no process left', async () => {
  const cluster = await startPrivateCluster();
  try {
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    const version = await fetchVersion(config);
    assert.match(version, /^v1\.36\.\d+$/, 'the API server reports the real release it was built from');

    const crds = config.makeApiClient(ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({ body: {
      metadata: { name: 'widgets.test.kubeflake.dev' },
      spec: {
        group: 'test.kubeflake.dev',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
      },
    } });
    const objects = KubernetesObjectApi.makeApiClient(config);
    const core = config.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'kf-doomed' } } });
    await until('the Widget kind to be served', async () => {
      try {
        await objects.create({ apiVersion: 'test.kubeflake.dev/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'kf-doomed' } });
        return true;
      } catch {
        return undefined;
      }
    });
    const widget = await objects.read({ apiVersion: 'test.kubeflake.dev/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'kf-doomed' } });
    assert.equal(widget.metadata?.name, 'w1');

    // The namespace controller must empty and remove it: deleting a namespace is not instant.
    await core.deleteNamespace({ name: 'kf-doomed' });
    await until('namespace kf-doomed to disappear', async () => {
      try {
        await core.readNamespace({ name: 'kf-doomed' });
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
  } finally {
    const pids = cluster.processes.map(({ pid }) => pid);
    await cluster.stop({ remove: true });
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} outlived stop()`);
    assert.equal(existsSync(cluster.stateDir), false);
  }
});

test('a detached control plane keeps its state on disk and stopLocalCluster ends every process', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubeflake-detached-'));
  const cluster = await startLocalCluster({ binDir: await testBinaries(), stateDir, detached: true });
  const state = await readLocalClusterState(stateDir);
  assert.deepEqual(state?.processes.map(({ name }) => name), ['etcd', 'kube-apiserver', 'kube-controller-manager']);
  assert.ok(readFileSync(cluster.kubeconfigPath, 'utf8').includes(cluster.server));
  await assert.rejects(startLocalCluster({ binDir: await testBinaries(), stateDir }), /already running/);
  const stopped = await stopLocalCluster(stateDir);
  assert.equal(stopped.length, 3);
  for (const { pid } of state!.processes) assert.equal(isAlive(pid), false, `pid ${pid} outlived cluster down`);
});

async function fetchVersion(config: KubeConfig): Promise<string> {
  const { VersionApi } = await import('@kubernetes/client-node');
  const info = await config.makeApiClient(VersionApi).getCode();
  return info.gitVersion;
}

test('SIGTERM to the process that started the control plane takes every component down with it', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubeflake-sigterm-'));
  const script = `
    import { startLocalCluster } from ${JSON.stringify(new URL('../../src/cluster/local.ts', import.meta.url).pathname)};
    import { stopChildrenOnExit } from ${JSON.stringify(new URL('../../src/exec.ts', import.meta.url).pathname)};
    stopChildrenOnExit();
    const cluster = await startLocalCluster({ binDir: ${JSON.stringify(await testBinaries())}, stateDir: ${JSON.stringify(stateDir)} });
    console.log('PIDS ' + cluster.processes.map((p) => p.pid).join(','));
    setInterval(() => {}, 1000);
  `;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PIDS ([\d,]+)/.exec(out);
      if (match) resolve(match[1]!.split(',').map(Number));
    });
    child.once('exit', (code) => reject(new Error(`the starter exited early with ${code}`)));
  });
  assert.equal(pids.length, 3);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 15_000;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} outlived SIGTERM to its parent`);
});

test('the local control plane writes the record: a run\'s slice holds the test\'s create and delete, and none of kubeflake\'s own requests', async () => {
  const cluster = await startPrivateCluster();
  const own = await connectKube(cluster.ownKubeconfigPath);
  try {
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before-the-run' } } });

    const marks = await markAuditLogs([cluster.auditLog]);
    // The test process (the admin, its own client) and kubeflake (snapshot, watch, cleanup) at once.
    const watching = new AbortController();
    const watch = own.watch('/api/v1/configmaps?watch=1', { signal: watching.signal, onEvent: () => {} });
    await own.request('GET', '/api/v1/configmaps');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'made-by-the-test' } } });
    await core.readNamespacedConfigMap({ name: 'never-made', namespace: 'default' }).catch(() => undefined);
    await own.request('DELETE', '/api/v1/namespaces/default/configmaps/before-the-run');
    await core.deleteNamespacedConfigMap({ name: 'made-by-the-test', namespace: 'default' });
    watching.abort();
    await watch;
    const slice = join(cluster.stateDir, 'run.audit.jsonl');
    const copied = await sliceAuditLogs(marks, slice);
    assert.deepEqual(copied.notes, []);

    const events = readFileSync(slice, 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { stage: string; verb: string; user: { username: string }; userAgent?: string; objectRef?: { name?: string }; responseStatus?: { code?: number } });
    const seen = events.filter((e) => e.user.username === 'kubeflake-admin').map((e) => `${e.verb} ${e.objectRef?.name} ${e.responseStatus?.code}`);
    assert.deepEqual(seen, ['create made-by-the-test 201', 'get never-made 404', 'delete made-by-the-test 200']);
    assert.ok(events.every((e) => e.stage === 'ResponseComplete'));
    assert.deepEqual(events.filter((e) => e.user.username === 'kubeflake' || e.userAgent?.startsWith('kubeflake/')), [], 'kubeflake\'s own list, watch and delete are not in the record');
    assert.ok(!events.some((e) => e.objectRef?.name === 'before-the-run'), 'what came before the mark is not in the slice');
  } finally {
    own.close();
    await cluster.stop({ remove: true });
  }
});
