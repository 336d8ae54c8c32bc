// Lists every object of every listable type, metadata only, paged, a bounded number of types at
// a time. A snapshot never throws for a failing type or a vanished API server: it records what
// went wrong in `errors`, sets `complete: false`, and keeps what it gathered.
import type { Snapshot, SnapshotObject } from '../model.ts';
import { apiVersionOf, collectionPath, discoverResourceTypes, typeName, type ResourceType } from './discovery.ts';
import { forEachBounded, isUnreachable, KubeApiError, type KubeApi } from './kube.ts';

export const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

export interface SnapshotOptions {
  /** Types listed at the same time. */
  concurrency?: number;
  /** Objects asked for per page. */
  pageSize?: number;
  /** List only these types (default: discover them all). */
  types?: ResourceType[];
  signal?: AbortSignal;
  /** Per-request time limit. */
  requestTimeoutMs?: number;
}

/** The metadata of one object as PartialObjectMetadataList returns it. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  generateName?: string;
  labels?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

interface MetadataList {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: { metadata?: ObjectMeta }[];
}

/** Pure: one listed item to a snapshot object; undefined for items without a UID. */
export function toSnapshotObject(t: ResourceType, m: ObjectMeta | undefined): SnapshotObject | undefined {
  if (!m?.uid || !m.name) return undefined;
  const o: SnapshotObject = {
    apiVersion: apiVersionOf(t),
    kind: t.kind,
    name: m.name,
    uid: m.uid,
    resource: t.resource,
    namespaced: t.namespaced,
  };
  if (m.namespace) o.namespace = m.namespace;
  if (m.resourceVersion) o.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp) o.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp) o.deletionTimestamp = m.deletionTimestamp;
  if (m.finalizers?.length) o.finalizers = [...m.finalizers];
  if (m.ownerReferences?.length) {
    o.ownerReferences = m.ownerReferences.map((r) => {
      const ref: NonNullable<SnapshotObject['ownerReferences']>[number] = { apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid };
      if (r.controller) ref.controller = true;
      return ref;
    });
  }
  if (m.labels && Object.keys(m.labels).length) o.labels = { ...m.labels };
  if (m.generateName) o.generateName = m.generateName;
  return o;
}

/** Lists one type completely, page by page. */
export async function listType(api: KubeApi, t: ResourceType, opts: SnapshotOptions = {}): Promise<SnapshotObject[]> {
  return (await listTypeAt(api, t, opts)).objects;
}

/** Lists one type completely, with the resource version the list is consistent at (to watch from). */
export async function listTypeAt(api: KubeApi, t: ResourceType, opts: SnapshotOptions = {}): Promise<{ objects: SnapshotObject[]; resourceVersion: string }> {
  // Big pages: a metadata item is small, and each round trip costs more than its bytes (measured in bench/snapshot.bench.ts).
  const limit = opts.pageSize ?? 5000;
  const base = collectionPath(t);
  for (let attempt = 0; ; attempt++) {
    const out: SnapshotObject[] = [];
    let token = '';
    let resourceVersion = '';
    try {
      do {
        const q = `?limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const page = await withRetries(() =>
          api.request<MetadataList>('GET', base + q, {
            accept: METADATA_LIST,
            signal: opts.signal,
            timeoutMs: opts.requestTimeoutMs ?? 60_000,
          }),
        );
        for (const item of page.items ?? []) {
          const o = toSnapshotObject(t, item.metadata);
          if (o) out.push(o);
        }
        // Every page of one list is served at the first page's resource version.
        resourceVersion ||= page.metadata?.resourceVersion ?? '';
        token = page.metadata?.continue ?? '';
      } while (token);
      return { objects: out, resourceVersion };
    } catch (err) {
      // An expired continue token (410) means the list took too long: start that type over once.
      if (err instanceof KubeApiError && err.status === 410 && token && attempt === 0) continue;
      throw err;
    }
  }
}

const TRANSIENT = new Set([429, 500, 503, 504]);

// A busy API server sheds load (429 from priority and fairness, 503/504): try again shortly.
async function withRetries<T>(call: () => Promise<T>, delays = [200, 1000, 3000]): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof KubeApiError && TRANSIENT.has(err.status)) || i >= delays.length) throw err;
      await new Promise((r) => setTimeout(r, delays[i]));
    }
  }
}

/** Takes a metadata-only snapshot of the whole cluster (or of `opts.types`). */
export async function takeSnapshot(api: KubeApi, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const takenAt = Date.now();
  const snapshot: Snapshot = { takenAt, server: api.server, objects: [], errors: [], complete: false };
  let types = opts.types;
  if (!types) {
    try {
      const d = await discoverResourceTypes(api, opts.signal);
      types = d.types;
      snapshot.errors.push(...d.errors);
    } catch (err) {
      snapshot.errors.push({ resource: '*', message: `discovery failed, nothing was listed: ${(err as Error).message}` });
      return snapshot;
    }
  }
  const byType: SnapshotObject[][] = new Array(types.length);
  let unreachable: Error | undefined;
  const listed = new Set<number>();
  await forEachBounded(
    types,
    opts.concurrency ?? 8,
    async (t, i) => {
      try {
        byType[i] = await listType(api, t, opts);
        listed.add(i);
      } catch (err) {
        if (isUnreachable(err)) unreachable ??= err as Error;
        else snapshot.errors.push({ resource: typeName(t), message: (err as Error).message });
      }
    },
    () => unreachable !== undefined || opts.signal?.aborted === true,
  );
  if (unreachable || opts.signal?.aborted) {
    const missing = types.filter((_, i) => !listed.has(i)).map(typeName);
    const why = unreachable ? unreachable.message : 'the snapshot was cancelled';
    snapshot.errors.unshift({
      resource: '*',
      message: `${why}; listed ${listed.size} of ${types.length} resource types before that, the snapshot is partial`,
    });
    for (const m of missing) snapshot.errors.push({ resource: m, message: 'not listed: ' + why });
  }
  // The same objects are served under two groups (core and events.k8s.io events): keep one.
  const seen = new Set<string>();
  for (const list of byType) {
    for (const o of list ?? []) {
      if (seen.has(o.uid)) continue;
      seen.add(o.uid);
      snapshot.objects.push(o);
    }
  }
  snapshot.objects.sort(compareObjects);
  snapshot.complete = snapshot.errors.length === 0;
  return snapshot;
}

export function compareObjects(a: SnapshotObject, b: SnapshotObject): number {
  return (
    cmp(a.apiVersion, b.apiVersion) || cmp(a.resource, b.resource) || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name) || cmp(a.uid, b.uid)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One line saying why a snapshot is partial, or undefined when it is complete. */
export function snapshotProblem(s: Snapshot, file = 'the snapshot'): string | undefined {
  if (s.complete) return undefined;
  const first = s.errors[0];
  const more = s.errors.length > 1 ? ` (and ${s.errors.length - 1} more)` : '';
  return `${file} is partial: ${first ? `${first.resource}: ${first.message}` : 'unknown reason'}${more}`;
}
