import type { ReportRecovery } from '../model.ts';

/** Repairs listed with their position per report; the rest are only counted (Surefire can need thousands). */
export const listedRecoveries = 20;

/**
 * What recovery mode did to one damaged report: each repair or skipped piece, the first ones with
 * their line and column. The position is computed only for listed ones: counting lines costs.
 */
export class RecoveryLog {
  readonly listed: ReportRecovery[] = [];
  count = 0;

  add(what: string, at: () => { line: number; column: number }): void {
    this.count++;
    if (this.listed.length < listedRecoveries) this.listed.push({ ...at(), what });
  }
}

/** "line 12, column 5: bare & read as text" */
export function describeRecovery(r: ReportRecovery): string {
  return `line ${r.line}, column ${r.column}: ${r.what}`;
}
