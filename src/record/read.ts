// The one reader of the record from disk (hunt-log.ts loads runs with it): streamed, so a big
// record is never held as one string. Everything else in src/record/ is pure.

import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RecordParser, type AuditRecord, type RecordParserOptions } from './parse.ts';
import { hasRecord, type RunRecord } from './run-record.ts';
import { files } from '../results.ts';

/** The record's file name, in a run folder (the cluster kubeflake provisioned) and in each envtest instance's folder. */
export const RECORD_FILE = 'audit.jsonl';

/** Reads a record file; undefined when there is none (that control plane had no record: an existing cluster). */
export async function readRecord(file: string, options: RecordParserOptions = {}): Promise<AuditRecord | undefined> {
  if (!existsSync(file)) return undefined;
  const parser = new RecordParser({ source: file, ...options });
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  for await (const chunk of stream) parser.push(chunk as string);
  return parser.end();
}

/** The record of a folder (a run's, or an envtest instance's), if it has one. */
export function readRecordIn(folder: string, options: RecordParserOptions = {}): Promise<AuditRecord | undefined> {
  return readRecord(join(folder, RECORD_FILE), options);
}

/**
 * The records of a run folder: the cluster's (runs/<id>/audit.jsonl) and each envtest instance's
 * (runs/<id>/<envtestDir>/<instance>/audit.jsonl). Undefined when no control plane of the run kept one.
 */
export async function readRunRecord(runFolder: string, instanceIds: readonly string[], envtestDir = files.envtestDir): Promise<RunRecord | undefined> {
  const record: RunRecord = { envtest: {} };
  const cluster = await readRecordIn(runFolder);
  if (cluster) record.cluster = cluster;
  for (const id of instanceIds) {
    const instance = await readRecordIn(join(runFolder, envtestDir, id));
    if (instance) record.envtest[id] = instance;
  }
  return hasRecord(record) ? record : undefined;
}
