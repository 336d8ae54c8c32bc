// Pollution that is not in the cluster (I/O around tools/gosource): the variable of the package or
// of a Ginkgo container that a confirmed polluter assigns and its victim reads, and the fix that
// gives the victim its own BeforeEach setting it back, proven as the Delete fix is (`provePatched`).

import { dirname } from 'node:path';
import type { FixReport, SharedVariableReport, SourceLine } from '../model.ts';
import { runProcess } from '../exec.ts';
import type { SharedVariableCandidate } from './candidates.ts';
import { provePatched, repositoryPath, type ProofContext } from './prove.ts';

/** One variable as `gosource shared-vars` prints it: absolute paths. */
export interface SharedVariable extends SharedVariableReport {
  /** The value the reset gives it: its initializer, or its type's zero value. */
  value: string;
}

type Pair = Pick<SharedVariableCandidate, 'polluterFile' | 'polluterLine' | 'victimFile' | 'victimLine'>;

function pairArgs(pair: Pair): string[] {
  return [dirname(pair.victimFile), pair.polluterFile, String(pair.polluterLine), pair.victimFile, String(pair.victimLine)];
}

/** The variables the polluter's own nodes assign and the victim reads first; or why the source cannot say. */
export async function readSharedVariables(tool: string, pair: Pair): Promise<{ found: SharedVariable[] } | { error: string }> {
  const result = await runProcess([tool, 'shared-vars', ...pairArgs(pair)], { capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode === 3) return { error: (JSON.parse(result.stdout) as { error: string }).error };
  if (result.exitCode !== 0) throw new Error(`the Go source reader could not look for shared variables in ${dirname(pair.victimFile)}: ${result.stderr.trim()}`);
  return { found: (JSON.parse(result.stdout) as { shared: SharedVariable[] }).shared };
}

export type ResetSource = { patched: true; file: string; line: number; source: string; name: string } | { patched: false; reason: string };

/** The victim's file with a BeforeEach that sets the first shared variable back (gofmt'ed), the line it goes before; or why not. */
export async function resetSharedVariable(tool: string, pair: Pair): Promise<ResetSource> {
  const result = await runProcess([tool, 'reset-shared-var', ...pairArgs(pair)], { capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode === 3) return { patched: false, reason: (JSON.parse(result.stdout) as { error: string }).error };
  if (result.exitCode !== 0) throw new Error(`the Go source reader could not patch ${pair.victimFile}: ${result.stderr.trim()}`);
  const out = JSON.parse(result.stdout) as { file: string; line: number; source: string; name: string };
  return { patched: true, ...out };
}

export async function proveSharedVariableFix(candidate: SharedVariableCandidate, context: ProofContext): Promise<FixReport> {
  const base: FixReport = { kind: candidate.entry.kind, polluter: candidate.polluter, offered: false, ...(context.stress ? { stress: context.stress } : {}) };
  const refuse = (noFix: string, more: Partial<FixReport> = {}): FixReport => ({ ...base, ...more, offered: false, noFix });
  if (dirname(candidate.polluterFile) !== dirname(candidate.victimFile)) return refuse('no object links the pair, and polluter and victim are in different packages: no variable of one package joins them');

  const tool = await context.tool();
  const read = await readSharedVariables(tool, candidate);
  if ('error' in read) return refuse(read.error);
  const [first] = read.found;
  if (!first) return refuse('no object links the pair, and the victim reads no variable of the package or of its containers that the polluter\'s own nodes assign');
  const line = (place: SourceLine): SourceLine => ({ ...place, file: repositoryPath(context.root, place.file) });
  const sharedVariable: SharedVariableReport = { name: first.name, scope: first.scope, declared: line(first.declared), assigned: line(first.assigned), read: line(first.read) };
  context.log(`fix: ${candidate.polluter} assigns ${first.name} at ${sharedVariable.assigned.file}:${sharedVariable.assigned.line} (${first.assigned.what}); ${candidate.victim} reads it at ${sharedVariable.read.file}:${sharedVariable.read.line}`);
  const patched = await resetSharedVariable(tool, candidate);
  if (!patched.patched) return refuse(patched.reason, { sharedVariable });
  const at = { sharedVariable, file: repositoryPath(context.root, patched.file), lines: { start: patched.line, end: patched.line } };

  return provePatched(candidate, context, { file: patched.file, source: patched.source }, { ...base, ...at });
}
