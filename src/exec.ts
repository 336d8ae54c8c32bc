// Every process kubeflake starts goes through here: each in its own process group, so a
// timeout or a Ctrl-C takes down the whole tree (go test -> test binary -> envtest children),
// never leaving an orphan holding a port or a cluster object.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Variables set on top of `env` (or this process's env): callers never read process.env. */
  extraEnv?: Record<string, string>;
  /** Combined stdout+stderr goes to this file (appended), when set. */
  logFile?: string;
  /** Called with each complete output line, when set. */
  onLine?: (line: string) => void;
  /** Kill the process group after this many milliseconds. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  killGraceMs?: number;
  /** Keep stdout/stderr in memory (capped) and return them. */
  capture?: boolean;
  /** Outlive this process (`kubeflake cluster up`): no stdio pipes, not killed on exit. */
  detached?: boolean;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Captured output (when `capture`), capped at 1 MiB each. */
  stdout: string;
  stderr: string;
  /** The process was stopped because kubeflake itself was interrupted (this signal): not its own doing. */
  interrupted?: NodeJS.Signals;
}

export class CommandNotFoundError extends Error {
  readonly command: string;
  constructor(command: string) {
    super(`command not found: ${command}: is it installed and on PATH?`);
    this.command = command;
  }
}

const captureLimit = 1 << 20;

/** A started process. `done` settles when it exits; `stop()` ends its whole group. */
export class RunningProcess {
  readonly child: ChildProcess;
  readonly done: Promise<ProcessResult>;
  readonly #killGraceMs: number;
  #timedOut = false;
  #exited = false;
  #interrupted: NodeJS.Signals | undefined;

  constructor(command: string[], options: ProcessOptions = {}) {
    const [file, ...args] = command;
    if (!file) throw new Error('empty command');
    this.#killGraceMs = options.killGraceMs ?? 5_000;
    const startedAt = Date.now();
    const env = options.extraEnv ? { ...(options.env ?? process.env), ...options.extraEnv } : (options.env ?? process.env);
    if (options.detached) {
      // Outlives us: its output goes straight to the log file, not through our pipes.
      const fd = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
      this.child = spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
      if (typeof fd === 'number') closeSync(fd);
    } else {
      this.child = spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      liveGroups.add(this);
    }
    const log: WriteStream | undefined =
      options.logFile && !options.detached ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;

    const out = { stdout: '', stderr: '' };
    const lineBuffers = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      log?.write(chunk);
      const text = chunk.toString('utf8');
      if (options.capture && out[stream].length < captureLimit) out[stream] += text.slice(0, captureLimit - out[stream].length);
      if (options.onLine) {
        const lines = (lineBuffers[stream] + text).split('\n');
        lineBuffers[stream] = lines.pop() ?? '';
        for (const line of lines) options.onLine(line.replace(/\r$/, ''));
      }
    };
    this.child.stdout?.on('data', onData('stdout'));
    this.child.stderr?.on('data', onData('stderr'));

    const timer = options.timeoutMs
      ? setTimeout(() => {
          this.#timedOut = true;
          void this.stop();
        }, options.timeoutMs)
      : undefined;

    this.done = new Promise<ProcessResult>((resolve, reject) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        liveGroups.delete(this);
        this.#exited = true;
        log?.end();
        reject(error.code === 'ENOENT' ? new CommandNotFoundError(file) : error);
      });
      this.child.once('close', (exitCode, signal) => {
        clearTimeout(timer);
        liveGroups.delete(this);
        this.#exited = true;
        for (const stream of ['stdout', 'stderr'] as const) {
          if (options.onLine && lineBuffers[stream]) options.onLine(lineBuffers[stream]);
        }
        const endedAt = Date.now();
        const result: ProcessResult = { exitCode, signal, timedOut: this.#timedOut, startedAt, endedAt, durationMs: endedAt - startedAt, ...out, ...(this.#interrupted ? { interrupted: this.#interrupted } : {}) };
        if (log) log.end(() => resolve(result));
        else resolve(result);
      });
    });
    // A detached process must not keep this one alive, nor die with it.
    if (options.detached) this.child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stops the group because this process was interrupted: its result says so. */
  interrupt(signal: NodeJS.Signals): Promise<void> {
    this.#interrupted ??= signal;
    return this.stop();
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period; resolves when it has exited. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (this.#exited || pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + this.#killGraceMs;
    const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.#killGraceMs);
    try {
      await Promise.race([this.done.catch(() => undefined), once(this.child, 'exit')]);
      // `go test` dies at once while its test binary still writes its reports: the group gets the rest of the grace.
      while (Date.now() < deadline && groupExists(pid)) await new Promise((wait) => setTimeout(wait, 50));
    } finally {
      clearTimeout(killer);
    }
    // The leader is gone; make sure nothing else in its group outlived it.
    signalGroup(pid, 'SIGKILL');
  }
}

/** Starts a command; see RunningProcess. */
export function startProcess(command: string[], options: ProcessOptions = {}): RunningProcess {
  return new RunningProcess(command, options);
}

/** Runs a command to completion. Never throws for a non-zero exit; throws CommandNotFoundError. */
export function runProcess(command: string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  return startProcess(command, options).done;
}

/** Sends a signal to a process group; false when no such group exists any more. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Orphans killed in a container may linger as zombies when PID 1 does not reap them.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

// Groups started by this process, killed if it exits or is interrupted.
const liveGroups = new Set<RunningProcess>();

function killAllSync(): void {
  for (const running of liveGroups) {
    if (running.pid !== undefined) signalGroup(running.pid, 'SIGKILL');
  }
  liveGroups.clear();
}

let stoppingOnExit = false;
let interruptedBy: NodeJS.Signals | undefined;

/** The signal (SIGINT, SIGTERM, SIGHUP) that interrupted this process, once one came. */
export function interruption(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/** The exit code of a process ended by a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
}

export interface StopOnExitOptions {
  /**
   * Wind down instead of exiting at once: on the first signal the children are stopped gracefully
   * (their results say `interrupted`), `interruption()` tells the face's work to finish what it has
   * (write the report of what finished), and the process exits by itself with 128 + the signal. If
   * it has not ended this long after the signal, it exits anyway. A second signal kills the
   * children at once and leaves two seconds to finish (GitHub cancels a job with SIGINT, then
   * SIGTERM 7.5 s later); a third exits at once.
   */
  windDownMs?: number;
}

/**
 * Makes this process take its children down with it: on exit, and on SIGINT/SIGTERM/SIGHUP
 * (stopping each group gracefully first). The faces (CLI, action, test runner) call it once;
 * importing this module installs nothing.
 */
export function stopChildrenOnExit(options: StopOnExitOptions = {}): void {
  if (stoppingOnExit) return;
  stoppingOnExit = true;
  process.once('exit', killAllSync);
  let signals = 0;
  const exitLater = (ms: number): void => void setTimeout(() => process.exit(), ms).unref();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      signals += 1;
      interruptedBy ??= signal;
      process.exitCode = signalExitCode(interruptedBy);
      if (signals === 1) {
        const stopped = Promise.allSettled([...liveGroups].map((running) => running.interrupt(signal)));
        if (options.windDownMs === undefined) void stopped.then(() => process.exit());
        else exitLater(options.windDownMs);
      } else if (signals === 2 && options.windDownMs !== undefined) {
        for (const running of liveGroups) if (running.pid !== undefined) signalGroup(running.pid, 'SIGKILL');
        exitLater(2_000);
      } else {
        process.exit();
      }
    });
  }
}
