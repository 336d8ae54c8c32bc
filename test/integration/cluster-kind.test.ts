// The real kind CLI (the pinned version, built from the Go module proxy) driven through
// kubeflake's provisioning. No Docker engine runs here, so every case is one a real runner can
// hit before a cluster exists: no docker command, a daemon that is down, a node image that does
// not exist, a create that hangs, a config file that is missing. For the middle three the real
// kind talks to a stand-in `docker` (test/support/kind.ts); kind's own code decides what to run
// and what to print. A successful create is covered by a stand-in kind in
// test/unit/cluster-provision.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { provisionCluster, type ProvisionOptions } from '../../src/cluster/provision.ts';
import { explainKindFailure, kindCli, kindCreateArgs, kindRecordFile } from '../../src/cluster/kind.ts';
import { runProcess } from '../../src/exec.ts';
import { fakeDocker, realKind } from '../support/kind.ts';

const kind = await realKind();
// Only the basics on PATH, so `docker` is whatever the case puts there.
const basePath = ['/usr/bin', '/bin'].join(delimiter);

function options(overrides: Partial<ProvisionOptions>): ProvisionOptions {
  return {
    cluster: 'kind', buildScript: '/nonexistent', cacheDir: '/nonexistent', kindName: 'kf-test', kindCommand: kind,
    workDir: mkdtempSync(join(tmpdir(), 'kf-kind-')), log: () => {}, ...overrides,
  };
}

test('the pinned kind is the one under test', async () => {
  const version = await runProcess([kind, 'version'], { capture: true });
  assert.match(version.stdout, /^kind v0\.30\.0 /);
});

test('no docker command: a clear error before anything is created', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'kf-nodocker-'));
  const opts = options({ kindEnv: { PATH: `${empty}${delimiter}${basePath}`, HOME: tmpdir() } });
  await assert.rejects(provisionCluster(opts), (error: Error) => {
    assert.match(error.message, /^`kind get clusters` failed: kind needs Docker \(or Podman\) and there is no `docker` command on PATH\. .*use cluster: local\.$/);
    return true;
  });
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)));
});

test('docker installed, daemon down: says to start Docker', async (t) => {
  const docker = await runProcess(['sh', '-c', 'command -v docker'], { capture: true });
  if (docker.exitCode !== 0) return t.skip('no docker CLI on this machine to point at a missing daemon');
  const dir = docker.stdout.trim().replace(/\/docker$/, '');
  const opts = options({ kindEnv: { PATH: `${dir}${delimiter}${basePath}`, HOME: tmpdir(), DOCKER_HOST: `unix://${join(tmpdir(), 'kf-no-daemon.sock')}` } });
  await assert.rejects(provisionCluster(opts), /^Error: `kind get clusters` failed: the docker command is installed but the Docker daemon is not running/);
});

test('a node image that does not exist: names the image and the registry\'s answer, leaves no record', async () => {
  const docker = fakeDocker();
  const opts = options({ kindImage: 'kindest/node:v0.0.0-nope', kindEnv: { PATH: `${docker.binDir}${delimiter}${basePath}`, HOME: tmpdir() } });
  await assert.rejects(provisionCluster(opts), (error: Error) => {
    assert.match(error.message, /^`kind create cluster --name kf-test --kubeconfig \S+ --retain --config \S+kind-config\.yaml --image kindest\/node:v0\.0\.0-nope` failed: the node image kindest\/node:v0\.0\.0-nope could not be pulled \(Error response from daemon: manifest for kindest\/node:v0\.0\.0-nope not found: manifest unknown: manifest unknown\)\. Check kind-image/);
    return true;
  });
  // kind understood every argument: it looked for exactly our image, then tried to pull it.
  const calls = docker.calls();
  assert.ok(calls.includes('docker inspect --type=image kindest/node:v0.0.0-nope'), calls.join('\n'));
  assert.ok(calls.includes('docker pull kindest/node:v0.0.0-nope'));
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)), 'nothing was created, so nothing is left for the post step');
});

test('a create that hangs is stopped at the limit with a clear message', async () => {
  const docker = fakeDocker({ hangOnPull: true });
  const lines: string[] = [];
  const opts = options({ kindImage: 'kindest/node:v1.34.0', kindCreateTimeoutMs: 4_000, log: (line) => lines.push(line), kindEnv: { PATH: `${docker.binDir}${delimiter}${basePath}`, HOME: tmpdir() } });
  const started = Date.now();
  await assert.rejects(provisionCluster(opts), /^Error: `kind create cluster .*` did not finish within 4 s and was stopped\. Docker may be slow to pull the node image kindest\/node:v1\.34\.0/);
  assert.ok(Date.now() - started < 60_000, 'the hung pull did not hold the step');
  assert.ok(docker.calls().includes('docker pull kindest/node:v1.34.0'));
  // A timed-out create may have left nodes: logs exported (nothing to export here), then deleted.
  assert.ok(docker.calls().some((call) => call.startsWith('docker ps -a --filter label=io.x-k8s.kind.cluster=kf-test')));
  assert.match(lines.join('\n'), /kind cluster kf-test deleted/);
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)));
});

test('a missing kind config file is named', async () => {
  const docker = fakeDocker();
  const opts = options({ kindConfig: '/nonexistent/kind.yaml', kindEnv: { PATH: `${docker.binDir}${delimiter}${basePath}`, HOME: tmpdir() } });
  await assert.rejects(provisionCluster(opts), /failed: the kind config file \/nonexistent\/kind\.yaml does not exist/);
});

test('the real kind accepts every argument kubeflake passes, and rejects one it does not know clearly', async () => {
  const docker = fakeDocker();
  const env = { PATH: `${docker.binDir}${delimiter}${basePath}`, HOME: tmpdir() };
  const cli = kindCli(kind, env);
  const args = kindCreateArgs({ name: 'kf-args', kubeconfigPath: join(tmpdir(), 'kf-args.kubeconfig'), configFile: '/nonexistent/x.yaml', image: 'kindest/node:v1.34.0' });
  const ours = await cli.run(args);
  assert.doesNotMatch(ours.stderr, /unknown flag/);
  const bogus = await cli.run([...args, '--wait-for-godot']);
  assert.equal(bogus.exitCode, 1);
  assert.match(explainKindFailure(bogus, { step: 'kind create cluster', name: 'kf-args' }), /this kind does not understand kubeflake's arguments \(ERROR: unknown flag: --wait-for-godot\)/);
  const deleted = await cli.run(['delete', 'cluster', '--name', 'kf-never-created']);
  assert.equal(deleted.exitCode, 0, 'deleting a cluster that is not there succeeds, so the post step may run twice');
});
