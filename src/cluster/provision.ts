// The front door to a cluster: kind (on GitHub's runners), the local control plane (here and
// anywhere Go builds), or the cluster already in a kubeconfig. Each gives a kubeconfig and a
// teardown that undoes only what it set up.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ClusterKind } from '../model.ts';
import { runProcess } from '../exec.ts';
import { controlPlaneBinaries, startLocalCluster } from './local.ts';

export interface ProvisionedCluster {
  kind: ClusterKind;
  kubeconfigPath: string;
  server: string;
  /** What was set up, for the log ("kind cluster kubeflake (created)"). */
  description: string;
  /** Undoes what provisioning did: stops the local plane, deletes a kind cluster it created. */
  teardown(): Promise<void>;
}

export interface ProvisionOptions {
  cluster: ClusterKind;
  /** cluster=existing: the kubeconfig to use. */
  kubeconfig?: string;
  /** cluster=local: tools/build.sh and where its binaries are cached. */
  buildScript: string;
  cacheDir: string;
  /** cluster=kind. */
  kindName: string;
  kindImage?: string;
  /** The kind executable (a path in tests). */
  kindCommand?: string;
  /** Where a created kind cluster's kubeconfig is written. */
  workDir: string;
  log: (line: string) => void;
}

export async function provisionCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  switch (options.cluster) {
    case 'existing':
      return existingCluster(options);
    case 'kind':
      return kindCluster(options);
    case 'local':
      return localCluster(options);
  }
}

async function existingCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  const kubeconfigPath = options.kubeconfig;
  if (!kubeconfigPath) throw new Error('cluster=existing needs a kubeconfig: pass --kubeconfig FILE or set KUBECONFIG');
  return {
    kind: 'existing',
    kubeconfigPath,
    server: await serverOf(kubeconfigPath),
    description: `existing cluster from ${kubeconfigPath}`,
    teardown: async () => {},
  };
}

async function localCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  options.log('building (or finding cached) control-plane binaries');
  const binDir = await controlPlaneBinaries({ buildScript: options.buildScript, cacheDir: options.cacheDir, log: options.log });
  const stateDir = await mkdtemp(join(tmpdir(), 'kubeflake-cluster-'));
  const cluster = await startLocalCluster({ binDir, stateDir, log: options.log });
  return {
    kind: 'local',
    kubeconfigPath: cluster.kubeconfigPath,
    server: cluster.server,
    description: `local control plane at ${cluster.server} (ready in ${(cluster.readyMs / 1000).toFixed(1)} s)`,
    teardown: () => cluster.stop({ remove: true }),
  };
}

/** kind create/delete; a cluster that already existed is used and left alone. */
async function kindCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  const kind = options.kindCommand ?? 'kind';
  const kubeconfigPath = join(options.workDir, 'kind.kubeconfig');
  const existing = await runProcess([kind, 'get', 'clusters'], { capture: true });
  if (existing.exitCode !== 0) throw new Error(`\`${kind} get clusters\` failed: ${existing.stderr.trim()}. Is kind installed and Docker running?`);
  const alreadyThere = existing.stdout.split('\n').map((line) => line.trim()).includes(options.kindName);
  if (alreadyThere) {
    options.log(`using the existing kind cluster ${options.kindName}`);
    const exported = await runProcess([kind, 'export', 'kubeconfig', '--name', options.kindName, '--kubeconfig', kubeconfigPath], { capture: true });
    if (exported.exitCode !== 0) throw new Error(`\`${kind} export kubeconfig\` failed: ${exported.stderr.trim()}`);
  } else {
    options.log(`creating kind cluster ${options.kindName}`);
    const create = [kind, 'create', 'cluster', '--name', options.kindName, '--kubeconfig', kubeconfigPath, '--wait', '180s'];
    if (options.kindImage) create.push('--image', options.kindImage);
    const created = await runProcess(create, { capture: true, onLine: options.log });
    if (created.exitCode !== 0) throw new Error(`\`${create.join(' ')}\` failed (exit ${created.exitCode}): ${created.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return {
    kind: 'kind',
    kubeconfigPath,
    server: await serverOf(kubeconfigPath),
    description: `kind cluster ${options.kindName} (${alreadyThere ? 'existing, kept' : 'created'})`,
    teardown: async () => {
      if (alreadyThere) return;
      const deleted = await runProcess([kind, 'delete', 'cluster', '--name', options.kindName], { capture: true });
      if (deleted.exitCode !== 0) options.log(`could not delete kind cluster ${options.kindName}: ${deleted.stderr.trim()}`);
    },
  };
}

/** The API server address of a kubeconfig's current context. */
export async function serverOf(kubeconfigPath: string): Promise<string> {
  let config: {
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  };
  try {
    config = parseYaml(await readFile(kubeconfigPath, 'utf8')) ?? {};
  } catch (error) {
    throw new Error(`cannot read kubeconfig ${kubeconfigPath}: ${(error as Error).message}`);
  }
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const server = config.clusters?.find((c) => c.name === context?.context?.cluster)?.cluster?.server;
  if (!server) throw new Error(`kubeconfig ${kubeconfigPath} names no server for its current context "${config['current-context'] ?? ''}"`);
  return server;
}
