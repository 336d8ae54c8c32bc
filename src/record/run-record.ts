// The records of one run: the cluster kubeflake provisioned (runs/<id>/audit.jsonl) and each
// envtest instance the run started (runs/<id>/envtest/<instance>/audit.jsonl). Pure types.

import type { AuditRecord } from './parse.ts';

export interface RunRecord {
  /** kubeflake's own cluster during the run; absent when it kept no record (an existing cluster). */
  cluster?: AuditRecord;
  /** Each envtest instance's whole record, by instance id; an instance without a record is absent. */
  envtest: Record<string, AuditRecord>;
}

/** Whether a run has any record at all. */
export function hasRecord(record: RunRecord | undefined): record is RunRecord {
  return record !== undefined && (record.cluster !== undefined || Object.keys(record.envtest).length > 0);
}
