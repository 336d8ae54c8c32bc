// The action's inputs: action.yml and the table in settings.ts agree, every input is checked,
// the event decides where to publish, quarantine comes from the input and the repository file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ACTION_INPUTS, INPUTS, SettingsError, explainFailure, parseActionSettings, type InputName } from '../../src/settings.ts';

const actionYml = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as { inputs: Record<string, { default?: string; required?: boolean }> };

test('action.yml declares exactly the inputs settings.ts reads, with the same defaults', () => {
  assert.deepEqual(Object.keys(actionYml.inputs).sort(), [...ACTION_INPUTS].sort());
  for (const name of ACTION_INPUTS) {
    const declared = actionYml.inputs[name]!.default;
    assert.equal(declared, INPUTS[name].actionDefault, `${name}: action.yml default ${JSON.stringify(declared)}`);
  }
});

/** Reads inputs the way core.getInput does: the action.yml default when the workflow sets none. */
function reader(given: Partial<Record<InputName, string>>): (name: InputName) => string {
  return (name) => given[name] ?? (actionYml.inputs[name]?.default ?? '').replace('${{ github.token }}', 'workflow-token');
}

function workspace(): string {
  return mkdtempSync(join(tmpdir(), 'kubeflake-settings-'));
}

function eventEnv(dir: string, name: string, payload: unknown): NodeJS.ProcessEnv {
  const path = join(dir, 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return { GITHUB_WORKSPACE: dir, GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: path, GITHUB_REPOSITORY: 'octo-org/operator', GITHUB_SHA: 'f'.repeat(40), GITHUB_RUN_ID: '42', GITHUB_WORKFLOW: 'pr', GITHUB_JOB: 'hunt' };
}

test('every input is checked: a typo in fail-on, comment or mode is an error naming the input', () => {
  const env = { GITHUB_WORKSPACE: workspace() };
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', 'fail-on': 'finding' }), env), (e: unknown) => e instanceof SettingsError && /fail-on must be one of findings, error, never; got "finding"/.test(e.message));
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', comment: 'sometimes' }), env), /comment must be one of always, on-findings, changes, off/);
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', mode: 'merge' }), env), /mode must be one of run, report, nightly/);
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', 'clean-nights-to-close': 'a week' }), env), /clean-nights-to-close must be a whole number/);
  assert.throws(() => parseActionSettings(reader({}), env), /the `command` input is empty: give the test command/);
  assert.throws(() => parseActionSettings(reader({ mode: 'report', command: 'ginkgo' }), env), /mode: report .* runs no command/);
});

test('the action defaults to cluster auto, which makes kind (runners have Docker) only for the existing-cluster mode', () => {
  const settings = parseActionSettings(reader({ command: 'ginkgo ./...' }), { GITHUB_WORKSPACE: workspace() });
  assert.equal(settings.hunt!.cluster, 'auto');
  assert.equal(settings.hunt!.autoCluster, 'kind');
  assert.equal(settings.hunt!.useExistingCluster, false);
  assert.equal(parseActionSettings(reader({ command: 'x', 'use-existing-cluster': 'true' }), { GITHUB_WORKSPACE: workspace() }).hunt!.testEnv.USE_EXISTING_CLUSTER, 'true');
  assert.equal(settings.failOn, 'findings');
  assert.equal(settings.publish.token, 'workflow-token');
  assert.equal(settings.verbose, false);
  assert.equal(parseActionSettings(reader({ command: 'x' }), { GITHUB_WORKSPACE: workspace(), RUNNER_DEBUG: '1' }).verbose, true, 'a debug re-run shows stacks');
});

test('the event decides the target: pull_request comments, schedule tracks, workflow_run of a PR comments', () => {
  const dir = workspace();
  const pr = parseActionSettings(reader({ command: 'x' }), eventEnv(dir, 'pull_request', {
    pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'fork/operator' } }, base: { repo: { full_name: 'octo-org/operator' } } },
  }));
  assert.equal(pr.publish.target, 'pull-request');
  assert.deepEqual(pr.publish.context.event.pullRequest, { number: 7, headSha: 'a'.repeat(40), fromFork: true });
  assert.deepEqual(pr.publish.context.repository, { owner: 'octo-org', repo: 'operator' });
  assert.equal(parseActionSettings(reader({ command: 'x' }), eventEnv(dir, 'schedule', { schedule: '0 3 * * *' })).publish.target, 'tracking-issue');
  assert.equal(parseActionSettings(reader({ command: 'x', mode: 'nightly' }), eventEnv(dir, 'push', {})).publish.target, 'tracking-issue');
  assert.equal(parseActionSettings(reader({ command: 'x' }), eventEnv(dir, 'push', {})).publish.target, 'summary');
  mkdirSync(join(dir, 'artifacts', 'shard-1'), { recursive: true });
  mkdirSync(join(dir, 'artifacts', 'shard-2'));
  const fromRun = parseActionSettings(reader({ mode: 'report', results: 'artifacts/*' }), eventEnv(dir, 'workflow_run', {
    workflow_run: { id: 5, head_sha: 'b'.repeat(40), event: 'pull_request', pull_requests: [] },
  }));
  assert.equal(fromRun.mode, 'report');
  assert.equal(fromRun.hunt, undefined);
  assert.deepEqual(fromRun.resultsDirs, [join(dir, 'artifacts', 'shard-1'), join(dir, 'artifacts', 'shard-2')], 'the globs are expanded when the settings are parsed');
  assert.equal(fromRun.publish.target, 'pull-request');
  assert.deepEqual(fromRun.publish.context.event.workflowRun, { id: 5, headSha: 'b'.repeat(40), event: 'pull_request', pullRequests: [] });
  const broken = eventEnv(dir, 'push', {});
  writeFileSync(join(dir, 'event.json'), '{not json');
  assert.throws(() => parseActionSettings(reader({ command: 'x' }), broken), /GITHUB_EVENT_PATH=.*event\.json is not JSON/);
});

test('quarantine: the input and .kubeflake/quarantine.yaml both apply; a broken file is named', () => {
  const dir = workspace();
  mkdirSync(join(dir, '.kubeflake'));
  writeFileSync(join(dir, '.kubeflake', 'quarantine.yaml'), 'tests:\n  - test: "Tenant *"\n    reason: quota webhook races, see #12\n    expires: 2026-12-31\n');
  const settings = parseActionSettings(reader({ command: 'x', quarantine: '- test: creates iris2\n  reason: fixed in #40' }), { GITHUB_WORKSPACE: dir });
  assert.deepEqual(settings.quarantine.map((e) => [e.test, e.expires, e.source]), [
    ['creates iris2', undefined, 'the quarantine input'],
    ['Tenant *', '2026-12-31', join('.kubeflake', 'quarantine.yaml')],
  ]);
  writeFileSync(join(dir, '.kubeflake', 'quarantine.yaml'), '- test: x\n  expires: next week\n');
  assert.throws(() => parseActionSettings(reader({ command: 'x' }), { GITHUB_WORKSPACE: dir }), (e: unknown) => e instanceof SettingsError && /quarantine\.yaml entry 1: expires must be a date like 2026-12-31; got "next week"/.test(e.message));
});

test('a user error is its message alone; a bug says so and shows its stack only when debugging', () => {
  const user = explainFailure(new SettingsError('runs must be a whole number from 1 to 1000; got "many"'), true, 'use --verbose');
  assert.deepEqual(user, { message: 'runs must be a whole number from 1 to 1000; got "many"' });
  let bug: unknown;
  try {
    (undefined as unknown as { verdict: string }).verdict.toUpperCase();
  } catch (error) {
    bug = new Error('building the report failed', { cause: error });
  }
  const quiet = explainFailure(bug, false, 'use --verbose');
  assert.match(quiet.message, /^kubeflake hit a bug: Error: building the report failed \(caused by: Cannot read properties of undefined \(reading 'verdict'\)\)/);
  assert.equal(quiet.detail, 'use --verbose');
  const loud = explainFailure(bug, true, 'use --verbose');
  assert.match(loud.detail!, /at TestContext/, 'the stack');
});

test('matrix shards share the workflow run id as their seed; the merge job probes only with a command and mode report', () => {
  const dir = workspace();
  const env = { GITHUB_WORKSPACE: dir, GITHUB_RUN_ID: '987654' };
  const shard = parseActionSettings(reader({ command: 'ginkgo ./...', shard: '2/3', runs: '6' }), env);
  assert.deepEqual(shard.hunt?.shard, { index: 1, count: 3 });
  assert.equal(shard.hunt?.baseSeed, 987654, 'every leg of one workflow run derives the same seeds');
  for (const name of ['shard-2', 'shard-1']) mkdirSync(join(dir, name));
  const merge = parseActionSettings(reader({ mode: 'report', 'probe-after-merge': 'true', command: 'ginkgo ./...', results: 'shard-*' }), env);
  assert.equal(merge.probeAfterMerge, true);
  assert.ok(merge.hunt, 'the merge job hunts (probes) in its own cluster');
  assert.equal(merge.hunt.resultsDir, join(dir, 'kubeflake-merged'));
  assert.deepEqual(merge.hunt.mergeFrom, [join(dir, 'shard-1'), join(dir, 'shard-2')], 'the hunt merges the shards\' directories, set once when parsed');
  assert.deepEqual(merge.resultsDirs, merge.hunt.mergeFrom);
  assert.throws(() => parseActionSettings(reader({ mode: 'report', results: 'downloads/*' }), env), /results "downloads\/\*" names no directory under .*: did the download-artifact step run/);
  assert.throws(() => parseActionSettings(reader({ mode: 'report', 'probe-after-merge': 'true' }), env), /probe-after-merge runs the probes in this job's cluster: give the test command/);
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', 'probe-after-merge': 'true' }), env), /probe-after-merge belongs to the merge job \(mode: report\)/);
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', shard: '4/3' }), env), /shard must be k\/n/);
});

test('on a pull request the specs changed since its base are hunted harder; elsewhere only with changed-since; infra-threshold is a share', () => {
  const dir = workspace();
  const base = 'b'.repeat(40);
  const pr = { number: 7, pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'octo-org/operator' } }, base: { sha: base, repo: { full_name: 'octo-org/operator' } } } };
  const onPr = parseActionSettings(reader({ command: 'ginkgo ./...' }), eventEnv(dir, 'pull_request', pr));
  assert.equal(onPr.hunt!.changedSince, base);
  assert.equal(onPr.hunt!.changedRuns, 10);
  assert.equal(onPr.hunt!.infraThreshold, 0.8);
  const given = parseActionSettings(reader({ command: 'ginkgo ./...', 'changed-since': 'origin/release-1', 'changed-runs': '4', 'infra-threshold': '90%' }), eventEnv(dir, 'pull_request', pr));
  assert.equal(given.hunt!.changedSince, 'origin/release-1', 'an explicit ref wins over the PR base');
  assert.equal(given.hunt!.changedRuns, 4);
  assert.equal(given.hunt!.infraThreshold, 0.9);
  const nightly = parseActionSettings(reader({ command: 'ginkgo ./...' }), eventEnv(dir, 'schedule', {}));
  assert.equal(nightly.hunt!.changedSince, undefined, 'outside a PR nothing changes unless changed-since is given');
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', 'infra-threshold': '120%' }), eventEnv(dir, 'schedule', {})), /infra-threshold must be a share of the specs like 80%/);
  assert.throws(() => parseActionSettings(reader({ command: 'ginkgo ./...', 'infra-threshold': '0' }), eventEnv(dir, 'schedule', {})), /infra-threshold must be a share/);
});
