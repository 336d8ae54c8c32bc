// Snapshot, watch, diff, attribution and cleanup on a real control plane, driven by a scripted
// "suite" whose specs (with Ginkgo-like per-spec times) leak, pollute and get stuck on purpose,
// next to pre-existing objects (some with the same names) that must never be touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCluster } from '../support/cluster.ts';
import { connectKube, type KubeApi, type KubeRequest, type HttpMethod } from '../../src/cluster/kube.ts';
import { takeSnapshot } from '../../src/cluster/snapshot.ts';
import { diffSnapshots } from '../../src/cluster/diff.ts';
import { watchCluster } from '../../src/cluster/watch.ts';
import { attribute, attributeDeleted } from '../../src/cluster/attribution.ts';
import { executeCleanup, planCleanup } from '../../src/cluster/cleanup.ts';
import type { RunResult, Snapshot, TestCase, TimelineEvent } from '../../src/model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GROUP = 'state.kubeflake.dev';
const SUITE = 'Scripted';
const id = (name: string) => `${SUITE} :: ${name}`;

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function create(api: KubeApi, path: string, body: Record<string, unknown>): Promise<void> {
  await api.request('POST', path, { body });
}

const cm = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { k: 'v' } });

/** Objects that exist before the suite runs; several share names with what the suite creates. */
async function seedPreexisting(api: KubeApi): Promise<void> {
  await create(api, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kf-pre' } });
  await create(api, '/api/v1/namespaces/kf-pre/configmaps', cm('kf-pre', 'leaky'));
  await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'kf-pre-shared'));
  await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'kf-victim'));
  await create(api, '/api/v1/namespaces/kube-system/configmaps', cm('kube-system', 'kf-pre-system'));
  await create(api, '/api/v1/namespaces/kube-public/configmaps', cm('kube-public', 'leaky'));
  await create(api, '/api/v1/namespaces/kf-pre/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'held', namespace: 'kf-pre', finalizers: ['example.com/pre-hold'] } });
}

interface Spec {
  name: string;
  body: (api: KubeApi) => Promise<void>;
}

/** The scripted suite: each spec's start and end recorded like Ginkgo JSON does. */
function suite(ns: string): Spec[] {
  return [
    {
      name: 'installs the Cache CRD',
      body: async (api) => {
        await create(api, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: `caches.${GROUP}` },
          spec: {
            group: GROUP,
            scope: 'Namespaced',
            names: { plural: 'caches', singular: 'cache', kind: 'Cache' },
            versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
          },
        });
        await until('the Cache CRD to be served', async () => {
          try {
            await api.request('GET', `/apis/${GROUP}/v1/caches`);
            return true;
          } catch {
            return false;
          }
        });
      },
    },
    {
      name: 'leaker creates a namespace and a config map and never deletes them',
      body: async (api) => {
        await create(api, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        await create(api, `/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'leaky'));
        await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'leaky'));
      },
    },
    {
      name: 'tidy creates and deletes its config map',
      body: async (api) => {
        await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'tidy'));
        await api.request('DELETE', '/api/v1/namespaces/default/configmaps/tidy');
      },
    },
    {
      name: 'stuck deletes a cache without waiting for its finalizer',
      body: async (api) => {
        await create(api, `/apis/${GROUP}/v1/namespaces/default/caches`, {
          apiVersion: `${GROUP}/v1`,
          kind: 'Cache',
          metadata: { name: 'iris2', namespace: 'default', finalizers: [`${GROUP}/cleanup`] },
        });
        await api.request('DELETE', `/apis/${GROUP}/v1/namespaces/default/caches/iris2`);
      },
    },
    {
      name: 'polluter deletes a shared config map',
      body: async (api) => {
        await api.request('DELETE', '/api/v1/namespaces/default/configmaps/kf-victim');
      },
    },
    {
      name: 'deploys a web server and leaves it',
      body: async (api) => {
        await create(api, '/apis/apps/v1/namespaces/default/deployments', {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'kf-web', namespace: 'default' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'kf-web' } },
            template: { metadata: { labels: { app: 'kf-web' } }, spec: { containers: [{ name: 'web', image: 'example.com/web' }] } },
          },
        });
      },
    },
    {
      name: 'waits while controllers act for earlier specs',
      body: async (api) => {
        await until('the deployment controller to create a pod', async () => {
          const pods = await api.request<{ items: unknown[] }>('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dkf-web');
          return pods.items.length > 0;
        });
      },
    },
  ];
}

async function runSuite(api: KubeApi, specs: Spec[]): Promise<RunResult> {
  const startedAt = Date.now();
  const cases: TestCase[] = [];
  for (const [index, s] of specs.entries()) {
    const start = Date.now();
    await s.body(api);
    const end = Date.now();
    cases.push({ id: id(s.name), name: s.name, suite: SUITE, status: 'passed', durationMs: end - start, startedAt: start, endedAt: end, index });
    await sleep(40); // the gap Ginkgo leaves between specs
  }
  const endedAt = Date.now();
  return {
    id: '000', seed: 1, probe: false, command: ['scripted'], exitCode: 0, timedOut: false, startedAt, endedAt, durationMs: endedAt - startedAt,
    orderSource: 'ginkgo-json', order: cases.map((c) => c.id), cases, reports: [], warnings: [],
  };
}

/** Every pre-existing object still there, unchanged (same UID and resourceVersion, not terminating). */
function assertUntouched(baseline: Snapshot, now: Snapshot, names: string[]): void {
  for (const name of names) {
    const [ns, n] = name.split('/');
    const before = baseline.objects.find((o) => (o.namespace ?? '') === ns && o.name === n && (o.kind === 'ConfigMap' || o.kind === 'Secret' || o.kind === 'Namespace'));
    assert.ok(before, `${name} is in the baseline`);
    const after = now.objects.find((o) => o.uid === before.uid);
    assert.ok(after, `${name} still exists`);
    assert.equal(after.resourceVersion, before.resourceVersion, `${name} was not modified`);
    assert.equal(after.deletionTimestamp, undefined, `${name} is not being deleted`);
  }
}

const PREEXISTING = ['kf-pre/leaky', 'default/kf-pre-shared', 'kube-system/kf-pre-system', 'kube-public/leaky', 'kf-pre/held', '/kf-pre'];

/** A KubeApi that records requests, to prove dry-run sends none. */
class RecordingApi implements KubeApi {
  readonly inner: KubeApi;
  readonly server: string;
  readonly requests: string[] = [];
  constructor(inner: KubeApi) {
    this.inner = inner;
    this.server = inner.server;
  }
  request<T>(method: HttpMethod, path: string, req?: KubeRequest): Promise<T> {
    this.requests.push(`${method} ${path}`);
    return this.inner.request<T>(method, path, req);
  }
  watch(path: string, req: Parameters<KubeApi['watch']>[1]): Promise<void> {
    return this.inner.watch(path, req);
  }
  close(): void {}
}

test('leaker, polluter and stuck objects are attributed to their specs; dry-run changes nothing; cleanup returns to the baseline', async () => {
  const cluster = await useCluster();
  const api = await connectKube(cluster.kubeconfigPath);
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-state-'));
  try {
    await seedPreexisting(api);
    // Let the namespace controllers populate kf-pre before the baseline, as a settled cluster would be.
    await sleep(1500);
    const baseline = await takeSnapshot(api);
    assert.equal(baseline.complete, true, JSON.stringify(baseline.errors));
    const timelineFile = join(dir, 'timeline.jsonl');
    const watch = await watchCluster(api, { timelineFile });
    const run = await runSuite(api, suite('kf-leak-ns'));
    await sleep(300);
    const timeline = await watch.stop();
    assert.deepEqual(watch.problems, []);
    const onDisk = readFileSync(timelineFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TimelineEvent);
    assert.equal(onDisk.length, timeline.length);

    const after = await takeSnapshot(api);
    assert.equal(after.complete, true);
    const diff = diffSnapshots(baseline, after);
    const leaks = attribute(diff.leaked, timeline, run);
    const by = (kind: string, ns: string, name: string) => leaks.find((l) => l.kind === kind && l.namespace === ns && l.name === name);

    const expectations: [string, string, string, string, string][] = [
      ['CustomResourceDefinition', '', `caches.${GROUP}`, 'installs the Cache CRD', 'exact'],
      ['Namespace', '', 'kf-leak-ns', 'leaker creates a namespace and a config map and never deletes them', 'exact'],
      ['ConfigMap', 'kf-leak-ns', 'leaky', 'leaker creates a namespace and a config map and never deletes them', 'exact'],
      ['ConfigMap', 'default', 'leaky', 'leaker creates a namespace and a config map and never deletes them', 'exact'],
      ['Cache', 'default', 'iris2', 'stuck deletes a cache without waiting for its finalizer', 'exact'],
      ['Deployment', 'default', 'kf-web', 'deploys a web server and leaves it', 'exact'],
    ];
    for (const [kind, ns, name, spec, how] of expectations) {
      const l = by(kind, ns, name);
      assert.ok(l, `${kind} ${ns}/${name} is reported as leaked`);
      // When the watch's measured lag spans the gap between two specs, the attribution is a guess that says so.
      if ((l.candidates?.length ?? 0) > 1) {
        assert.equal(l.attribution, 'approximate', `${kind} ${ns}/${name}: a guess is approximate`);
        assert.ok(l.candidates!.includes(id(spec)), `${kind} ${ns}/${name}: "${spec}" is among the candidates [${l.candidates!.join(', ')}]`);
        continue;
      }
      assert.equal(l.createdBy, id(spec), `${kind} ${ns}/${name} was created by "${spec}"`);
      assert.equal(l.attribution, how, `${kind} ${ns}/${name} attribution`);
    }
    const iris = by('Cache', 'default', 'iris2')!;
    assert.equal(iris.terminating, true);
    assert.deepEqual(iris.finalizers, [`${GROUP}/cleanup`]);
    assert.ok(diff.terminating.some((o) => o.name === 'iris2'));
    // Made by controllers while later specs ran, yet owned by what "deploys" created.
    const rs = leaks.find((l) => l.kind === 'ReplicaSet' && l.name.startsWith('kf-web-'));
    const pod = leaks.find((l) => l.kind === 'Pod' && l.name.startsWith('kf-web-'));
    const deployer = by('Deployment', 'default', 'kf-web')!;
    for (const dependent of [rs, pod]) {
      assert.equal(dependent?.attribution, 'owner');
      assert.equal(dependent?.createdBy, deployer.createdBy, `${dependent?.kind} goes with its owner`);
      assert.deepEqual(dependent?.candidates, deployer.candidates);
    }
    assert.ok([deployer.createdBy, ...(deployer.candidates ?? [])].includes(id('deploys a web server and leaves it')));
    // The tidy spec left nothing; noise (events, leases, default service account...) is not a leak.
    assert.equal(leaks.filter((l) => l.name === 'tidy').length, 0);
    assert.equal(leaks.filter((l) => l.kind === 'Event' || l.kind === 'Lease').length, 0);
    assert.equal(leaks.filter((l) => l.namespace === 'kf-leak-ns' && l.kind === 'ServiceAccount').length, 0);
    assert.deepEqual(diff.namespaces.map((n) => [n.namespace.name, n.contents.map((c) => c.name)]), [['kf-leak-ns', ['leaky']]]);
    // The shared object the polluter destroyed.
    const destroyed = attributeDeleted(diff.deleted, timeline, run);
    assert.deepEqual(destroyed.map((d) => [d.namespace, d.name]), [['default', 'kf-victim']]);
    assert.ok([destroyed[0]!.deletedBy, ...(destroyed[0]!.candidates ?? [])].includes(id('polluter deletes a shared config map')), JSON.stringify(destroyed[0]));
    assertUntouched(baseline, after, PREEXISTING);

    // Dry-run: no request at all, nothing changes.
    const recorder = new RecordingApi(api);
    const dryPlan = planCleanup(baseline, after, { run: '000', dryRun: true, removeFinalizers: true, graceMs: 3000 });
    const dry = await executeCleanup(recorder, dryPlan);
    assert.deepEqual(recorder.requests, []);
    assert.equal(dry.dryRun, true);
    assert.ok(dry.deleted.some((a) => a.object.name === 'kf-leak-ns'));
    const afterDry = await takeSnapshot(api);
    assert.deepEqual(
      afterDry.objects.filter((o) => diff.leaked.some((l) => l.uid === o.uid)).map((o) => [o.uid, o.resourceVersion]),
      after.objects.filter((o) => diff.leaked.some((l) => l.uid === o.uid)).map((o) => [o.uid, o.resourceVersion]),
    );

    // Real cleanup, stuck finalizers removed after a short grace.
    const plan = planCleanup(baseline, after, { run: '000', removeFinalizers: true, graceMs: 3000 });
    const report = await executeCleanup(api, plan);
    assert.deepEqual(report.left, []);
    assert.equal(report.errors, undefined);
    assert.deepEqual(report.finalizersRemoved.map((a) => a.object.name), ['iris2']);
    for (const l of leaks) assert.ok(report.deleted.some((a) => a.object.uid === l.uid), `${l.kind} ${l.namespace}/${l.name} was removed`);

    const clean = await takeSnapshot(api);
    const rest = diffSnapshots(baseline, clean);
    assert.deepEqual(rest.leaked.map((o) => `${o.kind} ${o.namespace ?? ''}/${o.name}`), []);
    // What the suite itself destroyed is reported, not recreated.
    assert.deepEqual(rest.deleted.map((o) => o.name), ['kf-victim']);
    assertUntouched(baseline, clean, PREEXISTING);
  } finally {
    api.close();
  }
});

test('a run that recreates a pre-existing name and leaves objects in protected namespaces: cleanup leaves those, with why', async () => {
  const cluster = await useCluster();
  const api = await connectKube(cluster.kubeconfigPath);
  try {
    await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'kf-recreated'));
    const baseline = await takeSnapshot(api);
    await api.request('DELETE', '/api/v1/namespaces/default/configmaps/kf-recreated');
    await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'kf-recreated'));
    await create(api, '/api/v1/namespaces/kube-system/configmaps', cm('kube-system', 'kf-made-in-system'));
    await create(api, '/api/v1/namespaces/default/configmaps', cm('default', 'kf-plain-leak'));
    const after = await takeSnapshot(api);
    const report = await executeCleanup(api, planCleanup(baseline, after, { run: '001', graceMs: 5000 }));
    assert.deepEqual(report.deleted.map((a) => a.object.name), ['kf-plain-leak']);
    assert.deepEqual(report.left.map((a) => [a.object.name, a.why]).sort(), [
      ['kf-made-in-system', 'in protected namespace kube-system'],
      ['kf-recreated', 'a test deleted the baseline object of this name and created it again: kubeflake does not remove shared state'],
    ]);
    const now = await takeSnapshot(api);
    assert.ok(now.objects.some((o) => o.name === 'kf-recreated'));
    assert.ok(now.objects.some((o) => o.name === 'kf-made-in-system'));
    await api.request('DELETE', '/api/v1/namespaces/kube-system/configmaps/kf-made-in-system');
    await api.request('DELETE', '/api/v1/namespaces/default/configmaps/kf-recreated');
  } finally {
    api.close();
  }
});
