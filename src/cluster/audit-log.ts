// Copying the API server's audit log ("the record", src/record/policy.ts) into the results
// directory, untouched, line for line: a run's slice of a server that outlives the run (the local
// control plane, kind), or the whole log of a server that lived for one run (an envtest instance).
//
// The server rotates its log at a size bound (AUDIT_LOG_BOUNDS): the file is renamed aside as
// `<stem>-<timestamp><ext>` and a new one begun; a slice follows the file it started in by its
// inode, and says so when a rotation lost lines.
//
//   const marks = await markAuditLogs(cluster.auditLogs);   // at the run's start
//   ... the run ...
//   await sliceAuditLogs(marks, join(runDir, files.audit));  // at its end

import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Where a server's log stood when a run began. */
export interface AuditLogMark {
  file: string;
  /** The file's inode then (0: it did not exist yet). */
  inode: number;
  offset: number;
}

/** What was copied, and what could not be. */
export interface AuditLogCopy {
  bytes: number;
  notes: string[];
}

/** Marks where each server's log ends now: the run's slice starts there. */
export async function markAuditLogs(files: readonly string[]): Promise<AuditLogMark[]> {
  return Promise.all(files.map(async (file) => {
    const info = await stat(file).catch(() => undefined);
    return { file, inode: info?.ino ?? 0, offset: info?.size ?? 0 };
  }));
}

/**
 * Copies what each server wrote since its mark to `to`. Lines of several servers (a kind cluster
 * with several control-plane nodes) are merged in the order of their server timestamps.
 */
export async function sliceAuditLogs(marks: readonly AuditLogMark[], to: string): Promise<AuditLogCopy> {
  const notes: string[] = [];
  const parts: Buffer[] = [];
  for (const mark of marks) {
    const rotated = await rotatedFiles(mark.file);
    const current = await stat(mark.file).catch(() => undefined);
    if (!current) {
      notes.push(`${mark.file} is missing: the server wrote no record during this run`);
      continue;
    }
    if (mark.inode === 0 || current.ino === mark.inode) {
      parts.push(await readFrom(mark.file, mark.inode === 0 ? 0 : mark.offset));
      continue;
    }
    // Rotated during the run: the rest of the file the run began in, then every newer one.
    const inodes = await Promise.all(rotated.map(async (file) => (await stat(file)).ino));
    const startedIn = inodes.indexOf(mark.inode);
    if (startedIn < 0) notes.push(`${mark.file} was rotated during the run and the file it began in was deleted at the size bound: the run's first lines are lost`);
    else notes.push(`${mark.file} was rotated during the run (${AUDIT_ROTATION_NOTE})`);
    const chunks: Buffer[] = [];
    if (startedIn >= 0) chunks.push(await readFrom(rotated[startedIn]!, mark.offset));
    for (const file of rotated.slice(startedIn + 1)) chunks.push(await readFrom(file, 0));
    chunks.push(await readFrom(mark.file, 0));
    parts.push(Buffer.concat(chunks));
  }
  const merged = parts.length > 1 ? mergeByTime(parts) : (parts[0] ?? Buffer.alloc(0));
  await writeFile(to, merged);
  return { bytes: merged.length, notes };
}

const AUDIT_ROTATION_NOTE = 'it passed its size bound; the slice follows it into the new file';

/**
 * Copies a server's whole log (its rotated files first) to `to`, as a stream. Says so when the
 * server rotated it: with one rotated file kept, lines of an earlier rotation may be gone.
 */
export async function collectAuditLog(file: string, to: string): Promise<AuditLogCopy | undefined> {
  const current = await stat(file).catch(() => undefined);
  if (!current) return undefined;
  const rotated = await rotatedFiles(file);
  const out = createWriteStream(to);
  let bytes = 0;
  for (const part of [...rotated, file]) {
    bytes += (await stat(part)).size;
    await pipeline(createReadStream(part), out, { end: false });
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const notes = rotated.length > 0
    ? [`the audit log passed its size bound and was rotated ${rotated.length === 1 ? 'at least once' : `${rotated.length} times`}: lines of rotations beyond the kept file(s) are lost`]
    : [];
  return { bytes, notes };
}

/** The server's rotated files of a log, oldest first (lumberjack names them `<stem>-<timestamp><ext>`). */
async function rotatedFiles(file: string): Promise<string[]> {
  const ext = extname(file);
  const stem = basename(file, ext);
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  return names
    .filter((name) => name !== basename(file) && name.startsWith(`${stem}-`) && name.endsWith(ext) && /^\d{4}-\d\d-\d\dT/.test(name.slice(stem.length + 1)))
    .sort()
    .map((name) => join(dirname(file), name));
}

async function readFrom(file: string, offset: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    // The server writes each event as one line in one write: the file ends on a whole line.
    const { size } = await handle.stat();
    const length = Math.max(0, size - offset);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Lines of several logs in the order of their `stageTimestamp` (RFC 3339 in UTC: text order is time order). */
function mergeByTime(parts: readonly Buffer[]): Buffer {
  const lines = parts.flatMap((part) => part.toString('utf8').split('\n').filter(Boolean));
  const at = (line: string): string => /"stageTimestamp":"([^"]+)"/.exec(line)?.[1] ?? '';
  const sorted = lines.map((line, index) => ({ line, index, at: at(line) })).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index));
  return Buffer.from(sorted.map((entry) => `${entry.line}\n`).join(''));
}
