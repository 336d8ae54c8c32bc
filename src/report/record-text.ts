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
  const first = name(h.first);
  const second = name(h.second);
  const object = h.object.name;
  const parts: string[] = [];
  if (h.kind === 'state-dependence') {
    parts.push(`${second} reads ${object} (${objectName(h.object)}), which ${first} creates: it may fail without ${first} before it`);
  } else {
    parts.push(`${object} (${objectName(h.object)}) stayed terminating ${h.windowMs !== undefined ? millis(h.windowMs) : 'a while'} after ${first} ended`);
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
    parts.push(`probes: ${h.probes.runs.length} ${how}, ${h.probes.failed.length ? `failed in ${h.probes.failed.join(', ')}` : 'none fired'}`);
  }
  return parts.join('; ');
}
