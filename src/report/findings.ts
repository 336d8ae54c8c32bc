// Read-only views over a Report that every renderer shares: which tests are findings, in what
// order, the one-line headline, and lookups (test by id, the probe that proved a polluter).
// Nothing here decides a verdict; it only selects and counts what analysis already wrote.

import type { FixReport, LeakReport, Report, RunReport, SharedVariableReport, SourceLine, TestId, TestReport, Verdict } from '../model.ts';
import { FINDING_VERDICTS, VERDICTS } from '../verdict-table.ts';
import { plural } from './text.ts';

export function isFinding(test: TestReport): boolean {
  return VERDICTS[test.verdict].finding;
}

/** Finding tests, most actionable verdict first, then by suite and name for a stable order. */
export function findingTests(report: Report): TestReport[] {
  const rank = (t: TestReport) => VERDICTS[t.verdict].rank;
  return report.tests
    .filter(isFinding)
    .sort((a, b) => rank(a) - rank(b) || a.suite.localeCompare(b.suite) || a.name.localeCompare(b.name));
}

export function countVerdicts(report: Report): Record<Verdict, number> {
  const counts = Object.fromEntries(Object.keys(VERDICTS).map((verdict) => [verdict, 0])) as Record<Verdict, number>;
  for (const test of report.tests) counts[test.verdict] += 1;
  return counts;
}

export function plannedRuns(report: Report): RunReport[] {
  return report.runs.filter((r) => !r.probe);
}

export function probeRuns(report: Report): RunReport[] {
  return report.runs.filter((r) => r.probe);
}

/**
 * The one-line verdict: "3 order-dependent tests, 1 flaky, 2 leaked objects in 6 runs (+2 probes)"
 * or "clean: 42 tests stable in 20 runs". Plain text; each renderer escapes it for its medium.
 */
export function headline(report: Report): string {
  // Every run broke before its tests could say anything: nothing below would be about the tests.
  if (report.neverRan) return `the suite never ran: ${report.neverRan}; nothing was judged`;
  const counts = countVerdicts(report);
  const runs = plannedRuns(report).length;
  const probes = probeRuns(report).length;
  const inRuns = `in ${plural(runs, 'run')}${probes ? ` (+${plural(probes, 'probe')})` : ''}`;
  if (report.verdict === 'clean') {
    const skipped = counts.skipped ? `, ${counts.skipped.toLocaleString('en-US')} skipped` : '';
    const cleaned = report.leaks.length ? `; ${plural(report.leaks.length, 'leaked object')} cleaned up` : '';
    return `clean: ${plural(counts.stable, 'test')} stable${skipped} ${inRuns}${cleaned}`;
  }
  const parts: string[] = [];
  for (const verdict of FINDING_VERDICTS) {
    const n = counts[verdict];
    if (!n) continue;
    // Only the first part carries the noun: "3 order-dependent tests, 1 flaky".
    parts.push(parts.length ? `${n.toLocaleString('en-US')} ${verdict}` : plural(n, `${verdict} test`));
  }
  if (report.leaks.length) parts.push(plural(report.leaks.length, 'leaked object'));
  if (report.verdict === 'error') {
    const first = report.errors?.[0];
    const detail = parts.length ? `${parts.join(', ')} ${inRuns}` : `${plural(runs, 'run')} completed`;
    return `error: ${first ?? 'the run did not complete'} (${detail})`;
  }
  if (!parts.length) return `findings ${inRuns}`;
  return `${parts.join(', ')} ${inRuns}`;
}

export interface TestIndex {
  get(id: TestId): TestReport | undefined;
  /** The test's name when the report knows it, else the id itself. */
  name(id: TestId): string;
}

export function indexTests(report: Report): TestIndex {
  const byId = new Map(report.tests.map((t) => [t.id, t] as const));
  return {
    get: (id) => byId.get(id),
    name: (id) => byId.get(id)?.name ?? id,
  };
}

/**
 * The probe run that tested `helper` (polluter, state-setter or cleaner) against `subject`:
 * a probe about that subject that ran the helper before it. Prefers one whose outcome agreed
 * with the verdict (the subject failed after a polluter, passed after a state-setter).
 */
export function provingProbe(report: Report, subject: TestId, helper: TestId, purpose: RunReport['purpose']): RunReport | undefined {
  const candidates = report.runs.filter((run) => {
    if (!run.probe || (run.subject !== undefined && run.subject !== subject)) return false;
    if (purpose && run.purpose !== undefined && run.purpose !== purpose) return false;
    const h = run.order.indexOf(helper);
    const s = run.order.indexOf(subject);
    return h >= 0 && s >= 0 && h < s;
  });
  const expectFailure = purpose === 'polluter';
  return candidates.find((run) => run.failed.includes(subject) === expectFailure) ?? candidates[0];
}

/** The probe that ran the subject by itself, when there was one. */
export function aloneProbe(report: Report, subject: TestId): RunReport | undefined {
  return report.runs.find((run) => run.probe && run.order.length === 1 && run.order[0] === subject);
}

/** The probes about a test (it was their subject), in run order: the ones its `why` counts. */
export function probesAbout(report: Report, subject: TestId): RunReport[] {
  return report.runs.filter((run) => run.probe && run.subject === subject);
}

/** What one probe did with its subject: the tests it ran before it, and how the subject came out. */
export function probeOutcome(run: RunReport, subject: TestId): { before: TestId[]; outcome: 'failed' | 'passed' | 'no result' } {
  const at = run.order.indexOf(subject);
  const outcome = run.failed.includes(subject) ? 'failed' : at >= 0 ? 'passed' : 'no result';
  return { before: at > 0 ? run.order.slice(0, at) : [], outcome };
}

/** "ModelCache default/iris2", or "Namespace tenant-a" for cluster-scoped objects. */
export function leakName(leak: Pick<LeakReport, 'kind' | 'namespace' | 'name'>): string {
  return `${leak.kind} ${leak.namespace ? `${leak.namespace}/` : ''}${leak.name}`;
}

/** The leaks a polluter's `via` points at; indexes out of range are skipped, not thrown on. */
export function viaLeaks(report: Report, via: number[]): LeakReport[] {
  return via.map((i) => report.leaks[i]).filter((l): l is LeakReport => l !== undefined);
}

/** What the victim's failure said, first failure first, when the report kept it. */
export function firstFailure(test: TestReport): { kind: string; message: string; run: string } | undefined {
  const f = test.failures?.[0];
  return f ? { kind: f.kind, message: f.message, run: f.run } : undefined;
}

/** "internal/controller/modelcache_test.go:88", or "" when the report has no location. */
export function location(test: Pick<TestReport, 'file' | 'line'>): string {
  if (!test.file) return '';
  return test.line > 0 ? `${test.file}:${test.line}` : test.file;
}

/** The API server's record named the creator: exact evidence, worded as such. */
export const RECORD_EVIDENCE = "the API server's record";

/**
 * What named a leak's creator, in words ("the API server's record", "by its owner"), or '' for
 * the watch's own creation event (the plain case). The record is exact like the watch; a create it
 * places just after a spec's end (that spec's manager still acting) says so.
 */
export function creatorEvidence(leak: Pick<LeakReport, 'evidence' | 'recordCreate'>): string {
  switch (leak.evidence) {
    case 'audit':
      return leak.recordCreate?.placement === 'gap' ? `${RECORD_EVIDENCE}: created just after the spec ended` : RECORD_EVIDENCE;
    case 'creation-time':
      return 'from its creation time only';
    case 'namespace':
      return 'by its namespace';
    case 'owner':
      return 'by its owner';
    default:
      return '';
  }
}

/** One line for a person: who made a leak and how sure that is ("probably A (or B, C)", "A (the API server's record)"). */
export function describeCreator(leak: LeakReport, label: (id: TestId) => string): string {
  if (!leak.createdBy) return 'unknown';
  const who = label(leak.createdBy);
  const others = (leak.candidates ?? []).filter((t) => t !== leak.createdBy);
  const how = creatorEvidence(leak);
  return others.length > 0 ? `probably ${who} (or ${others.map(label).join(', ')}${how ? `, ${how}` : ''})` : `${who}${how ? ` (${how})` : ''}`;
}

/**
 * Objects of one kind the specs left in namespaces they deleted under envtest
 * (`LeakReport.inDeletedNamespace`): the renderers show them as one line, the hint once.
 */
export interface DeletedNamespaceGroup {
  apiVersion: string;
  kind: string;
  /** In the report's order; report.json keeps one entry each. */
  leaks: LeakReport[];
  /** The deleted namespaces they are in, each once. */
  namespaces: string[];
}

/** A row of a leaks listing: one leak, or one group of leaks in envtest's deleted namespaces. */
export type LeakRow = { leak: LeakReport } | { group: DeletedNamespaceGroup };

/** Leaked objects as rows, in the report's order: those in envtest's deleted namespaces grouped by kind at the first one's place. */
export function leakRows(leaks: readonly LeakReport[]): LeakRow[] {
  const rows: LeakRow[] = [];
  const groups = new Map<string, DeletedNamespaceGroup>();
  for (const leak of leaks) {
    if (!leak.inDeletedNamespace || leak.deletedBy !== undefined) {
      rows.push({ leak });
      continue;
    }
    const key = `${leak.apiVersion}|${leak.kind}`;
    let group = groups.get(key);
    if (!group) {
      group = { apiVersion: leak.apiVersion, kind: leak.kind, leaks: [], namespaces: [] };
      groups.set(key, group);
      rows.push({ group });
    }
    group.leaks.push(leak);
    if (!group.namespaces.includes(leak.namespace)) group.namespaces.push(leak.namespace);
  }
  return rows;
}

/** How many leaked objects some rows stand for. */
export function objectsIn(rows: readonly LeakRow[]): number {
  return rows.reduce((n, row) => n + ('group' in row ? row.group.leaks.length : 1), 0);
}

/** "48 CertificateRequest in 48 deleted namespaces", "1 Lease in the deleted namespace spec-7". */
export function deletedNamespaceTitle(group: DeletedNamespaceGroup): string {
  const where = group.namespaces.length === 1 ? `the deleted namespace ${group.namespaces[0]}` : `${group.namespaces.length.toLocaleString('en-US')} deleted namespaces`;
  return `${group.leaks.length.toLocaleString('en-US')} ${group.kind} in ${where}`;
}

/**
 * Who made a group's objects: "X (the API server's record)" when one description fits them all,
 * else each with its count, most first: "A (the API server's record) ×40, B ×8".
 */
export function deletedNamespaceCreators(group: DeletedNamespaceGroup, label: (id: TestId) => string, max = 3): string {
  const counts = new Map<string, number>();
  for (const leak of group.leaks) {
    const who = leak.createdBy ? describeCreator(leak, label) : 'an unknown test';
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  if (counts.size === 1) return [...counts.keys()][0]!;
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = ranked.slice(0, max).map(([who, n]) => `${who} ×${n.toLocaleString('en-US')}`);
  const rest = ranked.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${plural(rest, 'other')}` : shown.join(', ');
}

/** What the fix section says: where the proven patch goes and what proved it, or why there is none. */
export function fixSentence(fix: FixReport, label: (id: TestId) => string): string {
  const at = fix.file ? `${fix.file}:${fix.lines?.start ?? ''}` : '';
  const stress = fix.stress ? ' under stress: cpu' : '';
  if (fix.offered) {
    const before = fix.before ? `; before: ${fix.before.failed} of ${fix.before.runs}` : '';
    return `a proven patch at ${at}: after the fix ${fix.after?.failed ?? 0} of ${fix.after?.runs ?? 0} failed after ${label(fix.polluter)}${stress}${before} (kubeflake fix RESULTS --apply)`;
  }
  return `no patch${at ? ` for ${at}` : ''}: ${fix.noFix ?? 'not proven'}`;
}

/**
 * The hint for a pair that shares a Go variable, not an object: both lines first (a hint may be
 * cut), then what to do. "P assigns greeting at a_test.go:19 (the BeforeEach of "shouting"); this
 * spec reads it at a_test.go:29 (its It) before setting it: set greeting (a variable of an
 * enclosing container, a_test.go:15) in this spec's own BeforeEach, or make it local to the polluter."
 */
export function sharedVariableHint(variable: SharedVariableReport, polluter: string): string {
  const at = (place: SourceLine) => `${place.file}:${place.line}${place.what ? ` (${place.what})` : ''}`;
  const declared = `${variable.scope === 'package' ? 'a package variable' : 'a variable of an enclosing container'}, ${variable.declared.file}:${variable.declared.line}`;
  return `${polluter} assigns ${variable.name} at ${at(variable.assigned)}; this spec reads it at ${at(variable.read)} before setting it: set ${variable.name} (${declared}) in this spec's own BeforeEach, or make it local to the polluter.`;
}
