import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { provisionCluster, serverOf, throwawayReason, type ProvisionOptions } from '../../src/cluster/provision.ts';
import { kindRecordFile } from '../../src/cluster/kind.ts';
import { projectRoot } from '../support/paths.ts';

// A stand-in API server for the readiness wait: one node, Ready once asked `readyAfter` times,
// and the default service account. Plain HTTP, which the kube client speaks as well as HTTPS.
async function apiServer(readyAfter = 0): Promise<{ url: string; server: Server; nodeRequests: () => number }> {
  let nodeRequests = 0;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/v1/nodes') {
      const ready = nodeRequests++ >= readyAfter;
      res.end(JSON.stringify({ items: [{ metadata: { name: 'kubeflake-control-plane' }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }] }));
    } else if (req.url === '/api/v1/namespaces/default/serviceaccounts/default') {
      res.end(JSON.stringify({ metadata: { name: 'default' } }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'not found' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, nodeRequests: () => nodeRequests };
}

// A stand-in for the kind CLI (no Docker here, so the real one cannot create): it records its
// argv, writes a kubeconfig pointing at `server`, and fails `create` when told to.
function fakeKind(existingClusters: string[], server: string, createFails = ''): { command: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'kf-fake-kind-'));
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  const script = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
if (args[0] === 'get') { process.stdout.write(${JSON.stringify(existingClusters.join('\n'))} + '\\n'); process.exit(0); }
if (args[0] === 'create' && ${JSON.stringify(createFails)}) { process.stderr.write(${JSON.stringify(createFails)}); process.exit(1); }
if (args[0] === 'export' && args[1] === 'logs') { fs.mkdirSync(args[2], { recursive: true }); fs.writeFileSync(args[2] + '/kind-version.txt', 'fake'); }
const at = args.indexOf('--kubeconfig');
if (at >= 0) fs.writeFileSync(args[at + 1], 'apiVersion: v1\\nkind: Config\\ncurrent-context: kind-x\\ncontexts:\\n- name: kind-x\\n  context: {cluster: kind-x, user: u}\\nusers:\\n- name: u\\n  user: {token: t}\\nclusters:\\n- name: kind-x\\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\\n');
`;
  const command = join(dir, 'kind');
  writeFileSync(command, script);
  chmodSync(command, 0o755);
  return { command, calls: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

function options(overrides: Partial<ProvisionOptions>): ProvisionOptions {
  return { cluster: 'kind', buildScript: '/nonexistent', cacheDir: '/nonexistent', kindName: 'kubeflake', workDir: mkdtempSync(join(tmpdir(), 'kf-work-')), log: () => {}, kindReadyTimeoutMs: 10_000, ...overrides };
}

test('kind (stand-in CLI): creates with its own kubeconfig, waits for a Ready node, deletes on teardown', async (t) => {
  const api = await apiServer(2);
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  // The user's config: kubeflake creates the cluster from it with its audit setup merged in.
  const userConfig = join(mkdtempSync(join(tmpdir(), 'kf-kind-config-')), 'kind.yaml');
  writeFileSync(userConfig, 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: 10.99.0.0/16\n');
  const opts = options({ kindCommand: kind.command, kindImage: 'kindest/node:v1.34.0', kindConfig: userConfig });
  const cluster = await provisionCluster(opts);
  assert.equal(cluster.server, api.url);
  assert.ok(api.nodeRequests() >= 3, 'waited until the node reported Ready');
  assert.ok(existsSync(join(opts.workDir, kindRecordFile)), 'the created cluster is recorded for the post step');
  await cluster.teardown({ failed: false });
  const calls = kind.calls();
  assert.deepEqual(calls[0], ['get', 'clusters']);
  assert.deepEqual(calls[1], ['create', 'cluster', '--name', 'kubeflake', '--kubeconfig', join(opts.workDir, 'kind.kubeconfig'), '--retain',
    '--config', join(opts.workDir, 'kind-config.yaml'), '--image', 'kindest/node:v1.34.0']);
  const created = readFileSync(join(opts.workDir, 'kind-config.yaml'), 'utf8');
  assert.match(created, /podSubnet: 10\.99\.0\.0\/16/, 'the user\'s config is kept');
  assert.match(created, /audit-policy-file/, 'with the audit setup merged in');
  assert.deepEqual(calls[2], ['delete', 'cluster', '--name', 'kubeflake']);
  assert.equal(calls.length, 3, 'no log export when nothing failed');
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)), 'record removed once deleted');
});

test('kind (stand-in CLI): a failed hunt exports kind logs into the results folder before deleting', async (t) => {
  const api = await apiServer();
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  const opts = options({ kindCommand: kind.command });
  const cluster = await provisionCluster(opts);
  // The record: kind's audit setup in the config kubeflake creates the cluster with, its log on this host.
  assert.deepEqual(kind.calls()[1]?.slice(-2), ['--config', join(opts.workDir, 'kind-config.yaml')]);
  assert.match(readFileSync(join(opts.workDir, 'kind-config.yaml'), 'utf8'), /audit-policy-file/);
  assert.equal(cluster.auditLogs?.length, 1);
  assert.equal(statSync(cluster.auditLogs![0]!).mode & 0o777, 0o644, 'made readable by this user before the root API server keeps its owner and mode');
  await cluster.teardown({ failed: true });
  assert.ok(!existsSync(cluster.auditLogs![0]!), 'the log folder goes with the deleted cluster');
  const verbs = kind.calls().map((call) => call.slice(0, 2).join(' '));
  assert.deepEqual(verbs, ['get clusters', 'create cluster', 'export logs', 'delete cluster']);
  assert.deepEqual(kind.calls()[2], ['export', 'logs', join(opts.workDir, 'kind-logs'), '--name', 'kubeflake']);
  assert.ok(existsSync(join(opts.workDir, 'kind-logs', 'kind-version.txt')));
});

test('kind (stand-in CLI): keep-cluster leaves the created cluster running', async (t) => {
  const api = await apiServer();
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  const lines: string[] = [];
  const cluster = await provisionCluster(options({ kindCommand: kind.command, keepCluster: true, log: (line) => lines.push(line) }));
  await cluster.teardown({ failed: false });
  assert.deepEqual(kind.calls().map((call) => call[0]), ['get', 'create']);
  assert.match(lines.join('\n'), /kept running \(keep-cluster\); delete it with `kind delete cluster --name kubeflake`/);
});

test('kind (stand-in CLI): a cluster that already existed is used and never deleted', async (t) => {
  const api = await apiServer();
  t.after(() => api.server.close());
  const kind = fakeKind(['other', 'kubeflake'], api.url);
  const opts = options({ kindCommand: kind.command });
  const cluster = await provisionCluster(opts);
  await cluster.teardown({ failed: true });
  assert.deepEqual(kind.calls().map((call) => call[0]), ['get', 'export']);
  assert.match(cluster.description, /existing, kept/);
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)), 'a cluster kubeflake did not create is never recorded for deletion');
});

test('kind (stand-in CLI): a node that never becomes Ready is a clear error, and the cluster is not left behind', async (t) => {
  const api = await apiServer(Infinity);
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  const opts = options({ kindCommand: kind.command, kindReadyTimeoutMs: 1_500 });
  await assert.rejects(provisionCluster(opts), /did not become ready within 2 s: still waiting for node\(s\) to become Ready: kubeflake-control-plane/);
  assert.deepEqual(kind.calls().slice(2).map((call) => call.slice(0, 2).join(' ')), ['export logs', 'delete cluster']);
});

test('the post step (src/post.ts, run as the runner runs it) deletes the cluster an interrupted main step created', async (t) => {
  const api = await apiServer();
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  const opts = options({ kindCommand: kind.command });
  await provisionCluster(opts); // the main step is cancelled here: no teardown
  const post = await runProcess([process.execPath, join(projectRoot, 'src', 'post.ts')], { capture: true, extraEnv: { STATE_results: opts.workDir } });
  assert.equal(post.exitCode, 0, post.stderr);
  assert.match(post.stdout, /the kind cluster kubeflake is still recorded/);
  assert.deepEqual(kind.calls().slice(2).map((call) => call.slice(0, 2).join(' ')), ['export logs', 'delete cluster']);
  assert.ok(!existsSync(join(opts.workDir, kindRecordFile)));

  const again = await runProcess([process.execPath, join(projectRoot, 'src', 'post.ts')], { capture: true, extraEnv: { STATE_results: opts.workDir } });
  assert.match(again.stdout, /no kind cluster left to clean up/);
  assert.equal(kind.calls().length, 4, 'a finished main step leaves the post step nothing to do');
});

test('the post step keeps a cluster created with keep-cluster, after exporting its logs', async (t) => {
  const api = await apiServer();
  t.after(() => api.server.close());
  const kind = fakeKind([], api.url);
  const opts = options({ kindCommand: kind.command, keepCluster: true });
  await provisionCluster(opts);
  const post = await runProcess([process.execPath, join(projectRoot, 'src', 'post.ts')], { capture: true, extraEnv: { STATE_results: opts.workDir } });
  assert.equal(post.exitCode, 0, post.stderr);
  assert.deepEqual(kind.calls().slice(2).map((call) => call.slice(0, 2).join(' ')), ['export logs']);
  assert.match(post.stdout, /kept running/);
});

test('existing: takes the kubeconfig as it is and reads its current server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-kc-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'current-context: b\ncontexts:\n- {name: a, context: {cluster: ca}}\n- {name: b, context: {cluster: cb}}\nclusters:\n- {name: ca, cluster: {server: "https://a:1"}}\n- {name: cb, cluster: {server: "https://b:2"}}\n');
  const cluster = await provisionCluster(options({ cluster: 'existing', kubeconfig: file }));
  assert.equal(cluster.server, 'https://b:2');
  assert.equal(cluster.kubeconfigPath, file);
});

test('existing: a shared-looking context warns and cleans up in dry run unless cleanup-existing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-kc-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'current-context: prod-eu\ncontexts:\n- {name: prod-eu, context: {cluster: gke_prod}}\nclusters:\n- {name: gke_prod, cluster: {server: "https://34.1.2.3"}}\n');
  const cautious = await provisionCluster(options({ cluster: 'existing', kubeconfig: file }));
  assert.equal(cautious.cleanupDryRun, true);
  assert.match(cautious.warning ?? '', /context "prod-eu" \(https:\/\/34\.1\.2\.3\) does not look like a throwaway test cluster.*dry run.*cleanup-existing: true/);
  const told = await provisionCluster(options({ cluster: 'existing', kubeconfig: file, cleanupExisting: true }));
  assert.equal(told.cleanupDryRun, false);
  assert.match(told.warning ?? '', /cleanup deletes what the runs leave, because cleanup-existing is true/);

  writeFileSync(file, 'current-context: kind-kubeflake\ncontexts:\n- {name: kind-kubeflake, context: {cluster: kind-kubeflake}}\nclusters:\n- {name: kind-kubeflake, cluster: {server: "https://127.0.0.1:40000"}}\n');
  const kind = await provisionCluster(options({ cluster: 'existing', kubeconfig: file }));
  assert.equal(kind.cleanupDryRun, undefined);
  assert.equal(kind.warning, undefined);
});

test('throwaway clusters: kind, local and loopback ones; anything else may be shared', () => {
  const is = (context: string, server: string, cluster = context) => throwawayReason({ context, cluster, server });
  assert.equal(is('kind-ci', 'https://10.0.0.5:6443'), 'a kind cluster');
  assert.equal(is('minikube', 'https://192.168.49.2:8443'), 'a local cluster');
  assert.equal(is('docker-desktop', 'https://kubernetes.docker.internal:6443'), 'a local cluster');
  assert.equal(is('kubeflake-local', 'https://10.1.1.1'), 'a local cluster');
  assert.equal(is('envtest', 'https://127.0.0.1:34567'), 'a loopback server');
  assert.equal(is('dev', 'https://[::1]:6443'), 'a loopback server');
  assert.equal(is('dev', 'https://localhost:6443'), 'a loopback server');
  assert.equal(is('dev', 'https://[::ffff:127.0.0.1]:6443'), 'a loopback server');
  assert.equal(is('prod', 'https://api.prod.example.com'), undefined);
  assert.equal(is('arn:aws:eks:eu-west-1:1:cluster/kind-of-prod', 'https://ABC.eks.amazonaws.com'), undefined, '"kind" inside a name is not kind');
});

test('a kubeconfig without a server for its context is a clear error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-kc-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'current-context: nope\n');
  await assert.rejects(serverOf(file), new RegExp(`${file}.*names no server`));
});
