// The action keeps the built control plane in the Actions cache: the real @actions/cache client
// talks to a local server speaking the cache service's REST protocol (v1: look up by key,
// reserve, upload in ranges, commit, download the archive). A first job saves what it built; a
// second job on a fresh machine restores it and builds nothing.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../src/settings.ts';
import { restoreControlPlane, saveControlPlane } from '../../src/control-plane-cache.ts';

interface Entry { key: string; version: string; chunks: Buffer[]; committed: boolean }

async function cacheService() {
  const entries: Entry[] = [];
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    calls.push(`${req.method} ${url.pathname}`);
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk)).on('end', () => {
      const json = (status: number, value?: unknown) => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(value === undefined ? undefined : JSON.stringify(value));
      };
      const id = Number(/\/caches\/(\d+)$/.exec(url.pathname)?.[1] ?? 0) - 1;
      if (req.method === 'GET' && url.pathname === '/_apis/artifactcache/cache') {
        const keys = (url.searchParams.get('keys') ?? '').split(',');
        const found = entries.findIndex((e) => e.committed && keys.includes(e.key) && e.version === url.searchParams.get('version'));
        return found < 0 ? json(204) : json(200, { cacheKey: entries[found]!.key, archiveLocation: `http://127.0.0.1:${port}/archive/${found + 1}` });
      }
      if (req.method === 'POST' && url.pathname === '/_apis/artifactcache/caches') {
        const { key, version } = JSON.parse(Buffer.concat(body).toString()) as { key: string; version: string };
        if (entries.some((e) => e.key === key && e.version === version)) return json(409, { message: 'already exists' });
        entries.push({ key, version, chunks: [], committed: false });
        return json(201, { cacheId: entries.length }); // ids start at 1: the client treats 0 as none
      }
      if (req.method === 'PATCH' && entries[id]) {
        entries[id].chunks.push(Buffer.concat(body));
        return json(204);
      }
      if (req.method === 'POST' && entries[id]) {
        entries[id].committed = true;
        return json(204);
      }
      const archive = /^\/archive\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && archive && entries[Number(archive[1]) - 1]) {
        const bytes = Buffer.concat(entries[Number(archive[1]) - 1]!.chunks);
        res.setHeader('content-length', String(bytes.length));
        return res.end(bytes);
      }
      json(404, { message: 'no such route' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, server, entries, calls };
}

/** A runner whose environment points @actions/cache at a fresh local cache service. */
async function runnerWithCache(t: TestContext) {
  const service = await cacheService();
  t.after(() => service.server.close());
  const runner = mkdtempSync(join(tmpdir(), 'kf-runner-'));
  Object.assign(process.env, { ACTIONS_CACHE_URL: service.url, ACTIONS_RUNTIME_TOKEN: 'token', RUNNER_TEMP: runner, GITHUB_WORKSPACE: runner });
  const settings = parseSettings({ command: ['ginkgo'], cluster: 'local' }, { KUBEFLAKE_CACHE: join(runner, 'cache') });
  return { service, runner, settings };
}

test('a job saves the control plane it built; the next job restores it and has nothing to build', async (t) => {
  const service = await cacheService();
  t.after(() => service.server.close());
  const runner = mkdtempSync(join(tmpdir(), 'kf-runner-'));
  Object.assign(process.env, { ACTIONS_CACHE_URL: service.url, ACTIONS_RUNTIME_TOKEN: 'token', RUNNER_TEMP: join(runner, 'temp'), GITHUB_WORKSPACE: runner });
  mkdirSync(join(runner, 'temp'));
  const cacheDir = join(runner, 'cache');
  const settings = parseSettings({ command: ['go', 'test', './...'], cluster: 'local' }, { KUBEFLAKE_CACHE: cacheDir });

  // First job: nothing cached; the hunt builds the binaries (stood in by files here); saved after.
  const first = await restoreControlPlane(settings);
  assert.ok(first, 'cluster=local on a runner with a cache service uses the cache');
  assert.equal(first.hit, false);
  assert.match(first.key, new RegExp(`^kubeflake-control-plane-k8s-v[\\d.]+-etcd-v[\\d.]+-${process.platform}-${process.arch}$`));
  mkdirSync(first.dir, { recursive: true });
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager']) writeFileSync(join(first.dir, name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
  await saveControlPlane(first);
  assert.equal(service.entries.filter((e) => e.committed).length, 1);
  assert.deepEqual(service.entries.map((e) => e.key), [first.key]);

  // Second job, fresh machine: restored exactly, so nothing is saved again.
  rmSync(cacheDir, { recursive: true, force: true });
  const second = await restoreControlPlane(settings);
  assert.equal(second?.hit, true);
  assert.equal(readFileSync(join(second.dir, 'kube-apiserver'), 'utf8'), '#!/bin/sh\necho kube-apiserver\n');
  const before = service.calls.length;
  await saveControlPlane(second);
  assert.equal(service.calls.length, before, 'an exact hit is not uploaded again');
});

test('a half-built folder is not saved, and other cluster kinds never touch the cache', async (t) => {
  const { service, runner, settings } = await runnerWithCache(t);
  const entry = await restoreControlPlane(settings);
  mkdirSync(entry!.dir, { recursive: true });
  writeFileSync(join(entry!.dir, 'etcd'), 'x');
  await saveControlPlane(entry);
  assert.deepEqual(service.entries, [], 'a build that stopped halfway is not cached');
  const calls = service.calls.length;
  assert.equal(await restoreControlPlane({ ...settings, cluster: 'kind' }), undefined);
  assert.equal(service.calls.length, calls);
  assert.ok(!existsSync(join(runner, 'cache', 'kind')));
});

test('when another job saved the same binaries first, the step says it did not save them, and goes on', async (t) => {
  const { settings } = await runnerWithCache(t);
  const entry = (await restoreControlPlane(settings))!;
  mkdirSync(entry.dir, { recursive: true });
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager']) writeFileSync(join(entry.dir, name), name);
  await saveControlPlane(entry);
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => printed.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    await saveControlPlane({ ...entry }); // a parallel job of the same workflow, same key
  } finally {
    process.stdout.write = write;
  }
  const said = printed.join('');
  assert.match(said, /control-plane binaries not saved to the Actions cache \(kubeflake-control-plane-/);
  assert.doesNotMatch(said, /binaries saved to the Actions cache/);
});
