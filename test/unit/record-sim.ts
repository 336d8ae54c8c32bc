// The API server's record of a simulated run (analysis-sim.ts), written to agree with its outcomes:
// specs run 100 ms apart; the polluter creates its object and deletes it, a finalizer holds it
// `holdMs` past the polluter's end; the victim creates the same name 5 ms into its own window,
// refused while the object is held. Where the simulator's outcome says the victim failed, the
// object is still held then; where it passed, it is gone just before.

import type { RunResult, TestId } from '../../src/model.ts';
import type { PlacedRecord, RecordRequest } from '../../src/record/links.ts';

export const T0 = Date.UTC(2026, 11, 7, 5, 0, 0);
export const BEING_DELETED = 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';
export const iris2 = { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'iris2' };

/** The run with per-spec times: spec i runs from T0 + 100 i for 90 ms. */
export function withTimes(run: RunResult): RunResult {
  const at = new Map(run.order.map((id, i) => [id, T0 + i * 100]));
  return { ...run, cases: run.cases.map((c) => (at.has(c.id) ? { ...c, startedAt: at.get(c.id) as number, endedAt: (at.get(c.id) as number) + 90 } : c)) };
}

export interface Race {
  polluter: TestId;
  victim: TestId;
  /** How long the object stays held after the polluter ends, when nothing forces it (the victim's outcome does). */
  holdMs: number;
  object?: typeof iris2;
}

/** The record of one timed run of a race. */
export function raceRecord(run: RunResult, race: Race): PlacedRecord {
  const object = race.object ?? iris2;
  const c = (id: TestId) => run.cases.find((x) => x.id === id);
  const p = c(race.polluter);
  const v = c(race.victim);
  const requests: RecordRequest[] = [];
  const req = (at: number, spec: TestId, verb: string, code: number, extra: Partial<RecordRequest> = {}): void => {
    requests.push({ at, spec, verb, code, actor: 'test', object, ...extra });
  };
  let goneAt: number | undefined;
  if (p?.startedAt !== undefined && p.endedAt !== undefined) {
    req(p.startedAt + 10, race.polluter, 'create', 201);
    req(p.startedAt + 60, race.polluter, 'delete', 200, { deleted: 'stayed' });
    goneAt = p.endedAt + race.holdMs;
  }
  if (v?.startedAt !== undefined) {
    const create = v.startedAt + 5;
    const after = goneAt !== undefined && (p?.startedAt ?? Infinity) < v.startedAt;
    if (after && v.status === 'failed') goneAt = Math.max(goneAt as number, create + 30);
    if (after && v.status === 'passed') goneAt = Math.min(goneAt as number, create - 2);
    if (v.status === 'failed') req(create, race.victim, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED });
    else req(create, race.victim, 'create', 201);
  }
  // The finalizer removal: the controller's write, placed in whichever spec runs then.
  if (goneAt !== undefined) req(goneAt, race.polluter, 'update', 200);
  requests.sort((a, b) => a.at - b.at);
  // Something shows the object gone: the watch's deletion event.
  const deletions = goneAt === undefined ? [] : [{ at: goneAt + 3, object: { apiVersion: 'cache.kubeflake.dev/v1alpha1', resource: object.resource, namespace: object.namespace, name: object.name } }];
  return { run: run.id, requests, deletions };
}
