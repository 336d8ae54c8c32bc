// The one line a person sees per run: `run 3/5 seed 1712 - 2 failed - 41s`. The run's output
// itself goes to the presenter's groups (folded in Actions, shown in verbose mode on a terminal).

import type { RunResult } from '../model.ts';
import { formatDuration } from './text.ts';

export interface RunPosition {
  /** 1-based position among the runs (or the probes) of this hunt. */
  index: number;
  total: number;
  /** Replaces `run <index>/<total>` (e.g. `probe 2 (polluter: ...)`). */
  label?: string;
}

/** `run 3/5 seed 1712 - 2 failed - 41s`, after ingestion counted the failures. */
export function formatRunLine(run: Pick<RunResult, 'seed' | 'probe' | 'cases' | 'reports' | 'durationMs' | 'timedOut' | 'exitCode' | 'signal' | 'interrupted'>, position: RunPosition): string {
  const parts = [`${position.label ?? `${run.probe ? 'probe' : 'run'} ${position.index}/${position.total}`} seed ${run.seed}`];
  if (run.interrupted) parts.push(`interrupted by ${run.interrupted}, not judged`);
  else if (run.exitCode === null && !run.signal && !run.timedOut) parts.push('did not run');
  else if (run.reports.length === 0) parts.push('no report');
  else parts.push(`${run.cases.filter((testCase) => testCase.status === 'failed').length} failed`);
  parts.push(formatDuration(run.durationMs));
  if (run.timedOut) parts.push('timed out');
  return parts.join(' - ');
}
