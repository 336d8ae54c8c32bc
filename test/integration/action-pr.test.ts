// The action as the runner runs it: INPUT_* variables with action.yml's defaults, a real-shaped
// event file, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files, GITHUB_API_URL at the local GitHub
// server (which checks every call against GitHub's OpenAPI description). The bundle is built
// from src/ into a temporary action folder (dist/ is never committed by tests) and hunts the
// runner's order-dependent Ginkgo suite on the shared control plane; the other cases run
// src/main.ts over the results directory that hunt left, as a `mode: report` job would.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { runProcess } from '../../src/exec.ts';
import { projectRoot } from '../support/paths.ts';
import { useCluster } from '../support/cluster.ts';
import { ginkgoCli, runnerFixture } from '../support/ginkgo.ts';
import { startGitHubServer, type GitHubServer } from '../support/github-server.ts';
import { READ_ONLY_HINT } from '../../src/github/publish.ts';

const HEAD = '3f2a9c1e8b7d6f5a4c3b2a1f0e9d8c7b6a5f4e3d';
const work = mkdtempSync(join(tmpdir(), 'kubeflake-action-'));
const workspace = join(work, 'operator');
let server: GitHubServer;
let bundle: string;
let pr: number;

/** tsc and ncc into a temporary action folder laid out like the published action (dist/, tools/). */
async function buildBundle(): Promise<string> {
  const bin = join(projectRoot, 'node_modules', '.bin');
  symlinkSync(join(projectRoot, 'node_modules'), join(work, 'node_modules'));
  // ncc bundles an ES module only when the nearest package.json says so, as the repository's does.
  cpSync(join(projectRoot, 'package.json'), join(work, 'package.json'));
  const tsc = await runProcess([join(bin, 'tsc'), '-p', join(projectRoot, 'tsconfig.build.json'), '--outDir', join(work, 'lib')], { cwd: projectRoot, capture: true });
  assert.equal(tsc.exitCode, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  const action = join(work, 'action');
  const ncc = await runProcess([join(bin, 'ncc'), 'build', join(work, 'lib', 'main.js'), '-o', join(action, 'dist'), '--quiet'], { cwd: projectRoot, capture: true });
  assert.equal(ncc.exitCode, 0, `ncc: ${ncc.stdout}${ncc.stderr}`);
  symlinkSync(join(projectRoot, 'tools'), join(action, 'tools'));
  cpSync(join(projectRoot, 'action.yml'), join(action, 'action.yml'));
  return join(action, 'dist', 'index.js');
}

const actionYml = parse(readFileSync(join(projectRoot, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
const repository = { full_name: 'octo-org/operator', name: 'operator', owner: { login: 'octo-org', type: 'Organization' }, private: false, html_url: 'https://github.example/octo-org/operator' };

function pullRequestEvent(number: number) {
  return {
    action: 'synchronize',
    number,
    pull_request: {
      number,
      state: 'open',
      title: 'Make the reconciler idempotent',
      html_url: `https://github.example/octo-org/operator/pull/${number}`,
      user: { login: 'contributor', type: 'User' },
      head: { ref: 'idempotent', sha: HEAD, repo: { ...repository, full_name: 'octo-org/operator' } },
      base: { ref: 'main', sha: 'e'.repeat(40), repo: repository },
    },
    repository,
    sender: { login: 'contributor', type: 'User' },
  };
}

interface ActionRun {
  exitCode: number | null;
  log: string;
  outputs: Record<string, string>;
  summary: string;
}

interface RunOptions {
  entry: 'bundle' | 'src';
  inputs: Record<string, string>;
  eventName: string;
  event: unknown;
  token?: string;
  workflow?: string;
  runId?: number;
  env?: Record<string, string>;
}

async function runAction(options: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(work, 'step-'));
  const files = { event: join(dir, 'event.json'), output: join(dir, 'output'), summary: join(dir, 'summary.md') };
  writeFileSync(files.event, JSON.stringify(options.event));
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(key)) env[key] = value;
  // The runner sets every input: the workflow's value, else action.yml's default.
  for (const [name, spec] of Object.entries(actionYml.inputs)) {
    const value = options.inputs[name] ?? (spec.default ?? '').replace('${{ github.token }}', options.token ?? 'workflow-token');
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  const ginkgo = await ginkgoCli();
  Object.assign(env, {
    PATH: `${ginkgo.binDir}${delimiter}${process.env.PATH}`,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.eventName,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REPOSITORY: 'octo-org/operator',
    GITHUB_SHA: 'c'.repeat(40),
    GITHUB_RUN_ID: String(options.runId ?? 5001),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: options.workflow ?? 'kubeflake',
    GITHUB_JOB: 'hunt',
    GITHUB_API_URL: server.url,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_WORKSPACE: workspace,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_OUTPUT: files.output,
    RUNNER_TEMP: dir,
    ...options.env,
  });
  const argv = options.entry === 'bundle' ? [process.execPath, bundle] : [process.execPath, join(projectRoot, 'src', 'main.ts')];
  const result = await runProcess(argv, { cwd: workspace, env, capture: true, timeoutMs: 300_000 });
  return { exitCode: result.exitCode, log: result.stdout + result.stderr, outputs: readOutputs(readFileSync(files.output, 'utf8')), summary: readFileSync(files.summary, 'utf8') };
}

/** The workflow commands (annotations, groups) in a step's log. */
function commands(log: string): string {
  return log.split('\n').filter((line) => line.startsWith('::') && !line.startsWith('::group') && !line.startsWith('::endgroup')).join('\n');
}

/** GITHUB_OUTPUT's `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function readOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
  return outputs;
}

before(async () => {
  server = await startGitHubServer();
  pr = server.addPullRequest(HEAD);
  mkdirSync(workspace);
  // The operator's checkout: the runner fixture module, with the order-dependent suite.
  cpSync(runnerFixture, join(workspace, 'runner'), { recursive: true });
  // actions/checkout leaves a git repository: report paths are relative to its root.
  const init = await runProcess(['git', 'init', '--quiet', workspace], { capture: true });
  assert.equal(init.exitCode, 0, init.stderr);
  bundle = await buildBundle();
});

after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const own = () => server.state.comments.filter((c) => c.issue === pr && c.login === 'github-actions[bot]');

test('dist/index.js hunts on a pull_request, comments, annotates with repository paths, and a second run updates the same comment', { timeout: 900_000 }, async () => {
  const cluster = await useCluster();
  const first = await runAction({
    entry: 'bundle',
    eventName: 'pull_request',
    event: pullRequestEvent(pr),
    inputs: { command: 'ginkgo ./...', 'working-directory': 'runner/ginkgo/ordersuite', cluster: 'existing', kubeconfig: cluster.kubeconfigPath, runs: '2', seed: '7', 'max-probes': '6' },
  });
  assert.equal(first.exitCode, 1, `findings fail the step (fail-on: findings)\n${first.log}`);
  assert.equal(first.outputs.verdict, 'findings', first.log);
  // Two runs may not give the probes enough to confirm the polluter: the victim is a finding either way.
  assert.equal(first.outputs.findings, '1');
  assert.match(first.outputs['comment-url'] ?? '', /^https:\/\/github\.example\/octo-org\/operator\/pull\/1#issuecomment-\d+$/);
  assert.equal(first.outputs.results, join(workspace, 'kubeflake-results'));
  assert.ok(existsSync(join(workspace, 'kubeflake-results', 'report.json')));
  assert.deepEqual(JSON.parse(readFileSync(join(workspace, 'kubeflake-results', 'github-event.json'), 'utf8')), { pullRequest: { number: pr, headSha: HEAD } });
  assert.match(first.summary, /Shared state victim/);
  assert.match(first.log, /::(error|warning) title=(Order-dependent|Flaky) test%3A Shared state victim,file=runner\/ginkgo\/ordersuite\/suite_test\.go,line=\d+::/, commands(first.log));
  assert.ok(!first.log.includes(`file=${workspace}`), 'no absolute runner paths in annotations');
  const comments = own();
  assert.equal(comments.length, 1);
  assert.match(comments[0]!.body, /Shared state victim/);
  assert.match(comments[0]!.body, /\[runner\/ginkgo\/ordersuite\/suite&#95;test\.go:\d+\]\(https:\/\/github\.example\/octo-org\/operator\/blob\/3f2a9c1e8b7d6f5a4c3b2a1f0e9d8c7b6a5f4e3d\/runner\/ginkgo\/ordersuite\/suite_test\.go#L\d+\)/);

  // The same job again (a re-run, or the merge step): one comment, updated in place.
  const second = await runAction({ entry: 'bundle', eventName: 'pull_request', event: pullRequestEvent(pr), runId: 5002, inputs: { mode: 'report', command: '' } });
  assert.equal(second.exitCode, 1, second.log);
  assert.equal(second.outputs['comment-url'], first.outputs['comment-url']);
  assert.equal(own().length, 1);
  assert.ok(server.requests.some((r) => r.method === 'PATCH' && r.path === `/repos/octo-org/operator/issues/comments/${comments[0]!.id}`));
  assert.deepEqual(server.violations, []);
});

test('a read-only token gives a green step (fail-on: error) with the summary written and one line on how to publish', { timeout: 300_000 }, async () => {
  const before = server.state.comments.length;
  const run = await runAction({ entry: 'src', eventName: 'pull_request', event: pullRequestEvent(pr), token: 'read-only-token', inputs: { mode: 'report', 'fail-on': 'error' } });
  assert.equal(run.exitCode, 0, run.log);
  assert.match(run.summary, /Shared state victim/);
  assert.ok(run.summary.includes('could not write to this pull request: the token is read-only'), run.summary.slice(-800));
  assert.ok(run.log.includes(READ_ONLY_HINT));
  assert.equal(run.outputs['comment-url'], '');
  assert.equal(server.state.comments.length, before);
  assert.deepEqual(server.violations, []);
});

test('workflow_run + mode: report publishes a downloaded artifact to the PR it recorded, checked against the API by head SHA', { timeout: 300_000 }, async () => {
  cpSync(join(workspace, 'kubeflake-results'), join(workspace, 'artifacts', 'kubeflake-results-pr'), { recursive: true });
  const event = {
    action: 'completed',
    workflow_run: { id: 5001, name: 'kubeflake', head_sha: HEAD, head_branch: 'idempotent', event: 'pull_request', status: 'completed', conclusion: 'failure', pull_requests: [], head_repository: { full_name: 'contributor/operator' }, repository },
    workflow: { name: 'kubeflake', path: '.github/workflows/kubeflake.yml' },
    repository,
  };
  const run = await runAction({ entry: 'src', eventName: 'workflow_run', event, workflow: 'kubeflake publish', runId: 5003, inputs: { mode: 'report', results: 'artifacts/*' } });
  assert.equal(run.exitCode, 1, run.log);
  assert.match(run.outputs['comment-url'] ?? '', /pull\/1#issuecomment-/);
  assert.equal(run.outputs.results, join(workspace, 'artifacts', 'kubeflake-results-pr'));
  assert.ok(server.requests.some((r) => r.method === 'GET' && r.path === `/repos/octo-org/operator/pulls/${pr}`), 'the PR was checked against the API');
  assert.deepEqual(server.violations, []);
});

test('a schedule event opens the tracking issue', { timeout: 300_000 }, async () => {
  const run = await runAction({ entry: 'src', eventName: 'schedule', event: { schedule: '0 3 * * *', repository, workflow: '.github/workflows/nightly.yml' }, workflow: 'nightly', inputs: { mode: 'report' } });
  assert.equal(run.exitCode, 1, run.log);
  const issue = server.state.issues.find((i) => !i.pull);
  assert.ok(issue, run.log);
  assert.equal(run.outputs['issue-url'], `https://github.example/octo-org/operator/issues/${issue.number}`);
  assert.match(issue.body, /\| <code>Shared state victim<\/code> \| (order-dependent|flaky) \| 1 of 1 night, [1-9]\d* of [1-9]\d* runs \|/);
  assert.deepEqual(issue.labels, ['kubeflake']);
  assert.deepEqual(server.violations, []);
});

test('a quarantined finding is reported in its own section and does not fail the step; an expired entry warns', { timeout: 300_000 }, async () => {
  const quarantine = ['- test: Shared state victim', '  reason: tracked in the nightly issue', '- test: Shared state polluter', '  reason: old', '  expires: 2020-01-01'].join('\n');
  const run = await runAction({ entry: 'src', eventName: 'push', event: { ref: 'refs/heads/main', after: 'c'.repeat(40), repository }, inputs: { mode: 'report', quarantine } });
  assert.equal(run.exitCode, 0, run.log);
  assert.equal(run.outputs.quarantined, '1');
  assert.match(run.summary, /\*\*Quarantined\*\* \(1\): reported, but their failures do not fail the step/);
  assert.match(run.summary, /<code>Shared state victim<\/code> — tracked in the nightly issue/);
  assert.match(run.log, /::warning::quarantine entry "Shared state polluter" \(the quarantine input\) expired on 2020-01-01/);
});

test('a user error names the input and shows no stack; a results pattern that matches nothing says what to check', { timeout: 300_000 }, async () => {
  const typo = await runAction({ entry: 'src', eventName: 'pull_request', event: pullRequestEvent(pr), inputs: { mode: 'report', 'fail-on': 'finding' } });
  assert.equal(typo.exitCode, 1);
  assert.match(typo.log, /::error::fail-on must be one of findings, error, never; got "finding"/);
  assert.doesNotMatch(typo.log, /\n\s+at /, 'no stack for a user error');
  const missing = await runAction({ entry: 'src', eventName: 'pull_request', event: pullRequestEvent(pr), inputs: { mode: 'report', results: 'downloads/*' } });
  assert.equal(missing.exitCode, 1);
  assert.match(missing.log, /::error::results "downloads\/\*" names no directory under .*: did the download-artifact step run/);
});
