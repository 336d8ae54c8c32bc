// The Report, from hunt logs alone: one log (a hunt, live or loaded from its folder) or several
// (shards of one hunt, or unrelated hunts to compare). Pure: every renderer reads its result.

import { isAbsolute, relative, sep } from 'node:path';
import type { LeakReport, Report, RunNotice, RunResult, TestReport } from './model.ts';
import { effortSentence, type ChangeRecord } from './changed/plan.ts';
import { isFinding, sharedVariableHint } from './report/findings.ts';
import { analyze, analyzeHazards, clusterFailures, reportVerdict } from './analysis/index.ts';
import { judgeableRuns, neverRanSentence, type RunExclusion } from './analysis/infrastructure.ts';
import { placedRecords } from './record/placed.ts';
import { mergeLeaks, settleAmbiguous, summarizeAttribution } from './cluster/attribution.ts';
import { mergeCleanupReports } from './cluster/cleanup.ts';
import type { HuntData, LoggedRun } from './hunt-log.ts';
import { summarizeDamage } from './ingest/damage.ts';
import { stressedReproduce } from './runner/stress.ts';
import { timelineEvents } from './cluster/watch.ts';
import { describeInstances, emptyTimelineNotice, packageModes, packagesOfRun } from './envtest/evidence.ts';

export const version = '0.1.0';

/** Builds the Report of one hunt, or the merged Report of several results directories. */
export function buildReport(logs: HuntData | readonly HuntData[], now: Date = new Date()): Report {
  const all = Array.isArray(logs) ? (logs as readonly HuntData[]) : [logs as HuntData];
  const first = all[0];
  const errors = all.flatMap((log) => log.errors);
  if (!first) errors.push('no results directory given');
  const runs = mergeRuns(all);
  const leaks = mergeLeaks(settleAmbiguous(runs.map((entry) => entry.leaks)));
  const framework = first?.record.framework ?? 'generic';
  // Infrastructure and interrupted runs are shown, never judged.
  const { judged, excluded, neverRan } = judgeableRuns(runs.map((entry) => entry.run), first?.record.infraThreshold);
  if (neverRan) errors.unshift(neverRanSentence(neverRan));
  const judgedIds = new Set(judged.map((run) => run.id));
  const fixes = new Map(all.flatMap((log) => log.fixes ?? []).map((kept) => [kept.victim, kept.fix]));
  const input = {
    ...first?.record.options,
    runs: judged,
    framework,
    command: first?.record.command,
    leaks,
    // The API server's record of the judged runs: links failures to objects' histories, and shows latent hazards.
    records: placedRecords(runs.filter((entry) => judgedIds.has(entry.run.id))),
  };
  const hazards = analyzeHazards(input);
  const tests = analyze(input)
    .map((test) => relativePaths(test, first?.record.root))
    .map((test) => (fixes.has(test.id) ? { ...test, fix: fixes.get(test.id)! } : test))
    // A pair that shares a Go variable gets a hint naming it, not the generic one of its failure class.
    .map((test, _, judgedTests) => (test.fix?.sharedVariable ? { ...test, hint: sharedVariableHint(test.fix.sharedVariable, judgedTests.find((t) => t.id === test.fix!.polluter)?.name ?? test.fix.polluter) } : test))
    .map((test) => (first?.record.stress && test.reproduce ? { ...test, reproduce: stressedReproduce(test.reproduce, first.record.stress) } : test))
    .map((test) => withChange(test, first?.record.changed));
  return {
    schema: 'kubeflake/report@1',
    command: (first?.record.command ?? []).join(' '),
    framework,
    cluster: first?.record.cluster ?? 'existing',
    // A run with no cluster snapshotted (none was made, or it was let go) had no cluster to watch.
    runs: runs.map((entry) => ({ ...runReport(entry, runNotices(entry, (first?.record.watch ?? true) && entry.observed)), ...exclusionOf(excluded.get(entry.run.id)) })),
    tests,
    leaks,
    cleanup: mergeCleanupReports(runs.flatMap((entry) => (entry.cleanup ? [entry.cleanup] : []))),
    verdict: reportVerdict(tests, errors, hazards),
    version,
    generatedAt: now.toISOString(),
    ...(errors.length ? { errors } : {}),
    ...notesOf(all),
    failureClusters: clusterFailures(tests),
    ...withDamage(summarizeDamage(runs.map((entry) => entry.run))),
    // How often attribution fell back or guessed, counted over every run's own leaks.
    attribution: summarizeAttribution(runs.flatMap((entry) => entry.leaks), runs.map((entry) => entry.timeline)),
    ...controlPlanesOf(runs, first?.record.cwd, first?.record.auditRecord ?? false),
    ...(hazards.length ? { hazards } : {}),
    ...(first?.record.clusterReleasedAfter ? { clusterReleasedAfter: first.record.clusterReleasedAfter } : {}),
    ...(neverRan ? { neverRan } : {}),
    ...changeOf(first?.record.changed, runs.map((entry) => entry.run), tests),
  };
}

function notesOf(logs: readonly HuntData[]): Pick<Report, 'notes'> {
  const notes = [...new Set(logs.flatMap((log) => log.record.notes ?? []))];
  return notes.length ? { notes } : {};
}

/** A test the change under test adds or changes says so. */
function withChange(test: TestReport, change: ChangeRecord | undefined): TestReport {
  const spec = change?.specs.find((s) => s.test === test.id);
  return spec ? { ...test, change: spec.change } : test;
}

/** The change under test: its specs, and how hard they were tried (the extra runs made for them). */
function changeOf(change: ChangeRecord | undefined, runs: readonly RunResult[], tests: readonly TestReport[]): Pick<Report, 'changed'> {
  if (!change) return {};
  const extra = runs.filter((run) => run.extra && !run.interrupted);
  const outcome = {
    runs: extra.filter((run) => run.extra?.purpose === 'changed').length,
    pairs: extra.filter((run) => run.extra?.purpose === 'pair').length,
    failing: change.specs.filter((spec) => tests.some((t) => t.id === spec.test && isFinding(t))).length,
  };
  return {
    changed: {
      since: change.since,
      ...(change.base ? { base: change.base } : {}),
      specs: change.specs,
      runs: outcome.runs,
      pairs: outcome.pairs,
      summary: effortSentence(change, outcome),
      ...(change.notes.length ? { notes: change.notes } : {}),
    },
  };
}

function exclusionOf(exclusion: RunExclusion | undefined): Pick<Report['runs'][number], 'infrastructure' | 'interrupted'> {
  if (exclusion?.kind === 'infrastructure') return { infrastructure: { cause: exclusion.cause } };
  if (exclusion?.kind === 'interrupted') return { interrupted: { signal: exclusion.signal } };
  return {};
}

function withDamage(damage: Report['damage']): Pick<Report, 'damage'> {
  return damage ? { damage } : {};
}

/** Which mode each package ran in; absent when no test says where it lives and no envtest started. */
function controlPlanesOf(runs: readonly LoggedRun[], cwd: string | undefined, clusterRecord: boolean): Pick<Report, 'controlPlanes'> {
  const modes = packageModes(runs.map((entry) => ({ id: entry.run.id, packages: cwd ? packagesOfRun(entry.run, cwd) : [], instances: entry.envtest ?? [], clusterRecord })));
  return modes.length ? { controlPlanes: modes } : {};
}

/**
 * What the report says about a run beyond its runner's warnings, each with its kind: an empty
 * timeline, envtest control planes seen empty, envtest problems. The live hunt logs the same.
 */
export function runNotices(entry: LoggedRun, watched: boolean): RunNotice[] {
  const instances = entry.envtest ?? [];
  const empty = emptyTimelineNotice({
    run: entry.run.id,
    tests: entry.run.cases.length,
    clusterEvents: timelineEvents(entry.timeline).length,
    instances,
    watched,
  });
  // The envtest module words the notice for a person; which case it is follows from what it was given.
  const emptyKind: RunNotice['kind'] = instances.length > 0 ? 'envtest-unseen' : 'empty-timeline';
  return [
    ...(empty ? [{ kind: emptyKind, message: empty }] : []),
    ...describeInstances(entry.run.id, instances).warnings.map((message): RunNotice => ({ kind: 'envtest-problem', message })),
    ...parallelGuessNotice(entry),
  ];
}

/** Said once a run: where specs ran in parallel, the record places a create among several specs by a guess. */
function parallelGuessNotice(entry: LoggedRun): RunNotice[] {
  const guessed = entry.leaks.filter((leak) => leak.recordCreate?.placement === 'parallel');
  if (guessed.length === 0) return [];
  return [{ kind: 'parallel-guess', message: `${entry.run.id}: specs ran in parallel: ${guessed.length} leaked object(s) are given to the likeliest of the specs running when the API server received their create (a guess; the candidates are listed with each)` }];
}

/**
 * The runs of every log, in one list with unique ids. Shards of one hunt have disjoint ids by
 * construction; runs of unrelated hunts that would collide are renamed `<folder>/<id>`
 * everywhere their id appears (leaks, cleanup), so every reference still points at a run.
 */
export function mergeRuns(logs: readonly HuntData[]): LoggedRun[] {
  if (logs.length === 1) return [...(logs[0]?.runs ?? [])];
  const seen = new Set<string>();
  const collides = logs.some((log) => log.runs.some((entry) => (seen.has(entry.run.id) ? true : (seen.add(entry.run.id), false))));
  // Shards of one hunt: planned runs in run order, as one job would have them, then every probe.
  if (!collides) {
    const all = logs.flatMap((log) => log.runs);
    return [...all.filter((e) => !e.run.probe).sort((a, b) => a.run.id.localeCompare(b.run.id)), ...all.filter((e) => e.run.probe)];
  }
  const names = uniqueNames(logs.map((log) => log.dir.split(/[\\/]/).filter(Boolean).at(-1) ?? 'results'));
  return logs.flatMap((log, i) => log.runs.map((entry) => renameRun(entry, (id) => `${names[i]}/${id}`)));
}

function renameRun(entry: LoggedRun, rename: (id: string) => string): LoggedRun {
  const leak = (l: LeakReport): LeakReport => ({ ...l, runs: l.runs.map(rename) });
  const cleanup = entry.cleanup && {
    ...entry.cleanup,
    deleted: entry.cleanup.deleted.map((act) => ({ ...act, run: rename(act.run) })),
    finalizersRemoved: entry.cleanup.finalizersRemoved.map((act) => ({ ...act, run: rename(act.run) })),
    left: entry.cleanup.left.map((act) => ({ ...act, run: rename(act.run) })),
  };
  return { ...entry, run: { ...entry.run, id: rename(entry.run.id) }, leaks: entry.leaks.map(leak), ...(cleanup ? { cleanup } : {}) };
}

function uniqueNames(names: string[]): string[] {
  const used = new Map<string, number>();
  return names.map((name) => {
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
  });
}

function runReport({ run, leaks, timeline, observed, envtest }: LoggedRun, notices: readonly RunNotice[] = []): Report['runs'][number] {
  // Leaks were looked for after the run: in kubeflake's cluster, or inside the envtest instances the run started.
  const lookedForLeaks = observed || (envtest?.length ?? 0) > 0;
  // Notices stay in `warnings` too, where readers of earlier reports find them.
  const warnings = [...run.warnings, ...notices.map((notice) => notice.message)];
  return {
    id: run.id,
    seed: run.seed,
    exitCode: run.exitCode,
    durationMs: run.durationMs,
    timedOut: run.timedOut,
    order: run.order,
    failed: run.cases.filter((test) => test.status === 'failed').map((test) => test.id),
    probe: run.probe,
    orderSource: run.orderSource,
    ...(run.plan ? { purpose: run.plan.purpose, subject: run.plan.subject } : {}),
    ...(run.extra ? { extra: run.extra } : {}),
    ...(warnings.length ? { warnings } : {}),
    ...(notices.length ? { notices: [...notices] } : {}),
    ...(lookedForLeaks ? { attribution: summarizeAttribution(leaks, [timeline]) } : {}),
    ...(run.cases.some((test) => test.status === 'skipped') ? { skipped: run.cases.filter((test) => test.status === 'skipped').map((test) => test.id) } : {}),
  };
}

/** Reports show repository-relative paths, never the machine's absolute ones. */
function relativePaths(test: TestReport, root: string | undefined): TestReport {
  const rel = (file: string): string => {
    if (!root || !isAbsolute(file)) return file;
    const inside = relative(root, file);
    return inside.startsWith('..') || isAbsolute(inside) ? file : inside.split(sep).join('/');
  };
  return {
    ...test,
    file: rel(test.file),
    ...(test.failures ? { failures: test.failures.map((f) => (f.location ? { ...f, location: { ...f.location, file: rel(f.location.file) } } : f)) } : {}),
  };
}
