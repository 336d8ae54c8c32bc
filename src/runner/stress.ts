// The `stress` option: run the suite on a machine made slow on purpose, so order bugs that need
// a slow controller or a lagging finalizer (an `AlreadyExists ... object is being deleted`
// race) fire more often. The test processes get GOMAXPROCS=1, and busy threads load the other
// cores for exactly the length of the run. The plan is pure; the load is the thin part.

import { Worker } from 'node:worker_threads';

export type Stress = 'off' | 'cpu';

export const stressLevels: readonly Stress[] = ['off', 'cpu'];

export interface StressPlan {
  stress: Stress;
  /** For the test processes only (the go command keeps its own, so packages still build and run in parallel). */
  gomaxprocs?: number;
  /** Busy threads beside the run. */
  loadThreads: number;
}

// More busy threads than this buys no more pressure and only starves kubeflake's own watch.
const maxLoadThreads = 4;

/** What `stress` means on a machine with this many cores: every core but one busy, the tests on one. */
export function stressPlan(stress: Stress, cores: number): StressPlan {
  if (stress === 'off') return { stress, loadThreads: 0 };
  return { stress, gomaxprocs: 1, loadThreads: Math.min(maxLoadThreads, Math.max(1, Math.floor(cores) - 1)) };
}

/** The environment words the reproduce line needs for the same pressure (the load itself cannot be put in a line). */
export function stressEnv(plan: StressPlan): Record<string, string> {
  return plan.gomaxprocs === undefined ? {} : { GOMAXPROCS: String(plan.gomaxprocs) };
}

/**
 * A reproduce line for a hunt made under stress: the same GOMAXPROCS in front, and a shell
 * comment saying the rest of the pressure (busy cores) is not in the line.
 */
export function stressedReproduce(line: string, stress: Stress): string {
  const plan = stressPlan(stress, 2);
  const env = Object.entries(stressEnv(plan)).map(([name, value]) => `${name}=${value}`);
  if (env.length === 0) return line;
  return `${env.join(' ')} ${line}  # found under stress ${stress}: keep the other cores busy, and it may take several tries`;
}

export interface CpuLoad {
  /** Ends every busy thread; resolves when they are gone. */
  stop(): Promise<void>;
  /** Settles when every thread has ended, stopped or at its deadline. */
  done: Promise<void>;
}

// Each thread spins in slices and yields between them, so its own deadline timer can end it
// even if stop() is never called (a crash between start and stop): the load is always bounded.
const spinner = `
const { workerData } = require('node:worker_threads');
const end = Date.now() + workerData.maxMs;
function spin() {
  const slice = Date.now() + 50;
  while (Date.now() < slice) {}
  if (Date.now() < end) setImmediate(spin);
}
spin();
`;

/** Starts `threads` busy threads for at most `maxMs`. */
export function startCpuLoad(threads: number, maxMs: number): CpuLoad {
  const workers = Array.from({ length: threads }, () => new Worker(spinner, { eval: true, workerData: { maxMs } }));
  // A busy thread must never keep kubeflake alive after its work is done.
  for (const worker of workers) worker.unref();
  const done = Promise.all(workers.map((worker) => new Promise<void>((ended) => worker.once('exit', () => ended())))).then(() => undefined);
  return {
    async stop() {
      await Promise.all(workers.map((worker) => worker.terminate()));
      await done;
    },
    done,
  };
}
