// The real kind CLI for tests, at the version kubeflake pins, built from the Go module proxy
// (`go install sigs.k8s.io/kind@<version>`) into ~/.cache/kubeflake/bin/kind-<version>, once a
// machine. And a stand-in `docker` the real kind talks to, since no Docker engine runs here.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { pinnedKind } from '../../src/cluster/kind-install.ts';

let installed: Promise<string> | undefined;

/** Path of the real kind binary at the pinned version, installed if missing. */
export function realKind(): Promise<string> {
  installed ??= (async () => {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubeflake', 'bin');
    const binary = join(dir, `kind-${pinnedKind.version}`);
    if (existsSync(binary)) return binary;
    const gobin = mkdtempSync(join(tmpdir(), 'kf-kind-gobin-'));
    const result = await runProcess(['go', 'install', '-trimpath', `sigs.k8s.io/kind@${pinnedKind.version}`], {
      capture: true,
      extraEnv: { GOBIN: gobin },
      cwd: tmpdir(),
    });
    if (result.exitCode !== 0) throw new Error(`go install sigs.k8s.io/kind@${pinnedKind.version} failed: ${result.stderr.trim()}`);
    mkdirSync(dir, { recursive: true });
    renameSync(join(gobin, 'kind'), binary);
    return binary;
  })();
  return installed;
}

export interface FakeDocker {
  /** A folder with only `docker` in it, for PATH. */
  binDir: string;
  /** The docker command lines kind ran, in order. */
  calls(): string[];
}

/**
 * A `docker` that answers `docker info` like a healthy engine and lists no containers; `pull`
 * either fails like a registry without the tag, or hangs (a stuck pull) with `hangOnPull`.
 */
export function fakeDocker(options: { hangOnPull?: boolean } = {}): FakeDocker {
  const binDir = mkdtempSync(join(tmpdir(), 'kf-fake-docker-'));
  const log = join(binDir, 'calls.log');
  writeFileSync(log, '');
  const info = JSON.stringify({ CgroupDriver: 'systemd', CgroupVersion: '2', MemoryLimit: true, PidsLimit: true, CPUShares: true, SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'] });
  writeFileSync(join(binDir, 'docker'), `#!/bin/sh
echo "docker $*" >> '${log}'
case "$1" in
  -v) echo "Docker version 28.2.2, build e6534b4";;
  info) echo '${info}';;
  ps) exit 0;;
  inspect) echo "Error: No such image: $4" >&2; exit 1;;
  pull) ${options.hangOnPull ? 'exec sleep 600' : 'echo "Error response from daemon: manifest for $2 not found: manifest unknown: manifest unknown" >&2; exit 1'};;
  *) echo "fake docker: unexpected: $*" >&2; exit 1;;
esac
`);
  chmodSync(join(binDir, 'docker'), 0o755);
  return { binDir, calls: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}
