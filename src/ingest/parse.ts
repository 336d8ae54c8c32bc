import type { ParsedReport } from '../model.ts';
import { ReportError } from './report-error.ts';
import { type ParseLimits, type ParseOptions, resolveLimits } from './limits.ts';
import { readReportText } from './decode.ts';
import { collectCases, readJUnitXml, type StreamedReport } from './junit-xml.ts';
import { readWellFormedJUnit } from './junit-strict.ts';
import { parseGinkgoJson } from './ginkgo-json.ts';
import { type GoTestContext, looksLikeGoTestJson, parseGoTestJson } from './gotest-json.ts';

/**
 * Parses one test report, JUnit XML (any dialect), Ginkgo JSON or a `go test -json` stream, told
 * apart by content. Streams the file; throws ReportError (naming the file and what to do) when it
 * cannot be read as a report, and returns warnings for problems it read past (truncation, cut text).
 * `context` says what a go test -json stream cannot say itself (the run was killed). JUnit XML is
 * read by the strict reader and, only when it is not well-formed (or past a cap), again from the
 * start by the recovering one.
 */
export async function parseReport(file: string, options?: ParseOptions, context?: GoTestContext): Promise<ParsedReport> {
  return collectCases(await streamReport(file, options, context));
}

/** parseReport, the cases of a JUnit report made one at a time as they are taken (`kubeflake parse` lets each go once written). */
export async function streamReport(file: string, options?: ParseOptions, context?: GoTestContext): Promise<StreamedReport> {
  const limits = resolveLimits(options);
  let read = await openReport(file, limits);
  const { head } = read;
  let report: StreamedReport;
  if (head.startsWith('<')) {
    const wellFormed = await readWellFormedJUnit(file, read.chunks, limits);
    if (wellFormed) report = wellFormed;
    else {
      // Not well-formed (or past a cap): read again from the start, in recovery mode.
      read = await openReport(file, limits);
      report = await readJUnitXml(file, read.chunks, limits);
    }
  } else if (looksLikeGoTestJson(head)) report = await parseGoTestJson(file, read.chunks, limits, context);
  else if (head.startsWith('[') || head.startsWith('{')) report = await parseGinkgoJson(file, read.chunks, limits);
  else {
    await read.chunks.return(undefined);
    const sample = JSON.stringify(head.slice(0, 40));
    throw new ReportError(file, `is neither XML nor JSON (it starts with ${sample}): pass a JUnit XML, Ginkgo JSON or go test -json report`);
  }
  report.warnings.unshift(...read.warnings);
  return report;
}

/** The report's text from its first non-blank character, with the warnings decoding it gave. */
async function openReport(file: string, limits: ParseLimits): Promise<{ head: string; chunks: AsyncGenerator<string>; warnings: string[] }> {
  const warnings: string[] = [];
  const chunks = readReportText(file, limits, (w) => warnings.push(w));
  const { first, rest } = await firstChunk(chunks);
  const head = first.replace(/^\uFEFF/, '').trimStart();
  if (head === '') {
    throw new ReportError(file, 'holds only whitespace: the test run probably died before writing its report; check the run log');
  }
  return { head, chunks: prepend(head, rest), warnings };
}

/** The first non-blank chunk (a report may begin with whitespace spread over chunks). */
async function firstChunk(chunks: AsyncGenerator<string>): Promise<{ first: string; rest: AsyncGenerator<string> }> {
  let first = '';
  for (;;) {
    const next = await chunks.next();
    if (next.done) return { first, rest: chunks };
    first += next.value;
    if (first.trim() !== '') return { first, rest: chunks };
    if (first.length > 1024 * 1024) first = first.slice(-16);
  }
}

async function* prepend(first: string, rest: AsyncGenerator<string>): AsyncGenerator<string> {
  try {
    yield first;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return(undefined);
  }
}
