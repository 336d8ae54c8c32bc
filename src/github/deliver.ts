// Delivering a finished Report on a GitHub Actions step: quarantine applied, annotations, the job
// summary, the PR comment or tracking issue, the step's outputs and its outcome. The runner's side
// (@actions/core) is behind `ActionsStep`, so this is tested by recording what it was told.

import { isAbsolute, join } from 'node:path';
import type { Report } from '../model.ts';
import { historyNotesSection, renderSummary, type MarkdownOptions } from '../report/markdown.ts';
import { renderAnnotations, selectAnnotations, type AnnotationLevel } from '../report/annotations.ts';
import { countVerdicts, findingTests } from '../report/findings.ts';
import { mdText } from '../report/text.ts';
import { FINDING_VERDICTS } from '../verdict-table.ts';
import { applyQuarantine, type QuarantineEntry } from '../quarantine.ts';
import { files } from '../results.ts';
import { withRepositoryPaths } from './paths.ts';
import { publish, type PublishSettings, type RecordedPullRequest } from './publish.ts';

/** What a step can tell the runner (main.ts gives @actions/core). */
export interface ActionsStep {
  info(line: string): void;
  warning(message: string): void;
  annotate(level: AnnotationLevel, message: string, properties: { title: string; file?: string; startLine?: number }): void;
  /** Appends markdown to the job summary; throws outside Actions (no GITHUB_STEP_SUMMARY). */
  appendSummary(markdown: string): Promise<void>;
  setOutput(name: string, value: string): void;
  setFailed(message: string): void;
}

export type FailOn = 'findings' | 'error' | 'never';

export interface DeliverySettings {
  /** Where report.json, report.md and report.html were written (named in the outputs). */
  outputDir: string;
  failOn: FailOn;
  quarantine: QuarantineEntry[];
  publish: PublishSettings;
}

export interface Delivery {
  report: Report;
  /** The results directories the report was built from (an output). */
  dirs: string[];
  /** mode: report in a workflow_run: the PR the results directory recorded. */
  recorded?: RecordedPullRequest;
  /** Now, as an ISO timestamp (quarantine expiry, the nightly date). */
  now: string;
}

export async function deliverReport(settings: DeliverySettings, delivery: Delivery, step: ActionsStep): Promise<void> {
  const { context } = settings.publish;
  const report = withRepositoryPaths(delivery.report, context.workspace);
  const quarantine = applyQuarantine(report, settings.quarantine, delivery.now.slice(0, 10));
  for (const entry of quarantine.expired) step.warning(`quarantine entry "${entry.test}" (${entry.source}) expired on ${entry.expires}: its failures count again; fix the test or extend the date.`);

  const { shown, omitted } = selectAnnotations(renderAnnotations(report));
  for (const note of shown) {
    // GitHub places an annotation only at a repository path; an absolute one would point nowhere.
    step.annotate(note.level, note.message, { title: note.title, ...(note.file && !isAbsolute(note.file) ? { file: note.file, startLine: note.line } : {}) });
  }
  if (omitted) step.info(`kubeflake: ${omitted} annotations left out (GitHub shows 10 of each level a step); all findings are in the job summary.`);

  const repository = context.repository ? `${context.repository.owner}/${context.repository.repo}` : undefined;
  const markdown: MarkdownOptions = {
    quarantined: new Map(quarantine.quarantined.map(({ test, entry }) => [test.id, entry.reason])),
    ...(repository && context.sha ? { source: { serverUrl: context.serverUrl, repository, sha: context.event.pullRequest?.headSha ?? context.sha } } : {}),
    ...(repository && context.runId ? { artifactUrl: `${context.serverUrl}/${repository}/actions/runs/${context.runId}` } : {}),
  };
  const summary = async (text: string): Promise<void> => {
    try {
      await step.appendSummary(text);
    } catch (error) {
      // No GITHUB_STEP_SUMMARY (run outside Actions): the log has it instead.
      step.info(`kubeflake: could not write the job summary (${(error as Error).message})`);
    }
  };
  // The summary first: whatever happens to publishing, the report is on the run's page.
  await summary(renderSummary(report, markdown));

  const outcome = await publish({ report, settings: settings.publish, markdown, recorded: delivery.recorded, now: delivery.now, log: (line) => step.info(line) });
  for (const note of outcome.notes) step.info(note);
  // Written after the report, so a publishing failure never costs the summary; the PR comment has these inline.
  const known = outcome.historyNotes ? historyNotesSection(report, outcome.historyNotes) : undefined;
  if (known) await summary(`\n${known}\n`);
  if (outcome.notes.length) await summary(`\n${outcome.notes.map((n) => `> ${mdText(n)}`).join('\n>\n')}\n`);

  const counts = countVerdicts(report);
  const outputs: Record<string, string> = {
    verdict: report.verdict,
    findings: String(findingTests(report).length),
    // One output a finding verdict, named after it (action.yml lists them).
    ...Object.fromEntries(FINDING_VERDICTS.map((verdict) => [verdict, String(counts[verdict])])),
    quarantined: String(quarantine.quarantined.length),
    'leaked-objects': String(report.leaks.length),
    'comment-url': outcome.commentUrl ?? '',
    'issue-url': outcome.issueUrl ?? '',
    report: join(settings.outputDir, files.report),
    'report-markdown': join(settings.outputDir, files.markdown),
    'report-html': join(settings.outputDir, files.html),
    results: delivery.dirs.join('\n'),
  };
  for (const [name, value] of Object.entries(outputs)) step.setOutput(name, value);

  const failing = quarantine.unquarantined.length;
  if (report.verdict === 'error' && settings.failOn !== 'never') step.setFailed(`kubeflake could not finish: ${(report.errors ?? []).join('; ')}`);
  else if (failing && settings.failOn === 'findings') step.setFailed(`kubeflake found ${failing} unstable test(s)${quarantine.quarantined.length ? ` (and ${quarantine.quarantined.length} quarantined)` : ''}; see the job summary`);
}
