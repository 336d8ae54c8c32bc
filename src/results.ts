// The results directory (README "How it works"): every run's raw evidence, kept so a report can
// always be rebuilt from the directory alone. Every path and file format lives here; the hunt log
// (hunt-log.ts) decides what is written when, the runner writes the test command's own files.
//
//   results/hunt.json            what the hunt was asked to do, with the options it used
//   results/baseline.json        the cluster before the first run
//   results/runs/<id>/meta.json  one folder a run ("000") or probe ("probe-000"): the runner's record,
//     log.txt, junit/*.xml, ginkgo.json                 what the test command printed and wrote
//     go-exec/                                          the go test shim's plan and script, and per test
//                                                       binary its record and raw reports (frameworks/go-exec.ts)
//     after.json, timeline.jsonl, cleanup.json          the cluster after the run, its events, cleanup
//     baseline.json                                     a run taken over from a shard: that shard's baseline
//     audit.jsonl                                       the cluster's audit record of the run (cluster/audit-log.ts)
//     envtest.json                                      the run's envtest instances (envtest/observe.ts)
//     envtest/<instance>/instance.json                  one envtest instance: what kubeflake recorded about it,
//       baseline.json, after.json, timeline.jsonl       and its snapshots and events, as for the cluster,
//       audit.jsonl                                     and its API server's whole audit record
//   results/report.json, report.md, report.html
//   results/github-event.json    the pull request a run was for (the fork-safe publisher reads it)

import { mkdir, readFile, readdir, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TimelineEntry } from './model.ts';

export const files = {
  hunt: 'hunt.json',
  baseline: 'baseline.json',
  report: 'report.json',
  markdown: 'report.md',
  html: 'report.html',
  runs: 'runs',
  meta: 'meta.json',
  log: 'log.txt',
  junitDir: 'junit',
  ginkgoJson: 'ginkgo.json',
  ginkgoOutputDir: 'ginkgo-out',
  goExecDir: 'go-exec',
  after: 'after.json',
  timeline: 'timeline.jsonl',
  cleanup: 'cleanup.json',
  /** The API server's audit record (src/record/policy.ts): a run's slice of the cluster's log, or an envtest instance's whole log. */
  audit: 'audit.jsonl',
  /** The run's envtest instances, and one folder each under envtestDir (envtest/observe.ts). */
  envtestSummary: 'envtest.json',
  envtestDir: 'envtest',
  /** What kubeflake recorded about one envtest instance, in its folder beside its baseline, after and timeline. */
  instance: 'instance.json',
  /** A pull_request run's PR (number, head SHA), for a workflow_run publisher: data only, a fork wrote it. */
  githubEvent: 'github-event.json',
  /** Proven fixes (src/fix/): <n>.json each, <n>.patch beside it when offered, their pair runs in <n>/runs/. */
  fixes: 'fixes',
} as const;

/** Files the runner owns in a run folder: a rerun with the same id clears them first. */
export const runnerFiles = [files.meta, files.log, files.junitDir, files.ginkgoJson, files.ginkgoOutputDir, files.goExecDir] as const;

export function runDir(resultsDir: string, id: string): string {
  return join(resultsDir, files.runs, id);
}

/** "000".."999" for planned runs, "probe-000".. for probes. */
export function runId(index: number, probe = false): string {
  const number = String(index).padStart(3, '0');
  return probe ? `probe-${number}` : number;
}

/** Writes JSON atomically: a killed process never leaves half a file behind. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  const partial = `${file}.partial`;
  await writeFile(partial, JSON.stringify(value, null, 2) + '\n');
  await rename(partial, file);
}

/** undefined when the file does not exist; a clear error naming it when it is not JSON. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}): was the run killed while writing it?`, { cause: error });
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
  const probes = names.filter((name) => /^probe-[\w-]+$/.test(name)).sort();
  return [...planned, ...probes];
}

/** Reads a timeline.jsonl back; a line cut short (the watch was killed mid-write) is skipped and counted. */
export async function readTimeline(file: string): Promise<{ entries: TimelineEntry[]; skipped: number }> {
  if (!existsSync(file)) return { entries: [], skipped: 0 };
  const entries: TimelineEntry[] = [];
  let skipped = 0;
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as TimelineEntry);
    } catch {
      skipped += 1;
    }
  }
  return { entries, skipped };
}

/** Whether a folder already holds a hunt (or anything else a new hunt would mix with). */
export function holdsResults(resultsDir: string): boolean {
  return existsSync(join(resultsDir, files.hunt)) || existsSync(join(resultsDir, files.runs)) || existsSync(join(resultsDir, files.baseline));
}
