// Transient objects as evidence: a failure that names an object (AlreadyExists, "object is being
// deleted", NotFound, Conflict) is linked to that object's history in the API server's record of
// the run it failed in. The victim's own refused request is in the record; so are the polluter's
// delete and the write that finally removed the finalizer. Such a link proves the polluter from
// that one run. Pure: the record comes in as data.

import type { FailureKind, RecordLink, RecordedObject, RunResult, TestId } from '../model.ts';
import { isSuiteNode } from '../model.ts';
import { classifyFailure, extractObjectRefs, type MentionedObject } from '../analysis/taxonomy.ts';

/** What the hunt reads of one request in the record (placed.ts makes it from the record core's RecordEntry). */
export interface RecordRequest {
  /** Server time the request was received, epoch ms (microseconds as the fraction). */
  at: number;
  verb: string;
  /** Who sent it: the test process (its specs and in-process controllers), kubeflake itself, the cluster's controllers, the API server itself. */
  actor: 'test' | 'kubeflake' | 'controller' | 'apiserver' | 'other';
  /** The object; `plane` tells apart the control planes of one run (envtest instances: "" for kubeflake's cluster). */
  object?: RecordedObject & { subresource?: string };
  code: number;
  reason?: string;
  message?: string;
  /** A successful delete: whether the object went at once or stayed terminating (a finalizer held it). */
  deleted?: 'gone' | 'stayed';
  /** The spec running when it was received (suite setup included), when the record placed it. */
  spec?: TestId;
  /** When the server answered it (the audit event's stageTimestamp), when later than `at`: a write's effect holds from then. */
  doneAt?: number;
}

/** One run's record as the hunt reads it: its requests placed in specs, and the watch's deletions. */
export interface PlacedRecord {
  run: string;
  requests: readonly RecordRequest[];
  /** Deletion events the watch saw in the run (kubeflake's cluster): an upper bound for when an object was gone. */
  deletions?: readonly { at: number; object: Pick<RecordedObject, 'namespace' | 'name'> & { apiVersion: string; resource?: string } }[];
}

/** Failure kinds that name an object the record can follow. */
const LINKABLE: ReadonlySet<FailureKind> = new Set(['AlreadyExists', 'BeingDeleted', 'NotFound', 'Conflict']);

/** A request that succeeded. */
export function succeeded(r: Pick<RecordRequest, 'code'>): boolean {
  return r.code >= 200 && r.code < 300;
}

/** One key per object name: group, resource, namespace and name. */
export function objectKey(o: RecordedObject): string {
  return [o.plane ?? '', o.group, o.resource, o.namespace ?? '', o.name].join('\u0000');
}

/** The requests on one named object (its subresources included: a status write changes it too), in time order. */
export function historyOf(record: PlacedRecord, object: RecordedObject): RecordRequest[] {
  const key = objectKey(object);
  return record.requests.filter((r) => r.object?.name && objectKey(r.object) === key).sort((a, b) => a.at - b.at);
}

/**
 * Every record link of every failure in these runs: for each failed case that names an object,
 * the spec whose request put that object in its way. Runs without a record give none.
 */
export function findRecordLinks(runs: readonly RunResult[], records: readonly PlacedRecord[]): RecordLink[] {
  const byRun = new Map(records.map((r) => [r.run, r]));
  const links: RecordLink[] = [];
  for (const run of runs) {
    const record = byRun.get(run.id);
    if (!record) continue;
    const specs = new Set(run.cases.filter((c) => !isSuiteNode(c)).map((c) => c.id));
    for (const c of run.cases) {
      if (c.status !== 'failed' || !c.failure || isSuiteNode(c)) continue;
      const kind = classifyFailure(c.failure);
      if (!LINKABLE.has(kind)) continue;
      const text = `${c.failure.message}\n${c.failure.text ?? ''}`;
      for (const mention of extractObjectRefs(text)) {
        const link = linkMention(record, c.id, kind, mention, specs);
        if (link && !links.some((l) => l.run === link.run && l.victim === link.victim && l.polluter === link.polluter && objectKey(l.object) === objectKey(link.object))) {
          links.push(link);
        }
      }
    }
  }
  return links;
}

/** The refusal codes that show each kind. */
function refusedWith(kind: FailureKind, r: RecordRequest): boolean {
  if (kind === 'NotFound') return r.code === 404;
  if (kind === 'Conflict') return r.code === 409 && r.reason === 'Conflict';
  return r.code === 409 && r.reason !== 'Conflict';
}

function linkMention(record: PlacedRecord, victim: TestId, kind: FailureKind, mention: MentionedObject, specs: ReadonlySet<TestId>): RecordLink | undefined {
  // The victim's own requests on an object the message names, refused as the failure says.
  const refused = record.requests
    .filter((r) => r.spec === victim && r.actor === 'test' && r.object?.name && mentions(mention, r.object) && refusedWith(kind, r))
    .sort((a, b) => a.at - b.at);
  const first = refused[0];
  if (!first?.object) return undefined;
  const object = plainObject(first.object);
  const history = historyOf(record, object);
  const before = history.filter((r) => r.at < first.at);
  // Only another spec of the run pollutes: suite setup runs whatever the order.
  const isSpec = (spec: TestId | undefined): spec is TestId => spec !== undefined && spec !== victim && specs.has(spec);
  const lastCreate = findLast(before, (r) => r.verb === 'create' && succeeded(r));
  const deletion = findLast(before, (r) => r.verb === 'delete' && succeeded(r) && (!lastCreate || r.at > lastCreate.at));
  const base = {
    run: record.run,
    victim,
    object,
    failure: kind,
    refusedAt: first.at,
    refusal: { verb: first.verb, code: first.code, ...(first.reason ? { reason: first.reason } : {}), ...(first.message ? { message: first.message } : {}) },
    refusals: refused.length,
    ...(lastCreate?.spec && lastCreate.actor === 'test' ? { createdBy: lastCreate.spec, createdAt: lastCreate.at } : {}),
  };

  if (kind === 'Conflict') {
    // Another spec wrote the object after the victim's last read of it.
    const read = findLast(before, (r) => r.spec === victim && r.actor === 'test' && r.verb === 'get' && succeeded(r));
    const writer = findLast(before, (r) => (r.verb === 'update' || r.verb === 'patch') && succeeded(r) && r.actor === 'test' && (!read || r.at > read.at));
    if (!writer || !isSpec(writer.spec)) return undefined;
    return { ...base, polluter: writer.spec, state: 'modified', deletedAt: writer.at, margins: { deletedToRefusedMs: ms(first.at - writer.at) } };
  }

  if (kind === 'NotFound') {
    // A shared object another spec deleted, with nothing creating it again before the victim asked.
    if (!deletion || deletion.actor !== 'test' || !isSpec(deletion.spec)) return undefined;
    return { ...base, polluter: deletion.spec, state: 'deleted', deletedAt: deletion.at, margins: { deletedToRefusedMs: ms(first.at - deletion.at) } };
  }

  // AlreadyExists / being deleted: the object in the way was terminating (deleted, held by a
  // finalizer) or simply still there.
  // A delete that removed the object at once left nothing in the way.
  if (deletion && deletion.deleted !== 'gone') {
    const polluter = deletion.actor === 'test' && isSpec(deletion.spec) ? deletion.spec : lastCreate?.actor === 'test' && isSpec(lastCreate.spec) ? lastCreate.spec : undefined;
    if (!polluter) return undefined;
    const gone = goneAfter(record, history, deletion.at, first.at);
    // A record that shows the object gone before the refusal does not explain it.
    if (gone && gone.at < first.at) return undefined;
    return {
      ...base,
      polluter,
      state: 'terminating',
      deletedAt: deletion.at,
      ...(gone ? { goneAt: gone.at, goneBy: gone.by } : {}),
      margins: { deletedToRefusedMs: ms(first.at - deletion.at), ...(gone ? { refusedToGoneMs: ms(gone.at - first.at) } : {}) },
    };
  }
  if (deletion || !lastCreate || lastCreate.actor !== 'test' || !isSpec(lastCreate.spec)) return undefined;
  return { ...base, polluter: lastCreate.spec, state: 'present', margins: {} };
}

/**
 * When an object deleted at `deletedAt` was finally gone: the last write to it before it was
 * seen gone (that write removed its last finalizer), else (upper bounds) the watch's deletion
 * event, a request answered 404, or the next successful create of its name. With nothing later
 * showing it gone, its last write is the removal when no request succeeded on it afterwards.
 * Undefined when nothing shows it gone.
 */
export function goneAfter(
  record: PlacedRecord,
  history: readonly RecordRequest[],
  deletedAt: number,
  after: number,
): { at: number; by: NonNullable<RecordLink['goneBy']> } | undefined {
  const object = history[0]?.object;
  const recreated = history.find((r) => r.at > after && r.verb === 'create' && succeeded(r));
  // The watch follows kubeflake's own cluster only.
  const watched = object && !object.plane
    ? record.deletions?.find((d) => d.at > deletedAt && d.object.name === object.name && (d.object.namespace ?? '') === (object.namespace ?? '') && resourceAgrees(d.object, object))
    : undefined;
  // A request on the name answered 404 (an Eventually waiting for NotFound, a controller's late write) saw it gone too.
  const missed = history.find((r) => r.at > deletedAt && r.code === 404 && !r.object?.subresource);
  const seenGone = Math.min(recreated?.at ?? Infinity, watched?.at ?? Infinity, missed?.at ?? Infinity);
  // Only a write to the object itself (not its status) can remove a finalizer.
  const removal = (r: RecordRequest): boolean => r.at > deletedAt && (r.verb === 'update' || r.verb === 'patch') && succeeded(r) && !r.object?.subresource;
  if (seenGone === Infinity) {
    // Nothing later shows it gone: its last write removed the finalizer if nothing answered for it after.
    const last = findLast(history, removal);
    if (last && !history.some((r) => r.at > last.at && succeeded(r))) return { at: last.doneAt ?? last.at, by: 'finalizer-removed' };
    return undefined;
  }
  const lastWrite = findLast(history, (r) => removal(r) && r.at < seenGone);
  // The object is gone when the write that removed its finalizer was answered, not when it arrived
  // (on a loaded server the two are tens of ms apart, and another spec's create can fall between).
  if (lastWrite) return { at: lastWrite.doneAt ?? lastWrite.at, by: 'finalizer-removed' };
  if (watched && watched.at === seenGone) return { at: watched.at, by: 'watch' };
  if (missed && missed.at === seenGone) return { at: missed.at, by: 'not-found' };
  return { at: seenGone, by: 'next-create' };
}

function resourceAgrees(watched: { apiVersion: string; resource?: string }, object: RecordedObject): boolean {
  const slash = watched.apiVersion.indexOf('/');
  const group = slash >= 0 ? watched.apiVersion.slice(0, slash) : '';
  return group === object.group && (watched.resource === undefined || watched.resource === object.resource);
}

/** Whether a failure's mention of an object names this one (the type may be the resource, its kind, or a plural of it). */
export function mentions(mention: MentionedObject, object: RecordedObject): boolean {
  if (mention.name !== object.name) return false;
  if (mention.group && mention.group !== object.group) return false;
  if (mention.namespace && object.namespace && mention.namespace !== object.namespace) return false;
  const type = mention.type.toLowerCase();
  const resource = object.resource.toLowerCase();
  return type === resource || [`${type}s`, `${type}es`, type.endsWith('y') ? `${type.slice(0, -1)}ies` : ''].includes(resource);
}

export function plainObject(o: RecordedObject): RecordedObject {
  return { group: o.group, resource: o.resource, ...(o.namespace ? { namespace: o.namespace } : {}), name: o.name, ...(o.plane ? { plane: o.plane } : {}) };
}

function findLast<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i -= 1) if (test(items[i] as T)) return items[i];
  return undefined;
}

/** Milliseconds, to the microsecond. */
function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** "modelcaches.cache.kubeflake.dev default/iris2": how the record names an object in a sentence. */
export function recordObjectName(o: RecordedObject): string {
  return `${o.resource}${o.group ? `.${o.group}` : ''} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** A spec's read of a name that found nothing in a run it failed, and the specs that create that name in other runs. */
export interface ReadMiss {
  run: string;
  reader: TestId;
  object: RecordedObject;
  at: number;
  /** Specs whose own request created that name (successfully) in some run. */
  creators: TestId[];
}

/**
 * Reads count: a spec whose GET of a name got 404 in a run it then failed, while other specs
 * create that name in other runs, may need one of them to run first (a state-setter candidate
 * from the record).
 */
export function findReadMisses(runs: readonly RunResult[], records: readonly PlacedRecord[]): ReadMiss[] {
  const byRun = new Map(records.map((r) => [r.run, r]));
  // Who creates each name, over every run's record.
  const creators = new Map<string, Set<TestId>>();
  for (const record of records) {
    for (const r of record.requests) {
      if (r.verb !== 'create' || !succeeded(r) || r.actor !== 'test' || !r.spec || !r.object?.name || r.object.subresource) continue;
      const key = objectKey(r.object);
      creators.set(key, (creators.get(key) ?? new Set()).add(r.spec));
    }
  }
  const misses: ReadMiss[] = [];
  for (const run of runs) {
    const record = byRun.get(run.id);
    if (!record) continue;
    const failed = new Set(run.cases.filter((c) => c.status === 'failed' && !isSuiteNode(c)).map((c) => c.id));
    const setup = new Set(run.cases.filter(isSuiteNode).map((c) => c.id));
    for (const r of record.requests) {
      if (r.verb !== 'get' || r.code !== 404 || r.actor !== 'test' || !r.spec || !failed.has(r.spec) || !r.object?.name) continue;
      const object = plainObject(r.object);
      const others = [...(creators.get(objectKey(object)) ?? [])].filter((s) => s !== r.spec && !setup.has(s)).sort();
      if (others.length === 0) continue;
      if (misses.some((m) => m.run === run.id && m.reader === r.spec && objectKey(m.object) === objectKey(object))) continue;
      misses.push({ run: run.id, reader: r.spec, object, at: r.at, creators: others });
    }
  }
  return misses;
}
