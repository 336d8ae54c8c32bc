// Pure: which spec was running when the API server received a request. The record's times are
// the server's, the spec windows the test process's: one host's clock (local control plane,
// envtest, kind's containers). Ginkgo JSON gives each spec's start and end, `go test -json` each
// test's (a parent test's window holds its subtests': the parent is the setup around them).
//
// - A request inside exactly one window is that spec's: certain.
// - Inside several windows that do not nest: parallel specs; the latest to start is the guess,
//   with the others as candidates (said once, by the caller).
// - Before the first spec: suite setup: the suite-level node ([BeforeSuite]) or the parent test
//   (`Test_` before RunSpecs) when the run has one, else the run's "suite setup" id. Never unknown.
// - In the gap after a spec (the in-process manager still acting on what it made): that spec,
//   approximate. After the last spec, past the gap: the suite-level node that ran last
//   ([AfterSuite]), else that same "suite setup" id.

import { testId, type RunResult, type TestId } from '../model.ts';
import { specWindows, type SpecWindow, type Windows } from '../cluster/attribution.ts';
import type { RecordEntry } from './entry.ts';

/** The name of the setup and teardown around the specs, when the run has no node of its own for them. */
export const SUITE_SETUP_NAME = 'suite setup';

/** How a request was placed. */
export type PlacementBasis =
  /** Inside one spec's window. */
  | 'window'
  /** Inside several overlapping windows (parallel specs): a guess among `candidates`. */
  | 'parallel'
  /** Between a spec's end and the next start: the spec before. */
  | 'gap'
  /** Before the first spec or after the last: the suite's setup (or teardown). */
  | 'setup';

export interface Placement {
  test: TestId;
  basis: PlacementBasis;
  /** Whether the window alone decides (window, or setup inside a suite node's window). */
  certain: boolean;
  /** Parallel specs: every spec whose window held the request, the likeliest first. */
  candidates?: TestId[];
}

export interface RequestPlacer {
  /** Places one server time (epoch ms). */
  at(time: number): Placement;
  /** Places a request by the moment the server received it. */
  entry(entry: Pick<RecordEntry, 'requestReceivedTimestamp'>): Placement;
  /** Whether windows overlap beyond nesting: placements may be guesses. */
  readonly parallel: boolean;
  /** The windows are exact (per-spec times), not rebuilt from order and durations. */
  readonly exact: boolean;
}

/** How long after a spec's end a request of its in-process controllers is still taken for it. */
export const GAP_MS = 2000;

/** The id naming a run's suite setup when no node of the run stands for it. */
export function suiteSetupId(run: Pick<RunResult, 'cases'>): TestId {
  return testId(run.cases.find((c) => c.suite)?.suite ?? '', SUITE_SETUP_NAME);
}

/** Pure: a placer for the requests of one run; undefined when the run has no spec to place in. */
export function requestPlacer(run: RunResult): RequestPlacer | undefined {
  const w = specWindows(run);
  if (!w || w.windows.length === 0) return undefined;
  return placerOf(w, suiteSetupId(run));
}

/**
 * A parent test around its subtests (`TestX` around `TestX/case`), or a `Test_` function around the
 * whole suite it runs, is setup, not a spec beside them. A long spec merely overlapping shorter
 * ones in parallel is neither.
 */
function isParent(s: SpecWindow, all: readonly SpecWindow[]): boolean {
  const inside = (o: SpecWindow) => o !== s && o.test !== s.test && s.start <= o.start && o.end <= s.end;
  const held = all.filter(inside);
  if (held.length === 0) return false;
  if (held.some((o) => o.test.startsWith(`${s.test}/`))) return true;
  const others = all.filter((o) => o !== s && o.test !== s.test && !o.suiteNode);
  return others.length > 1 && others.every(inside);
}

export function placerOf(w: Windows, setupId: TestId): RequestPlacer {
  const parents = w.windows.filter((s) => isParent(s, w.windows));
  const leaves = w.windows.filter((s) => !parents.includes(s));
  const specs = leaves.filter((s) => !s.suiteNode);
  const suiteNodes = leaves.filter((s) => s.suiteNode);
  const firstStart = Math.min(...(specs.length ? specs : leaves).map((s) => s.start));
  const lastEnd = Math.max(...(specs.length ? specs : leaves).map((s) => s.end));
  const parallel = leaves.some((s, i) => leaves.some((o, j) => j !== i && o.start < s.end && s.start < o.end));

  const setup = (time: number): Placement => {
    const parent = parents.find((s) => s.start <= time && time <= s.end);
    if (parent) return { test: parent.test, basis: 'setup', certain: true };
    const before = time < firstStart;
    // The suite node that ran on that side of the specs: BeforeSuite before them, AfterSuite after.
    const node = suiteNodes.filter((s) => (before ? s.start <= firstStart : s.end >= lastEnd)).sort((a, b) => (before ? a.start - b.start : b.end - a.end))[0];
    if (node) return { test: node.test, basis: 'setup', certain: node.start <= time && time <= node.end };
    return { test: setupId, basis: 'setup', certain: false };
  };

  const at = (time: number): Placement => {
    const holding = leaves.filter((s) => s.start <= time && time <= s.end);
    if (holding.length === 1) {
      const only = holding[0] as SpecWindow;
      return only.suiteNode ? { test: only.test, basis: 'setup', certain: true } : { test: only.test, basis: 'window', certain: true };
    }
    if (holding.length > 1) {
      // The latest to start before the moment is the likeliest sender.
      const ordered = [...holding].sort((a, b) => b.start - a.start);
      const candidates = [...new Set(ordered.map((s) => s.test))];
      if (candidates.length === 1) return { test: candidates[0] as TestId, basis: 'window', certain: true };
      return { test: candidates[0] as TestId, basis: 'parallel', certain: false, candidates };
    }
    if (time < firstStart || time > lastEnd + GAP_MS) return setup(time);
    // Between windows: the spec that ended last before the moment.
    const previous = leaves.filter((s) => s.end < time).sort((a, b) => b.end - a.end)[0];
    if (previous && time - previous.end <= GAP_MS) return { test: previous.test, basis: 'gap', certain: false };
    const parent = parents.find((s) => s.start <= time && time <= s.end);
    if (parent) return { test: parent.test, basis: 'setup', certain: true };
    return previous ? { test: previous.test, basis: 'gap', certain: false } : setup(time);
  };

  return { at, entry: (e) => at(e.requestReceivedTimestamp), parallel, exact: w.precision === 'exact' };
}
