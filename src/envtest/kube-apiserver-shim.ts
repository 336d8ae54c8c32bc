// kubeflake's kube-apiserver shim, the program the wrapped KUBEBUILDER_ASSETS' `kube-apiserver`
// launcher hands over to:
//   node kube-apiserver-shim.ts <shim config.json> [arguments envtest passed...]
// It starts the real server with kubeflake's credential on a port of its own, announces it in the
// instances folder, keeps envtest's port closed until kubeflake has its baseline, and holds the
// real server after envtest's stop until kubeflake has taken its last snapshot (assets.ts writes
// the launcher and the config; observe.ts is the other side of the marker files). For a probe
// (KUBEFLAKE_ENVTEST_OBSERVATION=record) it only adds the credential and the audit record: the
// real server takes envtest's own port, with no gate and no hold.
//
// Node, not sh: Node is always there where kubeflake runs (it is what runs kubeflake), and unlike
// sh it puts the real server in its own process group and times the shutdown hold to the
// millisecond on every runner. It imports only the pure argument helpers and the audit policy's
// flags, so it starts fast.

import * as childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { apiServerEndpoint, isInformationalCall, withKubeflakeTokenFile, withSecurePort } from './api-server-args.ts';
import { auditLogFlags, hasOwnAuditConfig } from '../record/policy.ts';

/** What the wrapped folder tells the shim (assets.ts writes it beside the launcher). */
export interface ShimConfig {
  /** The real kube-apiserver. */
  real: string;
  /** File holding kubeflake's bearer token (mode 0600). */
  tokenFile: string;
  instancesEnv: string;
  holdEnv: string;
  /** Names the variable that asks for the record alone (`record`: a probe); absent in folders wrapped before it existed. */
  observationEnv?: string;
  holdMs: number;
  realStopMs: number;
  /** At most this long after the real server was started, envtest's port opens even without kubeflake. */
  startHoldMs: number;
  /** The audit policy the real server records with (src/record/policy.ts), unless the suite records it itself. */
  auditPolicyFile?: string;
}

/** What a shim writes into the instances folder when its server starts (`<id>.json`). */
export interface EnvtestInstanceAnnouncement {
  id: string;
  server: string;
  /** The real kube-apiserver, in its own process group. */
  pid: number;
  shimPid: number;
  /** The test binary that started it. */
  parentPid: number;
  /** The test binary's working directory: `go test` runs it in the package folder. */
  cwd: string;
  startedAt: number;
  holdMs: number;
  /** The real server's audit log, complete once it has exited; absent when the suite configured its own audit. */
  auditLog?: string;
  /** `record`: the server runs on envtest's own port with no gate and no hold; kubeflake keeps its record alone. */
  observation?: 'record';
}

/** What a shim writes when it has stopped (`<id>.stopped.json`): how long it held the server. */
export interface EnvtestShimStop {
  id: string;
  /** When envtest (or the parent's death) asked the shim to stop. */
  stopRequestedAt: number;
  /** When kubeflake released it, if it did within the bound. */
  releasedAt?: number;
  /** How long the real server was held after the stop request. */
  heldMs: number;
  holdMs: number;
  /** Why the hold ended. */
  endedBy: 'released' | 'bound' | 'no-observer' | 'server-exited' | 'record-only';
  /** When the real server had exited. */
  exitedAt: number;
  exitCode: number | null;
  signal: string | null;
  /** How long envtest's port stayed closed after the real server started, and why it opened. */
  start?: { heldMs: number; endedBy: 'observed' | 'bound'; openedAt: number };
}

function main(config: ShimConfig, args: string[]): void {
  const instancesDir = process.env[config.instancesEnv];
  const endpoint = apiServerEndpoint(args);

  // Not under kubeflake, or a call that starts no server: behave exactly as the real binary.
  if (!instancesDir || !endpoint || isInformationalCall(args)) {
    const passed = childProcess.spawnSync(config.real, args, { stdio: 'inherit' });
    if (passed.error) {
      process.stderr.write(`kubeflake envtest shim: cannot run ${config.real}: ${passed.error.message}\n`);
      process.exit(127);
    }
    process.exit(passed.status ?? 1);
  }

  const holdMs = Number(process.env[config.holdEnv] ?? '') > 0 ? Number(process.env[config.holdEnv]) : config.holdMs;
  const id = `${process.pid}-${Date.now()}`;
  const file = (suffix: string): string => path.join(instancesDir, `${id}${suffix}`);
  const writeAtomic = (target: string, text: string): void => {
    fs.writeFileSync(`${target}.partial`, text, { mode: 0o600 });
    fs.renameSync(`${target}.partial`, target);
  };

  // kubeflake's credential: a static token in group system:masters (cluster-admin), in a file
  // only this user can read, removed when the server stops.
  const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeflake-envtest-'));
  const tokenAuthFile = path.join(privateDir, 'tokens.csv');
  const token = fs.readFileSync(config.tokenFile, 'utf8').trim();
  const { args: tokenArgs, suiteTokenFile } = withKubeflakeTokenFile(args, tokenAuthFile);
  // The record: the real server writes its audit log beside the announcement; a suite that
  // configured an audit of its own keeps it, and the instance is observed by the watch alone.
  const auditLog = config.auditPolicyFile && !hasOwnAuditConfig(args) ? file('.audit.jsonl') : undefined;
  const realArgs = auditLog && config.auditPolicyFile ? [...tokenArgs, ...auditLogFlags(config.auditPolicyFile, auditLog)] : tokenArgs;
  // A probe only measures a rate: the record is all kubeflake reads of it, and the real server writes
  // it by itself. No gate before the suite's first request, no hold after envtest's stop.
  const recordOnly = config.observationEnv !== undefined && process.env[config.observationEnv] === 'record' && auditLog !== undefined;
  const suiteTokens = suiteTokenFile ? fs.readFileSync(suiteTokenFile, 'utf8').trimEnd() + '\n' : '';
  fs.writeFileSync(tokenAuthFile, `${suiteTokens}${token},kubeflake,kubeflake,"system:masters"\n`, { mode: 0o600 });

  const parentPid = process.ppid;
  let real: ChildProcess | undefined;
  let exited: { code: number | null; signal: string | null; at: number } | undefined;
  let stopping = false;
  let start: EnvtestShimStop['start'];
  const cleanUp = (): void => fs.rmSync(privateDir, { recursive: true, force: true });

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const stopRequestedAt = Date.now();
    const server = real;
    if (!server) {
      cleanUp();
      process.exit(0);
    }
    let endedBy: EnvtestShimStop['endedBy'] = recordOnly ? 'record-only' : 'bound';
    try {
      if (!recordOnly) writeAtomic(file('.stopping'), String(stopRequestedAt));
    } catch {
      endedBy = 'no-observer';
    }
    const finish = (releasedAt: number | undefined): void => {
      const heldMs = Date.now() - stopRequestedAt;
      const record = (): void => {
        const done = exited ?? { code: null, signal: null, at: Date.now() };
        const stopped: EnvtestShimStop = { id, stopRequestedAt, heldMs, holdMs, endedBy, exitedAt: done.at, exitCode: done.code, signal: done.signal };
        if (releasedAt !== undefined) stopped.releasedAt = releasedAt;
        if (start) stopped.start = start;
        try {
          writeAtomic(file('.stopped.json'), JSON.stringify(stopped));
        } catch {
          // the observer's folder is gone: nobody is left to read it
        }
        cleanUp();
        process.exit(0);
      };
      if (exited) return record();
      try {
        process.kill(-server.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-server.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, config.realStopMs);
      server.once('exit', () => {
        clearTimeout(killer);
        record();
      });
      if (exited) {
        clearTimeout(killer);
        record();
      }
    };
    if (endedBy === 'no-observer' || endedBy === 'record-only') return finish(undefined);
    const deadline = stopRequestedAt + holdMs;
    const poll = (): void => {
      if (fs.existsSync(file('.released'))) {
        endedBy = 'released';
        return finish(Date.now());
      }
      if (exited) {
        endedBy = 'server-exited';
        return finish(undefined);
      }
      if (Date.now() >= deadline) return finish(undefined);
      setTimeout(poll, 20);
    };
    poll();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A test binary killed without stopping envtest would leave the real server behind for good.
  setInterval(() => {
    if (process.ppid !== parentPid) stop();
  }, 1000).unref();

  /** Starts the real server: on a port of its own behind the gate, or (record only, no port given) on envtest's. */
  const launch = (realPort?: number): void => {
    // Its own process group: envtest stops the API server by signalling the shim's whole group,
    // and the real server must outlive that signal until kubeflake has taken its last snapshot.
    const portArgs = realPort === undefined ? realArgs : withSecurePort(realArgs, realPort);
    const realEndpoint = apiServerEndpoint(portArgs) ?? endpoint;
    const spawnedAt = Date.now();
    const server = childProcess.spawn(config.real, portArgs, { stdio: 'inherit', detached: true });
    real = server;
    server.on('error', (error) => {
      process.stderr.write(`kubeflake envtest shim: cannot start ${config.real}: ${error.message}\n`);
      cleanUp();
      process.exit(127);
    });
    server.on('exit', (code, signal) => {
      exited = { code, signal, at: Date.now() };
      if (!stopping) {
        // The server stopped on its own (a bad flag, a crash): envtest sees it exit as it would.
        cleanUp();
        writeAtomic(file('.stopped.json'), JSON.stringify({ id, stopRequestedAt: exited.at, heldMs: 0, holdMs, endedBy: 'server-exited', exitedAt: exited.at, exitCode: code, signal }));
        process.exit(code ?? 1);
      }
    });
    if (server.pid === undefined) return;
    const announcement: EnvtestInstanceAnnouncement = { id, server: realEndpoint, pid: server.pid, shimPid: process.pid, parentPid, cwd: process.cwd(), startedAt: spawnedAt, holdMs, ...(auditLog ? { auditLog } : {}), ...(recordOnly ? { observation: 'record' as const } : {}) };
    writeAtomic(file('.json'), JSON.stringify(announcement));
    if (realPort === undefined) return;

    // envtest's own port opens only once kubeflake has its baseline and its watch in place (or
    // after a bound): nothing the suite does can come before them. Bytes pass through untouched.
    const realUrl = new URL(realEndpoint);
    const upstreamHost = realUrl.hostname.replace(/^\[|\]$/g, '');
    const envtestUrl = new URL(endpoint);
    const gate = net.createServer((client) => {
      const upstream = net.connect(realPort, upstreamHost);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      for (const socket of [client, upstream]) {
        socket.on('error', close);
        socket.on('close', close);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    gate.on('error', (error) => process.stderr.write(`kubeflake envtest shim: cannot listen on ${endpoint} for envtest: ${error.message}\n`));
    const deadline = spawnedAt + config.startHoldMs;
    const open = (endedBy: NonNullable<EnvtestShimStop['start']>['endedBy']): void => {
      start = { heldMs: Date.now() - spawnedAt, endedBy, openedAt: Date.now() };
      gate.listen(Number(envtestUrl.port), envtestUrl.hostname.replace(/^\[|\]$/g, ''));
    };
    const waitForObserver = (): void => {
      if (fs.existsSync(file('.observed'))) return open('observed');
      if (exited || stopping) return;
      if (Date.now() >= deadline) return open('bound');
      setTimeout(waitForObserver, 20);
    };
    waitForObserver();
  };

  if (recordOnly) {
    launch();
    return;
  }
  const probe = net.createServer();
  probe.on('error', (error) => {
    process.stderr.write(`kubeflake envtest shim: cannot find a free port: ${error.message}\n`);
    cleanUp();
    process.exit(127);
  });
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => launch(port));
  });
}

const [configFile, ...serverArgs] = process.argv.slice(2);
let config: ShimConfig;
try {
  config = JSON.parse(fs.readFileSync(configFile ?? '', 'utf8')) as ShimConfig;
} catch (error) {
  process.stderr.write(`kubeflake envtest shim: cannot read its config ${configFile ?? '(none given)'} (${(error as Error).message}): the wrapped KUBEBUILDER_ASSETS folder is damaged; rerun kubeflake\n`);
  process.exit(127);
}
main(config, serverArgs);
