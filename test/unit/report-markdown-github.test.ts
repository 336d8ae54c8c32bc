// What the markdown renderer adds for GitHub: repository-relative links at the run's commit, the
// API error first in a failure quote, notes and a quarantine section; and a 5,000-test suite
// with 300 failing tests fitting every GitHub limit (comment, summary, annotations).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GITHUB_COMMENT_LIMIT, GITHUB_SUMMARY_BYTES, apiErrorFirst, renderMarkdown, renderSummary, sourceUrl } from '../../src/report/markdown.ts';
import { renderAnnotations, selectAnnotations } from '../../src/report/annotations.ts';
import { withRepositoryPaths } from '../../src/github/paths.ts';
import { startGitHubServer } from '../support/github-server.ts';
import { publish } from '../../src/github/publish.ts';
import { HEAD_SHA, makeReport, publishSettings, pullRequestEvent, type TestSpec } from './github-fixtures.ts';

const source = { serverUrl: 'https://github.example', repository: 'octo-org/operator', sha: HEAD_SHA };

test('file locations are repository-relative and link to the file at the run\'s commit', () => {
  const report = withRepositoryPaths(makeReport([{ name: 'creates iris2', verdict: 'order-dependent', file: '/home/runner/work/operator/operator/internal/controller/model cache_test.go', line: 88 }]), '/home/runner/work/operator/operator');
  assert.equal(report.tests[0]!.file, 'internal/controller/model cache_test.go');
  const md = renderMarkdown(report, { source });
  assert.ok(md.includes('[internal/controller/model cache&#95;test.go:88](https://github.example/octo-org/operator/blob/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/internal/controller/model%20cache_test.go#L88)'), md);
  assert.ok(!md.includes('/home/runner'), 'no runner path anywhere');
  // A path outside the workspace stays as it was and is not linked.
  const outside = withRepositoryPaths(makeReport([{ name: 'x', verdict: 'flaky', file: '/usr/lib/go/src/testing.go' }]), '/home/runner/work/operator/operator');
  assert.ok(!renderMarkdown(outside, { source }).includes('](https://github.example'), 'an absolute path is not linked');
  assert.equal(sourceUrl({ ...source, serverUrl: 'javascript:alert(1)//' }, 'a.go', 1), undefined);
});

test('a failure quote shows the API error message before the Go struct dump', () => {
  const dump = 'Unexpected error:\n    <*errors.StatusError | 0xc000a2c000>: {\n        ErrStatus: {\n            TypeMeta: {Kind: "", APIVersion: ""},\n            Status: "Failure",\n            Message: "object is being deleted: modelcaches.cache.example.com \\"iris2\\" already exists",\n            Reason: "AlreadyExists",\n        },\n    }';
  const out = apiErrorFirst(dump);
  assert.ok(out.startsWith('object is being deleted: modelcaches.cache.example.com "iris2" already exists\n\n'), out);
  assert.equal(apiErrorFirst('Expected true to be false'), 'Expected true to be false');
});

test('notes and quarantine: a finding says what the nightly history knows; quarantined tests get their own section', () => {
  const report = makeReport([{ name: 'creates iris2', verdict: 'order-dependent' }, { name: 'flakes @team', verdict: 'flaky' }]);
  const [victim, flaky] = report.tests;
  const md = renderMarkdown(report, { notes: new Map([[victim!.id, 'known flaky since 2026-11-02, failed 3 of 9 nights (33%)']]), quarantined: new Map([[flaky!.id, 'tracked in #12 by @ops']]) });
  assert.ok(md.includes('known flaky since 2026-11-02, failed 3 of 9 nights (33%)'));
  const section = md.slice(md.indexOf('**Quarantined** (1)'));
  assert.ok(section.includes('<code>flakes &#64;team</code> — tracked in &#35;\u200b12 by @\u200bops'), section.slice(0, 300));
});

test('5,000 tests with 300 failing fit every GitHub limit: comment, job summary, annotations', async () => {
  const specs: TestSpec[] = Array.from({ length: 5000 }, (_, i) => {
    const name = `Tenant controller when tenant ${i} is created with a quota of ${i % 17} pods and a webhook that is slow to answer eventually admits the workload ${'x'.repeat(i % 40)}`;
    if (i % 16 !== 0 || i >= 4800) return { name, file: `/home/runner/work/operator/operator/internal/tenant/tenant_${i % 30}_test.go`, line: i };
    const verdict = (['order-dependent', 'flaky', 'brittle', 'broken'] as const)[(i / 16) % 4]!;
    return { name, verdict, polluter: verdict === 'order-dependent' ? `setup tenant ${i - 1}` : undefined, file: `/home/runner/work/operator/operator/internal/tenant/tenant_${i % 30}_test.go`, line: i };
  });
  const report = withRepositoryPaths(makeReport(specs), '/home/runner/work/operator/operator');
  assert.equal(report.tests.filter((t) => t.verdict !== 'stable').length, 300);

  const summary = renderSummary(report, { source });
  assert.ok(Buffer.byteLength(summary) <= GITHUB_SUMMARY_BYTES, `summary ${Buffer.byteLength(summary)} bytes`);
  assert.match(summary, /\| Verdict \| Test \|/);

  const { shown, omitted } = selectAnnotations(renderAnnotations(report));
  for (const level of ['failure', 'warning', 'notice'] as const) assert.ok(shown.filter((a) => a.level === level).length <= 10, level);
  assert.equal(shown.filter((a) => a.level === 'failure').length, 10, 'the first ten victims, brittle and broken tests');
  assert.equal(shown.filter((a) => a.level === 'warning').length, 10, 'the first ten flaky tests');
  assert.ok(shown.length <= 50);
  assert.ok(omitted > 0);
  assert.ok(shown.every((a) => a.title.length <= 255));
  assert.ok(shown.every((a) => !a.file.startsWith('/')), 'annotation paths are repository-relative');
  assert.match(shown.at(-1)!.title, new RegExp(`${omitted} more annotations left out`));

  // The comment goes through the local server, which refuses a body over 65,536 characters.
  const server = await startGitHubServer();
  try {
    const pr = server.addPullRequest(HEAD_SHA);
    const outcome = await publish({ report, settings: publishSettings(server, pullRequestEvent(pr)), markdown: { source }, now: '2026-11-20T10:00:00Z', log: () => {} });
    assert.ok(outcome.commentUrl, outcome.notes.join('\n'));
    const body = server.state.comments[0]!.body;
    assert.ok(body.length <= GITHUB_COMMENT_LIMIT);
    assert.match(body, /more findings; see the \[full report\]|more findings/);
    assert.deepEqual(server.violations, []);
  } finally {
    await server.close();
  }
});
