// The gosource helper (tools/gosource): a small Go program, built with the user's own Go
// toolchain the first time it is needed and cached by the hash of its source, that prints the
// structure of Go files as JSON (functions, Ginkgo nodes, helper calls). Go's parser reads Go;
// kubeflake never reads Go source with patterns.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess } from '../exec.ts';
import type { GoSourceFile } from './specs.ts';

/** The helper's source files: their hash names the cached binary. */
const sourceFiles = ['go.mod', 'main.go', 'fix.go', 'sharedvar.go'] as const;

/** The helper's binary in the cache, built first when missing. */
export async function goSourceTool(options: { projectRoot: string; cacheDir: string; log?: (line: string) => void }): Promise<string> {
  const dir = join(options.projectRoot, 'tools', 'gosource');
  const hash = createHash('sha256');
  for (const name of sourceFiles) hash.update(`${name}\n`).update(await readFile(join(dir, name)));
  const binary = join(options.cacheDir, 'bin', `gosource-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  await mkdir(join(options.cacheDir, 'bin'), { recursive: true });
  // Built under a unique name and renamed: two hunts building at once never run half a binary.
  const partial = `${binary}.${process.pid}.partial`;
  options.log?.(`building the Go source reader (tools/gosource) into ${binary}`);
  // Only the standard library: no module download, whatever the user's GOFLAGS or workspace say.
  const built = await runProcess(['go', 'build', '-o', partial, '.'], {
    cwd: dir,
    capture: true,
    timeoutMs: 5 * 60_000,
    extraEnv: { GOFLAGS: '', GOWORK: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
  });
  if (built.exitCode !== 0) {
    await rm(partial, { force: true });
    throw new Error(`building tools/gosource with \`go build\` failed (is Go installed and on PATH?): ${(built.stderr || built.stdout).trim().split('\n').slice(0, 5).join(' ')}`);
  }
  await rename(partial, binary);
  return binary;
}

/** Reads Go files or package folders (a folder is one package: its helpers are found across its files). */
export async function readGoSource(tool: string, paths: readonly string[]): Promise<GoSourceFile[]> {
  if (paths.length === 0) return [];
  const result = await runProcess([tool, ...paths], { capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`the Go source reader failed on ${paths.join(', ')}: ${result.stderr.trim()}`);
  return (JSON.parse(result.stdout) as { files: GoSourceFile[] }).files;
}
