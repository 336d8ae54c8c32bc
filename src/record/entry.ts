// The API server's audit record ("the record"), as the hunt reads it: one compact RecordEntry a
// request, made from one audit.k8s.io/v1 Event (Metadata level, stage ResponseComplete). Pure.
//
// What the Metadata level does and does not say, and what the rest of src/record/ builds on:
// - objectRef.name of a create comes from the request body: empty for a generateName create;
//   objectRef.uid is empty on creates. Later requests (a controller's patch, the test's get or
//   delete) name the object, so a generateName object is found by its first named request.
// - No request or response body. A delete's response is either a Status (the object went at
//   once: the audit event keeps its details, with the object's uid) or the object itself (a
//   finalizer or grace period kept it: the event keeps only the response code).
// - Server times have microseconds ("2026-12-07T05:25:20.123456Z"): kept as epoch ms with the
//   microseconds as the fraction, on the API server's clock (the runner's clock on this host).

/**
 * Who sent a request, from its user agent and user:
 * - test: the test process (user agent `<pkg>.test/...`, the test binary's name as go test and
 *   ginkgo build it). A controller-runtime manager started by the suite runs in that process with
 *   the same agent: "test" means the test process, the specs and their in-process controllers.
 * - kubeflake: kubeflake's own client (`kubeflake/<version>`): snapshots, watch, cleanup.
 * - controller: the cluster's own controllers (kube-controller-manager, kube-scheduler, their
 *   service accounts in kube-system) and any other service account (an operator deployed in the cluster).
 * - apiserver: the API server's own requests (`system:apiserver`, its bootstrap controllers).
 * - other: anything else (kubectl, a script, a person).
 */
export type ActorClass = 'test' | 'kubeflake' | 'controller' | 'apiserver' | 'other';

/** The object a request was about (objectRef), as far as the record names it. */
export interface RecordObject {
  /** "" for the core group. */
  apiGroup: string;
  /** The version the request used ("v1", "v1alpha1"). */
  apiVersion: string;
  /** The REST resource (plural): "configmaps", "modelcaches". */
  resource: string;
  subresource?: string;
  namespace?: string;
  /** Empty on a generateName create and on list/collection requests. */
  name?: string;
  /** Rarely present (never on a create). */
  uid?: string;
}

/** What a delete did to its object, from the shape of its response. */
export type DeleteOutcome =
  /** The response was a Status naming the object's uid: it was removed at once. */
  | 'gone'
  /** The response was the object: a finalizer (or a grace period) kept it, terminating. */
  | 'stayed';

/** One request of the record, compact: what analysis needs, nothing else. */
export interface RecordEntry {
  auditID: string;
  /** When the API server received the request: epoch ms, microseconds as the fraction. */
  requestReceivedTimestamp: number;
  /** When the response was complete (stage ResponseComplete): epoch ms, microseconds as the fraction. */
  stageTimestamp: number;
  /** get, list, watch, create, update, patch, delete, deletecollection... */
  verb: string;
  user: string;
  userAgent: string;
  actor: ActorClass;
  /** Absent for non-resource requests (/healthz, /apis). */
  object?: RecordObject;
  /** The request path, for non-resource requests and for what objectRef leaves out. */
  requestURI: string;
  /** The response code (201 created, 409 conflict...). */
  code?: number;
  /** responseStatus.reason: AlreadyExists, NotFound, Conflict... */
  reason?: string;
  /** responseStatus.message: "object is being deleted: ... already exists". */
  message?: string;
  /** A successful delete: whether the object went at once or stayed terminating. */
  deleted?: DeleteOutcome;
  /** The uid a Status response names (a delete that removed the object at once). */
  responseUid?: string;
}

/** The fields of an audit.k8s.io/v1 Event the record reads (as the API server writes them in JSON). */
export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: string;
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: { username?: string; groups?: string[] };
  impersonatedUser?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; uid?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { status?: string; message?: string; reason?: string; code?: number; details?: { name?: string; kind?: string; group?: string; uid?: string } };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

/** The test binary's name as go test and ginkgo build it (`controller.test`), then its version. */
const TEST_AGENT = /^[^/\s]+\.test\//;
const KUBEFLAKE_AGENT = /^kubeflake\//;
/** Agents of the cluster's own components (the user decides first; these cover a missing user). */
const CONTROLLER_AGENT = /^(kube-controller-manager|kube-scheduler|cloud-controller-manager|kubelet)\//;

/** Pure: who sent a request (see ActorClass for the rules, in the order they apply). */
export function actorOf(userAgent: string, user: string): ActorClass {
  if (KUBEFLAKE_AGENT.test(userAgent)) return 'kubeflake';
  if (TEST_AGENT.test(userAgent)) return 'test';
  if (user === 'system:apiserver' || userAgent.startsWith('kube-apiserver/')) return 'apiserver';
  if (user === 'system:kube-controller-manager' || user === 'system:kube-scheduler' || user.startsWith('system:serviceaccount:') || user.startsWith('system:node:') || CONTROLLER_AGENT.test(userAgent)) return 'controller';
  return 'other';
}

/**
 * Pure: an RFC 3339 time with up to nanoseconds ("2026-12-07T05:25:20.123456Z") as epoch ms with
 * the sub-millisecond digits as the fraction (Date.parse would drop them). NaN when it is no time.
 */
export function serverTime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return NaN;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return seconds + fraction;
}

/** Pure: the compact entry of one audit event; undefined when it is no audit event (wrong kind, no time). */
export function entryOf(event: AuditEvent): RecordEntry | undefined {
  if (event.kind !== 'Event' || typeof event.verb !== 'string' || typeof event.requestReceivedTimestamp !== 'string') return undefined;
  const received = serverTime(event.requestReceivedTimestamp);
  if (!Number.isFinite(received)) return undefined;
  const completed = typeof event.stageTimestamp === 'string' ? serverTime(event.stageTimestamp) : NaN;
  const user = event.user?.username ?? '';
  const userAgent = event.userAgent ?? '';
  const entry: RecordEntry = {
    auditID: event.auditID ?? '',
    requestReceivedTimestamp: received,
    stageTimestamp: Number.isFinite(completed) ? completed : received,
    verb: event.verb,
    user,
    userAgent,
    actor: actorOf(userAgent, user),
    requestURI: event.requestURI ?? '',
  };
  const ref = event.objectRef;
  if (ref?.resource) {
    const object: RecordObject = { apiGroup: ref.apiGroup ?? '', apiVersion: ref.apiVersion ?? '', resource: ref.resource };
    if (ref.subresource) object.subresource = ref.subresource;
    if (ref.namespace) object.namespace = ref.namespace;
    if (ref.name) object.name = ref.name;
    if (ref.uid) object.uid = ref.uid;
    entry.object = object;
  }
  const status = event.responseStatus;
  if (status) {
    if (typeof status.code === 'number') entry.code = status.code;
    if (status.reason) entry.reason = status.reason;
    if (status.message) entry.message = status.message;
    if (status.details?.uid) entry.responseUid = status.details.uid;
  }
  if (event.verb === 'delete' && entry.code !== undefined && entry.code >= 200 && entry.code < 300) {
    // A Status answer carries details (the uid of what was removed); the object as answer leaves only the code.
    entry.deleted = status?.details?.uid ? 'gone' : 'stayed';
  }
  return entry;
}

/** Whether a request succeeded (2xx). */
export function succeeded(entry: Pick<RecordEntry, 'code'>): boolean {
  return entry.code !== undefined && entry.code >= 200 && entry.code < 300;
}

/** Whether a request changes state (what placement and attribution care about most). */
export function isMutating(entry: Pick<RecordEntry, 'verb'>): boolean {
  return entry.verb === 'create' || entry.verb === 'update' || entry.verb === 'patch' || entry.verb === 'delete' || entry.verb === 'deletecollection';
}

/** The API group/version of a record object as Kubernetes writes apiVersion ("v1", "apps/v1"). */
export function groupVersion(object: Pick<RecordObject, 'apiGroup' | 'apiVersion'>): string {
  return object.apiGroup ? `${object.apiGroup}/${object.apiVersion}` : object.apiVersion;
}
