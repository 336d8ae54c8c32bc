// Probe planning: a stateless function of the runs so far. The pipeline loops
//   plans = planProbes(input); run each plan; append the probe RunResults (probe: true, plan set)
// until planProbes returns []. Each call returns at most one probe per suspect test (the next
// step of its hunt), only from the most valuable tier still open, within the probe budget.

import type { Framework, LeakReport, ProbePlan, RunResult, TestId } from '../model.ts';
import { gatherEvidence, tally, type Evidence } from './evidence.ts';
import { canFocus } from '../frameworks/index.ts';
import { huntContext, huntFor, type Hunt, type HuntContext, type HuntOptions } from './hunt.ts';
import type { FailureLink } from './leaks.ts';
import { classifyFailure } from './taxonomy.ts';
import { candidateChance } from './chance.ts';

export interface ProbePlanInput extends HuntOptions {
  runs: RunResult[];
  framework: Framework;
  /** The user's test command; when given, no probes are planned if it cannot be focused (e.g. `make test`). */
  command?: string[];
  leaks?: LeakReport[];
  links?: FailureLink[];
  /** Probes per call, each for a different suspect (default 1: one hunt at a time). */
  maxBatch?: number;
}

/** The next batch of probes, most valuable first; [] when the hunt is over or the budget is spent. */
export function planProbes(input: ProbePlanInput): ProbePlan[] {
  if (input.framework === 'generic') return [];
  if (input.command && !canFocus(input.framework, input.command)) return [];
  const evidence = gatherEvidence(input.runs);
  const ctx = huntContext(evidence, input, input.leaks, input.links);
  const remaining = ctx.options.maxProbes - evidence.probes.length;
  if (remaining <= 0) return [];

  const nexts = huntsToPlan(ctx)
    .map((h) => h.next)
    .filter((n) => n !== undefined);
  if (nexts.length === 0) return [];
  const best = Math.min(...nexts.map((n) => n.tier));
  // Hunts run one after another, strongest suspect first, so a small budget finishes a hunt
  // rather than starting many.
  return nexts
    .filter((n) => n.tier === best)
    .map((n) => n.plan)
    .slice(0, Math.min(remaining, input.maxBatch ?? 1));
}

/**
 * The hunts worth walking, in priority order: tests that passed and failed and have an order
 * suspect, then (a few) tests that failed every time. Tests already probed stay in.
 */
export function huntsToPlan(ctx: HuntContext): Hunt[] {
  const { evidence } = ctx;
  const probed = new Set(evidence.probes.map((v) => v.run.plan?.subject).filter((s) => s !== undefined));
  const mixed: Hunt[] = [];
  const allFailed: Hunt[] = [];
  for (const id of evidence.tests.keys()) {
    const t = tally(evidence, id);
    if (t.failed === 0 || onlyBuildFailures(evidence, id)) continue;
    const hunt = huntFor(ctx, id);
    if (t.passed > 0) {
      if (probed.has(id) || hunt.polluterCandidates.length > 0 || hunt.setterCandidates.length > 0) mixed.push(hunt);
    } else {
      allFailed.push(hunt);
    }
  }
  const brokenFirst = byPriority(allFailed);
  const started = brokenFirst.filter((h) => probed.has(h.subject));
  const fresh = brokenFirst.filter((h) => !probed.has(h.subject)).slice(0, Math.max(0, ctx.options.maxBrokenChecks - started.length));
  return [...byPriority(mixed), ...started, ...fresh];
}

/**
 * Suspects with a leak linking them to a candidate first, then by the strength of their best
 * order signal: how unlikely a plain flake would line up with that candidate's order.
 */
function byPriority(hunts: Hunt[]): Hunt[] {
  const strength = new Map<Hunt, number>();
  for (const h of hunts) {
    const best = [...h.polluterCandidates.slice(0, 5), ...h.setterCandidates.slice(0, 5)];
    strength.set(h, Math.min(1, ...best.map((c) => candidateChance(c.tellingPreceded, c.other - c.otherPreceded))));
  }
  const linked = (h: Hunt): number => (h.leakLinks.size > 0 ? 1 : 0);
  return [...hunts].sort(
    (a, b) => linked(b) - linked(a) || (strength.get(a) ?? 1) - (strength.get(b) ?? 1) || a.subject.localeCompare(b.subject),
  );
}

/** A package that does not compile fails every test; probing them one by one proves nothing. */
function onlyBuildFailures(evidence: Evidence, id: TestId): boolean {
  const failures = evidence.planned.map((v) => v.cases.get(id)).filter((c) => c?.status === 'failed');
  return failures.length > 0 && failures.every((c) => c?.failure && classifyFailure(c.failure) === 'BuildFailure');
}
