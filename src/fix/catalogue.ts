// The catalogue of fixes (pure): one entry per failure class kubeflake names, with the Go helper
// subcommand that writes it. A class without an entry keeps its hint as a sentence.

import type { FailureKind, FixKind } from '../model.ts';

export interface CatalogueEntry {
  kind: FixKind;
  /** The victim's failure classes it cures. */
  classes: readonly FailureKind[];
  /** The `tools/gosource` subcommand that prints the patched file. */
  subcommand: string;
  /** What the fix does, for people. */
  does: string;
  /**
   * The bound of a wait when the suite declares no timeout variable: a finalizer's drain may
   * outlast Gomega's default (1 s, often 5 s in suites), and a wait that ends early costs nothing.
   */
  boundSeconds?: number;
}

export const catalogue: readonly CatalogueEntry[] = [
  {
    kind: 'wait-after-delete',
    // The name is still held after the polluter's Delete: refused as being deleted, or as existing.
    classes: ['BeingDeleted', 'AlreadyExists'],
    subcommand: 'wait-after-delete',
    does: 'waits after the polluter\'s Delete until a Get of the object says NotFound',
    boundSeconds: 60,
  },
  {
    kind: 'reset-shared-variable',
    // No failure class: it is chosen when no object links the pair (sharedVariableCandidates).
    classes: [],
    subcommand: 'reset-shared-var',
    does: 'gives the victim a BeforeEach of its own that sets the variable the polluter reassigns back to its declared value',
  },
];

/** The entry for a pair that links through a Go variable, not an object. */
export const sharedVariableEntry: CatalogueEntry = catalogue.find((entry) => entry.kind === 'reset-shared-variable')!;

/** The entry that cures a victim failing with these kinds, the most specific kind first. */
export function catalogueEntryFor(kinds: readonly FailureKind[]): CatalogueEntry | undefined {
  for (const kind of kinds) {
    const entry = catalogue.find((candidate) => candidate.classes.includes(kind));
    if (entry) return entry;
  }
  return undefined;
}
