// Pure: which test made each leaked object. The object's creation time (from the watch timeline,
// or its creationTimestamp when the watch missed it) is placed among the specs' time windows:
// exact windows when the report gives per-spec start and end (Ginkgo JSON), otherwise windows
// rebuilt from the execution order and durations, which is said to be approximate. An object a
// controller made for a test (owner references) belongs to the test that made its owner.
import type { LeakReport, ObjectRef, RunResult, SnapshotObject, TestId, TimelineEvent } from '../model.ts';

export interface AttributionOptions {
  /**
   * How long after a spec ends an event may still be its own: the watch sees a creation a moment
   * after the API call returned, sometimes after the spec has finished.
   */
  latencyMs?: number;
}

export interface SpecWindow {
  test: TestId;
  start: number;
  end: number;
}

export interface Windows {
  windows: SpecWindow[];
  precision: 'exact' | 'approximate';
}

/** The time window of each spec in a run, exact when the report has per-spec times. */
export function specWindows(run: RunResult): Windows | undefined {
  const timed = run.cases.filter((c) => c.status !== 'skipped' && c.startedAt !== undefined && c.endedAt !== undefined);
  if (timed.length > 0) {
    const windows = timed.map((c) => ({ test: c.id, start: c.startedAt as number, end: c.endedAt as number }));
    windows.sort((a, b) => a.start - b.start || a.end - b.end);
    return { windows, precision: 'exact' };
  }
  // Without times, lay the specs end to end in execution order, ending when the run ended: the
  // start of a run also holds compilation and setup, its end little more than writing reports.
  const byId = new Map(run.cases.map((c) => [c.id, c]));
  const order = run.order.length > 0 ? run.order : run.cases.filter((c) => c.status !== 'skipped').map((c) => c.id);
  if (order.length === 0) return undefined;
  const windows: SpecWindow[] = [];
  let end = run.endedAt;
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i] as TestId;
    const duration = Math.max(0, byId.get(id)?.durationMs ?? 0);
    windows.unshift({ test: id, start: end - duration, end });
    end -= duration;
  }
  return { windows, precision: 'approximate' };
}

/** How close to a spec boundary an event must be seen to be called ambiguous. */
const BOUNDARY_MS = 300;

/** The spec a moment belongs to, or undefined outside every spec. */
export function specAt(
  w: Windows,
  at: number,
  createdAt: string | undefined,
  latencyMs: number,
  likely?: TestId,
): { test: TestId; precision: 'exact' | 'approximate'; ambiguousWith?: TestId } | undefined {
  const inside = w.windows.filter((s) => s.start <= at && at <= s.end);
  let best: SpecWindow | undefined;
  let precision = w.precision;
  if (inside.length > 0) {
    // Overlapping windows mean parallel specs: the latest to start is the likeliest, not certain.
    best = inside.reduce((a, b) => (b.start > a.start ? b : a));
    if (inside.length > 1) precision = 'approximate';
  }
  // Seen just after a spec ended (or just after the next one began): the watch lags the API call.
  const previous = w.windows.filter((s) => s.end < at && at - s.end <= latencyMs).reduce<SpecWindow | undefined>((a, b) => (!a || b.end > a.end ? b : a), undefined);
  if (previous && (!best || createdBefore(createdAt, best.start) || previous.test === likely)) {
    best = previous;
  }
  if (!best) return undefined;
  // Seen moments after one spec ended and the next began: the watch's lag alone could put a
  // creation of the first spec into the second. Say so; other runs may settle it.
  const other = best === previous ? inside.find((s) => s !== previous) : previous;
  const boundaryMs = Math.min(latencyMs, BOUNDARY_MS);
  if (other && previous && at - previous.end <= boundaryMs && inside.some((s) => at - s.start <= boundaryMs)) {
    return { test: best.test, precision, ambiguousWith: other.test };
  }
  return { test: best.test, precision };
}

// creationTimestamp has second precision: it proves "before" only when its whole second is.
function createdBefore(createdAt: string | undefined, at: number): boolean {
  if (!createdAt) return false;
  const t = Date.parse(createdAt);
  return Number.isFinite(t) && t + 1000 <= at;
}

interface Birth {
  at: number;
  createdAt?: string;
  owners: string[];
  ref: ObjectRef;
  /** The time is the creationTimestamp or a late sighting, not a live watch event. */
  rough: boolean;
}

function births(objects: SnapshotObject[], timeline: TimelineEvent[]): Map<string, Birth> {
  const out = new Map<string, Birth>();
  for (const e of timeline) {
    if (e.verb !== 'created' || out.has(e.object.uid)) continue;
    const rough = e.late === true && e.createdAt !== undefined;
    const at = rough ? Date.parse(e.createdAt as string) + 500 : e.at;
    const b: Birth = { at, owners: e.ownerUids ?? [], ref: refOf(e.object), rough };
    if (e.createdAt) b.createdAt = e.createdAt;
    out.set(e.object.uid, b);
  }
  for (const o of objects) {
    const known = out.get(o.uid);
    const owners = ownerUids(o);
    if (known) {
      if (known.owners.length === 0) known.owners = owners;
      continue;
    }
    if (!o.creationTimestamp) continue;
    // Not seen by the watch: the middle of the creation second is the best guess.
    out.set(o.uid, { at: Date.parse(o.creationTimestamp) + 500, createdAt: o.creationTimestamp, owners, ref: refOf(o), rough: true });
  }
  return out;
}

function ownerUids(o: SnapshotObject): string[] {
  const refs = o.ownerReferences ?? [];
  const controller = refs.filter((r) => r.controller);
  return (controller.length ? controller : refs).map((r) => r.uid);
}

function refOf(o: ObjectRef & { uid?: string }): ObjectRef {
  const r: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.name };
  if (o.namespace) r.namespace = o.namespace;
  if (o.uid) r.uid = o.uid;
  return r;
}

/** The leak entry for an object of a run, before anyone is named for it. */
function unattributed(o: SnapshotObject, run: RunResult): LeakReport {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.namespace ?? '',
    name: o.name,
    uid: o.uid,
    terminating: o.deletionTimestamp !== undefined,
    finalizers: o.finalizers ?? [],
    createdBy: null,
    runs: [run.id],
    attribution: 'unknown',
    resource: o.resource,
  };
}

/** Attributes each leaked object to the test that created it (or its owner). */
export function attribute(
  leaked: SnapshotObject[],
  timeline: TimelineEvent[],
  run: RunResult,
  opts: AttributionOptions = {},
): LeakReport[] {
  const latencyMs = opts.latencyMs ?? 2000;
  const w = specWindows(run);
  const born = births(leaked, timeline);
  // Who made each namespace the run created: an object seen just as one spec ended and the next
  // began, inside a namespace the first one made, is the first one's.
  const namespaceMaker = new Map<string, TestId>();
  for (const o of leaked) {
    const b = born.get(o.uid);
    if (o.kind !== 'Namespace' || o.namespace || !b || !w) continue;
    const hit = specAt(w, b.at, b.createdAt, latencyMs);
    if (hit) namespaceMaker.set(o.name, hit.test);
  }
  return leaked.map((o) => {
    const leak = unattributed(o, run);
    // Walk up to the first owner created during the run that has no such owner itself.
    let root = born.get(o.uid);
    let rootUid = o.uid;
    const seen = new Set([o.uid]);
    for (let b = root; b; ) {
      const up = b.owners.find((u) => born.has(u) && !seen.has(u));
      if (!up) break;
      seen.add(up);
      rootUid = up;
      root = born.get(up);
      b = root;
    }
    if (!root || !w) return leak;
    const hit = specAt(w, root.at, root.createdAt, latencyMs, namespaceMaker.get(root.ref.namespace ?? ''));
    if (!hit) return leak;
    leak.createdBy = hit.test;
    if (hit.ambiguousWith) leak.ambiguousWith = hit.ambiguousWith;
    if (rootUid !== o.uid) {
      leak.attribution = 'owner';
      leak.owner = root.ref;
    } else {
      leak.attribution = root.rough ? 'approximate' : hit.precision;
    }
    return leak;
  });
}

/** Names the test running when each baseline object was deleted (shared state destroyed). */
export function attributeDeleted(
  deleted: SnapshotObject[],
  timeline: TimelineEvent[],
  run: RunResult,
  opts: AttributionOptions = {},
): LeakReport[] {
  const latencyMs = opts.latencyMs ?? 2000;
  const w = specWindows(run);
  const deletions = new Map<string, TimelineEvent>();
  for (const e of timeline) {
    if ((e.verb === 'terminating' || e.verb === 'deleted') && !deletions.has(e.object.uid)) deletions.set(e.object.uid, e);
  }
  return deleted.map((o) => {
    const leak: LeakReport = { ...unattributed(o, run), terminating: false, deletedBy: null };
    const e = deletions.get(o.uid);
    const hit = e && w ? specAt(w, e.at, undefined, latencyMs) : undefined;
    if (hit) {
      leak.deletedBy = hit.test;
      leak.attribution = hit.precision;
    }
    return leak;
  });
}

/**
 * Settles attributions made at a spec boundary with the other runs' evidence: the same family of
 * objects (kind, and name and namespace without their generated suffix) votes across runs, a
 * clear attribution with two votes, a boundary one with one vote for each candidate; a boundary
 * object goes to the candidate its family votes for most.
 */
export function settleAmbiguous(perRun: LeakReport[][]): LeakReport[][] {
  const votes = new Map<string, Map<TestId, number>>();
  const vote = (leak: LeakReport, test: TestId, weight: number) => {
    const tally = votes.get(family(leak)) ?? new Map<TestId, number>();
    tally.set(test, (tally.get(test) ?? 0) + weight);
    votes.set(family(leak), tally);
  };
  for (const leak of perRun.flat()) {
    if (!leak.createdBy) continue;
    vote(leak, leak.createdBy, leak.ambiguousWith ? 1 : 2);
    if (leak.ambiguousWith) vote(leak, leak.ambiguousWith, 1);
  }
  return perRun.map((leaks) => leaks.map((leak) => {
    if (!leak.createdBy || !leak.ambiguousWith) return leak;
    const tally = votes.get(family(leak));
    if ((tally?.get(leak.ambiguousWith) ?? 0) <= (tally?.get(leak.createdBy) ?? 0)) return leak;
    return { ...leak, createdBy: leak.ambiguousWith, ambiguousWith: leak.createdBy };
  }));
}

/** generateName adds five characters from this alphabet. */
const generatedSuffix = /-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

function family(leak: LeakReport): string {
  return [leak.apiVersion, leak.kind, leak.namespace.replace(generatedSuffix, '-'), leak.name.replace(generatedSuffix, '-')].join('|');
}

/**
 * Folds per-run leak lists into one: the same object (kind, namespace, name, creator) across
 * runs. A destroyed baseline object keeps its UID from run to run: it is one entry, blamed on
 * the first test seen deleting it.
 */
export function mergeLeaks(perRun: LeakReport[][]): LeakReport[] {
  const byKey = new Map<string, LeakReport>();
  const out: LeakReport[] = [];
  for (const list of perRun) {
    for (const l of list) {
      const key = l.deletedBy !== undefined ? `deleted|${l.uid}` : [l.apiVersion, l.kind, l.namespace, l.name, l.createdBy ?? ''].join('|');
      const have = byKey.get(key);
      if (!have) {
        const copy = { ...l, runs: [...l.runs], finalizers: [...l.finalizers] };
        byKey.set(key, copy);
        out.push(copy);
        continue;
      }
      for (const r of l.runs) if (!have.runs.includes(r)) have.runs.push(r);
      have.terminating ||= l.terminating;
      for (const f of l.finalizers) if (!have.finalizers.includes(f)) have.finalizers.push(f);
      if (have.deletedBy === null && l.deletedBy) {
        have.deletedBy = l.deletedBy;
        have.attribution = l.attribution;
      }
    }
  }
  return out;
}
