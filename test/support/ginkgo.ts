// The ginkgo CLI for the runner's integration tests, built from the fixture module so it
// matches the library version there: ~/.cache/kubeflake/bin/ginkgo-<version>, built once per
// machine (CI starts fresh; only the Go module cache may be warm). A folder holding a `ginkgo`
// link to it goes first on PATH, so tests run `ginkgo` exactly as a user types it.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { fixtures } from './paths.ts';

export const runnerFixture = join(fixtures, 'runner');

export interface GinkgoCli {
  version: string;
  /** The built binary. */
  binary: string;
  /** A folder with `ginkgo` in it, for PATH. */
  binDir: string;
  /** Env with binDir first on PATH. */
  env: Record<string, string>;
}

let built: Promise<GinkgoCli> | undefined;

/** The ginkgo CLI, built if missing. */
export function ginkgoCli(): Promise<GinkgoCli> {
  built ??= buildGinkgo();
  return built;
}

async function buildGinkgo(): Promise<GinkgoCli> {
  const goMod = readFileSync(join(runnerFixture, 'go.mod'), 'utf8');
  const version = /github\.com\/onsi\/ginkgo\/v2 (v\S+)/.exec(goMod)?.[1];
  if (!version) throw new Error(`${join(runnerFixture, 'go.mod')} does not require github.com/onsi/ginkgo/v2`);
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubeflake', 'bin');
  const binary = join(cache, `ginkgo-${version}`);
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    // Built under a unique name and renamed: two test files building at once never see half a binary.
    const partial = `${binary}.${process.pid}.partial`;
    const result = await runProcess(['go', 'build', '-o', partial, 'github.com/onsi/ginkgo/v2/ginkgo'], {
      cwd: runnerFixture,
      capture: true,
      timeoutMs: 10 * 60_000,
    });
    if (result.exitCode !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`building the ginkgo CLI ${version} failed (go build in ${runnerFixture}):\n${result.stderr}`);
    }
    renameSync(partial, binary);
  }
  const binDir = `${binary}.d`;
  const link = join(binDir, 'ginkgo');
  if (!existsSync(link)) {
    mkdirSync(binDir, { recursive: true });
    try {
      symlinkSync(binary, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return { version, binary, binDir, env: { PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` } };
}
