// The local control plane: etcd, kube-apiserver and kube-controller-manager built from Go
// modules (tools/build.sh), started on free loopback ports, health-checked, always torn down.
// Modelled on controller-runtime's envtest: plain process objects with their flags in view.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isAlive, runProcess, signalGroup, startProcess, type RunningProcess } from '../exec.ts';
import { createPki, writeKubeconfig, type ControlPlanePki } from './pki.ts';
import { AUDIT_POLICY, auditLogFlags } from '../record/policy.ts';

export interface LocalClusterOptions {
  /** Folder holding etcd, kube-apiserver and kube-controller-manager (see controlPlaneBinaries). */
  binDir: string;
  /** Folder for this cluster's data, certificates, logs, kubeconfig and state.json. Wiped first. */
  stateDir: string;
  /** Keep running after this process exits (`kubeflake cluster up`); stop with stopLocalCluster. */
  detached?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Give up waiting for health after this long. */
  startTimeoutMs?: number;
}

export interface LocalClusterState {
  stateDir: string;
  /** The admin's kubeconfig, for the test command. */
  kubeconfigPath: string;
  /** kubeflake's own kubeconfig (user "kubeflake"): its requests stay out of the audit record. */
  ownKubeconfigPath: string;
  /** The API server's audit log (the record): JSON lines, per the policy in src/record/policy.ts. */
  auditLog: string;
  server: string;
  startedAt: number;
  readyMs: number;
  processes: { name: string; pid: number; log: string }[];
}

export interface LocalCluster extends LocalClusterState {
  /** Resident memory of the control-plane processes, in bytes. */
  memoryBytes(): number;
  /** Stops every process and waits until none is left. Data stays in stateDir until `remove`. */
  stop(options?: { remove?: boolean }): Promise<void>;
}

const stateFile = 'state.json';

/**
 * Builds (or finds cached) control-plane binaries with tools/build.sh; returns their folder.
 * A build takes 10 to 30 minutes on two cores, once a machine: `progress` hears what is being
 * built, why, and a line every `heartbeatMs` with the elapsed time; `log` gets Go's package lines.
 */
export async function controlPlaneBinaries(options: {
  buildScript: string;
  cacheDir?: string;
  log?: (line: string) => void;
  progress?: (line: string) => void;
  heartbeatMs?: number;
}): Promise<string> {
  const env = { ...process.env, ...(options.cacheDir ? { KUBEFLAKE_CACHE: options.cacheDir } : {}) };
  const progress = options.progress ?? options.log ?? (() => {});
  const tracker = buildProgress(Date.now());
  const heartbeat = setInterval(() => {
    const line = tracker.heartbeat(Date.now());
    if (line) progress(line);
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();
  let result;
  try {
    result = await runProcess(['bash', options.buildScript], {
      env,
      capture: true,
      onLine: (line) => {
        const seen = tracker.line(line, Date.now());
        if (seen.progress) progress(seen.progress);
        else if (seen.detail) options.log?.(seen.detail);
      },
    });
  } finally {
    clearInterval(heartbeat);
  }
  const dir = result.stdout.trim().split('\n').pop() ?? '';
  if (result.exitCode !== 0 || !existsSync(join(dir, 'kube-apiserver'))) {
    throw new Error(`building the local control plane with ${options.buildScript} failed (exit ${result.exitCode}): ` +
      `${result.stderr.trim().split('\n').slice(-5).join(' | ')}. Is Go installed and the Go module proxy reachable?`);
  }
  return dir;
}

/** The folder tools/build.sh builds into (and the Actions cache saves), without building. */
export async function controlPlaneDir(buildScript: string, cacheDir?: string): Promise<string> {
  const env = { ...process.env, ...(cacheDir ? { KUBEFLAKE_CACHE: cacheDir } : {}) };
  const result = await runProcess(['bash', buildScript, '--where'], { env, capture: true });
  if (result.exitCode !== 0) throw new Error(`${buildScript} --where failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/**
 * Reads tools/build.sh's stderr: which binary is being built, how many Go packages compiled.
 * `line` sorts a line into progress to show, detail (Go's errors, module downloads), or a
 * package name that is only counted (thousands of them); `heartbeat` says what is still going
 * on, for the quiet minutes of a long compile.
 */
export function buildProgress(startedAt: number) {
  let current: { name: string; of: string; since: number } | undefined;
  let packages = 0;
  return {
    line(text: string, now: number): { progress?: string; detail?: string } {
      if (text.startsWith('kubeflake: building the local control plane')) {
        return { progress: `${text.replace(/^kubeflake: /, '')}. A cold build takes 10 to 30 minutes on two cores (less with a warm Go build cache); progress every 30 s.` };
      }
      const building = /^building (\S+) \((\d+ of \d+)\)$/.exec(text);
      if (building) {
        current = { name: building[1]!, of: building[2]!, since: now };
        return { progress: `building ${current.name} (${current.of}), ${formatElapsed(now - startedAt)} elapsed so far` };
      }
      if (/^built \S+ in \d+ s$/.test(text)) {
        current = undefined;
        return { progress: `${text} (${formatElapsed(now - startedAt)} elapsed in all)` };
      }
      if (current && /^[\w.-]+(\/[\w.~-]+)*$/.test(text)) {
        packages++;
        return {};
      }
      return { detail: text };
    },
    heartbeat(now: number): string | undefined {
      if (!current) return undefined;
      return `still building ${current.name} (${current.of}): ${formatElapsed(now - current.since)} on it, ` +
        `${formatElapsed(now - startedAt)} in all, ${packages} Go packages compiled so far`;
    },
  };
}

function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const dir = options.stateDir;
  await assertNotRunning(dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });

  const pki = await createPki(join(dir, 'pki'));
  const [etcdPort, etcdPeerPort, apiPort, kcmPort] = await freePorts(4);
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  const kcmKubeconfig = join(dir, 'controller-manager.kubeconfig');
  const ownKubeconfigPath = join(dir, 'kubeflake.kubeconfig');
  await writeKubeconfig(kubeconfigPath, server, pki.caCert, pki.adminCert, pki.adminKey, 'kubeflake-admin');
  await writeKubeconfig(ownKubeconfigPath, server, pki.caCert, pki.kubeflakeCert, pki.kubeflakeKey, 'kubeflake');
  const auditPolicy = join(dir, 'audit-policy.yaml');
  const auditLog = join(dir, 'logs', 'audit.jsonl');
  await writeFile(auditPolicy, AUDIT_POLICY);
  await writeKubeconfig(kcmKubeconfig, server, pki.caCert, pki.controllerManagerCert, pki.controllerManagerKey, 'kube-controller-manager');

  const components = [
    etcd(options.binDir, dir, etcdPort!, etcdPeerPort!),
    apiServer(options.binDir, dir, pki, apiPort!, etcdPort!, auditLogFlags(auditPolicy, auditLog)),
    controllerManager(options.binDir, dir, pki, kcmPort!, kcmKubeconfig),
  ];
  const running: { component: Component; process: RunningProcess }[] = [];
  const stopAll = async () => {
    for (const { process } of [...running].reverse()) await process.stop();
  };

  const start = (component: Component) => {
    running.push({ component, process: startProcess(component.command, { logFile: component.log, detached: options.detached, killGraceMs: 10_000 }) });
  };
  try {
    // etcd and the API server start together (the API server retries etcd); the controller
    // manager only once the API server answers: it exits if its first request is refused.
    start(components[0]!);
    start(components[1]!);
    for (let i = 0; i < components.length; i++) {
      if (!running[i]) start(components[i]!);
      const { component, process } = running[i]!;
      const exited = process.done.then(
        (result) => `exited with ${result.exitCode ?? result.signal}`,
        (error: Error) => error.message,
      );
      await waitFor(component, exited, started + timeoutMs);
      log(`${component.name} ready on port ${component.port} (${Date.now() - started} ms)`);
    }
    await waitForDefaultServiceAccount(server, pki, exitedAny(running), started + timeoutMs);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const state: LocalClusterState = {
    stateDir: dir,
    kubeconfigPath,
    ownKubeconfigPath,
    auditLog,
    server,
    startedAt: started,
    readyMs: Date.now() - started,
    processes: running.map(({ component, process }) => ({ name: component.name, pid: process.pid!, log: component.log })),
  };
  await writeFile(join(dir, stateFile), JSON.stringify(state, null, 2) + '\n');
  log(`control plane ready in ${state.readyMs} ms: ${server}`);

  return {
    ...state,
    memoryBytes: () => state.processes.reduce((sum, { pid }) => sum + residentBytes(pid), 0),
    stop: async ({ remove = false } = {}) => {
      await stopAll();
      if (remove) await rm(dir, { recursive: true, force: true });
      else await rm(join(dir, stateFile), { force: true });
    },
  };
}

/** Reads the state of a cluster started detached; undefined when none is recorded there. */
export async function readLocalClusterState(stateDir: string): Promise<LocalClusterState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, stateFile), 'utf8')) as LocalClusterState;
  } catch {
    return undefined;
  }
}

/** Stops a cluster recorded in stateDir (started by another process); returns what it stopped. */
export async function stopLocalCluster(stateDir: string, options: { remove?: boolean } = {}): Promise<string[]> {
  const state = await readLocalClusterState(stateDir);
  const stopped: string[] = [];
  for (const { name, pid } of [...(state?.processes ?? [])].reverse()) {
    if (!isAlive(pid)) continue;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
    stopped.push(`${name} (pid ${pid})`);
  }
  if (options.remove ?? true) await rm(stateDir, { recursive: true, force: true });
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// The components, with their defaults in one place each.

interface Component {
  name: string;
  port: number;
  command: string[];
  log: string;
  /** Resolves true when the component answers healthy. */
  healthy(): Promise<boolean>;
}

function etcd(binDir: string, dir: string, port: number, peerPort: number): Component {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return {
    name: 'etcd',
    port,
    log: join(dir, 'logs', 'etcd.log'),
    command: [
      join(binDir, 'etcd'),
      '--name=kubeflake',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=kubeflake=${peer}`,
      // A throwaway test store: durability buys nothing and fsync costs seconds per run.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    healthy: async () => (await httpGet(`${client}/health`)).body.includes('"health":"true"'),
  };
}

function apiServer(binDir: string, dir: string, pki: ControlPlanePki, port: number, etcdPort: number, audit: string[]): Component {
  return {
    name: 'kube-apiserver',
    port,
    log: join(dir, 'logs', 'kube-apiserver.log'),
    command: [
      join(binDir, 'kube-apiserver'),
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      // API priority and fairness queues requests from many tenants; a test cluster has one,
      // and its bootstrap slows every start.
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      // The record: every request the suite makes, as the server saw it (src/record/policy.ts).
      ...audit,
      '--v=1',
    ],
    healthy: async () => (await httpsGet(`https://127.0.0.1:${port}/readyz`, pki)).status === 200,
  };
}

function controllerManager(binDir: string, dir: string, pki: ControlPlanePki, port: number, kubeconfig: string): Component {
  return {
    name: 'kube-controller-manager',
    port,
    log: join(dir, 'logs', 'kube-controller-manager.log'),
    command: [
      join(binDir, 'kube-controller-manager'),
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--leader-elect=false',
      // Every default controller, as in kind: namespaces finish deleting, garbage is collected,
      // new namespaces get their default service account and root CA config map.
      '--controllers=*',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--v=1',
    ],
    // Its serving certificate is self-signed in memory: nothing to verify it against.
    healthy: async () => (await httpsGet(`https://127.0.0.1:${port}/healthz`, pki, { verify: false })).status === 200,
  };
}

// ---------------------------------------------------------------------------------------------

async function waitFor(component: Component, exited: Promise<string>, deadline: number): Promise<void> {
  let lastError = '';
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  while (Date.now() < deadline) {
    if (exitReason) break;
    try {
      if (await component.healthy()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(100);
  }
  const tail = await logTail(component.log);
  const why = exitReason ? `it ${exitReason}` : `it did not become healthy in time${lastError ? ` (${lastError})` : ''}`;
  throw new Error(`${component.name} failed to start: ${why}. Last lines of ${component.log}:\n${tail}`);
}

/** The `default` service account in `default` proves the controller manager really works. */
async function waitForDefaultServiceAccount(server: string, pki: ControlPlanePki, exited: Promise<string>, deadline: number): Promise<void> {
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  while (Date.now() < deadline && !exitReason) {
    const response = await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, pki).catch(() => undefined);
    if (response?.status === 200) return;
    await sleep(100);
  }
  throw new Error(`the control plane started but the controller manager never created the default service account` +
    `${exitReason ? ` (a component ${exitReason})` : ''}; see the logs in ${pki.dir}/../logs`);
}

function exitedAny(running: { component: Component; process: RunningProcess }[]): Promise<string> {
  return Promise.race(running.map(({ component, process }) =>
    process.done.then((result) => `${component.name} exited with ${result.exitCode ?? result.signal}`, (error: Error) => error.message)));
}

async function assertNotRunning(dir: string): Promise<void> {
  const state = await readLocalClusterState(dir);
  const alive = state?.processes.filter(({ pid }) => isAlive(pid)) ?? [];
  if (alive.length > 0) {
    throw new Error(`a local control plane is already running from ${dir} (${alive.map((p) => `${p.name} pid ${p.pid}`).join(', ')}): ` +
      `stop it first with \`kubeflake cluster down\`.`);
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`))).on('error', reject).end();
  });
}

function httpsGet(url: string, pki: ControlPlanePki, { verify = true } = {}): Promise<{ status: number; body: string }> {
  // As kubeflake itself: its health checks stay out of the record.
  const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.kubeflakeCert), key: readFileSync(pki.kubeflakeKey), rejectUnauthorized: verify };
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`))).on('error', reject).end();
  });
}

function residentBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function logTail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
