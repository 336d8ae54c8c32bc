// Runs side by side (pure decisions): runs and probes whose packages each start their own envtest
// control plane share nothing but the machine, so several may run at once; runs that use a
// shared cluster (kind, the local control plane, an existing one) stay one at a time, since one
// run's objects and cleanup would show in another's.

/** Memory one run side by side needs: a test binary, etcd and kube-apiserver (measured ~1.2 GB on the example). */
const memoryPerRun = 1.5 * 1024 ** 3;
/** Cores one run keeps busy: the test process and its control plane. */
const coresPerRun = 2;

/** `parallel: auto`: as many as cores and memory carry (1 on two cores: measured no faster, see the README). */
export function autoParallel(cores: number, memoryBytes: number): number {
  return Math.max(1, Math.min(Math.floor(cores / coresPerRun), Math.floor(memoryBytes / memoryPerRun)));
}

/** What the first run showed about how the suite reaches a control plane. */
export interface FirstRunFacts {
  /** Test binaries that ran (not skipped); undefined when the runner could not tell (no go test shim). */
  binaries?: number;
  /** envtest control planes the run started. */
  envtestInstances: number;
  /** Objects the run left in, or events it caused on, the shared cluster. */
  sharedClusterUse: number;
}

/**
 * How many runs go side by side: `requested` when every package of the first run started its
 * own envtest and left the shared cluster untouched, else 1, with the reason for the log.
 */
export function sideBySideWidth(requested: number, facts: FirstRunFacts): { width: number; why: string } {
  if (requested <= 1) return { width: 1, why: 'parallel is 1' };
  if (facts.envtestInstances === 0) return { width: 1, why: 'the suite started no envtest control plane of its own: its runs share a cluster' };
  if (facts.binaries !== undefined && facts.envtestInstances < facts.binaries) {
    return { width: 1, why: `${facts.binaries} test binaries ran but only ${facts.envtestInstances} envtest control plane(s) started: some package uses the shared cluster` };
  }
  if (facts.sharedClusterUse > 0) return { width: 1, why: 'the first run used the shared cluster too' };
  return { width: requested, why: 'every package starts its own envtest' };
}

/**
 * Runs `work` over the items at most `width` at once, and hands each result to `inOrder` in the
 * items' order (the hunt log's order is the serial one, so the same seeds give the same report).
 * When `inOrder` throws, the items already started are awaited before the error goes on.
 */
export async function sideBySide<T, R, S>(items: readonly T[], width: number, work: (item: T) => Promise<R>, inOrder: (result: R, item: T) => Promise<S>): Promise<S[]> {
  const results: Promise<R>[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    while (running >= Math.max(1, width)) await new Promise<void>((free) => waiting.push(free));
    running += 1;
  };
  const release = (): void => {
    running -= 1;
    waiting.shift()?.();
  };
  const start = async (item: T): Promise<R> => {
    await slot();
    try {
      return await work(item);
    } finally {
      release();
    }
  };
  const out: S[] = [];
  try {
    for (const [index, item] of items.entries()) {
      // Serial (width 1): the next item starts only after this one is recorded, as before.
      if (width <= 1) {
        out.push(await inOrder(await work(item), item));
        continue;
      }
      if (index === 0) {
        for (const each of items) {
          const result = start(each);
          // Awaited in order below; a later one failing first must not count as unhandled.
          result.catch(() => undefined);
          results.push(result);
        }
      }
      out.push(await inOrder(await results[index]!, item));
    }
  } catch (error) {
    await Promise.allSettled(results);
    throw error;
  }
  return out;
}
