// A local GitHub REST server for tests: it answers the endpoints kubeflake uses (issue comments,
// issues, labels, the authenticated user, pulls, their files, reviews and review comments) from in-memory state, and checks every request
// and every response against GitHub's published OpenAPI description (@octokit/openapi). Response
// objects start from the description's own examples, so their shape is GitHub's, not ours.
// It can be told to fail, throttle, answer 403 for a read-only token, and it rejects bodies
// over 65,536 characters as GitHub does.

import { after } from 'node:test';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: unknown };

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

interface Operation {
  parameters?: Schema[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema; examples?: Record<string, unknown> }> }>;
}

let spec: OpenApi | undefined;

/** GitHub's OpenAPI description for api.github.com, loaded once a process. */
export function openApi(): OpenApi {
  if (!spec) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    spec = JSON.parse(readFileSync(file, 'utf8')) as OpenApi;
  }
  return spec;
}

function deref<T>(node: T): T {
  let current = node as unknown as { $ref?: string };
  for (let guard = 0; current && typeof current === 'object' && typeof current.$ref === 'string' && guard < 20; guard++) {
    const parts = current.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let target: unknown = openApi();
    for (const part of parts) target = (target as Record<string, unknown>)[part];
    current = target as { $ref?: string };
  }
  return current as unknown as T;
}

/** Checks a value against an OpenAPI 3.0 schema; returns the problems, each with its JSON path. */
export function validateSchema(schema: Schema | undefined, value: unknown, path = '$', problems: string[] = []): string[] {
  if (!schema) return problems;
  const s = deref(schema);
  if (value === null) {
    if (s.nullable === true || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) return problems;
    if (s.oneOf || s.anyOf || s.allOf) {
      // Nullability may sit on a branch.
    } else if (s.type !== undefined) {
      problems.push(`${path}: null where ${String(s.type)} is required`);
      return problems;
    }
  }
  if (Array.isArray(s.allOf)) for (const part of s.allOf as Schema[]) validateSchema(part, value, path, problems);
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = s[key] as Schema[] | undefined;
    if (!branches) continue;
    const fits = branches.filter((branch) => validateSchema(branch, value, path, []).length === 0).length;
    if (key === 'anyOf' ? fits === 0 : fits === 0) problems.push(`${path}: matches none of the ${key} alternatives`);
  }
  if (Array.isArray(s.enum) && value !== null && !s.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  const type = s.type as string | undefined;
  if (type && value !== null) {
    const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    const ok = type === actual || (type === 'number' && actual === 'integer') || (type === 'object' && actual === 'object');
    if (!ok) {
      problems.push(`${path}: ${actual} where ${type} is required`);
      return problems;
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const name of (s.required as string[] | undefined) ?? []) if (!(name in object)) problems.push(`${path}: required property "${name}" is missing`);
    const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
    for (const [name, item] of Object.entries(object)) {
      if (properties[name]) validateSchema(properties[name], item, `${path}.${name}`, problems);
      else if (s.additionalProperties === false) problems.push(`${path}: property "${name}" is not allowed`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') validateSchema(s.additionalProperties as Schema, item, `${path}.${name}`, problems);
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((item, i) => validateSchema(s.items as Schema, item, `${path}[${i}]`, problems));
  if (typeof value === 'string' && typeof s.maxLength === 'number' && value.length > s.maxLength) problems.push(`${path}: longer than ${s.maxLength}`);
  return problems;
}

/** The response example GitHub's description gives for an operation and status. */
function example(operation: Operation, status: string): Json {
  const content = operation.responses[status]?.content?.['application/json'];
  const first = Object.values(content?.examples ?? {})[0];
  const value = (deref(first) as { value?: Json } | undefined)?.value;
  if (value === undefined) throw new Error(`the OpenAPI description has no ${status} example for this operation`);
  return structuredClone(value);
}

export interface Identity {
  login: string;
  /** GET /user answers 403 "Resource not accessible by integration" (an installation token). */
  installation: boolean;
  /** Every write answers 403 (a fork PR's or Dependabot's workflow token). */
  readOnly: boolean;
}

export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  /** How many matching requests get it; then the server answers normally again. */
  times: number;
  message?: string;
  headers?: Record<string, string>;
}

interface StoredComment {
  id: number;
  issue: number;
  body: string;
  login: string;
  created_at: string;
  updated_at: string;
}

interface StoredIssue {
  number: number;
  title: string;
  body: string;
  login: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull?: { headSha: string; files: PullRequestFile[] };
}

/** A file of a PR's diff at its head, as the pull request files API lists it: `patch` holds its hunks. */
export interface PullRequestFile {
  filename: string;
  patch: string;
}

interface StoredReview {
  id: number;
  pull: number;
  body: string;
  commit_id: string;
  login: string;
  submitted_at: string;
}

interface StoredReviewComment {
  id: number;
  pull: number;
  review: number;
  path: string;
  line: number;
  start_line: number | null;
  /** The head commit it was written on. */
  commit_id: string;
  body: string;
  login: string;
  created_at: string;
  updated_at: string;
  /** A later push changed its lines: GitHub answers position and line null. */
  outdated: boolean;
}

export interface GitHubServerState {
  comments: StoredComment[];
  issues: StoredIssue[];
  labels: string[];
  reviews: StoredReview[];
  reviewComments: StoredReviewComment[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  login?: string;
}

export interface GitHubServer {
  url: string;
  owner: string;
  repo: string;
  state: GitHubServerState;
  requests: RecordedRequest[];
  /** Requests or responses that do not match GitHub's OpenAPI description. Tests assert it stays empty. */
  violations: string[];
  /** Tokens the server knows; any other token gets 401. */
  tokens: Map<string, Identity>;
  addPullRequest(headSha: string, title?: string, files?: PullRequestFile[]): number;
  /** A push to the PR: a new head and diff; review comments whose lines changed become outdated. */
  pushPullRequest(number: number, headSha: string, files: PullRequestFile[]): void;
  fail(fault: Fault): void;
  /** Lets requests arrive at the same time (a racing pair): holds every matching request until `count` are waiting. */
  barrier(method: string, path: RegExp, count: number): void;
  close(): Promise<void>;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  handle: (req: Context) => { status: number; body?: Json; headers?: Record<string, string> };
}

interface Context {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  identity: Identity;
  operation: Operation;
}

const clockStart = Date.parse('2026-11-01T00:00:00Z');

export async function startGitHubServer(options: { owner?: string; repo?: string } = {}): Promise<GitHubServer> {
  const owner = options.owner ?? 'octo-org';
  const repo = options.repo ?? 'operator';
  const state: GitHubServerState = { comments: [], issues: [], labels: [], reviews: [], reviewComments: [] };
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const faults: Fault[] = [];
  const barriers: { method: string; path: RegExp; count: number; waiting: (() => void)[] }[] = [];
  const tokens = new Map<string, Identity>([
    ['user-token', { login: 'octocat', installation: false, readOnly: false }],
    ['workflow-token', { login: 'github-actions[bot]', installation: true, readOnly: false }],
    ['read-only-token', { login: 'github-actions[bot]', installation: true, readOnly: true }],
  ]);
  let tick = 0;
  let nextId = 1000;
  // Distinct, increasing timestamps: "newest wins" must not depend on the machine's clock resolution.
  const now = () => new Date(clockStart + ++tick * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let base = '';
  const web = 'https://github.example';

  const user = (login: string, template: Json): Json => {
    const u = { ...(template as Record<string, Json>) };
    u.login = login;
    u.id = login === 'github-actions[bot]' ? 41898282 : 583231;
    u.type = login.endsWith('[bot]') ? 'Bot' : 'User';
    u.html_url = `${web}/${login}`;
    return u;
  };
  const commentJson = (c: StoredComment, template: Json): Json => {
    const t = { ...(template as Record<string, Json>) };
    Object.assign(t, {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${base}/repos/${owner}/${repo}/issues/comments/${c.id}`,
      html_url: `${web}/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${base}/repos/${owner}/${repo}/issues/${c.issue}`,
      body: c.body,
      user: user(c.login, t.user ?? null),
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: 'NONE',
    });
    return t;
  };
  const labelJson = (name: string, template: Json): Json => ({ ...(template as Record<string, Json>), name, url: `${base}/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}` });
  const issueJson = (i: StoredIssue, template: Json, labelTemplate: Json): Json => {
    const t = { ...(template as Record<string, Json>) };
    Object.assign(t, {
      id: 5000 + i.number,
      node_id: `I_${i.number}`,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason,
      user: user(i.login, t.user ?? null),
      labels: i.labels.map((name) => labelJson(name, labelTemplate)),
      url: `${base}/repos/${owner}/${repo}/issues/${i.number}`,
      html_url: `${web}/${owner}/${repo}/${i.pull ? 'pull' : 'issues'}/${i.number}`,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      comments: state.comments.filter((c) => c.issue === i.number).length,
    });
    if (!i.pull) delete t.pull_request;
    return t;
  };
  const notFound = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
  const forbidden = { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } };
  const tooLong = (resource: string) => ({
    status: 422,
    body: { message: 'Validation Failed', errors: [{ resource, code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }], documentation_url: 'https://docs.github.com/rest', status: '422' },
  });
  const issueNumber = (ctx: Context) => Number(ctx.params.issue_number);
  const page = <T>(items: T[], ctx: Context, path: string): { items: T[]; headers: Record<string, string> } => {
    const perPage = Math.min(100, Number(ctx.query.get('per_page') ?? 30));
    const pageNo = Number(ctx.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {};
    if (pageNo < last) {
      const link = (n: number) => {
        const q = new URLSearchParams(ctx.query);
        q.set('page', String(n));
        return `${base}${path}?${q}`;
      };
      headers.link = `<${link(pageNo + 1)}>; rel="next", <${link(last)}>; rel="last"`;
    }
    return { items: items.slice((pageNo - 1) * perPage, pageNo * perPage), headers };
  };

  const routes: Route[] = [];
  const route = (method: string, template: string, handle: Route['handle']) => {
    const pattern = new RegExp('^' + template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)') + '$');
    routes.push({ method, template, pattern, handle });
  };
  const op = (method: string, template: string) => openApi().paths[template]![method.toLowerCase()]!;

  route('GET', '/user', (ctx) => {
    if (ctx.identity.installation) return forbidden;
    return { status: 200, body: user(ctx.identity.login, example(ctx.operation, '200')) };
  });
  route('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
    if (!state.issues.some((i) => i.number === issueNumber(ctx))) return notFound;
    const template = (example(ctx.operation, '200') as Json[])[0]!;
    const all = state.comments.filter((c) => c.issue === issueNumber(ctx)).sort((a, b) => a.id - b.id);
    const { items, headers } = page(all, ctx, `/repos/${owner}/${repo}/issues/${issueNumber(ctx)}/comments`);
    return { status: 200, body: items.map((c) => commentJson(c, template)), headers };
  });
  route('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    if (!state.issues.some((i) => i.number === issueNumber(ctx))) return notFound;
    const body = String(ctx.body.body);
    if (body.length > 65_536) return tooLong('IssueComment');
    const at = now();
    const comment = { id: nextId++, issue: issueNumber(ctx), body, login: ctx.identity.login, created_at: at, updated_at: at };
    state.comments.push(comment);
    return { status: 201, body: commentJson(comment, example(ctx.operation, '201')) };
  });
  route('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const comment = state.comments.find((c) => c.id === Number(ctx.params.comment_id));
    if (!comment) return notFound;
    if (comment.login !== ctx.identity.login) return forbidden;
    const body = String(ctx.body.body);
    if (body.length > 65_536) return tooLong('IssueComment');
    comment.body = body;
    comment.updated_at = now();
    return { status: 200, body: commentJson(comment, example(ctx.operation, '200')) };
  });
  route('DELETE', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const index = state.comments.findIndex((c) => c.id === Number(ctx.params.comment_id));
    if (index < 0) return notFound;
    state.comments.splice(index, 1);
    return { status: 204 };
  });
  route('GET', '/repos/{owner}/{repo}/issues', (ctx) => {
    const wanted = (ctx.query.get('labels') ?? '').split(',').map((l) => l.trim()).filter(Boolean);
    const st = ctx.query.get('state') ?? 'open';
    const template = (example(ctx.operation, '200') as Json[])[0]!;
    const labelTemplate = example(op('GET', '/repos/{owner}/{repo}/labels/{name}'), '200');
    const all = state.issues
      .filter((i) => (st === 'all' || i.state === st) && wanted.every((l) => i.labels.includes(l)))
      .sort((a, b) => b.number - a.number);
    const { items, headers } = page(all, ctx, `/repos/${owner}/${repo}/issues`);
    return { status: 200, body: items.map((i) => issueJson(i, template, labelTemplate)), headers };
  });
  route('POST', '/repos/{owner}/{repo}/issues', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const body = String(ctx.body.body ?? '');
    if (body.length > 65_536) return tooLong('Issue');
    const labels = ((ctx.body.labels as string[] | undefined) ?? []).map(String);
    for (const label of labels) if (!state.labels.includes(label)) state.labels.push(label);
    const at = now();
    const issue: StoredIssue = { number: state.issues.length + 1, title: String(ctx.body.title), body, login: ctx.identity.login, labels, state: 'open', state_reason: null, created_at: at, updated_at: at, closed_at: null };
    state.issues.push(issue);
    return { status: 201, body: issueJson(issue, example(ctx.operation, '201'), example(op('GET', '/repos/{owner}/{repo}/labels/{name}'), '200')) };
  });
  route('GET', '/repos/{owner}/{repo}/issues/{issue_number}', (ctx) => {
    const issue = state.issues.find((i) => i.number === issueNumber(ctx));
    if (!issue) return notFound;
    return { status: 200, body: issueJson(issue, example(ctx.operation, '200'), example(op('GET', '/repos/{owner}/{repo}/labels/{name}'), '200')) };
  });
  route('PATCH', '/repos/{owner}/{repo}/issues/{issue_number}', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const issue = state.issues.find((i) => i.number === issueNumber(ctx));
    if (!issue) return notFound;
    if (typeof ctx.body.body === 'string') {
      if (ctx.body.body.length > 65_536) return tooLong('Issue');
      issue.body = ctx.body.body;
    }
    if (typeof ctx.body.title === 'string') issue.title = ctx.body.title;
    if (ctx.body.state === 'closed' && issue.state === 'open') {
      issue.state = 'closed';
      issue.closed_at = now();
      issue.state_reason = typeof ctx.body.state_reason === 'string' ? ctx.body.state_reason : 'completed';
    } else if (ctx.body.state === 'open' && issue.state === 'closed') {
      issue.state = 'open';
      issue.closed_at = null;
      issue.state_reason = 'reopened';
    }
    issue.updated_at = now();
    return { status: 200, body: issueJson(issue, example(ctx.operation, '200'), example(op('GET', '/repos/{owner}/{repo}/labels/{name}'), '200')) };
  });
  route('GET', '/repos/{owner}/{repo}/labels/{name}', (ctx) => {
    const name = decodeURIComponent(ctx.params.name!);
    if (!state.labels.includes(name)) return notFound;
    return { status: 200, body: labelJson(name, example(ctx.operation, '200')) };
  });
  route('POST', '/repos/{owner}/{repo}/labels', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const name = String(ctx.body.name);
    if (state.labels.includes(name)) {
      return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }], documentation_url: 'https://docs.github.com/rest' } };
    }
    state.labels.push(name);
    return { status: 201, body: labelJson(name, example(ctx.operation, '201')) };
  });
  route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', (ctx) => {
    const issue = state.issues.find((i) => i.number === Number(ctx.params.pull_number) && i.pull);
    if (!issue) return notFound;
    const pr = example(ctx.operation, '200') as Record<string, Json>;
    // GitHub's own example lists a requested team without the "type" its schema requires.
    Object.assign(pr, { requested_teams: [], requested_reviewers: [], number: issue.number, title: issue.title, state: issue.state, html_url: `${web}/${owner}/${repo}/pull/${issue.number}` });
    pr.head = { ...(pr.head as Record<string, Json>), sha: issue.pull!.headSha };
    return { status: 200, body: pr };
  });

  const pullOf = (ctx: Context) => state.issues.find((i) => i.number === Number(ctx.params.pull_number) && i.pull);
  const reviewCommentJson = (c: StoredReviewComment, template: Json): Json => {
    const t = { ...(template as Record<string, Json>) };
    delete t.in_reply_to_id;
    const url = `${base}/repos/${owner}/${repo}/pulls/comments/${c.id}`;
    const html = `${web}/${owner}/${repo}/pull/${c.pull}#discussion_r${c.id}`;
    Object.assign(t, {
      url,
      id: c.id,
      node_id: `PRRC_${c.id}`,
      pull_request_review_id: c.review,
      path: c.path,
      // A current comment moves to the newest head; an outdated one stays on its commit.
      commit_id: c.outdated ? c.commit_id : state.issues.find((i) => i.number === c.pull)!.pull!.headSha,
      original_commit_id: c.commit_id,
      position: c.outdated ? null : 1,
      original_position: 1,
      line: c.outdated ? null : c.line,
      original_line: c.line,
      start_line: c.outdated ? null : c.start_line,
      original_start_line: c.start_line,
      side: 'RIGHT',
      start_side: c.start_line === null ? null : 'RIGHT',
      body: c.body,
      user: user(c.login, t.user ?? null),
      created_at: c.created_at,
      updated_at: c.updated_at,
      html_url: html,
      pull_request_url: `${base}/repos/${owner}/${repo}/pulls/${c.pull}`,
      _links: { self: { href: url }, html: { href: html }, pull_request: { href: `${base}/repos/${owner}/${repo}/pulls/${c.pull}` } },
    });
    return t;
  };
  const unprocessable = (message: string) => ({ status: 422, body: { message: 'Unprocessable Entity', errors: [message], documentation_url: 'https://docs.github.com/rest', status: '422' } });
  route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', (ctx) => {
    const issue = pullOf(ctx);
    if (!issue) return notFound;
    const template = (example(ctx.operation, '200') as Json[])[0]!;
    const { items, headers } = page(issue.pull!.files, ctx, `/repos/${owner}/${repo}/pulls/${issue.number}/files`);
    const json = items.map((f) => {
      const lines = f.patch.split('\n');
      const additions = lines.filter((l) => l.startsWith('+')).length;
      const deletions = lines.filter((l) => l.startsWith('-')).length;
      return { ...(template as Record<string, Json>), filename: f.filename, status: 'modified', patch: f.patch, additions, deletions, changes: additions + deletions };
    });
    return { status: 200, body: json, headers };
  });
  route('POST', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const issue = pullOf(ctx);
    if (!issue) return notFound;
    const pull = issue.pull!;
    if (ctx.body.commit_id !== undefined && ctx.body.commit_id !== pull.headSha) return unprocessable(`commit_id ${String(ctx.body.commit_id)} is not the pull request's head`);
    const comments = (ctx.body.comments as Record<string, unknown>[] | undefined) ?? [];
    if (ctx.body.event === 'COMMENT' && !ctx.body.body && !comments.length) return unprocessable('Review body is required for a COMMENT review without comments');
    for (const c of comments) {
      // GitHub places a line comment only on a line of the diff, a range only within one hunk.
      const lines = headSideLines(pull.files.find((f) => f.filename === c.path)?.patch ?? '');
      const line = lines.get(Number(c.line));
      const start = c.start_line === undefined ? line : lines.get(Number(c.start_line));
      if (c.side !== 'RIGHT' || !line || !start || start.hunk !== line.hunk || (c.start_line !== undefined && c.start_side !== 'RIGHT')) {
        return unprocessable('Pull request review thread line must be part of the diff');
      }
    }
    const at = now();
    const review: StoredReview = { id: nextId++, pull: issue.number, body: String(ctx.body.body ?? ''), commit_id: pull.headSha, login: ctx.identity.login, submitted_at: at };
    state.reviews.push(review);
    for (const c of comments) {
      state.reviewComments.push({
        id: nextId++, pull: issue.number, review: review.id, path: String(c.path), line: Number(c.line), start_line: c.start_line === undefined ? null : Number(c.start_line),
        commit_id: pull.headSha, body: String(c.body), login: ctx.identity.login, created_at: at, updated_at: at, outdated: false,
      });
    }
    const html = `${web}/${owner}/${repo}/pull/${issue.number}#pullrequestreview-${review.id}`;
    const t = { ...(example(ctx.operation, '200') as Record<string, Json>) };
    Object.assign(t, {
      id: review.id, node_id: `PRR_${review.id}`, user: user(review.login, t.user ?? null), body: review.body, state: 'COMMENTED', html_url: html,
      pull_request_url: `${base}/repos/${owner}/${repo}/pulls/${issue.number}`, submitted_at: at, commit_id: review.commit_id,
      _links: { html: { href: html }, pull_request: { href: `${base}/repos/${owner}/${repo}/pulls/${issue.number}` } },
    });
    return { status: 200, body: t };
  });
  route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/comments', (ctx) => {
    const issue = pullOf(ctx);
    if (!issue) return notFound;
    const template = (example(ctx.operation, '200') as Json[])[0]!;
    const all = state.reviewComments.filter((c) => c.pull === issue.number).sort((a, b) => a.id - b.id);
    const { items, headers } = page(all, ctx, `/repos/${owner}/${repo}/pulls/${issue.number}/comments`);
    return { status: 200, body: items.map((c) => reviewCommentJson(c, template)), headers };
  });
  route('PATCH', '/repos/{owner}/{repo}/pulls/comments/{comment_id}', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const comment = state.reviewComments.find((c) => c.id === Number(ctx.params.comment_id));
    if (!comment) return notFound;
    if (comment.login !== ctx.identity.login) return forbidden;
    comment.body = String(ctx.body.body);
    comment.updated_at = now();
    return { status: 200, body: reviewCommentJson(comment, example(ctx.operation, '200')) };
  });
  route('DELETE', '/repos/{owner}/{repo}/pulls/comments/{comment_id}', (ctx) => {
    if (ctx.identity.readOnly) return forbidden;
    const index = state.reviewComments.findIndex((c) => c.id === Number(ctx.params.comment_id));
    if (index < 0) return notFound;
    state.reviewComments.splice(index, 1);
    return { status: 204 };
  });

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const checkParameters = (operation: Operation, params: Record<string, string>, query: URLSearchParams, where: string) => {
    for (const raw of operation.parameters ?? []) {
      const p = deref(raw) as { name: string; in: string; required?: boolean; schema?: Schema };
      const value = p.in === 'path' ? params[p.name] : p.in === 'query' ? query.get(p.name) ?? undefined : undefined;
      if (p.in !== 'path' && p.in !== 'query') continue;
      if (value === undefined) {
        if (p.required) violations.push(`${where}: required ${p.in} parameter "${p.name}" is missing`);
        continue;
      }
      const schema = deref(p.schema ?? {});
      const typed = schema.type === 'integer' || schema.type === 'number' ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value) : schema.type === 'boolean' ? value === 'true' ? true : value === 'false' ? false : value : value;
      for (const problem of validateSchema(schema, typed, `${p.in}.${p.name}`)) violations.push(`${where}: ${problem}`);
    }
    for (const name of query.keys()) {
      if (!(operation.parameters ?? []).some((raw) => (deref(raw) as { name: string; in: string }).in === 'query' && (deref(raw) as { name: string }).name === name)) {
        violations.push(`${where}: query parameter "${name}" is not in the description`);
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const where = `${method} ${url.pathname}`;
    const send = (status: number, body: Json | undefined, headers: Record<string, string> = {}, login?: string) => {
      requests.push({ method, path: url.pathname, status, login });
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-api-version-selected': '2022-11-28', ...headers });
      res.end(text);
    };
    const text = await readBody(req);
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const identity = token ? tokens.get(token) : undefined;
    if (!identity) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });

    for (const barrier of barriers) {
      if (barrier.method === method && barrier.path.test(url.pathname) && barrier.count > 0) {
        await new Promise<void>((release) => {
          barrier.waiting.push(release);
          if (barrier.waiting.length >= barrier.count) {
            barrier.count = 0;
            for (const go of barrier.waiting.splice(0)) go();
          }
        });
      }
    }
    const fault = faults.find((f) => f.times > 0 && f.method === method && f.path.test(url.pathname));
    if (fault) {
      fault.times--;
      return send(fault.status, { message: fault.message ?? `injected ${fault.status}`, documentation_url: 'https://docs.github.com/rest' }, fault.headers, identity.login);
    }

    const found = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (!found) {
      violations.push(`${where}: kubeflake called an endpoint this server does not serve`);
      return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    const operation = op(found.method, found.template);
    const params = { ...(found.pattern.exec(url.pathname)!.groups ?? {}) };
    for (const key of Object.keys(params)) params[key] = decodeURIComponent(params[key]!);
    checkParameters(operation, params, url.searchParams, where);
    let body: Record<string, unknown> = {};
    const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
    if (text) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        violations.push(`${where}: request body is not JSON`);
      }
      if (!bodySchema) violations.push(`${where}: a body was sent to an operation that takes none`);
    }
    if (bodySchema && (text || (operation.requestBody as { required?: boolean }).required)) {
      for (const problem of validateSchema(bodySchema, body, 'body')) violations.push(`${where}: request ${problem}`);
    }
    const result = found.handle({ params, query: url.searchParams, body, identity, operation });
    const declared = operation.responses[String(result.status)];
    // GitHub answers 403 "Resource not accessible by integration" on any endpoint a token lacks
    // the permission for, declared or not; every other status must be in the description.
    const permissionDenied = result.status === 403 && result.body === forbidden.body;
    if (!declared && !permissionDenied) violations.push(`${where}: answered ${result.status}, which the description does not declare`);
    const responseSchema = declared?.content?.['application/json']?.schema;
    if (responseSchema && result.body !== undefined) {
      for (const problem of validateSchema(responseSchema, result.body, 'response')) {
        if (!knownInaccuracy(found.template, problem)) violations.push(`${where} ${result.status}: ${problem}`);
      }
    }
    send(result.status, result.body, result.headers, identity.login);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      violations.push(`server error: ${error.stack ?? error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    owner,
    repo,
    state,
    requests,
    violations,
    tokens,
    addPullRequest(headSha, title = 'Make the reconciler idempotent', files = []) {
      const at = now();
      const number = state.issues.length + 1;
      state.issues.push({ number, title, body: '', login: 'contributor', labels: [], state: 'open', state_reason: null, created_at: at, updated_at: at, closed_at: null, pull: { headSha, files } });
      return number;
    },
    pushPullRequest(number, headSha, files) {
      const pull = state.issues.find((i) => i.number === number && i.pull)!.pull!;
      const before = new Map(pull.files.map((f) => [f.filename, headSideLines(f.patch)]));
      const after = new Map(files.map((f) => [f.filename, headSideLines(f.patch)]));
      for (const c of state.reviewComments.filter((r) => r.pull === number && !r.outdated)) {
        // Simplified from GitHub's line mapping: a comment stays current where its lines read the same at the new head.
        for (let line = c.start_line ?? c.line; line <= c.line; line++) {
          const was = before.get(c.path)?.get(line);
          const now = after.get(c.path)?.get(line);
          if (!was || !now || was.text !== now.text) c.outdated = true;
        }
      }
      Object.assign(pull, { headSha, files });
    },
    fail(fault) {
      faults.push(fault);
    },
    barrier(method, path, count) {
      barriers.push({ method, path, count, waiting: [] });
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Where GitHub answers what its own description does not allow: an outdated review comment (a
 * push changed its lines) has position and line null, though the schema says integer
 * (github/rest-api-description#1901). kubeflake must handle what GitHub sends, so the server sends it.
 */
function knownInaccuracy(template: string, problem: string): boolean {
  return /^\/repos\/\{owner\}\/\{repo\}\/pulls\/(\{pull_number\}\/comments|comments\/\{comment_id\})$/.test(template) && /^response(\[\d+\])?\.(position|line|start_line): null where integer is required$/.test(problem);
}

/** The head-side lines of a PR file's diff hunks (context and added), each with its hunk's index and text. */
function headSideLines(patch: string): Map<number, { hunk: number; text: string }> {
  const lines = new Map<number, { hunk: number; text: string }>();
  let hunk = -1;
  let next = 0;
  for (const line of patch.split('\n')) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (header) {
      hunk++;
      next = Number(header[1]);
    } else if (hunk >= 0 && (line.startsWith(' ') || line.startsWith('+'))) {
      lines.set(next++, { hunk, text: line.slice(1) });
    }
  }
  return lines;
}

/** A test file's servers: each call starts one, and all of them close when the file's tests are done. */
export function gitHubServers(): () => Promise<GitHubServer> {
  const servers: GitHubServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });
  return async () => {
    const server = await startGitHubServer();
    servers.push(server);
    return server;
  };
}
