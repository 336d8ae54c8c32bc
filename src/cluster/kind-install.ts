// Where the kind CLI comes from: the one on PATH, else a pinned release downloaded once into the
// cache and checked against the checksum its release published, so a runner never executes a
// binary nobody vouched for.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { downloadTool } from '@actions/tool-cache';

export interface KindRelease {
  version: string;
  /** sha256 of each published binary, keyed "os-arch" as in its file name (kind-linux-amd64). */
  sha256: Record<string, string>;
}

/**
 * kind v0.30.0, the sha256 values of its release binaries as published in the release's
 * kind-<os>-<arch>.sha256sum files (cross-checked in several independent pinning projects).
 */
export const pinnedKind: KindRelease = {
  version: 'v0.30.0',
  sha256: {
    'linux-amd64': '517ab7fc89ddeed5fa65abf71530d90648d9638ef0c4cde22c2c11f8097b8889',
    'linux-arm64': '7ea2de9d2d190022ed4a8a4e3ac0636c8a455e460b9a13ccf19f15d07f4f00eb',
    'darwin-amd64': '4f0b6e3b88bdc66d922c08469f05ef507d4903dd236e6319199bb9c868eed274',
    'darwin-arm64': 'ceaf40df1d1551c481fb50e3deb5c3deecad5fd599df5469626b70ddf52a1518',
  },
};

const releaseBase = 'https://github.com/kubernetes-sigs/kind/releases/download';

/** "linux-amd64" from Node's platform and arch names; undefined where kind publishes no binary. */
export function kindPlatform(platform: string, arch: string): string | undefined {
  const os = platform === 'linux' || platform === 'darwin' ? platform : undefined;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
  return os && cpu ? `${os}-${cpu}` : undefined;
}

/** The download URL and expected checksum of a release's binary for a platform. */
export function kindAsset(release: KindRelease, platform: string, base = releaseBase): { url: string; sha256: string } {
  const sha256 = release.sha256[platform];
  if (!sha256) {
    throw new Error(`kind ${release.version} publishes no pinned binary for ${platform}: install kind yourself and put it on PATH ` +
      `(https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`);
  }
  return { url: `${base}/${release.version}/kind-${platform}`, sha256 };
}

/** The first executable named kind in a PATH string. */
export function kindOnPath(path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'kind');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface KindInstallOptions {
  /** PATH to search first (the settings' view of it; nothing here reads the environment). */
  path?: string;
  /** Downloads are cached under <cacheDir>/kind/<version>/. */
  cacheDir: string;
  release?: KindRelease;
  /** "linux-amd64"...; defaults to this machine's. */
  platform?: string;
  /** Where releases are downloaded from (a local server in tests). */
  baseUrl?: string;
  log?: (line: string) => void;
}

/** The kind executable to use: on PATH, cached from an earlier download, or downloaded now. */
export async function ensureKind(options: KindInstallOptions): Promise<{ path: string; source: 'path' | 'cache' | 'download' }> {
  const onPath = kindOnPath(options.path);
  if (onPath) return { path: onPath, source: 'path' };
  const release = options.release ?? pinnedKind;
  const platform = options.platform ?? kindPlatform(process.platform, process.arch) ?? `${process.platform}-${process.arch}`;
  const asset = kindAsset(release, platform, options.baseUrl);
  const dir = join(options.cacheDir, 'kind', release.version);
  const binary = join(dir, 'kind');
  if (existsSync(binary)) return { path: binary, source: 'cache' };

  await mkdir(dir, { recursive: true });
  const partial = join(dir, `kind-${platform}.download`);
  options.log?.(`kind is not on PATH: downloading kind ${release.version} (${platform}) from ${asset.url}`);
  try {
    await downloadTool(asset.url, partial);
  } catch (error) {
    await rm(partial, { force: true });
    throw new Error(`could not download kind ${release.version} from ${asset.url}: ${(error as Error).message}. ` +
      `Install kind yourself and put it on PATH, or use cluster: local`, { cause: error });
  }
  const actual = await sha256Of(partial);
  if (actual !== asset.sha256) {
    await rm(partial, { force: true });
    throw new Error(`the kind binary downloaded from ${asset.url} has sha256 ${actual}, but kind ${release.version} published ` +
      `${asset.sha256}: refusing to run it. A proxy or mirror may have changed it; install kind yourself and put it on PATH`);
  }
  await chmod(partial, 0o755);
  await rename(partial, binary);
  options.log?.(`kind ${release.version} installed in ${dir} (sha256 verified)`);
  return { path: binary, source: 'download' };
}

export function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex')));
  });
}
