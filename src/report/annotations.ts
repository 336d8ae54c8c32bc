// GitHub check annotations: one at each finding's file:line, and a notice at each polluter and
// state-setter, because the fix usually belongs in the test that left the mess, not its victim.

import type { Report, TestReport } from '../model.ts';
import { VERDICTS } from '../verdict-table.ts';
import { findingTests, indexTests, leakName, plannedRuns, viaLeaks } from './findings.ts';
import { oneLine, truncate, visibleControls } from './text.ts';

export type AnnotationLevel = 'failure' | 'warning' | 'notice';

export interface Annotation {
  /** Path as the test report gave it (relative to the repository for Go and Ginkgo). */
  file: string;
  line: number;
  title: string;
  message: string;
  level: AnnotationLevel;
}

/** GitHub shows at most this many annotations of one level from one step, and 50 from a job. */
export const ANNOTATIONS_PER_LEVEL = 10;
export const ANNOTATIONS_PER_JOB = 50;

/** GitHub truncates longer titles and rejects longer messages. */
const TITLE_MAX = 255;
const MESSAGE_MAX = 4000;

export function renderAnnotations(report: Report): Annotation[] {
  const tests = indexTests(report);
  const runs = plannedRuns(report).length;
  const out: Annotation[] = [];
  const findings = findingTests(report);
  for (const test of findings) {
    if (!test.file) continue;
    const lines: string[] = [`Failed in ${test.failed} of ${runs} runs.`];
    if (test.why) lines.push(test.why);
    for (const p of test.polluters) {
      const via = viaLeaks(report, p.via).map(leakName);
      lines.push(`${p.confirmed ? 'Polluter (confirmed)' : 'Suspected polluter'}: ${tests.name(p.test)}${via.length ? `, via ${via.join(', ')}` : ''}`);
    }
    for (const s of test.stateSetters) lines.push(`Passes only after: ${tests.name(s)}`);
    const failure = test.failures?.[0];
    if (failure) lines.push(`${failure.kind}: ${failure.message}`);
    if (test.hint) lines.push(`Fix: ${test.hint}`);
    if (test.reproduce) lines.push(`Reproduce: ${test.reproduce}`);
    const traits = VERDICTS[test.verdict];
    if (!traits.finding) continue;
    out.push(annotation(test, traits.annotation.level, `${traits.annotation.title}: ${test.name}`, lines));
  }
  // The tests that caused the findings, annotated once each however many victims they have.
  const causes = new Map<string, { test: TestReport; lines: string[]; pollutes: boolean }>();
  const cause = (id: string, line: string, pollutes: boolean) => {
    const test = tests.get(id);
    if (!test?.file) return;
    const entry = causes.get(id) ?? { test, lines: [], pollutes: false };
    entry.lines.push(line);
    entry.pollutes ||= pollutes;
    causes.set(id, entry);
  };
  for (const victim of findings) {
    for (const p of victim.polluters) {
      const via = viaLeaks(report, p.via).map(leakName);
      cause(p.test, `Makes "${victim.name}" fail when it runs later${via.length ? `: it leaves ${via.join(', ')} behind` : ''}${p.confirmed ? ' (confirmed by a probe).' : ' (suspected).'}${victim.hint ? ` ${victim.hint}` : ''}`, true);
    }
    for (const s of victim.stateSetters) cause(s, `"${victim.name}" passes only when this test runs first: it depends on state this test leaves behind.`, false);
  }
  for (const { test, lines, pollutes } of causes.values()) {
    out.push(annotation(test, 'notice', `${pollutes ? 'Pollutes later tests' : 'Later tests depend on it'}: ${test.name}`, lines));
  }
  return out;
}

function annotation(test: TestReport, level: AnnotationLevel, title: string, lines: string[]): Annotation {
  return {
    file: test.file,
    line: Math.max(1, test.line),
    title: truncate(oneLine(title), TITLE_MAX),
    message: truncate(visibleControls(lines.join('\n')), MESSAGE_MAX),
    level,
  };
}

export interface AnnotationSelection {
  shown: Annotation[];
  /** How many were left out to stay within GitHub's limits. */
  omitted: number;
}

/**
 * The annotations GitHub will show: the first ten of each level (renderAnnotations lists the
 * most actionable first), fifty at most; when some are left out, the last notice slot says how
 * many and where the rest are.
 */
export function selectAnnotations(all: Annotation[], perLevel = ANNOTATIONS_PER_LEVEL, perJob = ANNOTATIONS_PER_JOB): AnnotationSelection {
  const levels: AnnotationLevel[] = ['failure', 'warning', 'notice'];
  const byLevel = new Map(levels.map((level) => [level, all.filter((a) => a.level === level)] as const));
  const overflow = levels.some((level) => byLevel.get(level)!.length > perLevel) || all.length > perJob;
  const shown: Annotation[] = [];
  for (const level of levels) {
    const room = Math.min(perLevel - (overflow && level === 'notice' ? 1 : 0), perJob - shown.length - (overflow ? 1 : 0));
    shown.push(...byLevel.get(level)!.slice(0, Math.max(0, room)));
  }
  const omitted = all.length - shown.length;
  if (omitted > 0) {
    shown.push({ file: '', line: 0, level: 'notice', title: `kubeflake: ${omitted} more annotations left out`, message: `GitHub shows ${perLevel} annotations of each kind per step; the other ${omitted} findings are in the job summary and report.json.` });
  }
  return { shown, omitted };
}
