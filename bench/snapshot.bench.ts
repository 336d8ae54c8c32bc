// Snapshot speed on a local control plane seeded with many objects across many types (CRDs
// included), against the same listing done the usual way: `kubectl get TYPE -A` for every
// listable type. Also how snapshot time grows with the number of objects.
//
//   npx node bench/snapshot.bench.ts [--sizes 1000,10000,50000] [--kubectl PATH] [--kubeconfig FILE]
//
// Starts its own cluster and stops it (or uses a disposable one given by --kubeconfig). kubectl
// comes from `tools/build.sh kubectl`, run here when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneBinaries, startLocalCluster } from '../src/cluster/local.ts';
import { runProcess } from '../src/exec.ts';
import { connectKube, forEachBounded, KubeApiError, type KubeApi } from '../src/cluster/kube.ts';
import { collectionPath, discoverResourceTypes, type ResourceType } from '../src/cluster/discovery.ts';
import { takeSnapshot } from '../src/cluster/snapshot.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface SnapshotBenchOptions {
  /** Seeded object counts to measure at, ascending. The kubectl comparison runs at 10,000 (or the closest). */
  sizes?: number[];
  /** kubectl binary; default: the one tools/build.sh kubectl put next to the control plane. */
  kubectl?: string;
  /** Snapshot repetitions at each size (the median is reported). */
  repeat?: number;
  log?: (line: string) => void;
  /** Use this cluster (it must be disposable: the benchmark leaves its objects) instead of starting one. */
  kubeconfig?: string;
}

const CRD_GROUP = 'bench.kubeflake.dev';
const CRD_COUNT = 30;
const NAMESPACES = 40;
const rbac = 'rbac.authorization.k8s.io';

interface SeedType {
  type: ResourceType;
  body: (name: string, ns: string, i: number) => Record<string, unknown>;
}

function builtins(): SeedType[] {
  const t = (group: string, version: string, resource: string, kind: string, namespaced: boolean): ResourceType => ({ group, version, resource, kind, namespaced, verbs: [] });
  return [
    { type: t('', 'v1', 'configmaps', 'ConfigMap', true), body: () => ({ data: { key: 'value' } }) },
    { type: t('', 'v1', 'secrets', 'Secret', true), body: () => ({ type: 'Opaque', data: { key: 'dmFsdWU=' } }) },
    { type: t('', 'v1', 'serviceaccounts', 'ServiceAccount', true), body: () => ({}) },
    { type: t('', 'v1', 'podtemplates', 'PodTemplate', true), body: () => ({ template: { spec: { containers: [{ name: 'c', image: 'example.com/none' }] } } }) },
    { type: t('', 'v1', 'limitranges', 'LimitRange', true), body: () => ({ spec: { limits: [{ type: 'Container', default: { cpu: '100m' } }] } }) },
    { type: t(rbac, 'v1', 'roles', 'Role', true), body: () => ({ rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }) },
    {
      type: t(rbac, 'v1', 'rolebindings', 'RoleBinding', true),
      body: (_n, ns) => ({ roleRef: { apiGroup: rbac, kind: 'Role', name: 'none' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }] }),
    },
    { type: t('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true), body: () => ({ spec: { podSelector: {} } }) },
    { type: t(rbac, 'v1', 'clusterroles', 'ClusterRole', false), body: () => ({ rules: [] }) },
    {
      type: t(rbac, 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
      body: () => ({ roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'none' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }] }),
    },
    { type: t('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false), body: (_n, _ns, i) => ({ value: 1000 + i }) },
    { type: t('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false), body: () => ({ spec: { controller: 'example.com/none' } }) },
    { type: t('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false), body: () => ({ handler: 'none' }) },
    { type: t('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false), body: () => ({ provisioner: 'example.com/none' }) },
    { type: t('storage.k8s.io', 'v1', 'csidrivers', 'CSIDriver', false), body: () => ({ spec: {} }) },
  ];
}

function crdTypes(): SeedType[] {
  return Array.from({ length: CRD_COUNT }, (_, i) => {
    const namespaced = i % 6 !== 5;
    const kind = `Thing${i}`;
    return {
      type: { group: CRD_GROUP, version: 'v1', resource: `things${i}`, kind, namespaced, verbs: [] },
      body: (_n: string, _ns: string, n: number) => ({ apiVersion: `${CRD_GROUP}/v1`, kind, spec: { n } }),
    };
  });
}

async function installCrds(api: KubeApi, types: SeedType[]): Promise<void> {
  await forEachBounded(types, 8, async ({ type }) => {
    await createOnce(api, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${type.resource}.${CRD_GROUP}` },
      spec: {
        group: CRD_GROUP,
        scope: type.namespaced ? 'Namespaced' : 'Cluster',
        names: { plural: type.resource, singular: type.kind.toLowerCase(), kind: type.kind },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const served = new Set((await discoverResourceTypes(api)).types.filter((t) => t.group === CRD_GROUP).map((t) => t.resource));
    if (types.every((t) => served.has(t.type.resource))) return;
    if (Date.now() > deadline) throw new Error(`the benchmark's ${types.length} CRDs were not all served within 2 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function createOnce(api: KubeApi, path: string, body: unknown): Promise<void> {
  try {
    await api.request('POST', path, { body, timeoutMs: 60_000 });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}

/** Creates objects number `from` to `to - 1`, spread round-robin over the seed types and namespaces. */
export async function seedObjects(api: KubeApi, seedTypes: SeedType[], from: number, to: number, concurrency = 32): Promise<void> {
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  await forEachBounded(indexes, concurrency, async (i) => {
    const s = seedTypes[i % seedTypes.length]!;
    const ns = `kf-bench-${String(Math.floor(i / seedTypes.length) % NAMESPACES).padStart(2, '0')}`;
    const name = `kf-bench-${i}`;
    const body = { apiVersion: s.type.group ? `${s.type.group}/${s.type.version}` : s.type.version, kind: s.type.kind, ...s.body(name, ns, i) };
    (body as Record<string, unknown>).metadata = s.type.namespaced ? { name, namespace: ns } : { name };
    await createOnce(api, collectionPath(s.type, s.type.namespaced ? ns : undefined), body);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function kubectlLoop(kubectl: string, kubeconfig: string, cacheDir: string): { ms: number; types: number; lines: number } {
  const env = { ...process.env, KUBECACHEDIR: cacheDir };
  const run = (args: string[]) => {
    const r = spawnSync(kubectl, ['--kubeconfig', kubeconfig, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  const started = performance.now();
  const resources = run(['api-resources', '--verbs=list', '-o', 'name']).split('\n').filter((r) => r && r !== 'componentstatuses');
  let lines = 0;
  for (const r of resources) lines += run(['get', r, '--all-namespaces', '--ignore-not-found', '-o', 'name']).split('\n').filter(Boolean).length;
  return { ms: performance.now() - started, types: resources.length, lines };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Runs the benchmark on a cluster of its own; returns the lines to print. */
export async function benchSnapshot(opts: SnapshotBenchOptions = {}): Promise<string[]> {
  const sizes = opts.sizes ?? [1000, 10_000, 50_000];
  const repeat = opts.repeat ?? 5;
  const log = opts.log ?? (() => {});
  const lines: string[] = [];
  const binDir = await controlPlaneBinaries({ buildScript: join(root, 'tools', 'build.sh') });
  let kubectl = opts.kubectl ?? join(binDir, 'kubectl');
  if (!existsSync(kubectl) && !opts.kubectl) {
    // The comparison needs kubectl: built once per machine (several minutes), then cached.
    log('building kubectl for the comparison: bash tools/build.sh kubectl');
    const built = await runProcess(['bash', join(root, 'tools', 'build.sh'), 'kubectl'], { capture: true });
    if (built.exitCode === 0) kubectl = join(built.stdout.trim().split('\n').pop() ?? binDir, 'kubectl');
    else log(`building kubectl failed: ${built.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-snapshot-'));
  const cluster = opts.kubeconfig
    ? { kubeconfigPath: opts.kubeconfig, stop: async (_: { remove: boolean }) => {} }
    : await startLocalCluster({ binDir, stateDir: join(work, 'cluster') });
  const api = await connectKube(cluster.kubeconfigPath, { maxSockets: 32 });
  try {
    const crds = crdTypes();
    const seedTypes = [...builtins(), ...crds];
    await installCrds(api, crds);
    const namespaces = Array.from({ length: NAMESPACES }, (_, n) => `kf-bench-${String(n).padStart(2, '0')}`);
    await forEachBounded(namespaces, 8, (name) => createOnce(api, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
    lines.push(`snapshot: local control plane, ${seedTypes.length + 1} seeded types (${crds.length} CRDs), ${NAMESPACES} namespaces, ${repeat} snapshots per size (median)`);
    // Warm up: TLS handshakes, sockets, the API server's discovery and list caches.
    await takeSnapshot(api);
    let seeded = 0;
    const compareAt = sizes.reduce((best, s) => (Math.abs(s - 10_000) < Math.abs(best - 10_000) ? s : best), sizes[0]!);
    for (const size of sizes) {
      const t0 = performance.now();
      await seedObjects(api, seedTypes, seeded, size);
      const seedMs = performance.now() - t0;
      log(`seeded ${fmt(size - seeded)} objects in ${(seedMs / 1000).toFixed(1)} s`);
      seeded = size;
      const times: number[] = [];
      let objects = 0;
      let types = 0;
      for (let r = 0; r < repeat; r++) {
        const s0 = performance.now();
        const snap = await takeSnapshot(api);
        times.push(performance.now() - s0);
        if (!snap.complete) throw new Error(`the benchmark snapshot is partial: ${snap.errors[0]?.message}`);
        objects = snap.objects.length;
        types = new Set(snap.objects.map((o) => `${o.apiVersion}/${o.resource}`)).size;
      }
      const ms = median(times);
      lines.push(
        `  ${fmt(size).padStart(6)} seeded: ${fmt(objects)} objects in ${types} non-empty types, snapshot ${ms.toFixed(0)} ms` +
          ` (${fmt(Math.round(objects / (ms / 1000)))} objects/s; seeding took ${(seedMs / 1000).toFixed(1)} s)`,
      );
      if (size === compareAt) {
        if (existsSync(kubectl)) {
          const k = kubectlLoop(kubectl, cluster.kubeconfigPath, join(work, 'kubectl-cache'));
          lines.push(
            `  ${fmt(size).padStart(6)} seeded: kubectl get -A -o name over ${k.types} listable types: ${(k.ms / 1000).toFixed(2)} s for ${fmt(k.lines)} objects` +
              ` -> snapshot is ${(k.ms / ms).toFixed(1)}x faster`,
          );
        } else {
          lines.push(`  kubectl comparison skipped: no kubectl at ${kubectl} (build it with: bash tools/build.sh kubectl)`);
        }
      }
    }
  } finally {
    api.close();
    await cluster.stop({ remove: true });
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const sizes = arg('--sizes')?.split(',').map(Number);
  const lines = await benchSnapshot({ sizes, kubectl: arg('--kubectl'), kubeconfig: arg('--kubeconfig'), log: (l) => console.error(l) });
  for (const l of lines) console.log(l);
}
