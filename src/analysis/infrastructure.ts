// Infrastructure runs: runs whose failures say the environment broke (the control plane died,
// the suite's setup failed, the test binary did not build, most specs failed the same way), not
// that a test is flaky. They are kept and shown with their cause, but no verdict, probe or
// history is built on them; nor on a run the hunt's own interruption cut short. Pure.

import { classifyFailure } from './taxonomy.ts';
import { isSuiteNode, type FailureKind, type RunResult, type TestCase } from '../model.ts';

/** The share of a run's specs that must fail with one failure class for the run to be infrastructure. */
export const DEFAULT_INFRA_THRESHOLD = 0.8;
/**
 * Fewer specs than this never make a run infrastructure by their share: two of two specs failing
 * alike is an ordinary pair of findings (a polluter and its victim), not a broken environment.
 */
export const INFRA_MIN_SPECS = 5;

/** Why a run is not judged. */
export type RunExclusion = { kind: 'infrastructure'; cause: string } | { kind: 'interrupted'; signal: string };

/** The runs verdicts are built on, and what the others are. */
export interface JudgedRuns {
  /** Runs analysis reads: neither infrastructure nor interrupted. */
  judged: RunResult[];
  /** Every excluded run by id. */
  excluded: Map<string, RunExclusion>;
  /** Every planned run that finished was an infrastructure run: the first one's cause. Nothing was judged. */
  neverRan?: string;
}

/** Splits a hunt's runs into those judged and those excluded (infrastructure, interrupted), with why. */
export function judgeableRuns(runs: readonly RunResult[], threshold = DEFAULT_INFRA_THRESHOLD): JudgedRuns {
  const judged: RunResult[] = [];
  const excluded = new Map<string, RunExclusion>();
  for (const run of runs) {
    if (run.interrupted) {
      excluded.set(run.id, { kind: 'interrupted', signal: run.interrupted });
      continue;
    }
    const cause = infrastructureCause(run, threshold);
    if (cause) excluded.set(run.id, { kind: 'infrastructure', cause });
    else judged.push(run);
  }
  const finished = runs.filter((run) => !run.probe && !run.interrupted);
  const first = finished[0];
  const causes = finished.map((run) => excluded.get(run.id)).map((exclusion) => (exclusion?.kind === 'infrastructure' ? exclusion.cause : undefined));
  const neverRan = first && causes.every((cause) => cause !== undefined) ? causes[0] : undefined;
  return { judged, excluded, ...(neverRan ? { neverRan } : {}) };
}

/** "the suite never ran: <cause>; nothing was judged": the headline and the hunt's error when no run could be judged. */
export function neverRanSentence(cause: string): string {
  return `the suite never ran: ${cause}; nothing was judged`;
}

/**
 * Why a run is an infrastructure run, or undefined when its outcomes can be judged. Causes,
 * strongest first: the control plane stopped answering; a package did not build; the suite's
 * setup failed (BeforeSuite, a Test_ wrapper or TestMain that failed before any spec); at least
 * `threshold` of its specs (and INFRA_MIN_SPECS or more) failed with one failure class.
 */
export function infrastructureCause(run: RunResult, threshold = DEFAULT_INFRA_THRESHOLD): string | undefined {
  if (run.controlPlaneLost) return `the control plane stopped answering: ${run.controlPlaneLost}`;
  const failed = run.cases.filter((c) => c.status === 'failed');
  const unbuilt = failed.find((c) => c.failure && classifyFailure(c.failure) === 'BuildFailure');
  if (unbuilt) return `the test binary of ${unbuilt.suite || unbuilt.classname || 'a package'} did not build: ${cap(unbuilt.failure?.message.split('\n')[0]?.trim() || firstErrorLine(unbuilt))}`;
  const setup = failed.find((c) => isSuiteSetup(c));
  if (setup) return `the suite setup failed (${setup.name} in ${setup.suite}): ${firstErrorLine(setup)}`;
  const wrapper = failed.find((c) => isWrapperBeforeAnySpec(c, run));
  if (wrapper) return `the suite setup failed before any spec (${wrapper.name} in ${wrapper.suite}): ${firstErrorLine(wrapper)}`;
  return sharedFailure(run.cases, threshold);
}

/** A Ginkgo suite's setup node (BeforeSuite, SynchronizedBeforeSuite): when it fails, no spec runs. */
function isSuiteSetup(c: TestCase): boolean {
  return isSuiteNode(c) && /^\[(Synchronized)?BeforeSuite\]/.test(c.name);
}

/**
 * The go test function around a Ginkgo suite (`Test_Controllers`), or a package's TestMain, that
 * failed before the suite started: the suite wrote no report, so the run holds only the wrapper
 * (the go test stream's case, named after the package), and nothing else of its package ran.
 */
function isWrapperBeforeAnySpec(c: TestCase, run: RunResult): boolean {
  const ginkgo = (run.testBinaries ?? []).some((b) => (b.kind === 'ginkgo' || b.kind === 'ginkgo-v1') && b.importPath === c.suite);
  const text = `${c.failure?.message ?? ''}\n${c.failure?.text ?? ''}`;
  // Ginkgo prints "Will run N of M specs" once the suite starts: after that it is a spec's failure, not setup.
  if (ginkgo) return !/\bWill run \S+ of \S+ specs?\b/.test(text);
  if (c.name !== 'TestMain') return false;
  return !run.cases.some((other) => other !== c && other.suite === c.suite && other.status !== 'skipped');
}

/** At least `threshold` of the run's specs failed with one failure class (and at least INFRA_MIN_SPECS ran). */
function sharedFailure(cases: readonly TestCase[], threshold: number): string | undefined {
  const specs = cases.filter((c) => !isSuiteNode(c) && (c.status === 'passed' || c.status === 'failed'));
  if (specs.length < INFRA_MIN_SPECS) return undefined;
  const byKind = new Map<FailureKind, TestCase[]>();
  for (const c of specs) {
    if (c.status !== 'failed') continue;
    const kind = c.failure ? classifyFailure(c.failure) : 'Unknown';
    byKind.set(kind, [...(byKind.get(kind) ?? []), c]);
  }
  const [kind, alike] = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  if (!kind || !alike || alike.length / specs.length < threshold) return undefined;
  return `${alike.length} of ${specs.length} specs failed with ${kind} (at least ${Math.round(threshold * 100)}% failing alike is the environment, not the tests): ${firstErrorLine(alike[0]!)}`;
}

// A line of test output that says something went wrong (as opposed to a setup step's log line).
const errorWords = /\b(err(or)?s?|fail(ed|ure|s)?|unable|cannot|can't|could not|couldn't|refused|denied|forbidden|timed? ?out|panic(ked)?|invalid|not found|no such|missing|unexpected)\b/i;
// `    file_test.go:42: text`: what t.Log, t.Errorf and t.Fatalf print.
const testLogLine = /^\s*\S+\.go:\d+: (.*)$/;

/**
 * The line of a failure that says what went wrong. A go test function that fails in its setup logs
 * its error, then tears down ("stopping API server"): the first logged line naming an error is the
 * cause, not the last line. A Ginkgo failure's message is the error itself, folded onto one line.
 */
export function firstErrorLine(c: Pick<TestCase, 'failure'>): string {
  const logged = (c.failure?.text ?? '')
    .split('\n')
    .map((line) => testLogLine.exec(line)?.[1]?.trim())
    .filter((line): line is string => line !== undefined && line !== '');
  const fromLog = logged.find((line) => errorWords.test(line));
  if (fromLog) return cap(fromLog);
  const message = (c.failure?.message ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ');
  return cap(message || logged.at(-1) || '(no failure message)');
}

function cap(line: string): string {
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
