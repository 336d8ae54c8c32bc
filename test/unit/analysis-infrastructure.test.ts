// Infrastructure runs on plain data: which runs are the environment's fault (control plane gone,
// suite setup failed, binary not built, most specs failing alike), what the report makes of
// them (shown with their cause, never judged, no history), and what an interrupted run is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, TestCase } from '../../src/model.ts';
import { firstErrorLine, infrastructureCause, judgeableRuns, INFRA_MIN_SPECS } from '../../src/analysis/infrastructure.ts';
import { buildReport } from '../../src/build-report.ts';
import { headline } from '../../src/report/findings.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { addNight, emptyHistory } from '../../src/github/history.ts';
import type { HuntData } from '../../src/hunt-log.ts';
import { run } from './analysis-sim.ts';

const REFUSED = 'Get "https://127.0.0.1:6443/api": dial tcp 127.0.0.1:6443: connect: connection refused';
const SPECS = ['A', 'B', 'C', 'D', 'E', 'F'];

function beforeSuiteFailed(id: string, seed: number): RunResult {
  const setup: TestCase = {
    id: 'Controller Suite :: [BeforeSuite]',
    name: '[BeforeSuite]',
    suite: 'Controller Suite',
    node: 'suite-setup',
    status: 'failed',
    durationMs: 3,
    failure: { message: 'Unexpected error:\n    <*fmt.wrapError>: \n    unable to start control plane itself: failed to start the controlplane. retried 5 times' },
  };
  const specs = run(id, seed, SPECS.map((name) => [name, 'skipped'] as [string, 'skipped']));
  return { ...specs, exitCode: 1, cases: [setup, ...specs.cases], order: [] };
}

const healthy = (id: string, seed: number, victim: 'passed' | 'failed' = 'passed'): RunResult =>
  run(id, seed, SPECS.map((name) => [name, name === 'D' ? victim : 'passed'] as [string, 'passed' | 'failed']));

function hunt(runs: RunResult[], threshold?: number): HuntData {
  return {
    dir: '/results',
    record: { command: ['go', 'test', './...'], framework: 'ginkgo', cluster: 'local', cwd: '/repo', baseSeed: 1, runs: runs.length, options: {}, startedAt: 0, errors: [], ignore: [], ...(threshold ? { infraThreshold: threshold } : {}) },
    errors: [],
    runs: runs.map((r) => ({ run: r, leaks: [], leftover: [], observed: true, timeline: [] })),
  };
}

test('a failed BeforeSuite makes the run an infrastructure run, with the setup error as its cause', () => {
  assert.equal(
    infrastructureCause(beforeSuiteFailed('000', 1)),
    'the suite setup failed ([BeforeSuite] in Controller Suite): Unexpected error: <*fmt.wrapError>: unable to start control plane itself: failed to start the controlplane. retried 5 times',
  );
  assert.equal(infrastructureCause(healthy('001', 2, 'failed')), undefined, 'one spec failing in a healthy run is judged as ever');
});

test('a lost control plane, a package that did not build, and most specs failing alike are infrastructure', () => {
  assert.match(infrastructureCause({ ...healthy('000', 1), controlPlaneLost: 'the API server did not answer' }) ?? '', /^the control plane stopped answering: the API server did not answer$/);
  const unbuilt = run('001', 2, [['TestMain', 'failed', 'internal/controller/x.go:12:3: undefined: reconcileFoo']]);
  assert.equal(infrastructureCause(unbuilt), 'the test binary of Controller Suite did not build: internal/controller/x.go:12:3: undefined: reconcileFoo');
  const refused = run('002', 3, SPECS.map((name) => [name, name === 'A' ? 'passed' : 'failed', REFUSED] as [string, 'passed' | 'failed', string]));
  assert.match(infrastructureCause(refused) ?? '', /^5 of 6 specs failed with ConnectionRefused \(at least 80% failing alike is the environment, not the tests\): Get "https/);
  assert.equal(infrastructureCause(refused, 0.9), undefined, 'a higher threshold than the share judges the run');
  const few = run('003', 4, SPECS.slice(0, INFRA_MIN_SPECS - 1).map((name) => [name, 'failed', REFUSED] as [string, 'failed', string]));
  assert.equal(infrastructureCause(few), undefined, `fewer than ${INFRA_MIN_SPECS} specs are findings, not a broken environment`);
  const mixed = run('004', 5, SPECS.map((name, i) => [name, 'failed', i % 2 ? REFUSED : 'Timed out after 5.000s.\nExpected <bool>: false to be true'] as [string, 'failed', string]));
  assert.equal(infrastructureCause(mixed), undefined, 'failures of different classes are the tests\' own');
});

test('a Test_ wrapper of a Ginkgo suite that failed before any spec: the setup error, not the teardown line after it', () => {
  const output = [
    '=== RUN   Test_Controllers',
    '    suite_test.go:41: starting the API server',
    '    suite_test.go:52: failed to create user: no API server authentication is configured yet',
    '    suite_test.go:77: stopping API server',
    '--- FAIL: Test_Controllers (1.02s)',
  ].join('\n');
  const wrapper: TestCase = {
    id: 'example.com/op/internal/controller :: Test_Controllers',
    name: 'Test_Controllers',
    suite: 'example.com/op/internal/controller',
    status: 'failed',
    durationMs: 1020,
    failure: { message: 'stopping API server', text: output },
  };
  const ginkgo = { importPath: 'example.com/op/internal/controller', kind: 'ginkgo' as const, exitCode: 1 };
  const setup = { ...run('000', 1, []), cases: [wrapper], testBinaries: [ginkgo] };
  assert.equal(
    infrastructureCause(setup),
    'the suite setup failed before any spec (Test_Controllers in example.com/op/internal/controller): failed to create user: no API server authentication is configured yet',
  );
  const started = { ...setup, cases: [{ ...wrapper, failure: { message: 'boom', text: `Will run 12 of 12 specs\n${output}` } }] };
  assert.equal(infrastructureCause(started), undefined, 'after "Will run N of M specs" the suite had started: a crash of its own');
  assert.equal(infrastructureCause({ ...setup, testBinaries: [{ ...ginkgo, kind: 'go' as const }] }), undefined, 'a plain Go test failing is a test');
  assert.equal(firstErrorLine({ failure: { message: 'Expected\n    <int>: 1\nto equal\n    <int>: 2' } }), 'Expected <int>: 1 to equal <int>: 2');
});

test('BeforeSuite failing in one of six runs: that run is shown with its cause; the other five are judged; nothing is flaky because of it', () => {
  const runs = [healthy('000', 1), healthy('001', 2), beforeSuiteFailed('002', 3), healthy('003', 4), healthy('004', 5), healthy('005', 6)];
  const { judged, excluded, neverRan } = judgeableRuns(runs);
  assert.deepEqual(judged.map((r) => r.id), ['000', '001', '003', '004', '005']);
  assert.equal(excluded.get('002')?.kind, 'infrastructure');
  assert.equal(neverRan, undefined);
  const report = buildReport(hunt(runs));
  assert.equal(report.verdict, 'clean', JSON.stringify(report.tests.filter((t) => t.verdict !== 'stable')));
  assert.ok(report.tests.every((t) => t.verdict === 'stable' && t.passed === 5 && t.failed === 0));
  assert.match(report.runs.find((r) => r.id === '002')?.infrastructure?.cause ?? '', /^the suite setup failed \(\[BeforeSuite\] in Controller Suite\): /);
  assert.equal(report.runs.find((r) => r.id === '000')?.infrastructure, undefined);
  assert.match(renderMarkdown(report), /\| <code>002<\/code> \| 3 \| 1, infrastructure: the suite setup failed .*\(not judged\)/);
  const night = addNight(emptyHistory(), report, { date: '2026-12-07', sha: 'a'.repeat(40), runId: 1 });
  assert.deepEqual(night.tests, [], 'no test enters the known-flaky history from an infrastructure run');
});

test('setup failing in every run: the suite never ran, nothing is judged, no test is broken, the verdict is error', () => {
  const runs = [beforeSuiteFailed('000', 1), beforeSuiteFailed('001', 2), beforeSuiteFailed('002', 3)];
  const report = buildReport(hunt(runs));
  assert.equal(report.verdict, 'error');
  assert.ok(!report.tests.some((t) => t.verdict === 'broken' || t.verdict === 'flaky'), JSON.stringify(report.tests));
  assert.match(report.neverRan ?? '', /^the suite setup failed \(\[BeforeSuite\] in Controller Suite\): Unexpected error:/);
  assert.equal(headline(report), `the suite never ran: ${report.neverRan}; nothing was judged`);
  assert.equal(report.errors?.[0], headline(report));
  assert.ok(report.runs.every((r) => r.infrastructure), 'every run kept, with its cause');
});

test('an interrupted run is neither a pass nor a fail: excluded, shown, and not an infrastructure run', () => {
  const cut = { ...run('001', 2, [['A', 'passed'], ['D', 'failed', 'did not finish: its package failed']]), interrupted: 'SIGTERM' };
  const runs = [healthy('000', 1), cut];
  const { judged, excluded, neverRan } = judgeableRuns(runs);
  assert.deepEqual(judged.map((r) => r.id), ['000']);
  assert.deepEqual(excluded.get('001'), { kind: 'interrupted', signal: 'SIGTERM' });
  assert.equal(neverRan, undefined);
  const report = buildReport(hunt(runs));
  assert.equal(report.tests.find((t) => t.name === 'D')?.verdict, 'stable');
  assert.deepEqual(report.runs.find((r) => r.id === '001')?.interrupted, { signal: 'SIGTERM' });
});

test('the HTML report shows an infrastructure run with its cause and an interrupted run with its signal, escaped', async () => {
  const { renderHtml } = await import('../../src/report/html.ts');
  const cut = { ...healthy('002', 3), interrupted: 'SIGTERM' };
  const html = renderHtml(buildReport(hunt([healthy('000', 1), beforeSuiteFailed('001', 2), cut])));
  assert.match(html, /infrastructure: not judged<\/span> the suite setup failed \(\[BeforeSuite\] in Controller Suite\): Unexpected error: &#60;\*fmt\.wrapError&#62;/);
  assert.match(html, /interrupted by SIGTERM: not judged/);
});
