// The nightly tracking issue: ten scripted nights against the local GitHub server, then a PR run
// that reads the history; and the history's own rules on plain data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gitHubServers } from '../support/github-server.ts';
import { publish } from '../../src/github/publish.ts';
import { readDigest } from '../../src/github/digest.ts';
import { addNight, asHistory, decideTracking, describeFlakeRate, emptyHistory, flakeRate, historyNote, sparkline, type NightlyHistory } from '../../src/github/history.ts';
import { boundedDigest, renderTrackingIssue, trackingMarker } from '../../src/github/tracking.ts';
import { GITHUB_COMMENT_LIMIT, historyNotesSection } from '../../src/report/markdown.ts';
import { HEAD_SHA, makeReport, publishSettings, pullRequestEvent, type TestSpec } from './github-fixtures.ts';
import type { Report } from '../../src/model.ts';

const gitHubServer = gitHubServers();

const A = 'reconciles the cache after a restart';
const B = 'creates iris2';
const C = 'evicts on delete';
const stable = (name: string): TestSpec => ({ name });

/** Each night's tests; the issue's expected state after it. */
const NIGHTS: { tests: TestSpec[]; state: 'absent' | 'open' | 'closed' }[] = [
  { tests: [stable(A), stable(B), stable(C)], state: 'absent' },
  { tests: [{ name: A, verdict: 'flaky', failed: 1 }, { name: B, verdict: 'order-dependent', failed: 2, polluter: 'deletes iris2 without waiting' }, stable(C), stable('deletes iris2 without waiting')], state: 'open' },
  { tests: [{ name: A, verdict: 'flaky', failed: 2 }, stable(B), stable(C)], state: 'open' },
  { tests: [stable(A), stable(B), stable(C)], state: 'open' },
  { tests: [stable(A), stable(B)], state: 'open' },
  { tests: [stable(A), stable(B), stable(C)], state: 'closed' },
  { tests: [stable(A), stable(B), stable(C)], state: 'closed' },
  { tests: [{ name: A, verdict: 'flaky', failed: 3 }, stable(B), stable(C)], state: 'open' },
  { tests: [stable(A), stable(B), { name: C, verdict: 'broken', failed: 4 }], state: 'open' },
  { tests: [stable(A), stable(B), stable(C)], state: 'open' },
];

const date = (night: number) => `2026-11-${String(night + 1).padStart(2, '0')}`;

/** From the nights' reports directly: nights a test failed and nights it ran, and its failed and run runs, since it first failed. */
function expectedRate(reports: Report[], name: string): { failing: number; seen: number; failedRuns: number; runs: number; first: string } {
  const firstFailing = reports.findIndex((r) => r.tests.some((t) => t.name === name && t.failed > 0));
  let failing = 0;
  let seen = 0;
  let failedRuns = 0;
  let runs = 0;
  for (const report of reports.slice(firstFailing)) {
    const t = report.tests.find((x) => x.name === name);
    if (!t) continue;
    seen++;
    runs += t.passed + t.failed;
    failedRuns += t.failed;
    if (t.failed > 0) failing++;
  }
  return { failing, seen, failedRuns, runs, first: date(firstFailing) };
}

test('ten nights open, update, close and reopen the tracking issue; its flake rates match the nights; a PR run marks a known flaky test as known', async () => {
  const server = await gitHubServer();
  const schedule = { name: 'schedule' };
  const settings = publishSettings(server, schedule, { cleanNightsToClose: 3 });
  const reports: Report[] = [];
  const issues = () => server.state.issues.filter((i) => !i.pull);
  for (const [i, night] of NIGHTS.entries()) {
    const report = makeReport(night.tests);
    reports.push(report);
    const outcome = await publish({ report, settings: { ...settings, context: { ...settings.context, runId: 100 + i, sha: String(i).repeat(40) } }, markdown: {}, now: `${date(i)}T03:00:00Z`, log: () => {} });
    const tracked = issues();
    assert.ok(tracked.length <= 1, `night ${i + 1}: one issue at most`);
    assert.equal(tracked[0]?.state ?? 'absent', night.state, `night ${i + 1}: ${outcome.notes.join(' ')}`);
    if (tracked[0]) assert.equal(outcome.issueUrl, `https://github.example/${server.owner}/${server.repo}/issues/${tracked[0].number}`);
  }
  const [issue] = issues();
  assert.deepEqual(issue!.labels, ['kubeflake']);
  assert.equal(issue!.login, 'github-actions[bot]');
  assert.equal(issue!.body.split('\n')[0], trackingMarker({ owner: server.owner, repo: server.repo }, 'nightly', 'kubeflake'));

  const history = asHistory(readDigest(issue!.body));
  // The first night was clean and no issue existed to hold it: history starts with the issue.
  assert.equal(history.nights.length, 9);
  assert.deepEqual(history.tests.map((t) => t.name).sort(), [A, B, C].sort());
  for (const name of [A, B, C]) {
    const want = expectedRate(reports, name);
    const row = issue!.body.split('\n').find((line) => line.startsWith(`| <code>${name}</code>`));
    assert.ok(row, `a row for ${name}`);
    assert.ok(row.includes(`| ${want.failing} of ${want.seen} nights, ${want.failedRuns} of ${want.runs} runs |`), `${name}: ${row}`);
    assert.ok(row.includes(`| ${want.first} |`), `${name} first seen ${want.first}: ${row}`);
  }
  assert.ok(issue!.body.includes(`| <code>${A}</code> | flaky | 3 of 9 nights, 6 of 36 runs |`), 'A failed on 3 of its 9 nights, 6 of their 36 runs');
  assert.match(issue!.body, /Clean nights in a row: 1 \(closes after 3\)/);
  assert.ok(issue!.body.includes('<code>deletes iris2 without waiting</code><br><code>ModelCache default/left-by-0</code>'));

  // A PR after those nights: A is known flaky, the new failure is new.
  const pr = server.addPullRequest(HEAD_SHA);
  const prReport = makeReport([{ name: A, verdict: 'flaky', failed: 1 }, { name: 'a brand new test', verdict: 'flaky', failed: 1 }]);
  const prOutcome = await publish({ report: prReport, settings: publishSettings(server, pullRequestEvent(pr)), markdown: {}, now: '2026-11-11T09:00:00Z', log: () => {} });
  // The job summary gets the same notes as a section of its own.
  const section = historyNotesSection(prReport, prOutcome.historyNotes!)!;
  assert.match(section, /^\*\*Nightly history\*\* \(from the tracking issue\)/);
  assert.match(section, new RegExp(`<code>${A}</code>: known flaky since`));
  assert.match(section, /<code>a brand new test<\/code>: new: not seen failing/);
  const comment = server.state.comments.find((c) => c.issue === pr)!;
  const a = expectedRate(reports, A);
  assert.ok(comment.body.includes(`known flaky since ${a.first}, failed in ${a.failing} of ${a.seen} nights, ${a.failedRuns} of ${a.runs} runs`), comment.body);
  assert.ok(comment.body.includes('new: not seen failing in the last 9 nights'));
  assert.deepEqual(server.violations, []);
});

test('decideTracking: created only when something is found, closed after the clean streak, reopened on a finding', () => {
  let h = emptyHistory();
  const night = (report: Report, i: number) => (h = addNight(h, report, { date: date(i), sha: 'x', runId: i }));
  night(makeReport([stable(A)]), 0);
  assert.equal(decideTracking(undefined, h, 2), 'none');
  night(makeReport([{ name: A, verdict: 'flaky' }]), 1);
  assert.equal(decideTracking(undefined, h, 2), 'create');
  night(makeReport([stable(A)]), 2);
  assert.equal(decideTracking({ state: 'open' }, h, 2), 'update');
  night({ ...makeReport([stable(A)]), verdict: 'error' }, 3);
  assert.equal(decideTracking({ state: 'open' }, h, 2), 'update', 'an error night is not a clean night');
  night(makeReport([stable(A)]), 4);
  assert.equal(decideTracking({ state: 'open' }, h, 2), 'close');
  assert.equal(decideTracking({ state: 'closed' }, h, 2), 'update');
  night(makeReport([{ name: A, verdict: 'flaky' }]), 5);
  assert.equal(decideTracking({ state: 'closed' }, h, 2), 'reopen');
  // Not tracked yet, 1 of 4 runs failed, clean, error night (ran, passed), clean, 1 of 4 again.
  assert.equal(sparkline(h.tests[0]!), '·▃▁▁▁▃');
});

test('the tracking issue fits 65,536 characters with 500 tracked tests and 30 nights, oldest nights dropped first', () => {
  let h: NightlyHistory = emptyHistory();
  // Names as unlike each other as real ones (a hash in each), so compression cannot hide the size.
  const names = Array.from({ length: 500 }, (_, i) => `Tenant controller [slow] when the quota webhook ${createHash('sha256').update(String(i)).digest('hex').slice(0, 40)} is unavailable retries admission of workload ${i * 7919}`);
  for (let night = 0; night < 40; night++) {
    const specs = names.map((name, i): TestSpec => ((i + night) % 5 === 0 ? { name, verdict: 'flaky', failed: 1 + ((i * night) % 3) } : { name }));
    h = addNight(h, makeReport(specs), { date: `2026-${String(10 + Math.floor(night / 28)).padStart(2, '0')}-${String((night % 28) + 1).padStart(2, '0')}`, sha: 'f'.repeat(40), runId: night });
  }
  assert.equal(h.nights.length, 30, 'the window keeps 30 nights');
  const body = renderTrackingIssue('<!-- kubeflake:tracking 0123456789abcdef0123 -->', h, { workflow: 'nightly', cleanNightsToClose: 7 });
  assert.ok(body.length <= GITHUB_COMMENT_LIMIT, `${body.length} characters`);
  const kept = asHistory(readDigest(body));
  assert.equal(kept.tests.length, 500, 'every tracked test is kept');
  assert.ok(kept.nights.length >= 7, `${kept.nights.length} nights kept`);
  assert.equal(kept.nights.at(-1)!.runId, 39, 'the newest night is kept; the oldest go first');
  assert.match(body, /\| <code>Tenant controller/);

  // A tighter budget drops the oldest nights first, down to a week, before any test goes.
  const tight = boundedDigest(h, 21_000).history;
  assert.ok(tight.nights.length < 30 && tight.nights.length >= 7, `${tight.nights.length} nights`);
  assert.equal(tight.nights.at(-1)!.runId, 39);
  if (tight.nights.length > 7) assert.equal(tight.tests.length, 500, 'no test dropped while nights could go');
  const tiny = boundedDigest(h, 8_000);
  assert.ok(tiny.line.length <= 8_000);
  assert.equal(tiny.history.nights.length, 7);
  assert.ok(tiny.history.tests.length < 500);
});

test('hostile test names stay inert in the tracking issue and cannot reach its marker or digest', async () => {
  const { HOSTILE } = await import('../fixtures/reports/hostile.ts');
  const marker = '<!-- kubeflake:tracking 0123456789abcdef0123 -->';
  const names = [...Object.values(HOSTILE), `${marker}\n<!-- kubeflake:digest AAAA -->`];
  const h = addNight(emptyHistory(), makeReport(names.map((name) => ({ name, verdict: 'flaky' as const, polluter: '@admin <b>x</b>' }))), { date: '2026-11-20', sha: 'f'.repeat(40), runId: 1 });
  const body = renderTrackingIssue(marker, h, { workflow: 'nightly @team', cleanNightsToClose: 7 });
  const lines = body.split('\n');
  assert.equal(lines[0], marker);
  assert.equal(body.split(marker).length - 1, 1, 'the marker appears once, on the first line');
  assert.equal((body.match(/<!-- kubeflake:digest /g) ?? []).length, 1);
  assert.deepEqual(asHistory(readDigest(body)).tests.map((t) => t.name).sort(), [...names].sort(), 'the digest keeps the names exactly');
  const visible = lines.slice(2).join('\n');
  assert.doesNotMatch(visible, /@[A-Za-z]/, 'no live @-mention');
  assert.doesNotMatch(visible, /(^|[^&\w])#\d/, 'no live #-reference');
  assert.doesNotMatch(visible, /<(script|img|b>|a |iframe)/i, 'no live HTML');
  assert.equal((visible.match(/<\/details>/g) ?? []).length, (visible.match(/<details>/g) ?? []).length, 'only our own details close');
  assert.doesNotMatch(visible, /\]\(https:\/\/evil/, 'no live link');
});

/** A tracking issue body as the version before run counts were shown wrote it: a test that failed 1 of 6 runs on each of two nights. */
const OLD_BODY = [
  '<!-- kubeflake:tracking 0123456789abcdef0123 -->',
  '<!-- kubeflake:digest jZAxbsMwDEWvIvwlC91YHjwI6AF6hsCDING2EFUqKDlAEPjuhYsgadrFfyI4_PfIGy4wmpDCNNcCc7rB28ow6Nqub7RuWg1CmS0M9M6AIEv68DC61YQLiw-uwmAMyYc0FdBzNHql_9DuAe125je02wEdCJXL_eZkPze8sMvJhchF1ZmVs25mZcfKoqwSLtVKxUt3tOfrT7GU-vdp0b7u7oobsad-IIw2RPYwJ016IAh_SfaL20ymkM5TVk0zZreU98Mes4N6O4ZUWZKNR5dTlRwjC9Zh_QY -->',
  '### kubeflake nightly: 1 test fails now and then (last 2 nights)',
  '',
  '| Test | Verdict | Flake rate | First seen | Last seen | Trend | Polluter / leaked object |',
  `| <code>${A}</code> | flaky | 100% (2/2) | 2026-11-01 | 2026-11-02 | ▂▂ | — |`,
].join('\n');

test('the flake rate says nights and runs: 1 of 6 runs on each of two nights is 2 of 2 nights, 2 of 12 runs, read from a digest the earlier version wrote', () => {
  const old = asHistory(readDigest(OLD_BODY));
  assert.deepEqual(old.tests.map((t) => [t.name, t.runs, t.failed]), [[A, [6, 6], [1, 1]]], 'the earlier digest is read as it was written');
  assert.deepEqual(flakeRate(old.tests[0]!), { failingNights: 2, seenNights: 2, rate: 1, failedRuns: 2, seenRuns: 12 });
  const marker = OLD_BODY.split('\n')[0]!;
  const body = renderTrackingIssue(marker, old, { workflow: 'nightly', cleanNightsToClose: 7 });
  assert.ok(body.includes(`| <code>${A}</code> | flaky | 2 of 2 nights, 2 of 12 runs |`), body);
  assert.equal(historyNote(old, { name: A }), 'known flaky since 2026-11-01, failed in 2 of 2 nights, 2 of 12 runs');
  // A third night on top of the earlier digest: its counts carry on.
  const next = addNight(old, makeReport([{ name: A, verdict: 'flaky', failed: 1, passed: 5 }]), { date: '2026-11-03', sha: 'c'.repeat(40), runId: 103 });
  assert.equal(describeFlakeRate(flakeRate(next.tests[0]!)), '3 of 3 nights, 3 of 18 runs');
  assert.equal(describeFlakeRate({ failingNights: 1, seenNights: 1, rate: 1, failedRuns: 1, seenRuns: 1 }), '1 of 1 night, 1 of 1 run');
});
