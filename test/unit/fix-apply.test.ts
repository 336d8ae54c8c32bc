// `kubeflake fix --apply` applies every kept patch: fixes proven one at a time, two of them in
// one file each add the same import, so the second applies without its import hunk; a patch
// applied already is still refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { applyPatch, patchHunks } from '../../src/fix/kept.ts';

const BASE = `package controller

import (
\t"time"

\t"sigs.k8s.io/controller-runtime/pkg/client"
)

func evictIris() {
\tdeleteIt("iris2")
}

func evictWhisper() {
\tdeleteIt("whisper")
}
`;

const withImport = (source: string) => source.replace('\t"sigs.k8s.io', '\tapierrors "k8s.io/apimachinery/pkg/api/errors"\n\t"sigs.k8s.io');
const waitFor = (source: string, name: string) => source.replace(`\tdeleteIt("${name}")\n`, `\tdeleteIt("${name}")\n\twaitGone("${name}")\n`);

async function git(dir: string, ...args: string[]): Promise<string> {
  const result = await runProcess(['git', '-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { capture: true });
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

/** The patch that turns BASE into `after`, as a fix's scratch copy writes it. */
async function patchOf(repo: string, after: string, name: string): Promise<string> {
  await writeFile(join(repo, 'a_test.go'), after);
  const file = join(repo, '..', `${name}.patch`);
  await writeFile(file, await git(repo, 'diff', '--no-color'));
  await git(repo, 'checkout', '--', '.');
  return file;
}

/** A git repository holding BASE as a_test.go, committed, removed after `use`. */
async function withBaseRepo(use: (repo: string) => Promise<void>): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'kubeflake-fix-apply-'));
  const repo = join(parent, 'repo');
  try {
    await mkdir(repo);
    await git(repo, 'init', '-q');
    await writeFile(join(repo, 'a_test.go'), BASE);
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'base');
    await use(repo);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

test('two proven patches of one file that each add the same import both apply: the import once, both waits', () =>
  withBaseRepo(async (repo) => {
    const iris = await patchOf(repo, waitFor(withImport(BASE), 'iris2'), 'iris');
    const whisper = await patchOf(repo, waitFor(withImport(BASE), 'whisper'), 'whisper');
    assert.equal(patchHunks(await readFile(whisper, 'utf8')).length, 2, 'the import and the wait');

    await applyPatch(iris, repo);
    await applyPatch(whisper, repo);
    assert.equal(await readFile(join(repo, 'a_test.go'), 'utf8'), waitFor(waitFor(withImport(BASE), 'iris2'), 'whisper'));

    // Applied already, every hunk of it: refused, and the tree is as it was.
    const before = await readFile(join(repo, 'a_test.go'), 'utf8');
    await assert.rejects(applyPatch(whisper, repo), /every change of it is in the tree already \(2 of 2\).*was the fix applied already\?/s);
    assert.equal(await readFile(join(repo, 'a_test.go'), 'utf8'), before);
  }));

test('a patch that applies nowhere is refused whole: no hunk of it is applied', () =>
  withBaseRepo(async (repo) => {
    const iris = await patchOf(repo, waitFor(withImport(BASE), 'iris2'), 'iris');
    // The user changed the line since the hunt: the wait's hunk has no place, the import's has.
    const changed = BASE.replace('\tdeleteIt("iris2")\n', '\tdeleteIt("iris3")\n');
    await writeFile(join(repo, 'a_test.go'), changed);
    await assert.rejects(applyPatch(iris, repo), /git apply .* failed .*patch does not apply/s);
    assert.equal(await readFile(join(repo, 'a_test.go'), 'utf8'), changed);
  }));
