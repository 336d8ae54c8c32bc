// The specs a change adds or changes, found in the repository: the diff against the merge base
// of `since` (a pull request's base), its hunks mapped through Go's own parser (tools/gosource)
// to the specs the hunt has seen. The git and Go work happens here; the mapping is changed/specs.ts.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { runProcess } from '../exec.ts';
import type { TestCase } from '../model.ts';
import { importPathOf, modulePathOf } from '../frameworks/go-exec.ts';
import { parseUnifiedDiff } from './diff.ts';
import { goSourceTool, readGoSource } from './gosource.ts';
import { changedSpecs, specKeys, type ChangedSpec } from './specs.ts';

export interface FoundChange {
  /** The commit the diff was taken against. */
  base: string;
  specs: ChangedSpec[];
  notes: string[];
}

/** Finds the specs changed since `since` among `tests`. Throws with what to do when git cannot say. */
export async function findChangedSpecs(options: {
  since: string;
  cwd: string;
  tests: readonly TestCase[];
  projectRoot: string;
  cacheDir: string;
  log?: (line: string) => void;
}): Promise<FoundChange> {
  const notes: string[] = [];
  const root = (await git(['rev-parse', '--show-toplevel'], options.cwd)).trim();
  const base = await mergeBase(root, options.since, notes, options.log);
  const diff = await git(['diff', '--unified=0', '--no-color', '--no-ext-diff', '--no-renames', base, '--', '*.go'], root);
  const changed = parseUnifiedDiff(diff).map((file) => ({ ...file, path: join(root, file.path) })).filter((file) => existsSync(file.path));
  if (changed.length === 0) return { base, specs: [], notes };
  const tool = await goSourceTool({ projectRoot: options.projectRoot, cacheDir: options.cacheDir, log: options.log });
  const packages = [...new Set(changed.map((file) => dirname(file.path)))];
  const sources = await readGoSource(tool, packages);
  const baseKeys = await keysAtBase(tool, root, base, changed.filter((file) => !file.added).map((file) => file.path));
  const importPaths = new Map(packages.flatMap((dir) => {
    const path = importPathOfDir(dir);
    return path ? [[dir, path] as const] : [];
  }));
  return { base, specs: changedSpecs({ sources, changed, baseKeys, tests: options.tests, importPaths }), notes };
}

/** The merge base of `since` and HEAD; the commit is fetched first when a shallow checkout lacks it. */
async function mergeBase(root: string, since: string, notes: string[], log?: (line: string) => void): Promise<string> {
  const local = await runProcess(['git', 'merge-base', since, 'HEAD'], { cwd: root, capture: true });
  if (local.exitCode === 0) return local.stdout.trim();
  log?.(`git merge-base ${since} HEAD failed (${local.stderr.trim()}): fetching ${since} from origin`);
  const fetched = await runProcess(['git', 'fetch', '--no-tags', '--quiet', 'origin', since], { cwd: root, capture: true, timeoutMs: 5 * 60_000 });
  if (fetched.exitCode === 0) {
    const again = await runProcess(['git', 'merge-base', 'FETCH_HEAD', 'HEAD'], { cwd: root, capture: true });
    if (again.exitCode === 0) return again.stdout.trim();
    // A shallow history has the base commit now but not the fork point: diff against the base itself.
    notes.push(`the history is too shallow for the merge base of ${since}: the diff is against ${since} itself (checkout with fetch-depth: 0 to fix)`);
    return (await git(['rev-parse', 'FETCH_HEAD'], root)).trim();
  }
  throw new Error(`cannot find ${since} in the repository at ${root}, nor fetch it from origin (${fetched.stderr.trim() || local.stderr.trim()}): check out with the history (actions/checkout with fetch-depth: 0), or give changed-since a ref that exists`);
}

/** The spec keys each file had at the base, read by the same parser from `git show base:path`. */
async function keysAtBase(tool: string, root: string, base: string, files: readonly string[]): Promise<Map<string, Set<string>>> {
  const keys = new Map<string, Set<string>>();
  if (files.length === 0) return keys;
  const scratch = await mkdtemp(join(tmpdir(), 'kubeflake-base-'));
  try {
    const copies = new Map<string, string>();
    for (const [index, file] of files.entries()) {
      const shown = await runProcess(['git', 'show', `${base}:${relative(root, file)}`], { cwd: root, capture: true });
      if (shown.exitCode !== 0) continue;
      // One folder each: files of the same name in different packages never collide.
      const copy = join(scratch, String(index), file.slice(file.lastIndexOf('/') + 1));
      await mkdir(dirname(copy), { recursive: true });
      await writeFile(copy, shown.stdout);
      copies.set(copy, file);
    }
    for (const parsed of await readGoSource(tool, [...copies.keys()])) {
      const original = copies.get(resolve(parsed.file));
      if (original) keys.set(original, specKeys(parsed));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return keys;
}

/** A package folder's import path from the nearest go.mod above it. */
function importPathOfDir(dir: string): string | undefined {
  for (let moduleDir = dir; ; moduleDir = dirname(moduleDir)) {
    const goMod = join(moduleDir, 'go.mod');
    if (existsSync(goMod)) {
      const modulePath = modulePathOf(readFileSync(goMod, 'utf8'));
      return modulePath ? importPathOf(modulePath, moduleDir, dir) : undefined;
    }
    if (dirname(moduleDir) === moduleDir) return undefined;
  }
}

async function git(args: string[], cwd: string): Promise<string> {
  const result = await runProcess(['git', ...args], { cwd, capture: true, timeoutMs: 2 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${result.stderr.trim()}`);
  return result.stdout;
}
