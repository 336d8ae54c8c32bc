// How strong is the evidence? The alternative to "order-dependent" is a plain flake: a test
// that fails at some unknown rate whatever ran before it. This bounds the chance that such a
// flake would have produced evidence as strong as what we saw, at its worst-case rate:
//  - in the planned runs, the telling outcome (a failure, for a victim) happened only in runs
//    where some test t ran before the subject (a union bound over all t, which pays for having
//    picked the candidate after looking), and
//  - in the probes, the subject showed the telling outcome `telling` times and the other one
//    `other` times, each as predicted.
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

/** Worst-case chance over q, and the q where it is reached, after `telling` and `other` probe outcomes. */
export function flakeChance(order: OrderChance, telling: number, other: number): { chance: number; rate: number } {
  let chance = 0;
  let rate = 0.5;
  order.grid.forEach((q, i) => {
    const c = Math.min(1, order.values[i] ?? 0) * q ** telling * (1 - q) ** other;
    if (c > chance) {
      chance = c;
      rate = q;
    }
  });
  return { chance, rate };
}

/** P(X >= k) for X ~ Binomial(n, q). */
export function binomialTail(n: number, q: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let sum = 0;
  for (let i = k; i <= n; i += 1) sum += choose(n, i) * q ** i * (1 - q) ** (n - i);
  return sum;
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i += 1) r = (r * (n - k + i)) / i;
  return r;
}
