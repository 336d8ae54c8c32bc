// The one table of verdicts: everything any renderer, the action's outputs or the analysis' order
// needs to know about a verdict besides how it is decided. Typed `Record<Verdict, ...>`, so a new
// verdict in model.ts does not compile until it has its entry here (then its analysis in
// analysis/verdicts.ts); test/unit/verdict-table.test.ts checks every renderer shows each entry.

import type { Verdict } from './model.ts';

/** Colours the HTML report defines as CSS variables (`--od`, `--od-bg`...), light and dark. */
export type VerdictColour = 'od' | 'warn' | 'fail' | 'pass' | 'skip';

/** ANSI styles the terminal summary paints with. */
export type TerminalStyle = 'magenta' | 'yellow' | 'red' | 'green' | 'dim';

interface CommonTraits {
  /** Capitalised, for stat cards and headings: "Order-dependent". */
  label: string;
  /** Markdown's icon for it (PR comment, job summary). */
  emoji: string;
  /** Place in every list of tests and verdicts, most actionable first. */
  rank: number;
  /** How a finding section opens: what the verdict means, in a sentence. */
  sentence: string;
  /** The cause column when no polluter or state-setter explains the test. */
  noCause: string;
  colour: VerdictColour;
  terminal: TerminalStyle;
}

/**
 * A finding is reported, annotated, counted in the action output named after its verdict, and
 * fails the step under `fail-on: findings`; any other verdict is a clean bill for that test.
 */
export type VerdictTraits = CommonTraits & (
  | { finding: true; annotation: { level: 'failure' | 'warning'; title: string } }
  | { finding: false }
);

export const VERDICTS: Readonly<Record<Verdict, VerdictTraits>> = {
  'order-dependent': {
    label: 'Order-dependent', emoji: '🔀', rank: 0, finding: true,
    sentence: 'Order-dependent: fails only after another test',
    noCause: '—',
    annotation: { level: 'failure', title: 'Order-dependent test' },
    colour: 'od', terminal: 'magenta',
  },
  brittle: {
    label: 'Brittle', emoji: '🧩', rank: 1, finding: true,
    sentence: 'Brittle: passes only after another test set up state',
    noCause: '—',
    annotation: { level: 'failure', title: 'Brittle test' },
    colour: 'warn', terminal: 'yellow',
  },
  broken: {
    label: 'Broken', emoji: '❌', rank: 2, finding: true,
    sentence: 'Broken: fails in every run, alone too',
    noCause: 'fails alone too',
    annotation: { level: 'failure', title: 'Broken test' },
    colour: 'fail', terminal: 'red',
  },
  flaky: {
    label: 'Flaky', emoji: '🎲', rank: 3, finding: true,
    sentence: 'Flaky: passed and failed with no order explaining it',
    noCause: 'no order explains it',
    annotation: { level: 'warning', title: 'Flaky test' },
    colour: 'warn', terminal: 'yellow',
  },
  stable: {
    label: 'Stable', emoji: '✅', rank: 4, finding: false,
    sentence: 'Stable', noCause: '—', colour: 'pass', terminal: 'green',
  },
  skipped: {
    label: 'Skipped', emoji: '⏭️', rank: 5, finding: false,
    sentence: 'Skipped', noCause: '—', colour: 'skip', terminal: 'dim',
  },
};

/** Every verdict, most actionable first. */
export const ALL_VERDICTS: readonly Verdict[] = (Object.keys(VERDICTS) as Verdict[]).sort((a, b) => VERDICTS[a].rank - VERDICTS[b].rank);

/** The verdicts that make a test a finding, most actionable first. */
export const FINDING_VERDICTS: readonly Verdict[] = ALL_VERDICTS.filter((verdict) => VERDICTS[verdict].finding);

export function isFindingVerdict(verdict: Verdict): boolean {
  return VERDICTS[verdict].finding;
}
