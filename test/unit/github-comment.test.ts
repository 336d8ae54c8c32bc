// The sticky PR comment through the real octokit client against the local GitHub server, which
// checks every request and response against GitHub's OpenAPI description.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gitHubServers, type GitHubServer } from '../support/github-server.ts';
import { publish, READ_ONLY_HINT } from '../../src/github/publish.ts';
import { commentMarker } from '../../src/github/comment.ts';
import { readDigest } from '../../src/github/digest.ts';
import { hostileReport, HOSTILE } from '../fixtures/reports/hostile.ts';
import { HEAD_SHA, makeReport, publishSettings, pullRequestEvent } from './github-fixtures.ts';
import type { Report } from '../../src/model.ts';
import type { PublishSettings } from '../../src/github/publish.ts';

const server = gitHubServers();

const victimReport = () => makeReport([{ name: 'creates iris2', verdict: 'order-dependent', polluter: 'deletes iris2 without waiting' }, { name: 'deletes iris2 without waiting' }]);
const cleanReport = () => makeReport([{ name: 'creates iris2' }, { name: 'deletes iris2 without waiting' }]);

function run(settings: PublishSettings, report: Report, now = '2026-11-20T10:00:00Z', log: string[] = []) {
  return publish({ report, settings, markdown: {}, now, log: (line) => log.push(line) });
}

function ownComments(s: GitHubServer, pr: number) {
  return s.state.comments.filter((c) => c.issue === pr && c.login === 'github-actions[bot]');
}

test('two runs on the same PR update one comment in place', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  const first = await run(settings, victimReport());
  assert.match(first.commentUrl ?? '', /#issuecomment-\d+$/);
  const [comment] = ownComments(s, pr);
  const second = await run({ ...settings, context: { ...settings.context, runId: 9002 } }, victimReport());
  assert.equal(ownComments(s, pr).length, 1);
  assert.equal(ownComments(s, pr)[0]!.id, comment!.id, 'updated, not replaced');
  assert.equal(second.commentUrl, first.commentUrl);
  assert.ok(s.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/comments/${comment!.id}`)));
  assert.ok(s.requests.some((r) => r.path === '/user' && r.status === 403), 'the workflow token is identified without GET /user');
  assert.deepEqual(s.violations, []);
});

test('a racing pair of runs leaves one comment: the newest', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  // Both runs list the comments before either has created one.
  s.barrier('GET', /\/issues\/\d+\/comments$/, 2);
  const settings = publishSettings(s, pullRequestEvent(pr));
  const [a, b] = await Promise.all([run(settings, victimReport()), run({ ...settings, context: { ...settings.context, runId: 9003 } }, victimReport())]);
  const left = ownComments(s, pr);
  assert.equal(s.requests.filter((r) => r.method === 'POST').length, 2, 'both created one');
  assert.equal(left.length, 1);
  assert.equal(s.requests.filter((r) => r.method === 'DELETE' && r.status === 204).length, 1);
  assert.equal(left[0]!.id, 1001, 'the newer of the two created');
  // The run that finished last saw both and points at the survivor.
  assert.ok([a.commentUrl, b.commentUrl].some((url) => url!.endsWith(`#issuecomment-${left[0]!.id}`)));
  assert.deepEqual(s.violations, []);
});

test("a person's comment carrying the marker is never edited; ours is found past the first page", async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  const marker = commentMarker(settings.context.workflow, settings.context.job, '');
  s.state.comments.push({ id: 1, issue: pr, body: `${marker}\nI pasted your marker`, login: 'mallory', created_at: '2026-10-01T00:00:00Z', updated_at: '2026-10-01T00:00:00Z' });
  // A busy PR: ours is on the third page of comments.
  for (let i = 0; i < 230; i++) s.state.comments.push({ id: 10 + i, issue: pr, body: `review ${i}`, login: 'reviewer', created_at: '2026-10-02T00:00:00Z', updated_at: '2026-10-02T00:00:00Z' });
  await run(settings, victimReport());
  await run(settings, victimReport());
  // Two runs, each listing before and after writing, three pages of 100 each time.
  assert.equal(s.requests.filter((r) => r.method === 'GET' && r.path.includes('/issues/') && r.path.endsWith('/comments')).length, 12);
  assert.equal(s.state.comments.find((c) => c.id === 1)!.body, `${marker}\nI pasted your marker`);
  assert.equal(ownComments(s, pr).length, 1);
  assert.deepEqual(s.violations, []);
});

test('a personal token identifies itself with GET /user', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr), { token: 'user-token' });
  await run(settings, victimReport());
  await run(settings, victimReport());
  assert.equal(s.state.comments.filter((c) => c.login === 'octocat').length, 1);
  assert.deepEqual(s.violations, []);
});

test('a clean second run keeps the first run\'s finding under "earlier on this PR"', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  await run(settings, victimReport(), '2026-11-20T10:00:00Z');
  await run({ ...settings, context: { ...settings.context, runId: 9010 } }, cleanReport(), '2026-11-20T11:00:00Z');
  const [comment] = ownComments(s, pr);
  assert.match(comment!.body, /### ✅ kubeflake · clean/);
  const earlier = comment!.body.slice(comment!.body.indexOf('Earlier on this PR'));
  assert.match(earlier, /<code>aaaaaaa<\/code> 2026-11-20 10:00 UTC: order-dependent <code>creates iris2<\/code>/);
  const digest = readDigest(comment!.body) as { runs: { runId: number }[] };
  assert.deepEqual(digest.runs.map((r) => r.runId), [9001]);
  assert.deepEqual(s.violations, []);
});

test('comment: changes writes only when the findings differ; on-findings stays silent on a clean PR', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const changes = publishSettings(s, pullRequestEvent(pr), { comment: 'changes' });
  await run(changes, victimReport());
  await run(changes, victimReport());
  assert.equal(s.requests.filter((r) => r.method === 'PATCH').length, 0, 'same findings: no update');
  await run(changes, cleanReport());
  assert.equal(s.requests.filter((r) => r.method === 'PATCH').length, 1);
  const quiet = s.addPullRequest(HEAD_SHA);
  await run(publishSettings(s, pullRequestEvent(quiet), { comment: 'on-findings' }), cleanReport());
  assert.equal(ownComments(s, quiet).length, 0);
  assert.deepEqual(s.violations, []);
});

test('a read-only token (fork PR, Dependabot) publishes nothing and says how to, without failing', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const outcome = await run(publishSettings(s, pullRequestEvent(pr, HEAD_SHA, true), { token: 'read-only-token' }), victimReport());
  assert.deepEqual(outcome.notes, [READ_ONLY_HINT]);
  assert.equal(outcome.commentUrl, undefined);
  assert.equal(s.state.comments.length, 0);
  assert.deepEqual(s.violations, []);
});

test('GitHub errors: a 5xx is retried, a secondary rate limit waited out, a 422 explained', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  s.fail({ method: 'POST', path: /\/comments$/, status: 502, times: 1 });
  const retried = await run(settings, victimReport());
  assert.ok(retried.commentUrl, retried.notes.join('\n'));
  s.fail({ method: 'PATCH', path: /\/comments\/\d+$/, status: 403, times: 1, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '1' } });
  const log: string[] = [];
  const waited = await run(settings, victimReport(), '2026-11-20T12:00:00Z', log);
  assert.ok(waited.commentUrl, waited.notes.join('\n'));
  assert.ok(log.some((line) => /secondary rate limit/.test(line)), log.join('\n'));
  s.fail({ method: 'PATCH', path: /\/comments\/\d+$/, status: 422, times: 1, message: 'Validation Failed' });
  const refused = await run(settings, victimReport());
  assert.match(refused.notes.join('\n'), /GitHub refused the body .*job summary/);
  assert.deepEqual(s.violations, []);
});

test('workflow_run: the PR named by the results is used only when its head is the commit the run tested', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const event = { name: 'workflow_run', workflowRun: { id: 77, headSha: HEAD_SHA, event: 'pull_request', pullRequests: [] } };
  const settings = publishSettings(s, event);
  const ok = await publish({ report: victimReport(), settings, markdown: {}, recorded: { number: pr, headSha: HEAD_SHA }, now: '2026-11-20T10:00:00Z', log: () => {} });
  assert.ok(ok.commentUrl);
  const other = s.addPullRequest('c'.repeat(40), 'someone else');
  const spoofed = await publish({ report: victimReport(), settings, markdown: {}, recorded: { number: other, headSha: HEAD_SHA }, now: '2026-11-20T10:00:00Z', log: () => {} });
  assert.equal(spoofed.commentUrl, undefined);
  assert.match(spoofed.notes.join('\n'), /that PR's head is ccccccc, not aaaaaaa/);
  assert.equal(s.state.comments.filter((c) => c.issue === other).length, 0);
  assert.deepEqual(s.violations, []);
});

test('hostile names are inert in the posted comment and cannot confuse the updater', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  const report = hostileReport();
  // A test whose name is our own marker and digest lines.
  const marker = commentMarker(settings.context.workflow, settings.context.job, '');
  report.tests[0] = { ...report.tests[0]!, name: `${marker}\n<!-- kubeflake:digest AAAA -->` };
  await run(settings, report);
  await run(settings, report);
  const own = ownComments(s, pr);
  assert.equal(own.length, 1);
  const body = own[0]!.body;
  assert.ok(body.length <= 65_536);
  const lines = body.split('\n');
  assert.equal(lines[0], marker);
  assert.equal(body.split(marker).length - 1, 1, 'the marker appears once, on the first line');
  assert.equal((body.match(/<!-- kubeflake:digest /g) ?? []).length, 1);
  const prose = body.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
  assert.doesNotMatch(prose, /@[A-Za-z]/, 'no live @-mention');
  assert.doesNotMatch(prose, /(^|[^&\w])#\d/, 'no live #-reference');
  assert.doesNotMatch(prose, /<(script|img|a |iframe)/i, 'no live HTML');
  assert.doesNotMatch(prose, /\]\(https:\/\/evil/, 'no live link');
  assert.ok(!prose.includes(HOSTILE.details), 'no closing of details');
  assert.deepEqual(s.violations, []);
});

test('comment-key keeps one comment per matrix leg', async () => {
  const s = await server();
  const pr = s.addPullRequest(HEAD_SHA);
  const settings = publishSettings(s, pullRequestEvent(pr));
  await run({ ...settings, commentKey: 'k8s-1.35' }, victimReport());
  await run({ ...settings, commentKey: 'k8s-1.36' }, victimReport());
  await run({ ...settings, commentKey: 'k8s-1.35' }, cleanReport());
  const own = ownComments(s, pr);
  assert.equal(own.length, 2);
  assert.deepEqual(own.map((c) => c.body.split('\n')[0]), [commentMarker('pr-check', 'hunt', 'k8s-1.35'), commentMarker('pr-check', 'hunt', 'k8s-1.36')]);
  assert.match(own[0]!.body, /### ✅ kubeflake · clean/);
  assert.deepEqual(s.violations, []);
});
