// Publishing a finished Report where people look: the sticky PR comment (and the proven fixes as a
// review of suggestions on the PR's lines) or the nightly tracking issue. Reads only the Report and the event; never recomputes analysis. Never throws: the
// report is already on disk and in the job summary, so a GitHub error becomes a line saying
// what happened and what to do, and the step's outcome follows fail-on, not the publishing.

import type { Report, TestId } from '../model.ts';
import { findingTests } from '../report/findings.ts';
import { GITHUB_COMMENT_LIMIT, renderMarkdown, type MarkdownOptions } from '../report/markdown.ts';
import { createClient, statusOf, tokenIdentity, type GitHubClient } from './client.ts';
import { commentHeader, commentMarker, earlierSection, nextDigest, shouldComment, upsertStickyComment, type CommentMode } from './comment.ts';
import type { GitHubContext, Repository } from './context.ts';
import { hasMarkerOfKind, readDigest } from './digest.ts';
import { publishSuggestions } from './review.ts';
import { suggestionMarker } from './suggestions.ts';
import { addNight, asHistory, historyNote, type NightlyHistory } from './history.ts';
import { findTrackingIssue, trackingMarker, writeTrackingIssue } from './tracking.ts';

/** Where the action publishes: the PR's sticky comment, the nightly tracking issue, or only the job summary. */
export type PublishTarget = 'pull-request' | 'tracking-issue' | 'summary';

/** How and where to publish, parsed from the action's inputs and environment by settings.ts. */
export interface PublishSettings {
  token: string;
  context: GitHubContext;
  target: PublishTarget;
  comment: CommentMode;
  /** Tells apart two kubeflake comments of the same job (matrix legs). */
  commentKey: string;
  trackingLabel: string;
  cleanNightsToClose: number;
}

/** The PR an earlier run recorded in its results directory (untrusted: a fork's job wrote it). */
export interface RecordedPullRequest {
  number: number;
  headSha: string;
}

export interface PublishInput {
  report: Report;
  settings: PublishSettings;
  /** Markdown options shared with the job summary (links, quarantine). */
  markdown: MarkdownOptions;
  /** mode: report in a workflow_run: the PR the artifact says it tested. */
  recorded?: RecordedPullRequest;
  /** Now, as an ISO timestamp (the nightly date and the comment's "earlier" entry). */
  now: string;
  log: (line: string) => void;
  /** Injected in tests; built from the settings otherwise. */
  client?: GitHubClient;
}

export interface PublishOutcome {
  commentUrl?: string;
  /** The review of suggestions this run created (proven fixes on the PR's lines). */
  reviewUrl?: string;
  issueUrl?: string;
  /** Lines for the log and the job summary: what was published, or why not and what to do. */
  notes: string[];
  /** The nightly history, when a tracking issue was read or written. */
  history?: NightlyHistory;
  /** What the nightly history says of each finding of a PR run ("known flaky since ...", "new ..."). */
  historyNotes?: Map<TestId, string>;
}

export const READ_ONLY_HINT =
  'kubeflake could not write to this pull request: the token is read-only (a fork or Dependabot pull request). ' +
  'The report is in this job summary; upload the results directory as an artifact and publish it from a `workflow_run` workflow with `mode: report` ' +
  '(see examples/workflows/fork-publish.yml in the kubeflake repository).';

export async function publish(input: PublishInput): Promise<PublishOutcome> {
  const { settings, log } = input;
  const { repository } = settings.context;
  const outcome: PublishOutcome = { notes: [] };
  if (settings.target === 'summary') return outcome;
  if (!repository) {
    outcome.notes.push('kubeflake published only the job summary: GITHUB_REPOSITORY is not set, so there is no repository to comment on.');
    return outcome;
  }
  if (!settings.token) {
    outcome.notes.push('kubeflake published only the job summary: the github-token input is empty.');
    return outcome;
  }
  const client = input.client ?? createClient({ token: settings.token, apiUrl: settings.context.apiUrl, log });
  try {
    const identity = await tokenIdentity(client);
    if (settings.target === 'tracking-issue') await publishNightly(client, repository, identity, input, outcome);
    else await publishPullRequest(client, repository, identity, input, outcome);
  } catch (error) {
    outcome.notes.push(explain(error));
  }
  return outcome;
}

function explain(error: unknown): string {
  const status = statusOf(error);
  const message = (error as Error)?.message ?? String(error);
  if (status === 403 && /not accessible by integration|read-only|permission/i.test(message)) return READ_ONLY_HINT;
  if (status === 403 || status === 401) return `kubeflake could not publish: GitHub answered ${status} (${message}). Give the job \`permissions: pull-requests: write, issues: write\` or a token that has them; the report is in this job summary.`;
  if (status === 422) return `kubeflake could not publish: GitHub refused the body (${message}); the report is in this job summary and the results directory.`;
  if (status !== undefined) return `kubeflake could not publish: GitHub answered ${status} (${message}) after retries; the report is in this job summary and the results directory.`;
  return `kubeflake could not publish: ${message}; the report is in this job summary and the results directory.`;
}

/** The PR this run reports on: from the event, or for workflow_run from the artifact cross-checked against the API. */
async function pullRequestNumber(client: GitHubClient, repository: Repository, input: PublishInput, outcome: PublishOutcome): Promise<number | undefined> {
  const { event } = input.settings.context;
  if (event.pullRequest) return event.pullRequest.number;
  const run = event.workflowRun;
  if (!run) return undefined;
  const candidate = run.pullRequests[0] ?? input.recorded?.number;
  if (!candidate) {
    outcome.notes.push('kubeflake found no pull request for this workflow_run: the results directory recorded none (was the first workflow a pull_request run?).');
    return undefined;
  }
  // The artifact came from a fork's job: trust its PR number only if GitHub says that PR's head is the commit the run tested.
  const { data: pr } = await client.rest.pulls.get({ ...repository, pull_number: candidate });
  if (pr.head.sha !== run.headSha) {
    outcome.notes.push(`kubeflake did not comment: the results say PR #${candidate}, but that PR's head is ${pr.head.sha.slice(0, 7)}, not ${run.headSha.slice(0, 7)} which the run tested.`);
    return undefined;
  }
  return candidate;
}

async function readNightlyHistory(client: GitHubClient, repository: Repository, identity: string, label: string): Promise<NightlyHistory | undefined> {
  const issues = await client.paginate(client.rest.issues.listForRepo, { ...repository, labels: label, state: 'all', per_page: 100 });
  const own = issues.filter((i) => !i.pull_request && i.user?.login === identity && hasMarkerOfKind(i.body, 'tracking'));
  if (!own.length) return undefined;
  // One tracking issue per nightly workflow: a test is known if any of them knows it.
  const histories = own.map((i) => asHistory(readDigest(i.body)));
  return { v: 1, nights: histories.flatMap((h) => h.nights), tests: histories.flatMap((h) => h.tests) };
}

async function publishPullRequest(client: GitHubClient, repository: Repository, identity: string, input: PublishInput, outcome: PublishOutcome): Promise<void> {
  const { settings, report } = input;
  if (settings.comment === 'off') return;
  const number = await pullRequestNumber(client, repository, input, outcome);
  if (!number) return;
  const history = await readNightlyHistory(client, repository, identity, settings.trackingLabel).catch(() => undefined);
  outcome.history = history;
  const notes = new Map<TestId, string>(input.markdown.notes ?? []);
  outcome.historyNotes = new Map();
  for (const test of findingTests(report)) {
    const note = historyNote(history, test);
    if (note) {
      notes.set(test.id, note);
      outcome.historyNotes.set(test.id, note);
    }
  }
  const { context } = settings;
  const run = { sha: context.event.pullRequest?.headSha ?? context.event.workflowRun?.headSha ?? context.sha, runId: context.runId, at: input.now.slice(0, 16).replace('T', ' ') + ' UTC' };
  const marker = commentMarker(context.workflow, context.job, settings.commentKey);
  const result = await upsertStickyComment(client, { repository, pullNumber: number, marker, identity }, (previous, existing) => {
    if (!shouldComment(settings.comment, report, existing, previous)) return undefined;
    const digest = nextDigest(previous, report, run);
    const header = commentHeader(marker, digest);
    const earlier = earlierSection(digest, run);
    const blocks = [...(input.markdown.blocks ?? []), ...(earlier ? [earlier] : [])];
    return header + renderMarkdown(report, { ...input.markdown, notes, blocks, maxLength: GITHUB_COMMENT_LIMIT - header.length });
  });
  outcome.commentUrl = result.url;
  if (result.action !== 'unchanged') outcome.notes.push(`kubeflake ${result.action} the pull request comment: ${result.url}${result.removedDuplicates ? ` (removed ${result.removedDuplicates} duplicate${result.removedDuplicates === 1 ? '' : 's'} a concurrent run made)` : ''}`);
  await publishReview(client, { repository, pullNumber: number, headSha: run.sha, marker: suggestionMarker(context.workflow, context.job, settings.commentKey), identity }, report, outcome);
}

/** The review of suggestions, after the sticky comment: its failure is a note, and the comment stands. */
async function publishReview(client: GitHubClient, target: Parameters<typeof publishSuggestions>[1], report: Report, outcome: PublishOutcome): Promise<void> {
  try {
    const review = await publishSuggestions(client, target, report);
    outcome.reviewUrl = review.url;
    const said = [
      review.created ? `posted ${review.created} in a review: ${review.url}` : '',
      review.updated ? `updated ${review.updated}` : '',
      review.removed ? `removed ${review.removed} no longer offered or outdated` : '',
    ].filter(Boolean);
    if (said.length) outcome.notes.push(`kubeflake suggestions (proven fixes on the pull request's lines): ${said.join('; ')}.`);
    for (const kept of review.kept) outcome.notes.push(`kubeflake left the proven fix at ${kept.file}:${kept.line} in the comment's diff block, not as a suggestion: ${kept.why}.`);
  } catch (error) {
    outcome.notes.push(explainReview(error));
  }
}

function explainReview(error: unknown): string {
  const status = statusOf(error);
  const message = (error as Error)?.message ?? String(error);
  const where = 'the patches are in the diff blocks of this job summary and in the results directory (`kubeflake fix RESULTS --apply`)';
  if (status === 403 || status === 404) return `kubeflake could not post its proven fixes as review suggestions: the token cannot write reviews on this pull request (a fork or Dependabot pull request, or no \`permissions: pull-requests: write\`); ${where}.`;
  return `kubeflake could not post its proven fixes as review suggestions: ${status !== undefined ? `GitHub answered ${status} (${message})` : message}; ${where}.`;
}

async function publishNightly(client: GitHubClient, repository: Repository, identity: string, input: PublishInput, outcome: PublishOutcome): Promise<void> {
  const { settings, report } = input;
  const { context } = settings;
  const marker = trackingMarker(repository, context.workflow, settings.trackingLabel);
  const issue = await findTrackingIssue(client, repository, settings.trackingLabel, marker, identity);
  const previous = asHistory(readDigest(issue?.body));
  const history = addNight(previous, report, { date: input.now.slice(0, 10), sha: context.sha, runId: context.runId });
  const runUrl = context.runId ? `${context.serverUrl}/${repository.owner}/${repository.repo}/actions/runs/${context.runId}` : undefined;
  const result = await writeTrackingIssue(client, repository, issue, history, {
    label: settings.trackingLabel,
    marker,
    title: `kubeflake: flaky tests in ${context.workflow || 'the nightly run'}`,
    workflow: context.workflow,
    cleanNightsToClose: settings.cleanNightsToClose,
    runUrl,
  });
  outcome.issueUrl = result.url;
  outcome.history = history;
  const said = { create: 'opened', update: 'updated', close: 'closed', reopen: 'reopened', none: '' }[result.action];
  if (said) outcome.notes.push(`kubeflake ${said} the tracking issue: ${result.url}`);
}
