// What a workflow run tells kubeflake about where it runs: the repository, the commit, and the
// event that started it, reduced to the few facts publishing needs. Pure: settings.ts reads the
// environment and the event file and hands the parsed payload here.

export interface Repository {
  owner: string;
  repo: string;
}

export interface PullRequestRef {
  number: number;
  /** The PR's head commit: the code the run tested. */
  headSha: string;
  /** The head branch lives in another repository: the workflow token is read-only. */
  fromFork: boolean;
  /** The base branch's commit when the PR was last updated: the specs changed since it are hunted harder. */
  baseSha?: string;
}

export interface WorkflowRunRef {
  /** The run whose artifact a `workflow_run` workflow publishes. */
  id: number;
  /** Trusted (GitHub wrote it): the commit that run tested. */
  headSha: string;
  /** The event that started that run (pull_request, schedule...). */
  event: string;
  /** PRs GitHub linked to the run; empty for fork PRs. */
  pullRequests: number[];
}

export interface GitHubEvent {
  name: string;
  pullRequest?: PullRequestRef;
  workflowRun?: WorkflowRunRef;
}

export interface GitHubContext {
  repository?: Repository;
  event: GitHubEvent;
  /** GITHUB_SHA: the commit the workflow checked out (a merge commit on pull_request). */
  sha: string;
  runId: number;
  runAttempt: number;
  workflow: string;
  job: string;
  apiUrl: string;
  serverUrl: string;
  /** GITHUB_WORKSPACE: file paths in reports are shown relative to it. */
  workspace: string;
}

type Json = Record<string, unknown>;

const object = (value: unknown): Json | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const whole = (value: unknown): number | undefined => (Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined);

/** The facts of an event payload kubeflake uses; anything missing or odd is left out. */
export function readEvent(name: string, payload: unknown): GitHubEvent {
  const event: GitHubEvent = { name };
  const root = object(payload) ?? {};
  const pr = object(root.pull_request);
  const number = whole(pr?.number);
  const head = object(pr?.head);
  const headSha = text(head?.sha);
  if (pr && number && headSha) {
    const headRepo = text(object(head?.repo)?.full_name);
    const baseRepo = text(object(object(pr.base)?.repo)?.full_name);
    const baseSha = text(object(pr.base)?.sha);
    event.pullRequest = { number, headSha, fromFork: Boolean(headRepo && baseRepo && headRepo !== baseRepo), ...(baseSha ? { baseSha } : {}) };
  }
  const run = object(root.workflow_run);
  const runId = whole(run?.id);
  const runSha = text(run?.head_sha);
  if (run && runId && runSha) {
    const linked = Array.isArray(run.pull_requests) ? run.pull_requests.map((p) => whole(object(p)?.number)).filter((n): n is number => n !== undefined) : [];
    event.workflowRun = { id: runId, headSha: runSha, event: text(run.event) ?? '', pullRequests: linked };
  }
  return event;
}

/** "owner/repo" -> its parts; undefined for anything else. */
export function parseRepository(fullName: string | undefined): Repository | undefined {
  const match = /^([\w.-]+)\/([\w.-]+)$/.exec(fullName ?? '');
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

/** Scheduled and hand-started runs track flakiness over time; so does a workflow_run of one. */
export function isNightlyEvent(event: GitHubEvent): boolean {
  const nightly = (name: string) => name === 'schedule' || name === 'workflow_dispatch';
  return nightly(event.name) || (event.name === 'workflow_run' && nightly(event.workflowRun?.event ?? ''));
}
