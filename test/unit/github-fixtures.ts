// Reports and publish settings for the GitHub tests, built in code: a night's or a PR run's
// Report with chosen tests and verdicts, and PublishSettings pointed at the local server.

import type { Report, TestReport, Verdict } from '../../src/model.ts';
import { testId } from '../../src/model.ts';
import type { PublishSettings } from '../../src/github/publish.ts';
import type { GitHubEvent } from '../../src/github/context.ts';
import type { GitHubServer } from '../support/github-server.ts';

export interface TestSpec {
  name: string;
  verdict?: Verdict;
  passed?: number;
  failed?: number;
  file?: string;
  line?: number;
  polluter?: string;
}

export const SUITE = 'Controller Suite';

export function makeReport(specs: TestSpec[], runs = 4): Report {
  const leaks: Report['leaks'] = [];
  const tests: TestReport[] = specs.map((spec) => {
    const verdict = spec.verdict ?? 'stable';
    const failed = spec.failed ?? (verdict === 'stable' ? 0 : verdict === 'broken' ? runs : 1);
    const polluters = spec.polluter
      ? [{ test: testId(SUITE, spec.polluter), confirmed: true, via: [leaks.push({ apiVersion: 'cache.example.com/v1', kind: 'ModelCache', namespace: 'default', name: `left-by-${leaks.length}`, uid: `uid-${leaks.length}`, terminating: true, finalizers: ['cache.example.com/cleanup'], createdBy: testId(SUITE, spec.polluter), runs: ['000'] }) - 1] }]
      : [];
    return {
      id: testId(SUITE, spec.name),
      name: spec.name,
      suite: SUITE,
      file: spec.file ?? 'internal/controller/modelcache_test.go',
      line: spec.line ?? 42,
      verdict,
      passed: spec.passed ?? runs - failed,
      failed,
      failureKinds: failed ? ['AlreadyExists'] : [],
      polluters,
      cleaners: [],
      stateSetters: [],
      reproduce: failed ? `ginkgo --focus='${spec.name}' ./internal/controller` : '',
      ...(failed ? { hint: 'wait for the object to be gone before the next test creates it', failures: [{ run: '000', kind: 'AlreadyExists' as const, message: 'object is being deleted: modelcaches "iris2" already exists', signature: 's1' }] } : {}),
    };
  });
  const findings = tests.filter((t) => !['stable', 'skipped'].includes(t.verdict)).length;
  return {
    schema: 'kubeflake/report@1',
    command: 'ginkgo ./internal/controller',
    framework: 'ginkgo',
    cluster: 'local',
    runs: Array.from({ length: runs }, (_, i) => ({ id: String(i).padStart(3, '0'), seed: 100 + i, exitCode: findings ? 1 : 0, durationMs: 1000, timedOut: false, order: tests.map((t) => t.id), failed: tests.filter((t) => t.failed > i).map((t) => t.id), probe: false })),
    tests,
    leaks,
    cleanup: { dryRun: false, deleted: [], finalizersRemoved: [], left: [] },
    verdict: findings ? 'findings' : 'clean',
    version: '0.1.0',
    generatedAt: '2026-11-20T03:00:00Z',
  };
}

export const HEAD_SHA = 'a'.repeat(40);

export function pullRequestEvent(number: number, headSha = HEAD_SHA, fromFork = false): GitHubEvent {
  return { name: 'pull_request', pullRequest: { number, headSha, fromFork } };
}

export function publishSettings(server: GitHubServer, event: GitHubEvent, overrides: Partial<PublishSettings> = {}): PublishSettings {
  return {
    token: 'workflow-token',
    target: event.name === 'schedule' ? 'tracking-issue' : 'pull-request',
    comment: 'always',
    commentKey: '',
    trackingLabel: 'kubeflake',
    cleanNightsToClose: 7,
    context: {
      repository: { owner: server.owner, repo: server.repo },
      event,
      sha: event.pullRequest?.headSha ?? 'b'.repeat(40),
      runId: 9001,
      runAttempt: 1,
      workflow: event.name === 'schedule' ? 'nightly' : 'pr-check',
      job: 'hunt',
      apiUrl: server.url,
      serverUrl: 'https://github.example',
      workspace: '/home/runner/work/operator/operator',
    },
    ...overrides,
  };
}
