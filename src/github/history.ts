// The nightly flake history, kept in the tracking issue's own body as a digest: which nights
// ran, and for each test that has been a finding, how many runs it failed each night. Pure:
// a night's Report goes in, the next history and what to do with the issue come out.

import type { Report, TestId, TestReport, Verdict } from '../model.ts';
import { findingTests, leakName, viaLeaks, indexTests } from '../report/findings.ts';

export interface NightRecord {
  /** YYYY-MM-DD of the run. */
  date: string;
  sha: string;
  runId: number;
  verdict: Report['verdict'];
  findings: number;
}

export interface TrackedTest {
  name: string;
  /** The verdict of the last night it was a finding. */
  verdict: Verdict;
  /** First and last night it failed. */
  first: string;
  last: string;
  polluter?: string;
  leak?: string;
  reproduce?: string;
  /** Aligned with NightlyHistory.nights: runs it ran that night, -1 when it was not seen. */
  runs: number[];
  /** Aligned with nights: runs it failed that night (0 when not seen). */
  failed: number[];
}

export interface NightlyHistory {
  v: 1;
  nights: NightRecord[];
  tests: TrackedTest[];
}

export interface HistoryLimits {
  /** Nights kept: the flake-rate window. */
  nights: number;
  /** Tests kept, most failing first. */
  tests: number;
}

export const HISTORY_LIMITS: HistoryLimits = { nights: 30, tests: 500 };

export function emptyHistory(): NightlyHistory {
  return { v: 1, nights: [], tests: [] };
}

/** A digest read from an issue, checked field by field; anything malformed counts as no history. */
export function asHistory(value: unknown): NightlyHistory {
  const h = value as Partial<NightlyHistory> | undefined;
  if (!h || h.v !== 1 || !Array.isArray(h.nights) || !Array.isArray(h.tests)) return emptyHistory();
  const n = h.nights.length;
  const okNight = (x: NightRecord) => x && typeof x.date === 'string' && typeof x.sha === 'string' && typeof x.verdict === 'string';
  const okTest = (t: TrackedTest) => t && typeof t.name === 'string' && Array.isArray(t.runs) && Array.isArray(t.failed) && t.runs.length === n && t.failed.length === n;
  if (!h.nights.every(okNight) || !h.tests.every(okTest)) return emptyHistory();
  return { v: 1, nights: h.nights, tests: h.tests };
}

/** Adds one night's report; drops nights past the window and tests that no longer fail in it. */
export function addNight(history: NightlyHistory, report: Report, night: Omit<NightRecord, 'verdict' | 'findings'>, limits: HistoryLimits = HISTORY_LIMITS): NightlyHistory {
  const findings = findingTests(report);
  const byName = new Map(report.tests.map((t) => [t.name, t] as const));
  const nights = [...history.nights, { ...night, verdict: report.verdict, findings: findings.length }];
  const tests = history.tests.map((t) => {
    const seen = byName.get(t.name);
    return { ...t, runs: [...t.runs, seen ? seen.passed + seen.failed : -1], failed: [...t.failed, seen?.failed ?? 0] };
  });
  const tracked = new Map(tests.map((t) => [t.name, t] as const));
  const index = indexTests(report);
  const nameOf = (id: TestId) => index.get(id)?.name ?? id;
  for (const finding of findings) {
    let entry = tracked.get(finding.name);
    if (!entry) {
      entry = {
        name: finding.name,
        verdict: finding.verdict,
        first: night.date,
        last: night.date,
        runs: [...history.nights.map(() => -1), finding.passed + finding.failed],
        failed: [...history.nights.map(() => 0), finding.failed],
      };
      tracked.set(finding.name, entry);
      tests.push(entry);
    }
    entry.verdict = finding.verdict;
    if (finding.failed > 0) entry.last = night.date;
    const polluter = finding.polluters.find((p) => p.confirmed) ?? finding.polluters[0];
    const leak = polluter ? viaLeaks(report, polluter.via)[0] : undefined;
    entry.polluter = polluter ? nameOf(polluter.test) : finding.stateSetters[0] ? nameOf(finding.stateSetters[0]) : entry.polluter;
    entry.leak = leak ? leakName(leak) : entry.leak;
    entry.reproduce = finding.reproduce || entry.reproduce;
  }
  return trim({ v: 1, nights, tests }, limits);
}

function trim(history: NightlyHistory, limits: HistoryLimits): NightlyHistory {
  const drop = Math.max(0, history.nights.length - limits.nights);
  const nights = history.nights.slice(drop);
  const tests = history.tests
    .map((t) => ({ ...t, runs: t.runs.slice(drop), failed: t.failed.slice(drop) }))
    .filter((t) => t.failed.some((f) => f > 0));
  return { v: 1, nights, tests: rankTests(tests).slice(0, limits.tests) };
}

/** How often a test failed over the window, counted by nights and by runs: a night of one failure in six is not a night of six. */
export interface FlakeRate {
  /** Nights in the window it failed at least once. */
  failingNights: number;
  /** Nights in the window it ran. */
  seenNights: number;
  /** failingNights / seenNights, 0..1. */
  rate: number;
  /** Runs it failed, over the nights it ran. */
  failedRuns: number;
  /** Runs it ran, over the nights it ran. */
  seenRuns: number;
}

/** From the digest's per-night counts (`runs`, `failed`), which every digest kubeflake wrote holds. */
export function flakeRate(test: TrackedTest): FlakeRate {
  let seenNights = 0;
  let failingNights = 0;
  let seenRuns = 0;
  let failedRuns = 0;
  test.runs.forEach((runs, i) => {
    if (runs < 0) return;
    const failed = test.failed[i] ?? 0;
    seenNights += 1;
    seenRuns += runs;
    failedRuns += failed;
    if (failed > 0) failingNights += 1;
  });
  return { failingNights, seenNights, rate: seenNights ? failingNights / seenNights : 0, failedRuns, seenRuns };
}

/** "2 of 2 nights, 2 of 12 runs": both counts, so a rare failure seen every night does not read as 100%. */
export function describeFlakeRate(rate: FlakeRate): string {
  return `${rate.failingNights} of ${rate.seenNights} ${rate.seenNights === 1 ? 'night' : 'nights'}, ${rate.failedRuns} of ${rate.seenRuns} ${rate.seenRuns === 1 ? 'run' : 'runs'}`;
}

/** Most failing nights first, then most recently failing, then by name for a stable order. */
export function rankTests(tests: TrackedTest[]): TrackedTest[] {
  return [...tests].sort((a, b) => flakeRate(b).failingNights - flakeRate(a).failingNights || b.last.localeCompare(a.last) || a.name.localeCompare(b.name));
}

/** Clean nights in a row at the end of the history (an error night breaks no streak and makes none). */
export function cleanStreak(history: NightlyHistory): number {
  let streak = 0;
  for (const night of [...history.nights].reverse()) {
    if (night.verdict === 'findings') break;
    if (night.verdict === 'clean') streak++;
  }
  return streak;
}

export type TrackingAction = 'create' | 'update' | 'close' | 'reopen' | 'none';

/** What to do with the tracking issue after tonight. */
export function decideTracking(issue: { state: 'open' | 'closed' } | undefined, history: NightlyHistory, cleanNightsToClose: number): TrackingAction {
  const tonight = history.nights.at(-1);
  const findings = tonight?.verdict === 'findings';
  if (!issue) return findings ? 'create' : 'none';
  if (issue.state === 'closed') return findings ? 'reopen' : 'update';
  return cleanStreak(history) >= cleanNightsToClose ? 'close' : 'update';
}

/** "▁▁█▃·▁": one bar a night, its height the share of runs that failed, · when it did not run. */
export function sparkline(test: TrackedTest): string {
  const bars = '▂▃▄▅▆▇█';
  return test.runs.map((runs, i) => {
    if (runs < 0) return '·';
    const failed = test.failed[i]!;
    if (failed <= 0 || runs === 0) return '▁';
    return bars[Math.min(bars.length - 1, Math.ceil((failed / runs) * bars.length) - 1)]!;
  }).join('');
}

export interface KnownFlake {
  first: string;
  last: string;
  rate: FlakeRate;
  verdict: Verdict;
}

/** What the nightly history knows about a test a PR run found, by name. */
export function knownFlake(history: NightlyHistory, test: Pick<TestReport, 'name'>): KnownFlake | undefined {
  const tracked = history.tests.find((t) => t.name === test.name);
  if (!tracked) return undefined;
  return { first: tracked.first, last: tracked.last, rate: flakeRate(tracked), verdict: tracked.verdict };
}

/** "known flaky since 2026-11-02, failed in 3 of 10 nights, 4 of 60 runs" or "new: not seen failing...". */
export function historyNote(history: NightlyHistory | undefined, test: Pick<TestReport, 'name'>): string | undefined {
  if (!history || !history.nights.length) return undefined;
  const known = knownFlake(history, test);
  if (!known) return `new: not seen failing in the last ${history.nights.length} nights`;
  return `known ${known.verdict} since ${known.first}, failed in ${describeFlakeRate(known.rate)}`;
}
