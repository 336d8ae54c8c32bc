// Pure: which test made each leaked object. Each creation is placed in a span of time: from its
// watch event, [seen - the watch's measured lag, seen] (narrowed by the lag probes' lower bound);
// from its creationTimestamp when the watch missed it, the whole second (a fallback, counted).
// The specs whose windows meet that span are the candidates: one is an exact attribution; several
// are a guess, said so with the candidates ("probably"). Windows are exact when the report gives
// per-spec start and end (Ginkgo JSON), otherwise rebuilt from order and durations (approximate).
// Two rules decide before time does: an object a controller made for a test (owner references)
// belongs to the test that made its owner; an object inside a namespace a test created during the
// run belongs to that test.
// Where the run has the API server's record (src/record/), an object's own create in it decides
// instead of the watch: the spec running when the server received it (evidence "audit"); the
// owner rule still comes first, the namespace rule covers what the cluster itself made, and the
// watch remains for what the record does not hold (an existing cluster keeps no record).
import {
  isSuiteNode,
  type AttributionSummary,
  type LeakReport,
  type ObjectRef,
  type RunResult,
  type SnapshotObject,
  type TestId,
  type TimelineEntry,
  type TimelineEvent,
  type WatchLagSample,
} from '../model.ts';
import { revision } from './watch.ts';
import type { RecordEntry } from '../record/entry.ts';
import type { RecordedObject } from '../record/creates.ts';
import { RecordAttribution, type RecordCreator } from '../record/attribution.ts';

export interface AttributionOptions {
  /** The watch's lag to assume when the timeline holds no measurement of it (results of an older kubeflake). */
  latencyMs?: number;
  /** The API server's record of the run (absent: the control plane kept none): where it holds an object's create, it names the creator. */
  record?: readonly RecordEntry[];
}

export interface SpecWindow {
  test: TestId;
  start: number;
  end: number;
  /** A suite-level node ([BeforeSuite]...), not a test. */
  suiteNode?: boolean;
}

export interface Windows {
  windows: SpecWindow[];
  precision: 'exact' | 'approximate';
}

/** The time window of each spec in a run, exact when the report has per-spec times. */
export function specWindows(run: RunResult): Windows | undefined {
  const timed = run.cases.filter((c) => c.status !== 'skipped' && c.startedAt !== undefined && c.endedAt !== undefined);
  if (timed.length > 0) {
    const windows = timed.map((c) => window(c.id, isSuiteNode(c), c.startedAt as number, c.endedAt as number));
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
    windows.unshift(window(id, isSuiteNode(byId.get(id) ?? {}), end - duration, end));
    end -= duration;
  }
  return { windows, precision: 'approximate' };
}

function window(test: TestId, suiteNode: boolean, start: number, end: number): SpecWindow {
  const w: SpecWindow = { test, start, end };
  if (suiteNode) w.suiteNode = true;
  return w;
}

// ---------------------------------------------------------------------------------------------
// The watch's lag, as measured during the run.

/** How far apart a lag sample may be from an event and still describe the watch at that moment. */
const LAG_NEIGHBOURHOOD_MS = 2000;
/** Clock readings of two processes taken at the "same" moment differ by rounding. */
const CLOCK_MARGIN_MS = 2;

export interface LagProfile {
  samples: WatchLagSample[];
}

export function lagProfile(timeline: readonly TimelineEntry[]): LagProfile {
  const samples = timeline.filter((e): e is WatchLagSample => e.verb === 'lag').sort((a, b) => a.at - b.at);
  return { samples };
}

/** The samples describing the watch around `at`: those within two seconds, else the three nearest in time. */
function nearby(p: LagProfile, at: number): WatchLagSample[] {
  const close = p.samples.filter((s) => Math.abs(s.at - at) <= LAG_NEIGHBOURHOOD_MS);
  return close.length > 0 ? close : [...p.samples].sort((a, b) => Math.abs(a.at - at) - Math.abs(b.at - at)).slice(0, 3);
}

/** The most the watch lagged around `at` (the largest measured upper bound), undefined when never measured. */
export function lagBoundAt(p: LagProfile, at: number): number | undefined {
  if (p.samples.length === 0) return undefined;
  return Math.max(...nearby(p, at).map((s) => s.maxMs));
}

/** The lag the watch usually had around `at` (median of the measured spans' middles), 0 when never measured. */
export function typicalLagAt(p: LagProfile, at: number): number {
  if (p.samples.length === 0) return 0;
  return median(nearby(p, at).map((s) => (s.minMs + s.maxMs) / 2));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// When each object was created.

/** When an object was created, as far as the evidence goes. */
export interface Birth {
  /** The span the creation lies in. */
  from: number;
  to: number;
  /** The best single guess inside the span. */
  likeliest: number;
  createdAt?: string;
  owners: string[];
  ref: ObjectRef;
  /** The span comes from the creationTimestamp (the watch missed the creation, or saw it late), not a live event. */
  rough: boolean;
  /** The lag bound was assumed, not measured. */
  assumed: boolean;
  /** The creation's resource version: the API server's order of changes, which is their order in time. */
  revision?: bigint;
}

/** Pure: the creation span of one watch event. */
export function birthOf(e: TimelineEvent, lag: LagProfile, assumedLagMs: number): Birth {
  const b: Birth = { from: e.at, to: e.at, likeliest: e.at, owners: e.ownerUids ?? [], ref: refOf(e.object), rough: false, assumed: false };
  if (e.createdAt) b.createdAt = e.createdAt;
  if (e.late && e.createdAt) return { ...b, ...secondOf(e.createdAt, e.at), rough: true };
  const rv = revision(e.resourceVersion);
  if (rv !== undefined) b.revision = rv;
  const measured = lagBoundAt(lag, e.at);
  b.assumed = measured === undefined;
  // A probe's bound holds for this very change; the lag measured on others is the fallback.
  b.from = e.notBefore ?? e.at - (measured ?? assumedLagMs) - CLOCK_MARGIN_MS;
  if (e.notAfter !== undefined && e.notAfter >= b.from) b.to = e.notAfter;
  // The creation second narrows the span too, unless the server's clock disagrees with ours.
  const second = e.createdAt ? secondOf(e.createdAt) : undefined;
  if (second && second.from <= b.to && b.from <= second.to) {
    b.from = Math.max(b.from, second.from);
    b.to = Math.min(b.to, second.to);
  }
  // Bounded by probes on both sides, the middle; otherwise the moment the usual lag points to.
  b.likeliest = e.notAfter !== undefined && b.to === e.notAfter ? (b.from + b.to) / 2 : Math.min(b.to, Math.max(b.from, e.at - typicalLagAt(lag, e.at)));
  return b;
}

// creationTimestamp has second precision: the creation lies somewhere in that second.
function secondOf(createdAt: string, seen = Infinity): { from: number; to: number; likeliest: number } {
  const t = Date.parse(createdAt);
  const to = Math.min(t + 999, seen);
  return { from: t, to, likeliest: (t + to) / 2 };
}

function births(objects: SnapshotObject[], timeline: readonly TimelineEntry[], assumedLagMs: number): Map<string, Birth> {
  const lag = lagProfile(timeline);
  const out = new Map<string, Birth>();
  for (const e of timeline) {
    if (e.verb !== 'created' || out.has(e.object.uid)) continue;
    out.set(e.object.uid, birthOf(e, lag, assumedLagMs));
  }
  for (const o of objects) {
    const known = out.get(o.uid);
    const owners = ownerUids(o);
    if (known) {
      if (known.owners.length === 0) known.owners = owners;
      continue;
    }
    if (!o.creationTimestamp || !Number.isFinite(Date.parse(o.creationTimestamp))) continue;
    // Not seen by the watch: the creation second is all there is.
    out.set(o.uid, { ...secondOf(o.creationTimestamp), createdAt: o.creationTimestamp, owners, ref: refOf(o), rough: true, assumed: false });
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

// ---------------------------------------------------------------------------------------------
// Who was running then.

/** Who may have made an object, the likeliest first. */
export interface Creators {
  candidates: TestId[];
  /** Only one test fits the evidence. */
  certain: boolean;
}

/** Pure: the specs whose windows meet the creation span, the likeliest first; undefined when none could have. */
export function creatorsOf(w: Windows, b: Pick<Birth, 'from' | 'to' | 'likeliest'>, assumedLagMs: number): Creators | undefined {
  let meeting = w.windows.filter((s) => s.start <= b.to && b.from <= s.end);
  if (meeting.length === 0) {
    // In the gap after a spec (a controller of the test process acting on what it made): that spec, probably.
    const before = w.windows.filter((s) => s.end < b.from && b.from - s.end <= assumedLagMs);
    const previous = before.reduce<SpecWindow | undefined>((a, s) => (!a || s.end > a.end ? s : a), undefined);
    return previous ? { candidates: [previous.test], certain: false } : undefined;
  }
  const holds = (s: SpecWindow) => s.start <= b.likeliest && b.likeliest <= s.end;
  // Overlapping windows are parallel specs: the latest to start before the moment is the likeliest.
  meeting = [...meeting].sort((x, y) => Number(holds(y)) - Number(holds(x)) || distance(x, b.likeliest) - distance(y, b.likeliest) || y.start - x.start);
  const candidates = [...new Set(meeting.map((s) => s.test))];
  return { candidates, certain: candidates.length === 1 };
}

function distance(s: SpecWindow, at: number): number {
  return at < s.start ? s.start - at : at > s.end ? at - s.end : 0;
}

/** Whether windows overlap: parallel specs, where one spec's creations can sit in another's window. */
function parallel(w: Windows): boolean {
  return w.windows.some((s, i) => i > 0 && s.start < w.windows[i - 1]!.end);
}

/** A creation placed in one spec's window by its time alone, with its resource version. */
export interface TimeAnchor {
  revision: bigint;
  window: SpecWindow;
}

/** Pure: the creations whose time alone puts them in one spec's window, in resource-version order. */
export function timeAnchors(born: Iterable<Birth>, w: Windows, assumedLagMs: number): TimeAnchor[] {
  if (parallel(w)) return [];
  const anchors: TimeAnchor[] = [];
  for (const b of born) {
    if (b.rough || b.revision === undefined) continue;
    const who = creatorsOf(w, b, assumedLagMs);
    const window = who?.certain ? w.windows.find((s) => s.test === who.candidates[0] && s.start <= b.to && b.from <= s.end) : undefined;
    if (window) anchors.push({ revision: b.revision, window });
  }
  return anchors.sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
}

/**
 * Pure: narrows a creation's candidates by the order of changes. Resource versions order changes
 * in time, so a creation made after one placed in spec X's window cannot belong to a spec that
 * ended before X began, nor, made before one placed in Y's window, to a spec that began after Y
 * ended: between two creations of the same spec, it is that spec's. Serial specs only.
 */
export function narrowByOrder(who: Creators, b: Pick<Birth, 'revision'>, anchors: readonly TimeAnchor[], w: Windows): Creators {
  if (who.certain || b.revision === undefined || anchors.length === 0) return who;
  const r = b.revision;
  let before: TimeAnchor | undefined;
  let after: TimeAnchor | undefined;
  for (const a of anchors) {
    if (a.revision < r) before = a;
    else if (a.revision > r) {
      after = a;
      break;
    }
  }
  const fits = (test: TestId) => w.windows.some((s) => s.test === test && (!before || s.end >= before.window.start) && (!after || s.start <= after.window.end));
  const candidates = who.candidates.filter(fits);
  if (candidates.length === 0 || candidates.length === who.candidates.length) return who;
  return { candidates, certain: candidates.length === 1 };
}

// ---------------------------------------------------------------------------------------------
// Leaks.

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

/** Names the creators on a leak entry: certain, or the likeliest with the others as candidates. */
function name(leak: LeakReport, who: Creators, certainAttribution: LeakReport['attribution']): void {
  leak.createdBy = who.candidates[0] ?? null;
  leak.attribution = who.certain ? certainAttribution : 'approximate';
  if (who.candidates.length > 1) {
    leak.candidates = who.candidates;
    leak.ambiguousWith = who.candidates[1];
  }
}

/** The first owner created during the run up the owner chain that has no such owner itself. */
function rootOwner(uid: string, born: Map<string, Birth>): string {
  let root = uid;
  const seen = new Set([uid]);
  for (let b = born.get(uid); b; b = born.get(root)) {
    const up = b.owners.find((u) => born.has(u) && !seen.has(u));
    if (!up) break;
    seen.add(up);
    root = up;
  }
  return root;
}

/**
 * Who made each namespace created during the run, when a test (not a suite-level node) did:
 * everything inside was made by that same test, so with serial specs its window meets each of
 * their creation spans too, which narrows a namespace seen at a spec boundary to one test.
 */
function namespaceMakers(leaked: SnapshotObject[], born: Map<string, Birth>, w: Windows, place: (b: Birth) => Creators | undefined): Map<string, Creators> {
  const makers = new Map<string, Creators>();
  for (const [uid, b] of born) {
    if (b.ref.kind !== 'Namespace' || b.ref.namespace || b.ref.apiVersion !== 'v1') continue;
    const own = place(b);
    if (!own) continue;
    // Possibly made by BeforeSuite & co: its contents are each their own spec's, by their own evidence.
    if (own.candidates.some((t) => w.windows.some((s) => s.suiteNode && s.test === t))) continue;
    let candidates = own.candidates;
    if (!parallel(w)) {
      for (const o of leaked) {
        const ob = o.namespace === b.ref.name && o.uid !== uid ? born.get(o.uid) : undefined;
        const theirs = ob && !ob.rough ? place(ob) : undefined;
        const narrowed = theirs ? candidates.filter((t) => theirs.candidates.includes(t)) : candidates;
        if (narrowed.length > 0) candidates = narrowed;
      }
    }
    makers.set(b.ref.name, { candidates, certain: candidates.length === 1 && !b.rough });
  }
  return makers;
}

/** Who may have made a creation: by its time, narrowed by the order of every creation the run's timeline placed by time. */
function placer(w: Windows, born: Iterable<Birth>, assumedLagMs: number): (b: Birth) => Creators | undefined {
  const anchors = timeAnchors(born, w, assumedLagMs);
  return (b) => {
    const who = creatorsOf(w, b, assumedLagMs);
    return who && narrowByOrder(who, b, anchors, w);
  };
}

/**
 * envtest runs no namespace controller: a namespace the suite deleted stays terminating, with
 * everything in it, until the instance is thrown away. The namespace staying is not the suite's
 * doing and is no leak; what the specs made inside it and never deleted is one (marked, with
 * its own hint: DELETED_NAMESPACE_HINT in model.ts). Where namespaces really go away (the timeline saw one
 * deleted, or the record shows a namespace finalized: a controller runs there), nothing changes.
 */
export function splitDeletedNamespaces(leaked: readonly SnapshotObject[], timeline: readonly TimelineEntry[], record?: readonly RecordEntry[]): { leaked: SnapshotObject[]; inDeletedNamespace: Set<string> } {
  const none = { leaked: [...leaked], inDeletedNamespace: new Set<string>() };
  const isNamespaceObject = (o: SnapshotObject) => o.kind === 'Namespace' && o.apiVersion === 'v1' && !o.namespace;
  if (timeline.some((e) => e.verb === 'deleted' && e.object.kind === 'Namespace' && e.object.apiVersion === 'v1')) return none;
  if (record?.some((e) => e.object?.resource === 'namespaces' && e.object.apiGroup === '' && e.object.subresource === 'finalize' && e.code !== undefined && e.code < 300)) return none;
  const deleted = new Set(leaked.filter((o) => isNamespaceObject(o) && o.deletionTimestamp).map((o) => o.name));
  if (deleted.size === 0) return none;
  const inDeletedNamespace = new Set(leaked.filter((o) => o.namespace !== undefined && deleted.has(o.namespace)).map((o) => o.uid));
  return { leaked: leaked.filter((o) => !(isNamespaceObject(o) && deleted.has(o.name))), inDeletedNamespace };
}

/** Marks the leaks left inside a namespace the suite deleted under envtest (see splitDeletedNamespaces). */
export function markInDeletedNamespace(leaks: LeakReport[], inDeletedNamespace: ReadonlySet<string>): LeakReport[] {
  for (const leak of leaks) if (inDeletedNamespace.has(leak.uid)) leak.inDeletedNamespace = true;
  return leaks;
}

/** What the record needs of each object the evidence knows (leaked ones, and those the watch saw created), by uid. */
function recordedObjects(leaked: readonly SnapshotObject[], timeline: readonly TimelineEntry[]): Map<string, RecordedObject> {
  const out = new Map<string, RecordedObject>();
  for (const e of timeline) {
    if (e.verb !== 'created' || !e.object.resource || out.has(e.object.uid)) continue;
    const o: RecordedObject = { apiVersion: e.object.apiVersion, resource: e.object.resource, name: e.object.name };
    if (e.object.namespace) o.namespace = e.object.namespace;
    if (e.createdAt) o.creationTimestamp = e.createdAt;
    out.set(e.object.uid, o);
  }
  for (const s of leaked) {
    const o: RecordedObject = { apiVersion: s.apiVersion, resource: s.resource, name: s.name };
    if (s.namespace) o.namespace = s.namespace;
    if (s.creationTimestamp) o.creationTimestamp = s.creationTimestamp;
    out.set(s.uid, o);
  }
  return out;
}

/** Who the record names for each object (by uid), when the suite sent its create (RecordCreator.byTest). */
function recordCreators(record: readonly RecordEntry[] | undefined, run: RunResult, leaked: readonly SnapshotObject[], timeline: readonly TimelineEntry[]): (uid: string) => RecordCreator | undefined {
  if (!record) return () => undefined;
  const byRecord = new RecordAttribution(record, run);
  const objects = recordedObjects(leaked, timeline);
  const cache = new Map<string, RecordCreator | undefined>();
  return (uid) => {
    if (!cache.has(uid)) {
      const o = objects.get(uid);
      const creator = o ? byRecord.creatorOf(o) : undefined;
      cache.set(uid, creator?.byTest ? creator : undefined);
    }
    return cache.get(uid);
  };
}

function creatorsOfRecord(r: RecordCreator): Creators {
  return { candidates: r.candidates, certain: r.certain };
}

function recordCreateOf(r: RecordCreator): NonNullable<LeakReport['recordCreate']> {
  return { at: r.create.entry.requestReceivedTimestamp, match: r.create.match, placement: r.placement.basis };
}

/** Attributes each leaked object to the test that created it (or its owner, or its namespace). */
export function attribute(
  leaked: SnapshotObject[],
  timeline: readonly TimelineEntry[],
  run: RunResult,
  opts: AttributionOptions = {},
): LeakReport[] {
  const assumedLagMs = opts.latencyMs ?? 2000;
  const w = specWindows(run);
  const born = births(leaked, timeline, assumedLagMs);
  if (!w) return leaked.map((o) => unattributed(o, run));
  const byTime = placer(w, born.values(), assumedLagMs);
  const fromRecord = recordCreators(opts.record, run, leaked, timeline);
  const place = (b: Birth): Creators | undefined => {
    const recorded = b.ref.uid ? fromRecord(b.ref.uid) : undefined;
    return recorded ? creatorsOfRecord(recorded) : byTime(b);
  };
  const makers = namespaceMakers(leaked, born, w, place);
  return leaked.map((o) => {
    const leak = unattributed(o, run);
    const rootUid = born.has(o.uid) ? rootOwner(o.uid, born) : o.uid;
    const root = born.get(rootUid);
    const recorded = fromRecord(rootUid);
    if (!root) {
      if (!recorded) return leak;
      // No creation time nor watch event, but the record holds its create.
      name(leak, creatorsOfRecord(recorded), 'exact');
      leak.evidence = 'audit';
      leak.recordCreate = recordCreateOf(recorded);
      return leak;
    }
    const rootRef = root.ref;
    const maker = rootRef.namespace ? makers.get(rootRef.namespace) : undefined;
    const own = rootRef.kind === 'Namespace' && !rootRef.namespace ? makers.get(rootRef.name) : undefined;
    // The record's own create of the root decides before the namespace it lies in.
    const who = recorded ? creatorsOfRecord(recorded) : maker ?? own ?? place(root);
    if (!who) return leak;
    if (rootUid !== o.uid) {
      name(leak, who, 'owner');
      leak.attribution = 'owner';
      leak.owner = rootRef;
      leak.evidence = 'owner';
      if (recorded) leak.recordCreate = recordCreateOf(recorded);
    } else if (recorded) {
      name(leak, who, 'exact');
      leak.evidence = 'audit';
      leak.recordCreate = recordCreateOf(recorded);
    } else if (maker) {
      name(leak, who, w.precision);
      leak.evidence = 'namespace';
    } else {
      name(leak, who, root.rough ? 'approximate' : w.precision);
      leak.evidence = root.rough ? 'creation-time' : 'watch';
    }
    return leak;
  });
}

/** Names the test running when each baseline object was deleted (shared state destroyed). */
export function attributeDeleted(
  deleted: SnapshotObject[],
  timeline: readonly TimelineEntry[],
  run: RunResult,
  opts: AttributionOptions = {},
): LeakReport[] {
  const assumedLagMs = opts.latencyMs ?? 2000;
  const w = specWindows(run);
  const lag = lagProfile(timeline);
  const place = w ? placer(w, births([], timeline, assumedLagMs).values(), assumedLagMs) : undefined;
  const deletions = new Map<string, TimelineEvent>();
  for (const e of timeline) {
    if ((e.verb === 'terminating' || e.verb === 'deleted') && !deletions.has(e.object.uid)) deletions.set(e.object.uid, e);
  }
  const byRecord = opts.record ? new RecordAttribution(opts.record, run) : undefined;
  return deleted.map((o) => {
    const leak: LeakReport = { ...unattributed(o, run), terminating: false, deletedBy: null };
    const recorded = byRecord?.deleterOf(o);
    if (recorded) {
      // The delete request itself, placed by the server's time.
      leak.deletedBy = recorded.placement.test;
      leak.attribution = recorded.placement.certain ? 'exact' : 'approximate';
      if (recorded.placement.candidates && recorded.placement.candidates.length > 1) leak.candidates = recorded.placement.candidates;
      leak.evidence = 'audit';
      return leak;
    }
    const e = deletions.get(o.uid);
    const who = e && place ? place(birthOf({ ...e, late: false }, lag, assumedLagMs)) : undefined;
    if (who) {
      leak.deletedBy = who.candidates[0] ?? null;
      leak.attribution = who.certain && w ? w.precision : 'approximate';
      if (who.candidates.length > 1) leak.candidates = who.candidates;
      leak.evidence = 'watch';
    }
    return leak;
  });
}

/**
 * Settles guessed attributions with the other runs' evidence: the same family of objects (kind,
 * and name and namespace without their generated suffix) votes across runs, a certain
 * attribution with two votes, a guess with one vote for each of its candidates; a guess goes to
 * the candidate its family votes for most. It never names a test outside the run's candidates.
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
    const guessed = candidatesOf(leak);
    if (guessed.length > 1) for (const t of guessed) vote(leak, t, 1);
    else vote(leak, leak.createdBy, 2);
  }
  return perRun.map((leaks) => leaks.map((leak) => {
    const guessed = candidatesOf(leak);
    if (!leak.createdBy || guessed.length < 2) return leak;
    const tally = votes.get(family(leak));
    const best = guessed.reduce((a, b) => ((tally?.get(b) ?? 0) > (tally?.get(a) ?? 0) ? b : a), leak.createdBy);
    if (best === leak.createdBy) return leak;
    return { ...leak, createdBy: best, ambiguousWith: leak.createdBy, candidates: [best, ...guessed.filter((t) => t !== best)] };
  }));
}

/** The tests a leak's attribution hesitates between (the older `ambiguousWith` included). */
function candidatesOf(leak: LeakReport): TestId[] {
  if (leak.candidates && leak.candidates.length > 1) return leak.candidates;
  return leak.createdBy && leak.ambiguousWith ? [leak.createdBy, leak.ambiguousWith] : [];
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
        if (l.candidates) copy.candidates = [...l.candidates];
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
      // Merged entries are as sure as their least sure run.
      if (l.candidates && l.candidates.length > 1) {
        have.candidates = [...new Set([...(have.candidates ?? [have.createdBy ?? '']), ...l.candidates])].filter(Boolean);
        have.attribution = 'approximate';
      }
      if (l.evidence === 'creation-time') have.evidence = 'creation-time';
    }
  }
  return out;
}

/** Pure: how leaks were attributed (fallbacks and guesses counted) and the watch's measured lag. */
export function summarizeAttribution(leaks: readonly LeakReport[], timelines: readonly (readonly TimelineEntry[])[] = []): AttributionSummary {
  const made = leaks.filter((l) => l.deletedBy === undefined);
  const summary: AttributionSummary = {
    objects: made.length,
    exact: made.filter((l) => l.createdBy && (l.evidence === 'watch' || l.evidence === 'audit') && !isGuess(l)).length,
    byNamespace: made.filter((l) => l.createdBy && l.evidence === 'namespace').length,
    byOwner: made.filter((l) => l.createdBy && l.evidence === 'owner').length,
    fellBack: made.filter((l) => l.createdBy && l.evidence === 'creation-time').length,
    guessed: made.filter((l) => l.createdBy && isGuess(l)).length,
    unknown: made.filter((l) => !l.createdBy).length,
  };
  const byRecord = made.filter((l) => l.createdBy && l.evidence === 'audit' && !isGuess(l)).length;
  if (byRecord > 0) summary.byRecord = byRecord;
  const lags = timelines.flatMap((t) => lagProfile(t).samples.map((s) => s.maxMs));
  if (lags.length > 0) summary.lagMs = { samples: lags.length, median: median(lags), max: Math.max(...lags) };
  return summary;
}

function isGuess(leak: LeakReport): boolean {
  return (leak.candidates?.length ?? 0) > 1;
}
