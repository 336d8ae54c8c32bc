// Runs the test command once: builds the argv with the framework adapter, spawns it through
// exec.ts with a timeout that kills the whole process group, keeps the combined log, collects
// the reports into the run folder and writes meta.json. Whatever happens (not found, crash,
// timeout, no report) meta.json is written and says what went wrong: results are never lost.

import { existsSync, globSync, statSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Framework, ProbePlan, RunMeta } from '../model.ts';
import { CommandNotFoundError, runProcess, type ProcessResult } from '../exec.ts';
import { files as layout, runnerFiles, writeJson } from '../results.ts';
import { buildRunCommand, type BuiltCommand, type FocusTest, type ReportTarget } from '../frameworks/index.ts';
import { installGoExecShim, keepRunThroughGo, reuseKeptBinaries, type ReuseRequest } from '../frameworks/go-exec-run.ts';
import { buildKey, goCommandReasons } from '../frameworks/go-exec-reuse.ts';
import type { TestBinaryRecord } from '../frameworks/go-exec.ts';
import { collectGoExecReports, settleGoExecShims } from './go-exec-reports.ts';
import { BuildFailureScanner } from '../ingest/gotest-json.ts';
import { startCpuLoad, stressEnv, stressPlan, type CpuLoad, type Stress } from './stress.ts';
import { availableParallelism } from 'node:os';

export interface RunSpec {
  /** "000", "001"... or "probe-003": also the folder name. */
  id: string;
  seed: number;
  probe?: boolean;
  plan?: ProbePlan;
  /** The user's base command, as given (env words like `KUBECONFIG=x` allowed in front). */
  command: string[];
  /** Resolved already: `detectFramework(command)` when the user said auto. */
  framework: Framework;
  /** Absolute: results/runs/<id>/. */
  runDir: string;
  timeoutMs: number;
  /** Time between SIGTERM (Ginkgo writes its reports then) and SIGKILL on timeout. */
  killGraceMs?: number;
  /** Variables on top of this process's env: KUBECONFIG, USE_EXISTING_CLUSTER, ... */
  env?: Record<string, string>;
  /** Probes: run only these tests, by the names their reports gave. */
  focus?: readonly FocusTest[];
  /** Generic framework: where the command writes its JUnit files (relative to cwd, or absolute). */
  reportGlob?: string;
  cwd?: string;
  /** CPU pressure for timing-dependent order bugs: GOMAXPROCS=1 for the tests, busy threads beside them. */
  stress?: Stress;
  /** The GOFLAGS the command inherits: kubeflake's -exec is added to them, never replaces them. */
  goflags?: string;
  /** Each output line as it comes, for verbose mode. */
  onOutput?: (line: string) => void;
  /**
   * Build once, run many: the hunt's folder of kept test binaries. A `go test` run keeps what it
   * built there, and a later run whose package, build and source still match runs those directly.
   */
  keptBinaries?: string;
  /** A run beyond `runs` for changed specs: recorded in meta.json. */
  extra?: RunMeta['extra'];
}


/** Runs the test command once and records it; never throws for a failed or broken run. */
export async function executeRun(spec: RunSpec): Promise<RunMeta> {
  const runDir = resolve(spec.runDir);
  const cwd = resolve(spec.cwd ?? '.');
  const warnings: string[] = [];
  const startedAt = Date.now();
  const meta: RunMeta = {
    id: spec.id,
    seed: spec.seed,
    probe: spec.probe ?? spec.plan !== undefined,
    ...(spec.plan ? { plan: spec.plan } : {}),
    framework: spec.framework,
    command: spec.command,
    exitCode: null,
    signal: null,
    timedOut: false,
    startedAt,
    endedAt: startedAt,
    durationMs: 0,
    reports: [],
    warnings,
    ...(spec.stress && spec.stress !== 'off' ? { stress: spec.stress } : {}),
    ...(spec.extra ? { extra: spec.extra } : {}),
  };
  await mkdir(runDir, { recursive: true });
  await clearRunnerFiles(runDir);
  await mkdir(join(runDir, layout.junitDir), { recursive: true });

  try {
    let built: BuiltCommand;
    try {
      built = buildRunCommand(spec.command, spec.framework, {
        seed: spec.seed,
        tests: spec.focus,
        reports: {
          outputDir: join(runDir, layout.ginkgoOutputDir),
          // Unique, so reports of an earlier, killed run are never taken for this one's.
          packageFileStem: `.kubeflake-${spec.id}-${randomBytes(4).toString('hex')}`,
          glob: spec.reportGlob,
        },
      });
    } catch (error) {
      warnings.push((error as Error).message);
      return meta;
    }
    meta.command = built.display;
    warnings.push(...built.notes);
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      warnings.push(`the working directory ${cwd} does not exist: set working-directory to the folder the test command runs in`);
      return meta;
    }

    const outcome = await spawnRun(spec, built, runDir, cwd);
    if (outcome.error) warnings.push(outcome.error);
    if (outcome.result) {
      meta.exitCode = outcome.result.exitCode;
      meta.signal = outcome.result.signal;
      meta.timedOut = outcome.result.timedOut;
      meta.startedAt = outcome.result.startedAt;
      if (outcome.result.interrupted) {
        meta.interrupted = outcome.result.interrupted;
        warnings.push(`stopped when kubeflake was interrupted (${outcome.result.interrupted}): this run is neither a pass nor a fail`);
      } else if (outcome.result.timedOut) {
        warnings.push(`killed after the ${formatSeconds(spec.timeoutMs)} run timeout (the whole process group): raise run-timeout if the suite needs longer`);
      } else if (outcome.result.signal) {
        warnings.push(`the test command was ended by ${outcome.result.signal} from outside kubeflake (out of memory? cancelled job?)`);
      }
    }
    try {
      // A stopped run (timeout, or kubeflake interrupted) gives the shims their grace to write what the suites reported.
      const stopped = meta.timedOut || meta.interrupted !== undefined;
      const collected = await collectReports(built.reports, runDir, cwd, startedAt, warnings, stopped, outcome.buildFailures, spec.killGraceMs ?? 10_000);
      meta.reports = collected.reports;
      if (collected.testBinaries) meta.testBinaries = collected.testBinaries;
      if (collected.buildFailures) {
        meta.unbuilt = collected.buildFailures.map((failure) => failure.importPath);
        meta.buildFailures = collected.buildFailures;
      }
      if (outcome.reuse) {
        meta.binaryReuse = { reused: outcome.reuse.reused, ...(outcome.reuse.why ? { why: outcome.reuse.why } : {}) };
        if (!outcome.reuse.reused && outcome.result) {
          const { exitCode, signal, timedOut } = outcome.result;
          await keepRunThroughGo(outcome.reuse.request, { exitCode, signal, timedOut, unbuilt: collected.buildFailures?.length ?? 0, binaries: collected.records ?? [] }).catch((error: Error) => {
            warnings.push(`could not keep the test binaries of run ${spec.id} for later runs (${error.message}): they build again`);
          });
        }
      }
    } catch (error) {
      warnings.push(`collecting the reports of run ${spec.id} failed: ${(error as Error).message}`);
    }
    if (meta.reports.length === 0 && !meta.buildFailures && outcome.result) warnings.push(noReportWarning(built, runDir, cwd));
    return meta;
  } finally {
    meta.endedAt = Date.now();
    meta.durationMs = meta.endedAt - meta.startedAt;
    await writeJson(join(runDir, layout.meta), meta);
  }
}

// A rerun with the same id must not mix with what an earlier attempt left.
async function clearRunnerFiles(runDir: string): Promise<void> {
  for (const name of runnerFiles) {
    await rm(join(runDir, name), { recursive: true, force: true });
  }
}

interface SpawnOutcome {
  result?: ProcessResult;
  error?: string;
  /** Packages go test could not build, seen in its output. */
  buildFailures: BuildFailureScanner;
  /** Build once, run many: the request, and whether this run reused kept binaries (or why not). */
  reuse?: { request: ReuseRequest; reused: boolean; why?: string };
}

async function spawnRun(spec: RunSpec, built: BuiltCommand, runDir: string, cwd: string): Promise<SpawnOutcome> {
  const logFile = join(runDir, layout.log);
  await writeFile(logFile, `# kubeflake ${spec.id} seed ${spec.seed} in ${cwd}\n# ${built.display.join(' ')}\n`);
  const stress = stressPlan(spec.stress ?? 'off', availableParallelism());
  const env = { ...spec.env, ...built.env };
  const buildFailures = new BuildFailureScanner();
  const onLine = built.reports.kind === 'go-exec'
    ? (line: string) => {
        buildFailures.add(line);
        spec.onOutput?.(line);
      }
    : spec.onOutput;
  let load: CpuLoad | undefined;
  let argv = built.argv;
  let reuse: SpawnOutcome['reuse'];
  try {
    if (built.reports.kind === 'go-exec') {
      // The command's own GOFLAGS word wins over the inherited one, as in a shell.
      const userGoflags = env.GOFLAGS ?? spec.goflags;
      const request: ReuseRequest | undefined = spec.keptBinaries
        ? { cacheDir: spec.keptBinaries, buildKey: buildKey(spec.command, userGoflags, env), argv: built.argv, userGoflags, focused: (spec.focus?.length ?? 0) > 0, cores: availableParallelism() }
        : undefined;
      const shim = await installGoExecShim(runDir, {
        seed: spec.seed,
        focus: spec.focus?.map((test) => ({ suite: test.suite ?? '', name: test.name })),
        gomaxprocs: stress.gomaxprocs,
        goflags: userGoflags,
        userExec: built.reports.userExec,
        // A run that must go through the go command anyway (make, coverage...) keeps nothing: nothing could run it.
        ...(request && goCommandReasons(request.argv, request.userGoflags).length === 0 ? { keep: { dir: request.cacheDir, buildKey: request.buildKey } } : {}),
      });
      Object.assign(env, shim.env);
      if (request) {
        const decision = await reuseKeptBinaries(shim, request);
        if ('argv' in decision) argv = decision.argv;
        reuse = { request, reused: 'argv' in decision, ...('why' in decision ? { why: decision.why } : {}) };
        await writeFile(logFile, `# ${'argv' in decision ? 'running the test binaries an earlier run built (no go command)' : `through the go command: ${decision.why}`}\n`, { flag: 'a' });
      }
    } else {
      Object.assign(env, stressEnv(stress));
    }
    if (stress.loadThreads > 0) load = startCpuLoad(stress.loadThreads, spec.timeoutMs + (spec.killGraceMs ?? 10_000));
    const result = await runProcess(argv, {
      cwd,
      extraEnv: env,
      logFile,
      onLine,
      timeoutMs: spec.timeoutMs,
      killGraceMs: spec.killGraceMs ?? 10_000,
    });
    return { result, buildFailures, reuse };
  } catch (error) {
    const message =
      error instanceof CommandNotFoundError
        ? `command not found: ${error.command} (in ${cwd}): install it or put it on PATH, or fix the test command \`${built.display.join(' ')}\``
        : `could not start \`${built.display.join(' ')}\`: ${(error as Error).message}`;
    await writeFile(logFile, `# ${message}\n`, { flag: 'a' });
    return { error: message, buildFailures, reuse };
  } finally {
    await load?.stop();
  }
}

/**
 * Moves what the command wrote into junit/ and ginkgo.json, or lists it where the go test shim
 * wrote it (go-exec/*.go-test.json); returns their relative paths (and, through the shim, what
 * ran and what did not build). Nothing is converted: ingestion reads each report as it is.
 */
async function collectReports(
  target: ReportTarget,
  runDir: string,
  cwd: string,
  startedAt: number,
  warnings: string[],
  timedOut: boolean,
  buildFailures: BuildFailureScanner,
  shimGraceMs: number,
): Promise<{ reports: string[]; testBinaries?: RunMeta['testBinaries']; records?: TestBinaryRecord[]; buildFailures?: RunMeta['buildFailures'] }> {
  const junitDir = join(runDir, layout.junitDir);
  if (target.kind === 'go-exec') {
    if (timedOut) await settleGoExecShims(join(runDir, layout.goExecDir), shimGraceMs);
    const collected = await collectGoExecReports(join(runDir, layout.goExecDir), junitDir);
    warnings.push(...collected.warnings, ...collected.binaries.flatMap((binary) => binary.notes));
    const reports = [...collected.junit.map((name) => `${layout.junitDir}/${name}`), ...collected.goTestJson.map((name) => `${layout.goExecDir}/${name}`)];
    // A package that did not build ran no binary, so it left no files: its failure comes from go test's output.
    const ran = new Set(collected.binaries.map((binary) => binary.importPath));
    const unbuilt = buildFailures.failures().filter((failure) => !ran.has(failure.importPath));
    // Copied: each suite's own report stays in go-exec/ beside its record.
    if (await combineGinkgoJson(collected.ginkgoJson, join(runDir, layout.ginkgoJson), warnings, true)) reports.push(layout.ginkgoJson);
    const testBinaries = collected.binaries.map((binary) => ({
      importPath: binary.importPath,
      kind: binary.kind,
      exitCode: binary.exitCode,
      ...(binary.skipped ? { skipped: binary.skipped } : {}),
    }));
    return { reports, testBinaries, records: collected.binaries, ...(unbuilt.length ? { buildFailures: unbuilt } : {}) };
  }
  return { reports: await collectFiles(target, runDir, cwd, startedAt, warnings) };
}

async function collectFiles(target: Exclude<ReportTarget, { kind: 'go-exec' }>, runDir: string, cwd: string, startedAt: number, warnings: string[]): Promise<string[]> {
  const junitDir = join(runDir, layout.junitDir);
  switch (target.kind) {
    case 'none':
      return [];
    case 'ginkgo-output-dir': {
      // junit.xml / ginkgo.json merged by the CLI; <suite>_junit.xml... with --keep-separate-reports.
      const names = existsSync(target.dir) ? await readdir(target.dir) : [];
      const junit = names.filter((name) => name === target.junit || name.endsWith(`_${target.junit}`)).sort();
      const json = names.filter((name) => name === target.json || name.endsWith(`_${target.json}`)).sort();
      const reports: string[] = [];
      for (const name of junit) {
        await rename(join(target.dir, name), join(junitDir, name));
        reports.push(`${layout.junitDir}/${name}`);
      }
      if (await combineGinkgoJson(json.map((name) => join(target.dir, name)), join(runDir, layout.ginkgoJson), warnings)) reports.push(layout.ginkgoJson);
      // Per-suite JSON files now live in ginkgo.json; anything else (profiles) stays in the folder.
      await Promise.all(json.map((name) => rm(join(target.dir, name), { force: true })));
      await rmdir(target.dir).catch(() => undefined);
      return reports;
    }
    case 'package-files': {
      const found = await findFiles(cwd, new Set([target.junit, target.json]));
      const reports: string[] = [];
      const jsonFiles: string[] = [];
      for (const file of found.sort()) {
        if (basename(file) === target.json) {
          jsonFiles.push(file);
          continue;
        }
        const name = `${packageLabel(cwd, file)}.xml`;
        await moveFile(file, join(junitDir, name));
        reports.push(`${layout.junitDir}/${name}`);
      }
      if (await combineGinkgoJson(jsonFiles, join(runDir, layout.ginkgoJson), warnings)) reports.push(layout.ginkgoJson);
      // The per-package copies were ours: leave the user's tree as it was.
      await Promise.all(jsonFiles.map((file) => rm(file, { force: true })));
      return reports;
    }
    case 'glob': {
      const reports: string[] = [];
      const jsonFiles: string[] = [];
      const used = new Set<string>();
      for (const match of globSync(target.pattern, { cwd }).sort()) {
        const file = isAbsolute(match) ? match : join(cwd, match);
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) continue;
        // Filesystem times can lag the clock by a second; older files are from an earlier run.
        if (info.mtimeMs < startedAt - 2000) {
          warnings.push(`ignored ${relative(cwd, file)}: it is older than this run (a report left by an earlier run?)`);
          continue;
        }
        if (file.endsWith('.json')) {
          jsonFiles.push(file);
          continue;
        }
        let name = basename(file);
        for (let n = 2; used.has(name); n++) name = `${n}-${basename(file)}`;
        used.add(name);
        await copyFile(file, join(junitDir, name));
        reports.push(`${layout.junitDir}/${name}`);
      }
      if (await combineGinkgoJson(jsonFiles, join(runDir, layout.ginkgoJson), warnings, true)) reports.push(layout.ginkgoJson);
      return reports;
    }
  }
}

/**
 * Writes ginkgo.json from one or more Ginkgo JSON reports: one is copied untouched, several
 * (one per package) are concatenated, which is what the ginkgo CLI does when it merges suites.
 */
async function combineGinkgoJson(files: string[], destination: string, warnings: string[], copy = false): Promise<boolean> {
  if (files.length === 0) return false;
  if (files.length === 1) {
    if (copy) await copyFile(files[0]!, destination);
    else await moveFile(files[0]!, destination);
    return true;
  }
  const suites: unknown[] = [];
  for (const file of files) {
    try {
      const value: unknown = JSON.parse(await readFile(file, 'utf8'));
      suites.push(...(Array.isArray(value) ? value : [value]));
    } catch (error) {
      warnings.push(`${file} is not a readable Ginkgo JSON report (${(error as Error).message}): left out of ginkgo.json`);
    }
  }
  if (suites.length === 0) return false;
  await writeFile(destination, JSON.stringify(suites, null, 1));
  return true;
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch {
    // Another filesystem: copy, then remove.
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

// Directories no Go package lives in; skipping them keeps the search short.
const skippedDirs = new Set(['.git', 'node_modules', 'vendor', 'testdata', '.kubeflake']);

/** Files with one of these names under root, depth-first. */
async function findFiles(root: string, names: Set<string>): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!skippedDirs.has(entry.name)) await walk(join(dir, entry.name));
      } else if (names.has(entry.name)) found.push(join(dir, entry.name));
    }
  };
  await walk(root);
  return found;
}

/** `internal/controller/x-junit.xml` -> `internal_controller`: one report name per package. */
function packageLabel(root: string, file: string): string {
  const dir = relative(root, join(file, '..'));
  return dir === '' ? 'root' : dir.replace(/[\\/]/g, '_');
}

function noReportWarning(built: BuiltCommand, runDir: string, cwd: string): string {
  const where = join(runDir, layout.junitDir);
  switch (built.reports.kind) {
    case 'ginkgo-output-dir':
      return `no JUnit report found at ${where}: did the test command accept --junit-report and --output-dir (ginkgo v2 CLI)? See log.txt`;
    case 'package-files':
      return `no JUnit report found at ${where}: did the test binaries accept -ginkgo.junit-report (are these Ginkgo v2 suites)? See log.txt`;
    case 'go-exec':
      return `no report found in ${join(runDir, layout.goExecDir)}: no test binary reported through kubeflake's go test shim (did the build fail, or does the command run no \`go test\`?). See log.txt and go-exec/`;
    case 'glob':
      return `no JUnit report found at ${where}: nothing matched report-glob ${built.reports.pattern} in ${cwd} after the run; does the command write its reports there?`;
    case 'none':
      return built.framework === 'generic'
        ? `no JUnit report found at ${where}: the generic framework needs report-glob to find the command's JUnit files`
        : `no JUnit report found at ${where}: this command shape gives no machine-readable report`;
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
