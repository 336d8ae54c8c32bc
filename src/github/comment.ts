// The sticky PR comment: one per (workflow, job, comment-key), found by its marker line AND by
// being written by the token's own identity, so a person who pastes the marker is never edited.
// Updated in place; when two runs race and both create one, each re-lists and the newest wins.
// Its digest remembers what earlier runs on this PR found, so a clean run does not erase them.

import type { Report, Verdict } from '../model.ts';
import { findingTests } from '../report/findings.ts';
import { mdCode, mdText, plural, truncate } from '../report/text.ts';
import { digestLine, hasMarker, markerLine, readDigest } from './digest.ts';
import type { GitHubClient } from './client.ts';
import type { Repository } from './context.ts';

export interface EarlierRun {
  sha: string;
  /** YYYY-MM-DD HH:MM UTC */
  at: string;
  runId: number;
  found: { name: string; verdict: Verdict }[];
  /** Findings beyond those listed. */
  more: number;
}

export interface CommentDigest {
  v: 1;
  /** Runs that found something, newest last. */
  runs: EarlierRun[];
  /** The findings of the run that last wrote the comment: `comment: changes` compares against it. */
  last: string;
}

const KEPT_RUNS = 10;
const KEPT_NAMES = 10;

export function commentMarker(workflow: string, job: string, key: string): string {
  return markerLine('comment', [workflow, job, key]);
}

export function asCommentDigest(value: unknown): CommentDigest {
  const d = value as Partial<CommentDigest> | undefined;
  if (!d || d.v !== 1 || !Array.isArray(d.runs) || typeof d.last !== 'string') return { v: 1, runs: [], last: '' };
  const runs = d.runs.filter((r) => r && typeof r.sha === 'string' && typeof r.at === 'string' && Array.isArray(r.found));
  return { v: 1, runs, last: d.last };
}

/** What a report found, as one comparable string. */
export function findingsSignature(report: Report): string {
  return findingTests(report).map((t) => `${t.verdict}\u0000${t.name}`).sort().join('\n');
}

/** The digest after this run: its findings appended (when any), the oldest dropped past ten. */
export function nextDigest(previous: CommentDigest, report: Report, run: { sha: string; at: string; runId: number }): CommentDigest {
  const findings = findingTests(report);
  const runs = previous.runs.filter((r) => !(r.runId === run.runId && r.sha === run.sha));
  if (findings.length) {
    runs.push({
      ...run,
      found: findings.slice(0, KEPT_NAMES).map((t) => ({ name: truncate(t.name, 200), verdict: t.verdict })),
      more: Math.max(0, findings.length - KEPT_NAMES),
    });
  }
  return { v: 1, runs: runs.slice(-KEPT_RUNS), last: findingsSignature(report) };
}

/** "Earlier on this PR": what other runs found, newest first, so a passing run does not hide them. */
export function earlierSection(digest: CommentDigest, current: { sha: string; runId: number }): string | undefined {
  const earlier = digest.runs.filter((r) => !(r.runId === current.runId && r.sha === current.sha)).reverse();
  if (!earlier.length) return undefined;
  const lines = ['<details open><summary>Earlier on this PR</summary>', ''];
  for (const run of earlier) {
    const found = run.found.map((f) => `${mdText(f.verdict)} ${mdCode(f.name)}`);
    if (run.more) found.push(`and ${plural(run.more, 'more finding')}`);
    lines.push(`- ${mdCode(run.sha.slice(0, 7))} ${mdText(run.at)}: ${found.join(', ')}`);
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

export interface ExistingComment {
  id: number;
  body?: string | null;
  user: { login: string } | null;
  created_at: string;
  html_url: string;
}

/** Our comments on the PR: our marker on the first line and our identity as author. */
export function ownComments(comments: ExistingComment[], marker: string, identity: string): ExistingComment[] {
  return comments.filter((c) => c.user?.login === identity && hasMarker(c.body, marker));
}

/** The one to keep (newest) and the duplicates a race left behind. */
export function newestWins(own: ExistingComment[]): { keep?: ExistingComment; remove: ExistingComment[] } {
  const sorted = [...own].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  return { keep: sorted.at(-1), remove: sorted.slice(0, -1) };
}

export type CommentMode = 'always' | 'on-findings' | 'changes' | 'off';

/** Whether this run writes the comment at all. */
export function shouldComment(mode: CommentMode, report: Report, existing: ExistingComment | undefined, previous: CommentDigest): boolean {
  if (mode === 'off') return false;
  if (mode === 'on-findings') return report.verdict !== 'clean' || existing !== undefined;
  if (mode === 'changes') return !existing || previous.last !== findingsSignature(report) || report.verdict === 'error';
  return true;
}

export interface StickyTarget {
  repository: Repository;
  pullNumber: number;
  marker: string;
  identity: string;
}

async function listOwn(client: GitHubClient, target: StickyTarget): Promise<ExistingComment[]> {
  const all = await client.paginate(client.rest.issues.listComments, { ...target.repository, issue_number: target.pullNumber, per_page: 100 });
  return ownComments(all as ExistingComment[], target.marker, target.identity);
}

export interface CommentOutcome {
  url?: string;
  /** written, or skipped with the reason. */
  action: 'created' | 'updated' | 'unchanged';
  removedDuplicates: number;
}

/**
 * Find-or-create the sticky comment. `compose` gets the previous digest (from our newest comment)
 * and returns the body, or undefined to leave the comment as it is.
 */
export async function upsertStickyComment(
  client: GitHubClient,
  target: StickyTarget,
  compose: (previous: CommentDigest, existing: ExistingComment | undefined) => string | undefined,
): Promise<CommentOutcome> {
  const before = newestWins(await listOwn(client, target));
  const previous = asCommentDigest(readDigest(before.keep?.body));
  const body = compose(previous, before.keep);
  if (body === undefined) return { url: before.keep?.html_url, action: 'unchanged', removedDuplicates: 0 };
  let url: string;
  let action: CommentOutcome['action'];
  if (before.keep) {
    const { data } = await client.rest.issues.updateComment({ ...target.repository, comment_id: before.keep.id, body });
    url = data.html_url;
    action = 'updated';
  } else {
    const { data } = await client.rest.issues.createComment({ ...target.repository, issue_number: target.pullNumber, body });
    url = data.html_url;
    action = 'created';
  }
  // A run of the same job may have created its own at the same moment: the newest stays.
  const after = newestWins(await listOwn(client, target));
  let removed = 0;
  for (const duplicate of after.remove) {
    try {
      await client.rest.issues.deleteComment({ ...target.repository, comment_id: duplicate.id });
      removed++;
    } catch (error) {
      // The racing run deleted it first.
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return { url: after.keep?.html_url ?? url, action, removedDuplicates: removed };
}

export function commentHeader(marker: string, digest: CommentDigest): string {
  return `${marker}\n${digestLine(digest)}\n`;
}
