// The scratch copy a fix is proven in: a git worktree of the user's repository at HEAD with its
// uncommitted changes, whose diff after a write is the patch `git apply` takes in the user's tree;
// the user's tree is never written, and the worktree is gone after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { scratchTree } from '../../src/fix/scratch.ts';
import { applyPatch } from '../../src/fix/kept.ts';

async function git(dir: string, ...args: string[]): Promise<string> {
  const result = await runProcess(['git', '-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { capture: true });
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

test('a git repository: the copy holds the uncommitted change, the diff is repository-relative and applies to the user\'s tree, the worktree is removed', async () => {
  const repo = await mkdtemp(join(tmpdir(), 'kubeflake-fix-repo-'));
  try {
    await git(repo, 'init', '-q');
    await mkdir(join(repo, 'pkg'));
    await writeFile(join(repo, 'pkg', 'a_test.go'), 'package pkg\n\nfunc a() {}\n');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'base');
    // Uncommitted: what ran was the working tree.
    await writeFile(join(repo, 'pkg', 'a_test.go'), 'package pkg\n\nfunc a() { b() }\n\nfunc b() {}\n');

    const scratch = await scratchTree(repo);
    let dir = '';
    try {
      dir = scratch.dir;
      assert.equal(await readFile(scratch.mirror(join(repo, 'pkg', 'a_test.go')), 'utf8'), 'package pkg\n\nfunc a() { b() }\n\nfunc b() {}\n');
      assert.equal(await scratch.diff(), '');
      await scratch.write(join(repo, 'pkg', 'a_test.go'), 'package pkg\n\nfunc a() { b(); b() }\n\nfunc b() {}\n');
      const patch = await scratch.diff();
      assert.match(patch, /^--- a\/pkg\/a_test\.go$/m);
      assert.match(patch, /^\+func a\(\) \{ b\(\); b\(\) \}$/m);
      // The user's tree is as it was until the patch is applied there.
      assert.equal(await readFile(join(repo, 'pkg', 'a_test.go'), 'utf8'), 'package pkg\n\nfunc a() { b() }\n\nfunc b() {}\n');
      await writeFile(join(repo, 'fix.patch'), patch);
      await applyPatch(join(repo, 'fix.patch'), repo);
      assert.equal(await readFile(join(repo, 'pkg', 'a_test.go'), 'utf8'), 'package pkg\n\nfunc a() { b(); b() }\n\nfunc b() {}\n');
      await assert.rejects(applyPatch(join(repo, 'fix.patch'), repo), /git apply .* failed .* was the fix applied already\?/s);
    } finally {
      await scratch.remove();
    }
    assert.equal(existsSync(dir), false);
    assert.equal((await git(repo, 'worktree', 'list')).trim().split('\n').length, 1, 'only the repository\'s own tree is left');
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
});

test('a folder that is no git repository is copied; its diff is relative to the folder', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'kubeflake-fix-folder-'));
  try {
    await writeFile(join(folder, 'go.mod'), 'module x\n');
    await writeFile(join(folder, 'x_test.go'), 'package x\n');
    const scratch = await scratchTree(folder);
    try {
      await scratch.write(join(folder, 'x_test.go'), 'package x\n\nvar y = 1\n');
      assert.match(await scratch.diff(), /^\+\+\+ b\/x_test\.go$/m);
      assert.equal(await readFile(join(folder, 'x_test.go'), 'utf8'), 'package x\n');
      assert.equal(existsSync(join(folder, '.git')), false);
    } finally {
      await scratch.remove();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
