// The facts analysis reasons from: per run, each test's outcome and position. A test absent
// from a run (the run crashed or timed out before it) has no outcome there: neither a pass nor
// a fail. Positions exist only when the run's order is known.

import { isSuiteNode, type RunResult, type TestCase, type TestId, type TestStatus } from '../model.ts';

/** One run, indexed for lookups. */
export interface RunView {
  run: RunResult;
  cases: Map<TestId, TestCase>;
  /** Position of each test in the execution order; null when the run's order is unknown. */
  position: Map<TestId, number> | null;
}

export interface Evidence {
  /** Planned runs (not probes), in the order given. */
  planned: RunView[];
  probes: RunView[];
  /** Every test seen in a planned run, in first-seen order, with its most recent case. */
  tests: Map<TestId, TestCase>;
}

/**
 * Suite-level setup nodes keep their outcome (a failing BeforeSuite is a finding) but have no
 * place in the order: they run first or last whatever the seed or focus, so they explain nothing.
 */
export function viewRun(full: RunResult): RunView {
  const run = withoutSuiteNodesInOrder(full);
  const cases = new Map<TestId, TestCase>();
  for (const c of run.cases) {
    // A test reported twice in one run (retry dialects) keeps its worst outcome.
    const seen = cases.get(c.id);
    if (!seen || (seen.status !== 'failed' && c.status === 'failed')) cases.set(c.id, c);
  }
  let position: Map<TestId, number> | null = null;
  if (run.orderSource !== 'unknown') {
    position = new Map();
    run.order.forEach((id, i) => {
      if (!position?.has(id)) position?.set(id, i);
    });
  }
  return { run, cases, position };
}

function withoutSuiteNodesInOrder(run: RunResult): RunResult {
  if (!run.cases.some(isSuiteNode)) return run;
  const setup = new Set(run.cases.filter(isSuiteNode).map((c) => c.id));
  return { ...run, order: run.order.filter((id) => !setup.has(id)) };
}

export function gatherEvidence(runs: RunResult[]): Evidence {
  const planned: RunView[] = [];
  const probes: RunView[] = [];
  const tests = new Map<TestId, TestCase>();
  for (const run of runs) {
    const view = viewRun(run);
    if (run.probe) {
      probes.push(view);
      continue;
    }
    planned.push(view);
    for (const c of view.run.cases) tests.set(c.id, c);
  }
  return { planned, probes, tests };
}

/** The test's outcome in a run, or undefined when the run has no result for it. */
export function outcomeIn(view: RunView, id: TestId): TestStatus | undefined {
  return view.cases.get(id)?.status;
}

/**
 * Did `before` run before `subject` in this run? Undefined when the subject's position is not
 * known. A test missing from the order did not run before a subject that is in it.
 */
export function precedes(view: RunView, before: TestId, subject: TestId): boolean | undefined {
  const s = view.position?.get(subject);
  if (s === undefined) return undefined;
  const b = view.position?.get(before);
  return b !== undefined && b < s;
}

/** Tests that ran before the subject in this run, in order. */
export function testsBefore(view: RunView, subject: TestId): TestId[] {
  const s = view.position?.get(subject);
  if (s === undefined) return [];
  const out: TestId[] = [];
  for (let i = 0; i < s; i += 1) {
    const id = view.run.order[i] as TestId;
    if (id !== subject && view.cases.get(id)?.status !== 'skipped') out.push(id);
  }
  return out;
}

/** Planned runs where the subject passed (or failed) and its position is known. */
export function runsWhere(evidence: Evidence, subject: TestId, status: 'passed' | 'failed'): RunView[] {
  return evidence.planned.filter((v) => outcomeIn(v, subject) === status && v.position?.has(subject));
}

export interface TestTally {
  passed: number;
  failed: number;
  skipped: number;
  /** Planned runs with no result for the test (crashed, timed out, filtered). */
  missing: number;
  /** Planned runs where the test passed only after the framework retried a failed attempt. */
  retried: string[];
}

export function tally(evidence: Evidence, id: TestId): TestTally {
  const t: TestTally = { passed: 0, failed: 0, skipped: 0, missing: 0, retried: [] };
  for (const v of evidence.planned) {
    const c = v.cases.get(id);
    // A run for changed specs selects their packages only: a test it did not select is not missing.
    if (!c) t.missing += v.run.extra ? 0 : 1;
    else if (c.status === 'passed') {
      t.passed += 1;
      if (c.retries?.some((r) => r.status === 'failed')) t.retried.push(v.run.id);
    } else if (c.status === 'failed') t.failed += 1;
    else t.skipped += 1;
  }
  return t;
}
