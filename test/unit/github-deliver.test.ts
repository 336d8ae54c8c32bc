// What a step does with a finished Report (github/deliver.ts), recorded through the ActionsStep
// interface instead of @actions/core: annotations only at repository paths, the summary before
// anything is published (and the log when there is no summary), quarantine, outputs, outcome.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deliverReport, type ActionsStep, type DeliverySettings } from '../../src/github/deliver.ts';
import type { Report } from '../../src/model.ts';
import { makeReport } from './github-fixtures.ts';

interface Told {
  said: string[];
  annotations: { level: string; message: string; properties: { title: string; file?: string; startLine?: number } }[];
  summary: string[];
  outputs: Map<string, string>;
  failed: string[];
}

async function deliver(report: Report, overrides: Partial<DeliverySettings> = {}, summaryWorks = true): Promise<Told> {
  const told: Told = { said: [], annotations: [], summary: [], outputs: new Map(), failed: [] };
  const step: ActionsStep = {
    info: (line) => void told.said.push(line),
    warning: (message) => void told.said.push(`warning: ${message}`),
    annotate: (level, message, properties) => void told.annotations.push({ level, message, properties }),
    appendSummary: async (markdown) => {
      if (!summaryWorks) throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY');
      told.summary.push(markdown);
    },
    setOutput: (name, value) => void told.outputs.set(name, value),
    setFailed: (message) => void told.failed.push(message),
  };
  const context = { event: { name: 'push' }, sha: 'c'.repeat(40), runId: 7, runAttempt: 1, workflow: 'ci', job: 'hunt', apiUrl: 'https://api.github.com', serverUrl: 'https://github.com', workspace: '/home/runner/work/operator', repository: { owner: 'octo-org', repo: 'operator' } };
  const settings: DeliverySettings = {
    outputDir: '/home/runner/work/operator/kubeflake-results',
    failOn: 'findings',
    quarantine: [],
    publish: { token: '', context, target: 'summary', comment: 'always', commentKey: '', trackingLabel: 'kubeflake', cleanNightsToClose: 7 },
    ...overrides,
  };
  await deliverReport(settings, { report, dirs: ['/home/runner/work/operator/kubeflake-results'], now: '2026-12-07T03:00:00Z' }, step);
  return told;
}

test('a finding is annotated at its repository path, the summary is written, the outputs are set and the step fails', async () => {
  const report = makeReport([{ name: 'creates iris2', verdict: 'order-dependent', failed: 2, polluter: 'deletes iris2', file: '/home/runner/work/operator/internal/controller/modelcache_test.go', line: 88 }, { name: 'deletes iris2' }]);
  const told = await deliver(report);
  const finding = told.annotations.find((a) => a.properties.title === 'Order-dependent test: creates iris2');
  assert.deepEqual(finding?.properties, { title: 'Order-dependent test: creates iris2', file: 'internal/controller/modelcache_test.go', startLine: 88 }, 'the workspace path made repository-relative');
  assert.equal(finding?.level, 'failure');
  assert.match(told.summary[0] ?? '', /^<!-- kubeflake:report -->\n### ❌ kubeflake · 1 order-dependent test/);
  assert.equal(told.outputs.get('verdict'), 'findings');
  assert.equal(told.outputs.get('order-dependent'), '1');
  assert.equal(told.outputs.get('report'), join('/home/runner/work/operator/kubeflake-results', 'report.json'));
  assert.equal(told.outputs.get('results'), '/home/runner/work/operator/kubeflake-results');
  assert.deepEqual(told.failed, ['kubeflake found 1 unstable test(s); see the job summary']);
});

test('an annotation at a path outside the repository is shown without a place; no job summary is said in the log', async () => {
  const report = makeReport([{ name: 'flakes', verdict: 'flaky', file: '/elsewhere/flake_test.go' }]);
  const told = await deliver(report, { failOn: 'never' }, false);
  assert.deepEqual(told.annotations.map((a) => a.properties), [{ title: 'Flaky test: flakes' }]);
  assert.ok(told.said.some((line) => /^kubeflake: could not write the job summary \(Unable to find environment variable/.test(line)), told.said.join('\n'));
  assert.deepEqual(told.failed, [], 'fail-on: never');
  assert.equal(told.outputs.get('flaky'), '1');
});

test('a quarantined finding does not fail the step; an expired entry warns and counts again', async () => {
  const report = makeReport([{ name: 'creates iris2', verdict: 'flaky' }, { name: 'evicts', verdict: 'broken' }]);
  const told = await deliver(report, {
    quarantine: [
      { test: 'creates iris2', reason: 'tracked in #12', source: 'the quarantine input' },
      { test: 'evicts', reason: 'old', expires: '2020-01-01', source: 'the quarantine input' },
    ],
  });
  assert.equal(told.outputs.get('quarantined'), '1');
  assert.ok(told.said.includes('warning: quarantine entry "evicts" (the quarantine input) expired on 2020-01-01: its failures count again; fix the test or extend the date.'));
  assert.deepEqual(told.failed, ['kubeflake found 1 unstable test(s) (and 1 quarantined); see the job summary']);
  assert.match(told.summary[0] ?? '', /\*\*Quarantined\*\* \(1\)/);
});

test('a report that could not finish fails the step with its errors unless fail-on is never', async () => {
  const report: Report = { ...makeReport([{ name: 'a' }]), verdict: 'error', errors: ['the cluster stopped answering after 003'] };
  assert.deepEqual((await deliver(report)).failed, ['kubeflake could not finish: the cluster stopped answering after 003']);
  assert.deepEqual((await deliver(report, { failOn: 'error' })).failed, ['kubeflake could not finish: the cluster stopped answering after 003']);
  assert.deepEqual((await deliver(report, { failOn: 'never' })).failed, []);
});
