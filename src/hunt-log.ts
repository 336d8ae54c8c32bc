// The hunt log: everything one hunt learned, in memory, append-only, and written to the results
// directory as it grows. The live pipeline appends to it; `kubeflake report DIR` loads the same
// log from disk; `buildReport` (build-report.ts) reads only the log. So a report made live and
// one rebuilt later from the folder are made by the same code from the same data.

import { cp, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CleanupReport, ClusterKind, FixReport, Framework, LeakReport, RunMeta, RunResult, Snapshot, TestCase, TestId, TimelineEntry } from './model.ts';
import type { HuntOptions } from './analysis/index.ts';
import type { ChangeRecord } from './changed/plan.ts';
import { ensureDir, files, holdsResults, listRunIds, readJson, readTimeline, runDir, writeJson } from './results.ts';
import { diffSnapshots } from './cluster/diff.ts';
import { DEFAULT_NOISE_RULES, parseIgnoreRule, type NoiseRule } from './cluster/noise.ts';
import { attribute, attributeDeleted } from './cluster/attribution.ts';
import { envtestRunLeaks, readEnvtestEvidence, type EnvtestEvidence, type EnvtestInstance } from './envtest/evidence.ts';
import { ingestRun, loadRun } from './ingest/run.ts';
import type { RunRecord } from './record/run-record.ts';
import type { RecordEntry } from './record/entry.ts';
import { recordDamage } from './record/parse.ts';
import { readRunRecord } from './record/read.ts';
import { readFixes, type VictimFix } from './fix/kept.ts';

/** What the hunt was asked to do and the options it ran under: `hunt.json`. */
export interface HuntRecord {
  command: string[];
  framework: Framework;
  cluster: ClusterKind;
  cwd: string;
  /** The repository the suite lives in: report paths are made relative to it. */
  root?: string;
  baseSeed: number;
  runs: number;
  /** This hunt ran one slice of the runs: planned run i belongs to shard i % count. */
  shard?: { index: number; count: number };
  /** Probe bounds and budget, so a rebuilt report replays the hunt under the same options. */
  options: Partial<HuntOptions>;
  startedAt: number;
  endedAt?: number;
  /** Problems that stopped or hurt the hunt (cluster gone, probes impossible...). */
  errors: string[];
  /** Things the reader should know that are no error (probing stopped at the probe-time budget). */
  notes?: string[];
  /** Leak ignore rules in force. */
  ignore: string[];
  /** The runs were made under CPU pressure (the stress option): reproduce lines say so. */
  stress?: 'cpu';
  /** Where an earlier hunt found in this folder was moved, so the two never mix. */
  movedAside?: string;
  /** The shards' results directories whose planned runs this hunt took over to probe after merging. */
  mergedFrom?: string[];
  /** Whether runs were watched (a run's empty timeline means something only then). */
  watch?: boolean;
  /** The share of a run's specs failing with one failure class that makes it an infrastructure run (0..1). */
  infraThreshold?: number;
  /** The specs the change under test adds or changes (changed-since, a pull request's base), found after the planned runs. */
  changed?: ChangeRecord;
  /** The cluster kubeflake provisioned wrote the API server's audit record: each run's slice is runs/<id>/audit.jsonl. */
  auditRecord?: boolean;
  /** The run after which the provided cluster was let go: every package had started its own envtest. */
  clusterReleasedAfter?: string;
}

/** One run (or probe) as the log holds it: the tests' outcomes and what the cluster showed. */
export interface LoggedRun {
  run: RunResult;
  /** Objects the run created and left, and baseline objects it deleted, attributed within the run. */
  leaks: LeakReport[];
  /** UIDs of every object beyond the baseline after the run: a later run's leak is only what is new. */
  leftover: string[];
  /** The cluster after the run was snapshotted (false: the run's cluster state is unknown). */
  observed: boolean;
  /** What the watch saw during the run: object events and its measured lag. */
  timeline: readonly TimelineEntry[];
  cleanup?: CleanupReport;
  /** The envtest control planes the run started, as kubeflake observed them (runs/<id>/envtest/). */
  envtest?: EnvtestInstance[];
  /** The API server's record of the run, from every control plane that kept one (absent: none did, e.g. an existing cluster). */
  record?: RunRecord;
}

/** The log's data, as buildReport reads it. */
export interface HuntData {
  /** The results directory it lives in. */
  dir: string;
  record: HuntRecord;
  runs: readonly LoggedRun[];
  /** Hunt errors plus problems met loading it from disk. */
  errors: readonly string[];
  /** The fixes proven after the probes (src/fix/), each for its victim: fixes/<n>.json. */
  fixes?: readonly VictimFix[];
}

/**
 * What one run leaked, attributed to the tests of that run. An object an earlier run already left
 * (cleanup off or failed) is that run's leak, not this one's.
 */
export function runLeaks(input: {
  baseline: Snapshot;
  after: Snapshot;
  timeline: readonly TimelineEntry[];
  run: RunResult;
  rules: readonly NoiseRule[];
  earlier: ReadonlySet<string>;
  /** The API server's record of the run (runs/<id>/audit.jsonl), when the cluster kept one: it names creators before the watch. */
  record?: readonly RecordEntry[];
}): { leaks: LeakReport[]; leftover: string[] } {
  const diff = diffSnapshots(input.baseline, input.after, input.rules);
  const fresh = diff.leaked.filter((object) => !input.earlier.has(object.uid));
  const timeline = [...input.timeline];
  const options = input.record ? { record: input.record } : {};
  return {
    leaks: [...attribute(fresh, timeline, input.run, options), ...attributeDeleted(diff.deleted, timeline, input.run, options)],
    leftover: diff.leaked.map((object) => object.uid),
  };
}

export function noiseRules(ignore: readonly string[]): NoiseRule[] {
  return [...DEFAULT_NOISE_RULES, ...ignore.map(parseIgnoreRule)];
}

export class HuntLog implements HuntData {
  readonly dir: string;
  readonly record: HuntRecord;
  readonly runs: LoggedRun[] = [];
  readonly errors: string[];
  readonly fixes: VictimFix[] = [];
  #baseline: Snapshot | undefined;
  readonly #rules: NoiseRule[];
  /** Per baseline (shards merged here each had their own cluster): UIDs earlier runs left. */
  readonly #leftover = new Map<string, Set<string>>();

  private constructor(dir: string, record: HuntRecord, errors: string[] = []) {
    this.dir = dir;
    this.record = record;
    this.errors = errors;
    this.#rules = noiseRules(record.ignore);
  }

  /**
   * Starts a hunt in `dir`. A folder that already holds a hunt is moved aside first (never
   * merged: old snapshots diffed against a new baseline would invent leaks); the log names where.
   */
  static async start(dir: string, record: Omit<HuntRecord, 'errors' | 'movedAside'>): Promise<HuntLog> {
    const full: HuntRecord = { ...record, errors: [] };
    if (holdsResults(dir)) {
      const aside = asideName(dir, record.startedAt);
      await rename(dir, aside);
      full.movedAside = aside;
    }
    await ensureDir(join(dir, files.runs));
    const log = new HuntLog(dir, full);
    await log.#save();
    return log;
  }

  /** The same log, read back from a results directory (`kubeflake report DIR`). */
  static async load(dir: string): Promise<HuntLog> {
    const errors: string[] = [];
    const stored = await readJson<HuntRecord>(join(dir, files.hunt)).catch((error: Error) => {
      errors.push(error.message);
      return undefined;
    });
    if (!stored && errors.length === 0) errors.push(`${join(dir, files.hunt)} is missing: is ${dir} a kubeflake results directory?`);
    const record: HuntRecord = {
      command: [],
      framework: 'generic',
      cluster: 'existing',
      cwd: dir,
      baseSeed: 0,
      runs: 0,
      startedAt: 0,
      ignore: [],
      ...stored,
      options: stored?.options ?? {},
      errors: stored?.errors ?? [],
    };
    const log = new HuntLog(dir, record, [...errors, ...record.errors]);
    const baseline = await readJson<Snapshot>(join(dir, files.baseline)).catch((error: Error) => {
      log.errors.push(error.message);
      return undefined;
    });
    if (baseline) log.#baseline = baseline;
    for (const id of await listRunIds(dir)) {
      const folder = runDir(dir, id);
      let run: RunResult;
      try {
        run = await loadRun(folder);
      } catch (error) {
        log.errors.push(`${folder}: ${(error as Error).message}`);
        continue;
      }
      const after = await readJson<Snapshot>(join(folder, files.after)).catch((error: Error) => {
        log.errors.push(error.message);
        return undefined;
      });
      const cleanup = await readJson<CleanupReport>(join(folder, files.cleanup)).catch((error: Error) => {
        log.errors.push(error.message);
        return undefined;
      });
      // A run adopted from a shard carries the baseline of the shard's own cluster.
      const own = await readJson<Snapshot>(join(folder, files.baseline)).catch((error: Error) => {
        log.errors.push(error.message);
        return undefined;
      });
      const timeline = await readTimeline(join(folder, files.timeline));
      if (timeline.skipped > 0) run.warnings.push(`${join(folder, files.timeline)}: ${timeline.skipped} torn line(s) skipped (the watch was stopped mid-write)`);
      const envtest = await readEnvtestEvidence(folder);
      const record = await readRunRecord(folder, envtest.map((evidence) => evidence.instance.id));
      log.#append(run, after, timeline.entries, cleanup, own ?? log.#baseline, envtest, record);
    }
    log.fixes.push(...(await readFixes(dir, log.errors)));
    return log;
  }

  /** Keeps a proven (or refused) fix: fixes/<n>.json, and its patch as fixes/<n>.patch when offered. */
  async addFix(victim: TestId, fix: FixReport): Promise<FixReport> {
    const index = String(this.fixes.length + 1);
    await ensureDir(join(this.dir, files.fixes));
    const kept: FixReport = fix.patch ? { ...fix, patchFile: `${files.fixes}/${index}.patch` } : fix;
    if (fix.patch) await writeFile(join(this.dir, files.fixes, `${index}.patch`), fix.patch);
    await writeJson(join(this.dir, files.fixes, `${index}.json`), { victim, fix: kept });
    this.fixes.push({ victim, fix: kept });
    return kept;
  }

  /** The noise and ignore rules every diff of this hunt uses. */
  get rules(): readonly NoiseRule[] {
    return this.#rules;
  }

  get baseline(): Snapshot | undefined {
    return this.#baseline;
  }

  async setBaseline(snapshot: Snapshot): Promise<void> {
    this.#baseline = snapshot;
    await writeJson(join(this.dir, files.baseline), snapshot);
  }

  /** Reads what the test command reported for a finished run (its reports in the run folder) with the runner's record. */
  ingest(meta: RunMeta): Promise<RunResult> {
    return ingestRun(runDir(this.dir, meta.id), meta);
  }

  /**
   * Adds a run with what the cluster showed after it and during it (the watch's events, which the
   * watch wrote itself). Writes what nobody wrote yet: after.json.
   */
  async addRun(run: RunResult, observation: { after?: Snapshot; timeline: readonly TimelineEntry[]; envtest?: EnvtestEvidence[]; record?: RunRecord }): Promise<LoggedRun> {
    if (observation.after) await writeJson(join(runDir(this.dir, run.id), files.after), observation.after);
    return this.#append(run, observation.after, observation.timeline, undefined, this.#baseline, observation.envtest, observation.record);
  }

  /**
   * Takes over a planned run of another results directory (a shard), with its evidence as that
   * directory's log computed it: the run folder is copied, with the shard's baseline beside it,
   * so this directory alone rebuilds the same report.
   */
  async adopt(source: HuntLog, entry: LoggedRun): Promise<void> {
    const folder = runDir(this.dir, entry.run.id);
    await cp(runDir(source.dir, entry.run.id), folder, { recursive: true });
    if (source.baseline) await writeJson(join(folder, files.baseline), source.baseline);
    this.runs.push(entry);
    for (const uid of entry.leftover) if (source.baseline) this.#leftoverOf(source.baseline).add(uid);
  }

  /** Records what cleanup did after a run (cleanup.json). */
  async addCleanup(entry: LoggedRun, cleanup: CleanupReport): Promise<void> {
    entry.cleanup = cleanup;
    await writeJson(join(runDir(this.dir, entry.run.id), files.cleanup), cleanup);
  }

  async fail(message: string): Promise<void> {
    this.record.errors.push(message);
    this.errors.push(message);
    await this.#save();
  }

  /** A note for the report, said once. */
  async note(message: string): Promise<void> {
    const notes = (this.record.notes ??= []);
    if (notes.includes(message)) return;
    notes.push(message);
    await this.#save();
  }

  /** Records the changed specs found (hunt.json), so a rebuilt report marks them too. */
  async setChanged(changed: ChangeRecord): Promise<void> {
    this.record.changed = changed;
    await this.#save();
  }

  async finish(endedAt: number): Promise<void> {
    this.record.endedAt = endedAt;
    await this.#save();
  }

  /** Every test seen so far by id: probes select tests by these names, never by parsing ids. */
  tests(): Map<TestId, TestCase> {
    const tests = new Map<TestId, TestCase>();
    for (const { run } of this.runs) for (const testCase of run.cases) if (!tests.has(testCase.id)) tests.set(testCase.id, testCase);
    return tests;
  }

  #append(run: RunResult, after: Snapshot | undefined, timeline: readonly TimelineEntry[], cleanup: CleanupReport | undefined, baseline: Snapshot | undefined, envtest: EnvtestEvidence[] = [], record?: RunRecord): LoggedRun {
    const entry: LoggedRun = { run, leaks: [], leftover: [], observed: after !== undefined, timeline };
    if (record) {
      entry.record = record;
      const damaged = [
        ...(record.cluster ? [recordDamage(record.cluster, join(files.runs, run.id))] : []),
        ...Object.entries(record.envtest).map(([id, instance]) => recordDamage(instance, `${join(files.runs, run.id)} envtest ${id}`)),
      ];
      for (const line of damaged) if (line) run.warnings.push(line);
    }
    if (after && baseline) {
      const earlier = this.#leftoverOf(baseline);
      const clusterRecord = record?.cluster ? { record: record.cluster.entries } : {};
      Object.assign(entry, runLeaks({ baseline, after, timeline, run, rules: this.#rules, earlier, ...clusterRecord }));
      for (const uid of entry.leftover) earlier.add(uid);
    }
    if (envtest.length > 0) {
      // Each envtest control plane is its own small cluster, fresh for the run: its leaks join the run's.
      const recordOf = (instance: EnvtestInstance) => record?.envtest[instance.id]?.entries;
      entry.leaks.push(...envtestRunLeaks(envtest, run, this.#rules, (instance) => resolve(this.record.cwd, instance.package), recordOf).flat());
      entry.envtest = envtest.map((evidence) => evidence.instance);
    }
    if (cleanup) entry.cleanup = cleanup;
    this.runs.push(entry);
    return entry;
  }

  #leftoverOf(baseline: Snapshot): Set<string> {
    const key = `${baseline.server}|${baseline.takenAt}`;
    let set = this.#leftover.get(key);
    if (!set) this.#leftover.set(key, (set = new Set()));
    return set;
  }

  async #save(): Promise<void> {
    await writeJson(join(this.dir, files.hunt), this.record);
  }
}

/** `results` -> `results.previous-2026-11-26T04-15-30Z` (a second one on the same second gets -2...). */
function asideName(dir: string, startedAt: number): string {
  const stamp = new Date(startedAt).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const base = join(dirname(dir), `${basename(dir)}.previous-${stamp}`);
  let name = base;
  for (let n = 2; existsSync(name); n += 1) name = `${base}-${n}`;
  return name;
}
