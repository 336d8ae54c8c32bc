// Proven fixes as one pull request review of suggestions, through the real octokit client against
// the local GitHub server (every request and response checked against GitHub's OpenAPI
// description; a review line outside the PR's diff is refused as GitHub refuses it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gitHubServers, type GitHubServer } from '../support/github-server.ts';
import { publish, READ_ONLY_HINT, type PublishSettings } from '../../src/github/publish.ts';
import { deliverReport, type ActionsStep } from '../../src/github/deliver.ts';
import { suggestionMarker } from '../../src/github/suggestions.ts';
import type { Report } from '../../src/model.ts';
import { HEAD_SHA, publishSettings, pullRequestEvent } from './github-fixtures.ts';
import { HEAD, offeredFix, PR_ADDS_SPEC, reportWithFix, SPEC_FILE, WAIT } from './github-suggestions-data.ts';

const server = gitHubServers();

const BOT = 'github-actions[bot]';
const SECOND_SHA = 'b'.repeat(40);
const THIRD_SHA = 'c'.repeat(40);
const SUGGESTION = '```suggestion\n' + [HEAD[39], ...WAIT].join('\n') + '\n```';

function run(settings: PublishSettings, report: Report, log: string[] = []) {
  return publish({ report, settings, markdown: {}, now: '2026-12-07T10:00:00Z', log: (line) => log.push(line) });
}

/** The settings of a later run on the PR, after a push to `sha`. */
function pushed(settings: PublishSettings, sha: string, runId: number): PublishSettings {
  return { ...settings, context: { ...settings.context, sha, runId, event: pullRequestEvent(settings.context.event.pullRequest!.number, sha) } };
}

const ours = (s: GitHubServer) => s.state.reviewComments.filter((c) => c.login === BOT);

test('an offered fix on a line of the diff is one review on the head commit, its suggestion on that line', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA, 'Add the lifecycle spec', [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }]);
  const outcome = await run(publishSettings(s, pullRequestEvent(pr)), reportWithFix(offeredFix()));
  assert.equal(s.state.reviews.length, 1);
  const [review] = s.state.reviews;
  assert.equal(review!.commit_id, HEAD_SHA);
  assert.equal(review!.body.split('\n')[0], suggestionMarker('pr-check', 'hunt', ''));
  const [comment, ...more] = ours(s);
  assert.deepEqual(more, []);
  assert.deepEqual([comment!.review, comment!.path, comment!.start_line, comment!.line, comment!.commit_id], [review!.id, SPEC_FILE, null, 39, HEAD_SHA]);
  assert.ok(comment!.body.includes(SUGGESTION), comment!.body);
  assert.match(outcome.reviewUrl ?? '', new RegExp(`/pull/${pr}#pullrequestreview-${review!.id}$`));
  assert.ok(outcome.commentUrl, 'the sticky comment is written too');
  assert.ok(outcome.notes.some((n) => n.startsWith('kubeflake suggestions (proven fixes on the pull request\'s lines): posted 1 in a review')), outcome.notes.join('\n'));
  assert.deepEqual(s.violations, []);
});

test('later pushes update the one suggestion, replace it when its line moved, and remove it when no longer offered: never stacked', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA, 'Add the lifecycle spec', [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }]);
  const settings = publishSettings(s, pullRequestEvent(pr));
  const marker = suggestionMarker('pr-check', 'hunt', '');
  // A person quoting our marker in their own review comment is never touched.
  s.state.reviewComments.push({ id: 1, pull: pr, review: 1, path: SPEC_FILE, line: 38, start_line: null, commit_id: HEAD_SHA, body: `${marker}\nI pasted the marker`, login: 'mallory', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', outdated: false });
  await run(settings, reportWithFix(offeredFix()));
  const [first] = ours(s);

  // A push that leaves the spec's lines as they were: the suggestion is still current, its body updated in place.
  s.pushPullRequest(pr, SECOND_SHA, [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }, { filename: 'go.mod', patch: '@@ -1 +1 @@\n-go 1.22\n+go 1.23' }]);
  const proved = { ...offeredFix(), after: { failed: 0, runs: 12 } };
  const second = await run(pushed(settings, SECOND_SHA, 9002), reportWithFix(proved));
  assert.equal(s.state.reviews.length, 1, 'no second review');
  assert.deepEqual(ours(s).map((c) => c.id), [first!.id]);
  assert.match(ours(s)[0]!.body, /after the fix 0 of 12 failed/);
  assert.ok(s.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/pulls/comments/${first!.id}`) && r.status === 200));
  assert.equal(second.reviewUrl, undefined);

  // The same run again (a re-run of the job): nothing to write.
  const reviewWrites = () => s.requests.filter((r) => r.method !== 'GET' && r.path.includes('/pulls/')).length;
  const writes = reviewWrites();
  await run(pushed(settings, SECOND_SHA, 9002), reportWithFix(proved));
  assert.equal(reviewWrites(), writes);

  // A push that adds two lines above the spec: the old suggestion is outdated, so a new one on the new line replaces it.
  const moved = PR_ADDS_SPEC.replace('@@ -27,4 +27,15 @@', '@@ -27,4 +27,17 @@').replace(`+${HEAD[30]}`, `+\t// eviction\n+\t// on delete\n+${HEAD[30]}`);
  s.pushPullRequest(pr, THIRD_SHA, [{ filename: SPEC_FILE, patch: moved }]);
  const shifted = { ...offeredFix(), patch: offeredFix().patch!.replace('@@ -38,3 +38,6 @@', '@@ -40,3 +40,6 @@'), lines: { start: 40, end: 40 } };
  const third = await run(pushed(settings, THIRD_SHA, 9003), reportWithFix(shifted));
  assert.equal(s.state.reviews.length, 2);
  assert.deepEqual(ours(s).map((c) => [c.line, c.commit_id, c.outdated]), [[41, THIRD_SHA, false]], 'one current suggestion, the outdated one removed');
  assert.ok(ours(s)[0]!.body.includes(SUGGESTION));
  assert.match(third.reviewUrl ?? '', /#pullrequestreview-\d+$/);

  // The fix is no longer offered: its suggestion goes.
  await run(pushed(settings, THIRD_SHA, 9004), reportWithFix(undefined));
  assert.deepEqual(ours(s), []);
  assert.deepEqual(s.state.reviewComments.map((c) => c.login), ['mallory']);
  assert.deepEqual(s.violations, []);
});

test('a fix whose line is outside the diff stays in the comment and asks nothing of the review API but its files', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA, 'Bump go', [{ filename: 'go.mod', patch: '@@ -1 +1 @@\n-go 1.22\n+go 1.23' }]);
  const outcome = await run(publishSettings(s, pullRequestEvent(pr)), reportWithFix(offeredFix()));
  assert.deepEqual(s.state.reviews, []);
  assert.deepEqual([...new Set(s.requests.filter((r) => r.path.includes('/pulls/')).map((r) => `${r.method} ${r.path.replace(/^.*\/pulls\/\d+/, '')}`))].sort(), ['GET /comments', 'GET /files']);
  assert.ok(s.state.comments.some((c) => c.body.includes('```diff\n' + offeredFix().patch!.trimEnd())), 'the sticky comment has the diff block');
  assert.ok(outcome.notes.includes(`kubeflake left the proven fix at ${SPEC_FILE}:38 in the comment's diff block, not as a suggestion: ${SPEC_FILE}:39 is not in the pull request's diff.`), outcome.notes.join('\n'));
  assert.deepEqual(s.violations, []);
});

interface Told {
  said: string[];
  summary: string[];
  failed: string[];
}

async function deliver(settings: PublishSettings, report: Report): Promise<Told> {
  const told: Told = { said: [], summary: [], failed: [] };
  const step: ActionsStep = {
    info: (line) => void told.said.push(line),
    warning: (message) => void told.said.push(`warning: ${message}`),
    annotate: () => {},
    appendSummary: async (markdown) => void told.summary.push(markdown),
    setOutput: () => {},
    setFailed: (message) => void told.failed.push(message),
  };
  await deliverReport({ outputDir: 'kubeflake-results', failOn: 'never', quarantine: [], publish: settings }, { report, dirs: ['kubeflake-results'], now: '2026-12-07T10:00:00Z' }, step);
  return told;
}

test('a token that cannot write reviews falls back to the job summary, which has the patch; the sticky comment stands', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA, 'Add the lifecycle spec', [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }]);
  s.fail({ method: 'POST', path: /\/pulls\/\d+\/reviews$/, status: 403, times: 1, message: 'Resource not accessible by integration' });
  const told = await deliver(publishSettings(s, pullRequestEvent(pr)), reportWithFix(offeredFix()));
  assert.deepEqual(s.state.reviews, []);
  assert.equal(s.state.comments.length, 1, 'the sticky comment was written');
  const summary = told.summary.join('\n');
  assert.ok(summary.includes('```diff\n' + offeredFix().patch!.trimEnd()), 'the patch is in the summary');
  assert.match(summary, /kubeflake could not post its proven fixes as review suggestions: the token cannot write reviews on this pull request/);
  assert.deepEqual(told.failed, []);
  assert.deepEqual(s.violations, []);
});

test("a fork's read-only token writes nothing, tries no review after the comment is refused, and says so in the summary", async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA, 'Add the lifecycle spec', [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }]);
  const told = await deliver(publishSettings(s, pullRequestEvent(pr, HEAD_SHA, true), { token: 'read-only-token' }), reportWithFix(offeredFix()));
  assert.deepEqual([s.state.comments, s.state.reviews], [[], []]);
  assert.ok(!s.requests.some((r) => r.path.endsWith('/reviews')));
  assert.ok(told.summary.join('\n').includes(READ_ONLY_HINT.slice(0, 60)), told.summary.join('\n'));
  assert.ok(told.summary.join('\n').includes('```diff\n' + offeredFix().patch!.trimEnd()), 'the patch is in the summary');
  assert.deepEqual(s.violations, []);
});
