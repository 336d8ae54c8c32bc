// Order inference from recorded orders (planned runs only; probes are confirmations, not samples).
//
// Polluter candidates of a victim: tests that ran before it when it failed, and less often when
// it passed. State-setter candidates of a brittle test: the mirror image. Cleaner candidates of a
// (polluter, victim) pair: tests that ran between them when the victim passed anyway.

import type { TestId } from '../model.ts';
import { precedes, runsWhere, testsBefore, type Evidence, type RunView } from './evidence.ts';

export interface OrderCandidate {
  test: TestId;
  /** Ratio of runs with the telling outcome where it preceded, minus the ratio for the other outcome, plus a leak bonus. */
  score: number;
  /** Runs with the telling outcome (failed for polluters, passed for state-setters) and how many it preceded. */
  telling: number;
  tellingPreceded: number;
  /** Runs with the other outcome and how many it preceded. */
  other: number;
  otherPreceded: number;
  /** A leaked object created by this test is named in the subject's failure. */
  leakLinked: boolean;
  /** Mean distance (in tests) to the subject in telling runs: nearer first on ties. */
  distance: number;
}

/** Added to the score of a candidate that left behind an object the victim's failure names. */
export const LEAK_BONUS = 0.5;
/** A candidate must precede the subject in at least this share of the telling runs. */
const MIN_TELLING_RATIO = 0.5;

/** Polluter candidates of a victim, best first. */
export function rankPolluterCandidates(
  evidence: Evidence,
  victim: TestId,
  leakLinked: ReadonlySet<TestId> = new Set(),
): OrderCandidate[] {
  return rankPreceding(runsWhere(evidence, victim, 'failed'), runsWhere(evidence, victim, 'passed'), victim, leakLinked);
}

/** State-setter candidates of a brittle test (it passes only after them), best first. */
export function rankStateSetterCandidates(evidence: Evidence, subject: TestId, leakLinked: ReadonlySet<TestId> = new Set()): OrderCandidate[] {
  return rankPreceding(runsWhere(evidence, subject, 'passed'), runsWhere(evidence, subject, 'failed'), subject, leakLinked);
}

function rankPreceding(
  telling: RunView[],
  other: RunView[],
  subject: TestId,
  leakLinked: ReadonlySet<TestId>,
): OrderCandidate[] {
  if (telling.length === 0) return [];
  const stats = new Map<TestId, { preceded: number; distance: number }>();
  for (const view of telling) {
    const before = testsBefore(view, subject);
    before.forEach((id, i) => {
      const s = stats.get(id) ?? { preceded: 0, distance: 0 };
      s.preceded += 1;
      s.distance += before.length - i;
      stats.set(id, s);
    });
  }
  // One pass over the other runs counts every test's precedence, instead of a pass per candidate.
  const otherCounts = new Map<TestId, number>();
  for (const view of other) {
    for (const id of testsBefore(view, subject)) if (stats.has(id)) otherCounts.set(id, (otherCounts.get(id) ?? 0) + 1);
  }
  const candidates: OrderCandidate[] = [];
  for (const [test, s] of stats) {
    const otherPreceded = otherCounts.get(test) ?? 0;
    const tellingRatio = s.preceded / telling.length;
    const otherRatio = other.length === 0 ? 0 : otherPreceded / other.length;
    if (tellingRatio < MIN_TELLING_RATIO || tellingRatio - otherRatio <= 0) continue;
    const linked = leakLinked.has(test);
    candidates.push({
      test,
      score: round(tellingRatio - otherRatio + (linked ? LEAK_BONUS : 0)),
      telling: telling.length,
      tellingPreceded: s.preceded,
      other: other.length,
      otherPreceded,
      leakLinked: linked,
      distance: s.distance / s.preceded,
    });
  }
  return candidates.sort(
    (a, b) => b.score - a.score || b.tellingPreceded - a.tellingPreceded || a.distance - b.distance || a.test.localeCompare(b.test),
  );
}

export interface CleanerCandidate {
  test: TestId;
  /** Passing runs of the victim where the polluter preceded it, and how many had this test between them. */
  passesWithPolluter: number;
  between: number;
  score: number;
  /** A passing run where polluter, cleaner, victim ran in that order (its seed reproduces that order). */
  witness: RunView;
}

/**
 * Cleaner candidates for a confirmed (polluter, victim) pair: tests that ran between them in
 * passing runs, and never between them in failing runs.
 */
export function rankCleanerCandidates(evidence: Evidence, polluter: TestId, victim: TestId): CleanerCandidate[] {
  const between = (view: RunView): TestId[] => {
    const p = view.position?.get(polluter);
    const v = view.position?.get(victim);
    if (p === undefined || v === undefined || p >= v) return [];
    return view.run.order.slice(p + 1, v).filter((id) => view.cases.get(id)?.status !== 'skipped');
  };
  const passes = runsWhere(evidence, victim, 'passed').filter((v) => precedes(v, polluter, victim) === true);
  const failsBetween = new Set(runsWhere(evidence, victim, 'failed').flatMap(between));
  const found = new Map<TestId, { count: number; witness: RunView }>();
  for (const view of passes) {
    for (const id of between(view)) {
      if (failsBetween.has(id)) continue;
      const f = found.get(id);
      if (f) f.count += 1;
      else found.set(id, { count: 1, witness: view });
    }
  }
  return [...found.entries()]
    .map(([test, f]) => ({
      test,
      passesWithPolluter: passes.length,
      between: f.count,
      score: round(f.count / passes.length),
      witness: f.witness,
    }))
    .sort((a, b) => b.score - a.score || a.test.localeCompare(b.test));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
