// How strong is the evidence? The alternative to "order-dependent" is a plain flake: a test
// that fails at some unknown rate whatever ran before it. This bounds the chance that such a
// flake would have produced evidence as strong as what we saw, at its worst-case rate:
//  - in the planned runs, the telling outcome (a failure, for a victim) happened only in runs
//    where some test t ran before the subject (a union bound over all t, which pays for having
//    picked the candidate after looking), and
//  - in the probes, the subject showed the telling outcome in at least as many of the pair
//    probes (the suspect then the subject) and in none of the alone controls.
// A verdict is drawn only when that chance is below a small bound (default 0.1%).

import type { TestId } from '../model.ts';
import { outcomeIn, precedes, type Evidence, type RunView } from './evidence.ts';

export const DEFAULT_FALSE_ALARM_BOUND = 0.001;

const GRID = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

/** The planned-run part, on a grid of flake rates q (the rate of the telling outcome). */
export interface OrderChance {
  grid: number[];
  values: number[];
}

/**
 * Union bound over tests t: with `strict`, q^(runs t preceded) * (1 - q)^(runs it did not): the
 * telling outcome in exactly the runs t preceded; otherwise (1 - q)^(runs t did not precede).
 * `telling` is the outcome the order explains: 'failed' for a victim, 'passed' for a brittle test.
 * Runs for which `exclude` is true are left out (already explained by a confirmed polluter).
 */
export function orderChance(
  evidence: Evidence,
  subject: TestId,
  telling: 'passed' | 'failed',
  exclude: (view: RunView) => boolean = () => false,
  strict = false,
): OrderChance {
  const views = evidence.planned.filter((v) => {
    const o = outcomeIn(v, subject);
    return (o === 'passed' || o === 'failed') && v.position?.has(subject) && !exclude(v);
  });
  // Tests that preceded the subject in the same number of runs give the same term: count them.
  const shapes = new Map<number, number>();
  for (const t of evidence.tests.keys()) {
    if (t === subject) continue;
    const inside = views.filter((v) => precedes(v, t, subject) === true).length;
    shapes.set(inside, (shapes.get(inside) ?? 0) + 1);
  }
  // Every test could have been the one the outcomes lined up with, so every test is a term; the
  // observed count of telling runs must not pick the terms (it is itself chance).
  // Strict: the telling outcome in exactly the runs t preceded. Otherwise (cleaners may explain
  // runs t preceded): only that no run without t showed the telling outcome.
  const term = (q: number, inside: number): number => {
    const outside = views.length - inside;
    return strict ? q ** inside * (1 - q) ** outside : (1 - q) ** outside;
  };
  const values = GRID.map((q) => {
    let sum = 0;
    for (const [inside, tests] of shapes) sum += tests * term(q, inside);
    return sum;
  });
  return { grid: GRID, values };
}

/** How unlikely a plain flake lines up with this one candidate's order, at its worst-case rate: lower is a stronger suspect. */
export function candidateChance(preceded: number, notPreceded: number): number {
  let worst = 0;
  for (const q of GRID) worst = Math.max(worst, q ** preceded * (1 - q) ** notPreceded);
  return worst;
}

/**
 * Worst-case chance over q, and the q where it is reached, that a plain flake (telling outcome
 * at rate q in every probe, whatever ran before) gives probes at least this telling: `shown` of
 * `shown + missed` pair probes with the telling outcome, and none of `controls` alone controls.
 * A race fires only in some pair probes, so the pair part is a binomial tail, not q^shown: with
 * `missed` 0 it is exactly that.
 */
export function flakeChance(order: OrderChance, shown: number, missed: number, controls: number): { chance: number; rate: number } {
  let chance = 0;
  let rate = 0.5;
  order.grid.forEach((q, i) => {
    const c = Math.min(1, order.values[i] ?? 0) * binomialTail(shown + missed, q, shown) * (1 - q) ** controls;
    if (c > chance) {
      chance = c;
      rate = q;
    }
  });
  return { chance, rate };
}

/** What a confirmation series has seen: telling pair probes, missed pair probes, alone controls as predicted, probes spent. */
export interface SeriesCounts {
  shown: number;
  missed: number;
  controls: number;
  spent: number;
}

export interface SeriesRule {
  chance: OrderChance;
  bound: number;
  /** Probes the series may spend. */
  cap: number;
  /** Pair probes in a row without the telling outcome that refute the suspect. */
  refutingMisses: number;
}

/**
 * The bound a series must reach after `missed` pair misses. A series that tolerates misses gives
 * a plain flake more paths to a confirmation; tightening the bound by (misses + 1)^1.5 kept the
 * measured false-alarm rate under the bound at every flake rate (test/unit/analysis-chance.test.ts).
 * With no miss it is the bound itself: an all-agreeing series has exactly the chance computed.
 */
export function boundAfterMisses(bound: number, missed: number): number {
  return bound / (missed + 1) ** 1.5;
}

/**
 * The next step of a confirmation series (chance.ts's half of hunt.ts's `confirm`): confirmed
 * when at least two pair probes told and a plain flake's chance is within the bound; refuted when
 * the pair never told in enough tries; weak when the bound is out of reach even if every probe
 * left went as predicted; otherwise the probe (pair or alone) expected to lower the chance most.
 * An alone control with the telling outcome ends the series before this is asked again.
 */
export function seriesStep(rule: SeriesRule, n: SeriesCounts): 'confirmed' | 'refuted' | 'weak' | 'pair' | 'alone' {
  const { shown, missed, controls, spent } = n;
  const chance = (s: number, m: number, c: number): number => cachedChance(rule.chance, s, m, c);
  if (shown >= 2 && controls >= 1 && chance(shown, missed, controls) <= boundAfterMisses(rule.bound, missed)) return 'confirmed';
  if (shown === 0) return missed >= rule.refutingMisses || spent >= rule.cap ? 'refuted' : 'pair';
  const left = rule.cap - spent;
  let reachable = false;
  for (let pairs = 0; pairs <= left && !reachable; pairs += 1) {
    if (shown + pairs < 2 || controls + left - pairs < 1) continue;
    reachable = chance(shown + pairs, missed, controls + left - pairs) <= boundAfterMisses(rule.bound, missed);
  }
  if (!reachable) return 'weak';
  if (shown < 2 || controls === 0) return shown < 2 ? 'pair' : 'alone';
  // A probe that confirms if it goes as predicted comes first.
  const within = (s: number, m: number, c: number): boolean => chance(s, m, c) <= boundAfterMisses(rule.bound, m);
  if (within(shown + 1, missed, controls)) return 'pair';
  if (within(shown, missed, controls + 1)) return 'alone';
  // Otherwise the one expected to bring the chance nearest its bound: the pair tells at its rate
  // so far (smoothed), a miss tightens the bound; the control passes as predicted (else the series ends).
  const rate = (shown + 1) / (shown + missed + 2);
  const gap = (s: number, m: number, c: number): number => Math.log(Math.max(chance(s, m, c), 1e-300) / boundAfterMisses(rule.bound, m));
  const pair = rate * gap(shown + 1, missed, controls) + (1 - rate) * gap(shown, missed + 1, controls);
  return pair < gap(shown, missed, controls + 1) ? 'pair' : 'alone';
}

/** Replays and planners ask for the same few counts over and over: remember them per planned-run term. */
const chances = new WeakMap<OrderChance, Map<string, number>>();

function cachedChance(order: OrderChance, shown: number, missed: number, controls: number): number {
  let byCounts = chances.get(order);
  if (!byCounts) chances.set(order, (byCounts = new Map()));
  const key = `${shown},${missed},${controls}`;
  let c = byCounts.get(key);
  if (c === undefined) byCounts.set(key, (c = flakeChance(order, shown, missed, controls).chance));
  return c;
}

/** P(X >= k) for X ~ Binomial(n, q). */
export function binomialTail(n: number, q: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let sum = 0;
  for (let i = k; i <= n; i += 1) sum += choose(n, i) * q ** i * (1 - q) ** (n - i);
  return sum;
}

/**
 * Tries of a command that shows an outcome at rate `rate` for a 95% chance to see it at least
 * once: the reproduce line of a race says how many times to run it.
 */
export function triesFor(rate: number, confidence = 0.95): number {
  if (rate >= 1) return 1;
  if (rate <= 0) return Infinity;
  return Math.max(1, Math.ceil(Math.log(1 - confidence) / Math.log(1 - rate)));
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i += 1) r = (r * (n - k + i)) / i;
  return r;
}
