// The fixes a results directory keeps (fixes/<n>.json, fixes/<n>.patch), read back for the report
// and for `kubeflake fix`, which prints the offered patches or applies them with `git apply`.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

/**
 * Applies one patch with `git apply` at the repository root; the error says what git said. Fixes
 * are proven one at a time, so two for one file each add the same import: a patch that does not
 * apply whole is applied hunk by hunk, leaving out the hunks already in the tree (another fix put
 * them there). A patch whose every hunk is there already was applied already: that is an error.
 */
export async function applyPatch(patchFile: string, repositoryRoot: string): Promise<void> {
  const apply = (file: string, ...flags: string[]) => runProcess(['git', 'apply', '--whitespace=nowarn', ...flags, file], { cwd: repositoryRoot, capture: true, timeoutMs: 60_000 });
  const whole = await apply(patchFile);
  if (whole.exitCode === 0) return;
  const failed = (why: string) => new Error(`git apply ${patchFile} failed in ${repositoryRoot}: ${why} (is this the repository the hunt ran on, at the same commit? was the fix applied already?)`);
  const hunks = patchHunks(await readFile(patchFile, 'utf8'));
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-apply-'));
  try {
    const pending: string[] = [];
    let present = 0;
    for (const [index, hunk] of hunks.entries()) {
      const file = join(dir, `${index}.patch`);
      await writeFile(file, hunk);
      if ((await apply(file, '--check')).exitCode === 0) pending.push(file);
      else if ((await apply(file, '--check', '--reverse')).exitCode === 0) present++;
      else throw failed((whole.stderr || whole.stdout).trim());
    }
    if (pending.length === 0) throw failed(`every change of it is in the tree already (${present} of ${hunks.length})`);
    for (const file of pending) {
      const result = await apply(file);
      if (result.exitCode !== 0) throw failed((result.stderr || result.stdout).trim());
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A unified diff cut into one patch per hunk, each with its file's header. */
export function patchHunks(patch: string): string[] {
  const hunks: string[] = [];
  let header: string[] = [];
  let hunk: string[] | undefined;
  const close = () => {
    if (hunk) hunks.push(`${[...header, ...hunk].join('\n')}\n`);
    hunk = undefined;
  };
  const lines = patch.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('diff --git ')) {
      close();
      header = [line];
    } else if (line.startsWith('@@')) {
      close();
      hunk = [line];
    } else if (hunk) hunk.push(line);
    else header.push(line);
  }
  close();
  return hunks;
}
