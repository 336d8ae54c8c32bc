import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKind, kindAsset, kindPlatform, pinnedKind, type KindRelease } from '../../src/cluster/kind-install.ts';
import { explainKindFailure, nodesReady, waitForKindReady } from '../../src/cluster/kind.ts';
import { KubeApiError, type KubeApi } from '../../src/cluster/kube.ts';
import { buildProgress, controlPlaneDir } from '../../src/cluster/local.ts';
import { controlPlaneCacheKey } from '../../src/control-plane-cache.ts';
import { projectRoot } from '../support/paths.ts';

const failed = (stderr: string, extra: Partial<{ timedOut: boolean; exitCode: number }> = {}) => ({ exitCode: 1, timedOut: false, stdout: '', stderr, ...extra });

test('kind failures, as the real kind v0.30.0 prints them, become what to do', () => {
  const context = { step: 'kind create cluster', name: 'kubeflake' };
  // Verbatim from the real binary (test/integration/cluster-kind.test.ts runs it).
  assert.match(explainKindFailure(failed('ERROR: failed to create cluster: failed to get docker info: command "docker info --format \'{{json .}}\'" failed with error: exec: "docker": executable file not found in $PATH\n\nCommand Output: \n'), context),
    /kind needs Docker \(or Podman\) and there is no `docker` command on PATH/);
  assert.match(explainKindFailure(failed('ERROR: failed to list clusters: command "docker ps -a ..." failed with error: exit status 1\n\nCommand Output: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'), context),
    /Docker daemon is not running.*Start Docker/);
  assert.match(explainKindFailure(failed('ERROR: failed to create cluster: failed to pull image "kindest/node:v9": command "docker pull kindest/node:v9" failed with error: exit status 1\n\nCommand Output: Error response from daemon: manifest unknown\n'), context),
    /the node image kindest\/node:v9 could not be pulled \(Error response from daemon: manifest unknown\)/);
  assert.match(explainKindFailure(failed('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "kubeflake"\n'), context),
    /kind delete cluster --name kubeflake/);
  assert.match(explainKindFailure(failed('ERROR: failed to create cluster: error reading file: open kind.yaml: no such file or directory\n'), context),
    /the kind config file kind\.yaml does not exist/);
  assert.match(explainKindFailure(failed(' • Ensuring node image\n', { timedOut: true }), { ...context, timeoutMs: 600_000, image: 'kindest/node:v1.34.0' }),
    /did not finish within 10 min and was stopped.*kindest\/node:v1\.34\.0.*Last output: • Ensuring node image/);
  assert.equal(explainKindFailure(failed('something new\nand odd\n'), context), '`kind create cluster` failed (exit 1): something new | and odd');
});

test('nodes are ready when every one reports Ready=True, and there is at least one', () => {
  const node = (name: string, status: string) => ({ metadata: { name }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status }] } });
  assert.deepEqual(nodesReady({ items: [] }), { ready: false, waiting: ['(no node registered yet)'] });
  assert.deepEqual(nodesReady({ items: [node('cp', 'True'), node('worker', 'Unknown')] }), { ready: false, waiting: ['worker'] });
  assert.deepEqual(nodesReady({ items: [node('cp', 'True'), node('worker', 'True')] }), { ready: true, waiting: [] });
});

test('the readiness wait goes on until the default service account exists', async () => {
  const answers: (() => unknown)[] = [
    () => ({ items: [{ metadata: { name: 'cp' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] }),
    () => { throw new KubeApiError(404, 'NotFound', '/sa', 'serviceaccounts "default" not found'); },
  ];
  const asked: string[] = [];
  let saCalls = 0;
  const api = {
    server: 'https://x',
    request: async (_method: string, path: string) => {
      asked.push(path);
      if (path.endsWith('/nodes')) return answers[0]!();
      return saCalls++ < 2 ? answers[1]!() : { metadata: { name: 'default' } };
    },
  } as unknown as KubeApi;
  await waitForKindReady(api, { timeoutMs: 5_000, pollMs: 1 });
  assert.equal(saCalls, 3);
  await assert.rejects(waitForKindReady({ ...api, request: async () => answers[1]!() } as unknown as KubeApi, { timeoutMs: 50, pollMs: 5 }),
    /^Error: the kind cluster did not become ready within 0 s: still waiting for the default service account \(the controller manager creates it\)$/);
});

test('the pinned release has a checksum for linux and darwin on amd64 and arm64', () => {
  assert.equal(pinnedKind.version, 'v0.30.0');
  for (const platform of ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64']) {
    assert.match(kindAsset(pinnedKind, platform).sha256, /^[0-9a-f]{64}$/, platform);
  }
  assert.equal(kindAsset(pinnedKind, 'linux-amd64').url, 'https://github.com/kubernetes-sigs/kind/releases/download/v0.30.0/kind-linux-amd64');
  assert.equal(kindPlatform('linux', 'x64'), 'linux-amd64');
  assert.equal(kindPlatform('darwin', 'arm64'), 'darwin-arm64');
  assert.equal(kindPlatform('win32', 'x64'), undefined);
  assert.throws(() => kindAsset(pinnedKind, 'linux-s390x'), /publishes no pinned binary for linux-s390x: install kind yourself and put it on PATH/);
});

test('ensureKind: PATH first, else download once, checked against the pinned sha256', async (t) => {
  const body = Buffer.from('#!/bin/sh\necho kind v0.30.0 stand-in\n');
  let downloads = 0;
  const server = createServer((req, res) => {
    downloads++;
    if (req.url === '/v0.30.0/kind-linux-amd64') res.end(body);
    else { res.statusCode = 404; res.end('not found'); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const release: KindRelease = { version: 'v0.30.0', sha256: { 'linux-amd64': createHash('sha256').update(body).digest('hex'), 'linux-arm64': '0'.repeat(64) } };

  const onPath = mkdtempSync(join(tmpdir(), 'kf-path-'));
  writeFileSync(join(onPath, 'kind'), '#!/bin/sh\n');
  chmodSync(join(onPath, 'kind'), 0o755);
  const cacheDir = mkdtempSync(join(tmpdir(), 'kf-cache-'));
  assert.deepEqual(await ensureKind({ path: `/nonexistent:${onPath}`, cacheDir, release, platform: 'linux-amd64', baseUrl }), { path: join(onPath, 'kind'), source: 'path' });
  assert.equal(downloads, 0);

  const got = await ensureKind({ path: '/nonexistent', cacheDir, release, platform: 'linux-amd64', baseUrl });
  assert.deepEqual(got, { path: join(cacheDir, 'kind', 'v0.30.0', 'kind'), source: 'download' });
  assert.equal(await ensureKind({ path: '', cacheDir, release, platform: 'linux-amd64', baseUrl }).then((k) => k.source), 'cache');
  assert.equal(downloads, 1);

  // A binary whose checksum does not match is refused and removed.
  const other = mkdtempSync(join(tmpdir(), 'kf-cache-'));
  mkdirSync(join(other, 'kind'), { recursive: true });
  await assert.rejects(ensureKind({ path: '', cacheDir: other, release: { ...release, sha256: { 'linux-amd64': 'f'.repeat(64) } }, platform: 'linux-amd64', baseUrl }),
    /has sha256 [0-9a-f]{64}, but kind v0\.30\.0 published f{64}: refusing to run it/);
  assert.deepEqual(readdirSync(join(other, 'kind', 'v0.30.0')), [], 'nothing half-installed is left');
  // A download that fails says so and what to do.
  await assert.rejects(ensureKind({ path: '', cacheDir: other, release, platform: 'linux-arm64', baseUrl }),
    /could not download kind v0\.30\.0 from http:\/\/127\.0\.0\.1:\d+\/v0\.30\.0\/kind-linux-arm64: .*Install kind yourself/);
  assert.ok(!existsSync(join(other, 'kind', 'v0.30.0', 'kind')));
});

test('first build: says what is built and why once, then which binary and the elapsed time', () => {
  const start = 1_000_000;
  const progress = buildProgress(start);
  assert.match(progress.line('kubeflake: building the local control plane once (etcd kube-apiserver kube-controller-manager; etcd v3.6.16, Kubernetes v1.36.3) from Go modules into /cache/k8s; later runs reuse it', start).progress!,
    /^building the local control plane once \(etcd kube-apiserver kube-controller-manager; .*later runs reuse it\. A cold build takes 10 to 30 minutes on two cores \(less with a warm Go build cache\); progress every 30 s\.$/);
  assert.equal(progress.heartbeat(start + 5_000), undefined, 'nothing to say before a binary starts');
  assert.deepEqual(progress.line('go: downloading go.etcd.io/etcd/server/v3 v3.6.16', start + 500), { detail: 'go: downloading go.etcd.io/etcd/server/v3 v3.6.16' });
  assert.deepEqual(progress.line('building etcd (1 of 3)', start + 1_000), { progress: 'building etcd (1 of 3), 1 s elapsed so far' });
  assert.deepEqual(progress.line('go.etcd.io/etcd/server/v3/etcdserver', start + 2_000), {}, 'Go package lines are only counted');
  assert.deepEqual(progress.line('k8s.io/api/core/v1', start + 3_000), {});
  assert.deepEqual(progress.line('etcdserver/server.go:12:2: undefined: x', start + 3_500), { detail: 'etcdserver/server.go:12:2: undefined: x' }, 'a compile error is shown');
  assert.equal(progress.heartbeat(start + 91_000), 'still building etcd (1 of 3): 1 min 30 s on it, 1 min 31 s in all, 2 Go packages compiled so far');
  assert.deepEqual(progress.line('built etcd in 129 s', start + 130_000), { progress: 'built etcd in 129 s (2 min 10 s elapsed in all)' });
  assert.equal(progress.heartbeat(start + 131_000), undefined);
});

test('tools/build.sh --where names the cached binaries folder without building, and the Actions cache key follows it', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'kf-where-'));
  const dir = await controlPlaneDir(join(projectRoot, 'tools', 'build.sh'), cacheDir);
  assert.match(dir, new RegExp(`^${cacheDir}/k8s-v\\d+\\.\\d+\\.\\d+-etcd-v\\d+\\.\\d+\\.\\d+$`));
  assert.deepEqual(readdirSync(cacheDir), [], 'nothing was built or created');
  assert.equal(controlPlaneCacheKey(dir, 'linux', 'x64'), `kubeflake-control-plane-${dir.split('/').pop()}-linux-x64`);
});
