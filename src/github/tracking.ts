// The nightly tracking issue: one per (repository, workflow, label), found by marker, author
// and label; its body holds the flake history as a digest and shows the top offenders.

import { mdCode, mdText, truncate } from '../report/text.ts';
import { GITHUB_COMMENT_LIMIT } from '../report/markdown.ts';
import type { GitHubClient } from './client.ts';
import type { Repository } from './context.ts';
import { digestLine, hasMarker, markerLine, readDigest } from './digest.ts';
import { asHistory, cleanStreak, decideTracking, describeFlakeRate, flakeRate, rankTests, sparkline, type NightlyHistory, type TrackingAction } from './history.ts';

export function trackingMarker(repository: Repository, workflow: string, label: string): string {
  return markerLine('tracking', [`${repository.owner}/${repository.repo}`, workflow, label]);
}

/** Largest digest kept in the body; the rest of 65,536 characters is the visible table. */
export const DIGEST_BUDGET = 45_000;

/** Nights kept before tests start to go, when even those do not fit. */
const MIN_NIGHTS = 7;

/** The digest line, trimmed to the budget: oldest nights first (down to a week), then the least failing tests. */
export function boundedDigest(history: NightlyHistory, budget = DIGEST_BUDGET): { line: string; history: NightlyHistory } {
  let h: NightlyHistory = { ...history, tests: rankTests(history.tests) };
  for (;;) {
    const line = digestLine(h);
    if (line.length <= budget || (!h.tests.length && h.nights.length <= 1)) return { line, history: h };
    if (h.nights.length > MIN_NIGHTS || (!h.tests.length && h.nights.length > 1)) {
      h = { v: 1, nights: h.nights.slice(1), tests: h.tests.map((t) => ({ ...t, runs: t.runs.slice(1), failed: t.failed.slice(1) })).filter((t) => t.failed.some((f) => f > 0)) };
    } else {
      h = { ...h, tests: h.tests.slice(0, Math.floor(h.tests.length * 0.9)) };
    }
  }
}

export interface IssueContext {
  workflow: string;
  cleanNightsToClose: number;
  /** Link to the run that wrote tonight's entry. */
  runUrl?: string;
}

const ROW_STEPS = [50, 30, 20, 10, 5, 0];

/** The issue body: marker, digest, the top offenders table and what closes the issue. */
export function renderTrackingIssue(marker: string, history: NightlyHistory, context: IssueContext): string {
  const digest = boundedDigest(history);
  const head = `${marker}\n${digest.line}\n`;
  for (const rows of ROW_STEPS) {
    const body = head + visibleBody(digest.history, context, rows);
    if (body.length <= GITHUB_COMMENT_LIMIT) return body;
  }
  return head;
}

function visibleBody(history: NightlyHistory, context: IssueContext, maxRows: number): string {
  const tonight = history.nights.at(-1);
  const streak = cleanStreak(history);
  const ranked = rankTests(history.tests);
  const lines = [`### kubeflake nightly: ${ranked.length} ${ranked.length === 1 ? 'test fails' : 'tests fail'} now and then (last ${history.nights.length} nights)`, ''];
  if (tonight) {
    const run = context.runUrl ? ` ([run](${context.runUrl}))` : '';
    lines.push(`Last night: ${mdText(tonight.date)}, commit ${mdCode(tonight.sha.slice(0, 7))}, ${mdText(tonight.verdict)}${tonight.findings ? ` (${tonight.findings} findings)` : ''}${run}. Clean nights in a row: ${streak} (closes after ${context.cleanNightsToClose}).`, '');
  }
  if (ranked.length && maxRows > 0) {
    lines.push('| Test | Verdict | Flake rate | First seen | Last seen | Trend | Polluter / leaked object |', '|---|---|---|---|---|---|---|');
    for (const test of ranked.slice(0, maxRows)) {
      const cause = [test.polluter ? mdCode(truncate(test.polluter, 120)) : '', test.leak ? mdCode(truncate(test.leak, 120)) : ''].filter(Boolean).join('<br>') || '—';
      lines.push(`| ${mdCode(truncate(test.name, 140))} | ${mdText(test.verdict)} | ${describeFlakeRate(flakeRate(test))} | ${mdText(test.first)} | ${mdText(test.last)} | ${sparkline(test)} | ${cause} |`);
    }
    if (ranked.length > maxRows) lines.push('', `_…and ${ranked.length - maxRows} more; they are kept in this issue's history._`);
    const reproducible = ranked.slice(0, Math.min(maxRows, 10)).filter((t) => t.reproduce);
    if (reproducible.length) {
      lines.push('', '<details><summary>Reproduce</summary>', '');
      for (const test of reproducible) lines.push(`- ${mdCode(truncate(test.name, 140))}: ${mdCode(truncate(test.reproduce!, 600))}`);
      lines.push('', '</details>');
    }
  } else if (ranked.length) {
    lines.push(`_${ranked.length} tests are tracked; the table does not fit._`);
  }
  lines.push('', `<sub>Flake rate: nights a test failed out of nights it ran, and its failed runs out of the runs of those nights, over the last ${history.nights.length}. Trend: one bar a night, taller = more of its runs failed, · = did not run. This issue is kept by kubeflake (${mdText(truncate(context.workflow, 100))}); the history lives in this body, edit it and the history is lost.</sub>`);
  return lines.join('\n') + '\n';
}

export interface TrackedIssue {
  number: number;
  state: 'open' | 'closed';
  body: string;
  html_url: string;
  created_at: string;
}

/** Our tracking issue: label, marker and author all match; the oldest if a race made two. */
export async function findTrackingIssue(client: GitHubClient, repository: Repository, label: string, marker: string, identity: string): Promise<TrackedIssue | undefined> {
  const issues = await client.paginate(client.rest.issues.listForRepo, { ...repository, labels: label, state: 'all', per_page: 100 });
  const own = issues
    .filter((i) => !i.pull_request && i.user?.login === identity && hasMarker(i.body, marker))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  const first = own[0];
  return first ? { number: first.number, state: first.state === 'closed' ? 'closed' : 'open', body: first.body ?? '', html_url: first.html_url, created_at: first.created_at } : undefined;
}

export function historyOf(issue: TrackedIssue | undefined): NightlyHistory {
  return asHistory(readDigest(issue?.body));
}

export interface TrackingOutcome {
  action: TrackingAction;
  url?: string;
  number?: number;
}

export async function ensureLabel(client: GitHubClient, repository: Repository, label: string): Promise<void> {
  try {
    await client.rest.issues.getLabel({ ...repository, name: label });
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    try {
      await client.rest.issues.createLabel({ ...repository, name: label, color: 'd93f0b', description: 'Flaky and order-dependent tests kubeflake tracks' });
    } catch (create) {
      // Created by a racing run in the meantime.
      if ((create as { status?: number }).status !== 422) throw create;
    }
  }
}

/** Applies tonight's history to the issue: create, update, close or reopen it. */
export async function writeTrackingIssue(
  client: GitHubClient,
  repository: Repository,
  issue: TrackedIssue | undefined,
  history: NightlyHistory,
  options: { label: string; marker: string; title: string } & IssueContext,
): Promise<TrackingOutcome> {
  const action = decideTracking(issue, history, options.cleanNightsToClose);
  if (action === 'none') return { action };
  const body = renderTrackingIssue(options.marker, history, options);
  if (action === 'create' || !issue) {
    await ensureLabel(client, repository, options.label);
    const { data } = await client.rest.issues.create({ ...repository, title: options.title, body, labels: [options.label] });
    return { action: 'create', url: data.html_url, number: data.number };
  }
  const state = action === 'close' ? { state: 'closed' as const, state_reason: 'completed' as const } : action === 'reopen' ? { state: 'open' as const } : {};
  const { data } = await client.rest.issues.update({ ...repository, issue_number: issue.number, body, ...state });
  return { action, url: data.html_url, number: data.number };
}
