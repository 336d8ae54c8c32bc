// The envtest release archives (what setup-envtest downloads), for runners without kubeflake's
// own control-plane build: the release index, the archive for a version and platform, the
// download checked against the index's sha512, unpacked into kubeflake's cache.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch as hostArch, platform as hostPlatform } from 'node:os';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runProcess } from '../exec.ts';

/** The binaries envtest starts; kubectl is optional (only envtest's kubectl helper needs it). */
export const ENVTEST_BINARIES = ['etcd', 'kube-apiserver'] as const;
export const OPTIONAL_BINARIES = ['kubectl'] as const;

/** The envtest binaries missing from a folder. */
export async function missingBinaries(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const name of ENVTEST_BINARIES) {
    const found = await stat(join(dir, name)).catch(() => undefined);
    if (!found?.isFile()) missing.push(name);
  }
  return missing;
}

export const ENVTEST_INDEX_URL = 'https://raw.githubusercontent.com/kubernetes-sigs/controller-tools/HEAD/envtest-releases.yaml';

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
  // Every scalar a string: a hex hash of digits only must not turn into a number.
  const index = parseYaml(await fetchText(indexUrl), { schema: 'failsafe' }) as EnvtestIndex;
  if (!index || typeof index !== 'object' || !index.releases) throw new Error(`${indexUrl} is not an envtest release index (no "releases")`);
  const archive = pickEnvtestArchive(index, options.version, os, arch);
  const dir = join(options.cacheDir, 'envtest', `${archive.version}-${os}-${arch}`);
  if (existsSync(join(dir, '.verified'))) return { dir, version: archive.version, cached: true };

  log(`downloading envtest ${archive.version} (${archive.name})`);
  await mkdir(join(options.cacheDir, 'envtest'), { recursive: true });
  const download = join(options.cacheDir, 'envtest', `.${archive.name}.${process.pid}`);
  const unpack = `${dir}.partial-${process.pid}`;
  try {
    await fetchToFile(archive.url, download);
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

async function fetchText(url: string): Promise<string> {
  const response = await fetchOk(url);
  return response.text();
}

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    throw new Error(`cannot download ${url}: ${(error as Error).message}. Without network access, set KUBEBUILDER_ASSETS to a folder holding etcd and kube-apiserver`, { cause: error });
  }
  if (!response.ok) throw new Error(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

async function fetchToFile(url: string, file: string): Promise<void> {
  const response = await fetchOk(url);
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
