// How progress reaches a person: plain lines on a terminal, collapsible groups in the Actions
// log. The pipeline talks to a Presenter and never knows which.

import * as core from '@actions/core';

export interface Presenter {
  /** A line of progress ("run 3/5 seed 1712 - 2 failed - 41s"). */
  info(line: string): void;
  /** Something went wrong but the hunt goes on. */
  warn(line: string): void;
  /** Wraps noisy work (one run's output) under a title; the group's own output goes to `detail`. */
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
  /** Test output and other detail: shown in verbose mode or inside an Actions group. */
  detail(line: string): void;
}

export function terminalPresenter(verbose: boolean, write: (text: string) => void = (text) => process.stderr.write(text)): Presenter {
  return {
    info: (line) => write(`${line}\n`),
    warn: (line) => write(`warning: ${line}\n`),
    group: (_title, work) => work(),
    detail: (line) => {
      if (verbose) write(`  | ${line}\n`);
    },
  };
}

export function actionsPresenter(): Presenter {
  return {
    info: (line) => core.info(line),
    warn: (line) => core.warning(line),
    group: (title, work) => core.group(title, work),
    detail: (line) => core.info(line),
  };
}

/** Collects everything, for tests. */
export function recordingPresenter(): Presenter & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(line),
    warn: (line) => lines.push(`warning: ${line}`),
    group: async (title, work) => {
      lines.push(`::group::${title}`);
      try {
        return await work();
      } finally {
        lines.push('::endgroup::');
      }
    },
    detail: () => {},
  };
}
