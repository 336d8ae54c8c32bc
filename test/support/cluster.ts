// A control plane for integration tests: the one `npm test` started for the whole suite
// (KUBEFLAKE_TEST_KUBECONFIG), or one started for this test file alone.

import { after } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneBinaries, startLocalCluster, type LocalCluster } from '../../src/cluster/local.ts';
import { projectRoot } from './paths.ts';

export interface TestCluster {
  kubeconfigPath: string;
  server: string;
}

let shared: Promise<LocalCluster> | undefined;

// Registered when a test file imports this module, so it runs after all of that file's tests.
after(async () => {
  const cluster = await shared?.catch(() => undefined);
  await cluster?.stop({ remove: true });
});

/** The shared cluster, or one of this file's own, stopped when the file's tests end. */
export function useCluster(): Promise<TestCluster> {
  const kubeconfig = process.env.KUBEFLAKE_TEST_KUBECONFIG;
  const server = process.env.KUBEFLAKE_TEST_SERVER;
  if (kubeconfig && server) return Promise.resolve({ kubeconfigPath: kubeconfig, server });
  shared ??= startPrivateCluster();
  return shared;
}

/** A cluster of the caller's own, for tests that stop or break it. The caller stops it. */
export async function startPrivateCluster(): Promise<LocalCluster> {
  const binDir = await testBinaries();
  return startLocalCluster({ binDir, stateDir: mkdtempSync(join(tmpdir(), 'kubeflake-test-cluster-')) });
}

let binaries: Promise<string> | undefined;
export function testBinaries(): Promise<string> {
  binaries ??= process.env.KUBEFLAKE_TEST_BIN_DIR
    ? Promise.resolve(process.env.KUBEFLAKE_TEST_BIN_DIR)
    : controlPlaneBinaries({ buildScript: join(projectRoot, 'tools', 'build.sh') });
  return binaries;
}
