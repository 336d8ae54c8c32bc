// The results directory (ARCHITECTURE.md): where every run's raw evidence is kept, so that a
// report can always be rebuilt from the directory alone. Paths and file formats live here only.

import { mkdir, readFile, readdir, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CleanupReport, ClusterKind, Framework, Snapshot, TimelineEvent } from './model.ts';

/** What the hunt was asked to do, kept so `kubeflake report DIR` knows without the settings. */
export interface HuntRecord {
  command: string[];
  framework: Framework;
  cluster: ClusterKind;
  cwd: string;
  baseSeed: number;
  runs: number;
  startedAt: number;
  endedAt?: number;
  /** Problems that stopped or hurt the hunt (cluster gone, probes impossible...). */
  errors: string[];
  /** Leak ignore rules in force. */
  ignore: string[];
}

export const files = {
  hunt: 'hunt.json',
  baseline: 'baseline.json',
  report: 'report.json',
  markdown: 'report.md',
  html: 'report.html',
  runs: 'runs',
  meta: 'meta.json',
  after: 'after.json',
  timeline: 'timeline.jsonl',
  cleanup: 'cleanup.json',
  log: 'log.txt',
} as const;

export function runDir(resultsDir: string, id: string): string {
  return join(resultsDir, files.runs, id);
}

/** Writes JSON atomically: a killed process never leaves half a file behind. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  const partial = `${file}.partial`;
  await writeFile(partial, JSON.stringify(value, null, 2) + '\n');
  await rename(partial, file);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}): was the run killed while writing it?`);
  }
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/** Run folder names in order: planned runs ("000"...) first, then probes ("probe-000"...). */
export async function listRunIds(resultsDir: string): Promise<string[]> {
  const dir = join(resultsDir, files.runs);
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const planned = names.filter((name) => /^\d+$/.test(name)).sort();
  const probes = names.filter((name) => /^probe-\d+$/.test(name)).sort();
  return [...planned, ...probes];
}

export async function readTimeline(file: string): Promise<TimelineEvent[]> {
  if (!existsSync(file)) return [];
  const events: TimelineEvent[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as TimelineEvent);
    } catch {
      // A watch killed mid-write leaves a torn last line; the rest still counts.
    }
  }
  return events;
}

export interface StoredRun {
  id: string;
  dir: string;
  after?: Snapshot;
  timeline: TimelineEvent[];
  cleanup?: CleanupReport;
}

export async function readStoredRun(resultsDir: string, id: string): Promise<StoredRun> {
  const dir = runDir(resultsDir, id);
  return {
    id,
    dir,
    after: await readJson<Snapshot>(join(dir, files.after)),
    timeline: await readTimeline(join(dir, files.timeline)),
    cleanup: await readJson<CleanupReport>(join(dir, files.cleanup)),
  };
}
