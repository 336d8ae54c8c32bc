// KUBEBUILDER_ASSETS for suites that start their own envtest control plane: where the binaries
// come from (the user's folder, kubeflake's own build, or the envtest release archives that
// setup-envtest uses: release.ts), and the wrapped folder kubeflake hands the suite instead,
// whose kube-apiserver is a launcher of the shim program (kube-apiserver-shim.ts) that lets
// kubeflake watch that control plane.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellWord } from '../frameworks/patterns.ts';
import { AUDIT_POLICY } from '../record/policy.ts';
import type { ShimConfig } from './kube-apiserver-shim.ts';
import { envtestReleaseAssets, kubernetesVersionOfGoMod, missingBinaries, ReleaseUnreachable, ENVTEST_BINARIES, OPTIONAL_BINARIES } from './release.ts';

/** The environment variable through which shims find the folder kubeflake reads them from. */
export const INSTANCES_ENV = 'KUBEFLAKE_ENVTEST_DIR';
/** Overrides the shutdown hold bound for one run (milliseconds). */
export const HOLD_ENV = 'KUBEFLAKE_ENVTEST_HOLD_MS';
/** `record` for a probe: the shim keeps only the API server's record (no gate, no hold; see the shim). */
export const OBSERVATION_ENV = 'KUBEFLAKE_ENVTEST_OBSERVATION';
/** The shim stops the real server at most this long after envtest asked: envtest waits 20 s, then kills. */
export const DEFAULT_HOLD_MS = 5_000;
const REAL_STOP_MS = 10_000;
/** envtest waits 20 s for a new server to answer; the shim keeps its port closed for kubeflake's baseline at most this long. */
const START_HOLD_MS = 12_000;

/** The shim's config in a wrapped folder; its presence marks a folder kubeflake already wrapped. */
export const SHIM_CONFIG = 'kube-apiserver.kubeflake.json';
const TOKEN_FILE = '.kubeflake-token';
const AUDIT_POLICY_FILE = 'audit-policy.yaml';

/**
 * The shim program: the TypeScript source next to this file when kubeflake runs from source, the
 * compiled file when it runs from lib/, the bundle's own copy when it runs from dist/ (the main
 * bundle, or the go test shim's bundle beside it).
 */
export function kubeApiServerShimEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'kube-apiserver-shim.ts'),
    join(here, 'kube-apiserver-shim.js'),
    join(here, 'kube-apiserver-shim', 'index.js'),
    join(here, '..', 'kube-apiserver-shim', 'index.js'),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`kubeflake's kube-apiserver shim is missing (looked for ${candidates.join(', ')}): the installation is incomplete; reinstall kubeflake`);
  return found;
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
  /** The shim program the launcher runs; default: kubeflake's own (kubeApiServerShimEntry). */
  shimEntry?: string;
  /** Whether the real servers write the audit record (default true; the bench measures without). */
  record?: boolean;
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
    observationEnv: OBSERVATION_ENV,
    holdMs: options.holdMs ?? DEFAULT_HOLD_MS,
    realStopMs: REAL_STOP_MS,
    startHoldMs: START_HOLD_MS,
  };
  if (options.record ?? true) {
    await writeFile(join(build, AUDIT_POLICY_FILE), AUDIT_POLICY, { mode: 0o600 });
    config.auditPolicyFile = join(dir, AUDIT_POLICY_FILE);
  }
  await writeFile(join(build, SHIM_CONFIG), JSON.stringify(config) + '\n', { mode: 0o600 });
  const launcher = `#!/bin/sh\nexec ${shellWord(options.nodePath)} ${shellWord(options.shimEntry ?? kubeApiServerShimEntry())} ${shellWord(join(dir, SHIM_CONFIG))} "$@"\n`;
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
  if (assets && !existsSync(join(assets, SHIM_CONFIG))) out.KUBEBUILDER_ASSETS = await wrappedFor(instancesDir, nodePath, assets);
  // envtest prefers TEST_ASSET_KUBE_APISERVER to KUBEBUILDER_ASSETS: wrap that binary too.
  const apiServer = env.TEST_ASSET_KUBE_APISERVER;
  if (apiServer && !existsSync(join(dirname(apiServer), SHIM_CONFIG))) {
    out.TEST_ASSET_KUBE_APISERVER = join(await wrappedFor(instancesDir, nodePath, dirname(apiServer), apiServer), 'kube-apiserver');
  }
  return out;
}

/** The hunt's wrapped folder for a real one (made once, shared by every binary that asks). */
async function wrappedFor(instancesDir: string, nodePath: string, realDir: string, realApiServer?: string): Promise<string> {
  const workDir = dirname(instancesDir);
  const name = `assets-${createHash('sha256').update(realApiServer ?? realDir).digest('hex').slice(0, 12)}`;
  if (existsSync(join(workDir, name, SHIM_CONFIG))) return join(workDir, name);
  const token = (await readFile(join(workDir, 'assets', TOKEN_FILE), 'utf8')).trim();
  // Built aside and renamed: test binaries of several packages may ask for the same folder at once.
  const partial = `${name}.partial-${process.pid}`;
  // The hunt's own folder says whether its servers record.
  const record = existsSync(join(workDir, 'assets', AUDIT_POLICY_FILE));
  await wrapEnvtestAssets({ realDir, workDir, nodePath, name, staging: partial, token, record, ...(realApiServer ? { realApiServer } : {}) });
  await rename(join(workDir, partial), join(workDir, name)).catch(async () => {
    await rm(join(workDir, partial), { recursive: true, force: true });
  });
  return join(workDir, name);
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
  /** Whether envtest's servers write the audit record (default true). */
  record?: boolean;
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
    const wrapped = await wrapEnvtestAssets({ realDir, workDir, nodePath: request.nodePath, ...(request.holdMs ? { holdMs: request.holdMs } : {}), ...(request.record === false ? { record: false } : {}) });
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
