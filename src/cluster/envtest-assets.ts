// KUBEBUILDER_ASSETS for suites that start their own envtest control plane: where the binaries
// come from (the user's folder, kubeflake's own build, or the envtest release archives that
// setup-envtest uses, checksum-verified and cached), and the wrapped folder kubeflake hands the
// suite instead, whose kube-apiserver is a shim that lets kubeflake watch that control plane.
//
// The shim is a small Node program behind a two-line sh launcher: Node is always there where
// kubeflake runs (it is what runs kubeflake), and unlike sh it puts the real server in its own
// process group and times the shutdown hold to the millisecond on every runner.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { arch as hostArch, platform as hostPlatform, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runProcess } from '../exec.ts';
import { shellWord } from '../frameworks/patterns.ts';

/** The binaries envtest starts; kubectl is optional (only envtest's kubectl helper needs it). */
export const ENVTEST_BINARIES = ['etcd', 'kube-apiserver'] as const;
const OPTIONAL_BINARIES = ['kubectl'] as const;

/** The environment variable through which shims find the folder kubeflake reads them from. */
export const INSTANCES_ENV = 'KUBEFLAKE_ENVTEST_DIR';
/** Overrides the shutdown hold bound for one run (milliseconds). */
export const HOLD_ENV = 'KUBEFLAKE_ENVTEST_HOLD_MS';
/** The shim stops the real server at most this long after envtest asked: envtest waits 20 s, then kills. */
export const DEFAULT_HOLD_MS = 5_000;
const REAL_STOP_MS = 10_000;
/** envtest waits 20 s for a new server to answer; the shim keeps its port closed for kubeflake's baseline at most this long. */
const START_HOLD_MS = 12_000;

export const SHIM_SCRIPT = 'kube-apiserver.kubeflake.cjs';
const TOKEN_FILE = '.kubeflake-token';

// ---------------------------------------------------------------------------------------------
// The shim's argument handling: pure, unit-tested here, and inlined into the generated shim.

/**
 * Where the API server envtest is starting will serve: https on --bind-address (loopback when it
 * listens on every address) and --secure-port. Undefined when there is no secure port to reach
 * (a `--help` call, an old insecure-only server): the shim then only passes through.
 */
export function apiServerEndpoint(args: readonly string[]): string | undefined {
  // The last occurrence wins, as in pflag; `--flag=value` and `--flag value` both count.
  const fv = (flag: string): string | undefined => {
    let value: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === `--${flag}` && i + 1 < args.length) value = args[++i];
      else if (arg.startsWith(`--${flag}=`)) value = arg.slice(flag.length + 3);
    }
    return value;
  };
  const port = fv('secure-port');
  if (!port || !/^\d+$/.test(port) || port === '0') return undefined;
  let host = fv('bind-address') ?? '127.0.0.1';
  if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The real server's arguments: the suite's, with kubeflake's token file in place of any
 * --token-auth-file (whose lines the shim copies into kubeflake's file, so the suite's own
 * tokens keep working). Returns the file the suite had, if any.
 */
export function withKubeflakeTokenFile(args: readonly string[], tokenFile: string): { args: string[]; suiteTokenFile?: string } {
  const out: string[] = [];
  let suiteTokenFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--token-auth-file' && i + 1 < args.length) {
      suiteTokenFile = args[++i];
      continue;
    }
    if (arg.startsWith('--token-auth-file=')) {
      suiteTokenFile = arg.slice('--token-auth-file='.length);
      continue;
    }
    out.push(arg);
  }
  out.push(`--token-auth-file=${tokenFile}`);
  return suiteTokenFile === undefined ? { args: out } : { args: out, suiteTokenFile };
}

/** The arguments with another --secure-port: the real server listens there, behind envtest's port. */
export function withSecurePort(args: readonly string[], port: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--secure-port' && i + 1 < args.length) {
      out.push(arg, String(port));
      i++;
    } else if (arg.startsWith('--secure-port=')) {
      out.push(`--secure-port=${port}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Calls that only ask the binary about itself (envtest runs `kube-apiserver --help` to probe flags). */
export function isInformationalCall(args: readonly string[]): boolean {
  return args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version' || arg.startsWith('--version='));
}

// ---------------------------------------------------------------------------------------------
// The shim program. Written into the wrapped folder as `(shimMain)(config, helpers)`: it may use
// nothing from this module but its parameters, so it survives bundling and minification.

export interface ShimConfig {
  /** The real kube-apiserver. */
  real: string;
  /** File holding kubeflake's bearer token (mode 0600). */
  tokenFile: string;
  instancesEnv: string;
  holdEnv: string;
  holdMs: number;
  realStopMs: number;
  /** At most this long after the real server was started, envtest's port opens even without kubeflake. */
  startHoldMs: number;
}

export interface ShimHelpers {
  endpoint: typeof apiServerEndpoint;
  withToken: typeof withKubeflakeTokenFile;
  withPort: typeof withSecurePort;
  informational: typeof isInformationalCall;
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
  endedBy: 'released' | 'bound' | 'no-observer' | 'server-exited';
  /** When the real server had exited. */
  exitedAt: number;
  exitCode: number | null;
  signal: string | null;
  /** How long envtest's port stayed closed after the real server started, and why it opened. */
  start?: { heldMs: number; endedBy: 'observed' | 'bound'; openedAt: number };
}

export function shimMain(config: ShimConfig, helpers: ShimHelpers): void {
  const childProcess = process.getBuiltinModule('node:child_process');
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const args = process.argv.slice(2);
  const instancesDir = process.env[config.instancesEnv];
  const endpoint = helpers.endpoint(args);

  // Not under kubeflake, or a call that starts no server: behave exactly as the real binary.
  if (!instancesDir || !endpoint || helpers.informational(args)) {
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
  const { args: realArgs, suiteTokenFile } = helpers.withToken(args, tokenAuthFile);
  const suiteTokens = suiteTokenFile ? fs.readFileSync(suiteTokenFile, 'utf8').trimEnd() + '\n' : '';
  fs.writeFileSync(tokenAuthFile, `${suiteTokens}${token},kubeflake,kubeflake,"system:masters"\n`, { mode: 0o600 });

  const parentPid = process.ppid;
  let real: ReturnType<typeof childProcess.spawn> | undefined;
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
    let endedBy: EnvtestShimStop['endedBy'] = 'bound';
    try {
      writeAtomic(file('.stopping'), String(stopRequestedAt));
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
    if (endedBy === 'no-observer') return finish(undefined);
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

  const launch = (realPort: number): void => {
    // Its own process group: envtest stops the API server by signalling the shim's whole group,
    // and the real server must outlive that signal until kubeflake has taken its last snapshot.
    const portArgs = helpers.withPort(realArgs, realPort);
    const realEndpoint = helpers.endpoint(portArgs) ?? `https://127.0.0.1:${realPort}`;
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
    const announcement: EnvtestInstanceAnnouncement = { id, server: realEndpoint, pid: server.pid, shimPid: process.pid, parentPid, cwd: process.cwd(), startedAt: spawnedAt, holdMs };
    writeAtomic(file('.json'), JSON.stringify(announcement));

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

  const net = process.getBuiltinModule('node:net');
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

// ---------------------------------------------------------------------------------------------
// The wrapped folder.

export interface WrappedAssets {
  /** The folder to give the suite as KUBEBUILDER_ASSETS. */
  dir: string;
  /** Where the binaries really are. */
  realDir: string;
  /** Where shims announce instances; read by observeEnvtest. */
  instancesDir: string;
  /** kubeflake's bearer token for every instance started through this folder. Never log it. */
  token: string;
  /** Environment for the test command: KUBEBUILDER_ASSETS and the shim's folder. */
  env: Record<string, string>;
}

export interface WrapOptions {
  /** The real assets folder (etcd, kube-apiserver, optionally kubectl). */
  realDir: string;
  /** A folder kubeflake owns for this hunt; the wrapped assets and the instances folder go in it. */
  workDir: string;
  /** The Node binary that runs the shim. */
  nodePath: string;
  holdMs?: number;
  /** The folder name inside workDir ("assets"); another folder of the same hunt shares its token. */
  name?: string;
  /** The hunt's token, when wrapping a second folder for it. */
  token?: string;
  /** Write the folder under this name; the caller renames it to `name` (concurrent wrappers). */
  staging?: string;
  /** The real kube-apiserver when it is not `<realDir>/kube-apiserver` (TEST_ASSET_KUBE_APISERVER). */
  realApiServer?: string;
}

/** Makes the wrapped assets folder: the shim as kube-apiserver, etcd and kubectl linked unchanged. */
export async function wrapEnvtestAssets(options: WrapOptions): Promise<WrappedAssets> {
  const missing = options.realApiServer ? [] : await missingBinaries(options.realDir);
  if (missing.length > 0) {
    throw new Error(`KUBEBUILDER_ASSETS folder ${options.realDir} has no ${missing.join(' or ')}: ` +
      'point KUBEBUILDER_ASSETS at a folder from `setup-envtest use -p path`, or unset it to let kubeflake provide one');
  }
  // `dir` is where the folder is used from; `build` where it is written (the same, unless staged).
  const dir = join(options.workDir, options.name ?? 'assets');
  const build = options.staging ? join(options.workDir, options.staging) : dir;
  const instancesDir = join(options.workDir, 'instances');
  await rm(build, { recursive: true, force: true });
  await mkdir(build, { recursive: true, mode: 0o700 });
  await mkdir(instancesDir, { recursive: true, mode: 0o700 });
  for (const name of [...ENVTEST_BINARIES, ...OPTIONAL_BINARIES]) {
    if (name === 'kube-apiserver' || !existsSync(join(options.realDir, name))) continue;
    await symlink(join(options.realDir, name), join(build, name));
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  await writeFile(join(build, TOKEN_FILE), token + '\n', { mode: 0o600 });
  const config: ShimConfig = {
    real: options.realApiServer ?? join(options.realDir, 'kube-apiserver'),
    tokenFile: join(dir, TOKEN_FILE),
    instancesEnv: INSTANCES_ENV,
    holdEnv: HOLD_ENV,
    holdMs: options.holdMs ?? DEFAULT_HOLD_MS,
    realStopMs: REAL_STOP_MS,
    startHoldMs: START_HOLD_MS,
  };
  const program = [
    '// kubeflake: the real kube-apiserver with kubeflake\'s credential; generated, do not edit.',
    `(${shimMain.toString()})(${JSON.stringify(config)}, {`,
    `  endpoint: ${apiServerEndpoint.toString()},`,
    `  withToken: ${withKubeflakeTokenFile.toString()},`,
    `  withPort: ${withSecurePort.toString()},`,
    `  informational: ${isInformationalCall.toString()},`,
    '});',
    '',
  ].join('\n');
  await writeFile(join(build, SHIM_SCRIPT), program, { mode: 0o600 });
  const launcher = `#!/bin/sh\nexec ${shellWord(options.nodePath)} ${shellWord(join(dir, SHIM_SCRIPT))} "$@"\n`;
  await writeFile(join(build, 'kube-apiserver'), launcher, { mode: 0o700 });
  await chmod(join(build, 'kube-apiserver'), 0o700);
  return { dir, realDir: options.realDir, instancesDir, token, env: { KUBEBUILDER_ASSETS: dir, [INSTANCES_ENV]: instancesDir } };
}

/**
 * For a test binary whose KUBEBUILDER_ASSETS the suite's own tooling set on the way (a scaffolded
 * Makefile calls `setup-envtest use -p path`): the environment that wraps that folder too, with
 * the hunt's token and instances folder, so its control planes are observed like any other.
 * Empty when there is nothing to change (kubeflake's own folder, or no hunt is observing).
 * Meant for the `go test -exec` shim, which sees each binary's final environment.
 */
export async function wrapAssetsOfBinary(env: Readonly<Record<string, string | undefined>>, nodePath: string): Promise<Record<string, string>> {
  const instancesDir = env[INSTANCES_ENV];
  if (!instancesDir) return {};
  const out: Record<string, string> = {};
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets && !existsSync(join(assets, SHIM_SCRIPT))) out.KUBEBUILDER_ASSETS = await wrappedFor(instancesDir, nodePath, assets);
  // envtest prefers TEST_ASSET_KUBE_APISERVER to KUBEBUILDER_ASSETS: wrap that binary too.
  const apiServer = env.TEST_ASSET_KUBE_APISERVER;
  if (apiServer && !existsSync(join(dirname(apiServer), SHIM_SCRIPT))) {
    out.TEST_ASSET_KUBE_APISERVER = join(await wrappedFor(instancesDir, nodePath, dirname(apiServer), apiServer), 'kube-apiserver');
  }
  return out;
}

/** The hunt's wrapped folder for a real one (made once, shared by every binary that asks). */
async function wrappedFor(instancesDir: string, nodePath: string, realDir: string, realApiServer?: string): Promise<string> {
  const workDir = dirname(instancesDir);
  const name = `assets-${createHash('sha256').update(realApiServer ?? realDir).digest('hex').slice(0, 12)}`;
  if (existsSync(join(workDir, name, SHIM_SCRIPT))) return join(workDir, name);
  const token = (await readFile(join(workDir, 'assets', TOKEN_FILE), 'utf8')).trim();
  // Built aside and renamed: test binaries of several packages may ask for the same folder at once.
  const partial = `${name}.partial-${process.pid}`;
  await wrapEnvtestAssets({ realDir, workDir, nodePath, name, staging: partial, token, ...(realApiServer ? { realApiServer } : {}) });
  await rename(join(workDir, partial), join(workDir, name)).catch(async () => {
    await rm(join(workDir, partial), { recursive: true, force: true });
  });
  return join(workDir, name);
}


async function missingBinaries(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const name of ENVTEST_BINARIES) {
    const found = await stat(join(dir, name)).catch(() => undefined);
    if (!found?.isFile()) missing.push(name);
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Where the assets come from, for a hunt.

export interface EnvtestAssetsRequest {
  /** KUBEBUILDER_ASSETS as the user set it: used as it is, only wrapped. */
  given?: string;
  /** Builds etcd and kube-apiserver from Go modules (tools/build.sh): only when the release archives are unreachable. */
  localBinaries?: () => Promise<string>;
  /** The envtest release to download ("1.33", "1.33.2", "latest"); default: the one matching the suite's go.mod. */
  kubernetesVersion?: string;
  /** The test command's folder: its go.mod (or the nearest above) names the suite's Kubernetes version. */
  cwd: string;
  cacheDir: string;
  nodePath: string;
  holdMs?: number;
  log?: (line: string) => void;
  /** What a person should see before it starts: a download, or a build because the download is unreachable. */
  progress?: (line: string) => void;
  /** The release index, replaceable in tests. */
  indexUrl?: string;
}

export interface ProvidedEnvtestAssets extends WrappedAssets {
  /** Where the real binaries came from, for the log. */
  source: string;
  /** Removes the wrapped folder (and with it the token). */
  remove(): Promise<void>;
}

/**
 * KUBEBUILDER_ASSETS for the hunt, wrapped: the user's folder when set; else the release the user
 * asked for; else the envtest release that matches the suite's client-go, from the archives
 * setup-envtest uses (cached); and only when those are unreachable, kubeflake's own build.
 */
export async function provideEnvtestAssets(request: EnvtestAssetsRequest): Promise<ProvidedEnvtestAssets | undefined> {
  let realDir: string;
  let source: string;
  const goMod = await nearestGoMod(request.cwd);
  if (!request.given && !request.kubernetesVersion && goMod !== undefined && !goMod.includes('sigs.k8s.io/controller-runtime')) {
    return undefined; // a module without controller-runtime starts no envtest: nothing to download
  }
  if (request.given) {
    realDir = request.given;
    source = `KUBEBUILDER_ASSETS (${request.given})`;
  } else {
    const version = request.kubernetesVersion ?? (goMod === undefined ? undefined : kubernetesVersionOfGoMod(goMod)) ?? 'latest';
    let unreachable: ReleaseUnreachable | undefined;
    const release = await envtestReleaseAssets({
      version,
      cacheDir: request.cacheDir,
      ...(request.indexUrl ? { indexUrl: request.indexUrl } : {}),
      ...(request.log ? { log: request.log } : {}),
      ...(request.progress ? { progress: request.progress } : {}),
    }).catch((error: unknown) => {
      // A version the user asked for is not replaced by another one built here.
      if (!(error instanceof ReleaseUnreachable) || request.kubernetesVersion || !request.localBinaries) throw error;
      unreachable = error;
      return undefined;
    });
    if (release) {
      realDir = release.dir;
      source = `the envtest ${release.version} release${release.cached ? ' (cached)' : ''}`;
    } else {
      (request.progress ?? request.log)?.(`envtest: the release archives are unreachable (${unreachable?.reachFailure}): using etcd and kube-apiserver built from Go modules instead`);
      realDir = await request.localBinaries!();
      source = `kubeflake's build from Go modules (${realDir}), the release archives being unreachable`;
    }
  }
  const workDir = await mkdtemp(join(tmpdir(), 'kubeflake-envtest-'));
  try {
    const wrapped = await wrapEnvtestAssets({ realDir, workDir, nodePath: request.nodePath, ...(request.holdMs ? { holdMs: request.holdMs } : {}) });
    return { ...wrapped, source, remove: () => rm(workDir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** The text of the nearest go.mod at or above `dir`. */
async function nearestGoMod(dir: string): Promise<string | undefined> {
  for (let at = dir; ; at = dirname(at)) {
    const goMod = await readFile(join(at, 'go.mod'), 'utf8').catch(() => undefined);
    if (goMod !== undefined || dirname(at) === at) return goMod;
  }
}

// ---------------------------------------------------------------------------------------------
// Envtest release archives (what setup-envtest downloads), for runners without kubeflake's build.

export const ENVTEST_INDEX_URL = 'https://raw.githubusercontent.com/kubernetes-sigs/controller-tools/HEAD/envtest-releases.yaml';
/** The index is small: a network that has not answered in this long is offline for our purpose (a build follows). */
export const INDEX_TIMEOUT_MS = 8_000;
const ARCHIVE_TIMEOUT_MS = 300_000;

/** The release index or archive could not be reached at all (no network, DNS, timeout): the caller may build instead. */
export class ReleaseUnreachable extends Error {
  /** "raw.githubusercontent.com: ENOTFOUND": what failed, without the advice. */
  reachFailure: string;
  constructor(url: string, failure: string, options: { cause: unknown }) {
    super(`cannot reach ${url} (${failure}). Without network access, set KUBEBUILDER_ASSETS to a folder holding etcd and kube-apiserver`, options);
    this.reachFailure = `${new URL(url).host}: ${failure}`;
  }
}

/** The index setup-envtest reads: Kubernetes version -> archive name -> sha512 and URL. */
export interface EnvtestIndex {
  releases: Record<string, Record<string, { hash: string; selfLink: string }>>;
}

export interface EnvtestArchive {
  version: string;
  name: string;
  url: string;
  /** sha512, hex. */
  sha512: string;
}

/** "1.33" from a go.mod requiring k8s.io/client-go (or api, apimachinery) v0.33.x: the envtest that matches the suite. */
export function kubernetesVersionOfGoMod(goMod: string): string | undefined {
  for (const module of ['k8s.io/client-go', 'k8s.io/api', 'k8s.io/apimachinery']) {
    const escaped = module.replace(/[./]/g, (c) => `\\${c}`);
    const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v0\\.(\\d+)\\.\\d+`, 'm').exec(goMod);
    if (match) return `1.${match[1]}`;
  }
  return undefined;
}

function parseVersion(text: string): number[] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? -1)] : undefined;
}

/**
 * The archive for a wanted version ("1.33" picks the newest 1.33.x, "1.33.2" exactly that one,
 * "latest" the newest) on an os/arch, from the index. Throws naming what is available.
 */
export function pickEnvtestArchive(index: EnvtestIndex, wanted: string, os: string, arch: string): EnvtestArchive {
  const want = wanted === 'latest' ? undefined : parseVersion(wanted);
  if (wanted !== 'latest' && !want) throw new Error(`kubernetes-version "${wanted}" is not a version: use 1.33, 1.33.2 or latest`);
  const candidates: (EnvtestArchive & { parts: number[] })[] = [];
  for (const archives of Object.values(index.releases ?? {})) {
    for (const [name, archive] of Object.entries(archives ?? {})) {
      const match = /^envtest-v(\d+\.\d+\.\d+)-([a-z0-9]+)-([a-z0-9]+)\.tar\.gz$/.exec(name);
      if (!match || match[2] !== os || match[3] !== arch || !archive?.hash || !archive.selfLink) continue;
      const parts = parseVersion(match[1] as string) as number[];
      if (want && (parts[0] !== want[0] || parts[1] !== want[1] || (want[2] !== -1 && parts[2] !== want[2]))) continue;
      candidates.push({ version: match[1] as string, name, url: archive.selfLink, sha512: archive.hash.toLowerCase(), parts });
    }
  }
  candidates.sort((a, b) => b.parts[0]! - a.parts[0]! || b.parts[1]! - a.parts[1]! || b.parts[2]! - a.parts[2]!);
  const best = candidates[0];
  if (!best) {
    const known = Object.keys(index.releases ?? {}).sort().slice(-5).join(', ');
    throw new Error(`the envtest release index has no ${wanted} archive for ${os}/${arch} (newest releases: ${known || 'none'}): ` +
      'set kubernetes-version to one of them, or set KUBEBUILDER_ASSETS yourself');
  }
  const { parts: _parts, ...archive } = best;
  return archive;
}

/** Go's names for this machine, as the archive names use them. */
export function goPlatform(): { os: string; arch: string } {
  const arch = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' }[hostArch() as string] ?? hostArch();
  return { os: hostPlatform(), arch };
}

export interface ReleaseOptions {
  /** "1.33", "1.33.2" or "latest". */
  version: string;
  cacheDir: string;
  indexUrl?: string;
  os?: string;
  arch?: string;
  log?: (line: string) => void;
  /** Said before a download starts (a person waits for it). */
  progress?: (line: string) => void;
}

/**
 * The envtest binaries of a release, from the cache or downloaded, sha512-checked against the
 * index and unpacked. Returns the folder holding etcd, kube-apiserver and kubectl.
 */
export async function envtestReleaseAssets(options: ReleaseOptions): Promise<{ dir: string; version: string; cached: boolean }> {
  const { os, arch } = { ...goPlatform(), ...(options.os ? { os: options.os } : {}), ...(options.arch ? { arch: options.arch } : {}) };
  const log = options.log ?? (() => {});
  const exact = parseVersion(options.version);
  // An exact version already unpacked needs no network at all.
  if (exact && exact[2] !== -1) {
    const dir = join(options.cacheDir, 'envtest', `${exact.join('.')}-${os}-${arch}`);
    if (existsSync(join(dir, '.verified'))) return { dir, version: exact.join('.'), cached: true };
  }
  const indexUrl = options.indexUrl ?? ENVTEST_INDEX_URL;
  let indexText: string;
  try {
    indexText = await fetchText(indexUrl, INDEX_TIMEOUT_MS);
  } catch (error) {
    // Offline: a release of the wanted version unpacked earlier serves as well as a new download.
    const cached = error instanceof ReleaseUnreachable ? cachedRelease(options.cacheDir, options.version, os, arch) : undefined;
    if (!cached) throw error;
    log(`${(error as Error).message}; using the envtest ${cached.version} release cached earlier`);
    return cached;
  }
  // Every scalar a string: a hex hash of digits only must not turn into a number.
  const index = parseYaml(indexText, { schema: 'failsafe' }) as EnvtestIndex;
  if (!index || typeof index !== 'object' || !index.releases) throw new Error(`${indexUrl} is not an envtest release index (no "releases")`);
  const archive = pickEnvtestArchive(index, options.version, os, arch);
  const dir = join(options.cacheDir, 'envtest', `${archive.version}-${os}-${arch}`);
  if (existsSync(join(dir, '.verified'))) return { dir, version: archive.version, cached: true };

  (options.progress ?? log)(`downloading envtest ${archive.version} (${archive.name}, sha512-checked) from ${new URL(archive.url).host}`);
  await mkdir(join(options.cacheDir, 'envtest'), { recursive: true });
  const download = join(options.cacheDir, 'envtest', `.${archive.name}.${process.pid}`);
  const unpack = `${dir}.partial-${process.pid}`;
  try {
    await fetchToFile(archive.url, download, ARCHIVE_TIMEOUT_MS);
    const actual = await sha512File(download);
    if (actual !== archive.sha512) {
      throw new Error(`${archive.name} from ${archive.url} does not match the index's sha512 (expected ${archive.sha512.slice(0, 16)}..., got ${actual.slice(0, 16)}...): ` +
        'the download is corrupt or was tampered with; it was not used');
    }
    await rm(unpack, { recursive: true, force: true });
    await mkdir(unpack, { recursive: true });
    const untar = await runProcess(['tar', '-xzf', download, '-C', unpack], { capture: true });
    if (untar.exitCode !== 0) throw new Error(`cannot unpack ${archive.name}: ${untar.stderr.trim()}`);
    // The archives hold controller-tools/envtest/<binary>: flatten, as setup-envtest does.
    const flat = `${unpack}.flat`;
    await rm(flat, { recursive: true, force: true });
    await mkdir(flat, { recursive: true });
    for (const file of await listFiles(unpack)) {
      const name = basename(file);
      if ((ENVTEST_BINARIES as readonly string[]).includes(name) || (OPTIONAL_BINARIES as readonly string[]).includes(name)) {
        await rename(file, join(flat, name));
        await chmod(join(flat, name), 0o755);
      }
    }
    const missing = await missingBinaries(flat);
    if (missing.length > 0) throw new Error(`${archive.name} holds no ${missing.join(' or ')}: is ${archive.url} an envtest archive?`);
    await writeFile(join(flat, '.verified'), `${archive.name} sha512 ${archive.sha512}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(flat, dir);
  } finally {
    await rm(download, { force: true });
    await rm(unpack, { recursive: true, force: true });
    await rm(`${unpack}.flat`, { recursive: true, force: true });
  }
  return { dir, version: archive.version, cached: false };
}

/** The newest verified release in the cache that matches a wanted version ("1.33", "1.33.2", "latest"). */
function cachedRelease(cacheDir: string, wanted: string, os: string, arch: string): { dir: string; version: string; cached: true } | undefined {
  let names: string[];
  try {
    names = readdirSync(join(cacheDir, 'envtest'));
  } catch {
    return undefined;
  }
  const index: EnvtestIndex = { releases: {} };
  for (const name of names) {
    const match = /^(\d+\.\d+\.\d+)-([a-z0-9]+)-([a-z0-9]+)$/.exec(name);
    if (match && existsSync(join(cacheDir, 'envtest', name, '.verified'))) {
      index.releases[`v${match[1]}`] = { [`envtest-v${match[1]}-${match[2]}-${match[3]}.tar.gz`]: { hash: '-', selfLink: name } };
    }
  }
  try {
    const archive = pickEnvtestArchive(index, wanted, os, arch);
    return { dir: join(cacheDir, 'envtest', archive.url), version: archive.version, cached: true };
  } catch {
    return undefined;
  }
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const response = await fetchOk(url, timeoutMs);
  return response.text();
}

async function fetchOk(url: string, timeoutMs: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const failure = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ReleaseUnreachable(url, failure, { cause: error });
  }
  if (!response.ok) throw new Error(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

async function fetchToFile(url: string, file: string, timeoutMs: number): Promise<void> {
  const response = await fetchOk(url, timeoutMs);
  await writeFile(file, Buffer.from(await response.arrayBuffer()));
}

async function sha512File(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
