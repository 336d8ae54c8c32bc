// The action's work once its settings are parsed: produce the Report (hunt, probe the shards'
// runs after a merge, or rebuild it from results directories), then deliver it on the step
// (github/deliver.ts). main.ts, the face, reads the inputs and calls `runAction`.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionSettings } from './settings.ts';
import type { Report } from './model.ts';
import { hunt, rebuildReport, writeReportFiles } from './pipeline.ts';
import { actionsPresenter } from './presenter.ts';
import { files } from './results.ts';
import { restoreControlPlane, saveControlPlane } from './control-plane-cache.ts';
import { deliverReport, type ActionsStep } from './github/deliver.ts';
import type { RecordedPullRequest } from './github/publish.ts';
import { interruption } from './exec.ts';
import { renderSummary } from './report/markdown.ts';

/** Where a pull_request run records its PR, so a workflow_run publisher can find it (as data only). */
export const RECORDED_EVENT_FILE = files.githubEvent;

/** The step as the action sees it: what delivery tells it, and the state the post step reads. */
export interface ActionsRunner extends ActionsStep {
  saveState(name: string, value: string): void;
}

export async function runAction(settings: ActionSettings, runner: ActionsRunner): Promise<void> {
  const { report, dirs } = await produceReport(settings, runner);
  const signal = interruption();
  if (signal) {
    // A cancelled job: the report of what finished is in the results folder and the summary; nothing is published.
    await runner.appendSummary(renderSummary(report));
    runner.setFailed(`kubeflake was interrupted (${signal}): ${(report.errors ?? []).join('; ')}`);
    return;
  }
  const recorded = settings.mode === 'report' ? await recordedPullRequest(dirs) : undefined;
  await deliverReport(settings, { report, dirs, recorded, now: new Date().toISOString() }, runner);
}

/** The hunt's report, or (mode report) the one rebuilt from the results directories it names. */
async function produceReport(settings: ActionSettings, runner: ActionsRunner): Promise<{ report: Report; dirs: string[] }> {
  if (settings.hunt) {
    // The post step (src/post.ts) finds a kind cluster left behind through the results folder.
    runner.saveState('results', settings.hunt.resultsDir);
    const binaries = await restoreControlPlane(settings.hunt);
    const report = await hunt(settings.hunt, actionsPresenter());
    await saveControlPlane(binaries);
    // The merge job of shards reports on their directories; a hunt of its own on its results.
    if (settings.probeAfterMerge) return { report, dirs: settings.resultsDirs };
    const pr = settings.publish.context.event.pullRequest;
    if (pr) await writeFile(join(settings.hunt.resultsDir, RECORDED_EVENT_FILE), JSON.stringify({ pullRequest: { number: pr.number, headSha: pr.headSha } }) + '\n');
    return { report, dirs: [settings.hunt.resultsDir] };
  }
  runner.info(`kubeflake: rebuilding the report from ${settings.resultsDirs.join(', ')}`);
  const report = await rebuildReport(settings.resultsDirs);
  await mkdir(settings.outputDir, { recursive: true });
  await writeReportFiles(report, settings.outputDir);
  return { report, dirs: settings.resultsDirs };
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
