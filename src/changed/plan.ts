// The extra runs a pull request's changed specs get, planned from data: runs focused on their
// packages (so each meets the rest of its package in a new recorded order), then directed pairs
// with every spec that touches the same object names, both ways round. Pure.

import { isSuiteNode, type ExtraRun, type LeakReport, type RunResult, type TestCase, type TestId } from '../model.ts';
import { extractObjectRefs } from '../analysis/taxonomy.ts';
import type { ChangedSpec } from './specs.ts';
import type { RecordEntry } from '../record/entry.ts';
import { requestPlacer } from '../record/placement.ts';

export type { ExtraRun };

/** What the hunt learned about the change, recorded in hunt.json so a rebuilt report says the same. */
export interface ChangeRecord {
  /** The ref the change is measured from, as given (a PR's base SHA, or changed-since). */
  since: string;
  /** The commit the diff was taken against (the merge base). */
  base?: string;
  specs: ChangedSpec[];
  /** Runs asked for each changed spec (changed-runs). */
  runs: number;
  /** What limited the look: no record of the runs, pairs with no recorded order... */
  notes: string[];
}

/** The tests a changed-spec run focuses on: every spec of the packages (suites) the changed specs are in. */
export function changedRunFocus(changed: readonly ChangedSpec[], tests: ReadonlyMap<TestId, TestCase>): TestId[] {
  const suites = new Set(changed.map((spec) => tests.get(spec.test)?.suite).filter((suite): suite is string => suite !== undefined));
  return [...tests.values()].filter((test) => suites.has(test.suite) && !isSuiteNode(test)).map((test) => test.id);
}

/** A directed pair: `first` runs before `second`, on a seed a recorded run put them in that order with. */
export interface DirectedPair {
  first: TestId;
  second: TestId;
  seed: number;
  /** The object names both touch. */
  names: string[];
}

/**
 * Directed pairs of each changed spec with every spec of its package that touches an object name
 * it touches, both ways round. What a spec touches: the objects its requests named in the API
 * server's record where runs kept one; else what the runs show, the objects it left (leaks'
 * createdBy and deletedBy) and the objects its failures name. Each pair
 * needs a seed under which a recorded run ran the two in that order (focus keeps the relative order);
 * a direction no run showed is left out and counted in `unordered`.
 */
export function directedPairs(input: {
  changed: readonly ChangedSpec[];
  runs: readonly RunResult[];
  leaks: readonly LeakReport[];
  tests: ReadonlyMap<TestId, TestCase>;
  /** The API server's record of runs that kept one: every object each spec's requests named. */
  recorded?: readonly RecordedRun[];
}): { pairs: DirectedPair[]; unordered: number } {
  const names = touchedNames(input.runs, input.leaks, input.recorded ?? []);
  const pairs: DirectedPair[] = [];
  const seen = new Set<string>();
  let unordered = 0;
  for (const spec of input.changed) {
    const mine = names.get(spec.test);
    const suite = input.tests.get(spec.test)?.suite;
    if (!mine?.size || suite === undefined) continue;
    for (const [other, theirs] of names) {
      if (other === spec.test || input.tests.get(other)?.suite !== suite || isSuiteNode(input.tests.get(other) ?? {})) continue;
      const shared = [...mine].filter((name) => theirs.has(name)).sort();
      if (shared.length === 0) continue;
      for (const [first, second] of [[other, spec.test], [spec.test, other]] as const) {
        const key = `${first}\u0000${second}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const seed = seedWithOrder(input.runs, first, second);
        if (seed === undefined) unordered += 1;
        else pairs.push({ first, second, seed, names: shared });
      }
    }
  }
  return { pairs, unordered };
}

/** A run and the requests its record holds (the cluster's slice and every envtest instance's). */
export interface RecordedRun {
  run: RunResult;
  entries: readonly RecordEntry[];
}

// Requests that name no one object a spec touched: reads of collections and the watch.
const COLLECTION_VERBS = new Set(['list', 'watch', 'deletecollection']);

/**
 * Object names each test touched: every object its requests named in the API server's record
 * (placed in the spec running when the server received them), what it left behind, what its
 * failures name.
 */
function touchedNames(runs: readonly RunResult[], leaks: readonly LeakReport[], recorded: readonly RecordedRun[]): Map<TestId, Set<string>> {
  const names = new Map<TestId, Set<string>>();
  const add = (test: TestId, name: string): void => {
    const set = names.get(test) ?? new Set<string>();
    set.add(name);
    names.set(test, set);
  };
  for (const leak of leaks) {
    if (leak.createdBy) add(leak.createdBy, leak.name);
    if (leak.deletedBy) add(leak.deletedBy, leak.name);
  }
  for (const { run, entries } of recorded) {
    const placer = requestPlacer(run);
    if (!placer) continue;
    for (const entry of entries) {
      if (entry.actor !== 'test' || !entry.object?.name || COLLECTION_VERBS.has(entry.verb)) continue;
      const placed = placer.entry(entry);
      if (placed.basis === 'window' || placed.basis === 'gap') add(placed.test, entry.object.name);
    }
  }
  for (const run of runs) {
    for (const c of run.cases) {
      if (c.status !== 'failed' || !c.failure) continue;
      for (const ref of extractObjectRefs(`${c.failure.message}\n${c.failure.text ?? ''}`)) add(c.id, ref.name);
    }
  }
  return names;
}

/** The seed of the first run that ran `first` before `second` (both with a result). */
function seedWithOrder(runs: readonly RunResult[], first: TestId, second: TestId): number | undefined {
  for (const run of runs) {
    const a = run.order.indexOf(first);
    const b = run.order.indexOf(second);
    if (a >= 0 && b >= 0 && a < b) return run.seed;
  }
  return undefined;
}

/** "3 changed specs: 10 runs each, 6 directed pairs, all passed" (or how many failed). */
export function effortSentence(record: ChangeRecord, outcome: { runs: number; pairs: number; failing: number }): string {
  const specs = `${record.specs.length} changed spec${record.specs.length === 1 ? '' : 's'}`;
  const runs = `${outcome.runs} run${outcome.runs === 1 ? '' : 's'} each`;
  const pairs = `${outcome.pairs} directed pair${outcome.pairs === 1 ? '' : 's'}`;
  const result = outcome.failing === 0 ? 'all passed' : `${outcome.failing} of them failed`;
  return `${specs}: ${runs}, ${pairs}, ${result}`;
}
