// Probe planning: a stateless function of the runs so far. The pipeline loops
//   plans = planProbes(input); run each plan; append the probe RunResults (probe: true, plan set)
// until planProbes returns []. Each call returns the next probe of the most decisive tier still
// open, for the strongest suspect in that tier, within the probe budget.

import type { Framework, LeakReport, ProbePlan, RunResult } from '../model.ts';
import { gatherEvidence, tally } from './evidence.ts';
import { canFocus } from '../frameworks/index.ts';
import { huntContext, replayHunts, type Hunt, type HuntContext, type HuntOptions } from './hunt.ts';
import { candidateChance } from './chance.ts';
import { hazardKey, huntHazards } from './hazards.ts';
import type { PlacedRecord } from '../record/links.ts';

/** The evidence so far, and the hunt's options (the same record analyze is given, spread in). */
export interface ProbePlanInput extends Partial<HuntOptions> {
  runs: RunResult[];
  framework: Framework;
  /** The user's test command; when given, no probes are planned if it cannot be focused (e.g. `make test`). */
  command?: string[];
  leaks?: LeakReport[];
  /** The API server's record of each run that has one: record links, read misses and latent hazards come from it. */
  records?: readonly PlacedRecord[];
  /**
   * At most this many probes, each the next of a different hunt (default 1): probes that can run
   * side by side. The first is the one a batch of one would give.
   */
  batch?: number;
}

/** The next probes (one unless a batch is asked for), most decisive first; [] when the hunt is over or the budget is spent. */
export function planProbes(input: ProbePlanInput): ProbePlan[] {
  if (input.framework === 'generic') return [];
  if (input.command && !canFocus(input.framework, input.command)) return [];
  const evidence = gatherEvidence(input.runs);
  const ctx = huntContext(evidence, input, input.leaks, input.records);
  const left = ctx.options.maxProbes - evidence.probes.length;
  if (left <= 0) return [];

  // Failure hunts first, then the latent hazards of the record, each with its own share.
  const open = [
    ...huntsToPlan(ctx, replayHunts(ctx)).map((h) => ({ key: h.subject, next: h.next })),
    ...huntHazards(ctx).map((h) => ({ key: h.key, next: h.next })),
  ].filter((h) => h.next !== undefined);
  if (open.length === 0) return [];
  const best = Math.min(...open.map((h) => h.next?.tier ?? Infinity));
  const spent = new Map<string, number>();
  for (const v of evidence.probes) {
    if (!v.run.plan) continue;
    const key = v.run.plan.purpose === 'hazard' ? hazardKey(v.run.plan) : v.run.plan.subject;
    spent.set(key, (spent.get(key) ?? 0) + 1);
  }
  // Hunts run one after another, strongest suspect first within the most decisive tier, so a
  // small budget finishes a hunt rather than starting many; but a hunt that outgrew its first
  // share (a race needs many repeats) waits until the others had theirs.
  const tier = open.filter((h) => h.next?.tier === best);
  const chosen = tier.find((h) => (spent.get(h.key) ?? 0) < FIRST_SHARE) ?? tier[0];
  if (!chosen?.next) return [];
  // Side by side: the next probe of other hunts, most decisive tier first; never two of one hunt (its next depends on the first).
  const others = open.filter((h) => h !== chosen).sort((a, b) => (a.next?.tier ?? Infinity) - (b.next?.tier ?? Infinity));
  return [chosen, ...others].slice(0, Math.max(1, Math.min(input.batch ?? 1, left))).map((h) => h.next!.plan);
}

/** Probes a hunt may take before hunts that had none wait no longer: enough for one that fires every time to conclude. */
const FIRST_SHARE = 6;

/**
 * The hunts worth probing, in priority order: tests that passed and failed and have an order
 * suspect, then (a few) tests that failed every time. Tests already probed stay in.
 */
export function huntsToPlan(ctx: HuntContext, hunts: Map<string, Hunt>): Hunt[] {
  const { evidence } = ctx;
  const probed = new Set(evidence.probes.filter((v) => v.run.plan?.purpose !== 'hazard').map((v) => v.run.plan?.subject).filter((s) => s !== undefined));
  const mixed: Hunt[] = [];
  const allFailed: Hunt[] = [];
  for (const hunt of hunts.values()) {
    if (tally(evidence, hunt.subject).passed > 0) {
      if (probed.has(hunt.subject) || hunt.polluterCandidates.length > 0 || hunt.setterCandidates.length > 0) mixed.push(hunt);
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
  const linked = (h: Hunt): number => (h.recordLinks.length > 0 ? 2 : h.leakLinks.size > 0 ? 1 : 0);
  return [...hunts].sort(
    (a, b) => linked(b) - linked(a) || (strength.get(a) ?? 1) - (strength.get(b) ?? 1) || a.subject.localeCompare(b.subject),
  );
}
