import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionCluster, serverOf, type ProvisionOptions } from '../../src/cluster/provision.ts';

// A stand-in for the kind CLI (no Docker here): it records its argv and writes a kubeconfig.
function fakeKind(existingClusters: string[]): { command: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'kf-fake-kind-'));
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  const script = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
if (args[0] === 'get') { process.stdout.write(${JSON.stringify(existingClusters.join('\n'))} + '\\n'); process.exit(0); }
const at = args.indexOf('--kubeconfig');
if (at >= 0) fs.writeFileSync(args[at + 1], 'apiVersion: v1\\nkind: Config\\ncurrent-context: kind-x\\ncontexts:\\n- name: kind-x\\n  context: {cluster: kind-x}\\nclusters:\\n- name: kind-x\\n  cluster: {server: "https://127.0.0.1:39999"}\\n');
`;
  const command = join(dir, 'kind');
  writeFileSync(command, script);
  chmodSync(command, 0o755);
  return { command, calls: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

function options(overrides: Partial<ProvisionOptions>): ProvisionOptions {
  return { cluster: 'kind', buildScript: '/nonexistent', cacheDir: '/nonexistent', kindName: 'kubeflake', workDir: mkdtempSync(join(tmpdir(), 'kf-work-')), log: () => {}, ...overrides };
}

test('kind: creates the cluster with its own kubeconfig and deletes it on teardown', async () => {
  const kind = fakeKind([]);
  const cluster = await provisionCluster(options({ kindCommand: kind.command, kindImage: 'kindest/node:v1.36.3' }));
  assert.equal(cluster.server, 'https://127.0.0.1:39999');
  await cluster.teardown();
  const calls = kind.calls();
  assert.deepEqual(calls[0], ['get', 'clusters']);
  assert.deepEqual(calls[1]!.slice(0, 4), ['create', 'cluster', '--name', 'kubeflake']);
  assert.ok(calls[1]!.includes('--image') && calls[1]!.includes('kindest/node:v1.36.3'));
  assert.deepEqual(calls[2], ['delete', 'cluster', '--name', 'kubeflake']);
});

test('kind: a cluster that already existed is used and never deleted', async () => {
  const kind = fakeKind(['other', 'kubeflake']);
  const cluster = await provisionCluster(options({ kindCommand: kind.command }));
  await cluster.teardown();
  const verbs = kind.calls().map((call) => call[0]);
  assert.deepEqual(verbs, ['get', 'export']);
  assert.match(cluster.description, /existing, kept/);
});

test('existing: takes the kubeconfig as it is and reads its current server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-kc-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'current-context: b\ncontexts:\n- {name: a, context: {cluster: ca}}\n- {name: b, context: {cluster: cb}}\nclusters:\n- {name: ca, cluster: {server: "https://a:1"}}\n- {name: cb, cluster: {server: "https://b:2"}}\n');
  const cluster = await provisionCluster(options({ cluster: 'existing', kubeconfig: file }));
  assert.equal(cluster.server, 'https://b:2');
  assert.equal(cluster.kubeconfigPath, file);
});

test('a kubeconfig without a server for its context is a clear error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-kc-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'current-context: nope\n');
  await assert.rejects(serverOf(file), new RegExp(`${file}.*names no server`));
});
