import type { ParsedReport } from '../model.ts';
import { parseReport } from './parse.ts';
import { ReportError } from './report-error.ts';
import type { ParseOptions } from './limits.ts';

/** A file `kubeflake parse` could not read as a report, in place of its ParsedReport. */
export interface ParseFailure {
  file: string;
  error: string;
}

/**
 * `kubeflake parse FILE...`: prints a JSON array with one ParsedReport per file, in argument
 * order (a file that cannot be read gives `{ file, error }` instead). Returns the exit code:
 * 0 when every file parsed, 1 when at least one did not.
 */
export async function parseCommand(files: string[], out: (s: string) => void, options?: ParseOptions): Promise<number> {
  const results: (ParsedReport | ParseFailure)[] = [];
  let failed = false;
  for (const file of files) {
    try {
      results.push(await parseReport(file, options));
    } catch (err) {
      failed = true;
      results.push({ file, error: err instanceof ReportError ? err.message : `${file}: ${(err as Error).message}` });
    }
  }
  out(JSON.stringify(results, null, 2) + '\n');
  return failed ? 1 : 0;
}
