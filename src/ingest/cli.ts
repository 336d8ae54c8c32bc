import type { ParsedReport } from '../model.ts';
import { streamReport } from './parse.ts';
import type { StreamedReport } from './junit-xml.ts';
import { ReportError } from './report-error.ts';
import type { ParseOptions } from './limits.ts';
import { damageSentence, summarizeReports } from './damage.ts';

/** A file `kubeflake parse` could not read as a report, in place of its ParsedReport. */
export interface ParseFailure {
  file: string;
  error: string;
}

/** `kubeflake parse` exit codes (the CLI's usage text lists them too). */
export const parseExit = {
  /** Every file was read; repairs made to damaged ones are listed under their `damage`. */
  read: 0,
  /** At least one file could not be read as a report at all. */
  unreadable: 1,
  /** Every file was read, but test cases were lost: a damaged report, or one cut short. */
  lost: 3,
} as const;

/** Output is handed on in pieces of about this many characters. */
const pieceChars = 64 * 1024;

/**
 * `kubeflake parse FILE...`: prints a JSON array with one ParsedReport per file, in argument
 * order (a file that cannot be read gives `{ file, error }` instead), streamed a test case at a
 * time so millions of cases never become one string. Writes one line to `warn` when reports
 * were damaged. Returns the exit code (`parseExit`).
 */
export async function parseCommand(
  files: string[],
  out: (text: string) => unknown,
  options?: ParseOptions,
  warn: (line: string) => void = () => {},
): Promise<number> {
  const sink = new PieceWriter(out);
  let unreadable = false;
  let lost = false;
  // Kept for the closing summary line; their cases are released with the report.
  const damaged: ParsedReport[] = [];
  await sink.write('[');
  for (const [i, file] of files.entries()) {
    await sink.write(i === 0 ? '\n' : ',\n');
    let report: StreamedReport;
    try {
      report = await streamReport(file, options);
    } catch (err) {
      unreadable = true;
      const failure: ParseFailure = { file, error: err instanceof ReportError ? err.message : `${file}: ${(err as Error).message}` };
      await sink.write(JSON.stringify(failure));
      continue;
    }
    if (report.damage) {
      damaged.push({ ...report, cases: [] });
      lost ||= report.damage.lost > 0 || report.damage.cut;
    }
    await writeReport(sink, report);
  }
  await sink.write('\n]\n');
  await sink.flush();
  const damage = summarizeReports(damaged);
  if (damage) warn(`kubeflake parse: ${damageSentence(damage)} (see "damage" in the output)`);
  return unreadable ? parseExit.unreadable : lost ? parseExit.lost : parseExit.read;
}

/** One ParsedReport as JSON, its cases last and one a line, each let go once written. */
async function writeReport(sink: PieceWriter, report: StreamedReport): Promise<void> {
  const { cases, ...head } = report;
  const fields = JSON.stringify(head);
  await sink.write(`${fields.slice(0, -1)},"cases":[`);
  let written = 0;
  for (const tc of cases) await sink.write(`${written++ === 0 ? '\n' : ',\n'}${JSON.stringify(tc)}`);
  await sink.write(written > 0 ? '\n]}' : ']}');
}

/** Gathers small writes into pieces, so a slow reader pauses parsing instead of filling memory. */
class PieceWriter {
  private readonly out: (text: string) => unknown;
  private parts: string[] = [];
  private size = 0;

  constructor(out: (text: string) => unknown) {
    this.out = out;
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= pieceChars) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const piece = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.out(piece);
  }
}
