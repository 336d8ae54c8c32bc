// Action face: action.yml inputs -> ActionSettings -> hunt (or rebuild) -> job summary,
// annotations, PR comment or tracking issue, outputs. Every input is read in settings.ts.

import * as core from '@actions/core';
import { existsSync, statSync } from 'node:fs';
import { glob, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { SettingsError, explainFailure, parseActionSettings, type ActionSettings } from './settings.ts';
import { hunt, rebuildReport, writeReportFiles } from './pipeline.ts';
import { interruption, stopChildrenOnExit } from './exec.ts';
import { actionsPresenter } from './presenter.ts';
import type { Report } from './model.ts';
import { historyNotesSection, renderSummary, type MarkdownOptions } from './report/markdown.ts';
import { renderAnnotations, selectAnnotations } from './report/annotations.ts';
import { countVerdicts, findingTests } from './report/findings.ts';
import { applyQuarantine } from './quarantine.ts';
import { files } from './results.ts';
import { restoreControlPlane, saveControlPlane } from './control-plane-cache.ts';
import { withRepositoryPaths } from './github/paths.ts';
import { publish, type RecordedPullRequest } from './github/publish.ts';
import { mdText } from './report/text.ts';

/** Where a pull_request run records its PR, so a workflow_run publisher can find it (as data only). */
export const RECORDED_EVENT_FILE = files.githubEvent;

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let settings: ActionSettings | undefined;
  try {
    settings = parseActionSettings((name) => core.getInput(name), env);
    const { report, dirs } = await produceReport(settings);
    const signal = interruption();
    if (signal) {
      // A cancelled job: the report of what finished is in the results folder and the summary; nothing is published.
      await writeSummary(renderSummary(report, {}));
      core.setFailed(`kubeflake was interrupted (${signal}): ${(report.errors ?? []).join('; ')}`);
      return;
    }
    await deliver(settings, report, dirs);
  } catch (error) {
    fail(error, settings?.verbose ?? env.RUNNER_DEBUG === '1');
  }
}

/** The hunt's report, or (mode report) the one rebuilt from the results directories it names. */
async function produceReport(settings: ActionSettings): Promise<{ report: Report; dirs: string[] }> {
  if (settings.hunt && settings.probeAfterMerge) {
    // The merge job of matrix shards: their planned runs, probed here, in this job's cluster.
    const dirs = await resultsDirectories(settings.resultsPatterns, settings.publish.context.workspace);
    settings.hunt.mergeFrom = dirs;
    core.saveState('results', settings.hunt.resultsDir);
    const binaries = await restoreControlPlane(settings.hunt);
    const report = await hunt(settings.hunt, actionsPresenter());
    await saveControlPlane(binaries);
    return { report, dirs };
  }
  if (settings.hunt) {
    // The post step (src/post.ts) finds a kind cluster left behind through the results folder.
    core.saveState('results', settings.hunt.resultsDir);
    const binaries = await restoreControlPlane(settings.hunt);
    const report = await hunt(settings.hunt, actionsPresenter());
    await saveControlPlane(binaries);
    const pr = settings.publish.context.event.pullRequest;
    if (pr) await writeFile(join(settings.hunt.resultsDir, RECORDED_EVENT_FILE), JSON.stringify({ pullRequest: { number: pr.number, headSha: pr.headSha } }) + '\n');
    return { report, dirs: [settings.hunt.resultsDir] };
  }
  const dirs = await resultsDirectories(settings.resultsPatterns, settings.publish.context.workspace);
  core.info(`kubeflake: rebuilding the report from ${dirs.join(', ')}`);
  const report = await rebuildReport(dirs);
  await mkdir(settings.outputDir, { recursive: true });
  await writeReportFiles(report, settings.outputDir);
  return { report, dirs };
}

/** Expands the results input's globs to directories; a pattern that matches none is an error naming it. */
export async function resultsDirectories(patterns: string[], workspace: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const pattern of patterns) {
    const matches: string[] = [];
    if (!/[*?[{]/.test(pattern)) matches.push(resolve(workspace, pattern));
    else for await (const match of glob(pattern, { cwd: workspace })) matches.push(isAbsolute(match) ? match : resolve(workspace, match));
    const found = matches.filter((dir) => existsSync(dir) && statSync(dir).isDirectory()).sort();
    if (!found.length) {
      throw new SettingsError(`results "${pattern}" names no directory under ${workspace}: did the download-artifact step run, and into which path?`);
    }
    dirs.push(...found.filter((dir) => !dirs.includes(dir)));
  }
  return dirs;
}

/** The PR a results directory recorded; a fork wrote it, so only a well-formed number and SHA are taken. */
async function recordedPullRequest(dirs: string[]): Promise<RecordedPullRequest | undefined> {
  for (const dir of dirs) {
    const text = await readFile(join(dir, RECORDED_EVENT_FILE), 'utf8').catch(() => undefined);
    if (!text) continue;
    try {
      const pr = (JSON.parse(text) as { pullRequest?: { number?: unknown; headSha?: unknown } }).pullRequest;
      if (Number.isSafeInteger(pr?.number) && (pr!.number as number) > 0 && typeof pr?.headSha === 'string' && /^[0-9a-f]{40}$/.test(pr.headSha)) {
        return { number: pr.number as number, headSha: pr.headSha };
      }
    } catch {
      // Not JSON: treated as no record.
    }
  }
  return undefined;
}

async function deliver(settings: ActionSettings, found: Report, dirs: string[]): Promise<void> {
  const { context } = settings.publish;
  const report = withRepositoryPaths(found, context.workspace);
  const today = new Date().toISOString();
  const quarantine = applyQuarantine(report, settings.quarantine, today.slice(0, 10));
  for (const entry of quarantine.expired) core.warning(`quarantine entry "${entry.test}" (${entry.source}) expired on ${entry.expires}: its failures count again; fix the test or extend the date.`);

  const { shown, omitted } = selectAnnotations(renderAnnotations(report));
  for (const note of shown) {
    const properties = { title: note.title, ...(note.file && !isAbsolute(note.file) ? { file: note.file, startLine: note.line } : {}) };
    if (note.level === 'failure') core.error(note.message, properties);
    else if (note.level === 'warning') core.warning(note.message, properties);
    else core.notice(note.message, properties);
  }
  if (omitted) core.info(`kubeflake: ${omitted} annotations left out (GitHub shows 10 of each level a step); all findings are in the job summary.`);

  const repository = context.repository ? `${context.repository.owner}/${context.repository.repo}` : undefined;
  const markdown: MarkdownOptions = {
    quarantined: new Map(quarantine.quarantined.map(({ test, entry }) => [test.id, entry.reason])),
    ...(repository && context.sha ? { source: { serverUrl: context.serverUrl, repository, sha: context.event.pullRequest?.headSha ?? context.sha } } : {}),
    ...(repository && context.runId ? { artifactUrl: `${context.serverUrl}/${repository}/actions/runs/${context.runId}` } : {}),
  };
  // The summary first: whatever happens to publishing, the report is on the run's page.
  await writeSummary(renderSummary(report, markdown));

  const outcome = await publish({
    report,
    settings: settings.publish,
    markdown,
    recorded: settings.mode === 'report' ? await recordedPullRequest(dirs) : undefined,
    now: today,
    log: (line) => core.info(line),
  });
  for (const note of outcome.notes) core.info(note);
  // Written after the report, so a publishing failure never costs the summary; the PR comment has these inline.
  const known = outcome.historyNotes ? historyNotesSection(report, outcome.historyNotes) : undefined;
  if (known) await writeSummary(`\n${known}\n`);
  if (outcome.notes.length) await writeSummary(`\n${outcome.notes.map((n) => `> ${mdText(n)}`).join('\n>\n')}\n`);

  const counts = countVerdicts(report);
  core.setOutput('verdict', report.verdict);
  core.setOutput('findings', String(findingTests(report).length));
  for (const verdict of ['order-dependent', 'brittle', 'broken', 'flaky'] as const) core.setOutput(verdict, String(counts[verdict]));
  core.setOutput('quarantined', String(quarantine.quarantined.length));
  core.setOutput('leaked-objects', String(report.leaks.length));
  core.setOutput('comment-url', outcome.commentUrl ?? '');
  core.setOutput('issue-url', outcome.issueUrl ?? '');
  core.setOutput('report', join(settings.outputDir, files.report));
  core.setOutput('report-markdown', join(settings.outputDir, files.markdown));
  core.setOutput('report-html', join(settings.outputDir, files.html));
  core.setOutput('results', dirs.join('\n'));

  const failing = quarantine.unquarantined.length;
  if (report.verdict === 'error' && settings.failOn !== 'never') core.setFailed(`kubeflake could not finish: ${(report.errors ?? []).join('; ')}`);
  else if (failing && settings.failOn === 'findings') core.setFailed(`kubeflake found ${failing} unstable test(s)${quarantine.quarantined.length ? ` (and ${quarantine.quarantined.length} quarantined)` : ''}; see the job summary`);
}

async function writeSummary(text: string): Promise<void> {
  try {
    await core.summary.addRaw(text).write();
  } catch (error) {
    // No GITHUB_STEP_SUMMARY (run outside Actions): the log has it instead.
    core.info(`kubeflake: could not write the job summary (${(error as Error).message})`);
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
