// envtest mode on the local binaries: the example operator's real Ginkgo suite, run by plain
// `go test ./...` with kubeflake's wrapped KUBEBUILDER_ASSETS, starts its own control plane;
// kubeflake sees the instance, records its timeline, finds the leaks and their creators from the
// ground truth, and the shim holds the server's shutdown until the last snapshot, never longer
// than its bound; the real server writes the audit record kubeflake copies. Also: the envtest
// release download path against a local HTTP server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provideEnvtestAssets, wrapAssetsOfBinary, wrapEnvtestAssets, HOLD_ENV, OBSERVATION_ENV, SHIM_CONFIG, type WrappedAssets } from '../../src/envtest/assets.ts';
import { envtestReleaseAssets, goPlatform } from '../../src/envtest/release.ts';
import type { EnvtestShimStop } from '../../src/envtest/kube-apiserver-shim.ts';
import { envtestRunLeaks, readEnvtestEvidence, type EnvtestInstance } from '../../src/envtest/evidence.ts';
import { observeEnvtest } from '../../src/envtest/observe.ts';
import { DEFAULT_NOISE_RULES } from '../../src/cluster/noise.ts';
import { readTimeline } from '../../src/results.ts';
import { timelineEvents } from '../../src/cluster/watch.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { mergeReports } from '../../src/ingest/run.ts';
import { runProcess } from '../../src/exec.ts';
import { readRunRecord } from '../../src/record/read.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { testId, type LeakReport, type RunResult } from '../../src/model.ts';
import { testBinaries } from '../support/cluster.ts';
import { fixtures, projectRoot } from '../support/paths.ts';

const example = join(projectRoot, 'examples', 'modelcache');
const suite = 'ModelCache Controller Suite';
const work = mkdtempSync(join(tmpdir(), 'kf-envtest-'));
after(() => rmSync(work, { recursive: true, force: true }));

let wrapped: WrappedAssets;
before(async () => {
  wrapped = await wrapEnvtestAssets({ realDir: await testBinaries(), workDir: work, nodePath: process.execPath });
});

/** The environment of a user's shell without a cluster: the suite must start its own envtest. */
function envtestEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(KUBECONFIG|USE_EXISTING_CLUSTER|KUBEBUILDER_ASSETS|KUBEFLAKE_)/.test(key)) env[key] = value;
  return { ...env, ...extra };
}

async function goTest(runDir: string, seed: number, extraArgs: string[], env: Record<string, string>) {
  mkdirSync(runDir, { recursive: true });
  const startedAt = Date.now();
  const result = await runProcess(['go', 'test', './...', '-count=1', '-ginkgo.randomize-all', `-ginkgo.seed=${seed}`, `-ginkgo.json-report=${join(runDir, 'ginkgo.json')}`, ...extraArgs], {
    cwd: example,
    env: envtestEnv(env),
    capture: true,
  });
  const endedAt = Date.now();
  writeFileSync(join(runDir, 'log.txt'), result.stdout + result.stderr);
  return { result, startedAt, endedAt };
}

async function runResult(runDir: string, startedAt: number, endedAt: number, exitCode: number | null): Promise<RunResult> {
  const merged = mergeReports([await parseReport(join(runDir, 'ginkgo.json'))]);
  return {
    id: '000', seed: 7, probe: false, command: ['go', 'test', './...'], exitCode, timedOut: false,
    startedAt, endedAt, durationMs: endedAt - startedAt, orderSource: merged.orderSource, order: merged.order, cases: merged.cases, reports: ['ginkgo.json'], warnings: [],
  };
}

const id = (name: string) => testId(suite, name);
const leaker = id('ModelCache tenancy grants a tenant namespace read access to its caches');
const stateSetter = id('ModelCache platform defaults publishes the default shard count for tenants');
const polluter = id('ModelCache lifecycle evicts the iris2 cache on delete');
const cleaner = id('ModelCache inventory counts every cache in the cluster');

test('plain `go test ./...` of a suite that starts its own envtest: kubeflake sees inside it, and holds its shutdown for the last snapshot', { timeout: 600_000 }, async () => {
  const runDir = join(work, 'runs', '000');
  const logLines: string[] = [];
  const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: example, log: (line) => logLines.push(line) });
  const { result, startedAt, endedAt } = await goTest(runDir, 7, [], wrapped.env);
  const instances = await observation.finish();
  const output = result.stdout + result.stderr;

  // The suite ran in envtest mode, on the wrapped assets, and its planted failures are Ginkgo's.
  assert.match(output, /Running Suite: ModelCache Controller Suite/, output.slice(-2000));
  assert.equal(instances.length, 1, `one control plane for the one package with tests; log: ${logLines.join(' | ')}`);
  const instance = instances[0] as EnvtestInstance;
  assert.equal(instance.package, './internal/controller');
  assert.deepEqual(instance.problems, []);
  assert.ok(instance.readyAt && instance.baselineAt && instance.lastSnapshotAt && instance.releasedAt && instance.stopRequestedAt, JSON.stringify(instance));

  // Shutdown: envtest asked, kubeflake took its last snapshot of a live server, then released it;
  // the shim held no longer than that, and far less than its bound.
  const hold = instance.hold!;
  assert.equal(hold.endedBy, 'released');
  // Startup: envtest's port opened only once kubeflake had its baseline and watch.
  assert.equal(hold.start?.endedBy, 'observed');
  assert.ok(hold.start.openedAt >= instance.baselineAt!, `opened ${hold.start.openedAt - instance.baselineAt!} ms after the baseline`);
  assert.ok(instance.stopRequestedAt! <= instance.lastSnapshotAt!, 'the last snapshot came after envtest asked to stop');
  assert.ok(instance.lastSnapshotAt! <= instance.releasedAt!);
  assert.ok(hold.exitedAt >= instance.releasedAt!, 'the real server outlived the last snapshot');
  assert.ok(hold.heldMs <= hold.holdMs, `held ${hold.heldMs} ms, bound ${hold.holdMs} ms`);
  const [evidence] = await readEnvtestEvidence(runDir);
  assert.equal(evidence?.after?.complete, true, 'the last snapshot is complete: the server was still there');
  assert.ok((evidence?.after?.objects.length ?? 0) > (evidence?.baseline?.objects.length ?? 0));

  // The timeline holds the suite's creations: caches (a type the suite's CRD brought mid-run), namespaces.
  const timeline = timelineEvents((await readTimeline(join(runDir, 'envtest', instance.id, 'timeline.jsonl'))).entries);
  assert.equal(instance.timelineEvents, timeline.length);
  const caches = timeline.filter((e) => e.verb === 'created' && e.object.kind === 'ModelCache').map((e) => e.object.name);
  for (const name of ['iris2', 'mnist']) assert.ok(caches.includes(name), `${name}: ${caches.join(',')}`);
  assert.ok(timeline.some((e) => e.verb === 'created' && e.object.kind === 'Namespace' && e.object.name === 'modelcache-system'));

  // Leaks and their creators, as the ground truth says.
  const run = await runResult(runDir, startedAt, endedAt, result.exitCode);
  assert.ok(run.cases.length >= 20, `${run.cases.length} specs in the report`);
  // As the hunt attributes them: by the instance's record, the watch where the record says nothing
  // (watch-only attribution is the fallback, judged under load in cluster-attribution-load).
  const record = await readRunRecord(runDir, [instance.id]);
  assert.ok(record?.envtest[instance.id], 'the instance kept its record');
  const leaks = envtestRunLeaks([evidence!], run, DEFAULT_NOISE_RULES, undefined, (i) => record?.envtest[i.id]?.entries).flat();
  const leak = (kind: string, name: RegExp, namespace?: RegExp): LeakReport | undefined =>
    leaks.find((l) => l.kind === kind && name.test(l.name) && (namespace === undefined || namespace.test(l.namespace)));
  const tenant = /^modelcache-tenant-[a-z0-9]{5}$/;
  assert.equal(leak('Namespace', tenant)?.createdBy, leaker, JSON.stringify(leak('Namespace', tenant)));
  assert.equal(leak('ClusterRole', /^modelcache-tenant-reader-[a-z0-9]{5}$/)?.createdBy, leaker);
  assert.equal(leak('Namespace', /^modelcache-system$/)?.createdBy, stateSetter);
  // What a spec makes inside its namespace in the same millisecond can reach the watch after two
  // more one-millisecond specs began on a loaded machine: attribution then says it is unsure
  // (ambiguousWith) until it gives namespace contents to the namespace's maker (issue 7, attribution).
  for (const [kind, name, namespace, creator] of [
    ['ConfigMap', /^tenant-config$/, tenant, leaker], ['Secret', /^registry-credentials$/, tenant, leaker],
    ['RoleBinding', /^modelcache-reader$/, tenant, leaker], ['ConfigMap', /^modelcache-defaults$/, /^modelcache-system$/, stateSetter],
  ] as [string, RegExp, RegExp, string][]) {
    const found = leak(kind, name, namespace);
    assert.ok(found && (found.createdBy === creator || found.ambiguousWith !== undefined), `${kind} ${name}: ${JSON.stringify(found)}`);
  }
  const iris2 = leak('ModelCache', /^iris2$/);
  const order = run.order;
  const cleanedAfter = order.indexOf(cleaner) > order.indexOf(polluter);
  if (!cleanedAfter) {
    // Created the moment the polluter began, right after a spec of a few milliseconds: attribution
    // names the polluter, or says it is unsure and lists it among the candidates.
    assert.ok(iris2 && (iris2.createdBy === polluter || iris2.ambiguousWith === polluter || iris2.candidates?.includes(polluter)), JSON.stringify(iris2));
    assert.equal(iris2?.terminating, true);
    assert.deepEqual(iris2?.finalizers, ['cache.kubeflake.dev/drain-shards']);
  }
  assert.equal(leak('CustomResourceDefinition', /./), undefined, 'envtest installed the CRD: part of the instance, not a leak');
  assert.deepEqual(leaks.filter((l) => l.createdBy === null && l.deletedBy === undefined).map((l) => `${l.kind} ${l.name}`), [], 'every leak has its creator');

  // The record: the instance's audit log, whole once the server exited, copied untouched. It holds
  // the suite's own requests (its test binary's user agent), creates and deletes alike, and none of kubeflake's.
  assert.deepEqual(instance.record, { bytes: statSync(join(runDir, 'envtest', instance.id, 'audit.jsonl')).size, complete: true });
  const events = readFileSync(join(runDir, 'envtest', instance.id, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((line) => JSON.parse(line) as { stage: string; verb: string; user: { username: string }; userAgent?: string; objectRef?: { resource?: string; name?: string }; responseStatus?: { code?: number } });
  assert.ok(events.length > 0);
  assert.deepEqual([...new Set(events.map((e) => e.stage))], ['ResponseComplete']);
  const suiteEvents = events.filter((e) => e.userAgent?.startsWith('controller.test/'));
  const verbsOf = (name: string) => suiteEvents.filter((e) => e.objectRef?.resource === 'modelcaches' && e.objectRef.name === name).map((e) => e.verb);
  assert.ok(verbsOf('iris2').includes('create') && verbsOf('iris2').includes('delete'), `iris2: ${verbsOf('iris2').join(',')}`);
  assert.ok(suiteEvents.some((e) => e.verb === 'create' && e.objectRef?.resource === 'namespaces'));
  assert.deepEqual(events.filter((e) => e.user.username === 'kubeflake' || e.userAgent?.startsWith('kubeflake/')).length, 0, 'kubeflake\'s own snapshots and watch are not in the record');
  assert.deepEqual(events.filter((e) => e.verb === 'list' || e.verb === 'watch').length, 0);

  // The token never reaches what kubeflake keeps.
  for (const file of readdirSync(runDir, { recursive: true }) as string[]) {
    const path = join(runDir, file);
    if (existsSync(path) && !file.endsWith('/') && readdirSafe(path) === undefined) assert.ok(!readFileSync(path, 'utf8').includes(wrapped.token), `${file} holds the token`);
  }
  assert.ok(!output.includes(wrapped.token), 'the test output holds the token');
  assert.deepEqual(readdirSync(wrapped.instancesDir), [], 'the instance\'s announcement files are gone');
});

test('the fixed variant leaves nothing behind in its envtest: deleted namespaces (no namespace controller there) and the CRD are no leaks', { timeout: 600_000 }, async () => {
  const runDir = join(work, 'runs', 'fixed');
  const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: example });
  const { result, startedAt, endedAt } = await goTest(runDir, 5, [], { ...wrapped.env, MODELCACHE_FIXED: 'true' });
  const instances = await observation.finish();
  assert.equal(result.exitCode, 0, (result.stdout + result.stderr).slice(-3000));
  assert.equal(instances.length, 1);
  const evidence = await readEnvtestEvidence(runDir);
  const terminatingNamespaces = evidence[0]?.after?.objects.filter((o) => o.kind === 'Namespace' && o.deletionTimestamp).map((o) => o.name) ?? [];
  assert.ok(terminatingNamespaces.length > 0, 'the fixed suite deleted its namespaces; envtest left them terminating');
  const leaks = envtestRunLeaks(evidence, await runResult(runDir, startedAt, endedAt, result.exitCode), DEFAULT_NOISE_RULES).flat();
  assert.deepEqual(leaks.map((l) => `${l.kind} ${l.namespace}/${l.name}`), []);
});

test('`make test` (the kubebuilder Makefile: go test ./... -coverprofile cover.out) takes the wrapped KUBEBUILDER_ASSETS from the environment and is observed the same', { timeout: 600_000 }, async () => {
  const runDir = join(work, 'runs', 'make');
  mkdirSync(runDir, { recursive: true });
  const cover = join(example, 'cover.out');
  rmSync(cover, { force: true });
  const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: example });
  try {
    const result = await runProcess(['make', 'test'], { cwd: example, env: envtestEnv(wrapped.env), capture: true });
    const instances = await observation.finish();
    assert.match(result.stdout + result.stderr, /go test \.\/\.\.\. -coverprofile cover\.out/);
    assert.equal(instances.length, 1, result.stdout.slice(-2000));
    assert.equal(instances[0]?.package, './internal/controller');
    assert.equal(instances[0]?.hold?.endedBy, 'released');
    assert.ok((instances[0]?.timelineEvents ?? 0) > 10, `${instances[0]?.timelineEvents} events`);
    assert.ok(existsSync(cover), 'the coverage profile was written');
  } finally {
    rmSync(cover, { force: true });
  }
});

test('two packages that each start an envtest at once: both instances are observed, each leak given to its own package\'s spec', { timeout: 600_000 }, async (t) => {
  const fixture = join(fixtures, 'gosrc', 'envtest');
  const runDir = join(work, 'runs', 'two');
  mkdirSync(runDir, { recursive: true });
  const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: fixture });
  const startedAt = Date.now();
  // -p 2: the go command runs both test binaries at the same time.
  // Each package writes its report into its own folder: removed whatever the assertions say.
  t.after(() => {
    for (const pkg of ['alpha', 'beta']) rmSync(join(fixture, pkg, 'report.json'), { force: true });
  });
  const result = await runProcess(['go', 'test', '-count=1', '-p', '2', './...', '-ginkgo.json-report=report.json'], { cwd: fixture, env: envtestEnv(wrapped.env), capture: true });
  const endedAt = Date.now();
  const instances = await observation.finish();
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  assert.deepEqual(instances.map((i) => i.package).sort(), ['./alpha', './beta']);
  const [alpha, beta] = [...instances].sort((a, b) => a.package.localeCompare(b.package));
  for (const instance of instances) assert.equal(instance.hold?.start?.endedBy, 'observed', 'each suite waited for kubeflake\'s baseline');
  assert.ok(alpha!.startedAt < beta!.hold!.exitedAt && beta!.startedAt < alpha!.hold!.exitedAt, 'the two control planes ran at the same time');
  for (const instance of instances) assert.equal(instance.hold?.endedBy, 'released');

  const reports = await Promise.all(['alpha', 'beta'].map((pkg) => parseReport(join(fixture, pkg, 'report.json'))));
  for (const pkg of ['alpha', 'beta']) rmSync(join(fixture, pkg, 'report.json'), { force: true });
  const merged = mergeReports(reports);
  const run: RunResult = {
    id: '000', seed: 1, probe: false, command: ['go', 'test', './...'], exitCode: 0, timedOut: false, startedAt, endedAt,
    durationMs: endedAt - startedAt, orderSource: merged.orderSource, order: merged.order, cases: merged.cases, reports: [], warnings: [],
  };
  const leaks = envtestRunLeaks(await readEnvtestEvidence(runDir), run, DEFAULT_NOISE_RULES, (instance) => join(fixture, instance.package)).flat();
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy]).sort(), [
    ['left-by-alpha', 'alpha suite :: alpha leaves its config map behind'],
    ['left-by-beta', 'beta suite :: beta leaves its config map behind'],
  ]);
});

test('a probe\'s envtest keeps the API server\'s record alone: no gate, no snapshots, no watch, no shutdown hold; the record is complete', { timeout: 300_000 }, async () => {
  const runDir = join(work, 'runs', 'probe-000');
  const logLines: string[] = [];
  const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: example, log: (line) => logLines.push(line) });
  const { result } = await goTest(runDir, 11, ['-ginkgo.focus=adds the shard-drain finalizer'], { ...wrapped.env, [OBSERVATION_ENV]: 'record' });
  const instances = await observation.finish();
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  assert.equal(instances.length, 1, `log: ${logLines.join(' | ')}`);
  const instance = instances[0] as EnvtestInstance;
  assert.equal(instance.observation, 'record');
  assert.deepEqual(instance.problems, []);
  // kubeflake never connected: no readiness, baseline or last snapshot; the shim opened no gate and held nothing.
  assert.equal(instance.readyAt ?? instance.baselineAt ?? instance.lastSnapshotAt ?? instance.releasedAt, undefined, JSON.stringify(instance));
  assert.equal(instance.hold?.endedBy, 'record-only');
  assert.equal(instance.hold?.start, undefined, 'no gate: the real server listened on envtest\'s own port');
  assert.ok(instance.hold.heldMs < 1000, `held ${instance.hold.heldMs} ms`);
  const [evidence] = await readEnvtestEvidence(runDir);
  assert.equal(evidence?.baseline ?? evidence?.after, undefined, 'no snapshots written');
  assert.deepEqual(evidence?.timeline, []);
  assert.deepEqual(envtestRunLeaks([evidence!], await runResult(runDir, 0, 1, 0), DEFAULT_NOISE_RULES).flat(), [], 'a probe reports no leaks of its own');

  // The record: copied once the real server had exited, holding the spec's own create.
  assert.equal(instance.record?.complete, true);
  const record = (await readRunRecord(runDir, [instance.id]))?.envtest[instance.id];
  const creates = (record?.entries ?? []).filter((entry) => entry.verb === 'create' && entry.object?.resource === 'modelcaches');
  assert.ok(creates.length >= 1, `${record?.entries.length ?? 0} entries, no create of a ModelCache`);
  assert.deepEqual(readdirSync(wrapped.instancesDir).filter((name) => name.startsWith(instance.id)), [], 'the instance\'s marker files are gone');
});

test('a hunt of the planted suite with probes kept by their record alone: the planted polluters are still found and confirmed, and the leaks are the planned runs\' own', { timeout: 1_800_000 }, async () => {
  const results = join(work, 'hunt-record-only-probes');
  const settings = parseSettings({ command: ['go', 'test', './...'], 'working-directory': example, runs: '3', cluster: 'local', results, seed: '2026', 'max-probes': '3', 'fix-probes': '0' }, { ...process.env, KUBECONFIG: '' });
  settings.testEnv = { USE_EXISTING_CLUSTER: 'false', MODELCACHE_FIXED: 'false' };
  delete settings.kubebuilderAssets;
  const report = await hunt(settings, recordingPresenter());
  const probes = report.runs.filter((run) => run.probe).map((run) => run.id);
  assert.ok(probes.length >= 1, 'the hunt probed');
  for (const id of probes) {
    const instances = JSON.parse(readFileSync(join(results, 'runs', id, 'envtest.json'), 'utf8')) as EnvtestInstance[];
    assert.deepEqual(instances.map((instance) => [instance.observation, instance.record?.complete, instance.problems]), [['record', true, []]], id);
  }
  for (const id of report.runs.filter((run) => !run.probe).map((run) => run.id)) {
    const instances = JSON.parse(readFileSync(join(results, 'runs', id, 'envtest.json'), 'utf8')) as EnvtestInstance[];
    assert.ok(instances.every((instance) => instance.observation === undefined && instance.baselineAt !== undefined && instance.lastSnapshotAt !== undefined), `${id} observed in full`);
  }
  const polluterOf = (victim: string) => report.tests.find((t) => t.name === victim)?.polluters?.find((p) => p.confirmed)?.test;
  assert.equal(polluterOf('ModelCache serving warms the iris2 cache for inference'), polluter);
  assert.equal(polluterOf('ModelCache serving transcribes through the whisper cache'), id('ModelCache lifecycle rolls the whisper cache over to a new build'));
  // The tenancy spec's leaks are found (and given to it) from the planned runs; no probe is listed with a leak.
  assert.ok(report.leaks.some((leak) => leak.kind === 'Namespace' && /^modelcache-tenant-/.test(leak.name) && leak.createdBy === leaker), JSON.stringify(report.leaks.map((l) => [l.kind, l.name, l.createdBy])));
  assert.deepEqual(report.leaks.filter((leak) => leak.runs.some((run) => probes.includes(run))), []);
  assert.deepEqual((report.runs.flatMap((run) => run.warnings ?? [])), [], 'no run is said to be unseen or partly observed');
});

test('with nobody releasing it, the shim lets the server go at its bound, and the suite stops normally', { timeout: 300_000 }, async () => {
  const runDir = join(work, 'runs', '001');
  // An observer that lets the server start but never releases it.
  const opener = setInterval(() => {
    for (const name of readdirSync(wrapped.instancesDir)) if (/^\d+-\d+\.json$/.test(name)) writeFileSync(join(wrapped.instancesDir, name.replace(/\.json$/, '.observed')), '');
  }, 50);
  const { result } = await goTest(runDir, 11, ['-ginkgo.focus=adds the shard-drain finalizer'], { ...wrapped.env, [HOLD_ENV]: '1500' }).finally(() => clearInterval(opener));
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  const stopped = readdirSync(wrapped.instancesDir).filter((name) => name.endsWith('.stopped.json'));
  assert.equal(stopped.length, 1, readdirSync(wrapped.instancesDir).join(','));
  const record = JSON.parse(readFileSync(join(wrapped.instancesDir, stopped[0]!), 'utf8')) as EnvtestShimStop;
  assert.equal(record.endedBy, 'bound');
  assert.equal(record.holdMs, 1500);
  assert.ok(record.heldMs >= 1500, `held ${record.heldMs} ms`);
  // A loaded machine may wake the shim's 20 ms poll late; seconds late would be a broken bound.
  assert.ok(record.heldMs < 1500 + 1000, `held ${record.heldMs} ms, bound 1500 ms`);
  for (const name of readdirSync(wrapped.instancesDir)) rmSync(join(wrapped.instancesDir, name));
});

test('a KUBEBUILDER_ASSETS the suite\'s tooling sets (a Makefile\'s setup-envtest) is wrapped too, with the hunt\'s token, once', async () => {
  const own = mkdtempSync(join(work, 'setup-envtest-'));
  for (const name of ['etcd', 'kube-apiserver']) {
    writeFileSync(join(own, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(own, name), 0o755);
  }
  const env = { ...wrapped.env, KUBEBUILDER_ASSETS: own };
  const first = await wrapAssetsOfBinary(env, process.execPath);
  const again = await wrapAssetsOfBinary(env, process.execPath);
  assert.ok(first.KUBEBUILDER_ASSETS && first.KUBEBUILDER_ASSETS !== own);
  assert.deepEqual(again, first);
  assert.ok(existsSync(join(first.KUBEBUILDER_ASSETS, SHIM_CONFIG)));
  assert.match(readFileSync(join(first.KUBEBUILDER_ASSETS, SHIM_CONFIG), 'utf8'), new RegExp(`"real":"${join(own, 'kube-apiserver')}"`));
  assert.equal(readFileSync(join(first.KUBEBUILDER_ASSETS, '.kubeflake-token'), 'utf8').trim(), wrapped.token);
  assert.deepEqual(await wrapAssetsOfBinary(wrapped.env, process.execPath), {}, 'kubeflake\'s own folder is left as it is');
  // envtest takes TEST_ASSET_KUBE_APISERVER over KUBEBUILDER_ASSETS: that binary is wrapped too.
  const single = await wrapAssetsOfBinary({ ...wrapped.env, TEST_ASSET_KUBE_APISERVER: join(own, 'kube-apiserver') }, process.execPath);
  assert.deepEqual(Object.keys(single), ['TEST_ASSET_KUBE_APISERVER']);
  assert.match(readFileSync(join(single.TEST_ASSET_KUBE_APISERVER!, '..', SHIM_CONFIG), 'utf8'), new RegExp(`"real":"${join(own, 'kube-apiserver')}"`));
  assert.deepEqual(await wrapAssetsOfBinary({ KUBEBUILDER_ASSETS: own }, process.execPath), {}, 'no hunt observing: nothing to do');
});

test('envtest release archives: picked from the index, sha512-verified, unpacked flat, cached; a tampered one is refused', async () => {
  // An archive shaped like the real ones: controller-tools/envtest/{etcd,kube-apiserver,kubectl}.
  const staging = mkdtempSync(join(work, 'archive-'));
  mkdirSync(join(staging, 'controller-tools', 'envtest'), { recursive: true });
  for (const name of ['etcd', 'kube-apiserver', 'kubectl']) writeFileSync(join(staging, 'controller-tools', 'envtest', name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
  const archive = join(work, 'envtest-v1.34.1-linux-amd64.tar.gz');
  const tar = await runProcess(['tar', '-czf', archive, '-C', staging, 'controller-tools'], { capture: true });
  assert.equal(tar.exitCode, 0, tar.stderr);
  const good = readFileSync(archive);
  const sha512 = createHash('sha512').update(good).digest('hex');
  const requests: string[] = [];
  let served = good;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === '/envtest-releases.yaml') {
      res.end([
        'releases:',
        '  v1.34.1:',
        '    envtest-v1.34.1-linux-amd64.tar.gz:',
        `      hash: ${sha512}`,
        `      selfLink: ${base}/download/envtest-v1.34.1-linux-amd64.tar.gz`,
        '  v1.33.0:',
        '    envtest-v1.33.0-linux-amd64.tar.gz:',
        `      hash: ${'ab'.repeat(64)}`,
        `      selfLink: ${base}/download/envtest-v1.33.0-linux-amd64.tar.gz`,
        '',
      ].join('\n'));
    } else if (req.url?.startsWith('/download/')) {
      res.end(served);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const cacheDir = join(work, 'cache');
    const indexUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/envtest-releases.yaml`;
    const got = await envtestReleaseAssets({ version: '1.34', cacheDir, indexUrl, os: 'linux', arch: 'amd64' });
    assert.equal(got.version, '1.34.1');
    assert.equal(got.cached, false);
    assert.deepEqual(readdirSync(got.dir).sort(), ['.verified', 'etcd', 'kube-apiserver', 'kubectl']);
    assert.equal((await runProcess([join(got.dir, 'kube-apiserver')], { capture: true })).stdout.trim(), 'kube-apiserver');

    requests.length = 0;
    const exact = await envtestReleaseAssets({ version: '1.34.1', cacheDir, indexUrl, os: 'linux', arch: 'amd64' });
    assert.deepEqual([exact.dir, exact.cached], [got.dir, true]);
    assert.deepEqual(requests, [], 'an exact cached version needs no network');

    served = Buffer.concat([good, Buffer.from('tampered')]);
    await assert.rejects(envtestReleaseAssets({ version: '1.33', cacheDir, indexUrl, os: 'linux', arch: 'amd64' }), /does not match the index's sha512 .*was not used/);
    assert.ok(!existsSync(join(cacheDir, 'envtest', '1.33.0-linux-amd64')), 'nothing unverified is cached');
    assert.deepEqual(readdirSync(join(cacheDir, 'envtest')), ['1.34.1-linux-amd64'], 'no download or unpacking is left behind');
    await assert.rejects(envtestReleaseAssets({ version: '1.30', cacheDir, indexUrl, os: 'linux', arch: 'amd64' }), /no 1\.30 archive for linux\/amd64/);

    // For a hunt: the release matching the suite's client-go, wrapped; nothing for a module without controller-runtime.
    if (goPlatform().os === 'linux' && goPlatform().arch === 'amd64') {
      const suite = mkdtempSync(join(work, 'suite-'));
      writeFileSync(join(suite, 'go.mod'), 'module example.test/op\n\nrequire (\n\tk8s.io/client-go v0.34.3\n\tsigs.k8s.io/controller-runtime v0.22.0\n)\n');
      mkdirSync(join(suite, 'internal', 'controller'), { recursive: true });
      const provided = await provideEnvtestAssets({ cwd: join(suite, 'internal', 'controller'), cacheDir, indexUrl, nodePath: process.execPath });
      assert.equal(provided?.source, 'the envtest 1.34.1 release (cached)');
      assert.equal(provided?.realDir, got.dir);
      assert.ok(existsSync(join(provided.dir, SHIM_CONFIG)));
      await provided.remove();
      assert.ok(!existsSync(provided.dir), 'the wrapped folder and its token are gone');
      writeFileSync(join(suite, 'go.mod'), 'module example.test/lib\n\nrequire k8s.io/client-go v0.34.3\n');
      assert.equal(await provideEnvtestAssets({ cwd: suite, cacheDir, indexUrl, nodePath: process.execPath }), undefined);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

function readdirSafe(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}
