// The offer decision (pure): a proven fix is offered only when the patched pair passed every time
// and the unpatched pair failed often enough that so many passes could not be luck.

import type { ProbeRate } from '../model.ts';

/** The chance, at most, that the unfixed pair would pass every patched run by luck. */
export const LUCK_BOUND = 0.05;

export type OfferDecision = { offered: true; why: string } | { offered: false; why: string };

/** Decides from the unpatched pair's measured rate and the patched pair's runs. */
export function decideOffer(before: ProbeRate, after: ProbeRate): OfferDecision {
  const rates = `after the fix: ${after.failed} of ${after.runs} failed; before: ${before.failed} of ${before.runs}`;
  if (after.runs === 0) return { offered: false, why: 'the patched pair never ran' };
  if (after.failed > 0) return { offered: false, why: `the patched pair still failed (${rates}): the fix does not cure it` };
  if (before.runs === 0 || before.failed === 0) return { offered: false, why: `the unpatched pair never failed here (${rates}), so passing proves nothing` };
  const luck = (1 - before.failed / before.runs) ** after.runs;
  if (luck > LUCK_BOUND) {
    return { offered: false, why: `${rates}: the unpatched pair would pass ${after.runs} in a row by luck ${Math.round(luck * 100)}% of the time; more runs (fix-probes) would tell` };
  }
  return { offered: true, why: rates };
}

/** How many patched runs make a pass meaningful at this failure rate (at least the confirmation's count). */
export function runsNeeded(before: ProbeRate, confirmation: number): number {
  if (before.runs === 0 || before.failed === 0) return Math.max(confirmation, 1);
  const p = before.failed / before.runs;
  const needed = p >= 1 ? 1 : Math.ceil(Math.log(LUCK_BOUND) / Math.log(1 - p));
  return Math.max(needed, confirmation, 1);
}
