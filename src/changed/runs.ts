// After the planned runs: find the specs the change adds or changes and give them their extra
// runs (changed-runs focused on their packages, each on its own seed), then directed pairs with
// the specs that touch the same object names. The pipeline hands in how to run one run.

import type { ExtraRun, LeakReport, RunResult, TestCase, TestId } from '../model.ts';
import { runId } from '../results.ts';
import { seedsFor } from '../runner/seeds.ts';
import { changedRunFocus, directedPairs, type ChangeRecord, type RecordedRun } from './plan.ts';
import { findChangedSpecs } from './index.ts';

export interface ChangedRunsContext {
  since: string;
  /** Planned runs already made (`runs`): extra run ids and seeds continue after them. */
  plannedRuns: number;
  changedRuns: number;
  baseSeed: number;
  shard?: { index: number; count: number };
  cwd: string;
  projectRoot: string;
  cacheDir: string;
  tests: () => ReadonlyMap<TestId, TestCase>;
  /** The runs so far that verdicts may be built on (no infrastructure or interrupted run). */
  judgedRuns: () => RunResult[];
  leaks: () => LeakReport[];
  /** The judged runs that kept the API server's record, with its requests. */
  recorded: () => RecordedRun[];
  record: (change: ChangeRecord) => Promise<void>;
  run: (args: { id: string; seed: number; focus: TestId[]; extra: ExtraRun; label: string }) => Promise<unknown>;
  info: (line: string) => void;
  warn: (line: string) => void;
  detail: (line: string) => void;
}

// Without the API server's record (an existing cluster keeps none) the runs show only part of what a spec touched.
const PAIRS_FROM_RUNS = 'pairs come from what the runs show (objects a spec left behind, objects its failures name): no run kept the API server\'s record of every object each spec touched';

/** Finds the changed specs and runs their extra runs and pairs. Never throws for git or Go trouble: it says what went wrong. */
export async function huntChangedSpecs(context: ChangedRunsContext): Promise<void> {
  const record: ChangeRecord = { since: context.since, specs: [], runs: context.changedRuns, notes: [] };
  try {
    const found = await findChangedSpecs({ since: context.since, cwd: context.cwd, tests: [...context.tests().values()], projectRoot: context.projectRoot, cacheDir: context.cacheDir, log: context.detail });
    Object.assign(record, { base: found.base, specs: found.specs });
    record.notes.push(...found.notes);
  } catch (error) {
    record.notes.push(`the changed specs could not be found: ${(error as Error).message}`);
    await context.record(record);
    context.warn(record.notes.at(-1)!);
    return;
  }
  for (const note of record.notes) context.warn(note);
  const tests = context.tests();
  const names = record.specs.map((spec) => `${tests.get(spec.test)?.name ?? spec.test} (${spec.change})`);
  context.info(`changed since ${context.since.slice(0, 12)}: ${record.specs.length ? names.join(', ') : 'no spec the hunt ran'}`);
  if (record.specs.length === 0) {
    await context.record(record);
    return;
  }
  await context.record(record);

  const focus = changedRunFocus(record.specs, tests);
  const specs = record.specs.map((spec) => spec.test);
  const seeds = seedsFor(context.plannedRuns + context.changedRuns, context.baseSeed).slice(context.plannedRuns);
  let index = context.plannedRuns;
  const mine = (n: number): boolean => !context.shard || n % context.shard.count === context.shard.index;
  for (const [i, seed] of seeds.entries()) {
    const n = index++;
    if (!mine(n)) continue;
    await context.run({ id: runId(n), seed, focus, extra: { purpose: 'changed', tests: specs }, label: `changed-spec run ${i + 1}/${seeds.length}` });
  }
  const recorded = context.recorded();
  const { pairs, unordered } = directedPairs({ changed: record.specs, runs: context.judgedRuns(), leaks: context.leaks(), tests: context.tests(), recorded });
  if (recorded.length === 0) record.notes.push(PAIRS_FROM_RUNS);
  if (unordered > 0) record.notes.push(`${unordered} directed pair${unordered === 1 ? '' : 's'} not run: no run put the two in that order, so no seed gives it`);
  await context.record(record);
  for (const [i, pair] of pairs.entries()) {
    const n = index++;
    if (!mine(n)) continue;
    const label = `pair ${i + 1}/${pairs.length} (${tests.get(pair.first)?.name ?? pair.first} then ${tests.get(pair.second)?.name ?? pair.second}, both touch ${pair.names.join(', ')})`;
    await context.run({ id: runId(n), seed: pair.seed, focus: [pair.first, pair.second], extra: { purpose: 'pair', tests: [pair.first, pair.second] }, label });
  }
}
