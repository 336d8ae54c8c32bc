// The front door to a cluster: kind (on GitHub's runners), the local control plane (here and
// anywhere Go builds), or the cluster already in a kubeconfig. Each gives a kubeconfig and a
// teardown that undoes only what it set up.

import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ClusterKind } from '../model.ts';
import { controlPlaneBinaries, startLocalCluster } from './local.ts';
import { connectKube } from './kube.ts';
import { ensureKind } from './kind-install.ts';
import { AUDIT_POLICY } from '../record/policy.ts';
import {
  explainKindFailure,
  finishKindCluster,
  kindCli,
  kindConfigWithRecord,
  kindCreateArgs,
  kindRecordFile,
  parseKindClusters,
  waitForKindReady,
  writeKindRecord,
} from './kind.ts';

export interface ProvisionedCluster {
  kind: ClusterKind;
  /** For the test command. */
  kubeconfigPath: string;
  /** For kubeflake's own requests, when it has an identity of its own there (the audit policy leaves it out of the record). */
  ownKubeconfigPath?: string;
  /** The API servers' audit logs on this host (the record), when kubeflake configured the cluster; none for an existing one. */
  auditLogs?: string[];
  server: string;
  /** What was set up, for the log ("kind cluster kubeflake (created)"). */
  description: string;
  /**
   * Undoes what provisioning did: stops the local plane, deletes a kind cluster it created
   * (after exporting its logs when the hunt failed).
   */
  teardown(outcome?: { failed: boolean }): Promise<void>;
  /** Cleanup must only report (dry run): an existing cluster that does not look throwaway. */
  cleanupDryRun?: boolean;
  /** Said loudly before the hunt starts (a shared-looking cluster). */
  warning?: string;
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
  /** kind config file (nodes, port mappings...). */
  kindConfig?: string;
  /** Leave a created kind cluster running at the end. */
  keepCluster?: boolean;
  /** The kind executable; found on `searchPath` or installed (pinned, checksummed) when absent. */
  kindCommand?: string;
  /** PATH to look for kind on (settings' view of it). */
  searchPath?: string;
  /** Environment of the kind process (tests point it at a stand-in Docker). */
  kindEnv?: NodeJS.ProcessEnv;
  kindCreateTimeoutMs?: number;
  kindReadyTimeoutMs?: number;
  /** cluster=existing: really delete in a cluster that does not look throwaway. */
  cleanupExisting?: boolean;
  /** Where a created kind cluster's kubeconfig (and its record) is written: the results folder. */
  workDir: string;
  /** Detail lines (tool output). */
  log: (line: string) => void;
  /** Progress a person should see even when not verbose (a long build, a cluster being created). */
  progress?: (line: string) => void;
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
  const identity = await clusterIdentity(kubeconfigPath);
  const throwaway = throwawayReason(identity);
  const dryRun = !throwaway && !options.cleanupExisting;
  return {
    kind: 'existing',
    kubeconfigPath,
    server: identity.server,
    description: `existing cluster from ${kubeconfigPath} (context ${identity.context || '(none)'}${throwaway ? `, ${throwaway}` : ''})`,
    teardown: async () => {},
    ...(throwaway ? {} : {
      cleanupDryRun: dryRun,
      warning: `the existing cluster's context "${identity.context}" (${identity.server}) does not look like a throwaway test cluster ` +
        `(not kind, not local, not a loopback server): the test suite runs against it and ` +
        (dryRun ? 'cleanup only reports what it would delete (dry run). Set cleanup-existing: true to really delete what the runs leave.'
          : 'cleanup deletes what the runs leave, because cleanup-existing is true.'),
    }),
  };
}

export interface ClusterIdentity {
  context: string;
  cluster: string;
  server: string;
}

/** Why a cluster looks like a throwaway test cluster, or undefined when it may be shared. */
export function throwawayReason(identity: ClusterIdentity): string | undefined {
  const names = [identity.context, identity.cluster];
  if (names.some((name) => /^kind-|^kind$/.test(name))) return 'a kind cluster';
  if (names.some((name) => /local|^minikube$|^docker-desktop$|^rancher-desktop$|^k3d-|^orbstack$|^colima/.test(name))) return 'a local cluster';
  let host: string;
  try {
    host = new URL(identity.server).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  if (host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:(127\.|7f)/i.test(host)) return 'a loopback server';
  return undefined;
}

async function localCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  const binDir = await controlPlaneBinaries({ buildScript: options.buildScript, cacheDir: options.cacheDir, log: options.log, progress: options.progress });
  const stateDir = await mkdtemp(join(tmpdir(), 'kubeflake-cluster-'));
  const cluster = await startLocalCluster({ binDir, stateDir, log: options.log });
  return {
    kind: 'local',
    kubeconfigPath: cluster.kubeconfigPath,
    ownKubeconfigPath: cluster.ownKubeconfigPath,
    auditLogs: [cluster.auditLog],
    server: cluster.server,
    description: `local control plane at ${cluster.server} (ready in ${(cluster.readyMs / 1000).toFixed(1)} s)`,
    teardown: () => cluster.stop({ remove: true }),
  };
}

/** kind create/delete; a cluster that already existed is used and left alone. */
async function kindCluster(options: ProvisionOptions): Promise<ProvisionedCluster> {
  const name = options.kindName;
  const kindPath = options.kindCommand ?? (await ensureKind({ path: options.searchPath, cacheDir: options.cacheDir, log: options.log })).path;
  const cli = kindCli(kindPath, options.kindEnv);
  const kubeconfigPath = join(options.workDir, 'kind.kubeconfig');
  const listed = await cli.run(['get', 'clusters'], { timeoutMs: 60_000 });
  if (listed.exitCode !== 0) throw new Error(explainKindFailure(listed, { step: 'kind get clusters', name }));
  const alreadyThere = parseKindClusters(listed.stdout).includes(name);
  const keep = options.keepCluster ?? false;
  let auditLogs: string[] = [];
  let auditDir: string | undefined;
  const finish = async (exportLogs: boolean) => {
    const done = await finishKindCluster(cli, { name, resultsDir: options.workDir, keep, exportLogs, log: options.log });
    // A kept cluster still writes into the folder: it stays for as long as the cluster does.
    if (auditDir && done.deleted) await rm(auditDir, { recursive: true, force: true });
    return done;
  };

  if (alreadyThere) {
    options.log(`using the existing kind cluster ${name}`);
    const exported = await cli.run(['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfigPath], { timeoutMs: 60_000 });
    if (exported.exitCode !== 0) throw new Error(explainKindFailure(exported, { step: `kind export kubeconfig --name ${name}`, name }));
  } else {
    // Recorded before creating, so a cancelled step still leaves the post step something to delete.
    await writeKindRecord(options.workDir, { name, kind: kindPath, keep, createdAt: new Date().toISOString() });
    const record = await kindRecordSetup(options);
    auditLogs = record.logs;
    auditDir = record.dir;
    const args = kindCreateArgs({ name, kubeconfigPath, configFile: record.configFile, image: options.kindImage });
    const timeoutMs = options.kindCreateTimeoutMs ?? 10 * 60_000;
    options.progress?.(`creating kind cluster ${name}${options.kindImage ? ` (${options.kindImage})` : ''}: pulling the node image and starting it takes a minute or two`);
    const created = await cli.run(args, { timeoutMs, onLine: options.log });
    if (created.exitCode !== 0 || created.timedOut) {
      const message = explainKindFailure(created, { step: `kind ${args.join(' ')}`, name, image: options.kindImage, configFile: options.kindConfig, timeoutMs });
      // Nodes exist once kind got to preparing them: keep their logs, then remove them (--retain).
      if (created.timedOut || /Preparing nodes/.test(created.stderr)) await finish(true);
      else await Promise.all([rm(join(options.workDir, kindRecordFile), { force: true }), rm(record.dir, { recursive: true, force: true })]);
      throw new Error(message);
    }
  }

  const api = await connectKube(kubeconfigPath);
  try {
    await waitForKindReady(api, { timeoutMs: options.kindReadyTimeoutMs ?? 5 * 60_000, log: options.log });
  } catch (error) {
    if (!alreadyThere) await finish(true);
    throw error;
  } finally {
    api.close();
  }
  return {
    kind: 'kind',
    kubeconfigPath,
    server: await serverOf(kubeconfigPath),
    ...(auditLogs.length > 0 ? { auditLogs } : {}),
    description: `kind cluster ${name} (${alreadyThere ? 'existing, kept' : keep ? 'created, kept after the hunt' : 'created'})`,
    teardown: async (outcome) => {
      if (!alreadyThere) await finish(outcome?.failed ?? false);
    },
  };
}

/**
 * The record of a kind cluster kubeflake creates: the policy and one log folder a control-plane
 * node in a folder of this host, and the kind config (the user's, with the audit setup merged in)
 * written beside the results as kind-config.yaml.
 */
async function kindRecordSetup(options: ProvisionOptions): Promise<{ configFile: string; logs: string[]; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-kind-audit-'));
  await chmod(dir, 0o755);
  const policyFile = join(dir, 'audit-policy.yaml');
  await writeFile(policyFile, AUDIT_POLICY, { mode: 0o644 });
  const userConfig = options.kindConfig ? await readFile(options.kindConfig, 'utf8').catch((error: Error) => {
    throw new Error(`cannot read the kind config ${options.kindConfig}: ${error.message}. Check kind-config (relative to the working directory).`, { cause: error });
  }) : undefined;
  const record = kindConfigWithRecord(userConfig, { policyFile, logDir: (node) => join(dir, `node-${node}`) });
  if (record.note) options.log(record.note);
  for (const log of record.logs) {
    // Made here, readable by this user: the API server runs as root in the node and keeps the
    // owner and mode of a log that exists (and gives its rotated files the same).
    await mkdir(dirname(log), { recursive: true, mode: 0o755 });
    await writeFile(log, '', { mode: 0o644 });
  }
  const configFile = join(options.workDir, 'kind-config.yaml');
  await writeFile(configFile, record.config);
  return { configFile, logs: record.logs, dir };
}

/** The API server address of a kubeconfig's current context. */
export async function serverOf(kubeconfigPath: string): Promise<string> {
  return (await clusterIdentity(kubeconfigPath)).server;
}

/** The current context of a kubeconfig: its name, its cluster's name and server. */
export async function clusterIdentity(kubeconfigPath: string): Promise<ClusterIdentity> {
  let config: {
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  };
  try {
    config = parseYaml(await readFile(kubeconfigPath, 'utf8')) ?? {};
  } catch (error) {
    throw new Error(`cannot read kubeconfig ${kubeconfigPath}: ${(error as Error).message}`, { cause: error });
  }
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const server = config.clusters?.find((c) => c.name === context?.context?.cluster)?.cluster?.server;
  if (!server) throw new Error(`kubeconfig ${kubeconfigPath} names no server for its current context "${config['current-context'] ?? ''}"`);
  return { context: context?.name ?? '', cluster: context?.context?.cluster ?? '', server };
}
