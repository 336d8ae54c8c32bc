// The hunt for one suspect test, replayed from the evidence: which probes it needs, in which
// order, and what the probes already run have shown. The planner (to ask for the next probe) and
// the verdicts (to read the conclusion) consume the same replay, so they never disagree. A probe
// is only planned when no probe run with the same plan exists.
//
// The record first: when the API server's record of a failing run shows another spec put the
// object the failure names in the victim's way (record/links.ts), that run proves the polluter;
// probes then only measure the rates (huntByRecord).
//
// Otherwise conservative by design: a polluter (or state-setter) is confirmed only by the alone control
// (the victim passes alone; the brittle test fails alone), at least two pair probes showing the
// telling outcome, and enough evidence that a plain flake would produce it with chance below a
// bound (chance.ts). A race need not fire in every pair probe: the pair's rate is compared with
// the alone rate. The subject showing the telling outcome alone too (a victim failing with
// nothing before it) ends the hunt: a plain flake.

import type { Failure, LeakReport, ProbePlan, RecordLink, RunResult, TestId } from '../model.ts';
import { findReadMisses, findRecordLinks, type ReadMiss, type PlacedRecord } from '../record/links.ts';
import { outcomeIn, precedes, runsWhere, testsBefore, type Evidence, type RunView } from './evidence.ts';
import { DEFAULT_FALSE_ALARM_BOUND, boundAfterMisses, flakeChance, orderChance, seriesStep, type OrderChance } from './chance.ts';
import { leaksByCreator } from './leaks.ts';
import { rankCleanerCandidates, rankPolluterCandidates, rankStateSetterCandidates, type OrderCandidate } from './order.ts';
import { classifyFailure } from './taxonomy.ts';

/**
 * How a hunt spends probes and how much evidence it asks for: one record the caller passes to
 * both planProbes and analyze (and saves with the hunt), so a report rebuilt later replays the
 * hunt under the options it really ran with.
 */
export interface HuntOptions {
  /** Probes allowed in total (all subjects). */
  maxProbes: number;
  /** Polluter / state-setter / cleaner candidates tried per subject. */
  maxCandidates: number;
  /** Tests that failed in every run to check alone (a broken test, or a victim of a test that always precedes it). */
  maxBrokenChecks: number;
  /** Delta-debugging probes per subject. */
  maxBisectProbes: number;
  /** Probes one confirmation may take (pair repeats plus alone controls) before giving up as too weak. */
  maxConfirmProbes: number;
  /** A verdict needs the chance that a plain flake produced the same evidence to be at most this. */
  falseAlarmBound: number;
  /** The same, for a polluter (state-setter) whose leaked object the victim's (brittle test's) failure names. */
  linkedFalseAlarmBound: number;
  /** Pair probes that measure the rate of a polluter the record already proved (fewer when the first two both fail). */
  recordRateProbes: number;
  /** Latent hazards found in the record to probe, closest call first. */
  maxHazards: number;
  /** Probes one hazard may take (the pair back to back, repeated) before it is reported as held off. */
  hazardProbes: number;
}

export const DEFAULT_HUNT_OPTIONS: Readonly<HuntOptions> = Object.freeze({
  maxProbes: 20,
  maxCandidates: 3,
  maxBrokenChecks: 3,
  maxBisectProbes: 8,
  // Within 24, a race that fires in half the pair probes clears the linked bound about 2 times in 3.
  maxConfirmProbes: 24,
  falseAlarmBound: DEFAULT_FALSE_ALARM_BOUND,
  linkedFalseAlarmBound: 0.02,
  recordRateProbes: 4,
  maxHazards: 3,
  hazardProbes: 3,
});

/**
 * The options with defaults filled in, from any object that carries them (an analysis input, a
 * saved hunt.json record): other keys are ignored. Throws naming the option when a value cannot be used.
 */
export function huntOptions(given: Partial<HuntOptions> = {}): HuntOptions {
  const options: HuntOptions = { ...DEFAULT_HUNT_OPTIONS };
  for (const key of Object.keys(DEFAULT_HUNT_OPTIONS) as (keyof HuntOptions)[]) {
    const value = given[key];
    if (value !== undefined) options[key] = value;
  }
  for (const key of ['maxProbes', 'maxCandidates', 'maxBrokenChecks', 'maxBisectProbes', 'maxConfirmProbes', 'recordRateProbes', 'maxHazards', 'hazardProbes'] as const) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`hunt option ${key} must be a whole number >= 0, got ${String(value)}`);
  }
  for (const key of ['falseAlarmBound', 'linkedFalseAlarmBound'] as const) {
    const value = options[key];
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new Error(`hunt option ${key} must be a chance above 0 and at most 1, got ${String(value)}`);
  }
  return options;
}

/** Probe tiers, most decisive per probe first: the planner only asks for the best tier still open. */
export const TIER = {
  /** The alone control of a test that failed in every run: one probe tells broken from victim. */
  aloneCheck: 0,
  /** A cleaner probe completes a polluter already confirmed. */
  cleaner: 1,
  confirm: 2,
  bisect: 3,
} as const;

/** Probe runs of the subject by its outcome in them. */
export interface Tally {
  failed: string[];
  passed: string[];
}

/** A polluter (group) or state-setter under test, and what its probes showed so far. */
export interface Suspect {
  role: 'polluter' | 'state-setter';
  /** Usually one test; several when bisection found that only together they pollute. */
  tests: TestId[];
  /** The subject's outcomes in the pair probes (the suspect then the subject). */
  after: Tally;
  /** The chance a plain flake gives evidence this strong (with the alone controls so far), and the bound it must reach. */
  chance: number;
  bound: number;
  /** The probe plan that shows the telling outcome. */
  plan: ProbePlan;
  /** A polluter the API server's record proved from one failing run: its probes only measure the rate. */
  record?: RecordLink;
}

export interface ConfirmedCleaner {
  test: TestId;
  polluter: TestId;
  probe: string;
}

/**
 * What one hunt has concluded, as far as the probes run allow. Each kind carries what its
 * verdict and sentence need; `Hunt.next` says whether more probes are wanted.
 */
export type HuntOutcome =
  /** No probe has told anything yet: the alone control is still to run (or may not run: budget, command). */
  | { kind: 'unprobed' }
  /** A probe gave no usable result (crashed, focus matched other tests, order not kept). */
  | { kind: 'inconclusive'; reason: string }
  /** Failed in every run, and with nothing before it: alone (`run` is the probe), in a run where it ran first, or not compiling. */
  | { kind: 'broken'; by: 'alone' | 'ran-first' | 'build'; run?: string }
  /**
   * Fails (or passes) by itself, whatever ran before: it failed with nothing before it (a planned
   * run where it ran first, or an alone control during a polluter hunt), or failed alone yet
   * passed where it ran first. `suspect` is the hypothesis under test when that showed.
   */
  | { kind: 'plain-flake'; by: 'failed-first' | 'passed-first' | 'failed-alone' | 'passed-alone'; run: string; suspect?: Suspect }
  /** Probes under way agree so far; nothing confirmed yet. */
  | { kind: 'searching'; suspect?: Suspect }
  /** The probes agreed, but not strongly enough to rule out a plain flake within the series cap. */
  | { kind: 'unconfirmed'; suspect: Suspect }
  /** Every candidate was refuted (and bisection found none): no polluter / state-setter. */
  | { kind: 'cleared'; role: 'polluter' | 'state-setter' }
  /**
   * Confirmed polluters. Failing planned runs none of them explains leave the test flaky; passing
   * runs after one with no confirmed cleaner between say it does not fire every time (a race).
   */
  | {
      kind: 'polluted';
      polluters: Suspect[];
      cleaners: ConfirmedCleaner[];
      unexplainedFailures: string[];
      unexplainedPasses: string[];
      /** Alone controls it failed in, beside a polluter the record proved: it also fails by itself. */
      failedAlone?: string[];
    }
  /** A confirmed state-setter; passing planned runs without it leave the test flaky. */
  | { kind: 'needs-setter'; setters: Suspect[]; unexplainedPasses: string[] };

export interface NextProbe {
  plan: ProbePlan;
  tier: number;
}

export interface Hunt {
  subject: TestId;
  /** 'mixed': passed and failed in planned runs; 'all-failed': failed in every run it has a result in. */
  shape: 'mixed' | 'all-failed';
  polluterCandidates: OrderCandidate[];
  setterCandidates: OrderCandidate[];
  /** Leak indexes per creator, from the subject's failure messages. */
  leakLinks: Map<TestId, number[]>;
  /** Links the API server's record makes from the subject's failures in planned runs to the specs that put an object in its way. */
  recordLinks: RecordLink[];
  /** The alone control: its first plan and every alone probe walked, by the subject's outcome. */
  alone?: { plan: ProbePlan; tally: Tally };
  /** Candidates the probes cleared: the telling outcome never showed in these pair probes. */
  refuted: { test: TestId; role: 'polluter' | 'state-setter'; runs: string[] }[];
  /** Delta debugging over a failing run's prefix: bisection probes spent, and the minimal polluter set. */
  bisect?: { run: string; tried: number; found?: TestId[] };
  outcome: HuntOutcome;
  /** The probe this hunt wants next; absent when it is over. */
  next?: NextProbe;
}

export interface HuntContext {
  evidence: Evidence;
  options: HuntOptions;
  leaks: readonly LeakReport[];
  probesByKey: Map<string, RunView[]>;
  /** The API server's record of each run that has one. */
  records: readonly PlacedRecord[];
  /** Record links of every failure in the planned runs. */
  links: RecordLink[];
  /** Reads that found nothing in runs the reader failed, with the specs that create the name elsewhere. */
  readMisses: ReadMiss[];
}

export function huntContext(evidence: Evidence, options: Partial<HuntOptions> = {}, leaks: readonly LeakReport[] = [], records: readonly PlacedRecord[] = []): HuntContext {
  const probesByKey = new Map<string, RunView[]>();
  for (const view of evidence.probes) {
    if (!view.run.plan) continue;
    const key = probeKey(view.run.plan);
    probesByKey.set(key, [...(probesByKey.get(key) ?? []), view]);
  }
  const planned = evidence.planned.map((v) => v.run);
  return { evidence, options: huntOptions(options), leaks, probesByKey, records, links: findRecordLinks(planned, records), readMisses: findReadMisses(planned, records) };
}

/**
 * Identity of a probe: the same tests with the same seed and attempt are the same experiment,
 * whatever purpose asked for it, so a result is never asked for twice. Under stress it is another experiment.
 */
export function probeKey(plan: Pick<ProbePlan, 'tests' | 'seed' | 'attempt' | 'stress'>): string {
  return [plan.seed, plan.attempt ?? 1, [...plan.tests].sort().join('\u0000'), ...(plan.stress ? [plan.stress] : [])].join('\u0001');
}

/** Every test that failed in a planned run, its hunt replayed once: what the planner and the verdicts both read. */
export function replayHunts(ctx: HuntContext): Map<TestId, Hunt> {
  const hunts = new Map<TestId, Hunt>();
  for (const id of ctx.evidence.tests.keys()) {
    if (ctx.evidence.planned.some((v) => outcomeIn(v, id) === 'failed')) hunts.set(id, huntFor(ctx, id));
  }
  return hunts;
}

export type ProbeResult =
  | { state: 'pending'; plan: ProbePlan }
  | { state: 'inconclusive'; reason: string }
  | { state: 'done'; status: 'passed' | 'failed'; run: RunResult };

/** The result of a planned probe, if it was run. */
export function obtain(ctx: HuntContext, plan: ProbePlan): ProbeResult {
  const view = ctx.probesByKey.get(probeKey(plan))?.[0];
  if (!view) return { state: 'pending', plan };
  return judgeProbe(view, plan);
}

/** Reads one probe run against its plan; a probe that did not run what was planned proves nothing. */
export function judgeProbe(view: RunView, plan: ProbePlan): ProbeResult {
  const id = view.run.id;
  const status = outcomeIn(view, plan.subject);
  if (status === undefined) return { state: 'inconclusive', reason: `${id} has no result for ${plan.subject} (crashed or timed out?)` };
  for (const t of plan.tests) {
    const s = outcomeIn(view, t);
    if (s === undefined || s === 'skipped') return { state: 'inconclusive', reason: `${id} did not run ${t} (focus did not select it?)` };
  }
  if (status === 'skipped') return { state: 'inconclusive', reason: `${id} skipped ${plan.subject}` };
  if (view.position) {
    const wanted = new Set(plan.tests);
    const extra = view.run.order.filter((t) => !wanted.has(t));
    if (extra.length > 0) return { state: 'inconclusive', reason: `${id} also ran ${extra[0]} (focus matched more than planned)` };
    const ran = view.run.order.filter((t) => wanted.has(t));
    if (ran.join('\u0000') !== plan.expectedOrder.join('\u0000')) {
      return { state: 'inconclusive', reason: `${id} ran the tests in another order than seed ${plan.seed} promised` };
    }
  }
  return { state: 'done', status, run: view.run };
}

/** Where a hunt stopped: its conclusion so far, and the probe it wants next. */
interface Stop {
  outcome: HuntOutcome;
  next?: NextProbe;
}

/**
 * The walk's working state for one subject. Only the walk mutates it; what leaves is the Hunt,
 * whose outcome is one HuntOutcome.
 */
class Walk {
  readonly ctx: HuntContext;
  readonly subject: TestId;
  readonly failing: RunView[];
  readonly passing: RunView[];
  readonly leakLinks: Map<TestId, number[]>;
  /** Leaks a NotFound of the subject names: only a missing object links a state-setter. */
  readonly setterLinks: Map<TestId, number[]>;
  /** The record's links from the subject's failures, and the specs that create a name it read and missed. */
  readonly recordLinks: RecordLink[];
  readonly recordSetters: ReadonlySet<TestId>;
  readonly refuted: Hunt['refuted'] = [];
  readonly polluters: Suspect[] = [];
  readonly setters: Suspect[] = [];
  readonly cleaners: ConfirmedCleaner[] = [];
  readonly alone: Tally = { failed: [], passed: [] };
  bisect?: NonNullable<Hunt['bisect']>;
  /** Alone controls run so far, by seed. */
  private readonly aloneAttempts = new Map<number, number>();
  /** The seed of the latest failing planned run: the first alone control's. */
  private readonly failingSeed: number;

  constructor(ctx: HuntContext, subject: TestId) {
    this.ctx = ctx;
    this.subject = subject;
    this.failing = runsWhere(ctx.evidence, subject, 'failed');
    this.passing = runsWhere(ctx.evidence, subject, 'passed');
    const failures = ctx.evidence.planned.map((v) => v.cases.get(subject)?.failure).filter((f) => f !== undefined);
    const text = (f: Failure): string => `${f.message}\n${f.text ?? ''}`;
    this.leakLinks = leaksByCreator(subject, failures.map(text), ctx.leaks);
    this.setterLinks = leaksByCreator(subject, failures.filter((f) => classifyFailure(f) === 'NotFound').map(text), ctx.leaks);
    this.recordLinks = ctx.links.filter((l) => l.victim === subject);
    this.recordSetters = new Set(ctx.readMisses.filter((m) => m.reader === subject).flatMap((m) => m.creators));
    this.failingSeed = this.failing[this.failing.length - 1]?.run.seed ?? 0;
  }

  private alonePlan(seed: number, attempt: number): ProbePlan {
    return withAttempt(
      {
        purpose: 'alone',
        subject: this.subject,
        tests: [this.subject],
        seed,
        expectedOrder: [this.subject],
        hypothesis: `${this.subject} alone: if it passes, its failures need another test to run first; if it fails, it fails by itself`,
      },
      attempt,
    );
  }

  firstAlonePlan(): ProbePlan {
    return this.alonePlan(this.failingSeed, 1);
  }

  /**
   * The next alone control on a seed (the latest failing run's by default), counted into the
   * alone tally once it has run. A confirmation series runs its controls on its pairs' seeds: a
   * suite that draws test data from the seed must show the same outcome alone to be a plain flake.
   */
  aloneControl(seed = this.failingSeed): ProbeResult {
    const attempt = (this.aloneAttempts.get(seed) ?? 0) + 1;
    const r = obtain(this.ctx, this.alonePlan(seed, attempt));
    if (r.state === 'done') {
      this.aloneAttempts.set(seed, attempt);
      this.alone[r.status].push(r.run.id);
    }
    return r;
  }

  linked(test: TestId, role: Suspect['role']): boolean {
    if (role === 'polluter' && this.recordLinks.some((l) => l.polluter === test)) return true;
    if (role === 'state-setter' && this.recordSetters.has(test)) return true;
    return ((role === 'polluter' ? this.leakLinks : this.setterLinks).get(test)?.length ?? 0) > 0;
  }

  /** Tests linked to the subject by an object (a leak or the record), for the candidates' ranking. */
  linkedTests(role: Suspect['role']): Set<TestId> {
    if (role === 'polluter') return new Set([...this.leakLinks.keys(), ...this.recordLinks.map((l) => l.polluter)]);
    return new Set([...this.setterLinks.keys(), ...this.recordSetters]);
  }
}

/** Walks the hunt for one subject as far as the probes already run allow. */
export function huntFor(ctx: HuntContext, subject: TestId): Hunt {
  const w = new Walk(ctx, subject);
  const passes = ctx.evidence.planned.some((v) => outcomeIn(v, subject) === 'passed');
  const shape = passes ? 'mixed' : 'all-failed';
  const polluterCandidates = rankPolluterCandidates(ctx.evidence, subject, w.linkedTests('polluter'));
  const setterCandidates = passes ? rankStateSetterCandidates(ctx.evidence, subject, w.linkedTests('state-setter')) : [];
  const stop = walkHunt(w, shape, polluterCandidates, setterCandidates);
  const hunt: Hunt = { subject, shape, polluterCandidates, setterCandidates, leakLinks: w.leakLinks, recordLinks: w.recordLinks, refuted: w.refuted, outcome: stop.outcome };
  if (w.alone.failed.length + w.alone.passed.length > 0) hunt.alone = { plan: w.firstAlonePlan(), tally: w.alone };
  if (w.bisect) hunt.bisect = w.bisect;
  if (stop.next) hunt.next = stop.next;
  return hunt;
}

function walkHunt(w: Walk, shape: Hunt['shape'], polluterCandidates: OrderCandidate[], setters: OrderCandidate[]): Stop {
  const { ctx, subject } = w;
  if (w.failing.length === 0) return { outcome: { kind: 'unprobed' } };
  // A failure with nothing before it is the test failing by itself: no polluter explains it.
  const failedFirst = w.failing.find((v) => testsBefore(v, subject).length === 0);
  if (shape === 'all-failed' && onlyBuildFailures(ctx.evidence, subject)) return { outcome: { kind: 'broken', by: 'build' } };
  // The record proves a polluter from one failing run: probes then only measure the rates.
  if (w.recordLinks.length > 0) return huntByRecord(w, polluterCandidates);
  if (shape === 'all-failed') {
    // Decisive without a probe: a failure with nothing before it.
    if (failedFirst) return { outcome: { kind: 'broken', by: 'ran-first', run: failedFirst.run.id } };
  } else if (failedFirst && setters.length === 0) {
    // Only a state-setter could still explain its passes, and no test is a candidate.
    return { outcome: { kind: 'plain-flake', by: 'failed-first', run: failedFirst.run.id } };
  }
  const alone = w.aloneControl();
  if (alone.state === 'pending') return { outcome: { kind: 'unprobed' }, next: { plan: alone.plan, tier: shape === 'mixed' ? TIER.confirm : TIER.aloneCheck } };
  if (alone.state === 'inconclusive') return { outcome: { kind: 'inconclusive', reason: alone.reason } };
  if (alone.status === 'failed') {
    if (shape === 'all-failed') return { outcome: { kind: 'broken', by: 'alone', run: alone.run.id } };
    // A pass with nothing before it cannot be a state-setter's doing.
    const passedFirst = w.passing.find((v) => testsBefore(v, subject).length === 0);
    if (passedFirst) return { outcome: { kind: 'plain-flake', by: 'passed-first', run: passedFirst.run.id } };
    if (setters.length === 0) return { outcome: { kind: 'plain-flake', by: 'failed-alone', run: alone.run.id } };
    return huntStateSetters(w, setters);
  }
  if (failedFirst) return { outcome: { kind: 'plain-flake', by: 'failed-first', run: failedFirst.run.id } };
  return huntOrderDependence(w, polluterCandidates);
}

function huntOrderDependence(w: Walk, candidates: OrderCandidate[]): Stop {
  const stop = huntPolluters(w, candidates) ?? (w.polluters.length === 0 ? huntByBisection(w) : undefined) ?? huntCleaners(w);
  if (w.polluters.length === 0) return stop ?? { outcome: { kind: 'cleared', role: 'polluter' } };
  // Confirmed polluters stand whatever stopped the walk after them; failures they leave unexplained keep the test flaky.
  const outcome = pollutedOutcome(w);
  return stop?.next ? { outcome, next: stop.next } : { outcome };
}

/** The confirmed polluters and cleaners, and what they leave unexplained. */
function pollutedOutcome(w: Walk): HuntOutcome {
  return {
    kind: 'polluted',
    polluters: w.polluters,
    cleaners: w.cleaners,
    unexplainedFailures: unexplained(w).map((v) => v.run.id),
    unexplainedPasses: uncoveredPasses(w).map((v) => v.run.id),
  };
}

/**
 * Polluters the record proved, one a spec, from the failing run that shows each first. Probes only
 * measure: the subject alone once, then each polluter and the subject back to back until its rate
 * is known (two failures in two tell a polluter that fires every time). Failing runs the record
 * does not explain are then hunted as usual, and cleaners after a polluter that fires every time.
 */
function huntByRecord(w: Walk, candidates: OrderCandidate[]): Stop {
  const { ctx, subject } = w;
  let next: NextProbe | undefined;
  const alone = w.aloneControl();
  if (alone.state === 'pending') next = { plan: alone.plan, tier: TIER.confirm };
  const proven = new Set<TestId>();
  for (const link of w.recordLinks) {
    if (proven.has(link.polluter)) continue;
    proven.add(link.polluter);
    const hypothesis = `${link.polluter} then ${subject}: the rate at which ${subject} fails after it (the record of run ${link.run} proved the link)`;
    const series = candidateSeries(w, 'polluter', link.polluter, hypothesis);
    const fallback = pairPlan('polluter', subject, [link.polluter, subject], { seed: ctx.evidence.planned.find((v) => v.run.id === link.run)?.run.seed ?? 0, run: link.run, order: [link.polluter, subject] }, hypothesis);
    const pair = (i: number): ProbePlan => series?.pair(i) ?? withAttempt(fallback, i + 1);
    const after: Tally = { failed: [], passed: [] };
    for (let i = 0; i < ctx.options.recordRateProbes && !next; i += 1) {
      if (i >= 2 && after.passed.length === 0) break;
      const r = obtain(ctx, pair(i));
      if (r.state === 'pending') next = { plan: r.plan, tier: TIER.confirm };
      if (r.state !== 'done') break;
      after[r.status].push(r.run.id);
    }
    w.polluters.push({ role: 'polluter', tests: [link.polluter], after, chance: 0, bound: ctx.options.linkedFalseAlarmBound, plan: pair(0), record: link });
  }
  if (!next) next = (huntPolluters(w, candidates.filter((c) => !proven.has(c.test))) ?? huntCleaners(w))?.next;
  const outcome: HuntOutcome = { ...pollutedOutcome(w), ...(w.alone.failed.length > 0 ? { failedAlone: [...w.alone.failed] } : {}) };
  return next ? { outcome, next } : { outcome };
}

/** Failing runs in which no confirmed polluter (group) ran before the victim. */
function unexplained(w: Walk): RunView[] {
  return w.failing.filter((v) => !w.polluters.some((p) => p.tests.every((t) => precedes(v, t, w.subject))));
}

/** A polluter whose pair probes all failed fires every time: a pass after it needs a cleaner to explain it. */
function alwaysFires(s: Suspect): boolean {
  return s.after.passed.length === 0;
}

function huntPolluters(w: Walk, candidates: OrderCandidate[]): Stop | undefined {
  const { ctx, subject: victim } = w;
  for (const candidate of candidates.slice(0, ctx.options.maxCandidates)) {
    // Once a polluter is confirmed, other candidates are worth probes only for failures it does
    // not explain, and are judged on the runs it does not explain.
    const open = unexplained(w);
    if (open.length === 0) return undefined;
    if (!open.some((v) => precedes(v, candidate.test, victim))) continue;
    const explainedBy = (v: RunView): boolean => w.polluters.some((p) => p.tests.every((t) => precedes(v, t, victim)));
    const series = candidateSeries(w, 'polluter', candidate.test, `${candidate.test} then ${victim}: if ${victim} fails, ${candidate.test} pollutes it`, explainedBy);
    if (!series) continue;
    const end = confirm(w, series);
    if (end.kind === 'refuted') w.refuted.push({ test: candidate.test, role: 'polluter', runs: end.runs });
    else if (end.kind === 'confirmed') w.polluters.push(end.suspect);
    else return stopOf(end, TIER.confirm);
  }
  return undefined;
}

function huntStateSetters(w: Walk, candidates: OrderCandidate[]): Stop {
  const { ctx, subject } = w;
  for (const candidate of candidates.slice(0, ctx.options.maxCandidates)) {
    const series = candidateSeries(w, 'state-setter', candidate.test, `${candidate.test} then ${subject}: if ${subject} passes, it depends on state ${candidate.test} sets up`);
    if (!series) continue;
    const end = confirm(w, series);
    if (end.kind === 'refuted') w.refuted.push({ test: candidate.test, role: 'state-setter', runs: end.runs });
    else if (end.kind === 'confirmed') {
      w.setters.push(end.suspect);
      const unexplainedPasses = w.passing.filter((v) => !precedes(v, candidate.test, subject)).map((v) => v.run.id);
      return { outcome: { kind: 'needs-setter', setters: w.setters, unexplainedPasses } };
    } else return stopOf(end, TIER.confirm);
  }
  return { outcome: { kind: 'cleared', role: 'state-setter' } };
}

/**
 * The confirmation series of one candidate: pair plans on the seeds of planned runs that kept it
 * before the subject, the planned-run evidence (runs `exclude` leaves out are explained already),
 * and its bound. Undefined when no planned run had it before the subject.
 */
function candidateSeries(w: Walk, role: Suspect['role'], test: TestId, hypothesis: string, exclude?: (v: RunView) => boolean): Series | undefined {
  const { ctx, subject } = w;
  const telling = role === 'polluter' ? 'failed' : 'passed';
  const seeds = seedsWithOrder(ctx.evidence, [test, subject], subject, telling);
  if (seeds.length === 0) return undefined;
  const after = ctx.evidence.planned.filter((v) => !exclude?.(v) && precedes(v, test, subject) === true);
  const strict = after.every((v) => outcomeIn(v, subject) !== (telling === 'failed' ? 'passed' : 'failed'));
  return {
    role,
    tests: [test],
    telling,
    pair: (i) => onSeeds(seeds, i, (at, attempt) => withAttempt(pairPlan(role, subject, [test, subject], at, hypothesis), attempt)),
    chance: orderChance(ctx.evidence, subject, telling, exclude, strict),
    // A failure naming an object this candidate left behind (a NotFound naming one it creates) is
    // evidence a plain flake cannot fake, so such a link needs less evidence.
    bound: w.linked(test, role) ? ctx.options.linkedFalseAlarmBound : ctx.options.falseAlarmBound,
    planned: { shown: after.filter((v) => outcomeIn(v, subject) === telling).length, of: after.length },
  };
}

interface Series {
  role: Suspect['role'];
  tests: TestId[];
  /** The outcome the suspect causes: 'failed' after a polluter, 'passed' after a state-setter. */
  telling: 'passed' | 'failed';
  /** The i-th pair probe. */
  pair: (i: number) => ProbePlan;
  chance: OrderChance;
  bound: number;
  /** In the planned runs, how often the telling outcome showed after the suspect: how many misses refute it. */
  planned: { shown: number; of: number };
  /** A pair probe already run with the telling outcome: bisection's own, which is `pair(0)`. */
  given?: string;
}

type SeriesEnd =
  | { kind: 'pending'; plan: ProbePlan; suspect: Suspect }
  | { kind: 'inconclusive'; reason: string; suspect: Suspect }
  | { kind: 'refuted'; runs: string[] }
  | { kind: 'control-broke'; run: string; suspect: Suspect }
  | { kind: 'weak'; suspect: Suspect }
  | { kind: 'confirmed'; suspect: Suspect };

/** Misses that refute a suspect are at most this many, however rarely it showed in the planned runs. */
const MAX_REFUTING_MISSES = 3;
/** A suspect is refuted when, at its planned-run rate, its pair probes would all miss with chance below this. */
const REFUTE_BOUND = 0.1;

/**
 * Pair probes in a row without the telling outcome that refute the suspect: two for one that
 * showed it every time after it in several planned runs, more for one that showed it sometimes.
 * Never one: a race that fired in each of three planned runs still misses a probe one time in four.
 */
export function refutingMisses(planned: { shown: number; of: number }): number {
  // Smoothed, so a few runs are not taken as "every time".
  const rate = (planned.shown + 1) / (planned.of + 2);
  return Math.min(MAX_REFUTING_MISSES, Math.max(2, Math.ceil(Math.log(REFUTE_BOUND) / Math.log(1 - rate))));
}

/**
 * Confirms a pair hypothesis statistically (seriesStep in chance.ts decides each step). Pair
 * probes (the suspect then the subject) and alone controls alternate until a plain flake's
 * chance is within the bound (confirmed), the pair never tells in enough tries (refuted), the
 * bound is out of reach within the series cap (weak), or an alone control shows the telling
 * outcome: the subject does it by itself, a plain flake.
 */
function confirm(w: Walk, series: Series): SeriesEnd {
  const other = series.telling === 'failed' ? 'passed' : 'failed';
  const after: Tally = { failed: [], passed: [] };
  if (series.given) after[series.telling].push(series.given);
  const pairPlan = (i: number): ProbePlan => series.pair(series.given ? i + 1 : i);
  const suspect = (): Suspect => {
    const { chance } = flakeChance(series.chance, after[series.telling].length, after[other].length, w.alone[other].length);
    return { role: series.role, tests: series.tests, after: { failed: [...after.failed], passed: [...after.passed] }, chance, bound: boundAfterMisses(series.bound, after[other].length), plan: series.pair(0) };
  };
  const rule = { chance: series.chance, bound: series.bound, cap: w.ctx.options.maxConfirmProbes, refutingMisses: refutingMisses(series.planned) };
  let pairs = 0;
  let spent = 0;
  for (;;) {
    const step = seriesStep(rule, { shown: after[series.telling].length, missed: after[other].length, controls: w.alone[other].length, spent });
    if (step === 'confirmed') return { kind: 'confirmed', suspect: suspect() };
    if (step === 'refuted') return { kind: 'refuted', runs: [...after[other]] };
    if (step === 'weak') return { kind: 'weak', suspect: suspect() };
    // A control runs on the seed of the pair just run (the first pair's, before any ran).
    const r = step === 'pair' ? obtain(w.ctx, pairPlan(pairs)) : w.aloneControl(pairPlan(Math.max(0, pairs - 1)).seed);
    if (r.state === 'pending') return { kind: 'pending', plan: r.plan, suspect: suspect() };
    if (r.state === 'inconclusive') return { kind: 'inconclusive', reason: r.reason, suspect: suspect() };
    spent += 1;
    if (step === 'pair') {
      pairs += 1;
      after[r.status].push(r.run.id);
    } else if (r.status === series.telling) {
      return { kind: 'control-broke', run: r.run.id, suspect: suspect() };
    }
  }
}

/** A series that did not conclude: the hunt stops here, with the next probe when one is pending. */
function stopOf(end: Exclude<SeriesEnd, { kind: 'refuted' | 'confirmed' }>, tier: number): Stop {
  switch (end.kind) {
    case 'pending':
      return { outcome: { kind: 'searching', suspect: end.suspect }, next: { plan: end.plan, tier } };
    case 'inconclusive':
      return { outcome: { kind: 'inconclusive', reason: end.reason } };
    case 'control-broke':
      return { outcome: { kind: 'plain-flake', by: end.suspect.role === 'polluter' ? 'failed-alone' : 'passed-alone', run: end.run, suspect: end.suspect } };
    case 'weak':
      return { outcome: { kind: 'unconfirmed', suspect: end.suspect } };
  }
}

/** The i-th plan over the seeds in turn (distinct seeds first), repeating a seed with a higher attempt when they run out. */
function onSeeds(seeds: SeededOrder[], i: number, make: (at: SeededOrder, attempt: number) => ProbePlan): ProbePlan {
  return make(seeds[i % seeds.length] as SeededOrder, Math.floor(i / seeds.length) + 1);
}

function withAttempt(plan: ProbePlan, attempt: number): ProbePlan {
  return attempt > 1 ? { ...plan, attempt, hypothesis: `${plan.hypothesis} (repeat ${attempt})` } : plan;
}

interface SeededOrder {
  seed: number;
  run: string;
  order: TestId[];
}

/**
 * Seeds of planned runs in which `tests` ran in the given relative order and the subject had the
 * wanted outcome, latest first, one entry per seed; only when there are none, the other runs in
 * that order. Pair probes repeat the seeds that showed the outcome: a suite that draws its test
 * data from Ginkgo's seed (a size, a name, a coin flip) replays the failing draw with that seed,
 * and for a race that ignores the seed any seed is as good. A plain flake gains nothing by it:
 * the alone controls run on a failing seed too.
 */
function seedsWithOrder(evidence: Evidence, tests: TestId[], subject: TestId, outcome: 'passed' | 'failed'): SeededOrder[] {
  const inOrder = (v: RunView): boolean => {
    for (let i = 1; i < tests.length; i += 1) {
      if (precedes(v, tests[i - 1] ?? '', tests[i] ?? '') !== true) return false;
    }
    return true;
  };
  const views = evidence.planned.filter(inOrder).reverse();
  const telling = views.filter((v) => outcomeIn(v, subject) === outcome);
  const ranked = telling.length > 0 ? telling : views;
  const seen = new Set<number>();
  const out: SeededOrder[] = [];
  for (const v of ranked) {
    if (seen.has(v.run.seed)) continue;
    seen.add(v.run.seed);
    out.push({ seed: v.run.seed, run: v.run.id, order: tests });
  }
  return out;
}

function pairPlan(purpose: ProbePlan['purpose'], subject: TestId, tests: TestId[], at: SeededOrder, hypothesis: string): ProbePlan {
  return { purpose, subject, tests, seed: at.seed, expectedOrder: tests, hypothesis: `${hypothesis} (order of run ${at.run})` };
}

/**
 * Delta debugging (ddmin) over the tests that ran before the victim in its latest failing run.
 * It assumes a polluter that fires every time: a race that misses a subset's probe sends it down
 * the wrong half, and the confirmation that follows then fails to confirm, not to mislead.
 */
function huntByBisection(w: Walk): Stop | undefined {
  const { ctx, subject: victim } = w;
  const refuted = new Set(w.refuted.map((r) => r.test));
  const source = [...w.failing].reverse().find((v) => {
    const before = testsBefore(v, victim);
    return before.length >= 2 && before.some((t) => !refuted.has(t));
  });
  if (!source) return undefined;
  const prefix = testsBefore(source, victim);
  const planFor = (subset: TestId[]): ProbePlan => {
    const tests = [...subset, victim];
    return {
      purpose: 'bisect',
      subject: victim,
      tests,
      seed: source.run.seed,
      expectedOrder: tests,
      hypothesis: `${subset.length} of the ${prefix.length} tests that ran before ${victim} in run ${source.run.id}, then ${victim}: if it fails, a polluter is among them`,
    };
  };
  let current = prefix;
  let granularity = 2;
  let lastFailure: string | undefined;
  const bisect: NonNullable<Hunt['bisect']> = { run: source.run.id, tried: 0 };
  w.bisect = bisect;
  while (current.length >= 2) {
    const chunks = split(current, granularity);
    const complements = granularity > 2 ? chunks.map((c) => current.filter((t) => !c.includes(t))) : [];
    let reduced: { to: TestId[]; granularity: number } | undefined;
    const subsets = [...chunks, ...complements];
    for (let i = 0; i < subsets.length; i += 1) {
      const subset = subsets[i] ?? [];
      const plan = planFor(subset);
      const result = obtain(ctx, plan);
      if (result.state === 'pending') {
        if (bisect.tried >= ctx.options.maxBisectProbes) return undefined;
        return { outcome: { kind: 'searching' }, next: { plan, tier: TIER.bisect } };
      }
      if (result.state === 'inconclusive' || result.run.plan?.purpose === 'bisect') bisect.tried += 1;
      if (result.state === 'inconclusive') return { outcome: { kind: 'inconclusive', reason: result.reason } };
      if (result.status === 'failed') {
        lastFailure = result.run.id;
        reduced = { to: subset, granularity: i < chunks.length ? 2 : Math.max(granularity - 1, 2) };
        break;
      }
    }
    if (reduced) {
      current = reduced.to;
      granularity = reduced.granularity;
      continue;
    }
    if (granularity >= current.length) break;
    granularity = Math.min(current.length, granularity * 2);
  }
  if (!lastFailure) return undefined;
  bisect.found = current;
  // The minimal set failed once in bisection; more runs of it must agree before it is confirmed.
  const tests = [...current, victim];
  const confirmPlan: ProbePlan = {
    purpose: 'polluter',
    subject: victim,
    tests,
    seed: source.run.seed,
    expectedOrder: tests,
    hypothesis: `${current.join(', ')} then ${victim}: if it fails again, bisection's polluter${current.length > 1 ? 's are' : ' is'} confirmed (order of run ${source.run.id})`,
  };
  const after = ctx.evidence.planned.filter((v) => current.every((t) => precedes(v, t, victim) === true));
  const strict = !after.some((v) => outcomeIn(v, victim) === 'passed');
  const end = confirm(w, {
    role: 'polluter',
    tests: current,
    telling: 'failed',
    // Attempt 1 of these tests with this seed is the bisection probe itself: repeats start at 2.
    pair: (i) => (i === 0 ? confirmPlan : withAttempt(confirmPlan, i + 1)),
    given: lastFailure,
    chance: orderChance(ctx.evidence, victim, 'failed', undefined, strict),
    bound: ctx.options.falseAlarmBound,
    planned: { shown: after.filter((v) => outcomeIn(v, victim) === 'failed').length, of: after.length },
  });
  if (end.kind === 'confirmed') {
    w.polluters.push(end.suspect);
    return undefined;
  }
  if (end.kind === 'refuted') return undefined;
  return stopOf(end, TIER.bisect);
}

/** Passing planned runs where a confirmed polluter ran before the victim with no confirmed cleaner between. */
function uncoveredPasses(w: Walk): RunView[] {
  const victim = w.subject;
  return w.passing.filter((v) =>
    w.polluters.some(
      (p) =>
        p.tests.every((t) => precedes(v, t, victim)) &&
        !w.cleaners.some((c) => p.tests.includes(c.polluter) && precedes(v, c.polluter, c.test) && precedes(v, c.test, victim)),
    ),
  );
}

/**
 * Cleaners for passing runs where a confirmed polluter preceded the victim: one probe each, until
 * those passes are covered. Only for a polluter that fires every time: one passing probe proves
 * nothing against a race.
 */
function huntCleaners(w: Walk): Stop | undefined {
  const { ctx, subject: victim } = w;
  for (const polluter of w.polluters) {
    if (polluter.tests.length !== 1 || !alwaysFires(polluter)) continue;
    const p = polluter.tests[0] ?? '';
    const between = (v: RunView, t: TestId): boolean => precedes(v, p, t) === true && precedes(v, t, victim) === true;
    for (const candidate of rankCleanerCandidates(ctx.evidence, p, victim).slice(0, ctx.options.maxCandidates)) {
      const uncovered = w.passing.filter((v) => precedes(v, p, victim) && !w.cleaners.some((c) => c.polluter === p && between(v, c.test)));
      if (uncovered.length === 0) break;
      if (!uncovered.some((v) => between(v, candidate.test))) continue;
      const seed = candidate.witness.run.seed;
      // The control first: the pair alone on the witness's seed must fail, or a pass with the
      // cleaner between proves nothing (a suite that draws its data from the seed may not fire
      // on this seed at all).
      const control = obtain(ctx, pairPlan('polluter', victim, [p, victim], { seed, run: candidate.witness.run.id, order: [p, victim] }, `${p} then ${victim}: the control for the cleaner ${candidate.test}, on the seed where it ran between them`));
      if (control.state === 'pending') return { outcome: { kind: 'searching' }, next: { plan: control.plan, tier: TIER.cleaner } };
      if (control.state === 'inconclusive') break;
      if (control.status === 'passed') continue;
      const tests = [p, candidate.test, victim];
      const plan: ProbePlan = {
        purpose: 'cleaner',
        subject: victim,
        tests,
        seed,
        expectedOrder: tests,
        hypothesis: `${p}, ${candidate.test}, ${victim}: if ${victim} passes, ${candidate.test} undoes what ${p} left (order of run ${candidate.witness.run.id})`,
      };
      const result = obtain(ctx, plan);
      if (result.state === 'pending') return { outcome: { kind: 'searching' }, next: { plan, tier: TIER.cleaner } };
      if (result.state === 'inconclusive') break;
      if (result.status === 'passed') w.cleaners.push({ test: candidate.test, polluter: p, probe: result.run.id });
    }
  }
  return undefined;
}

/** A package that does not compile fails every test; probing them one by one proves nothing. */
export function onlyBuildFailures(evidence: Evidence, id: TestId): boolean {
  const failures = evidence.planned.map((v) => v.cases.get(id)).filter((c) => c?.status === 'failed');
  return failures.length > 0 && failures.every((c) => c?.failure && classifyFailure(c.failure) === 'BuildFailure');
}

function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = [];
  const size = items.length / parts;
  for (let i = 0; i < parts; i += 1) {
    const chunk = items.slice(Math.round(i * size), Math.round((i + 1) * size));
    if (chunk.length > 0) out.push(chunk);
  }
  return out;
}
