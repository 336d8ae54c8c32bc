// Failure taxonomy: what kind of failure a message is, what a controller developer should do
// about it, a normalized signature to cluster similar failures across tests (as Kubernetes'
// triage does), and the objects a message names (to link a victim to a leaked object).

import type { Failure, FailureClusterReport, FailureKind, TestReport } from '../model.ts';

/** Only the parts of a Failure the taxonomy reads, so callers can classify bare strings. */
export type FailureText = Pick<Failure, 'message'> & Partial<Pick<Failure, 'text' | 'type'>>;

interface KindRule {
  kind: FailureKind;
  test: RegExp;
}

// Most specific first: an Eventually that quotes an API error is classified by the API error,
// because the reason ("already exists") says what to fix and the timeout only that it waited.
const API_RULES: KindRule[] = [
  { kind: 'WebhookDenied', test: /admission webhook "[^"]*" denied the request|denied the request:/i },
  { kind: 'NamespaceTerminating', test: /because it is being terminated|NamespaceTerminating/ },
  { kind: 'BeingDeleted', test: /object is being deleted/i },
  { kind: 'AlreadyExists', test: /\balready exists\b|\bAlreadyExists\b/ },
  {
    kind: 'Conflict',
    test: /the object has been modified; please apply your changes to the latest version|Operation cannot be fulfilled on|\bStatusReasonConflict\b|Reason: "Conflict"/,
  },
  { kind: 'Unauthorized', test: /\bUnauthorized\b/ },
  { kind: 'Forbidden', test: /\bis forbidden:|\bForbidden\b/ },
  { kind: 'Invalid', test: /"[^"]*" is invalid:|\bInvalid value:|\bReason: "Invalid"|\bStatusReasonInvalid\b/ },
  {
    kind: 'NotFound',
    test: /(?<![\w.-])[\w.-]+ "[^"\n]*" not found|the server could not find the requested resource|\bReason: "NotFound"|\bStatusReasonNotFound\b|no matches for kind/,
  },
  { kind: 'ConnectionRefused', test: /connection refused|connect: connection reset|no such host|dial tcp [^\s]+: i\/o timeout/ },
];

const BUILD_FAILURE = /\[build failed\]|^# [\w./-]+\s*$|^\S+\.go:\d+:\d+: |\bundefined: \w|Failed to compile|build failed|cannot use .* as .* value/m;
const GO_TEST_TIMEOUT = /panic: test timed out after|A spec timeout occurred|\bSpecTimeout\b|Interrupted by (User|Timeout)|\binterrupted\b.*\btimeout\b/i;
const PANIC = /\[PANICKED\]|Test Panicked|^panic: |\bpanic: runtime error|goroutine \d+ \[running\]/m;
const EVENTUALLY = /Timed out after \d+(\.\d+)?s\./;
const CONSISTENTLY = /Failed after \d+(\.\d+)?s\./;
const CONTEXT = /context deadline exceeded|Context was cancelled after|context canceled/;
const ASSERTION = /\bExpected\b[\s\S]*\b(to|not to|to be|to equal|to have|to contain|to match|to succeed)\b|Error Trace:|\bgot\b[\s\S]*\bwant\b|\bexpected\b[\s\S]*\bgot\b|assertion failed/i;

// The kind shows in the first lines; reading no further keeps every pattern linear on huge captures.
const CLASSIFY_LIMIT = 8000;
const SIGNATURE_INPUT = 2000;
const EXTRACT_LIMIT = 20000;

/** Classifies one failure. Reads the message first, then the longer text when the message is not enough. */
export function classifyFailure(failure: FailureText | string): FailureKind {
  const f: FailureText = typeof failure === 'string' ? { message: failure } : failure;
  const message = (f.message ?? '').slice(0, CLASSIFY_LIMIT);
  const fromMessage = classifyText(message, f.type);
  if (fromMessage !== 'Unknown' || !f.text) return fromMessage;
  return classifyText(`${message}\n${f.text.slice(0, CLASSIFY_LIMIT)}`, f.type);
}

function classifyText(text: string, type: string | undefined): FailureKind {
  const t = (type ?? '').toLowerCase();
  if (BUILD_FAILURE.test(text)) return 'BuildFailure';
  if (GO_TEST_TIMEOUT.test(text) || t === 'timedout' || t === 'timeout') return 'Timeout';
  if (t === 'panicked' || PANIC.test(text)) return 'Panic';
  for (const rule of API_RULES) if (rule.test.test(text)) return rule.kind;
  if (EVENTUALLY.test(text)) return 'EventuallyTimeout';
  if (CONSISTENTLY.test(text)) return 'ConsistentlyFailed';
  if (CONTEXT.test(text)) return 'ContextDeadline';
  if (ASSERTION.test(text)) return 'AssertionFailed';
  return 'Unknown';
}

const HINTS: Record<FailureKind, string> = {
  AlreadyExists:
    'An object with this name is still there: after Delete, wait for it to be gone (Eventually Get -> NotFound) or use generateName / a per-test name.',
  BeingDeleted:
    'The name is held by an object still being deleted (a finalizer is pending): wait for it to be gone after Delete (Eventually Get -> NotFound) or use generateName.',
  Conflict:
    'Update raced another writer: re-Get and retry the update (retry.RetryOnConflict), or use Patch instead of Update.',
  NotFound:
    'The object was not there: wait for the controller to create it (Eventually Get), or check that an earlier test did not delete a shared object.',
  Forbidden:
    'The request was denied by RBAC or by a policy: check the role the test runs as, and that the namespace is not being deleted.',
  Unauthorized: 'The client credentials were rejected: check the kubeconfig / token the test suite uses.',
  Invalid:
    'The API server rejected the object as invalid: check the fields named in the message against the CRD schema and defaults.',
  WebhookDenied:
    'An admission webhook denied the request: check the webhook rule named in the message, and leftover objects it compares against.',
  NamespaceTerminating:
    'The namespace was still terminating: create a fresh namespace per test (generateName), or wait for the old one to be gone.',
  EventuallyTimeout:
    'An Eventually gave up: the state it waited for never came; check the controller reconciled (events, logs) and that the timeout fits the cluster.',
  ConsistentlyFailed:
    'A Consistently saw the state change: something else (another test, a controller) touched the object during the check.',
  ContextDeadline:
    'A context deadline expired: the operation or the API server was too slow; check what the call waited on, then the timeout.',
  Timeout: 'The test hit its time limit: find what it was waiting on (the last step in the log) before raising the timeout.',
  Panic: 'The test or code under test panicked: the stack trace in the failure text points at the nil dereference or bad index.',
  ConnectionRefused:
    'The API server (or a webhook) was not reachable: wait for the control plane / webhook server to be ready before the test starts.',
  BuildFailure: 'The test package did not compile: fix the compiler errors first; no test ran.',
  AssertionFailed:
    'An assertion did not hold: if it depends on state left by other tests, make the test set up (and wait for) everything it checks.',
  Unknown: 'Read the failure message and the log of the failing run.',
};

/** A one-line fix hint for controller developers. */
export function hintFor(kind: FailureKind): string {
  return HINTS[kind];
}

// ---------------------------------------------------------------------------------------------
// Signatures

const SIGNATURE_MAX = 240;

/**
 * Normalizes a failure message into a signature: two failures with the same signature are the
 * same failure mode. Keeps words and the object type, replaces what changes from run to run.
 */
export function failureSignature(message: string): string {
  let s = message.slice(0, SIGNATURE_INPUT);
  // Go source locations and stack noise change with every edit of the file.
  s = s.replace(/(?<![\w./-])[\w./-]+\.go:\d+(:\d+)?/g, 'FILE:LINE');
  s = s.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, 'UID');
  s = s.replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?( [+-]\d{4} \w+)?/g, 'TIME');
  s = s.replace(/\b\d{2}:\d{2}:\d{2}(\.\d+)?\b/g, 'TIME');
  s = s.replace(/\b(\d{1,3}\.){3}\d{1,3}(:\d+)?\b/g, 'IP');
  s = s.replace(/\[::1?\](:\d+)?|\blocalhost:\d+\b/g, 'IP');
  s = s.replace(/\b0x[0-9a-f]+\b/gi, 'HEX');
  s = s.replace(/\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b/g, 'DURATION');
  // Names in quotes after a resource are per-test; the resource and the reason are the mode.
  s = s.replace(/\b([a-z][\w-]*(\.[\w-]+)*) "[^"\n]*"/gi, (m: string, type: string) =>
    NOT_A_RESOURCE.has(type.toLowerCase()) ? m : `${type} "NAME"`,
  );
  s = s.replace(/\b(in (the )?namespace) "?[a-z0-9][-a-z0-9]*"?/gi, '$1 NAME');
  // Names made by generateName ("cache-x7k2p") keep their prefix only.
  s = s.replace(/\b([a-z][a-z0-9]*(-[a-z0-9]+)*)-[a-z0-9]{5}\b/g, (m: string, prefix: string) =>
    /\d/.test(m.slice(prefix.length)) ? `${prefix}-*` : m,
  );
  s = s.replace(/\b[0-9a-f]{12,}\b/gi, 'HEX');
  s = s.replace(/\d+/g, 'N');
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > SIGNATURE_MAX ? s.slice(0, SIGNATURE_MAX) : s;
}

// Words that precede a quoted string in failure messages without being a resource type.
const NOT_A_RESOURCE = new Set(['webhook', 'user', 'group', 'resource', 'field', 'value', 'expected', 'to', 'equal', 'got', 'want', 'string']);

/** Groups failures with the same kind and signature across tests, biggest cluster first. */
export function clusterFailures(tests: Pick<TestReport, 'id' | 'failures'>[]): FailureClusterReport[] {
  const clusters = new Map<string, FailureClusterReport>();
  for (const test of tests) {
    for (const failure of test.failures ?? []) {
      const key = `${failure.kind}\u0000${failure.signature}`;
      let cluster = clusters.get(key);
      if (!cluster) {
        cluster = { signature: failure.signature, kind: failure.kind, example: failure.message, tests: [], count: 0 };
        clusters.set(key, cluster);
      }
      cluster.count += 1;
      if (!cluster.tests.includes(test.id)) cluster.tests.push(test.id);
    }
  }
  return [...clusters.values()].sort(
    (a, b) => b.tests.length - a.tests.length || b.count - a.count || a.signature.localeCompare(b.signature),
  );
}

// ---------------------------------------------------------------------------------------------
// Objects named in a message

/** An object a failure message names, as the message wrote it. */
export interface MentionedObject {
  /** What precedes the name: a resource ("modelcaches"), or a Kind in Invalid errors ("ModelCache"). */
  type: string;
  /** API group when the message qualifies the type ("cache.kubeflake.dev"); "" for the core group. */
  group: string;
  name: string;
  namespace?: string;
}

// `modelcaches.cache.kubeflake.dev "iris2" already exists`, `configmaps "x" not found`,
// `Operation cannot be fulfilled on deployments.apps "web": ...`, `ModelCache.cache.kubeflake.dev "x" is invalid`
const QUOTED_REF = /\b([A-Za-z][A-Za-z0-9]*)((?:\.[a-z0-9-]+)*) "([a-z0-9]([-a-z0-9.]*[a-z0-9])?)"/g;
// `unable to create new content in namespace ns-1 because it is being terminated`
const TERMINATING_NS = /in namespace "?([a-z0-9][-a-z0-9]*)"? because it is being terminated/g;
// Gomega's print of a StatusError: `Details: {Name: "iris2", Group: "cache.kubeflake.dev", Kind: "modelcaches"` or `&StatusDetails{Name:iris2,Group:...,Kind:modelcaches`
const STATUS_DETAILS = /Name: ?"?([a-z0-9][-a-z0-9.]*)"?, ?Group: ?"?([a-z0-9.-]*)"?, ?Kind: ?"?([A-Za-z0-9]+)"?/g;
const NAMESPACE_OF_ERROR = /in the namespace "([a-z0-9][-a-z0-9]*)"/;

const NOT_A_TYPE = new Set([...NOT_A_RESOURCE, 'namespace', 'resource', 'the', 'on', 'in', 'name', 'kind', 'message', 'reason', 'equal']);

/** The objects a failure message (or text) names, in order, without duplicates. */
export function extractObjectRefs(fullText: string): MentionedObject[] {
  const text = fullText.slice(0, EXTRACT_LIMIT);
  const found: MentionedObject[] = [];
  const add = (ref: MentionedObject): void => {
    if (!found.some((f) => f.type.toLowerCase() === ref.type.toLowerCase() && f.group === ref.group && f.name === ref.name)) {
      found.push(ref);
    }
  };
  const namespace = NAMESPACE_OF_ERROR.exec(text)?.[1];
  for (const m of text.matchAll(QUOTED_REF)) {
    const type = m[1] ?? '';
    if (NOT_A_TYPE.has(type.toLowerCase())) continue;
    const ref: MentionedObject = { type, group: (m[2] ?? '').replace(/^\./, ''), name: m[3] ?? '' };
    if (namespace && type !== 'namespaces') ref.namespace = namespace;
    add(ref);
  }
  for (const m of text.matchAll(TERMINATING_NS)) add({ type: 'namespaces', group: '', name: m[1] ?? '' });
  for (const m of text.matchAll(STATUS_DETAILS)) add({ type: m[3] ?? '', group: m[2] ?? '', name: m[1] ?? '' });
  return found;
}
