// Retries written as repeated <testcase> elements (gotestsum --rerun-fails, pytest rerun plugins,
// web-test-runner) become one case with `retries`, and the analysis counts "failed, then passed
// in the same run" as flaky evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseReport } from '../../src/ingest/parse.ts';
import { mergeAttempts } from '../../src/ingest/junit-xml.ts';
import { analyze } from '../../src/analysis/verdicts.ts';
import type { RunResult, TestCase, TestStatus } from '../../src/model.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url));
const PKG = 'kubeflake.test/fixtures/rerun';

function attempt(name: string, status: TestStatus, message?: string): TestCase {
  return { id: `s :: ${name}`, name, suite: 's', status, durationMs: 1, ...(message ? { failure: { message } } : {}) };
}

test('gotestsum --rerun-fails (real output): the failed first attempt and the passing rerun are one passing case with a retry', async () => {
  const r = await parseReport(fixture('gotestsum-rerun.xml'));
  assert.equal(r.dialect, 'gotestsum');
  assert.deepEqual(r.cases.map((c) => [c.id, c.status]), [
    [`${PKG} :: TestFailsFirstAttempt`, 'passed'],
    [`${PKG} :: TestStable`, 'passed'],
  ]);
  const [retried] = r.cases;
  assert.equal(retried!.retries?.length, 1);
  assert.equal(retried!.retries![0]!.status, 'failed');
  assert.match(retried!.retries![0]!.failure!.text!, /object is being deleted: widgets.example.com "iris2" already exists/);
  assert.equal(retried!.failure, undefined, 'the final attempt passed');
});

test('mergeAttempts: the last attempt decides, earlier failures become retries, in the first attempt\'s place', () => {
  const cases = [attempt('A', 'failed', 'first'), attempt('B', 'passed'), attempt('A', 'failed', 'second'), attempt('A', 'passed')];
  const merged = mergeAttempts(cases, 'gotestsum');
  assert.deepEqual(merged.map((c) => [c.name, c.status]), [['A', 'passed'], ['B', 'passed']]);
  assert.deepEqual(merged[0]!.retries, [{ status: 'failed', failure: { message: 'first' } }, { status: 'failed', failure: { message: 'second' } }]);
  // Failing every attempt: one failed case, its last failure kept.
  const stuck = mergeAttempts([attempt('A', 'failed', 'one'), attempt('A', 'failed', 'two')], 'junit');
  assert.deepEqual(stuck.map((c) => [c.status, c.failure?.message, c.retries?.length]), [['failed', 'two', 1]]);
});

test('mergeAttempts leaves repetitions alone: a pass before another attempt (go test -count=2), and Ginkgo table entries of one name', () => {
  const counted = [attempt('A', 'passed'), attempt('A', 'failed', 'x')];
  assert.deepEqual(mergeAttempts(counted, 'gotestsum'), counted);
  const table = [attempt('A', 'failed', 'x'), attempt('A', 'passed')];
  assert.deepEqual(mergeAttempts(table, 'ginkgo-junit'), table);
});

test('analysis: a test that failed then passed on rerun in every run is flaky, not broken', async () => {
  const { cases } = await parseReport(fixture('gotestsum-rerun.xml'));
  const runs: RunResult[] = ['000', '001', '002'].map((id, seed) => ({
    id,
    seed,
    probe: false,
    command: ['gotestsum', '--rerun-fails'],
    exitCode: 0,
    timedOut: false,
    startedAt: 0,
    endedAt: 0,
    durationMs: 0,
    orderSource: 'junit-document',
    order: cases.map((c) => c.id),
    cases,
    reports: ['junit/report.xml'],
    warnings: [],
  }));
  const tests = analyze({ runs, framework: 'go', command: ['go', 'test', './...'] });
  const retried = tests.find((t) => t.id === `${PKG} :: TestFailsFirstAttempt`)!;
  assert.equal(retried.verdict, 'flaky');
  assert.match(retried.why ?? '', /only after a retry in 000, 001, 002/);
  assert.equal(tests.find((t) => t.id === `${PKG} :: TestStable`)!.verdict, 'stable');
});
