// The hunt for one suspect test, replayed from the evidence: which probes it needs, in which
// order, and what the probes already run have shown. Both the probe planner (to ask for the
// next probe) and the verdicts (to read the findings) walk the same steps, so they never
// disagree. A probe is only planned when no probe run with the same plan exists.
//
// Conservative by design: a polluter (or state-setter) is confirmed only by a control (the
// victim passes alone; the brittle test fails alone), at least two agreeing probes, and enough
// of them that a plain flake would produce the same evidence with chance below a bound
// (chance.ts). Any contradicting probe stops the hunt and leaves the test flaky.

import type { LeakReport, ProbePlan, RunResult, TestId } from '../model.ts';
import { outcomeIn, precedes, runsWhere, testsBefore, type Evidence, type RunView } from './evidence.ts';
import { DEFAULT_FALSE_ALARM_BOUND, flakeChance, orderChance, type OrderChance } from './chance.ts';
import { leaksByCreator, type FailureLink } from './leaks.ts';
import { rankCleanerCandidates, rankPolluterCandidates, rankStateSetterCandidates, type OrderCandidate } from './order.ts';

export interface HuntOptions {
  /** Probes allowed in total (all subjects). */
  maxProbes?: number;
  /** Polluter / state-setter / cleaner candidates tried per subject. */
  maxCandidates?: number;
  /** Tests that failed in every run to check alone (a broken test, or a victim of a test that always precedes it). */
  maxBrokenChecks?: number;
  /** Delta-debugging probes per subject. */
  maxBisectProbes?: number;
  /** Probes one confirmation may take (pair repeats plus alone controls) before giving up as too weak. */
  maxConfirmProbes?: number;
  /** A verdict needs the chance that a plain flake produced the same evidence to be at most this. */
  falseAlarmBound?: number;
  /** The same, for a polluter (state-setter) whose leaked object the victim's (brittle test's) failure names. */
  linkedFalseAlarmBound?: number;
}

export const DEFAULT_HUNT_OPTIONS: Required<HuntOptions> = {
  maxProbes: 20,
  maxCandidates: 3,
  maxBrokenChecks: 3,
  maxBisectProbes: 8,
  maxConfirmProbes: 8,
  falseAlarmBound: DEFAULT_FALSE_ALARM_BOUND,
  linkedFalseAlarmBound: 0.02,
};

/** Probe tiers, most valuable first: the planner only asks for the best tier still open. */
export const TIER = { confirm: 1, bisect: 2, cleaner: 3, brokenCheck: 4 } as const;

export interface ConfirmedPolluter {
  /** Usually one test; several when bisection found that only together they pollute. */
  tests: TestId[];
  /** Probe runs in which the victim failed after them. */
  probes: string[];
  /** The probe plan that reproduces the failure. */
  plan: ProbePlan;
}

export interface ConfirmedSetter {
  test: TestId;
  probes: string[];
  plan: ProbePlan;
}

export interface ConfirmedCleaner {
  test: TestId;
  polluter: TestId;
  probe: string;
}

export interface Hunt {
  subject: TestId;
  /** 'mixed': passed and failed in planned runs; 'all-failed': failed in every run it has a result in. */
  shape: 'mixed' | 'all-failed';
  polluterCandidates: OrderCandidate[];
  setterCandidates: OrderCandidate[];
  /** Leak indexes per creator, from the subject's failure messages and the given links. */
  leakLinks: Map<TestId, number[]>;
  /** The alone control: its first probe, and (for a brittle suspect) the repeats that agreed. */
  alone?: { status: 'passed' | 'failed'; run: string; runs: string[]; plan: ProbePlan };
  polluters: ConfirmedPolluter[];
  refutedPolluters: { test: TestId; run: string }[];
  setters: ConfirmedSetter[];
  refutedSetters: { test: TestId; run: string }[];
  cleaners: ConfirmedCleaner[];
  /** Delta debugging over a failing run's prefix: bisection probes spent, and the minimal polluter set. */
  bisect?: { run: string; tried: number; found?: TestId[] };
  /** A failing planned run where the subject ran first: no polluter can explain it. */
  failedFirst?: string;
  /** A passing planned run where the subject ran first: no state-setter can explain it. */
  passedFirst?: string;
  /** Failing planned runs no confirmed polluter ran before (an order-dependent verdict needs none). */
  unexplainedFailures: string[];
  /**
   * Brittle suspects: passing planned runs no confirmed state-setter ran before. Victims: passing
   * runs where a confirmed polluter ran before with no confirmed cleaner between. Either verdict needs none.
   */
  unexplainedPasses: string[];
  /** Probes contradicted each other: the hunt stopped, the test stays flaky. */
  inconsistent?: string;
  /** The probes agreed, but not strongly enough to rule out a plain flake within the probe cap. */
  weak?: string;
  /** Probe outcomes of the subject seen so far, all as the hypotheses predicted. */
  observed: { failed: number; passed: number };
  /** A probe gave no usable result (crashed, focus matched other tests, order not kept). */
  inconclusive?: string;
  next?: { plan: ProbePlan; tier: number };
}

export interface HuntContext {
  evidence: Evidence;
  options: Required<HuntOptions>;
  leaks: readonly LeakReport[];
  links: readonly FailureLink[];
  probesByKey: Map<string, RunView[]>;
}

export function huntContext(
  evidence: Evidence,
  options: HuntOptions = {},
  leaks: readonly LeakReport[] = [],
  links: readonly FailureLink[] = [],
): HuntContext {
  const probesByKey = new Map<string, RunView[]>();
  for (const view of evidence.probes) {
    if (!view.run.plan) continue;
    const key = probeKey(view.run.plan);
    probesByKey.set(key, [...(probesByKey.get(key) ?? []), view]);
  }
  return { evidence, options: { ...DEFAULT_HUNT_OPTIONS, ...stripUndefined(options) }, leaks, links, probesByKey };
}

/**
 * Identity of a probe: the same tests with the same seed and attempt are the same experiment,
 * whatever purpose asked for it, so a result is never asked for twice.
 */
export function probeKey(plan: Pick<ProbePlan, 'tests' | 'seed' | 'attempt'>): string {
  return [plan.seed, plan.attempt ?? 1, [...plan.tests].sort().join('\u0000')].join('\u0001');
}

type ProbeResult =
  | { state: 'pending'; plan: ProbePlan }
  | { state: 'inconclusive'; reason: string }
  | { state: 'done'; status: 'passed' | 'failed'; run: RunResult };

/** The result of a planned probe, if it was run. */
function obtain(ctx: HuntContext, plan: ProbePlan): ProbeResult {
  const views = ctx.probesByKey.get(probeKey(plan));
  const view = views?.[0];
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

/** Walks the hunt for one subject as far as the probes already run allow. */
export function huntFor(ctx: HuntContext, subject: TestId): Hunt {
  const hunt = walkHunt(ctx, subject);
  // Whatever stopped the walk, say which planned outcomes the confirmed tests leave unexplained.
  const failing = runsWhere(ctx.evidence, subject, 'failed');
  const passing = runsWhere(ctx.evidence, subject, 'passed');
  if (hunt.polluters.length > 0) {
    hunt.unexplainedFailures = unexplained(hunt, failing).map((v) => v.run.id);
    hunt.unexplainedPasses = uncoveredPasses(hunt, passing).map((v) => v.run.id);
  }
  if (hunt.setters.length > 0) {
    hunt.unexplainedPasses = passing.filter((v) => !hunt.setters.some((s) => precedes(v, s.test, subject))).map((v) => v.run.id);
  }
  return hunt;
}

function walkHunt(ctx: HuntContext, subject: TestId): Hunt {
  const { evidence } = ctx;
  const failing = runsWhere(evidence, subject, 'failed');
  const passing = runsWhere(evidence, subject, 'passed');
  const messages = evidence.planned
    .map((v) => v.cases.get(subject)?.failure)
    .filter((f) => f !== undefined)
    .map((f) => `${f.message}\n${f.text ?? ''}`);
  const leakLinks = leaksByCreator(subject, messages, ctx.leaks, ctx.links);
  const passes = evidence.planned.some((v) => outcomeIn(v, subject) === 'passed');
  const hunt: Hunt = {
    subject,
    shape: passes ? 'mixed' : 'all-failed',
    polluterCandidates: rankPolluterCandidates(evidence, subject, new Set(leakLinks.keys())),
    setterCandidates: passes ? rankStateSetterCandidates(evidence, subject, new Set(leakLinks.keys())) : [],
    leakLinks,
    polluters: [],
    refutedPolluters: [],
    setters: [],
    refutedSetters: [],
    cleaners: [],
    unexplainedFailures: [],
    unexplainedPasses: [],
    observed: { failed: 0, passed: 0 },
  };
  if (failing.length === 0) return hunt;

  const latest = failing[failing.length - 1] as RunView;
  const alonePlan = (attempt: number): ProbePlan =>
    withAttempt(
      {
        purpose: 'alone',
        subject,
        tests: [subject],
        seed: latest.run.seed,
        expectedOrder: [subject],
        hypothesis: `${subject} alone: if it passes, its failures need another test to run first; if it fails, it fails by itself`,
      },
      attempt,
    );
  const walk: Walk = { aloneAttempts: 0, counted: new Set(), alonePlan };
  const alone = observe(ctx, hunt, walk, alonePlan(1));
  if (alone.state === 'pending') {
    hunt.next = { plan: alone.plan, tier: hunt.shape === 'mixed' ? TIER.confirm : TIER.brokenCheck };
    return hunt;
  }
  if (alone.state === 'inconclusive') {
    hunt.inconclusive = alone.reason;
    return hunt;
  }
  walk.aloneAttempts = 1;
  hunt.alone = { status: alone.status, run: alone.run.id, runs: [alone.run.id], plan: alonePlan(1) };

  if (alone.status === 'failed') {
    // A pass with nothing before it cannot be a state-setter's doing.
    const passedFirst = passing.find((v) => testsBefore(v, subject).length === 0);
    if (passedFirst) hunt.passedFirst = passedFirst.run.id;
    else if (hunt.shape === 'mixed') huntStateSetters(ctx, hunt, walk);
    return hunt;
  }
  // A failure with nothing before it cannot be a polluter's doing.
  const ranFirst = failing.find((v) => testsBefore(v, subject).length === 0);
  if (ranFirst) {
    hunt.failedFirst = ranFirst.run.id;
    return hunt;
  }
  huntOrderDependence(ctx, hunt, walk, failing, passing);
  hunt.alone.runs = aloneRuns(ctx, walk);
  return hunt;
}

function huntOrderDependence(ctx: HuntContext, hunt: Hunt, walk: Walk, failing: RunView[], passing: RunView[]): void {
  const stopped = (): boolean => Boolean(hunt.next || hunt.inconsistent || hunt.inconclusive || hunt.weak);
  huntPolluters(ctx, hunt, walk, failing);
  if (stopped()) return;
  if (hunt.polluters.length === 0) huntByBisection(ctx, hunt, walk, failing);
  if (stopped()) return;
  huntCleaners(ctx, hunt, passing);
}

/** Where the walk is in the alone-control series, shared by every candidate of one subject. */
interface Walk {
  aloneAttempts: number;
  counted: Set<string>;
  alonePlan: (attempt: number) => ProbePlan;
}

/** obtain() that also counts the subject's outcome among the probe observations, once per probe run. */
function observe(ctx: HuntContext, hunt: Hunt, walk: Walk, plan: ProbePlan): ProbeResult {
  const r = obtain(ctx, plan);
  if (r.state === 'done' && !walk.counted.has(r.run.id)) {
    walk.counted.add(r.run.id);
    hunt.observed[r.status] += 1;
  }
  return r;
}

/** Failing runs in which no confirmed polluter (group) ran before the victim. */
function unexplained(hunt: Hunt, failing: RunView[]): RunView[] {
  return failing.filter((v) => !hunt.polluters.some((p) => p.tests.every((t) => precedes(v, t, hunt.subject))));
}

function huntPolluters(ctx: HuntContext, hunt: Hunt, walk: Walk, failing: RunView[]): void {
  const victim = hunt.subject;
  for (const candidate of hunt.polluterCandidates.slice(0, ctx.options.maxCandidates)) {
    // Once a polluter is confirmed, other candidates are worth probes only for failures it does
    // not explain, and are judged on the runs it does not explain.
    const open = unexplained(hunt, failing);
    if (open.length === 0) return;
    if (!open.some((v) => precedes(v, candidate.test, victim))) continue;
    const explainedBy = (v: RunView): boolean => hunt.polluters.some((p) => p.tests.every((t) => precedes(v, t, victim)));
    const rest = ctx.evidence.planned.filter((v) => !explainedBy(v));
    const strict = !rest.some((v) => outcomeIn(v, victim) === 'passed' && precedes(v, candidate.test, victim));
    const chance = orderChance(ctx.evidence, victim, 'failed', explainedBy, strict);
    const seeds = seedsWithOrder(ctx.evidence, [candidate.test, victim], victim, 'failed');
    if (seeds.length === 0) continue;
    const hypothesis = `${candidate.test} then ${victim}: if ${victim} fails, ${candidate.test} pollutes it`;
    const pair = (i: number): ProbePlan => onSeeds(seeds, i, (at, attempt) => withAttempt(pairPlan('polluter', victim, [candidate.test, victim], at, hypothesis), attempt));
    // A failure naming an object this candidate left behind is evidence a plain flake cannot
    // fake, so such a link needs fewer agreeing probes.
    const linked = (hunt.leakLinks.get(candidate.test)?.length ?? 0) > 0;
    const bound = linked ? ctx.options.linkedFalseAlarmBound : ctx.options.falseAlarmBound;
    const outcome = confirm(ctx, hunt, walk, chance, { pair, pairExpects: 'failed', done: 0, what: `${candidate.test} then ${victim}`, bound });
    if (outcome.kind === 'refuted') hunt.refutedPolluters.push({ test: candidate.test, run: outcome.run });
    else if (outcome.kind === 'confirmed') hunt.polluters.push({ tests: [candidate.test], probes: outcome.runs, plan: pair(0) });
    else return settle(hunt, outcome, TIER.confirm);
  }
}

function huntStateSetters(ctx: HuntContext, hunt: Hunt, walk: Walk): void {
  const subject = hunt.subject;
  for (const candidate of hunt.setterCandidates.slice(0, ctx.options.maxCandidates)) {
    const strict = !ctx.evidence.planned.some((v) => outcomeIn(v, subject) === 'failed' && precedes(v, candidate.test, subject));
    const chance = orderChance(ctx.evidence, subject, 'passed', undefined, strict);
    const seeds = seedsWithOrder(ctx.evidence, [candidate.test, subject], subject, 'passed');
    if (seeds.length === 0) continue;
    const hypothesis = `${candidate.test} then ${subject}: if ${subject} passes, it depends on state ${candidate.test} sets up`;
    const pair = (i: number): ProbePlan => onSeeds(seeds, i, (at, attempt) => withAttempt(pairPlan('state-setter', subject, [candidate.test, subject], at, hypothesis), attempt));
    // A NotFound naming an object this candidate creates links them as a leak links a polluter.
    const linked = (hunt.leakLinks.get(candidate.test)?.length ?? 0) > 0;
    const bound = linked ? ctx.options.linkedFalseAlarmBound : ctx.options.falseAlarmBound;
    const outcome = confirm(ctx, hunt, walk, chance, { pair, pairExpects: 'passed', done: 0, what: `${candidate.test} then ${subject}`, bound });
    if (outcome.kind === 'refuted') hunt.refutedSetters.push({ test: candidate.test, run: outcome.run });
    else if (outcome.kind === 'confirmed') {
      hunt.setters.push({ test: candidate.test, probes: outcome.runs, plan: pair(0) });
      break;
    } else return settle(hunt, outcome, TIER.confirm);
  }
  if (hunt.alone) hunt.alone.runs = aloneRuns(ctx, walk);
}

function aloneRuns(ctx: HuntContext, walk: Walk): string[] {
  const runs: string[] = [];
  for (let a = 1; a <= walk.aloneAttempts; a += 1) {
    const r = obtain(ctx, walk.alonePlan(a));
    if (r.state === 'done') runs.push(r.run.id);
  }
  return runs;
}

type ConfirmOutcome =
  | { kind: 'pending'; plan: ProbePlan }
  | { kind: 'stop'; inconsistent?: string; inconclusive?: string; weak?: string }
  | { kind: 'refuted'; run: string }
  | { kind: 'confirmed'; runs: string[] };

/**
 * Confirms a pair hypothesis (polluter: the subject fails after it; state-setter: passes after
 * it). At least two pair probes must agree; then probes continue, alternating with the alone
 * control where that helps most, until a plain flake would have produced such evidence with
 * chance below the bound, or the series cap is reached (weak: nothing confirmed).
 * `done` pair probes already agreed (bisection's own failing probe).
 */
function confirm(
  ctx: HuntContext,
  hunt: Hunt,
  walk: Walk,
  chance: OrderChance,
  series: { pair: (i: number) => ProbePlan; pairExpects: 'passed' | 'failed'; done: number; what: string; bound?: number },
): ConfirmOutcome {
  const falseAlarmBound = series.bound ?? ctx.options.falseAlarmBound;
  const controlExpects = series.pairExpects === 'failed' ? 'passed' : 'failed';
  const runs: string[] = [];
  let pairs = 0;
  let spent = 0;
  for (;;) {
    let plan: ProbePlan;
    let isPair: boolean;
    if (series.done + pairs < 2) {
      plan = series.pair(pairs);
      isPair = true;
    } else {
      const telling = hunt.observed[series.pairExpects];
      const other = hunt.observed[controlExpects];
      const bound = flakeChance(chance, telling, other);
      if (bound.chance <= falseAlarmBound) return { kind: 'confirmed', runs };
      if (spent >= ctx.options.maxConfirmProbes) {
        return {
          kind: 'stop',
          weak: `after ${spent} probes a flake could still explain it (chance ${bound.chance.toFixed(3)} > ${falseAlarmBound})`,
        };
      }
      // The probe that most lowers a flake's chance at its worst-case rate.
      isPair = bound.rate < 0.5;
      plan = isPair ? series.pair(pairs) : walk.alonePlan(walk.aloneAttempts + 1);
    }
    const r = observe(ctx, hunt, walk, plan);
    if (r.state === 'pending') return { kind: 'pending', plan };
    if (r.state === 'inconclusive') return { kind: 'stop', inconclusive: r.reason };
    spent += 1;
    if (isPair) {
      pairs += 1;
      if (r.status !== series.pairExpects) {
        if (runs.length === 0 && series.done === 0) return { kind: 'refuted', run: r.run.id };
        return { kind: 'stop', inconsistent: `${series.what} ${series.pairExpects} in ${runs.join(', ')} but ${r.status} in ${r.run.id}` };
      }
      runs.push(r.run.id);
    } else {
      walk.aloneAttempts += 1;
      if (r.status !== controlExpects) {
        return { kind: 'stop', inconsistent: `${hunt.subject} alone ${controlExpects} before but ${r.status} in ${r.run.id}` };
      }
    }
  }
}

/** Records why a confirmation did not conclude: the next probe to run, or why the hunt stops. */
function settle(hunt: Hunt, outcome: ConfirmOutcome, tier: number): void {
  if (outcome.kind === 'pending') hunt.next = { plan: outcome.plan, tier };
  else if (outcome.kind === 'stop') {
    if (outcome.inconsistent) hunt.inconsistent = outcome.inconsistent;
    if (outcome.inconclusive) hunt.inconclusive = outcome.inconclusive;
    if (outcome.weak) hunt.weak = outcome.weak;
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
 * Seeds of planned runs in which `tests` ran in the given relative order: runs where the subject
 * had the wanted outcome first, then the others; latest first. One entry per seed.
 */
function seedsWithOrder(evidence: Evidence, tests: TestId[], subject: TestId, preferred: 'passed' | 'failed'): SeededOrder[] {
  const inOrder = (v: RunView): boolean => {
    for (let i = 1; i < tests.length; i += 1) {
      if (precedes(v, tests[i - 1] ?? '', tests[i] ?? '') !== true) return false;
    }
    return true;
  };
  const views = evidence.planned.filter(inOrder).reverse();
  const ranked = [...views.filter((v) => outcomeIn(v, subject) === preferred), ...views.filter((v) => outcomeIn(v, subject) !== preferred)];
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

/** Delta debugging (ddmin) over the tests that ran before the victim in its latest failing run. */
function huntByBisection(ctx: HuntContext, hunt: Hunt, walk: Walk, failing: RunView[]): void {
  const victim = hunt.subject;
  const refuted = new Set(hunt.refutedPolluters.map((r) => r.test));
  const source = [...failing].reverse().find((v) => {
    const before = testsBefore(v, victim);
    return before.length >= 2 && before.some((t) => !refuted.has(t));
  });
  if (!source) return;
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
  hunt.bisect = bisect;
  while (current.length >= 2) {
    const chunks = split(current, granularity);
    const complements = granularity > 2 ? chunks.map((c) => current.filter((t) => !c.includes(t))) : [];
    let reduced: { to: TestId[]; granularity: number } | undefined;
    const subsets = [...chunks, ...complements];
    for (let i = 0; i < subsets.length; i += 1) {
      const subset = subsets[i] ?? [];
      const plan = planFor(subset);
      const result = observe(ctx, hunt, walk, plan);
      if (result.state === 'pending') {
        if (bisect.tried >= ctx.options.maxBisectProbes) return;
        hunt.next = { plan, tier: TIER.bisect };
        return;
      }
      if (result.state === 'inconclusive' || result.run.plan?.purpose === 'bisect') bisect.tried += 1;
      if (result.state === 'inconclusive') {
        hunt.inconclusive = result.reason;
        return;
      }
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
  if (!lastFailure) return;
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
  // Attempt 1 of these tests with this seed is the bisection probe itself: repeats start at 2.
  const pair = (i: number): ProbePlan => withAttempt(confirmPlan, i + 2);
  const what = `${current.join(' + ')} then ${victim}`;
  const strict = !ctx.evidence.planned.some((v) => outcomeIn(v, victim) === 'passed' && current.every((t) => precedes(v, t, victim)));
  const outcome = confirm(ctx, hunt, walk, orderChance(ctx.evidence, victim, 'failed', undefined, strict), { pair, pairExpects: 'failed', done: 1, what });
  if (outcome.kind === 'confirmed') hunt.polluters.push({ tests: current, probes: [lastFailure, ...outcome.runs], plan: confirmPlan });
  else settle(hunt, outcome, TIER.bisect);
}

/** Passing planned runs where a confirmed polluter ran before the victim with no confirmed cleaner between. */
function uncoveredPasses(hunt: Hunt, passing: RunView[]): RunView[] {
  const victim = hunt.subject;
  return passing.filter((v) =>
    hunt.polluters.some(
      (p) =>
        p.tests.every((t) => precedes(v, t, victim)) &&
        !hunt.cleaners.some((c) => p.tests.includes(c.polluter) && precedes(v, c.polluter, c.test) && precedes(v, c.test, victim)),
    ),
  );
}

/** Cleaners for passing runs where a confirmed polluter preceded the victim: one probe each, until those passes are covered. */
function huntCleaners(ctx: HuntContext, hunt: Hunt, passing: RunView[]): void {
  const victim = hunt.subject;
  for (const polluter of hunt.polluters) {
    if (polluter.tests.length !== 1) continue;
    const p = polluter.tests[0] ?? '';
    const between = (v: RunView, t: TestId): boolean => precedes(v, p, t) === true && precedes(v, t, victim) === true;
    for (const candidate of rankCleanerCandidates(ctx.evidence, p, victim).slice(0, ctx.options.maxCandidates)) {
      const uncovered = passing.filter((v) => precedes(v, p, victim) && !hunt.cleaners.some((c) => c.polluter === p && between(v, c.test)));
      if (uncovered.length === 0) break;
      if (!uncovered.some((v) => between(v, candidate.test))) continue;
      const tests = [p, candidate.test, victim];
      const plan: ProbePlan = {
        purpose: 'cleaner',
        subject: victim,
        tests,
        seed: candidate.witness.run.seed,
        expectedOrder: tests,
        hypothesis: `${p}, ${candidate.test}, ${victim}: if ${victim} passes, ${candidate.test} undoes what ${p} left (order of run ${candidate.witness.run.id})`,
      };
      const result = obtain(ctx, plan);
      if (result.state === 'pending') {
        hunt.next = { plan, tier: TIER.cleaner };
        return;
      }
      if (result.state === 'inconclusive') break;
      if (result.status === 'passed') hunt.cleaners.push({ test: candidate.test, polluter: p, probe: result.run.id });
    }
  }
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

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
