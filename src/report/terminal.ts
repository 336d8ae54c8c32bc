// The CLI's summary: the verdict line, one block a finding (cause, leaked object, fix,
// reproduce), leaks, cleanup and runs in aligned columns. ANSI colour only when asked; test
// names never reach the terminal with their control characters intact.

import { DELETED_NAMESPACE_HINT, type Report } from '../model.ts';
import { VERDICTS } from '../verdict-table.ts';
import {
  deletedNamespaceCreators,
  deletedNamespaceTitle,
  describeCreator,
  findingTests,
  fixSentence,
  headline,
  indexTests,
  leakName,
  leakRows,
  location,
  objectsIn,
  plannedRuns,
  probeRuns,
  provingProbe,
  viaLeaks,
} from './findings.ts';
import { formatDuration, oneLine, plural, truncate } from './text.ts';
import { damageSentence } from '../ingest/damage.ts';
import { chainText, decidedText, hazardCounts, hazardGroupCounts, hazardGroups, hazardGroupText } from './record-text.ts';

export interface TerminalOptions {
  /** Use ANSI colours (the CLI decides from isTTY / NO_COLOR and passes it in). */
  color?: boolean;
  /** Columns to fit lines into; reproduce commands are never cut. Default 100. */
  width?: number;
}

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', magenta: '\u001b[35m', cyan: '\u001b[36m' } as const;
type Style = Exclude<keyof typeof ANSI, 'reset'>;

/** Findings listed in full; the rest are counted. */
const MAX_FINDINGS = 30;
const MAX_LEAKS = 20;
/** Column where test names start: two spaces, then the verdict padded to 17. */
const NAME_COL = 19;
/** Lines of a proven patch shown under its finding; the patch file holds all of it. */
const MAX_DIFF_LINES = 12;

/** The hunks of a unified diff without its file headers, tabs as gofmt's width, cut to MAX_DIFF_LINES. */
function diffPreview(patch: string): string[] {
  const body = patch
    .split('\n')
    .filter((line) => line !== '' && !/^(diff --git|index |--- |\+\+\+ )/.test(line))
    .map((line) => line.replace(/\t/g, '    '));
  return body.length > MAX_DIFF_LINES ? [...body.slice(0, MAX_DIFF_LINES), `… ${plural(body.length - MAX_DIFF_LINES, 'more line')} in the patch file`] : body;
}

function diffStyle(line: string): Style {
  return line.startsWith('+') ? 'green' : line.startsWith('-') ? 'red' : 'dim';
}

/** Detail labels ("after", "via", "fix"...) end where names start. */
const DETAIL_INDENT = ' '.repeat(NAME_COL - 7);

export function renderTerminal(report: Report, opts: TerminalOptions = {}): string {
  const width = Math.max(40, opts.width ?? 100);
  const paint = (style: Style, text: string) => (opts.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  // Cut to the width before painting, so escape codes never count against it or get cut in half.
  const fit = (text: string, room: number) => truncate(oneLine(text), Math.max(1, room));
  const tests = indexTests(report);
  const out: string[] = [];

  const verdictStyle: Style = report.verdict === 'clean' ? 'green' : report.verdict === 'error' ? 'red' : 'magenta';
  const head = headline(report);
  const prefix = report.verdict === 'findings' ? 'findings: ' : '';
  // The verdict line is the point of the summary: never cut, even past the width.
  out.push(`${paint('bold', 'kubeflake')}  ${paint(verdictStyle, oneLine(prefix + head))}`);
  for (const error of (report.errors ?? []).slice(0, 5)) out.push(`  ${paint('red', 'error')} ${fit(error, width - 8)}`);
  for (const note of report.notes ?? []) out.push(`  ${paint('yellow', 'note')} ${fit(note, width - 7)}`);
  if (report.damage) out.push(`  ${paint('yellow', 'damaged')} ${fit(`${damageSentence(report.damage)} (see report.json "damage")`, width - 10)}`);
  if (report.changed) out.push(`  ${paint('bold', 'changed')} ${fit(report.changed.specs.length ? report.changed.summary : `no spec that ran changed since ${report.changed.since}`, width - 10)}`);

  const findings = findingTests(report);
  if (findings.length) out.push('');
  for (const [n, test] of findings.slice(0, MAX_FINDINGS).entries()) {
    if (n) out.push('');
    const verdict = paint(VERDICTS[test.verdict].terminal, test.verdict.padEnd(NAME_COL - 2));
    out.push(`  ${verdict}${paint('bold', fit(`${test.name}${test.change ? ` (${test.change} in this change)` : ''}`, width - NAME_COL))}`);
    const detail = (label: string, text: string) => out.push(`${DETAIL_INDENT}${paint('dim', label.padEnd(7))}${fit(text, width - NAME_COL)}`);
    const paragraph = (label: string, text: string, maxLines: number) =>
      wrap(oneLine(text), width - NAME_COL, maxLines).forEach((line, i) => out.push(`${DETAIL_INDENT}${paint('dim', (i ? '' : label).padEnd(7))}${line}`));
    const loc = location(test);
    if (loc) detail('at', loc);
    for (const p of test.polluters.slice(0, 3)) {
      const probe = provingProbe(report, test.id, p.test, 'polluter');
      detail('after', `${tests.name(p.test)} (${p.decidedBy === 'record' ? decidedText(p) : p.confirmed ? `confirmed${probe ? ` by ${probe.id}` : ''}` : 'suspected'})`);
      if (p.link) detail('chain', chainText(p.link));
      for (const leak of viaLeaks(report, p.via)) {
        const state = [leak.terminating ? 'terminating' : '', leak.finalizers.length ? `finalizers ${leak.finalizers.join(', ')}` : ''].filter(Boolean).join(', ');
        detail('via', `${leakName(leak)}${state ? ` (${state})` : ''}`);
      }
    }
    for (const s of test.stateSetters.slice(0, 3)) detail('needs', `${tests.name(s)} first`);
    for (const c of test.cleaners.slice(0, 3)) {
      const probe = provingProbe(report, test.id, c, 'cleaner');
      detail('clean', `passes when ${tests.name(c)} runs in between${probe ? ` (${probe.id})` : ''}`);
    }
    const failure = test.failures?.[0];
    if (failure) paragraph('error', `${failure.kind}: ${failure.message}`, 2);
    else if (test.failureKinds.length) detail('error', test.failureKinds.join(', '));
    if (test.hint) paragraph('fix', test.hint, 6);
    if (test.fix) {
      paragraph('patch', fixSentence(test.fix, (id) => tests.name(id)), 3);
      // The proven diff itself, short enough to read before applying it.
      if (test.fix.patch) for (const line of diffPreview(test.fix.patch)) out.push(`${DETAIL_INDENT}${' '.repeat(7)}${paint(diffStyle(line), fit(line, width - NAME_COL))}`);
    }
    // Never cut: it is meant to be copied.
    if (test.reproduce) out.push(`${DETAIL_INDENT}${paint('dim', 'run'.padEnd(7))}${paint('cyan', oneLine(test.reproduce))}`);
  }
  if (findings.length > MAX_FINDINGS) out.push(`  …and ${plural(findings.length - MAX_FINDINGS, 'more finding')} (see report.json)`);

  if (report.leaks.length) {
    out.push('', paint('bold', `Leaked objects (${report.leaks.length})`));
    // What the specs left in envtest's deleted namespaces is one line a kind, its hint once.
    const rows = leakRows(report.leaks);
    const shown = rows.slice(0, MAX_LEAKS);
    const label = (id: string) => tests.name(id);
    const names = shown.map((row) => fit('group' in row ? deletedNamespaceTitle(row.group) : leakName(row.leak), Math.floor(width * 0.4)));
    const nameWidth = Math.max(...names.map((n) => Array.from(n).length));
    shown.forEach((row, i) => {
      let rest: string;
      if ('group' in row) {
        const { leaks } = row.group;
        const terminating = leaks.filter((l) => l.terminating).length;
        const state = terminating === 0 ? 'live' : terminating === leaks.length ? 'terminating' : `${terminating} term.`;
        const runs = new Set(leaks.flatMap((l) => l.runs)).size;
        rest = `${state.padEnd(12)}${plural(runs, 'run').padEnd(8)} by ${deletedNamespaceCreators(row.group, label)}`;
      } else {
        const { leak } = row;
        const state = leak.terminating ? 'terminating' : 'live';
        const origin = leak.createdBy ? `by ${describeCreator(leak, label)}` : leak.deletedBy ? `deleted by ${tests.name(leak.deletedBy)}` : 'by unknown test';
        rest = `${state.padEnd(12)}${plural(leak.runs.length, 'run').padEnd(8)} ${origin}`;
      }
      out.push(`  ${padCodePoints(names[i]!, nameWidth)}  ${fit(rest, width - nameWidth - 4)}`);
    });
    const hidden = report.leaks.length - objectsIn(shown);
    if (hidden > 0) out.push(`  …and ${plural(hidden, 'more leaked object')}`);
    if (rows.some((row) => 'group' in row)) {
      wrap(oneLine(`In namespaces the suite deleted (envtest): ${DELETED_NAMESPACE_HINT}`), width - 4, 4).forEach((line) => out.push(`  ${paint('yellow', line)}`));
    }
  }

  const hazards = report.hazards ?? [];
  if (hazards.length) {
    const fired = hazards.filter((h) => h.outcome === 'fired').length;
    const groups = hazardGroups(hazards);
    out.push('', paint('bold', `Hazards (${hazardCounts(hazards.length, groups.length, fired)})`));
    // One line per object and the spec that leaves it, fired first; its counts before the names.
    for (const g of groups.slice(0, MAX_LEAKS)) {
      const counts = hazardGroupCounts(g);
      out.push(`  ${g.fired ? paint('red', 'fired') : paint('yellow', 'warn ')} ${fit(`${counts}: ${hazardGroupText(g, (id) => tests.name(id))}`, width - 9)}`);
    }
    if (groups.length > MAX_LEAKS) out.push(`  …and ${plural(groups.length - MAX_LEAKS, 'more hazard line')}`);
  }

  const { cleanup } = report;
  if (cleanup.deleted.length || cleanup.finalizersRemoved.length || cleanup.left.length || cleanup.errors?.length) {
    const dry = cleanup.dryRun ? ' (dry run: nothing changed)' : '';
    out.push('', `${paint('bold', 'Cleanup')}${dry}: ${cleanup.dryRun ? 'would delete' : 'deleted'} ${cleanup.deleted.length}, finalizers removed from ${cleanup.finalizersRemoved.length}, left ${cleanup.left.length}`);
    for (const error of (cleanup.errors ?? []).slice(0, 3)) out.push(`  ${paint('red', 'stopped')} ${fit(error, width - 10)}`);
    for (const left of cleanup.left.slice(0, 5)) {
      out.push(`  left ${fit(`${leakName({ ...left.object, namespace: left.object.namespace ?? '' })}: ${left.why}`, width - 7)}`);
    }
  }

  const planned = plannedRuns(report);
  const probes = probeRuns(report);
  const failedRuns = planned.filter((r) => !r.interrupted && (r.failed.length || r.exitCode !== 0)).length;
  const total = report.runs.reduce((sum, r) => sum + r.durationMs, 0);
  out.push(
    '',
    `${paint('bold', 'Runs')}: ${planned.length}${probes.length ? ` + ${plural(probes.length, 'probe')}` : ''}, ${failedRuns} with failures, ${formatDuration(total)}` +
      (planned.some((r) => r.timedOut) ? `, ${paint('red', `${planned.filter((r) => r.timedOut).length} timed out`)}` : ''),
  );
  // Runs no verdict was built on, each with its cause.
  for (const run of report.runs) {
    if (run.infrastructure) out.push(`  ${run.id} infrastructure, not judged: ${fit(run.infrastructure.cause, width - run.id.length - 28)}`);
    if (run.interrupted) out.push(`  ${run.id} interrupted by ${run.interrupted.signal}, not judged`);
  }
  return out.join('\n') + '\n';
}

/** Word-wraps to `width` code points, at most `maxLines` lines, the last one cut with …. */
function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && Array.from(line).length + 1 + Array.from(word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  const kept = lines.slice(0, maxLines).map((l) => truncate(l, width));
  if (lines.length > maxLines) kept[maxLines - 1] = truncate(`${kept[maxLines - 1]} …`, width);
  return kept;
}

function padCodePoints(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - Array.from(text).length));
}

