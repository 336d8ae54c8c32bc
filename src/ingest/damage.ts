// Damaged reports as data: per run (RunResult.damage), then across a hunt (Report.damage), and
// the one sentence every face prints ("3 reports were damaged; 2 test cases could not be recovered").

import type { DamageReport, ParsedReport, ReportDamage, RunResult } from '../model.ts';
import { describeRecovery } from './recovery.ts';

/** The damaged reports of one run, by path relative to the run folder. */
export function runDamage(parsed: { rel: string; report: ParsedReport }[]): NonNullable<RunResult['damage']> {
  return parsed.flatMap(({ rel, report }) => (report.damage ? [{ file: rel, ...report.damage }] : []));
}

/** Every damaged report across the runs, or undefined when none was. */
export function summarizeDamage(runs: readonly RunResult[]): DamageReport | undefined {
  return damageOf(runs.flatMap((run) => (run.damage ?? []).map((damage) => ({ run: run.id, file: damage.file, damage }))));
}

/** The damage of reports read outside a run (`kubeflake parse`), or undefined when none was. */
export function summarizeReports(reports: readonly ParsedReport[]): DamageReport | undefined {
  return damageOf(reports.flatMap((r) => (r.damage ? [{ run: '', file: r.file, damage: r.damage }] : [])));
}

function damageOf(entries: { run: string; file: string; damage: ReportDamage }[]): DamageReport | undefined {
  if (entries.length === 0) return undefined;
  const files = entries.map(({ run, file, damage: d }) => {
    const first = d.recoveries[0];
    return { run, file, repairs: d.repairs, lost: d.lost, cut: d.cut, ...(first ? { first: describeRecovery(first) } : {}) };
  });
  return {
    reports: files.length,
    lost: files.reduce((n, f) => n + f.lost, 0),
    cut: files.filter((f) => f.cut).length,
    files,
  };
}

/** "3 reports were damaged; 2 test cases could not be recovered", plus how many were cut short. */
export function damageSentence(damage: DamageReport): string {
  const reports = damage.reports === 1 ? '1 report was damaged' : `${damage.reports} reports were damaged`;
  const lost =
    damage.lost === 0 ? 'every test case was recovered' : damage.lost === 1 ? '1 test case could not be recovered' : `${damage.lost} test cases could not be recovered`;
  const cut = damage.cut === 0 ? '' : damage.cut === 1 ? '; 1 ends early (a killed run?), its later tests are unknown' : `; ${damage.cut} end early (killed runs?), their later tests are unknown`;
  return `${reports}; ${lost}${cut}`;
}
