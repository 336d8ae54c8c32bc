// Latent hazards, read from the record of runs that passed: one spec deletes an object that a
// finalizer holds past the spec's own end, and another spec creates, reads or expects absent the
// same name (the seed's race, before it fires); or one spec reads a name another spec created (a
// state dependence). In every run where the two met, the near-miss margin says how close it came:
// the time from the object gone to the second spec's request. Pure: runs and records in, data out.
//
// One pair is one hazard over all runs: an object is known by its name, not by the control plane
// of one run (each run's envtest is a new instance), so the runs' evidence adds up; on envtest
// instances the two specs must be of one suite (another package's envtest never shares the name).
// A spec's own end includes its own wait: a request of its own that found the object gone (its
// cleanup's Get answered 404) proves the object went before the spec finished, whatever its
// window says (windows rebuilt from durations can end before the spec's cleanup nodes did).

import { isSuiteNode, type HazardMeeting, type HazardReport, type RecordedObject, type RunResult, type TestId } from '../model.ts';
import { goneAfter, objectKey, plainObject, succeeded, type RecordRequest, type PlacedRecord } from './links.ts';

/** A hazard as the record shows it, before probes: what HazardReport holds but the probes. */
export type HazardCandidate = Omit<HazardReport, 'probes' | 'outcome'> & {
  /** When the two never met: how long after its own start the second spec touches the name (the least seen), to estimate the margin back to back. */
  touchOffsetMs?: number;
  /** The runs whose record showed the first spec's object held past its end (their seeds replay what made it hold). */
  heldIn?: string[];
};

/** One spec's first request on a name in a run. */
interface Touch {
  run: string;
  spec: TestId;
  access: HazardReport['access'];
  request: RecordRequest;
}

/** A delete by one spec whose object stayed held past that spec's end. */
interface Hold {
  run: string;
  spec: TestId;
  deletedAt: number;
  goneAt: number;
  windowMs: number;
}

/** Hazards shown by these runs' records, closest call first. */
export function findHazards(runs: readonly RunResult[], records: readonly PlacedRecord[]): HazardCandidate[] {
  const byRun = new Map(runs.map((r) => [r.id, r]));
  const holds = new Map<string, Hold[]>();
  const touches = new Map<string, Touch[]>();
  const objects = new Map<string, RecordedObject>();
  const reads: { key: string; creator: TestId; touch: Touch }[] = [];
  const meetings = new Map<string, HazardMeeting[]>();
  for (const record of records) {
    const run = byRun.get(record.run);
    if (!run) continue;
    const specs = specWindows(run);
    const suites = new Map(run.cases.map((c) => [c.id, c.suite]));
    const named = groupByObject(record.requests);
    for (const history of named.values()) {
      const object = history[0]?.object;
      if (!object) continue;
      // The same name across runs; on an envtest instance, within the suite whose process started it.
      const keyIn = (spec: TestId): string => (object.plane ? `${hazardObjectKey(object)}\u0002${suites.get(spec) ?? ''}` : hazardObjectKey(object));
      const firstTouch = new Map<TestId, Touch>();
      for (const r of history) {
        if (r.actor !== 'test' || !r.spec || !specs.has(r.spec) || r.object?.subresource || firstTouch.has(r.spec)) continue;
        const access = accessOf(r);
        if (access) firstTouch.set(r.spec, { run: record.run, spec: r.spec, access, request: r });
      }
      for (const t of firstTouch.values()) {
        const key = keyIn(t.spec);
        objects.set(key, plainObject(object));
        touches.set(key, [...(touches.get(key) ?? []), t]);
      }
      // Deletes by one spec, and what came of them.
      for (const del of history) {
        if (del.verb !== 'delete' || !succeeded(del) || del.deleted === 'gone' || del.actor !== 'test' || !del.spec || !specs.has(del.spec)) continue;
        const gone = goneAfter(record, history, del.at, del.at);
        const ended = specEnd(specs.get(del.spec)?.endedAt, history, del);
        // Only a write or the watch dates the end; a later 404 or create is only an upper bound.
        if (!gone || (gone.by !== 'finalizer-removed' && gone.by !== 'watch') || ended === undefined) continue;
        const windowMs = gone.at - ended;
        const key = keyIn(del.spec);
        if (windowMs > 0) {
          objects.set(key, plainObject(object));
          holds.set(key, [...(holds.get(key) ?? []), { run: record.run, spec: del.spec, deletedAt: del.at, goneAt: gone.at, windowMs }]);
        }
        // Who met it: every other spec whose first request on the name came after the delete.
        for (const t of firstTouch.values()) {
          if (t.spec === del.spec || t.request.at <= del.at || (t.access !== 'create' && t.access !== 'expects-absent' && t.access !== 'read')) continue;
          // The server's own refusal (409, the name held) proves it, whatever the times say.
          const fired = t.request.at < gone.at || (t.request.code === 409 && t.request.reason !== 'Conflict');
          const meeting: HazardMeeting = { run: record.run, probe: run.probe, windowMs: round(windowMs), marginMs: round(t.request.at - gone.at), fired };
          if (keyIn(t.spec) !== key) continue;
          const pair = pairKey(del.spec, t.spec, key);
          meetings.set(pair, [...(meetings.get(pair) ?? []).filter((m) => m.run !== record.run), meeting]);
        }
      }
      // Reads of what another spec created (and the reader did not).
      for (const t of firstTouch.values()) {
        if (t.access !== 'read') continue;
        const made = findLastBefore(history, t.request.at, (r) => r.verb === 'create' && succeeded(r));
        if (made?.actor === 'test' && made.spec && made.spec !== t.spec && specs.has(made.spec) && keyIn(made.spec) === keyIn(t.spec)) reads.push({ key: keyIn(t.spec), creator: made.spec, touch: t });
      }
    }
  }

  const out = new Map<string, HazardCandidate>();
  for (const [key, list] of holds) {
    const object = objects.get(key) as RecordedObject;
    for (const hold of list) {
      for (const t of touches.get(key) ?? []) {
        if (t.spec === hold.spec) continue;
        const pair = pairKey(hold.spec, t.spec, key);
        const seen = out.get(pair);
        const offset = touchOffset(byRun.get(t.run), t);
        if (seen) {
          seen.windowMs = Math.max(seen.windowMs ?? 0, round(hold.windowMs));
          if (!seen.heldIn?.includes(hold.run)) seen.heldIn = [...(seen.heldIn ?? []), hold.run];
          if (offset !== undefined) seen.touchOffsetMs = Math.min(seen.touchOffsetMs ?? Infinity, offset);
          continue;
        }
        out.set(pair, {
          first: hold.spec,
          second: t.spec,
          object,
          kind: 'terminating',
          access: t.access,
          windowMs: round(hold.windowMs),
          meetings: meetings.get(pair) ?? [],
          ...(offset !== undefined ? { touchOffsetMs: offset } : {}),
          heldIn: [hold.run],
        });
      }
    }
  }
  for (const { key, creator, touch } of reads) {
    const pair = pairKey(creator, touch.spec, key);
    if (out.has(pair)) continue;
    const together = records.filter((r) => reads.some((x) => x.key === key && x.creator === creator && x.touch.spec === touch.spec && x.touch.run === r.run));
    out.set(pair, {
      first: creator,
      second: touch.spec,
      object: objects.get(key) as RecordedObject,
      kind: 'state-dependence',
      access: 'read',
      meetings: together.map((r) => ({ run: r.run, probe: byRun.get(r.run)?.probe ?? false, fired: false })),
    });
  }
  return [...out.values()].sort((a, b) => closeness(a) - closeness(b) || a.first.localeCompare(b.first) || a.second.localeCompare(b.second));
}

/** How close a hazard came, in ms (lower: closer): its least margin where the two met, else the margin estimated back to back. */
export function closeness(h: HazardCandidate): number {
  const margins = h.meetings.map((m) => m.marginMs).filter((m) => m !== undefined);
  if (margins.length > 0) return Math.min(...margins);
  if (h.kind === 'terminating' && h.windowMs !== undefined) return (h.touchOffsetMs ?? 0) - h.windowMs + 1e6;
  return 2e6;
}

/** A request's kind of touch on a name, or undefined for one that is no hazard (a list, an update). */
function accessOf(r: RecordRequest): HazardReport['access'] | undefined {
  if (r.verb === 'create') return 'create';
  if (r.verb === 'get') return r.code === 404 ? 'expects-absent' : succeeded(r) ? 'read' : undefined;
  return undefined;
}

/**
 * When the deleting spec was done with the object: its window's end, or later, its own request
 * that found the object gone after the delete (the Get of a cleanup's wait answered 404), when
 * the record placed that request in the spec (after its window only while no other spec ran).
 */
function specEnd(endedAt: number | undefined, history: readonly RecordRequest[], del: RecordRequest): number | undefined {
  if (endedAt === undefined) return undefined;
  const seenGone = history.find((r) => r.at > del.at && r.spec === del.spec && r.actor === 'test' && r.code === 404 && !r.object?.subresource);
  return seenGone ? Math.max(endedAt, seenGone.at) : endedAt;
}

/** An object as the hazards know it across runs: by its name, whatever control plane of one run held it. */
export function hazardObjectKey(o: RecordedObject): string {
  const { plane: _plane, ...named } = o;
  return objectKey(named);
}

function specWindows(run: RunResult): Map<TestId, { startedAt?: number; endedAt?: number }> {
  const out = new Map<TestId, { startedAt?: number; endedAt?: number }>();
  for (const c of run.cases) {
    if (isSuiteNode(c)) continue;
    out.set(c.id, { ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}), ...(c.endedAt !== undefined ? { endedAt: c.endedAt } : {}) });
  }
  return out;
}

function touchOffset(run: RunResult | undefined, t: Touch): number | undefined {
  const started = run?.cases.find((c) => c.id === t.spec)?.startedAt;
  return started === undefined ? undefined : round(t.request.at - started);
}

function groupByObject(requests: readonly RecordRequest[]): Map<string, RecordRequest[]> {
  const out = new Map<string, RecordRequest[]>();
  for (const r of requests) {
    if (!r.object?.name) continue;
    const key = objectKey(r.object);
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  for (const list of out.values()) list.sort((a, b) => a.at - b.at);
  return out;
}

function findLastBefore(history: readonly RecordRequest[], at: number, test: (r: RecordRequest) => boolean): RecordRequest | undefined {
  let found: RecordRequest | undefined;
  for (const r of history) if (r.at < at && test(r)) found = r;
  return found;
}

export function pairKey(first: TestId, second: TestId, object: string): string {
  return [first, second, object].join('\u0001');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
