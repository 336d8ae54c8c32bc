// Inside the control planes a suite starts itself (envtest): every kube-apiserver started through
// kubeflake's wrapped KUBEBUILDER_ASSETS announces itself in the instances folder; kubeflake
// connects with its own token, takes the instance's baseline once it is ready, watches it while
// the suite runs, and takes the last snapshot when envtest stops it (the shim holds the server
// until then). The evidence of each instance lands in runs/<id>/envtest/<instance>/ with the
// same files as the cluster kubeflake provisions, so leaks are found and attributed the same way.
//
//   const envtest = await observeEnvtest({ instancesDir, token, runDir, cwd, log });
//   ... run the suite with wrapped.env ...
//   const instances = await envtest.finish();

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { LeakReport, PackageControlPlane, RunResult, Snapshot, TestCase, TimelineEntry } from '../model.ts';
import { isAlive, signalGroup } from '../exec.ts';
import type { EnvtestInstanceAnnouncement, EnvtestShimStop } from './envtest-assets.ts';
import { connectKube, KubeApiError, type KubeApi } from './kube.ts';
import { takeSnapshot } from './snapshot.ts';
import { timelineEvents, watchCluster, type ClusterWatch } from './watch.ts';
import { readTimeline } from '../results.ts';
import { diffSnapshots } from './diff.ts';
import type { NoiseRule } from './noise.ts';
import { attribute, attributeDeleted, markInDeletedNamespace, splitDeletedNamespaces } from './attribution.ts';
import type { RecordEntry } from '../record/entry.ts';

export const ENVTEST_DIR = 'envtest';
export const ENVTEST_SUMMARY = 'envtest.json';
const files = { instance: 'instance.json', baseline: 'baseline.json', after: 'after.json', timeline: 'timeline.jsonl' } as const;

/** What kubeflake recorded about one envtest instance of a run (runs/<id>/envtest/<instance>/instance.json). */
export interface EnvtestInstance {
  id: string;
  server: string;
  /** The package folder the test binary ran in, relative to the hunt's working directory. */
  package: string;
  startedAt: number;
  /** When the instance answered /readyz. */
  readyAt?: number;
  /** When the baseline snapshot was taken. */
  baselineAt?: number;
  baselineObjects?: number;
  /** When envtest asked the shim to stop the server. */
  stopRequestedAt?: number;
  /** When the last snapshot was taken (before the server was let go). */
  lastSnapshotAt?: number;
  afterObjects?: number;
  /** When kubeflake released the held server. */
  releasedAt?: number;
  /** The shim's own account: how long it held the server, and why it stopped holding. */
  hold?: { heldMs: number; holdMs: number; endedBy: EnvtestShimStop['endedBy']; exitedAt: number; start?: EnvtestShimStop['start'] };
  timelineEvents: number;
  /** Gaps: an instance never ready, a watch that failed, a server killed before its last snapshot. */
  problems: string[];
}

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
        await writeFile(join(options.runDir, ENVTEST_DIR, instance.id, files.instance), JSON.stringify(instance, null, 2) + '\n');
        for (const suffix of ['.json', '.observed', '.stopping', '.released', '.stopped.json']) await rm(join(options.instancesDir, `${instance.id}${suffix}`), { force: true });
      }
      if (instances.length > 0) await writeFile(join(options.runDir, ENVTEST_SUMMARY), JSON.stringify(instances, null, 2) + '\n');
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
  const dir = join(context.runDir, ENVTEST_DIR, id);
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
  // The shim writes its account once the real server has exited.
  const holdDeadline = Date.now() + announcement.holdMs + 12_000;
  let stopped: EnvtestShimStop | undefined;
  while (!(stopped = await readJsonFile<EnvtestShimStop>(marker('.stopped.json'))) && Date.now() < holdDeadline) {
    if (over && !isAlive(announcement.shimPid)) break;
    await sleep(context.pollMs);
  }
  if (stopped) {
    instance.hold = { heldMs: stopped.heldMs, holdMs: stopped.holdMs, endedBy: stopped.endedBy, exitedAt: stopped.exitedAt, ...(stopped.start ? { start: stopped.start } : {}) };
    if (stopped.start?.endedBy === 'bound') {
      instance.problems.push(`the shim opened envtest's port after its ${stopped.start.heldMs} ms bound, before kubeflake's baseline was taken: what the suite made first may count as baseline`);
    }
    if (stopped.endedBy === 'bound') {
      instance.problems.push(`the shim let the server go after its ${stopped.holdMs} ms bound, before kubeflake's last snapshot was done; that snapshot may be partial`);
    }
  }
  return instance;
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

async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function relativePackage(cwd: string, packageDir: string): string {
  const rel = relative(cwd, packageDir);
  if (!rel) return '.';
  return rel.startsWith('..') ? packageDir : `.${sep}${rel}`.split(sep).join('/');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Reading the evidence back and deciding from it (pure below readEnvtestEvidence).

/** One instance's stored evidence. */
export interface EnvtestEvidence {
  instance: EnvtestInstance;
  baseline?: Snapshot;
  after?: Snapshot;
  timeline: TimelineEntry[];
}

/** The evidence of every envtest instance of a run folder (none when the run started none). */
export async function readEnvtestEvidence(runDir: string): Promise<EnvtestEvidence[]> {
  const root = join(runDir, ENVTEST_DIR);
  const out: EnvtestEvidence[] = [];
  for (const id of (await readdir(root).catch(() => [] as string[])).sort()) {
    const dir = join(root, id);
    const instance = await readJsonFile<EnvtestInstance>(join(dir, files.instance));
    if (!instance) continue;
    const evidence: EnvtestEvidence = { instance, timeline: (await readTimeline(join(dir, files.timeline))).entries };
    const baseline = await readJsonFile<Snapshot>(join(dir, files.baseline));
    const after = await readJsonFile<Snapshot>(join(dir, files.after));
    if (baseline) evidence.baseline = baseline;
    if (after) evidence.after = after;
    out.push(evidence);
  }
  return out;
}

/**
 * What envtest itself puts into the control plane it starts, on top of what the API server makes
 * (DEFAULT_NOISE_RULES): the suite's CRDs, installed from CRDDirectoryPaths before any spec, and
 * thrown away with the instance.
 */
export const ENVTEST_NOISE_RULES: readonly NoiseRule[] = [
  {
    id: 'envtest-crds',
    type: 'customresourcedefinitions.apiextensions.k8s.io',
    why: 'envtest installs the suite\'s CRDs (CRDDirectoryPaths) into the control plane it starts, which is thrown away with them.',
  },
  {
    id: 'envtest-system-namespaces',
    type: 'namespaces',
    name: 'kube-*',
    why: 'The API server creates kube-system, kube-public and kube-node-lease itself a moment after it starts.',
  },
  {
    id: 'envtest-default-namespace',
    type: 'namespaces',
    name: 'default',
    why: 'The API server creates the default namespace itself a moment after it starts.',
  },
];

/** The baseline of an instance: its first snapshot, less what the watch saw the suite create meanwhile. */
export function instanceBaseline(evidence: EnvtestEvidence): Snapshot | undefined {
  if (!evidence.baseline) return undefined;
  const seenCreated = new Set(timelineEvents(evidence.timeline).filter((e) => e.verb === 'created' && !e.late).map((e) => e.object.uid));
  return { ...evidence.baseline, objects: evidence.baseline.objects.filter((o) => !seenCreated.has(o.uid)) };
}

/** The specs of a run that ran in a package folder (absolute), by the files they live in; all of them when none says. */
export function runOfPackage(run: RunResult, packageDir: string): RunResult {
  const inside = (test: TestCase) => test.file !== undefined && (test.file.startsWith(packageDir + '/') || test.file.startsWith(packageDir + sep));
  const cases = run.cases.filter(inside);
  if (cases.length === 0) return run;
  const ids = new Set(cases.map((test) => test.id));
  return { ...run, cases, order: run.order.filter((id) => ids.has(id)) };
}

/**
 * Leaks of one run's envtest instances: whatever the suite created and had not deleted when its
 * control plane was stopped (and baseline objects it deleted), each attributed to the spec of
 * that instance's package running when the watch saw it created.
 */
export function envtestRunLeaks(
  evidence: EnvtestEvidence[],
  run: RunResult,
  rules: readonly NoiseRule[],
  packageDirOf: (instance: EnvtestInstance) => string | undefined = () => undefined,
  recordOf: (instance: EnvtestInstance) => readonly RecordEntry[] | undefined = () => undefined,
): LeakReport[][] {
  const out: LeakReport[][] = [];
  const allRules = [...rules, ...ENVTEST_NOISE_RULES];
  for (const item of evidence) {
    const baseline = instanceBaseline(item);
    if (!baseline || !item.after) continue;
    const diff = diffSnapshots(baseline, item.after, allRules);
    const packageDir = packageDirOf(item.instance);
    const scoped = packageDir ? runOfPackage(run, packageDir) : run;
    // The instance's own record, where it kept one: it names creators before the watch does.
    const record = recordOf(item.instance);
    const split = splitDeletedNamespaces(diff.leaked, item.timeline, record);
    out.push(markInDeletedNamespace(attribute(split.leaked, item.timeline, scoped, { record }), split.inDeletedNamespace), attributeDeleted(diff.deleted, item.timeline, scoped, { record }));
  }
  return out;
}

/** The packages a run's tests live in (by their files), relative to the hunt's folder. */
export function packagesOfRun(run: RunResult, cwd: string): string[] {
  return [...new Set(run.cases.flatMap((test) => (test.file && isAbsolute(test.file) ? [relativePackage(cwd, dirname(test.file))] : [])))].sort();
}

/** The log lines of a run's instances: one line each, and warnings for their problems. */
export function describeInstances(run: string, instances: readonly EnvtestInstance[]): { lines: string[]; warnings: string[] } {
  const lines = instances.map((instance) => {
    const held = instance.hold ? `, shutdown held ${instance.hold.heldMs} ms (${instance.hold.endedBy === 'released' ? 'until the last snapshot' : instance.hold.endedBy})` : '';
    return `envtest ${instance.package}: ${instance.baselineObjects ?? 0} objects at start, ${instance.afterObjects ?? 0} at stop, ${instance.timelineEvents} timeline events${held}`;
  });
  const warnings = instances.flatMap((instance) => instance.problems.map((problem) => `${run}: envtest ${instance.package}: ${problem}`));
  return { lines, warnings };
}

/**
 * Which mode each package ran in: a package that started an envtest instance ran in its own
 * control plane; the others used the cluster kubeflake provided (USE_EXISTING_CLUSTER).
 */
export function packageModes(runs: readonly { id: string; packages: readonly string[]; instances: readonly EnvtestInstance[] }[]): PackageControlPlane[] {
  const byPackage = new Map<string, PackageControlPlane>();
  for (const run of runs) {
    const started = new Set(run.instances.map((instance) => instance.package));
    for (const name of new Set([...run.packages, ...started])) {
      const entry: PackageControlPlane = byPackage.get(name) ?? { package: name, mode: 'cluster', runs: [], instances: 0 };
      if (started.has(name)) entry.mode = 'envtest';
      entry.runs.push(run.id);
      entry.instances += run.instances.filter((instance) => instance.package === name).length;
      byPackage.set(name, entry);
    }
  }
  return [...byPackage.values()].sort((a, b) => a.package.localeCompare(b.package));
}

const EMPTY_TIMELINE = 'the timeline is empty';

/** Whether a run warning is the empty-timeline notice (renderers give it a place of its own). */
export function isEmptyTimelineNotice(warning: string): boolean {
  return warning.includes(`: ${EMPTY_TIMELINE}: `);
}

/**
 * The line the report and the log give a run whose timeline stayed empty although tests ran:
 * kubeflake watched a control plane the suite never touched. Undefined when there is nothing to say.
 */
export function emptyTimelineNotice(input: { run: string; tests: number; clusterEvents: number; instances: EnvtestInstance[]; watched: boolean }): string | undefined {
  if (!input.watched || input.tests === 0) return undefined;
  const instanceEvents = input.instances.reduce((sum, instance) => sum + instance.timelineEvents, 0);
  if (input.clusterEvents + instanceEvents > 0) return undefined;
  if (input.instances.length > 0) {
    return `${input.run}: the suite started ${input.instances.length} envtest control plane(s) but kubeflake saw nothing created in them ` +
      `(${input.instances.flatMap((instance) => instance.problems).slice(0, 2).join('; ') || 'the specs may not create objects'}); no leak can be found or linked`;
  }
  return `${input.run}: ${EMPTY_TIMELINE}: the suite did not touch the cluster kubeflake watched. It may start its own control plane ` +
    'without KUBEBUILDER_ASSETS from kubeflake (TEST_ASSET_KUBE_APISERVER set, a hard-coded BinaryAssetsDirectory, or binaries it downloads itself), ' +
    'set UseExistingCluster to a cluster of its own, read another kubeconfig than KUBECONFIG, or create no objects at all; ' +
    'leaks and failure->object links cannot be found until kubeflake sees the control plane the suite uses';
}
