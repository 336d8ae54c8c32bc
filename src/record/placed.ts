// The record of one run as the hunt reads it: every control plane's entries (kubeflake's cluster,
// each envtest instance) as RecordRequests placed in the spec running when the server received
// them, with the watch's deletions beside them. Pure.

import type { RunResult, TimelineEntry } from '../model.ts';
import type { RecordEntry } from './entry.ts';
import type { RunRecord } from './run-record.ts';
import { requestPlacer } from './placement.ts';
import type { PlacedRecord, RecordRequest } from './links.ts';

/** What the hunt needs of a logged run (hunt-log.ts LoggedRun has these). */
export interface RecordedRun {
  run: RunResult;
  record?: RunRecord;
  timeline?: readonly TimelineEntry[];
}

/** The placed records of the runs that have one. */
export function placedRecords(runs: readonly RecordedRun[]): PlacedRecord[] {
  return runs.flatMap((entry) => {
    const placed = placedRecord(entry);
    return placed ? [placed] : [];
  });
}

/**
 * One run's record, placed. Only requests that name an object are kept (lists, watches and
 * non-resource requests say nothing of a name), and only those of the test process and the
 * cluster's controllers: kubeflake's own reads are no evidence.
 */
export function placedRecord({ run, record, timeline = [] }: RecordedRun): PlacedRecord | undefined {
  if (!record || (!record.cluster && Object.keys(record.envtest).length === 0)) return undefined;
  const placer = requestPlacer(run);
  const requests: RecordRequest[] = [];
  const add = (entries: readonly RecordEntry[], plane: string): void => {
    for (const e of entries) {
      if (!e.object?.name || e.actor === 'kubeflake') continue;
      const request: RecordRequest = {
        at: e.requestReceivedTimestamp,
        verb: e.verb,
        actor: e.actor,
        object: {
          group: e.object.apiGroup,
          resource: e.object.resource,
          ...(e.object.namespace ? { namespace: e.object.namespace } : {}),
          name: e.object.name,
          ...(e.object.subresource ? { subresource: e.object.subresource } : {}),
          ...(plane ? { plane } : {}),
        },
        code: e.code ?? 0,
      };
      if (e.reason) request.reason = e.reason;
      if (e.message) request.message = e.message;
      if (e.deleted) request.deleted = e.deleted;
      if (e.stageTimestamp > e.requestReceivedTimestamp) request.doneAt = e.stageTimestamp;
      const spec = placer?.entry(e).test;
      if (spec) request.spec = spec;
      requests.push(request);
    }
  };
  if (record.cluster) add(record.cluster.entries, '');
  for (const [instance, r] of Object.entries(record.envtest)) add(r.entries, instance);
  requests.sort((a, b) => a.at - b.at);
  const deletions: NonNullable<PlacedRecord['deletions']>[number][] = [];
  for (const e of timeline) {
    if (e.verb !== 'deleted') continue;
    deletions.push({ at: e.at, object: { apiVersion: e.object.apiVersion, name: e.object.name, ...(e.object.namespace ? { namespace: e.object.namespace } : {}), ...(e.object.resource ? { resource: e.object.resource } : {}) } });
  }
  return { run: run.id, requests, ...(deletions.length ? { deletions } : {}) };
}
