// Records a timeline of creations, deletions and objects entering termination while a run is
// going on: one metadata-only watch per discovered type, plus a watch on CRDs so types the suite
// installs mid-run are followed too. Events carry kubeflake's own clock (`at`), the same clock
// the test reports use, which is what attribution compares. The watch measures its own lag
// (how long after a change it sees it) and writes the measurements beside the events, so
// attribution works from the lag the run really had, not an assumed one.
//
// The pieces, each testable alone: TimelineLog (memory + file), LagMeter (pure pairing of
// resource-version probes with the events that carry them), followType (one type's watch loop,
// relisting after 410 Gone), NewTypeFinder (types that appear mid-run), watchCluster (wiring).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { SnapshotObject, TimelineEntry, TimelineEvent, WatchLagSample } from '../model.ts';
import { collectionPath, discoverResourceTypes, typeName, type ResourceType } from './discovery.ts';
import { isUnreachable, KubeApiError, type KubeApi } from './kube.ts';
import { listTypeAt, METADATA_LIST, toSnapshotObject, type ObjectMeta } from './snapshot.ts';

const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const CRD_TYPE = 'customresourcedefinitions.apiextensions.k8s.io';
/** The type whose one-item list answers "what is the current resource version": present on every server. */
const PROBE_TYPE: ResourceType = { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list'] };

export interface WatchOptions {
  /** Appends every event to this file as one JSON line (runs/NNN/timeline.jsonl). */
  timelineFile?: string;
  /** Types to watch; default: all discovered, plus types that appear while watching. */
  types?: ResourceType[];
  /** How often to look for new types besides reacting to CRD events. */
  rediscoverMs?: number;
  /** How often to measure the watch's lag; 0 measures nothing. */
  lagProbeMs?: number;
  /** On stop, how long to wait for the watch to deliver the changes made before it (its lag). */
  settleMs?: number;
  /** Clock for every timestamp the watch records, replaceable in tests. */
  now?: () => number;
}

export interface ClusterWatch {
  /** Stops every watch and returns what was recorded (events and lag samples), in order: the timeline file's lines. */
  stop(): Promise<TimelineEntry[]>;
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
  if (ev.type === 'DELETED') {
    terminating.delete(o.uid);
    return { at, verb: 'deleted', object: eventObject(o) };
  }
  if (ev.type === 'ADDED') return createdEvent(o, at);
  if (o.deletionTimestamp && !terminating.has(o.uid)) {
    terminating.add(o.uid);
    return { at, verb: 'terminating', object: eventObject(o) };
  }
  return undefined;
}

function eventObject(o: SnapshotObject): TimelineEvent['object'] {
  const object: TimelineEvent['object'] = { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, resource: o.resource };
  if (o.namespace) object.namespace = o.namespace;
  return object;
}

function createdEvent(o: SnapshotObject, at: number): TimelineEvent {
  const e: TimelineEvent = { at, verb: 'created', object: eventObject(o) };
  if (o.creationTimestamp) e.createdAt = o.creationTimestamp;
  if (o.ownerReferences?.length) e.ownerUids = o.ownerReferences.map((r) => r.uid);
  return e;
}

/** A resource version as a number: etcd revisions, comparable since Kubernetes 1.35 (KEP-5504). */
export function revision(rv: string | undefined): bigint | undefined {
  return rv && /^\d{1,20}$/.test(rv) ? BigInt(rv) : undefined;
}

/**
 * Measures the watch's lag without writing anything to the cluster. A probe asks the API server
 * for its current resource version R (between `sentAt` and `answeredAt`); the change that made R
 * was committed in that span, so when the watch delivers the event carrying R at `at`, the lag
 * was between at - answeredAt and at - sentAt. Probes also bound each event from below: a probe
 * that saw a resource version older than the event's was sent before the change. Pure: no I/O.
 */
export class LagMeter {
  /** Probes waiting for the event that carries their resource version. */
  #pending: { rv: bigint; text: string; sentAt: number; answeredAt: number }[] = [];
  /** Answered probes, oldest first, for bounds on when each change was made. */
  #answered: { rv: bigint; sentAt: number; answeredAt: number }[] = [];
  /** Recently delivered resource versions and when, for probes answered after their event arrived. */
  #delivered = new Map<bigint, number>();
  readonly #keepMs: number;

  constructor(keepMs = 10_000) {
    this.#keepMs = keepMs;
  }

  /** A probe came back with resource version `rv`: a sample at once if its event already arrived. */
  probed(rv: string, sentAt: number, answeredAt: number): WatchLagSample | undefined {
    const r = revision(rv);
    if (r === undefined) return undefined;
    this.#answered.push({ rv: r, sentAt, answeredAt });
    if (this.#answered.length > 256) this.#answered.shift();
    const at = this.#delivered.get(r);
    // Delivered before the probe was even sent: the watch was caught up, the probe bounds nothing.
    if (at !== undefined) return at >= sentAt ? sample(rv, at, sentAt, answeredAt) : undefined;
    this.#pending.push({ rv: r, text: rv, sentAt, answeredAt });
    return undefined;
  }

  /** The watch delivered a change carrying `rv` at `at`: the lag sample it completes, if any. */
  delivered(rv: string | undefined, at: number): WatchLagSample | undefined {
    const r = revision(rv);
    if (r === undefined) return undefined;
    this.#delivered.set(r, at);
    for (const [old, when] of this.#delivered) {
      if (at - when <= this.#keepMs) break;
      this.#delivered.delete(old);
    }
    // A probe whose change never shows (it touched something not watched) is given up.
    this.#pending = this.#pending.filter((p) => at - p.answeredAt <= this.#keepMs);
    const i = this.#pending.findIndex((p) => p.rv === r);
    if (i < 0) return undefined;
    const [p] = this.#pending.splice(i, 1);
    return sample(p!.text, at, p!.sentAt, p!.answeredAt);
  }

  /** Whether the watch has delivered the change carrying `rv` (recently). */
  hasDelivered(rv: string): boolean {
    const r = revision(rv);
    return r !== undefined && this.#delivered.has(r);
  }

  /** The latest moment known to precede the change carrying `rv`: a probe sent then still saw an older version. */
  notBefore(rv: string | undefined): number | undefined {
    const r = revision(rv);
    if (r === undefined) return undefined;
    let latest: number | undefined;
    for (const p of this.#answered) if (p.rv < r && (latest === undefined || p.sentAt > latest)) latest = p.sentAt;
    return latest;
  }

  /** The earliest moment known to follow the change carrying `rv`: a probe answered then had seen it (or a later one). */
  notAfter(rv: string | undefined): number | undefined {
    const r = revision(rv);
    if (r === undefined) return undefined;
    let earliest: number | undefined;
    for (const p of this.#answered) if (p.rv >= r && (earliest === undefined || p.answeredAt < earliest)) earliest = p.answeredAt;
    return earliest;
  }
}

function sample(rv: string, at: number, sentAt: number, answeredAt: number): WatchLagSample {
  return { at, verb: 'lag', resourceVersion: rv, minMs: Math.max(0, at - answeredAt), maxMs: Math.max(0, at - sentAt) };
}

/** The run's timeline: kept in memory and appended to the timeline file line by line, so a killed run keeps it. */
export class TimelineLog {
  readonly entries: TimelineEntry[] = [];
  readonly #file: WriteStream | undefined;

  constructor(path: string | undefined, onProblem: (problem: string) => void) {
    if (!path) return;
    this.#file = createWriteStream(path, { flags: 'a' });
    this.#file.on('error', (err) => onProblem(`cannot write ${path}: ${err.message}`));
  }

  record(e: TimelineEntry): void {
    this.entries.push(e);
    this.#file?.write(JSON.stringify(e) + '\n');
  }

  close(): Promise<void> {
    const file = this.#file;
    return file ? new Promise<void>((resolve) => file.end(resolve)) : Promise.resolve();
  }
}

/** What every watch loop of one cluster watch shares. */
export interface WatchContext {
  api: KubeApi;
  now: () => number;
  signal: AbortSignal;
  log: TimelineLog;
  meter: LagMeter;
  problems: string[];
  watched: Set<string>;
  /** Objects seen terminating, so each is recorded once. */
  terminating: Set<string>;
  /** Objects whose creation is already in the timeline, so a relist records only what is new. */
  created: Set<string>;
  /** When the watch started: a relist after a gap records objects created since, not before. */
  startedAt: number;
  /** Every loop running (one per type, the lag probe), to wait for on stop. */
  loops: Promise<void>[];
  /** Called on each change delivered: the lag probe measures while changes flow. */
  onChange: () => void;
}

export function newWatchContext(api: KubeApi, opts: { now?: () => number; signal: AbortSignal; timelineFile?: string }): WatchContext {
  const problems: string[] = [];
  const now = opts.now ?? Date.now;
  return {
    api, now, signal: opts.signal, problems,
    log: new TimelineLog(opts.timelineFile, (p) => problems.push(p)),
    meter: new LagMeter(),
    watched: new Set(), terminating: new Set(), created: new Set(),
    startedAt: now(),
    loops: [],
    onChange: () => {},
  };
}

/** Waits `ms`, or less if the watch stops. Timers never keep the process alive. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms).unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The API server's current resource version, from a one-item list of `t`. */
export async function resourceVersionNow(api: KubeApi, t: ResourceType, signal: AbortSignal): Promise<string> {
  const page = await api.request<{ metadata?: { resourceVersion?: string } }>('GET', `${collectionPath(t)}?limit=1`, {
    accept: METADATA_LIST,
    signal,
    timeoutMs: 30_000,
  });
  return page.metadata?.resourceVersion ?? '';
}

/**
 * Lists `t` and records as created (late: `at` is when it was listed) each object that `isNew`
 * accepts and the timeline does not hold yet; returns the list's resource version, to watch from.
 */
export async function recordListed(ctx: WatchContext, t: ResourceType, isNew: (o: SnapshotObject) => boolean): Promise<string> {
  const { objects, resourceVersion } = await listTypeAt(ctx.api, t, { signal: ctx.signal });
  for (const o of objects) {
    if (ctx.created.has(o.uid) || !isNew(o)) continue;
    ctx.created.add(o.uid);
    ctx.log.record({ ...createdEvent(o, ctx.now()), late: true });
  }
  return resourceVersion;
}

/** Records one decoded watch event; returns the resource version to resume from, if it carries one. */
function onWatchEvent(ctx: WatchContext, t: ResourceType, ev: WatchEvent): string | undefined {
  const at = ctx.now();
  const rv = ev.object?.metadata?.resourceVersion;
  // A bookmark carries no change of its own: it resumes the watch but measures nothing.
  if (ev.type !== 'BOOKMARK') {
    const lag = ctx.meter.delivered(rv, at);
    if (lag) ctx.log.record(lag);
    ctx.onChange();
  }
  const e = toTimelineEvent(t, ev, at, ctx.terminating);
  if (e) {
    if (e.verb === 'created') {
      if (ctx.created.has(e.object.uid)) return rv;
      ctx.created.add(e.object.uid);
    }
    if (rv) e.resourceVersion = rv;
    const notBefore = ctx.meter.notBefore(rv);
    if (notBefore !== undefined) e.notBefore = notBefore;
    // Seen late: a probe answered before the event arrived already held the change.
    const notAfter = ctx.meter.notAfter(rv);
    if (notAfter !== undefined && notAfter < at) e.notAfter = notAfter;
    ctx.log.record(e);
  }
  return rv;
}

type StreamEnd = 'ended' | 'gone';

/** One watch request from `rv` until the server ends it; `onResume` gets each resource version seen. */
async function watchStream(ctx: WatchContext, t: ResourceType, rv: string, onResume: (rv: string) => void, onChange?: () => void): Promise<StreamEnd> {
  let end: StreamEnd = 'ended';
  await ctx.api.watch(`${collectionPath(t)}?watch=1&allowWatchBookmarks=true&timeoutSeconds=1800&resourceVersion=${rv}`, {
    accept: METADATA_WATCH,
    signal: ctx.signal,
    onEvent: (raw) => {
      const ev = raw as WatchEvent;
      if (ev.type === 'ERROR') {
        if (ev.object?.code === 410) end = 'gone';
        else ctx.problems.push(`watch of ${typeName(t)} reported: ${ev.object?.message ?? 'an error'}`);
        return;
      }
      const next = onWatchEvent(ctx, t, ev);
      if (next) onResume(next);
      if (onChange && ev.type !== 'BOOKMARK') onChange();
    },
  });
  return end;
}

/**
 * Follows one type from `rv` until the watch stops: re-watches from the last resource version
 * when the server ends the stream, retries with backoff when it fails, and after 410 Gone (the
 * server no longer holds the changes since `rv`) relists the type, recording what was created in
 * the gap, so no creation is silently lost. Ends when the type goes away (its CRD was deleted).
 */
export async function followType(ctx: WatchContext, t: ResourceType, rv: string, onChange?: () => void): Promise<void> {
  const name = typeName(t);
  let failures = 0;
  while (!ctx.signal.aborted) {
    let end: StreamEnd;
    try {
      end = await watchStream(ctx, t, rv, (next) => (rv = next), onChange);
      failures = 0;
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 405)) {
        ctx.watched.delete(name);
        return;
      }
      if (!(err instanceof KubeApiError && err.status === 410)) {
        failures++;
        if (failures === 1 || !isUnreachable(err)) ctx.problems.push(`watch of ${name} failed, retrying: ${(err as Error).message}`);
        await pause(Math.min(5000, 200 * 2 ** Math.min(failures, 5)), ctx.signal);
        continue;
      }
      end = 'gone';
    }
    if (end === 'gone' && !ctx.signal.aborted) rv = (await relistAfterGap(ctx, t)) ?? rv;
  }
}

/** After 410 Gone: what appeared since the watch started and is not in the timeline is recorded (late); the new resource version, or undefined to retry. */
async function relistAfterGap(ctx: WatchContext, t: ResourceType): Promise<string | undefined> {
  const name = typeName(t);
  // creationTimestamp has whole seconds: anything from the watch's starting second on may be new.
  const since = Math.floor(ctx.startedAt / 1000) * 1000;
  try {
    const rv = await recordListed(ctx, t, (o) => !o.creationTimestamp || Date.parse(o.creationTimestamp) >= since);
    ctx.problems.push(`watch of ${name} fell behind (410 Gone): relisted it; objects created in between are recorded from their creation times`);
    return rv;
  } catch (err) {
    if (ctx.signal.aborted) return undefined;
    ctx.problems.push(`watch of ${name} fell behind (410 Gone) and could not relist: ${(err as Error).message}`);
    await pause(1000, ctx.signal);
    return undefined;
  }
}

/** Starts following a type (its loop joins `ctx.loops`); `late` types appeared mid-run, so whatever they hold is new. */
export async function startType(ctx: WatchContext, t: ResourceType, late: boolean, onChange?: () => void): Promise<void> {
  const name = typeName(t);
  if (ctx.watched.has(name) || !t.verbs.includes('watch')) return;
  ctx.watched.add(name);
  try {
    const rv = late ? await recordListed(ctx, t, () => true) : await resourceVersionNow(ctx.api, t, ctx.signal);
    ctx.loops.push(followType(ctx, t, rv, onChange));
  } catch (err) {
    ctx.watched.delete(name);
    if (!ctx.signal.aborted) ctx.problems.push(`cannot watch ${name}: ${(err as Error).message}`);
  }
}

/**
 * Finds types that appear while watching and starts them: every `everyMs`, and, since a CRD
 * becomes servable a moment after it is created and a suite creates instances at once, every
 * 100 ms for 3 s after a CRD changes.
 */
export class NewTypeFinder {
  readonly #ctx: WatchContext;
  readonly #start: (t: ResourceType) => Promise<unknown>;
  #running: Promise<void> | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #burst: NodeJS.Timeout | undefined;
  #burstUntil = 0;

  constructor(ctx: WatchContext, start: (t: ResourceType) => Promise<unknown>, everyMs: number) {
    this.#ctx = ctx;
    this.#start = start;
    this.#periodic = setInterval(() => void this.look(), everyMs).unref();
  }

  /** One look at discovery; concurrent calls share it. */
  look(): Promise<void> {
    this.#running ??= (async () => {
      try {
        const d = await discoverResourceTypes(this.#ctx.api, this.#ctx.signal);
        await Promise.all(d.types.filter((t) => !this.#ctx.watched.has(typeName(t))).map((t) => this.#start(t)));
      } catch (err) {
        if (!this.#ctx.signal.aborted && !isUnreachable(err)) this.#ctx.problems.push(`rediscovery failed: ${(err as Error).message}`);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** A CRD was created, changed or deleted: look often for a while. */
  crdChanged(): void {
    this.#burstUntil = this.#ctx.now() + 3000;
    if (this.#burst) return;
    const tick = async () => {
      await this.look();
      const again = this.#ctx.now() < this.#burstUntil && !this.#ctx.signal.aborted;
      this.#burst = again ? setTimeout(() => void tick(), 100).unref() : undefined;
    };
    this.#burst = setTimeout(() => void tick(), 0).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#periodic);
    clearTimeout(this.#burst);
    this.#burstUntil = 0;
    await this.#running;
  }
}

/**
 * Probes the current resource version so the LagMeter can measure the watch's lag and bound each
 * change in time: every `everyMs` while the cluster is quiet, and every `busyMs` (a few probes in
 * flight at once) for a second after each change, since a probe only tells something about the
 * changes made around it. Each probe is one list of one namespace.
 */
export async function probeLag(ctx: WatchContext, everyMs: number, busyMs = Math.min(everyMs, 10)): Promise<void> {
  let failures = 0;
  let lastChange = -Infinity;
  let wake: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();
  ctx.onChange = () => {
    lastChange = ctx.now();
    wake?.();
  };
  const probe = async () => {
    const sentAt = ctx.now();
    try {
      const rv = await resourceVersionNow(ctx.api, PROBE_TYPE, ctx.signal);
      const lag = ctx.meter.probed(rv, sentAt, ctx.now());
      if (lag) ctx.log.record(lag);
      failures = 0;
    } catch (err) {
      if (ctx.signal.aborted) return;
      // The watch loops report an unreachable server; a probe only says once that it cannot measure.
      if (++failures === 3 && !isUnreachable(err)) ctx.problems.push(`cannot measure the watch's lag: ${(err as Error).message}`);
    }
  };
  while (!ctx.signal.aborted) {
    if (inFlight.size < 4) {
      const p = probe().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (failures) await pause(everyMs * 10, ctx.signal);
    else if (ctx.now() - lastChange < 1000) await pause(busyMs, ctx.signal);
    else await new Promise<void>((resolve) => {
      wake = resolve;
      void pause(everyMs, ctx.signal).then(resolve);
    }).finally(() => (wake = undefined));
  }
  await Promise.all(inFlight);
}

/**
 * Before stopping: waits (at most `limitMs`) until the watch has delivered the latest change made
 * so far, so the last creations of a run are not cut off by the watch's lag.
 */
export async function settle(ctx: WatchContext, limitMs: number): Promise<void> {
  const deadline = ctx.now() + limitMs;
  let rv: string;
  try {
    rv = await resourceVersionNow(ctx.api, PROBE_TYPE, ctx.signal);
  } catch {
    return; // the server is gone: nothing more will arrive
  }
  while (!ctx.meter.hasDelivered(rv) && ctx.now() < deadline && !ctx.signal.aborted) await pause(20, ctx.signal);
}

/** Starts watching the cluster; resolves once every watch is in place. */
export async function watchCluster(api: KubeApi, opts: WatchOptions = {}): Promise<ClusterWatch> {
  const abort = new AbortController();
  const ctx = newWatchContext(api, { now: opts.now, signal: abort.signal, timelineFile: opts.timelineFile });
  let finder: NewTypeFinder | undefined;
  const types = opts.types ?? (await discoverResourceTypes(api)).types;
  await Promise.all(types.map((t) => startType(ctx, t, false, !opts.types && typeName(t) === CRD_TYPE ? () => finder?.crdChanged() : undefined)));
  // Only once the discovered types are followed: an earlier look would take them all for new ones.
  if (!opts.types) finder = new NewTypeFinder(ctx, (t) => startType(ctx, t, true), opts.rediscoverMs ?? 5000);
  const lagProbeMs = opts.lagProbeMs ?? 100;
  if (lagProbeMs > 0) ctx.loops.push(probeLag(ctx, lagProbeMs));

  let stopped: Promise<TimelineEntry[]> | undefined;
  return {
    problems: ctx.problems,
    watched: ctx.watched,
    stop() {
      stopped ??= (async () => {
        if (lagProbeMs > 0) await settle(ctx, opts.settleMs ?? 2000);
        abort.abort();
        await finder?.stop();
        await Promise.all(ctx.loops);
        await ctx.log.close();
        return ctx.log.entries;
      })();
      return stopped;
    },
  };
}

/** Pure: the objects of a timeline's entries, for callers that want only the watch events. */
export function timelineEvents(entries: readonly TimelineEntry[]): TimelineEvent[] {
  return entries.filter((e): e is TimelineEvent => e.verb !== 'lag');
}
