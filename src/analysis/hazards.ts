// Hunting latent hazards before they fail: the pairs the record found (record/hazards.ts) are
// probed back to back, under CPU pressure when the window is short, a few times each; a hazard
// that never fires is a warning with its measured window and margins, one that fires a finding.
// Replayed from the evidence like the failure hunts, so the planner and the report agree.

import type { HazardReport, ProbePlan } from '../model.ts';
import { findHazards, hazardObjectKey, type HazardCandidate } from '../record/hazards.ts';
import { obtain, TIER, type HuntContext, type NextProbe } from './hunt.ts';
import { outcomeIn, precedes, type RunView } from './evidence.ts';

/** A hold shorter than this is probed under stress: a slower controller keeps the object longer. */
export const SHORT_WINDOW_MS = 1000;
/** Hazards listed in the report at most (closest calls first); probes go to the first `maxHazards`. */
export const MAX_REPORTED_HAZARDS = 20;

export interface HazardHunt {
  /** The planner's key for its probe share. */
  key: string;
  report: HazardReport;
  next?: NextProbe;
}

/** Every hazard the records show, with its probes replayed; the first few get probes while their outcome is open. */
export function huntHazards(ctx: HuntContext): HazardHunt[] {
  if (ctx.records.length === 0) return [];
  const runs = [...ctx.evidence.planned, ...ctx.evidence.probes].map((v) => v.run);
  const candidates = findHazards(runs, ctx.records).slice(0, MAX_REPORTED_HAZARDS);
  let probing = 0;
  return candidates.map((candidate) => {
    const firedBefore = candidate.meetings.some((m) => m.fired && !m.probe) || firedInPlannedRuns(ctx, candidate);
    const plan = firedBefore || probing >= ctx.options.maxHazards ? undefined : planFor(ctx, candidate);
    if (plan) probing += 1;
    return replay(ctx, candidate, firedBefore, plan);
  });
}

/**
 * Whether a planned run already showed it: the record links the second spec's failure to the
 * first through this object, or (a state dependence) the second spec failed after its read of
 * the name found nothing, where the first creates it.
 */
function firedInPlannedRuns(ctx: HuntContext, h: HazardCandidate): boolean {
  // By name: each run's envtest is a new control plane, the hazard's object one run's of them.
  const key = hazardObjectKey(h.object);
  if (h.kind === 'state-dependence') return ctx.readMisses.some((m) => m.reader === h.second && m.creators.includes(h.first) && hazardObjectKey(m.object) === key);
  return ctx.links.some((l) => l.victim === h.second && l.polluter === h.first && hazardObjectKey(l.object) === key);
}

/** The planner's key of a hazard probe (its share of the budget is counted by it). */
export function hazardKey(plan: Pick<ProbePlan, 'tests' | 'subject'>): string {
  return `hazard\u0001${plan.tests.join('\u0001')}\u0001${plan.subject}`;
}

function replay(ctx: HuntContext, candidate: HazardCandidate, firedBefore: boolean, plan: ((attempt: number) => ProbePlan) | undefined): HazardHunt {
  const { touchOffsetMs: _offset, heldIn: _heldIn, ...shown } = candidate;
  const probes: HazardReport['probes'] = { runs: [], failed: [], stress: false };
  let next: NextProbe | undefined;
  let fired = firedBefore;
  for (let attempt = 1; plan && !fired && attempt <= ctx.options.hazardProbes; attempt += 1) {
    const p = plan(attempt);
    probes.stress = p.stress !== undefined;
    const r = obtain(ctx, p);
    if (r.state === 'pending') next = { plan: p, tier: TIER.confirm };
    if (r.state !== 'done') break;
    probes.runs.push(r.run.id);
    if (r.status === 'failed') probes.failed.push(r.run.id);
    fired = r.status === 'failed' || candidate.meetings.some((m) => m.run === r.run.id && m.fired);
  }
  const outcome: HazardReport['outcome'] = fired ? 'fired' : candidate.meetings.length > 0 || probes.runs.length > 0 ? 'held-off' : 'unmet';
  const key = plan ? hazardKey(plan(1)) : `hazard\u0001${candidate.first}\u0001${candidate.second}`;
  return { key, report: { ...shown, probes, outcome }, ...(next ? { next } : {}) };
}

/**
 * The i-th probe of a hazard: the pair back to back on the seed of the latest planned run that
 * kept the first before the second (under stress when the window is short); for a state
 * dependence, the reader alone, which fails if it needs what the other spec creates.
 */
function planFor(ctx: HuntContext, h: HazardCandidate): ((attempt: number) => ProbePlan) | undefined {
  const planned = [...ctx.evidence.planned].reverse();
  if (h.kind === 'state-dependence') {
    const at = planned.find((v) => outcomeIn(v, h.second) !== undefined);
    if (!at) return undefined;
    return (attempt) =>
      withAttempt({
        purpose: 'hazard',
        subject: h.second,
        tests: [h.second],
        seed: at.run.seed,
        expectedOrder: [h.second],
        hypothesis: `${h.second} alone: it reads ${h.object.name}, which ${h.first} creates; if it fails, it depends on ${h.first} running first`,
      }, attempt);
  }
  // The seed orders the focused pair, so it must come from a run that kept the order; among those, one whose
  // record showed the object held replays what made it hold (a size drawn from the seed).
  const held = new Set(h.heldIn ?? []);
  const at = planned.find((v: RunView) => held.has(v.run.id) && precedes(v, h.first, h.second) === true)
    ?? planned.find((v: RunView) => precedes(v, h.first, h.second) === true);
  if (!at) return undefined;
  const stress = h.windowMs !== undefined && h.windowMs < SHORT_WINDOW_MS;
  return (attempt) =>
    withAttempt({
      purpose: 'hazard',
      subject: h.second,
      tests: [h.first, h.second],
      seed: at.run.seed,
      expectedOrder: [h.first, h.second],
      hypothesis: `${h.first} then ${h.second}${stress ? ' under CPU stress' : ''}: ${h.object.name} stays terminating up to ${Math.round(h.windowMs ?? 0)} ms after ${h.first} ends; if ${h.second} fails, the hazard fires (seed of run ${at.run.id})`,
      ...(stress ? { stress: 'cpu' as const } : {}),
    }, attempt);
}

function withAttempt(plan: ProbePlan, attempt: number): ProbePlan {
  return attempt > 1 ? { ...plan, attempt, hypothesis: `${plan.hypothesis} (repeat ${attempt})` } : plan;
}
