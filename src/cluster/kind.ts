// The kind lifecycle: create a named cluster (or reuse one that is there), wait until it can take
// a test suite, and at the end export its logs and delete what kubeflake created. Every call to
// the kind CLI goes through KindCli; deciding what to run and what a failure means is plain data
// (kindCreateArgs, explainKindFailure, nodesReady), so it is tested without Docker.

import { rm } from 'node:fs/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { auditLogFlags } from '../record/policy.ts';
import { join } from 'node:path';
import { runProcess, type ProcessResult } from '../exec.ts';
import { readJson, writeJson } from '../results.ts';
import { isNotFound, type KubeApi } from './kube.ts';

/** The kind executable, behind one door so tests can point it at a stand-in Docker. */
export interface KindCli {
  path: string;
  run(args: string[], options?: { timeoutMs?: number; onLine?: (line: string) => void }): Promise<ProcessResult>;
}

export function kindCli(path: string, env?: NodeJS.ProcessEnv): KindCli {
  return {
    path,
    run: (args, options = {}) => runProcess([path, ...args], { env, capture: true, timeoutMs: options.timeoutMs, onLine: options.onLine, killGraceMs: 5_000 }),
  };
}

export interface KindClusterSpec {
  name: string;
  kubeconfigPath: string;
  /** A kind config file (nodes, port mappings, feature gates). */
  configFile?: string;
  /** Node image, when not the kind release's default. */
  image?: string;
}

/**
 * `kind create cluster` as kubeflake runs it. --retain keeps the nodes of a failed create so
 * their logs can be exported before kubeflake deletes them; readiness is waited for through
 * the API (nodes Ready and the default service account), not kind's --wait, which covers only
 * the control-plane node.
 */
export function kindCreateArgs(spec: KindClusterSpec): string[] {
  const args = ['create', 'cluster', '--name', spec.name, '--kubeconfig', spec.kubeconfigPath, '--retain'];
  if (spec.configFile) args.push('--config', spec.configFile);
  if (spec.image) args.push('--image', spec.image);
  return args;
}

/** The names `kind get clusters` printed ("No kind clusters found." goes to stderr). */
export function parseKindClusters(stdout: string): string[] {
  return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

export interface KindFailureContext {
  /** The kind command that failed, as the user could type it. */
  step: string;
  name: string;
  image?: string;
  configFile?: string;
  timeoutMs?: number;
}

/** What a failed kind command means for the user, and what to do; from kind's own messages. */
export function explainKindFailure(result: Pick<ProcessResult, 'exitCode' | 'timedOut' | 'stderr' | 'stdout'>, context: KindFailureContext): string {
  const output = `${result.stderr}\n${result.stdout}`;
  const detail = lastLines(output, 3);
  if (result.timedOut) {
    return `\`${context.step}\` did not finish within ${formatSeconds(context.timeoutMs ?? 0)} and was stopped. ` +
      `Docker may be slow to pull the node image${context.image ? ` ${context.image}` : ''} or to start the node containers; ` +
      `retry, pre-pull the image, or raise the limit. Last output: ${detail || '(none)'}`;
  }
  if (/exec: "docker": executable file not found/.test(output)) {
    return `\`${context.step}\` failed: kind needs Docker (or Podman) and there is no \`docker\` command on PATH. ` +
      `GitHub's ubuntu runners have Docker; elsewhere install Docker, or use cluster: local.`;
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|docker\.sock: connect/.test(output)) {
    return `\`${context.step}\` failed: the docker command is installed but the Docker daemon is not running (or not reachable). ` +
      `Start Docker (or point DOCKER_HOST at it), or use cluster: local.`;
  }
  const pull = /failed to pull image "([^"]+)"/.exec(output);
  if (pull) {
    const why = /Command Output: (.+)/.exec(output)?.[1]?.trim();
    return `\`${context.step}\` failed: the node image ${pull[1]} could not be pulled${why ? ` (${why})` : ''}. ` +
      `Check kind-image names a published kindest/node tag, or leave it empty for the kind release's default image.`;
  }
  const missingConfig = /error reading file: open ([^:]+): no such file/.exec(output);
  if (missingConfig) {
    return `\`${context.step}\` failed: the kind config file ${missingConfig[1]} does not exist. Check kind-config (relative to the working directory).`;
  }
  if (/node\(s\) already exist for a cluster with the name/.test(output)) {
    return `\`${context.step}\` failed: a kind cluster named "${context.name}" is already being created or half-exists. ` +
      `Delete it with \`kind delete cluster --name ${context.name}\`, or pick another kind-name.`;
  }
  if (/unknown flag|unknown command/.test(output)) {
    return `\`${context.step}\` failed: this kind does not understand kubeflake's arguments (${detail}). ` +
      `Use kind v0.20 or newer, or remove kind from PATH so kubeflake installs its pinned release.`;
  }
  return `\`${context.step}\` failed (exit ${result.exitCode}): ${detail || 'no output'}`;
}

/** Whether every node reports Ready, and which are still waiting. */
export function nodesReady(list: { items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[] }): { ready: boolean; waiting: string[] } {
  const items = list.items ?? [];
  const waiting = items
    .filter((node) => !node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((node) => node.metadata?.name ?? '?');
  return { ready: items.length > 0 && waiting.length === 0, waiting: items.length === 0 ? ['(no node registered yet)'] : waiting };
}

/** Waits until every node is Ready and the default service account exists (what a suite needs). */
export async function waitForKindReady(api: KubeApi, options: { timeoutMs: number; pollMs?: number; log?: (line: string) => void }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 1_000;
  let waitingFor = 'the API server';
  while (Date.now() < deadline) {
    try {
      const nodes = nodesReady(await api.request('GET', '/api/v1/nodes', { timeoutMs: 5_000 }));
      if (!nodes.ready) {
        waitingFor = `node(s) to become Ready: ${nodes.waiting.join(', ')}`;
      } else {
        await api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default', { timeoutMs: 5_000 });
        return;
      }
    } catch (error) {
      waitingFor = isNotFound(error) ? 'the default service account (the controller manager creates it)' : `the API server (${(error as Error).message})`;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  options.log?.(`still waiting for ${waitingFor}`);
  throw new Error(`the kind cluster did not become ready within ${formatSeconds(options.timeoutMs)}: still waiting for ${waitingFor}`);
}

// ---------------------------------------------------------------------------------------------
// The audit record of a kind cluster kubeflake creates (kind's documented auditing setup): the
// policy file and a log folder of this host are mounted into each control-plane node, kubeadm
// mounts them into the API server's static pod and gives it the audit flags.

/** Where the record lives inside a control-plane node (and its API server's pod). */
export const KIND_AUDIT = {
  policy: '/etc/kubernetes/kubeflake/audit-policy.yaml',
  logDir: '/var/log/kubernetes/kubeflake-audit',
  logFile: 'audit.jsonl',
} as const;

/** The host side of the record: the policy file, and one log folder a control-plane node. */
export interface KindAuditHost {
  policyFile: string;
  /** The host folder for control-plane node i (each API server writes its own log). */
  logDir(node: number): string;
}

export interface KindConfigWithRecord {
  /** The kind config to create the cluster with (YAML). */
  config: string;
  /** The audit log of each control-plane node on this host; empty when the user's config records itself. */
  logs: string[];
  /** Said in the log: why there is no record, when there is none. */
  note?: string;
}

type KindNode = { role?: string; extraMounts?: { hostPath: string; containerPath: string; readOnly?: boolean }[]; [key: string]: unknown };
type KindConfig = { kind?: string; apiVersion?: string; nodes?: KindNode[]; kubeadmConfigPatches?: string[]; [key: string]: unknown };

/**
 * The user's kind config (or kind's default: one control-plane node) with the record added:
 * the mounts on every control-plane node and the API server's audit flags and volumes, as
 * kubeadm patches for both config versions kind may generate (v1beta3 takes extraArgs as a map,
 * v1beta4 as a list; kind applies only the patch of the version it uses). A user patch that
 * already lists apiServer extraVolumes gets ours appended (a merge patch replaces lists). A
 * config that sets up auditing itself is left as it is, with no record.
 */
export function kindConfigWithRecord(userConfig: string | undefined, host: KindAuditHost): KindConfigWithRecord {
  const config = (userConfig ? parseYaml(userConfig) : undefined) as KindConfig | undefined ?? { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' };
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error('the kind config is not a YAML mapping: pass a kind Cluster config file as kind-config');
  const patches = [...(config.kubeadmConfigPatches ?? [])];
  const nodePatches = (config.nodes ?? []).flatMap((node) => (node.kubeadmConfigPatches as string[] | undefined) ?? []);
  if ([...patches, ...nodePatches].some((patch) => /audit-(policy-file|log-path|webhook-config-file)/.test(patch))) {
    return { config: stringifyYaml(config), logs: [], note: 'the kind config sets up auditing itself: kubeflake leaves it as it is, and the runs are observed by the watch alone' };
  }
  const nodes: KindNode[] = config.nodes?.length ? config.nodes.map((node) => ({ ...node })) : [{ role: 'control-plane' }];
  const logs: string[] = [];
  let controlPlane = 0;
  for (const node of nodes) {
    if ((node.role ?? 'control-plane') !== 'control-plane') continue;
    const logDir = host.logDir(controlPlane++);
    node.extraMounts = [
      ...(node.extraMounts ?? []),
      { hostPath: host.policyFile, containerPath: KIND_AUDIT.policy, readOnly: true },
      { hostPath: logDir, containerPath: KIND_AUDIT.logDir },
    ];
    logs.push(join(logDir, KIND_AUDIT.logFile));
  }
  const flags = Object.fromEntries(auditLogFlags(KIND_AUDIT.policy, `${KIND_AUDIT.logDir}/${KIND_AUDIT.logFile}`).map((flag) => {
    const [name, ...value] = flag.replace(/^--/, '').split('=');
    return [name as string, value.join('=')];
  }));
  const volumes = [
    { name: 'kubeflake-audit-policy', hostPath: KIND_AUDIT.policy, mountPath: KIND_AUDIT.policy, readOnly: true, pathType: 'File' },
    { name: 'kubeflake-audit-log', hostPath: KIND_AUDIT.logDir, mountPath: KIND_AUDIT.logDir, readOnly: false, pathType: 'DirectoryOrCreate' },
  ];
  const asList = (args: Record<string, string>) => Object.entries(args).map(([name, value]) => ({ name, value }));
  let merged = false;
  const userPatches = patches.map((text) => {
    const patch = parseYaml(text) as { kind?: string; apiVersion?: string; apiServer?: { extraArgs?: unknown; extraVolumes?: unknown[] } } | undefined;
    if (patch?.kind !== 'ClusterConfiguration' || !Array.isArray(patch.apiServer?.extraVolumes)) return text;
    merged = true;
    const list = Array.isArray(patch.apiServer.extraArgs) || patch.apiVersion === 'kubeadm.k8s.io/v1beta4';
    const extraArgs = list
      ? [...((patch.apiServer.extraArgs as unknown[] | undefined) ?? []), ...asList(flags)]
      : { ...((patch.apiServer.extraArgs as Record<string, string> | undefined) ?? {}), ...flags };
    return stringifyYaml({ ...patch, apiServer: { ...patch.apiServer, extraArgs, extraVolumes: [...patch.apiServer.extraVolumes, ...volumes] } });
  });
  const ours = merged ? [] : [
    stringifyYaml({ apiVersion: 'kubeadm.k8s.io/v1beta3', kind: 'ClusterConfiguration', apiServer: { extraArgs: flags, extraVolumes: volumes } }),
    stringifyYaml({ apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', apiServer: { extraArgs: asList(flags), extraVolumes: volumes } }),
  ];
  const out: KindConfig = { ...config, nodes, kubeadmConfigPatches: [...userPatches, ...ours] };
  return { config: stringifyYaml(out), logs };
}

// ---------------------------------------------------------------------------------------------
// The record of a cluster kubeflake created, so a later step (the action's post step, after a
// failure or a cancellation) can export its logs and delete it.

export const kindRecordFile = 'kind-cluster.json';

export interface KindClusterRecord {
  name: string;
  /** The kind executable that created it. */
  kind: string;
  /** keep-cluster: leave it running at the end. */
  keep: boolean;
  createdAt: string;
}

export async function readKindRecord(resultsDir: string): Promise<KindClusterRecord | undefined> {
  return readJson<KindClusterRecord>(join(resultsDir, kindRecordFile)).catch(() => undefined);
}

export function writeKindRecord(resultsDir: string, record: KindClusterRecord): Promise<void> {
  return writeJson(join(resultsDir, kindRecordFile), record);
}

export interface KindFinish {
  name: string;
  resultsDir: string;
  keep: boolean;
  /** `kind export logs` into <resultsDir>/kind-logs first (a run failed, the cluster misbehaved). */
  exportLogs: boolean;
  log: (line: string) => void;
}

/** Exports logs when asked, then deletes the cluster unless it is kept; returns what it did. */
export async function finishKindCluster(cli: KindCli, finish: KindFinish): Promise<{ logsDir?: string; deleted: boolean }> {
  let logsDir: string | undefined;
  if (finish.exportLogs) {
    const dir = join(finish.resultsDir, 'kind-logs');
    const exported = await cli.run(['export', 'logs', dir, '--name', finish.name], { timeoutMs: 120_000 });
    if (exported.exitCode === 0) {
      logsDir = dir;
      finish.log(`kind logs of ${finish.name} exported to ${dir}`);
    } else {
      finish.log(`could not export the logs of kind cluster ${finish.name}: ${explainKindFailure(exported, { step: `kind export logs --name ${finish.name}`, name: finish.name })}`);
    }
  }
  if (finish.keep) {
    finish.log(`kind cluster ${finish.name} kept running (keep-cluster); delete it with \`kind delete cluster --name ${finish.name}\``);
    await rm(join(finish.resultsDir, kindRecordFile), { force: true });
    return { logsDir, deleted: false };
  }
  const deleted = await cli.run(['delete', 'cluster', '--name', finish.name], { timeoutMs: 180_000 });
  if (deleted.exitCode !== 0) {
    finish.log(`could not delete kind cluster ${finish.name}: ${explainKindFailure(deleted, { step: `kind delete cluster --name ${finish.name}`, name: finish.name })}`);
    return { logsDir, deleted: false };
  }
  await rm(join(finish.resultsDir, kindRecordFile), { force: true });
  finish.log(`kind cluster ${finish.name} deleted`);
  return { logsDir, deleted: true };
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').map((line) => line.trim()).filter(Boolean).slice(-count).join(' | ');
}

function formatSeconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
