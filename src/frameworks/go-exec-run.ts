// The runner's side of the `go test -exec` shim, before a run: write the plan and the shim
// script into the run folder and give the GOFLAGS that point the go command at it. (After the
// run, runner/go-exec-reports.ts turns what the shim left into the run's reports.)
//
// Why a generated sh script that execs node on the shim entry: GOFLAGS cannot quote, so -exec
// needs one path without spaces, and the script is that path whatever the node or checkout
// paths look like; node (not a Go program) keeps every command-line decision in go-exec.ts,
// the one implementation the unit tests check, and needs no build step on the user's machine.

import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goflagsWithShim, shimScript, type GoExecFocus, type GoExecPlan } from './go-exec.ts';
import { goCommandReasons, keptRunOf, replayPlan, type GoRunOutcome, type GoRunShape } from './go-exec-reuse.ts';
import { findKeptBinaries, recordKeptRun } from './go-exec-cache.ts';
import { files } from '../results.ts';

/** The shim's own files in the run's go-exec/ folder. */
const shimFiles = { plan: 'plan.json', script: 'shim', replay: 'replay.json' } as const;

export interface GoExecSetup {
  /** Set on the test command: GOFLAGS with kubeflake's -exec (and the user's own flags kept). */
  env: Record<string, string>;
  /** Absolute: where each test binary's files land. */
  reportDir: string;
  /** Absolute: the shim script the go command runs every test binary through. */
  script: string;
  /** Absolute: the plan the shim reads. */
  planFile: string;
}

/**
 * Writes the plan and the shim script into `<runDir>/go-exec/` and returns the env the test
 * command needs. `goflags` is the GOFLAGS the command would otherwise run with.
 */
export async function installGoExecShim(
  runDir: string,
  options: {
    seed: number;
    focus?: GoExecFocus[];
    gomaxprocs?: number;
    goflags?: string;
    userExec?: string;
    node?: string;
    entry?: string;
    keep?: GoExecPlan['keep'];
  },
): Promise<GoExecSetup> {
  const reportDir = join(runDir, files.goExecDir);
  await mkdir(reportDir, { recursive: true });
  const script = join(reportDir, shimFiles.script);
  const planFile = join(reportDir, shimFiles.plan);
  const fromGoflags = goflagsWithShim(options.goflags, script);
  const { goflags } = fromGoflags;
  // The command line's -exec wins over GOFLAGS', as it does for the go command.
  const userExec = options.userExec ?? fromGoflags.userExec;
  const plan: GoExecPlan = {
    version: 1,
    seed: options.seed,
    reportDir,
    ...(options.focus?.length ? { focus: options.focus } : {}),
    ...(options.gomaxprocs !== undefined ? { gomaxprocs: options.gomaxprocs } : {}),
    ...(userExec ? { userExec } : {}),
    ...(options.keep ? { keep: options.keep } : {}),
  };
  await writeFile(planFile, `${JSON.stringify(plan, null, 1)}\n`);
  await writeFile(script, shimScript(options.node ?? process.execPath, options.entry ?? goExecShimEntry(), planFile));
  await chmod(script, 0o755);
  return { env: { GOFLAGS: goflags }, reportDir, script, planFile };
}

/** How a `go test` run is asked to run, for build once, run many. */
export interface ReuseRequest extends GoRunShape {
  /** The kept binaries of this hunt. */
  cacheDir: string;
}

/**
 * The argv that runs the kept binaries in place of `go test` (through the shim's replay mode,
 * its plan written into go-exec/), or why this run goes through the go command.
 */
export async function reuseKeptBinaries(setup: GoExecSetup, request: ReuseRequest, options: { node?: string; entry?: string } = {}): Promise<{ argv: string[] } | { why: string }> {
  const reasons = goCommandReasons(request.argv, request.userGoflags);
  if (reasons.length > 0) return { why: reasons.join('; ') };
  const found = await findKeptBinaries(request.cacheDir, request.buildKey, request.focused);
  if ('why' in found) return found;
  const file = join(setup.reportDir, shimFiles.replay);
  await writeFile(file, `${JSON.stringify(replayPlan(setup.planFile, found.concurrency, found.binaries), null, 1)}\n`);
  return { argv: [options.node ?? process.execPath, options.entry ?? goExecShimEntry(), '--replay', file] };
}

/** After a run through the go command: which packages it handed over, kept for later runs when the run shows them all. */
export async function keepRunThroughGo(request: ReuseRequest, outcome: GoRunOutcome): Promise<boolean> {
  const run = keptRunOf(request, outcome);
  if (run) await recordKeptRun(request.cacheDir, run);
  return run !== undefined;
}

/**
 * The shim's entry: the TypeScript source next to this file when kubeflake runs from source,
 * the compiled file when it runs from lib/, the bundle's own copy when it runs from dist/.
 */
export function goExecShimEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'go-exec-shim.ts'), join(here, 'go-exec-shim.js'), join(here, 'go-exec-shim', 'index.js')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`kubeflake's go test shim is missing (looked for ${candidates.join(', ')}): the installation is incomplete; reinstall kubeflake`);
  return found;
}
