// The fix subcommands of tools/gosource (I/O): every Delete call of a package, and a file patched
// by a catalogue entry. Go's parser reads and go/format prints; nothing here reads Go itself.

import { runProcess } from '../exec.ts';
import type { DeleteCall } from './locate.ts';

/** Every `<client>.Delete(<ctx>, <obj>)` call in the package folders given. */
export async function readDeletes(tool: string, dirs: readonly string[]): Promise<DeleteCall[]> {
  const result = await runProcess([tool, 'deletes', ...dirs], { capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`the Go source reader could not list the Delete calls in ${dirs.join(', ')}: ${result.stderr.trim()}`);
  return (JSON.parse(result.stdout) as { deletes: DeleteCall[] }).deletes;
}

export type PatchedSource = { patched: true; source: string; statement: string; imports: string[] } | { patched: false; reason: string };

/**
 * The file as the catalogue entry's subcommand rewrites it at `line`, gofmt'ed; or why it cannot.
 * `boundSeconds`: how long a wait may take when the suite declares no timeout of its own.
 */
export async function patchSource(tool: string, subcommand: string, file: string, line: number, boundSeconds?: number): Promise<PatchedSource> {
  const args = [tool, subcommand, file, String(line), ...(boundSeconds !== undefined ? [String(boundSeconds)] : [])];
  const result = await runProcess(args, { capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode === 3) return { patched: false, reason: (JSON.parse(result.stdout) as { error: string }).error };
  if (result.exitCode !== 0) throw new Error(`the Go source reader could not patch ${file}:${line}: ${result.stderr.trim()}`);
  const out = JSON.parse(result.stdout) as { source: string; statement: string; imports: string[] };
  return { patched: true, ...out };
}
