// The kept test binaries of one hunt (see go-exec-reuse.ts for why and what is decided): a
// folder per key holding the binary and what the go command gave it, and one file per kind of
// run saying which packages the last go test run handed over. Written by the shim (binaries)
// and the runner (runs); every write lands under a temporary name first, so runs side by side
// never read half a file.

import { copyFile, mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync, globSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  binaryKey,
  embedPatterns,
  isBuildInput,
  isIgnoredDir,
  keptRunFits,
  localReplacements,
  sourceDigestOf,
  type KeptRun,
  type KeptTestBinary,
  type SourceFileState,
} from './go-exec-reuse.ts';

const entryFile = 'binary.json';
const keptRunFile = (focused: boolean) => (focused ? 'run-focused.json' : 'run.json');

/** The folder of the module holding `dir` (nearest go.mod), or `dir` itself. */
export function moduleRoot(dir: string): string {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, 'go.mod'))) return at;
    if (dirname(at) === at) return resolve(dir);
  }
}

/**
 * The source state of the module holding `packageDir`: every build input of the module (Go,
 * assembly and cgo files, go.mod/go.sum, embedded files), of the local modules it replaces in,
 * and of a go.work above it, by path, size and modification time. Files the tests write
 * (reports, cover.out, logs) are no build input, so a run does not invalidate its own binary.
 */
export async function sourceDigest(packageDir: string): Promise<string> {
  const root = moduleRoot(packageDir);
  const states: SourceFileState[] = [];
  const seenModules = new Set<string>();
  const addModule = async (moduleDir: string, prefix: string): Promise<void> => {
    if (seenModules.has(moduleDir)) return;
    seenModules.add(moduleDir);
    await walkModule(moduleDir, moduleDir, prefix, states);
    const goMod = await readFile(join(moduleDir, 'go.mod'), 'utf8').catch(() => '');
    for (const replaced of localReplacements(goMod)) {
      const target = resolve(moduleDir, replaced);
      if (existsSync(join(target, 'go.mod'))) await addModule(target, `${relative(root, target)}/`);
    }
  };
  await addModule(root, '');
  for (let at = dirname(root); ; at = dirname(at)) {
    for (const name of ['go.work', 'go.work.sum']) {
      const file = join(at, name);
      if (existsSync(file)) states.push(await fileState(file, relative(root, file)));
    }
    if (dirname(at) === at) break;
  }
  return sourceDigestOf(states);
}

async function walkModule(moduleDir: string, dir: string, prefix: string, states: SourceFileState[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // A folder with its own go.mod is another module: not part of this one's builds.
      if (isIgnoredDir(entry.name) || existsSync(join(path, 'go.mod'))) continue;
      await walkModule(moduleDir, path, prefix, states);
      continue;
    }
    if (!entry.isFile() || !isBuildInput(entry.name)) continue;
    states.push(await fileState(path, prefix + relative(moduleDir, path)));
    if (entry.name.endsWith('.go')) {
      const source = await readFile(path, 'utf8').catch(() => '');
      if (source.includes('//go:embed')) {
        for (const pattern of embedPatterns(source)) {
          for (const match of globSync(pattern, { cwd: dir })) await addEmbedded(join(dir, match), prefix + relative(moduleDir, join(dir, match)), states);
        }
      }
    }
  }
}

async function addEmbedded(path: string, name: string, states: SourceFileState[]): Promise<void> {
  const info = await stat(path, { bigint: true }).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) {
    states.push({ path: name, size: Number(info.size), mtimeNs: info.mtimeNs });
    return;
  }
  for (const entry of await readdir(path)) await addEmbedded(join(path, entry), `${name}/${entry}`, states);
}

async function fileState(path: string, name: string): Promise<SourceFileState> {
  const info = await stat(path, { bigint: true });
  return { path: name, size: Number(info.size), mtimeNs: info.mtimeNs };
}

/**
 * Keeps a test binary the go command built (it deletes its own copy when the run ends): under
 * its key, once. Returns the key.
 */
export async function keepTestBinary(
  cacheDir: string,
  binary: Omit<KeptTestBinary, 'version' | 'binary' | 'key' | 'sourceDigest'> & { path: string },
): Promise<string> {
  const digest = await sourceDigest(binary.dir);
  const key = binaryKey(binary.importPath, binary.buildKey, digest);
  const folder = join(cacheDir, key);
  const kept = join(folder, binary.path.slice(binary.path.lastIndexOf('/') + 1));
  if (existsSync(join(folder, entryFile))) return key;
  await mkdir(folder, { recursive: true });
  const temporary = `${kept}.${randomBytes(4).toString('hex')}.tmp`;
  await copyFile(binary.path, temporary);
  await rename(temporary, kept);
  const entry: KeptTestBinary = {
    version: 1,
    importPath: binary.importPath,
    kind: binary.kind,
    dir: binary.dir,
    binary: kept,
    env: binary.env,
    buildKey: binary.buildKey,
    sourceDigest: digest,
    key,
  };
  await writeAtomically(join(folder, entryFile), JSON.stringify(entry, null, 1));
  return key;
}

/** Records which packages a go test run handed over (replacing the last such record of its kind). */
export async function recordKeptRun(cacheDir: string, run: KeptRun): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  await writeAtomically(join(cacheDir, keptRunFile(run.focused)), JSON.stringify(run, null, 1));
}

/** The kept binaries a run can use now, or why it goes through the go command. */
export async function findKeptBinaries(
  cacheDir: string,
  build: string,
  focused: boolean,
): Promise<{ binaries: (KeptTestBinary & { args: string[] })[]; concurrency: number } | { why: string }> {
  // A probe may use a planned run's record (its focus replaces none) or a probe's.
  const candidates = focused ? [false, true] : [false];
  let why = 'no run went through go test yet';
  for (const kind of candidates) {
    const run = await readJson<KeptRun>(join(cacheDir, keptRunFile(kind)));
    if (!run) continue;
    const misfit = keptRunFits(run, build, focused);
    if (misfit) {
      why = misfit;
      continue;
    }
    const binaries: (KeptTestBinary & { args: string[] })[] = [];
    const digests = new Map<string, Promise<string>>();
    let stale: string | undefined;
    for (const { importPath, key, args } of run.packages) {
      const entry = await readJson<KeptTestBinary>(join(cacheDir, key, entryFile));
      if (!entry || !existsSync(entry.binary)) {
        stale = `the kept binary of ${importPath} is gone`;
        break;
      }
      const root = moduleRoot(entry.dir);
      if (!digests.has(root)) digests.set(root, sourceDigest(entry.dir));
      if ((await digests.get(root)) !== entry.sourceDigest) {
        stale = `the source of ${importPath} changed`;
        break;
      }
      binaries.push({ ...entry, args });
    }
    if (!stale) return { binaries, concurrency: run.concurrency };
    why = stale;
  }
  return { why };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
