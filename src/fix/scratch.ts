// A scratch copy of the user's repository where a fix is applied, compiled and rerun: a detached
// git worktree at HEAD with the working tree's uncommitted changes applied, or, for a folder that
// is not a git repository, a copy made into one. The user's own tree is never written.

import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runProcess } from '../exec.ts';

export interface ScratchTree {
  /** The copy's root, standing for `root` of the user's tree. */
  dir: string;
  /** The same place in the copy as `path` in the user's tree. */
  mirror(path: string): string;
  /** Writes a file of the copy (a path of the user's tree). */
  write(path: string, content: string): Promise<void>;
  /** The copy's changes as a unified diff with repository-relative paths (`git apply` reads it). */
  diff(): Promise<string>;
  /** Puts back what `write` changed. */
  reset(): Promise<void>;
  remove(): Promise<void>;
}

const git = (dir: string, args: string[]) => runProcess(['git', '-C', dir, ...args], { capture: true, timeoutMs: 5 * 60_000, extraEnv: { GIT_TERMINAL_PROMPT: '0' } });

async function must(dir: string, args: string[], what: string): Promise<string> {
  const result = await git(dir, args);
  if (result.exitCode !== 0) throw new Error(`${what} failed (git ${args.join(' ')}): ${(result.stderr || result.stdout).trim().split('\n').slice(0, 3).join(' ')}`);
  return result.stdout;
}

/** The root of the git repository holding `dir`, or undefined when it is not in one. */
export async function gitRoot(dir: string): Promise<string | undefined> {
  const result = await git(dir, ['rev-parse', '--show-toplevel']);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Makes the scratch copy of the tree at `root` (a git repository's root, or a module folder). */
export async function scratchTree(root: string): Promise<ScratchTree> {
  const parent = await mkdtemp(join(tmpdir(), 'kubeflake-fix-'));
  const dir = join(parent, 'tree');
  const repository = await gitRoot(root);
  if (repository) {
    await must(repository, ['worktree', 'add', '--detach', dir, 'HEAD'], 'making a scratch worktree of the repository');
    // What ran was the working tree: its uncommitted changes go into the copy too.
    const changes = await must(repository, ['diff', 'HEAD', '--binary'], 'reading the uncommitted changes');
    if (changes.trim()) {
      await writeFile(join(parent, 'uncommitted.patch'), changes);
      await must(dir, ['apply', '--whitespace=nowarn', join(parent, 'uncommitted.patch')], 'applying the uncommitted changes to the scratch worktree');
      await must(dir, ['add', '-A'], 'staging the uncommitted changes in the scratch worktree');
    }
  } else {
    await cp(root, dir, { recursive: true, filter: (source) => !source.split(/[\\/]/).includes('.git') });
    await must(dir, ['init', '-q'], 'making the scratch copy a git repository');
    await must(dir, ['add', '-A'], 'staging the scratch copy');
  }
  const base = repository ?? root;
  return {
    dir,
    mirror: (path) => join(dir, relative(base, path)),
    write: (path, content) => writeFile(join(dir, relative(base, path)), content),
    // Against the index: the staged state is the user's tree, the unstaged changes are the fix.
    diff: () => must(dir, ['diff', '--no-color', '--no-ext-diff'], 'reading the fix as a diff'),
    reset: async () => {
      await must(dir, ['checkout', '--', '.'], 'putting the scratch copy back');
    },
    remove: async () => {
      if (repository) await git(repository, ['worktree', 'remove', '--force', dir]);
      await rm(parent, { recursive: true, force: true });
      if (repository) await git(repository, ['worktree', 'prune']);
    },
  };
}

/** `go vet` of the package folder (in the copy): whether the patched package compiles and vets clean. */
export async function vetPackage(packageDir: string, env: Record<string, string> = {}): Promise<{ ok: boolean; output: string }> {
  const result = await runProcess(['go', 'vet', '.'], { cwd: packageDir, capture: true, timeoutMs: 10 * 60_000, extraEnv: env });
  return { ok: result.exitCode === 0, output: `${result.stdout}${result.stderr}`.trim() };
}
