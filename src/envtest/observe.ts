// Inside the control planes a suite starts itself (envtest): every kube-apiserver started through
// kubeflake's wrapped KUBEBUILDER_ASSETS announces itself in the instances folder; kubeflake
// connects with its own token, takes the instance's baseline once it is ready, watches it while
// the suite runs, and takes the last snapshot when envtest stops it (the shim holds the server
// until then). The evidence of each instance lands in runs/<id>/envtest/<instance>/ with the
// same files as the cluster kubeflake provisions, so leaks are found and attributed the same way
// (evidence.ts reads it back and decides). A probe's instance (the shim announces `observation:
// record`) is not connected to at all: only its audit record is collected.
//
//   const envtest = await observeEnvtest({ instancesDir, token, runDir, cwd, log });
//   ... run the suite with wrapped.env ...
//   const instances = await envtest.finish();

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, signalGroup } from '../exec.ts';
import { connectKube, KubeApiError, type KubeApi } from '../cluster/kube.ts';
import { takeSnapshot } from '../cluster/snapshot.ts';
import { timelineEvents, watchCluster, type ClusterWatch } from '../cluster/watch.ts';
import { files } from '../results.ts';
import { collectAuditLog } from '../cluster/audit-log.ts';
import type { EnvtestInstanceAnnouncement, EnvtestShimStop } from './kube-apiserver-shim.ts';
import { readJsonFile, relativePackage, type EnvtestInstance } from './evidence.ts';

export interface EnvtestObserveOptions {
  /** The folder the shims announce themselves in (WrappedAssets.instancesDir). */
  instancesDir: string;
  /** kubeflake's token for these instances (WrappedAssets.token). */
  token: string;
  /** The run's folder: evidence goes to <runDir>/envtest/<instance>/. */
  runDir: string;
  /** The hunt's working directory, to name packages relative to it. */
  cwd: string;
  /** Watch each instance (timeline); without it, attribution falls back to creation times. */
  watch?: boolean;
  log?: (line: string) => void;
  /** How often the instances folder is read. */
  pollMs?: number;
  /** How long an announced server may take to answer /readyz. */
  readyTimeoutMs?: number;
}

export interface EnvtestObservation {
  /** Instances seen so far. */
  readonly seen: () => number;
  /** Waits for every instance's last snapshot, stops leftovers, writes the summary; call after the run. */
  finish(): Promise<EnvtestInstance[]>;
}

/** Starts following the instances a run starts. Never throws for an instance: its problems are recorded. */
export async function observeEnvtest(options: EnvtestObserveOptions): Promise<EnvtestObservation> {
  const log = options.log ?? (() => {});
  const pollMs = options.pollMs ?? 50;
  const privateDir = await mkdtemp(join(tmpdir(), 'kubeflake-envtest-kubeconfig-'));
  const followed = new Map<string, { task: Promise<EnvtestInstance>; finishing: () => void; announcement: EnvtestInstanceAnnouncement }>();
  let finishing = false;
  // Instances announced before this run began belong to no run of ours.
  const stale = new Set((await listAnnouncements(options.instancesDir)).map((name) => name));

  const scan = async (): Promise<void> => {
    for (const name of await listAnnouncements(options.instancesDir)) {
      if (stale.has(name) || followed.has(name)) continue;
      const announcement = await readJsonFile<EnvtestInstanceAnnouncement>(join(options.instancesDir, `${name}.json`));
      if (!announcement) continue;
      let release!: () => void;
      const finishRequested = new Promise<void>((resolve) => (release = resolve));
      log(`envtest: ${relativePackage(options.cwd, announcement.cwd)} started a control plane at ${announcement.server}`);
      followed.set(name, {
        announcement,
        finishing: release,
        task: followInstance(announcement, { ...options, log, pollMs, privateDir, finishRequested }),
      });
    }
  };
  let scanning = Promise.resolve();
  const timer = setInterval(() => {
    scanning = scanning.then(scan).catch((error: Error) => log(`envtest: cannot read ${options.instancesDir}: ${error.message}`));
  }, pollMs);
  timer.unref();

  return {
    seen: () => followed.size,
    async finish() {
      if (finishing) throw new Error('observeEnvtest: finish() called twice');
      finishing = true;
      clearInterval(timer);
      await scanning;
      await scan().catch(() => {});
      for (const entry of followed.values()) entry.finishing();
      const instances = await Promise.all([...followed.values()].map((entry) => entry.task));
      for (const entry of followed.values()) {
        // The test binary is gone: a real server still running was orphaned (its shim was killed).
        const { pid } = entry.announcement;
        if (isAlive(pid)) {
          signalGroup(pid, 'SIGTERM');
          const deadline = Date.now() + 5_000;
          while (isAlive(pid) && Date.now() < deadline) await sleep(50);
          if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
          const instance = instances.find((i) => i.id === entry.announcement.id);
          instance?.problems.push(`the API server (pid ${pid}) was still running after the test binary exited; kubeflake stopped it`);
        }
      }
      for (const instance of instances) {
        await writeFile(join(options.runDir, files.envtestDir, instance.id, files.instance), JSON.stringify(instance, null, 2) + '\n');
        for (const suffix of ['.json', '.observed', '.stopping', '.released', '.stopped.json', '.audit.jsonl']) await rm(join(options.instancesDir, `${instance.id}${suffix}`), { force: true });
      }
      if (instances.length > 0) await writeFile(join(options.runDir, files.envtestSummary), JSON.stringify(instances, null, 2) + '\n');
      await rm(privateDir, { recursive: true, force: true });
      return instances;
    },
  };
}

interface FollowContext extends EnvtestObserveOptions {
  log: (line: string) => void;
  pollMs: number;
  privateDir: string;
  /** Resolves when the run is over: no stop request will come any more. */
  finishRequested: Promise<void>;
}

async function followInstance(announcement: EnvtestInstanceAnnouncement, context: FollowContext): Promise<EnvtestInstance> {
  const { id } = announcement;
  const dir = join(context.runDir, files.envtestDir, id);
  await mkdir(dir, { recursive: true });
  const instance: EnvtestInstance = {
    id,
    server: announcement.server,
    package: relativePackage(context.cwd, announcement.cwd),
    startedAt: announcement.startedAt,
    timelineEvents: 0,
    problems: [],
  };
  const marker = (suffix: string) => join(context.instancesDir, `${id}${suffix}`);
  let over = false;
  void context.finishRequested.then(() => (over = true));
  const stopRequested = () => over || existsSync(marker('.stopping'));
  // A probe's shim keeps the record alone: nothing to connect to, only its account and record to collect.
  if (announcement.observation === 'record') return followRecordOnly(instance, announcement, dir, context, marker, () => over);

  // The kubeconfig holds the token: it lives in a private folder, never in the results.
  const kubeconfig = join(context.privateDir, `${id}.kubeconfig`);
  await writeFile(kubeconfig, tokenKubeconfig(announcement.server, context.token), { mode: 0o600 });
  let api: KubeApi | undefined;
  let watch: ClusterWatch | undefined;
  try {
    api = await connectKube(kubeconfig);
    const deadline = Date.now() + (context.readyTimeoutMs ?? 60_000);
    while (!(await isReady(api))) {
      if (stopRequested() || Date.now() > deadline) {
        instance.problems.push(`the API server at ${announcement.server} never answered /readyz${stopRequested() ? ' before it was stopped' : ''}; nothing was observed in this instance`);
        await collectRecord(instance, announcement, dir, false);
        return instance;
      }
      await sleep(context.pollMs);
    }
    instance.readyAt = Date.now();
    // Watch first, then the baseline: what the suite makes meanwhile is seen created by the watch,
    // and an object seen created is never taken for part of the baseline (see envtestRunLeaks).
    if (context.watch ?? true) {
      // envtest installs the suite's CRDs right as the server is ready, often before their types
      // are discoverable: look for new types often, or the first creations of them are missed.
      // The suite is over when envtest stops the server: a short settle keeps the shutdown hold short.
      watch = await watchCluster(api, { timelineFile: join(dir, files.timeline), rediscoverMs: 200, settleMs: 300 }).catch((error: Error) => {
        instance.problems.push(`cannot watch ${announcement.server} (${error.message}); leaks will be attributed from creation times`);
        return undefined;
      });
    }
    const baseline = await takeSnapshot(api);
    instance.baselineAt = Date.now();
    instance.baselineObjects = baseline.objects.length;
    await writeFile(join(dir, files.baseline), JSON.stringify(baseline, null, 2) + '\n');
    // The shim opens envtest's port now: the suite's first request comes after the baseline.
    await writeFile(marker('.observed'), String(Date.now()));

    while (!stopRequested()) await sleep(context.pollMs);
    if (existsSync(marker('.stopping'))) instance.stopRequestedAt = Number(await readFile(marker('.stopping'), 'utf8').catch(() => '')) || Date.now();
    const after = await takeSnapshot(api);
    instance.lastSnapshotAt = Date.now();
    instance.afterObjects = after.objects.length;
    await writeFile(join(dir, files.after), JSON.stringify(after, null, 2) + '\n');
    if (!after.complete && after.errors.some((error) => error.resource === '*')) {
      instance.problems.push(`the last snapshot of ${announcement.server} failed (${after.errors[0]?.message}): the server stopped before kubeflake could look; leaks of this instance are unknown`);
    }
  } catch (error) {
    instance.problems.push(`observing ${announcement.server} failed: ${(error as Error).message}`);
  } finally {
    const events = await watch?.stop();
    instance.timelineEvents = events ? timelineEvents(events).length : 0;
    for (const problem of watch?.problems ?? []) instance.problems.push(`watch: ${problem}`);
    // Let the shim open envtest's port (if a failure came first) and stop the real server now.
    await writeFile(marker('.observed'), String(Date.now())).catch(() => {});
    await writeFile(marker('.released'), String(Date.now())).catch(() => {});
    instance.releasedAt = Date.now();
    api?.close();
  }
  // The shim writes its account once the real server has exited: within its hold of the release.
  const stopped = await shimAccount(announcement, marker, context.pollMs, () => over, Date.now());
  if (stopped) {
    instance.hold = { heldMs: stopped.heldMs, holdMs: stopped.holdMs, endedBy: stopped.endedBy, exitedAt: stopped.exitedAt, ...(stopped.start ? { start: stopped.start } : {}) };
    if (stopped.start?.endedBy === 'bound') {
      instance.problems.push(`the shim opened envtest's port after its ${stopped.start.heldMs} ms bound, before kubeflake's baseline was taken: what the suite made first may count as baseline`);
    }
    if (stopped.endedBy === 'bound') {
      instance.problems.push(`the shim let the server go after its ${stopped.holdMs} ms bound, before kubeflake's last snapshot was done; that snapshot may be partial`);
    }
  }
  await collectRecord(instance, announcement, dir, stopped !== undefined);
  return instance;
}

/**
 * A probe's instance: no connection, baseline, watch or last snapshot (nothing reads a probe's leaks;
 * its record links what it needs). Waits for the shim's account once the server has exited, then
 * copies the record.
 */
async function followRecordOnly(instance: EnvtestInstance, announcement: EnvtestInstanceAnnouncement, dir: string, context: FollowContext, marker: (suffix: string) => string, over: () => boolean): Promise<EnvtestInstance> {
  instance.observation = 'record';
  // Nobody releases it: the shim stops the server when envtest asks, at the latest when the run is over.
  const stopped = await shimAccount(announcement, marker, context.pollMs, over);
  if (stopped) {
    instance.stopRequestedAt = stopped.stopRequestedAt;
    instance.hold = { heldMs: stopped.heldMs, holdMs: stopped.holdMs, endedBy: stopped.endedBy, exitedAt: stopped.exitedAt };
  }
  await collectRecord(instance, announcement, dir, stopped !== undefined);
  return instance;
}

/**
 * The shim's account (`<id>.stopped.json`), written once the real server has exited. Waited for
 * until the shim is gone after the run is over, or the hold's bound (plus the server's own stop)
 * has passed since `boundFrom` (the release), or since the run's end when nothing released it.
 */
async function shimAccount(announcement: EnvtestInstanceAnnouncement, marker: (suffix: string) => string, pollMs: number, over: () => boolean, boundFrom?: number): Promise<EnvtestShimStop | undefined> {
  let from = boundFrom;
  let stopped: EnvtestShimStop | undefined;
  while (!(stopped = await readJsonFile<EnvtestShimStop>(marker('.stopped.json')))) {
    if (over()) {
      // The test binary has exited: its shim is gone or stopping the server now.
      if (!isAlive(announcement.shimPid)) break;
      from ??= Date.now();
    }
    if (from !== undefined && Date.now() > from + announcement.holdMs + 12_000) break;
    await sleep(pollMs);
  }
  return stopped;
}

/**
 * Copies the instance's audit log into its folder, untouched. Complete only once the real server
 * has exited (the shim's account says so): it writes each event before it finishes the request.
 */
async function collectRecord(instance: EnvtestInstance, announcement: EnvtestInstanceAnnouncement, dir: string, exited: boolean): Promise<void> {
  if (!announcement.auditLog) return;
  try {
    const copy = await collectAuditLog(announcement.auditLog, join(dir, files.audit));
    if (!copy) {
      instance.problems.push('the API server wrote no audit record: its requests are known from the watch alone');
      return;
    }
    instance.record = { bytes: copy.bytes, complete: exited };
    for (const note of copy.notes) instance.problems.push(`record: ${note}`);
    if (!exited) instance.problems.push('record: copied before the API server had exited; its last requests may be missing');
  } catch (error) {
    instance.problems.push(`cannot copy the audit record ${announcement.auditLog}: ${(error as Error).message}`);
  }
}

async function isReady(api: KubeApi): Promise<boolean> {
  try {
    await api.request('GET', '/readyz', { accept: 'text/plain', timeoutMs: 2_000 });
    return true;
  } catch (error) {
    // /readyz answers a plain "ok", which the JSON client cannot decode: a 2xx all the same.
    return error instanceof SyntaxError && !(error instanceof KubeApiError);
  }
}

/** A kubeconfig for one instance: kubeflake's token; the serving certificate is envtest's own throwaway CA, kept in memory by envtest, so it is not verified (loopback, a server the shim itself started). */
export function tokenKubeconfig(server: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'kubeflake', user: { token } }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'kubeflake' } }],
    'current-context': 'envtest',
  });
}

async function listAnnouncements(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => /^\d+-\d+\.json$/.test(name)).map((name) => name.slice(0, -'.json'.length)).sort();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
