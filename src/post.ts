// Action post step (runs.post): runs after the main step, also when it failed or was
// cancelled. A kind cluster the main step created and did not get to delete (its record is
// still in the results folder) gets its logs exported and is deleted, unless keep-cluster.

import * as core from '@actions/core';
import { finishKindCluster, kindCli, readKindRecord } from './cluster/kind.ts';
import { stopChildrenOnExit } from './exec.ts';

export async function post(resultsDir: string, log: (line: string) => void): Promise<void> {
  if (!resultsDir) return log('kubeflake post: the main step did not start; nothing to clean up');
  const record = await readKindRecord(resultsDir);
  if (!record) return log('kubeflake post: no kind cluster left to clean up');
  // The main step ends by deleting its cluster; a record still here means it was interrupted.
  log(`kubeflake post: the kind cluster ${record.name} is still recorded in ${resultsDir}: the main step did not finish`);
  await finishKindCluster(kindCli(record.kind), { name: record.name, resultsDir, keep: record.keep, exportLogs: true, log });
}

stopChildrenOnExit();
try {
  await post(core.getState('results'), (line) => core.info(line));
} catch (error) {
  core.warning(`kubeflake post step: ${(error as Error).message}`);
}
