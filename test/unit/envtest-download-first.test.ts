// Download first, compile when offline: envtest's binaries (and the local cluster's etcd and
// kube-apiserver) come from the envtest release archive, sha512-checked and cached, served here by
// a local index server; only when the index is unreachable is anything built, said before it
// starts, and an unreachable index costs no long timeout.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { envtestReleaseAssets, goPlatform, ReleaseUnreachable } from '../../src/envtest/release.ts';
import { provideEnvtestAssets } from '../../src/envtest/assets.ts';
import { localControlPlaneBinaries } from '../../src/cluster/local.ts';

const { os, arch } = goPlatform();

/** An index server holding one envtest archive made here (etcd, kube-apiserver, kubectl stand-ins). */
async function releaseServer(t: TestContext, version: string): Promise<{ indexUrl: string; requests: string[] }> {
  const work = mkdtempSync(join(tmpdir(), 'kf-release-'));
  mkdirSync(join(work, 'staging', 'controller-tools', 'envtest'), { recursive: true });
  for (const name of ['etcd', 'kube-apiserver', 'kubectl']) writeFileSync(join(work, 'staging', 'controller-tools', 'envtest', name), `#!/bin/sh\necho ${name} ${version}\n`, { mode: 0o755 });
  const name = `envtest-v${version}-${os}-${arch}.tar.gz`;
  const tar = await runProcess(['tar', '-czf', join(work, name), '-C', join(work, 'staging'), 'controller-tools'], { capture: true });
  assert.equal(tar.exitCode, 0, tar.stderr);
  const archive = readFileSync(join(work, name));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === '/envtest-releases.yaml') {
      res.end(`releases:\n  v${version}:\n    ${name}:\n      hash: ${createHash('sha512').update(archive).digest('hex')}\n      selfLink: ${base}/download/${name}\n`);
    } else if (req.url === `/download/${name}`) {
      res.end(archive);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { indexUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/envtest-releases.yaml`, requests };
}

/** An index address nothing listens on: what an offline machine sees, at once. */
async function unreachableIndex(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/envtest-releases.yaml`;
}

/** A suite module requiring controller-runtime and client-go v0.36: it wants envtest 1.36. */
function suiteModule(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kf-suite-'));
  writeFileSync(join(dir, 'go.mod'), 'module example.test/op\n\nrequire (\n\tk8s.io/client-go v0.36.3\n\tsigs.k8s.io/controller-runtime v0.24.1\n)\n');
  return dir;
}

test('envtest assets: the release archive is downloaded (said first) and the build never starts', async (t) => {
  const { indexUrl, requests } = await releaseServer(t, '1.36.3');
  const cacheDir = mkdtempSync(join(tmpdir(), 'kf-cache-'));
  const said: string[] = [];
  let builds = 0;
  const provided = await provideEnvtestAssets({
    cwd: suiteModule(), cacheDir, indexUrl, nodePath: process.execPath,
    localBinaries: async () => {
      builds++;
      return cacheDir;
    },
    progress: (line) => said.push(line),
  });
  t.after(() => provided?.remove());
  assert.equal(builds, 0, 'nothing is built when the release is reachable');
  assert.equal(provided?.source, 'the envtest 1.36.3 release');
  assert.equal(readFileSync(join(provided.realDir, 'kube-apiserver'), 'utf8'), '#!/bin/sh\necho kube-apiserver 1.36.3\n');
  assert.match(said.join('\n'), /^downloading envtest 1\.36\.3 \(envtest-v1\.36\.3-[\w-]+\.tar\.gz, sha512-checked\) from 127\.0\.0\.1:\d+$/);
  assert.deepEqual(requests.map((url) => url.replace(/envtest-v.*/, 'ARCHIVE')), ['/envtest-releases.yaml', '/download/ARCHIVE']);
});

test('envtest assets offline: the unreachable index fails fast, the build is said before it starts, a version the user asked for is never swapped', async () => {
  const indexUrl = await unreachableIndex();
  const cacheDir = mkdtempSync(join(tmpdir(), 'kf-cache-'));
  const events: string[] = [];
  const started = Date.now();
  const provided = await provideEnvtestAssets({
    cwd: suiteModule(), cacheDir, indexUrl, nodePath: process.execPath,
    localBinaries: async () => {
      events.push('build started');
      const dir = join(cacheDir, 'built');
      mkdirSync(dir, { recursive: true });
      for (const name of ['etcd', 'kube-apiserver']) writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
      return dir;
    },
    progress: (line) => events.push(line),
  });
  assert.ok(Date.now() - started < 5_000, 'an unreachable index costs no long timeout');
  assert.equal(events.length, 2);
  assert.match(events[0]!, /^envtest: the release archives are unreachable \(127\.0\.0\.1:\d+: ECONNREFUSED\): using etcd and kube-apiserver built from Go modules instead$/);
  assert.equal(events[1], 'build started');
  assert.match(provided?.source ?? '', /^kubeflake's build from Go modules \(.*built\), the release archives being unreachable$/);
  await provided?.remove();

  await assert.rejects(
    provideEnvtestAssets({ cwd: suiteModule(), cacheDir, indexUrl, nodePath: process.execPath, kubernetesVersion: '1.33', localBinaries: async () => assert.fail('a build would swap the asked version') }),
    (error: unknown) => error instanceof ReleaseUnreachable && /cannot reach .* set KUBEBUILDER_ASSETS/.test((error as Error).message),
  );
});

test('envtest assets offline with the release cached earlier: the cache serves, nothing is built', async (t) => {
  const { indexUrl } = await releaseServer(t, '1.36.2');
  const cacheDir = mkdtempSync(join(tmpdir(), 'kf-cache-'));
  const online = await envtestReleaseAssets({ version: '1.36', cacheDir, indexUrl });
  assert.equal(online.cached, false);
  const offline = await envtestReleaseAssets({ version: '1.36', cacheDir, indexUrl: await unreachableIndex() });
  assert.deepEqual(offline, { dir: online.dir, version: '1.36.2', cached: true });
  await assert.rejects(envtestReleaseAssets({ version: '1.35', cacheDir, indexUrl: await unreachableIndex() }), ReleaseUnreachable, 'another minor is not served from the cache');
});

/** tools/build.sh's contract (args: binaries to build; --where; the folder printed last), recording what it was asked. */
function fakeBuildScript(): { script: string; cacheDir: string; calls: () => string[] } {
  const root = mkdtempSync(join(tmpdir(), 'kf-tools-'));
  mkdirSync(join(root, 'kube'));
  writeFileSync(join(root, 'kube', 'go.mod'), 'module x\n\nrequire k8s.io/kubernetes v1.36.3\n');
  const cacheDir = join(root, 'cache');
  const script = join(root, 'build.sh');
  writeFileSync(script, [
    '#!/usr/bin/env bash',
    'set -e',
    'out="$KUBEFLAKE_CACHE/k8s-v1.36.3"',
    'if [[ "$1" == --where ]]; then echo "$out"; exit 0; fi',
    'mkdir -p "$out"',
    'echo "$*" >> "$KUBEFLAKE_CACHE/calls"',
    'for name in "$@"; do echo "building $name (1 of $#)" >&2; printf "#!/bin/sh\\necho built %s\\n" "$name" > "$out/$name"; chmod +x "$out/$name"; echo "built $name in 1 s" >&2; done',
    'echo "$out"',
  ].join('\n'));
  const calls = () => (existsSync(join(cacheDir, 'calls')) ? readFileSync(join(cacheDir, 'calls'), 'utf8').trim().split('\n') : []);
  return { script, cacheDir, calls };
}

test('the local cluster: etcd and kube-apiserver from the envtest release of kubeflake\'s Kubernetes minor, only kube-controller-manager built', async (t) => {
  const { indexUrl } = await releaseServer(t, '1.36.3');
  const { script, cacheDir, calls } = fakeBuildScript();
  const said: string[] = [];
  const binaries = await localControlPlaneBinaries({
    buildScript: script, cacheDir,
    release: (version) => envtestReleaseAssets({ version, cacheDir, indexUrl }),
    isUnreachable: (error) => error instanceof ReleaseUnreachable,
    progress: (line) => said.push(line),
  });
  assert.deepEqual(calls(), ['kube-controller-manager'], 'only the binary no envtest archive holds is built');
  assert.equal(binaries.description, 'etcd and kube-apiserver from the envtest 1.36.3 release, kube-controller-manager built from Go modules');
  assert.match(said[0]!, /^etcd and kube-apiserver from the envtest 1\.36\.3 release; kube-controller-manager is in no envtest archive: building it/);
  assert.equal(readlinkSync(join(binaries.dir, 'kube-apiserver')), join(cacheDir, 'envtest', `1.36.3-${os}-${arch}`, 'kube-apiserver'));
  assert.equal((await runProcess([join(binaries.dir, 'kube-controller-manager')], { capture: true })).stdout.trim(), 'built kube-controller-manager');

  // Again: the same folder, nothing built twice.
  const again = await localControlPlaneBinaries({ buildScript: script, cacheDir, release: (version) => envtestReleaseAssets({ version, cacheDir, indexUrl }), isUnreachable: () => false });
  assert.equal(again.dir, binaries.dir);
  assert.deepEqual(calls(), ['kube-controller-manager', 'kube-controller-manager'], 'build.sh is asked again and finds its binary (it reuses what it built)');
});

test('the local cluster offline: all three are built from Go modules, said before the build starts', async () => {
  const indexUrl = await unreachableIndex();
  const { script, cacheDir, calls } = fakeBuildScript();
  const said: string[] = [];
  const binaries = await localControlPlaneBinaries({
    buildScript: script, cacheDir,
    release: (version) => envtestReleaseAssets({ version, cacheDir, indexUrl }),
    isUnreachable: (error) => error instanceof ReleaseUnreachable,
    progress: (line) => said.push(calls().length === 0 ? `before the build: ${line}` : line),
  });
  assert.deepEqual(calls(), ['etcd kube-apiserver kube-controller-manager']);
  assert.match(said[0]!, /^before the build: the envtest release archives are unreachable \(cannot reach http:\/\/127\.0\.0\.1:\d+\/envtest-releases\.yaml \(ECONNREFUSED\)\): building etcd, kube-apiserver and kube-controller-manager from Go modules instead$/);
  assert.equal(binaries.dir, join(cacheDir, 'k8s-v1.36.3'));
  // With the three built, the next hunt asks no index at all.
  const next = await localControlPlaneBinaries({ buildScript: script, cacheDir, release: () => assert.fail('no network is asked when the build is there'), isUnreachable: () => true });
  assert.equal(next.dir, binaries.dir);
});
