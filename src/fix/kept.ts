// The fixes a results directory keeps (fixes/<n>.json, fixes/<n>.patch), read back for the report
// and for `kubeflake fix`, which prints the offered patches or applies them with `git apply`.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FixReport, TestId } from '../model.ts';
import { files, readJson } from '../results.ts';
import { runProcess } from '../exec.ts';

/** A fix as the results directory keeps it: fixes/<n>.json, its patch beside it as fixes/<n>.patch. */
export interface VictimFix {
  victim: TestId;
  fix: FixReport;
}

/** The kept fixes in their order; a file that does not read is an error, not a stop. */
export async function readFixes(dir: string, errors: string[]): Promise<VictimFix[]> {
  const names = (await readdir(join(dir, files.fixes)).catch(() => [] as string[])).filter((name) => /^\d+\.json$/.test(name));
  names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  const kept: VictimFix[] = [];
  for (const name of names) {
    const stored = await readJson<VictimFix>(join(dir, files.fixes, name)).catch((error: Error) => {
      errors.push(error.message);
      return undefined;
    });
    if (stored) kept.push(stored);
  }
  return kept;
}

/** The offered patches with their files (repository-relative paths inside). */
export async function offeredPatches(dir: string): Promise<{ victim: TestId; fix: FixReport; file: string; patch: string }[]> {
  const errors: string[] = [];
  const out = [];
  for (const { victim, fix } of await readFixes(dir, errors)) {
    if (!fix.offered || !fix.patchFile) continue;
    const file = join(dir, fix.patchFile);
    out.push({ victim, fix, file, patch: await readFile(file, 'utf8') });
  }
  if (errors.length > 0) throw new Error(`${dir}: ${errors.join('; ')}`);
  return out;
}

/** Applies one patch with `git apply` at the repository root; the error says what git said. */
export async function applyPatch(patchFile: string, repositoryRoot: string): Promise<void> {
  const result = await runProcess(['git', 'apply', '--whitespace=nowarn', patchFile], { cwd: repositoryRoot, capture: true, timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`git apply ${patchFile} failed in ${repositoryRoot}: ${(result.stderr || result.stdout).trim()} (is this the repository the hunt ran on, at the same commit? was the fix applied already?)`);
}
