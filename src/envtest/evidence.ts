// An envtest instance's evidence read back from a run folder, and what is decided from it on
// plain data: the instance baseline, leaks per instance and package, package modes, the log lines
// and notices of a run's instances. Only readEnvtestEvidence reads files.

import { readFile, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { LeakReport, PackageControlPlane, RunResult, Snapshot, TestCase, TimelineEntry } from '../model.ts';
import { attribute, attributeDeleted, markInDeletedNamespace, splitDeletedNamespaces } from '../cluster/attribution.ts';
import { diffSnapshots } from '../cluster/diff.ts';
import type { NoiseRule } from '../cluster/noise.ts';
import { timelineEvents } from '../cluster/watch.ts';
import { files, readTimeline } from '../results.ts';
import type { EnvtestShimStop } from './kube-apiserver-shim.ts';
import type { RecordEntry } from '../record/entry.ts';

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
  /** The API server's audit record was copied to audit.jsonl beside this file: its size, and whether the server had exited (so every request is in it). */
  record?: { bytes: number; complete: boolean };
  /** `record`: a probe's instance, of which kubeflake kept the API server's record alone (no snapshots, no watch). */
  observation?: 'record';
  /** Gaps: an instance never ready, a watch that failed, a server killed before its last snapshot. */
  problems: string[];
}

/** One instance's stored evidence. */
export interface EnvtestEvidence {
  instance: EnvtestInstance;
  baseline?: Snapshot;
  after?: Snapshot;
  timeline: TimelineEntry[];
}

export function relativePackage(cwd: string, packageDir: string): string {
  const rel = relative(cwd, packageDir);
  if (!rel) return '.';
  return rel.startsWith('..') ? packageDir : `.${sep}${rel}`.split(sep).join('/');
}

/** A JSON file, or undefined when it is missing or half-written. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The evidence of every envtest instance of a run folder (none when the run started none). */
export async function readEnvtestEvidence(runDir: string): Promise<EnvtestEvidence[]> {
  const root = join(runDir, files.envtestDir);
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
    if (instance.observation === 'record') return `envtest ${instance.package}: the API server's record only (a probe), ${instance.record ? `${instance.record.bytes} bytes` : 'none written'}`;
    const held = instance.hold ? `, shutdown held ${instance.hold.heldMs} ms (${instance.hold.endedBy === 'released' ? 'until the last snapshot' : instance.hold.endedBy})` : '';
    return `envtest ${instance.package}: ${instance.baselineObjects ?? 0} objects at start, ${instance.afterObjects ?? 0} at stop, ${instance.timelineEvents} timeline events${held}`;
  });
  const warnings = instances.flatMap((instance) => instance.problems.map((problem) => `${run}: envtest ${instance.package}: ${problem}`));
  return { lines, warnings };
}

/**
 * Which mode each package ran in: a package that started an envtest instance ran in its own
 * control plane; the others used the cluster kubeflake provided (USE_EXISTING_CLUSTER). And the
 * evidence of its requests: the record where its instance (or the cluster) wrote one, the watch
 * and snapshots always.
 */
export function packageModes(runs: readonly { id: string; packages: readonly string[]; instances: readonly EnvtestInstance[]; clusterRecord?: boolean }[]): PackageControlPlane[] {
  const byPackage = new Map<string, PackageControlPlane & { recorded: boolean }>();
  for (const run of runs) {
    const started = new Set(run.instances.map((instance) => instance.package));
    for (const name of new Set([...run.packages, ...started])) {
      const entry = byPackage.get(name) ?? { package: name, mode: 'cluster', runs: [], instances: 0, recorded: false };
      if (started.has(name)) entry.mode = 'envtest';
      entry.runs.push(run.id);
      const own = run.instances.filter((instance) => instance.package === name);
      entry.instances += own.length;
      if (started.has(name) ? own.some((instance) => instance.record) : run.clusterRecord) entry.recorded = true;
      byPackage.set(name, entry);
    }
  }
  return [...byPackage.values()]
    .map(({ recorded, ...entry }) => ({ ...entry, evidence: recorded ? ['record', 'watch'] as ('record' | 'watch')[] : ['watch'] as ('record' | 'watch')[] }))
    .sort((a, b) => a.package.localeCompare(b.package));
}

const EMPTY_TIMELINE = 'the timeline is empty';

/**
 * The line the report and the log give a run whose timeline stayed empty although tests ran:
 * kubeflake watched a control plane the suite never touched. Undefined when there is nothing to say.
 */
export function emptyTimelineNotice(input: { run: string; tests: number; clusterEvents: number; instances: EnvtestInstance[]; watched: boolean }): string | undefined {
  if (!input.watched || input.tests === 0) return undefined;
  // A probe's instances were not watched on purpose: an empty timeline there says nothing.
  if (input.instances.length > 0 && input.instances.every((instance) => instance.observation === 'record')) return undefined;
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
