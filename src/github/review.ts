// The proven fixes as one pull request review of GitHub suggestions, on the PR's head commit. Found
// again by their marker AND the token's identity (as the sticky comment), so a later push updates
// or replaces them and never stacks a second set; a fix no longer offered loses its suggestion.

import type { Report } from '../model.ts';
import { plural } from '../report/text.ts';
import type { GitHubClient } from './client.ts';
import type { Repository } from './context.ts';
import { hasMarker } from './digest.ts';
import { duplicateSuggestions, offeredFixes, planSuggestions, reconcileSuggestions, type ExistingSuggestion, type SuggestionPlan } from './suggestions.ts';

export interface ReviewTarget {
  repository: Repository;
  pullNumber: number;
  /** The PR's head commit: the suggestions are on its lines. */
  headSha: string;
  marker: string;
  identity: string;
}

export interface ReviewOutcome {
  /** The review this run created, when it created one. */
  url?: string;
  created: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** Offered fixes left to the sticky comment's diff block, with why. */
  kept: SuggestionPlan['kept'];
}

async function listOwn(client: GitHubClient, target: ReviewTarget): Promise<ExistingSuggestion[]> {
  const all = await client.paginate(client.rest.pulls.listReviewComments, { ...target.repository, pull_number: target.pullNumber, per_page: 100 });
  return all
    .filter((c) => c.user?.login === target.identity && hasMarker(c.body, target.marker))
    .map((c) => ({ id: c.id, path: c.path, line: c.line ?? null, start_line: c.start_line ?? null, body: c.body }));
}

async function removeComment(client: GitHubClient, target: ReviewTarget, id: number): Promise<boolean> {
  try {
    await client.rest.pulls.deleteReviewComment({ ...target.repository, comment_id: id });
    return true;
  } catch (error) {
    // A racing run removed it first.
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}

/** Makes the PR's kubeflake suggestions exactly the report's offered fixes that sit on its diff. */
export async function publishSuggestions(client: GitHubClient, target: ReviewTarget, report: Report): Promise<ReviewOutcome> {
  const existing = await listOwn(client, target);
  let plan: SuggestionPlan = { comments: [], kept: [] };
  if (offeredFixes(report).length) {
    const files = await client.paginate(client.rest.pulls.listFiles, { ...target.repository, pull_number: target.pullNumber, per_page: 100 });
    plan = planSuggestions(report, files, target.marker);
  }
  const changes = reconcileSuggestions(existing, plan.comments);
  const outcome: ReviewOutcome = { created: 0, updated: 0, removed: 0, unchanged: changes.unchanged.length, kept: plan.kept };
  // New ones first: a failed write leaves the earlier set standing, not nothing.
  if (changes.create.length) {
    const { data } = await client.rest.pulls.createReview({
      ...target.repository,
      pull_number: target.pullNumber,
      commit_id: target.headSha,
      event: 'COMMENT',
      // GitHub requires a body for a COMMENT review; the marker lets a reader (and a test) tell it is ours.
      body: `${target.marker}\nkubeflake: ${plural(changes.create.length, 'suggestion')} from fixes proven before they were offered: each patched pair passed every run. The kubeflake comment has the runs.`,
      comments: changes.create,
    });
    outcome.url = data.html_url;
    outcome.created = changes.create.length;
  }
  for (const { id, body } of changes.update) {
    await client.rest.pulls.updateReviewComment({ ...target.repository, comment_id: id, body });
    outcome.updated++;
  }
  for (const stale of changes.remove) if (await removeComment(client, target, stale.id)) outcome.removed++;
  if (changes.create.length) {
    for (const duplicate of duplicateSuggestions(await listOwn(client, target))) if (await removeComment(client, target, duplicate.id)) outcome.removed++;
  }
  return outcome;
}
