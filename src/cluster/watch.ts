// Records a timeline of creations, deletions and objects entering termination while a run is
// going on: one metadata-only watch per discovered type, plus a watch on CRDs so types the suite
// installs mid-run are followed too. Events carry kubeflake's own clock (`at`), the same clock
// the test reports use, which is what attribution compares.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { ObjectRef, TimelineEvent } from '../model.ts';
import { apiVersionOf, collectionPath, discoverResourceTypes, typeName, type ResourceType } from './discovery.ts';
import { isUnreachable, KubeApiError, type KubeApi } from './kube.ts';
import { listType, toSnapshotObject, type ObjectMeta } from './snapshot.ts';

const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface WatchOptions {
  /** Appends every event to this file as one JSON line (runs/NNN/timeline.jsonl). */
  timelineFile?: string;
  /** Types to watch; default: all discovered, plus types that appear while watching. */
  types?: ResourceType[];
  /** How often to look for new types besides reacting to CRD events. */
  rediscoverMs?: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
}

export interface ClusterWatch {
  /** Stops every watch and returns the events seen, in the order they were seen. */
  stop(): Promise<TimelineEvent[]>;
  /** Gaps and failures: a type that could not be watched, a watch that had to restart. */
  readonly problems: string[];
  /** Types being watched, by type name. */
  readonly watched: ReadonlySet<string>;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object?: { metadata?: ObjectMeta; code?: number; message?: string };
}

/** Pure: one watch event to the timeline event it means, if any. */
export function toTimelineEvent(
  t: ResourceType,
  ev: WatchEvent,
  at: number,
  terminating: Set<string>,
): TimelineEvent | undefined {
  if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return undefined;
  const o = toSnapshotObject(t, ev.object?.metadata);
  if (!o) return undefined;
  const object: ObjectRef & { uid: string; resource?: string } = { apiVersion: apiVersionOf(t), kind: t.kind, name: o.name, uid: o.uid, resource: t.resource };
  if (o.namespace) object.namespace = o.namespace;
  const ownerUids = o.ownerReferences?.map((r) => r.uid);
  if (ev.type === 'DELETED') {
    terminating.delete(o.uid);
    return { at, verb: 'deleted', object };
  }
  if (ev.type === 'ADDED') {
    const e: TimelineEvent = { at, verb: 'created', object };
    if (o.creationTimestamp) e.createdAt = o.creationTimestamp;
    if (ownerUids?.length) e.ownerUids = ownerUids;
    return e;
  }
  if (o.deletionTimestamp && !terminating.has(o.uid)) {
    terminating.add(o.uid);
    return { at, verb: 'terminating', object };
  }
  return undefined;
}

const CRD_TYPE = 'customresourcedefinitions.apiextensions.k8s.io';

/** Starts watching the cluster; resolves once every watch is in place. */
export async function watchCluster(api: KubeApi, opts: WatchOptions = {}): Promise<ClusterWatch> {
  const now = opts.now ?? Date.now;
  const abort = new AbortController();
  const events: TimelineEvent[] = [];
  const problems: string[] = [];
  const watched = new Set<string>();
  const loops: Promise<void>[] = [];
  const terminating = new Set<string>();
  let file: WriteStream | undefined;
  if (opts.timelineFile) {
    file = createWriteStream(opts.timelineFile, { flags: 'a' });
    file.on('error', (err) => problems.push(`cannot write ${opts.timelineFile}: ${err.message}`));
  }
  const record = (e: TimelineEvent) => {
    events.push(e);
    file?.write(JSON.stringify(e) + '\n');
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms).unref();
      abort.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });

  // The resource version to watch from: "now", or after listing objects of a type that appeared
  // mid-run (those are all new: record them, marked late because `at` is when we saw them).
  const startingPoint = async (t: ResourceType, late: boolean): Promise<string> => {
    if (late) {
      for (const o of await listType(api, t, { signal: abort.signal })) {
        const object: TimelineEvent['object'] = { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, resource: o.resource };
        if (o.namespace) object.namespace = o.namespace;
        const e: TimelineEvent = { at: now(), verb: 'created', object, late: true };
        if (o.creationTimestamp) e.createdAt = o.creationTimestamp;
        if (o.ownerReferences?.length) e.ownerUids = o.ownerReferences.map((r) => r.uid);
        record(e);
      }
    }
    const page = await api.request<{ metadata?: { resourceVersion?: string } }>('GET', `${collectionPath(t)}?limit=1`, {
      accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      signal: abort.signal,
      timeoutMs: 30_000,
    });
    return page.metadata?.resourceVersion ?? '';
  };

  const follow = async (t: ResourceType, rv: string, onCrd?: () => void) => {
    const name = typeName(t);
    let failures = 0;
    while (!abort.signal.aborted) {
      let gone = false;
      try {
        await api.watch(`${collectionPath(t)}?watch=1&allowWatchBookmarks=true&timeoutSeconds=1800&resourceVersion=${rv}`, {
          accept: METADATA_WATCH,
          signal: abort.signal,
          onEvent: (raw) => {
            const ev = raw as WatchEvent;
            if (ev.type === 'ERROR') {
              if (ev.object?.code === 410) gone = true;
              else problems.push(`watch of ${name} reported: ${ev.object?.message ?? 'an error'}`);
              return;
            }
            const next = ev.object?.metadata?.resourceVersion;
            if (next) rv = next;
            const e = toTimelineEvent(t, ev, now(), terminating);
            if (e) record(e);
            if (onCrd && ev.type !== 'BOOKMARK') onCrd();
          },
        });
        failures = 0;
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof KubeApiError && err.status === 410) gone = true;
        else if (err instanceof KubeApiError && (err.status === 404 || err.status === 405)) {
          watched.delete(name);
          return; // the type went away (its CRD was deleted)
        } else {
          failures++;
          if (failures === 1 || !isUnreachable(err)) problems.push(`watch of ${name} failed, retrying: ${(err as Error).message}`);
          await sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
          continue;
        }
      }
      if (gone && !abort.signal.aborted) {
        problems.push(`watch of ${name} fell behind (410 Gone) and restarted; events in between may be missing`);
        try {
          rv = await startingPoint(t, false);
        } catch (err) {
          if (abort.signal.aborted) return;
          problems.push(`watch of ${name} could not restart: ${(err as Error).message}`);
          await sleep(1000);
        }
      }
    }
  };

  const start = async (t: ResourceType, late: boolean, onCrd?: () => void) => {
    const name = typeName(t);
    if (watched.has(name) || !t.verbs.includes('watch')) return;
    watched.add(name);
    try {
      const rv = await startingPoint(t, late);
      loops.push(follow(t, rv, onCrd));
    } catch (err) {
      watched.delete(name);
      if (!abort.signal.aborted) problems.push(`cannot watch ${name}: ${(err as Error).message}`);
    }
  };

  let rediscovering: Promise<void> | undefined;
  const rediscover = (): Promise<void> => {
    rediscovering ??= (async () => {
      try {
        const d = await discoverResourceTypes(api, abort.signal);
        await Promise.all(d.types.filter((t) => !watched.has(typeName(t))).map((t) => start(t, true)));
      } catch (err) {
        if (!abort.signal.aborted && !isUnreachable(err)) problems.push(`rediscovery failed: ${(err as Error).message}`);
      } finally {
        rediscovering = undefined;
      }
    })();
    return rediscovering;
  };
  // A CRD becomes servable a moment after it is created, and a suite creates instances as soon
  // as it is: look for new types every 100 ms for a few seconds after each CRD event.
  let crdPoll: NodeJS.Timeout | undefined;
  let crdPollUntil = 0;
  const onCrdEvent = () => {
    crdPollUntil = Date.now() + 3000;
    if (crdPoll) return;
    const tick = async () => {
      await rediscover();
      crdPoll = Date.now() < crdPollUntil && !abort.signal.aborted ? setTimeout(() => void tick(), 100).unref() : undefined;
    };
    crdPoll = setTimeout(() => void tick(), 0).unref();
  };

  let types = opts.types;
  const discoverAll = !types;
  if (!types) types = (await discoverResourceTypes(api)).types;
  await Promise.all(types.map((t) => start(t, false, typeName(t) === CRD_TYPE && discoverAll ? onCrdEvent : undefined)));
  let periodic: NodeJS.Timeout | undefined;
  let stopped: Promise<TimelineEvent[]> | undefined;
  // Timers never keep the process alive: a caller that forgets stop() must still be able to exit.
  if (discoverAll) periodic = setInterval(() => void rediscover(), opts.rediscoverMs ?? 5000).unref();

  return {
    problems,
    watched,
    stop() {
      stopped ??= (async () => {
        if (periodic) clearInterval(periodic);
        if (crdPoll) clearTimeout(crdPoll);
        crdPollUntil = 0;
        abort.abort();
        await rediscovering;
        await Promise.all(loops);
        if (file) await new Promise<void>((resolve) => file.end(resolve));
        return events;
      })();
      return stopped;
    },
  };
}

/** Reads a timeline.jsonl back; a line cut short (the process was killed mid-write) is skipped. */
export function readTimeline(file: string): { events: TimelineEvent[]; skipped: number } {
  const events: TimelineEvent[] = [];
  let skipped = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as TimelineEvent);
    } catch {
      skipped++;
    }
  }
  return { events, skipped };
}
