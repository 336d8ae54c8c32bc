// Action face: action.yml inputs -> ActionSettings -> runAction (hunt or rebuild, then the job
// summary, annotations, PR comment or tracking issue, outputs). Every input is read in settings.ts.

import * as core from '@actions/core';
import { explainFailure, parseActionSettings, type ActionSettings } from './settings.ts';
import { stopChildrenOnExit } from './exec.ts';
import { runAction, type ActionsRunner } from './action.ts';

/** The runner's side of the step, as @actions/core gives it. */
const runner: ActionsRunner = {
  info: (line) => core.info(line),
  warning: (message) => core.warning(message),
  annotate: (level, message, properties) => (level === 'failure' ? core.error : level === 'warning' ? core.warning : core.notice)(message, properties),
  appendSummary: async (markdown) => void (await core.summary.addRaw(markdown).write()),
  setOutput: (name, value) => core.setOutput(name, value),
  setFailed: (message) => core.setFailed(message),
  saveState: (name, value) => core.saveState(name, value),
};

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let settings: ActionSettings | undefined;
  try {
    settings = parseActionSettings((name) => core.getInput(name), env);
    await runAction(settings, runner);
  } catch (error) {
    fail(error, settings?.verbose ?? env.RUNNER_DEBUG === '1');
  }
}

/** A user's mistake gets its message; a bug says so, with the stack when debugging (settings.ts explainFailure). */
function fail(error: unknown, verbose: boolean): void {
  const { message, detail } = explainFailure(error, verbose, 'Re-run the job with debug logging (ACTIONS_STEP_DEBUG) to see the stack.');
  core.setFailed(message);
  if (detail && verbose) core.error(detail);
  else if (detail) core.info(detail);
}

// GitHub cancels a job with SIGINT, then SIGTERM 7.5 s later: the hunt winds down within that and writes its report.
stopChildrenOnExit({ windDownMs: 9_000 });
await run();
