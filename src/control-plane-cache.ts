// Action face only: the local control plane's binaries (10 to 30 minutes of Go compiling) are
// restored from the Actions cache before the hunt and saved after it, keyed by the versions
// tools/build.sh builds and the runner's platform. A cache service that is down costs a
// rebuild and a warning, never the hunt.

import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { controlPlaneDir } from './cluster/local.ts';
import type { Settings } from './settings.ts';

export interface ControlPlaneCache {
  dir: string;
  key: string;
  /** The restore found exactly this key: nothing to save afterwards. */
  hit: boolean;
}

/** The cache key of a binaries folder: its name carries the etcd and Kubernetes versions. */
export function controlPlaneCacheKey(dir: string, platform: string, arch: string): string {
  return `kubeflake-control-plane-${basename(dir)}-${platform}-${arch}`;
}

export async function restoreControlPlane(settings: Settings): Promise<ControlPlaneCache | undefined> {
  if (settings.cluster !== 'local' || !cache.isFeatureAvailable()) return undefined;
  let entry: ControlPlaneCache | undefined;
  try {
    const dir = await controlPlaneDir(join(settings.projectRoot, 'tools', 'build.sh'), settings.cacheDir);
    entry = { dir, key: controlPlaneCacheKey(dir, process.platform, process.arch), hit: false };
    const restored = await cache.restoreCache([dir], entry.key);
    core.info(restored ? `control-plane binaries restored from the Actions cache (${entry.key})` : `no cached control-plane binaries for ${entry.key}: building them once`);
    entry.hit = restored === entry.key;
  } catch (error) {
    core.warning(`could not restore the control-plane binaries from the Actions cache: ${(error as Error).message}; building them instead`);
  }
  return entry;
}

export async function saveControlPlane(entry: ControlPlaneCache | undefined): Promise<void> {
  if (!entry || entry.hit) return;
  // etcd and kube-apiserver may have come from the envtest release: the build is kube-controller-manager.
  if (!existsSync(join(entry.dir, 'kube-controller-manager'))) return;
  try {
    // saveCache reports most failures (a key another job reserved first) by returning -1.
    const id = await cache.saveCache([entry.dir], entry.key);
    if (id === -1) core.info(`control-plane binaries not saved to the Actions cache (${entry.key}); see the message above`);
    else core.info(`control-plane binaries saved to the Actions cache (${entry.key}): later workflow runs skip the build`);
  } catch (error) {
    // Another job of the same workflow may have saved the same key first: that is fine.
    core.info(`control-plane binaries not saved to the Actions cache: ${(error as Error).message}`);
  }
}
