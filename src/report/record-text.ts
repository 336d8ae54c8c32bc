// Plain-text sentences about the record's evidence, shared by the renderers: which evidence
// decided a polluter, the chain a record link shows (with its timings), and a hazard's line.
// Renderers escape them for their format; nothing here recomputes analysis.

import type { HazardReport, PolluterReport, RecordLink, RecordedObject } from '../model.ts';

/** "40 ms", "1.2 s". */
export function millis(ms: number): string {
  if (Math.abs(ms) >= 1000) return `${Number((ms / 1000).toPrecision(2))} s`;
  return `${Math.round(ms)} ms`;
}

/** "modelcaches.cache.kubeflake.dev default/iris2". */
export function objectName(o: RecordedObject): string {
  return `${o.resource}${o.group ? `.${o.group}` : ''} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/**
 * What decided a confirmed polluter: "proven from the record of run 003; probes: fails 4 of 6
 * after it", "confirmed by probes: fails 3 of 5 after it", or "suspected".
 */
export function decidedText(p: PolluterReport): string {
  const rate = p.after ? `fails ${p.after.failed} of ${p.after.runs} after it` : '';
  if (!p.confirmed) return rate ? `suspected; probes: ${rate}` : 'suspected';
  if (p.decidedBy === 'record' && p.link) return `proven from the record of run ${p.link.run}${rate ? `; probes: ${rate}` : ''}`;
  return rate ? `confirmed by probes: ${rate}` : 'confirmed';
}

/**
 * The chain a record link shows, with the timings from the polluter's request: "deleted
 * iris2 at +0 ms; the victim's create was refused at +40 ms (409 AlreadyExists, 2 refusals) while
 * it was terminating; gone at +180 ms (its finalizer removed)".
 */
export function chainText(link: RecordLink): string {
  const refusal = `${link.refusal.code}${link.refusal.reason ? ` ${link.refusal.reason}` : ''}${link.refusals > 1 ? `, ${link.refusals} refusals` : ''}`;
  const name = objectName(link.object);
  const refusedAt = link.margins.deletedToRefusedMs;
  switch (link.state) {
    case 'terminating': {
      const gone = link.goneAt !== undefined && refusedAt !== undefined && link.margins.refusedToGoneMs !== undefined
        ? `; gone at +${millis(refusedAt + link.margins.refusedToGoneMs)} (${goneHow(link)})`
        : '; still there when the record ends';
      return `deleted ${name} at +0 ms; the victim's ${link.refusal.verb} was refused at +${millis(refusedAt ?? 0)} (${refusal}) while it was terminating${gone}`;
    }
    case 'present':
      return `created ${name} and never deleted it; the victim's ${link.refusal.verb} was refused (${refusal})`;
    case 'deleted':
      return `deleted ${name} at +0 ms; the victim's ${link.refusal.verb} found nothing at +${millis(refusedAt ?? 0)} (${refusal})`;
    case 'modified':
      return `wrote ${name} at +0 ms, after the victim read it; the victim's ${link.refusal.verb} was refused at +${millis(refusedAt ?? 0)} (${refusal})`;
  }
}

function goneHow(link: RecordLink): string {
  switch (link.goneBy) {
    case 'finalizer-removed':
      return 'its finalizer removed';
    case 'watch':
      return 'at the latest: the watch saw it deleted';
    case 'not-found':
      return 'at the latest: a request on it was answered 404';
    default:
      return 'at the latest: the next create of the name succeeded';
  }
}

/** Short timings for a diagram edge: "deletes, held 180 ms", "AlreadyExists +40 ms". */
export function chainEdges(link: RecordLink): { fromPolluter: string; toVictim: string } {
  const held = link.goneAt !== undefined && link.deletedAt !== undefined ? `, held ${millis(link.goneAt - link.deletedAt)}` : '';
  const refused = link.margins.deletedToRefusedMs !== undefined ? ` +${millis(link.margins.deletedToRefusedMs)}` : '';
  const reason = link.refusal.reason ?? String(link.refusal.code);
  switch (link.state) {
    case 'terminating':
      return { fromPolluter: `deletes${held}`, toVictim: `${reason}${refused}` };
    case 'present':
      return { fromPolluter: 'leaves', toVictim: reason };
    case 'deleted':
      return { fromPolluter: 'deletes', toVictim: `${reason}${refused}` };
    case 'modified':
      return { fromPolluter: 'writes', toVictim: `${reason}${refused}` };
  }
}

/**
 * One hazard in a sentence, the test names given by `name`: "iris2 stayed terminating 140 ms after
 * A ended; B created iris2 35 ms after it was gone (closest of 3 meetings); probes: 3 back to back
 * under stress cpu, none fired".
 */
export function hazardText(h: HazardReport, name: (id: string) => string): string {
  return [heldText(h, name, h.windowMs), ...victimTexts(h, name)].join('; ');
}

/** The hazards that share one object and one first spec: one line in the renderers, its victims listed. */
export interface HazardGroup {
  first: string;
  object: RecordedObject;
  /** Its pairs, fired first, then the report's order (closest call first). */
  hazards: HazardReport[];
  fired: number;
}

/**
 * The report's hazards grouped by (object name, first spec): a spec that leaves one name held
 * threatens every spec that touches it, and reads as one line. Groups with a fired pair come first,
 * then the report's order.
 */
export function hazardGroups(hazards: readonly HazardReport[]): HazardGroup[] {
  const groups = new Map<string, HazardGroup>();
  for (const h of hazards) {
    // By name: the control plane of one run is no part of what the specs share.
    const key = [h.kind, h.first, h.object.group, h.object.resource, h.object.namespace ?? '', h.object.name].join('\u0000');
    const group = groups.get(key) ?? { first: h.first, object: h.object, hazards: [], fired: 0 };
    group.hazards.push(h);
    if (h.outcome === 'fired') group.fired += 1;
    groups.set(key, group);
  }
  const fired = (h: HazardReport): number => (h.outcome === 'fired' ? 0 : 1);
  for (const g of groups.values()) g.hazards = g.hazards.map((h, i) => ({ h, i })).sort((a, b) => fired(a.h) - fired(b.h) || a.i - b.i).map(({ h }) => h);
  return [...groups.values()].map((g, i) => ({ g, i })).sort((a, b) => Number(b.g.fired > 0) - Number(a.g.fired > 0) || a.i - b.i).map(({ g }) => g);
}

/** The section's counts: "5 pairs on 3 lines, 2 fired", or "1, fired" for one. */
export function hazardCounts(pairs: number, lines: number, fired: number): string {
  const firedText = fired ? `, ${fired.toLocaleString('en-US')} fired` : '';
  if (pairs === lines) return `${pairs.toLocaleString('en-US')}${firedText}`;
  return `${pairs.toLocaleString('en-US')} pairs on ${lines.toLocaleString('en-US')} lines${firedText}`;
}

/**
 * A group's counts, said before any test name: "2 specs, met 4 times, hit once, 3 probes (1
 * failed)"; "never met" when no run put the two in turn.
 */
export function hazardGroupCounts(g: HazardGroup): string {
  const meetings = g.hazards.reduce((n, h) => n + h.meetings.length, 0);
  const hits = g.hazards.reduce((n, h) => n + h.meetings.filter((m) => m.fired).length, 0);
  const probes = g.hazards.reduce((n, h) => n + h.probes.runs.length, 0);
  const failed = g.hazards.reduce((n, h) => n + h.probes.failed.length, 0);
  const parts: string[] = [];
  if (g.hazards.length > 1) parts.push(`${g.hazards.length} specs`);
  parts.push(meetings ? `met ${times(meetings)}${hits ? `, hit ${times(hits)}` : ''}` : 'never met');
  if (probes) parts.push(`${probes} probe${probes === 1 ? '' : 's'}${failed ? ` (${failed} failed)` : ''}`);
  return parts.join(', ');
}

function times(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${n.toLocaleString('en-US')} times`;
}

/**
 * A group in a sentence: its one hazard's, or the object held (the longest window of the group)
 * and each spec that touches it, fired first: "bloom stayed terminating up to 170 ms after A
 * ended; B hit it while it was held in run 004 (…); C created bloom 35 ms after it was gone (…)".
 */
export function hazardGroupText(g: HazardGroup, name: (id: string) => string): string {
  const [only] = g.hazards;
  if (g.hazards.length === 1 && only) return hazardText(only, name);
  const windows = g.hazards.map((h) => h.windowMs).filter((w) => w !== undefined);
  const head = g.hazards[0] as HazardReport;
  const held = head.kind === 'state-dependence'
    ? `${head.object.name} (${objectName(head.object)}) is created by ${name(head.first)}: the specs that read it may fail without it before them`
    : heldText(head, name, windows.length ? Math.max(...windows) : undefined, true);
  return [held, ...g.hazards.flatMap((h) => victimTexts(h, name, true))].join('; ');
}

/** What the first spec leaves: the object held past its end, or a name it creates for another to read. */
function heldText(h: HazardReport, name: (id: string) => string, windowMs: number | undefined, upTo = false): string {
  const first = name(h.first);
  if (h.kind === 'state-dependence') return `${name(h.second)} reads ${h.object.name} (${objectName(h.object)}), which ${first} creates: it may fail without ${first} before it`;
  return `${h.object.name} (${objectName(h.object)}) stayed terminating ${windowMs !== undefined ? `${upTo ? 'up to ' : ''}${millis(windowMs)}` : 'a while'} after ${first} ended`;
}

/** How the second spec met the object, and its probes; in a group, a state dependence names its reader and the probes their pair. */
function victimTexts(h: HazardReport, name: (id: string) => string, inGroup = false): string[] {
  const second = name(h.second);
  const object = h.object.name;
  const parts: string[] = [];
  if (h.kind === 'state-dependence') {
    if (inGroup) parts.push(`${second} reads it`);
  } else {
    const margins = h.meetings.filter((m) => m.marginMs !== undefined && !m.fired);
    const closest = margins.sort((a, b) => (a.marginMs ?? 0) - (b.marginMs ?? 0))[0];
    const verb = h.access === 'create' ? 'created' : h.access === 'read' ? 'read' : 'expected absent';
    if (closest?.marginMs !== undefined) parts.push(`${second} ${verb} ${object} ${millis(closest.marginMs)} after it was gone (run ${closest.run}${h.meetings.length > 1 ? `, closest of ${h.meetings.length} meetings` : ''})`);
    else if (h.meetings.length === 0) parts.push(`${second} ${verb} ${object} in other runs; the two never met`);
    const hit = h.meetings.find((m) => m.fired);
    if (hit) parts.push(`${second} hit it while it was held in run ${hit.run}${hit.marginMs !== undefined ? ` (${millis(-hit.marginMs)} before it was gone)` : ''}`);
  }
  if (h.probes.runs.length > 0) {
    const how = h.kind === 'state-dependence' ? `${second} alone` : `back to back${h.probes.stress ? ' under stress cpu' : ''}`;
    parts.push(`${inGroup && h.kind !== 'state-dependence' ? `probes with ${second}` : 'probes'}: ${h.probes.runs.length} ${how}, ${h.probes.failed.length ? `failed in ${h.probes.failed.join(', ')}` : 'none fired'}`);
  }
  return parts;
}
