// Proving a fix (I/O around the pure parts): locate the polluter's line, patch it with the
// catalogue entry, apply the patch in a scratch copy of the repository, `go vet` the package,
// rerun the pair there, and offer the patch only when the decision says the passes mean it.

import { dirname, join, relative, sep } from 'node:path';
import type { FixReport, FixRunReport, ProbePlan, ProbeRate, TestStatus } from '../model.ts';
import { readGoSource } from '../changed/gosource.ts';
import type { FixCandidate } from './candidates.ts';
import { locateDelete, polluterCode } from './locate.ts';
import { decideOffer, runsNeeded } from './offer.ts';
import { scratchTree, vetPackage, type ScratchTree } from './scratch.ts';
import { patchSource, readDeletes } from './source.ts';

export interface PairOutcome {
  victim: TestStatus | 'missing';
  polluter: TestStatus | 'missing';
}

export interface ProofContext {
  /** The Go source reader's binary, built on first use: a hunt with nothing to fix never builds it. */
  tool: () => Promise<string>;
  /** The user's repository root (report paths are relative to it) and the suite's folder in it. */
  root: string;
  cwd: string;
  /** Runs the pair once, focused, in `cwd` (the scratch copy), into `runDir`. */
  runPair: (options: { id: string; cwd: string; plan: ProbePlan; runDir: string }) => Promise<PairOutcome>;
  /** results/fixes/<n>: the pair runs go under its runs/. */
  fixDir: string;
  /** Pair runs left of fix-probes; each run spends one. */
  budget: { left: number };
  stress?: 'cpu';
  log: (line: string) => void;
  /** Extra environment for go vet (the user's GOFLAGS and the like). */
  goEnv?: Record<string, string>;
}

/** Unpatched pair runs made when the hunt itself measured no rate (a pair the record decided). */
export const BEFORE_RUNS = 2;

export async function proveFix(candidate: FixCandidate, context: ProofContext): Promise<FixReport> {
  const base: FixReport = { kind: candidate.entry.kind, polluter: candidate.polluter, object: candidate.object, offered: false, ...(context.stress ? { stress: context.stress } : {}) };
  const refuse = (noFix: string, more: Partial<FixReport> = {}): FixReport => ({ ...base, ...more, offered: false, noFix });

  const tool = await context.tool();
  const pkg = await readGoSource(tool, [dirname(candidate.polluterFile)]);
  const code = polluterCode(pkg, { file: candidate.polluterFile, line: candidate.polluterLine });
  if (!code) return refuse(`no Ginkgo spec of ${repositoryPath(context.root, candidate.polluterFile)} starts at line ${candidate.polluterLine}: the source changed since the run?`);
  const deletes = await readDeletes(tool, [...new Set(code.map((part) => dirname(part.file)))]);
  const located = locateDelete(code, deletes, candidate.object);
  if (!located.found) return refuse(located.reason);
  const { call, where } = located;
  const at = { file: repositoryPath(context.root, call.file), lines: { start: call.line, end: call.end } };
  context.log(`fix: ${candidate.polluter} deletes ${candidate.object.type} "${candidate.object.name}" without waiting at ${at.file}:${call.line} (${where.what})`);
  const patched = await patchSource(tool, candidate.entry.subcommand, call.file, call.line, candidate.entry.boundSeconds);
  if (!patched.patched) return refuse(patched.reason, at);

  return provePatched(candidate, context, { file: call.file, source: patched.source }, { ...base, ...at });
}

/** The pair a proof reruns and what the hunt measured of it. */
export type ProvenPair = Pick<FixCandidate, 'plan' | 'before' | 'confirmation'>;

/**
 * The proof every fix shares once its patched source is written: in a scratch copy, the unpatched
 * pair's rate when the hunt has none, `go vet` of the patched package, the patched pair rerun
 * within `fix-probes`, and the offer decision. `found` is what the fix is about (kind, polluter,
 * place); offered or refused, the outcome keeps it.
 */
export async function provePatched(candidate: ProvenPair, context: ProofContext, patched: { file: string; source: string }, found: FixReport): Promise<FixReport> {
  const refuse = (noFix: string, more: Partial<FixReport>): FixReport => ({ ...found, ...more, offered: false, noFix });
  const scratch = await scratchTree(context.root);
  try {
    const runs: FixRunReport[] = [];
    let before: FixReport['before'] = candidate.before ? { ...candidate.before, source: 'hunt' } : undefined;
    if (!before) {
      const rate = await pairRuns(candidate, context, scratch, false, Math.min(BEFORE_RUNS, context.budget.left), runs);
      before = { ...rate, source: 'fix-runs' };
      if (rate.failed === 0) return refuse(`the unpatched pair passed ${rate.runs} of ${rate.runs} runs here, so a patched pass would prove nothing`, { before, runs });
    }
    await scratch.write(patched.file, patched.source);
    const patch = await scratch.diff();
    const vet = await vetPackage(scratch.mirror(dirname(patched.file)), context.goEnv);
    if (!vet.ok) return refuse(`the patched package does not pass go vet: ${vet.output.split('\n').slice(0, 3).join(' ')}`, { before, runs });
    const count = Math.min(runsNeeded(before, candidate.confirmation), context.budget.left);
    if (count === 0) return refuse('fix-probes was spent before the patched pair could run', { before, runs });
    const after = await pairRuns(candidate, context, scratch, true, count, runs);
    const decision = decideOffer(before, after);
    context.log(`fix: ${decision.offered ? 'offered' : 'not offered'}: ${decision.why}`);
    if (!decision.offered) return refuse(decision.why, { before, after, runs });
    return { ...found, patch, before, after, runs, offered: true };
  } finally {
    await scratch.remove();
  }
}

/** Runs the pair `count` times in the scratch copy (patched or not); a patched pair that fails ends it: the fix does not cure. */
export async function pairRuns(candidate: Pick<FixCandidate, 'plan'>, context: ProofContext, scratch: ScratchTree, patched: boolean, count: number, runs: FixRunReport[]): Promise<ProbeRate> {
  const rate = { failed: 0, runs: 0 };
  for (let k = 1; k <= count && context.budget.left > 0; k++) {
    context.budget.left--;
    const id = `${patched ? 'after' : 'before'}-${k}`;
    const outcome = await context.runPair({ id, cwd: scratch.mirror(context.cwd), plan: candidate.plan, runDir: join(context.fixDir, 'runs', id) });
    runs.push({ id, patched, ...outcome });
    rate.runs++;
    const failed = patched ? outcome.victim !== 'passed' || outcome.polluter !== 'passed' : outcome.victim === 'failed';
    if (failed) rate.failed++;
    if (patched && failed) break;
  }
  return rate;
}

export function repositoryPath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}
