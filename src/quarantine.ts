// Quarantine: tests a team knows are flaky and has chosen to live with for a while. They still
// run, are still analysed and reported; only their failures no longer fail the step. Each entry
// carries a reason and may expire, so a quarantine is a decision with a date, not a graveyard.

import { parse } from 'yaml';
import type { Report, TestReport } from './model.ts';
import { isFinding } from './report/findings.ts';

export interface QuarantineEntry {
  /** A test's full name, or a pattern: `*` matches anything, `/regex/` is a regular expression. */
  test: string;
  reason: string;
  /** YYYY-MM-DD: from the day after, the entry no longer applies and the run warns. */
  expires?: string;
  /** Where the entry came from (the input or the file), for messages. */
  source: string;
}

export class QuarantineError extends Error {}

/**
 * Reads quarantine YAML: a list of entries, or `{ tests: [...] }`. An entry is a string (the
 * test) or `{ test, reason, expires }`. Errors name the source and the entry.
 */
export function parseQuarantine(yamlText: string, source: string): QuarantineEntry[] {
  if (!yamlText.trim()) return [];
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch (error) {
    throw new QuarantineError(`${source} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { tests?: unknown }).tests) ? (doc as { tests: unknown[] }).tests : undefined;
  if (!list) throw new QuarantineError(`${source} must be a list of tests (or "tests:" with a list), each "- test: NAME" with a reason`);
  return list.map((item, index) => {
    const where = `${source} entry ${index + 1}`;
    if (typeof item === 'string') return { test: item, reason: '', source };
    if (!item || typeof item !== 'object') throw new QuarantineError(`${where} must be a test name or { test, reason, expires }`);
    const { test, reason, expires } = item as Record<string, unknown>;
    if (typeof test !== 'string' || !test.trim()) throw new QuarantineError(`${where} needs "test:" with the test's name or a pattern`);
    const day = expires instanceof Date ? expires.toISOString().slice(0, 10) : expires;
    if (day !== undefined && (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day))) {
      throw new QuarantineError(`${where}: expires must be a date like 2026-12-31; got "${String(expires)}"`);
    }
    if (typeof test === 'string' && test.startsWith('/') && test.endsWith('/') && test.length > 1) compile(test, where);
    return { test, reason: typeof reason === 'string' ? reason : '', source, ...(day ? { expires: day as string } : {}) };
  });
}

function compile(pattern: string, where: string): RegExp {
  if (pattern.length > 1 && pattern.startsWith('/') && pattern.endsWith('/')) {
    try {
      return new RegExp(pattern.slice(1, -1));
    } catch (error) {
      throw new QuarantineError(`${where}: ${(error as Error).message}`);
    }
  }
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${escaped}$`);
}

export interface QuarantinedTest {
  test: TestReport;
  entry: QuarantineEntry;
}

export interface QuarantineOutcome {
  /** Findings that a live entry covers: reported, but they do not fail the step. */
  quarantined: QuarantinedTest[];
  /** Findings nothing covers: these decide `fail-on: findings`. */
  unquarantined: TestReport[];
  /** Entries past their date: they apply no more, and the run says so. */
  expired: QuarantineEntry[];
}

/** Which findings a quarantine covers on `today` (YYYY-MM-DD). */
export function applyQuarantine(report: Report, entries: QuarantineEntry[], today: string): QuarantineOutcome {
  const expired = entries.filter((entry) => entry.expires !== undefined && entry.expires < today);
  const live = entries.filter((entry) => !expired.includes(entry)).map((entry) => ({ entry, pattern: compile(entry.test, entry.source) }));
  const quarantined: QuarantinedTest[] = [];
  const unquarantined: TestReport[] = [];
  for (const test of report.tests.filter(isFinding)) {
    const match = live.find(({ pattern, entry }) => entry.test === test.name || entry.test === test.id || pattern.test(test.name));
    if (match) quarantined.push({ test, entry: match.entry });
    else unquarantined.push(test);
  }
  return { quarantined, unquarantined, expired };
}
