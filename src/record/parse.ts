// Pure: the record's JSON lines into RecordEntries, line-tolerant and streaming. The API server
// writes one Event a line; a file read while the server runs (or one cut by a killed run) may end
// in half a line, and anything else may sit in it: such lines are counted and named, never fatal.
//
//   const parser = new RecordParser();
//   for await (const chunk of stream) parser.push(chunk);
//   const record = parser.end();

import { entryOf, type AuditEvent, type RecordEntry } from './entry.ts';

/** A record as read: its entries, and what could not be read. */
export interface AuditRecord {
  /** Requests in the order the server wrote them (their stage times, not always their received times). */
  entries: RecordEntry[];
  /** Non-empty lines read. */
  lines: number;
  /** Lines that were no audit event (not JSON, another kind, no time), the cut last line not counted. */
  skipped: number;
  /** The last line ended without its newline and was not a whole event: the file was cut (or still being written). */
  cut: boolean;
  /** The first few problems, each naming its line. */
  problems: string[];
  /** Entries read but not kept (the `keep` filter). */
  dropped: number;
}

export interface RecordParserOptions {
  /** Keeps only the entries this says yes to (a big record read for one purpose); the rest are counted as dropped. */
  keep?: (entry: RecordEntry) => boolean;
  /** Where the text comes from, for problems ("runs/003/audit.jsonl"). */
  source?: string;
}

const MAX_PROBLEMS = 5;
/** A line longer than this is no Metadata-level event (those are a few kB): counted, not held. */
const MAX_LINE = 1 << 20;

export class RecordParser {
  readonly #keep: ((entry: RecordEntry) => boolean) | undefined;
  readonly #source: string;
  #partial = '';
  #overlong = false;
  #lineNumber = 0;
  readonly #record: AuditRecord = { entries: [], lines: 0, skipped: 0, cut: false, problems: [], dropped: 0 };

  constructor(options: RecordParserOptions = {}) {
    this.#keep = options.keep;
    this.#source = options.source ?? 'the record';
  }

  /** Reads the whole lines of a chunk; the part after the last newline waits for the next chunk. */
  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const line = this.#partial + chunk.slice(start, nl);
      this.#partial = '';
      start = nl + 1;
      if (this.#overlong) {
        this.#overlong = false;
        this.#lineNumber += 1;
        this.#record.lines += 1;
        this.#bad('a line over 1 MiB (no Metadata-level audit event is that long)');
        continue;
      }
      this.#line(line);
    }
    this.#partial += chunk.slice(start);
    if (this.#partial.length > MAX_LINE) {
      this.#overlong = true;
      this.#partial = '';
    }
  }

  /** Reads what is left (a last line without newline) and returns the record. */
  end(): AuditRecord {
    const last = this.#partial;
    this.#partial = '';
    if (this.#overlong || last.trim()) {
      this.#lineNumber += 1;
      this.#record.lines += 1;
      const event = this.#overlong ? undefined : parseEvent(last);
      const entry = event && entryOf(event);
      if (entry) this.#take(entry);
      else {
        this.#record.cut = true;
        this.#problem(`line ${this.#lineNumber} is cut short (the file ends mid-event: the run was killed or the server was still writing)`);
      }
    }
    this.#overlong = false;
    return this.#record;
  }

  #line(line: string): void {
    this.#lineNumber += 1;
    if (!line.trim()) return;
    this.#record.lines += 1;
    const event = parseEvent(line);
    if (!event) return this.#bad('not JSON');
    const entry = entryOf(event);
    if (!entry) return this.#bad(`not an audit event (kind ${JSON.stringify(event.kind ?? null)}, or no verb or time)`);
    this.#take(entry);
  }

  #take(entry: RecordEntry): void {
    if (this.#keep && !this.#keep(entry)) this.#record.dropped += 1;
    else this.#record.entries.push(entry);
  }

  #bad(why: string): void {
    this.#record.skipped += 1;
    this.#problem(`line ${this.#lineNumber} skipped: ${why}`);
  }

  #problem(text: string): void {
    if (this.#record.problems.length < MAX_PROBLEMS) this.#record.problems.push(`${this.#source}: ${text}`);
  }
}

function parseEvent(line: string): AuditEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as AuditEvent) : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: a whole record text at once. */
export function parseRecord(text: string, options: RecordParserOptions = {}): AuditRecord {
  const parser = new RecordParser(options);
  parser.push(text);
  return parser.end();
}

/** An empty record (no file): a run that has a record slot but wrote nothing yet. */
export function emptyRecord(): AuditRecord {
  return { entries: [], lines: 0, skipped: 0, cut: false, problems: [], dropped: 0 };
}

/** One line for the report when a record lost lines: undefined when it lost none. */
export function recordDamage(record: AuditRecord, where: string): string | undefined {
  if (record.skipped === 0 && !record.cut) return undefined;
  const parts = [];
  if (record.skipped > 0) parts.push(`${record.skipped} unreadable line(s) skipped`);
  if (record.cut) parts.push('its last line was cut short');
  return `${where}: the API server's record: ${parts.join(', ')} (${record.problems[0] ?? 'no detail'})`;
}
