// A simulated test suite for analysis tests: a seeded shuffle of the full spec list then a focus
// filter (as Ginkgo --randomize-all and go test -shuffle do), and an oracle that decides each
// test's outcome from what ran before it. Drives planProbes through a whole hunt.

import { testId, type Failure, type LeakReport, type ProbePlan, type RunResult, type TestCase, type TestId, type TestStatus } from '../../src/model.ts';
import { planProbes, type ProbePlanInput } from '../../src/analysis/probes.ts';
import type { PlacedRecord } from '../../src/record/links.ts';

export const SUITE = 'Controller Suite';
export const id = (name: string): TestId => testId(SUITE, name);

/**
 * Decides a test's outcome given the tests that ran before it in this run. `random` is the run's
 * own luck; `seed` is the run's seed, which a suite may draw its test data from (GinkgoRandomSeed);
 * `run` is the run being made (a probe's plan says whether it runs under stress).
 */
export type Oracle = (test: TestId, before: TestId[], random: () => number, seed: number, run?: RunSpec) => { status: TestStatus; failure?: Failure } | undefined;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The full suite in the order a seed gives (Fisher-Yates with a seeded generator). */
export function shuffled(all: TestId[], seed: number): TestId[] {
  const out = [...all];
  const random = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as TestId, out[i] as TestId];
  }
  return out;
}

export interface RunSpec {
  id: string;
  seed: number;
  /** Focus: only these run, in the seed's relative order. */
  focus?: TestId[];
  plan?: ProbePlan;
  /** Stop after this many tests (a crash or timeout): later tests have no result. */
  crashAfter?: number;
}

/** Executes one run of the simulated suite. */
export function simulate(all: TestId[], oracle: Oracle, spec: RunSpec): RunResult {
  const focus = spec.focus ? new Set(spec.focus) : undefined;
  let order = shuffled(all, spec.seed).filter((t) => !focus || focus.has(t));
  if (spec.crashAfter !== undefined) order = order.slice(0, spec.crashAfter);
  // Each run (and probe) has its own luck, so a timing flake does not repeat with the seed.
  const random = mulberry32(spec.seed * 7919 + hash(spec.id));
  const cases: TestCase[] = [];
  order.forEach((t, i) => {
    const outcome = oracle(t, order.slice(0, i), random, spec.seed, spec) ?? { status: 'passed' as const };
    const c: TestCase = { id: t, name: t.slice(SUITE.length + 4), suite: SUITE, status: outcome.status, durationMs: 10, index: i };
    if (outcome.failure) c.failure = outcome.failure;
    cases.push(c);
  });
  const failed = cases.some((c) => c.status === 'failed');
  const run: RunResult = {
    id: spec.id,
    seed: spec.seed,
    probe: spec.plan !== undefined,
    command: ['ginkgo', '--randomize-all', `--seed=${spec.seed}`, './...'],
    exitCode: spec.crashAfter !== undefined ? null : failed ? 1 : 0,
    timedOut: spec.crashAfter !== undefined,
    startedAt: 0,
    endedAt: 0,
    durationMs: 0,
    orderSource: 'ginkgo-json',
    order: cases.filter((c) => c.status !== 'skipped').map((c) => c.id),
    cases,
    reports: ['ginkgo.json'],
    warnings: [],
  };
  if (spec.plan) run.plan = spec.plan;
  return run;
}

/** Seeds for planned runs, fixed so tests are reproducible. */
export function plannedRuns(all: TestId[], oracle: Oracle, count: number, firstSeed = 1000): RunResult[] {
  return Array.from({ length: count }, (_, i) => simulate(all, oracle, { id: String(i).padStart(3, '0'), seed: firstSeed + i * 17 }));
}

export interface HuntResult {
  runs: RunResult[];
  plans: ProbePlan[];
  batches: number;
  /** The record of each run, planned and probes, when the hunt was given `recorded`; else []. */
  records: PlacedRecord[];
}

/** A run as the pipeline logs it with the API server's record: the run with its spec times, and its record. */
export type Recorder = (run: RunResult) => { run: RunResult; record: PlacedRecord };

/** The pipeline's loop: plan, run each probe, append, until planProbes returns []. */
export function runHunt(
  all: TestId[],
  oracle: Oracle,
  planned: RunResult[],
  options: Omit<ProbePlanInput, 'runs' | 'framework'> & {
    /** What the runs so far left behind, probes included (as the pipeline's log grows): instead of fixed `leaks`. */
    leaksOf?: (runs: RunResult[]) => LeakReport[];
    /** Every run (planned and probes) gets its record this way, and planProbes reads them: instead of fixed `records`. */
    recorded?: Recorder;
  } = {},
): HuntResult {
  const { leaksOf, recorded, ...input } = options;
  const runs: RunResult[] = [];
  const records: PlacedRecord[] = [];
  const log = (r: RunResult): void => {
    if (!recorded) return void runs.push(r);
    const made = recorded(r);
    runs.push(made.run);
    records.push(made.record);
  };
  planned.forEach(log);
  const plans: ProbePlan[] = [];
  let batches = 0;
  for (;;) {
    const batch = planProbes({ runs, framework: 'ginkgo', ...input, ...(leaksOf ? { leaks: leaksOf(runs) } : {}), ...(recorded ? { records } : {}) });
    if (batch.length === 0) break;
    batches += 1;
    if (batches > 100) throw new Error('planProbes never returned []');
    for (const plan of batch) {
      log(simulate(all, oracle, { id: `probe-${String(plans.length).padStart(3, '0')}`, seed: plan.seed, focus: plan.tests, plan }));
      plans.push(plan);
    }
  }
  return { runs, plans, batches, records };
}

export const fail = (message: string): { status: TestStatus; failure: Failure } => ({ status: 'failed', failure: { message } });
export const pass = { status: 'passed' as const };

/**
 * A race victim: fails at `rate` when its polluter ran before it (a finalizer that is sometimes
 * still draining), never otherwise. `rest` decides every other test.
 */
export function raceVictim(victim: TestId, polluter: TestId, rate: number, message: string, rest: Oracle = () => pass): Oracle {
  return (t, before, random, seed, run) => {
    if (t !== victim) return rest(t, before, random, seed, run);
    return before.includes(polluter) && random() < rate ? fail(message) : pass;
  };
}

/**
 * A race decided by the test data the suite draws from the seed (the example operator's mnist: a
 * peak size, drawn from GinkgoRandomSeed, outlasts the rest of the suite): after its polluter the
 * victim fails for `rate` of the seeds, and every time with such a seed.
 */
export function seededRace(victim: TestId, polluter: TestId, rate: number, message: string, rest: Oracle = () => pass): Oracle {
  return (t, before, random, seed, run) => {
    if (t !== victim) return rest(t, before, random, seed, run);
    return before.includes(polluter) && seedDraw(seed) < rate ? fail(message) : pass;
  };
}

/** A plain flake decided by the seed alone: fails for `rate` of the seeds, whatever ran before it. */
export function seededFlake(test: TestId, rate: number, message: string, rest: Oracle = () => pass): Oracle {
  return (t, before, random, seed, run) => (t === test ? (seedDraw(seed) < rate ? fail(message) : pass) : rest(t, before, random, seed, run));
}

/** The suite's draw from a seed, in [0, 1): the same for every run with that seed. */
export function seedDraw(seed: number): number {
  return mulberry32(seed ^ 0x6d6e6973)();
}

/** A plain flake: fails at `rate` whatever ran before it. */
export function plainFlake(test: TestId, rate: number, message: string, rest: Oracle = () => pass): Oracle {
  return (t, before, random, seed, run) => (t === test ? (random() < rate ? fail(message) : pass) : rest(t, before, random, seed, run));
}

/** A hand-written run: tests in this order with these outcomes (ids given by name). */
export function run(
  runId: string,
  seed: number,
  outcomes: [name: string, status: TestStatus, message?: string][],
  extra: Partial<RunResult> = {},
): RunResult {
  const cases: TestCase[] = outcomes.map(([name, status, message], i) => {
    const c: TestCase = { id: id(name), name, suite: SUITE, status, durationMs: 5, index: i };
    if (status === 'failed') c.failure = { message: message ?? `Expected\n    <int>: 1\nto equal\n    <int>: 2` };
    return c;
  });
  return {
    id: runId,
    seed,
    probe: false,
    command: ['ginkgo', '-r', './...'],
    exitCode: cases.some((c) => c.status === 'failed') ? 1 : 0,
    timedOut: false,
    startedAt: 0,
    endedAt: 0,
    durationMs: 0,
    orderSource: 'ginkgo-json',
    order: cases.filter((c) => c.status !== 'skipped').map((c) => c.id),
    cases,
    reports: [],
    warnings: [],
    ...extra,
  };
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i += 1) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

/** The motivating leak: the iris2 cache a polluter deleted without waiting, stuck on its finalizer. */
export function iris2Leak(createdBy: TestId, run: string): LeakReport {
  return {
    apiVersion: 'cache.kubeflake.dev/v1alpha1',
    kind: 'ModelCache',
    namespace: 'default',
    name: 'iris2',
    uid: 'u-iris2',
    terminating: true,
    finalizers: ['cache.kubeflake.dev/drain-shards'],
    createdBy,
    runs: [run],
  };
}
