// What the `go test -exec` shim does for one test binary (go-exec-shim.ts is the program; a
// replay of kept binaries calls this in its own process, saving a node start per binary). It
// runs in the package directory, as the go command runs test binaries. It tells what the
// binary is by its content, runs it with kubeflake's seed, focus and report flags (decided by
// go-exec.ts), tees a test2json stream into the run folder, and leaves a record of what ran.
// Whatever goes wrong on kubeflake's side, the binary still runs and its exit code is passed on:
// the user's `go test` must never fail because of the shim.

import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import {
  classifyBinary,
  ginkgoV1Mark,
  ginkgoV2Mark,
  importPathOf,
  labelOf,
  modulePathOf,
  plainTestOutput,
  reportFiles,
  shimInvocation,
  test2jsonCommand,
  type GoExecPlan,
  type ShimInvocation,
  type TestBinary,
  type TestBinaryRecord,
} from './go-exec.ts';
import { fileContains } from './go-exec-detect.ts';
import { keepTestBinary } from './go-exec-cache.ts';

/** Where one binary runs and where its output goes: the shim's own process, or one package of a replay. */
export interface ShimPlace {
  /** The package folder. */
  dir: string;
  /** The environment the go command gives the binary. */
  env: NodeJS.ProcessEnv;
  /** The binary's output, as the go command would read it. */
  write: (chunk: Buffer | string) => void;
}

/** Runs one test binary as the shim: `argv` is `<plan.json> <binary> [the go command's words...]`. Returns its exit code. */
export async function runShim(argv: string[], place: ShimPlace): Promise<number> {
  const [planFile, binaryPath, ...args] = argv;
  if (!planFile || !binaryPath) {
    process.stderr.write('usage: go-exec-shim <plan.json> <test binary> [args...]: kubeflake runs this through GOFLAGS=-exec\n');
    return 2;
  }
  let plan: GoExecPlan | undefined;
  try {
    plan = JSON.parse(readFileSync(planFile, 'utf8')) as GoExecPlan;
    if (plan.version !== 1) throw new Error(`plan version ${String(plan.version)}, this shim reads version 1`);
  } catch (error) {
    process.stderr.write(`kubeflake go-exec shim: cannot use ${planFile} (${(error as Error).message}): running ${binaryPath} unchanged\n`);
    return runUntouched([binaryPath, ...args], place);
  }
  const kind = classifyBinary(binaryPath, binaryMarks(binaryPath));
  if (kind === 'program') return runUntouched([...(plan.userExec ? [plan.userExec] : []), binaryPath, ...args], place);

  const { dir } = place;
  const importPath = packageImportPath(dir, binaryPath);
  const label = claimLabel(plan.reportDir, labelOf(importPath));
  const binary: TestBinary = { path: binaryPath, kind, importPath, dir, label };
  const invocation = shimInvocation(plan, binary, args);
  const record: TestBinaryRecord = {
    importPath,
    kind,
    label,
    dir,
    args,
    argv: invocation.argv,
    notes: invocation.notes,
    exitCode: null,
    signal: null,
    startedAt: Date.now(),
    endedAt: Date.now(),
  };
  const recordFile = reportFiles(plan.reportDir, label).record;
  const keeping = keep(plan, binary, record, place.env);
  if (invocation.skip) {
    record.skipped = invocation.skip;
    record.exitCode = 0;
    await keeping;
    writeRecord(recordFile, record);
    return 0;
  }
  try {
    const outcome = await runTestBinary(invocation, importPath, place);
    record.exitCode = outcome.exitCode;
    record.signal = outcome.signal;
    copyUserReports(invocation, plan.reportDir, label, record.notes);
    return outcome.exitCode ?? 1;
  } finally {
    await keeping;
    record.endedAt = Date.now();
    writeRecord(recordFile, record);
  }
}

/**
 * Keeps the binary the go command built for later runs (copied while it runs: the go command
 * deletes its own copy once the shim returns); a kept one being run again is only marked.
 */
async function keep(plan: GoExecPlan, binary: TestBinary, record: TestBinaryRecord, env: NodeJS.ProcessEnv): Promise<void> {
  if (!plan.keep || binary.kind === 'program') return;
  if (binary.path.startsWith(`${plan.keep.dir}/`)) {
    record.reused = true;
    return;
  }
  try {
    record.kept = await keepTestBinary(plan.keep.dir, {
      importPath: binary.importPath,
      kind: binary.kind,
      dir: binary.dir,
      path: binary.path,
      // What the go command sets for a test binary on top of the command's environment (PWD is the folder).
      env: env.PATH !== undefined ? { PATH: env.PATH } : {},
      buildKey: plan.keep.buildKey,
    });
  } catch (error) {
    record.notes.push(`kubeflake could not keep the test binary for later runs (${(error as Error).message}): they build it again`);
  }
}

/** The record is kubeflake's business: failing to write it must not fail the user's test. */
function writeRecord(file: string, record: TestBinaryRecord): void {
  try {
    writeFileSync(file, JSON.stringify(record, null, 1));
  } catch (error) {
    process.stderr.write(`kubeflake go-exec shim: could not write ${file}: ${(error as Error).message}\n`);
  }
}

/** Runs a binary with nothing changed, passing its exit code on. */
async function runUntouched(command: string[], place: ShimPlace): Promise<number> {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', cwd: place.dir, env: place.env });
  forwardSignals(child.pid);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return code ?? signalExit(signal);
}

/**
 * Runs the binary with stdout and stderr merged (as the go command merges them), its output
 * passed on to the go command and piped through `go tool test2json` into the report folder.
 */
async function runTestBinary(invocation: ShimInvocation, importPath: string, place: ShimPlace): Promise<{ exitCode: number | null; signal: string | null }> {
  // `sh -c 'exec "$0" "$@" 2>&1'` merges the two streams in the kernel, in the order written.
  const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', ...invocation.argv], {
    stdio: ['inherit', 'pipe', 'inherit'],
    cwd: place.dir,
    env: { ...place.env, ...invocation.env },
  });
  forwardSignals(child.pid);
  const converter = invocation.goTestJson ? startTest2Json(importPath, invocation.goTestJson, place.env.PATH) : undefined;
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    converter?.write(chunk);
    if (invocation.output === 'raw') {
      place.write(chunk);
      return;
    }
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop()!;
    const shown = lines.map(plainTestOutput).filter((line) => line !== undefined);
    if (shown.length > 0) place.write(`${shown.join('\n')}\n`);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (!child.stdout.readableEnded) await once(child.stdout, 'end').catch(() => undefined);
  if (pending !== '') {
    const last = plainTestOutput(pending);
    if (last !== undefined) place.write(last);
  }
  await converter?.finish(code, signal);
  return { exitCode: code, signal };
}

/**
 * `go tool test2json` reading the binary's output; its events go to the file. When the binary
 * dies before printing PASS/FAIL (TestMain exited, a crash, a kill), test2json prints no
 * package result: the shim adds one from the exit status, so the failure is never lost.
 */
function startTest2Json(importPath: string, file: string, path: string | undefined): { write(chunk: Buffer): void; finish(code: number | null, signal: string | null): Promise<void> } {
  const out = createWriteStream(file);
  out.on('error', (error) => process.stderr.write(`kubeflake go-exec shim: could not write ${file}: ${error.message}\n`));
  const [program, ...words] = test2jsonCommand(path, process.platform, process.arch, existsSync);
  // Its own session: a group-wide stop must not kill the converter before it has read the binary's
  // last output (the interrupted suite's summary, a plain test's timeout trace); it ends at the
  // end of its input, which also comes when the shim itself is killed.
  const tool = spawn(program!, [...words, '-t', '-p', importPath], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  let ended = false;
  let pending = '';
  tool.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (/"Action":"(pass|fail|skip)"/.test(line) && !/"Test":/.test(line)) ended = true;
      out.write(`${line}\n`);
    }
  });
  tool.stdin.on('error', () => undefined);
  tool.on('error', (error) => out.write(`${JSON.stringify({ Action: 'output', Package: importPath, Output: `[kubeflake: go tool test2json could not run: ${error.message}]\n` })}\n`));
  return {
    write: (chunk) => {
      if (tool.stdin.writable) tool.stdin.write(chunk);
    },
    async finish(code, signal) {
      tool.stdin.end();
      if (tool.exitCode === null && tool.signalCode === null && tool.pid !== undefined) await once(tool, 'close').catch(() => undefined);
      if (pending !== '') out.write(`${pending}\n`);
      if (!ended) {
        const why = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
        const time = new Date().toISOString();
        out.write(`${JSON.stringify({ Time: time, Action: 'output', Package: importPath, Output: `[kubeflake: the test binary ${why} before printing its result]\n` })}\n`);
        out.write(`${JSON.stringify({ Time: time, Action: code === 0 ? 'pass' : 'fail', Package: importPath })}\n`);
      }
      await new Promise((done) => out.end(done));
    },
  };
}

/** A report the user asked for themselves is left where they wanted it; the run folder gets a copy. */
function copyUserReports(invocation: ShimInvocation, reportDir: string, label: string, notes: string[]): void {
  const files = reportFiles(reportDir, label);
  for (const [report, target] of [
    [invocation.ginkgoJson, files.ginkgoJson],
    [invocation.junit, files.junit],
  ] as const) {
    if (!report?.fromUser || !existsSync(report.path)) continue;
    try {
      copyFileSync(report.path, target);
    } catch (error) {
      notes.push(`could not copy the suite's own report ${report.path}: ${(error as Error).message}`);
    }
  }
}

/** Whether the binary links Ginkgo's RunSpecs (v2 or v1). */
function binaryMarks(path: string): { ginkgoV2: boolean; ginkgoV1: boolean } {
  const [ginkgoV2, ginkgoV1] = fileContains(path, [ginkgoV2Mark, ginkgoV1Mark]);
  return { ginkgoV2: ginkgoV2!, ginkgoV1: ginkgoV1! };
}

/** The package's import path from the nearest go.mod; the binary's name when there is none (GOPATH mode). */
function packageImportPath(dir: string, binaryPath: string): string {
  for (let moduleDir = dir; ; moduleDir = dirname(moduleDir)) {
    const goMod = join(moduleDir, 'go.mod');
    if (existsSync(goMod)) {
      const modulePath = modulePathOf(readFileSync(goMod, 'utf8'));
      if (modulePath) return importPathOf(modulePath, moduleDir, dir);
      break;
    }
    if (dirname(moduleDir) === moduleDir) break;
  }
  return binaryPath.slice(binaryPath.lastIndexOf('/') + 1).replace(/\.test$/, '');
}

/** Takes a label no other binary of this run has (the same package may run twice, e.g. `make test` calling go test twice). */
function claimLabel(reportDir: string, base: string): string {
  for (let n = 1; ; n++) {
    const label = n === 1 ? base : `${base}-${n}`;
    try {
      closeSync(openSync(reportFiles(reportDir, label).record, 'wx'));
      return label;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return `${base}-${process.pid}`;
    }
  }
}

/**
 * Signals that reach the shim but not the binary are passed on. The binary runs in the shim's
 * process group, so a group-wide SIGTERM/SIGINT/SIGHUP (kubeflake's timeout, a cancelled job, a
 * terminal's Ctrl-C) has already reached it: passing it on would be a second interrupt, on which
 * Ginkgo skips the suite's cleanup nodes (AfterEach, DeferCleanup, AfterSuite stopping envtest),
 * and whether the two coalesce is a race. The shim only stays alive for them, to write the
 * record once the binary ends. SIGQUIT is what the go command sends its test process alone at
 * its own kill timeout: that one is passed on, so the binary prints its goroutines.
 */
function forwardSignals(pid: number | undefined): void {
  // A replay runs several binaries in this one process: the handlers are installed once, for the current one.
  runningPid = pid;
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
  process.on('SIGQUIT', () => {
    if (runningPid === undefined) return;
    try {
      process.kill(runningPid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  });
}
let runningPid: number | undefined;
let signalsHandled = false;

function signalExit(signal: NodeJS.Signals | null): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return 128 + (signal ? (numbers[signal] ?? 1) : 1);
}
