import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, normalize, relative, sep } from 'node:path';
import type { OrderSource, ParsedReport, RunMeta, RunResult, TestCase, TestId } from '../model.ts';
import { parseReport } from './parse.ts';
import { runDamage } from './damage.ts';
import { ReportError } from './report-error.ts';
import { type ParseOptions, resolveLimits } from './limits.ts';
import { buildFailureReport, killedAtTimeout } from './gotest-json.ts';

import { files as layout } from '../results.ts';

const metaFile = layout.meta;
const junitDir = layout.junitDir;
const ginkgoJson = layout.ginkgoJson;

/**
 * Builds a RunResult from one run folder: meta.json (the runner's record) plus every report in
 * it (junit/*.xml, ginkgo.json, and the reports meta.json lists: go-exec/*.go-test.json streams
 * since kubeflake reads them as they are; a folder an older kubeflake wrote has their JUnit
 * conversion in junit/ instead, and loads the same). A bad or missing report never
 * stops the load: it becomes a warning naming the file, so a results directory always loads.
 * Throws ReportError only when the folder itself does not exist.
 */
export async function loadRun(runDir: string, options?: ParseOptions): Promise<RunResult> {
  try {
    if (!(await stat(runDir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new ReportError(runDir, 'is not a run folder (it does not exist or is not a directory): pass results/runs/<id>');
  }
  const warnings: string[] = [];
  const meta = await readMeta(runDir, warnings);
  return ingestRun(runDir, { ...meta, warnings: [...warnings, ...meta.warnings] }, options);
}

/**
 * Builds a RunResult from the runner's record (in memory, as the live hunt has it) and the reports
 * the test command wrote into the run folder. Packages go test could not build have no report
 * file: their failed TestMains come from the record (`buildFailures`), listed as meta.json.
 */
export async function ingestRun(runDir: string, meta: RunMeta, options?: ParseOptions): Promise<RunResult> {
  const warnings = [...meta.warnings];
  const files = await reportFiles(runDir, meta, warnings);
  const parsed: { rel: string; report: ParsedReport }[] = [];
  // A go test -json stream cut by the timeout: its running tests failed of that.
  const context = meta.interrupted ? { interrupted: `kubeflake was interrupted (${meta.interrupted})` } : meta.timedOut ? { interrupted: killedAtTimeout } : {};
  for (const rel of files) {
    try {
      const report = await parseReport(join(runDir, rel), options, context);
      warnings.push(...report.warnings);
      parsed.push({ rel, report });
    } catch (err) {
      const message = err instanceof ReportError ? err.message : `${join(runDir, rel)}: could not be parsed (${(err as Error).message})`;
      warnings.push(`${message}; its test cases are missing from run ${meta.id}`);
    }
  }
  if (meta.buildFailures?.length) {
    parsed.push({ rel: metaFile, report: buildFailureReport(join(runDir, metaFile), meta.buildFailures, resolveLimits(options).maxTextChars) });
  }
  if (parsed.length === 0 && files.length === 0 && !meta.probe) {
    warnings.push(`${runDir}: no report found (no ${junitDir}/*.xml, ${ginkgoJson} or go test -json stream): did the test command write a JUnit or Ginkgo JSON report?`);
  }
  const merged = mergeReports(parsed.map((p) => p.report));
  const damage = runDamage(parsed);

  return {
    id: meta.id,
    seed: meta.seed,
    probe: meta.probe,
    ...(meta.plan ? { plan: meta.plan } : {}),
    command: meta.command,
    exitCode: meta.exitCode,
    signal: meta.signal,
    timedOut: meta.timedOut,
    startedAt: meta.startedAt,
    endedAt: meta.endedAt,
    durationMs: meta.durationMs,
    orderSource: merged.orderSource,
    order: merged.order,
    cases: merged.cases,
    reports: parsed.map((p) => p.rel),
    warnings,
    ...(damage.length ? { damage } : {}),
    ...(meta.interrupted ? { interrupted: meta.interrupted } : {}),
    ...(meta.controlPlaneLost ? { controlPlaneLost: meta.controlPlaneLost } : {}),
    ...(meta.testBinaries?.length ? { testBinaries: meta.testBinaries } : {}),
    ...(meta.extra ? { extra: meta.extra } : {}),
  };
}

/** Reads meta.json; a missing or broken one gives defaults and a warning, never a throw. */
async function readMeta(runDir: string, warnings: string[]): Promise<RunMeta> {
  const id = basename(runDir);
  const fallback: RunMeta = {
    id,
    seed: 0,
    probe: id.startsWith('probe-'),
    framework: 'generic',
    command: [],
    exitCode: null,
    signal: null,
    timedOut: false,
    startedAt: 0,
    endedAt: 0,
    durationMs: 0,
    reports: [],
    warnings: [],
  };
  const file = join(runDir, metaFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    warnings.push(`${file}: missing; the run's seed, command and exit code are unknown (was the runner killed before writing it?)`);
    return fallback;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    warnings.push(`${file}: not valid JSON (${(err as Error).message}); the run's seed, command and exit code are unknown`);
    return fallback;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    warnings.push(`${file}: not a run record (expected an object); the run's seed, command and exit code are unknown`);
    return fallback;
  }
  const m = value as Partial<RunMeta>;
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return {
    id: typeof m.id === 'string' && m.id ? m.id : id,
    seed: num(m.seed, 0),
    probe: typeof m.probe === 'boolean' ? m.probe : fallback.probe,
    ...(m.plan ? { plan: m.plan } : {}),
    framework: m.framework === 'ginkgo' || m.framework === 'go' ? m.framework : 'generic',
    command: Array.isArray(m.command) ? m.command.filter((c): c is string => typeof c === 'string') : [],
    exitCode: typeof m.exitCode === 'number' ? m.exitCode : null,
    signal: typeof m.signal === 'string' ? m.signal : null,
    timedOut: m.timedOut === true,
    startedAt: num(m.startedAt, 0),
    endedAt: num(m.endedAt, 0),
    durationMs: num(m.durationMs, 0),
    reports: Array.isArray(m.reports) ? m.reports.filter((r): r is string => typeof r === 'string') : [],
    warnings: Array.isArray(m.warnings) ? m.warnings.filter((w): w is string => typeof w === 'string') : [],
    ...(Array.isArray(m.buildFailures) ? { buildFailures: m.buildFailures.filter(isBuildFailure) } : {}),
    ...(typeof m.interrupted === 'string' && m.interrupted ? { interrupted: m.interrupted } : {}),
    ...(typeof m.controlPlaneLost === 'string' && m.controlPlaneLost ? { controlPlaneLost: m.controlPlaneLost } : {}),
    ...(Array.isArray(m.testBinaries) ? { testBinaries: m.testBinaries.filter((b) => typeof b?.importPath === 'string' && typeof b.kind === 'string') } : {}),
    ...((m.extra?.purpose === 'changed' || m.extra?.purpose === 'pair') && Array.isArray(m.extra.tests) ? { extra: { purpose: m.extra.purpose, tests: m.extra.tests.filter((t) => typeof t === 'string') } } : {}),
  };
}

function isBuildFailure(value: unknown): value is { importPath: string; output: string } {
  const f = value as { importPath?: unknown; output?: unknown } | null;
  return typeof f === 'object' && f !== null && typeof f.importPath === 'string' && typeof f.output === 'string';
}

/** Report files of the run, relative to its folder: ginkgo.json first, then junit/*.xml, then others meta lists. */
async function reportFiles(runDir: string, meta: RunMeta, warnings: string[]): Promise<string[]> {
  const found: string[] = [];
  const add = (rel: string): void => {
    const clean = normalize(rel).split(sep).join('/');
    if (!found.includes(clean)) found.push(clean);
  };
  if (await isFile(join(runDir, ginkgoJson))) add(ginkgoJson);
  try {
    const names = (await readdir(join(runDir, junitDir))).filter((n) => n.toLowerCase().endsWith('.xml')).sort();
    for (const name of names) add(`${junitDir}/${name}`);
  } catch {
    // No junit/ folder: the run may have produced only Ginkgo JSON, or nothing (warned below).
  }
  for (const rel of meta.reports) {
    const inside = relative(runDir, join(runDir, rel));
    if (isAbsolute(rel) || inside.startsWith('..')) {
      warnings.push(`${join(runDir, metaFile)}: report path ${JSON.stringify(rel)} points outside the run folder; ignored`);
      continue;
    }
    if (!(await isFile(join(runDir, rel)))) {
      warnings.push(`${join(runDir, rel)}: listed in meta.json but missing; its test cases are missing from run ${meta.id}`);
      continue;
    }
    add(rel);
  }
  return found;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Merges the reports of one run. Ginkgo JSON is preferred: a test it holds is dropped from the
 * JUnit reports (same TestId by construction). Within one report duplicates are kept (a table
 * entry can repeat a name). The order comes from the most exact source available.
 */
export function mergeReports(reports: ParsedReport[]): { cases: TestCase[]; order: TestId[]; orderSource: OrderSource } {
  const ranked = [...reports].sort((a, b) => rank(a) - rank(b));
  const cases: TestCase[] = [];
  const seen = new Set<TestId>();
  for (const report of ranked) {
    const mine = new Set<TestId>();
    for (const tc of report.cases) {
      if (seen.has(tc.id)) continue;
      mine.add(tc.id);
      cases.push(tc);
    }
    for (const id of mine) seen.add(id);
  }
  const { order, orderSource } = executionOrder(ranked, cases);
  return { cases, order, orderSource };
}

function rank(report: ParsedReport): number {
  return report.dialect === 'ginkgo-json' ? 0 : 1;
}

/** Ginkgo JSON index > per-test JUnit timestamps > document order. Skipped tests are left out. */
function executionOrder(ranked: ParsedReport[], cases: TestCase[]): { order: TestId[]; orderSource: OrderSource } {
  const ran = cases.filter((c) => c.status !== 'skipped');
  if (ran.length === 0) return { order: [], orderSource: cases.length > 0 ? 'junit-document' : 'unknown' };
  const fromJson = ran.filter((c) => c.index !== undefined);
  if (fromJson.length > 0 && ranked[0]?.dialect === 'ginkgo-json') {
    const exact = [...fromJson].sort((a, b) => a.index! - b.index!);
    // Cases only a JUnit report had (another framework in the same run) follow, in their order.
    const rest = orderByTimes(ran.filter((c) => c.index === undefined)) ?? ran.filter((c) => c.index === undefined);
    return { order: [...exact, ...rest].map((c) => c.id), orderSource: 'ginkgo-json' };
  }
  const timed = orderByTimes(ran);
  if (timed) return { order: timed.map((c) => c.id), orderSource: 'junit-times' };
  return { order: ran.map((c) => c.id), orderSource: 'junit-document' };
}

/** Cases sorted by start time when every one has it (stable for ties), else undefined. */
function orderByTimes(cases: TestCase[]): TestCase[] | undefined {
  if (cases.length === 0 || cases.some((c) => c.startedAt === undefined)) return undefined;
  return cases.map((c, i) => ({ c, i })).sort((a, b) => a.c.startedAt! - b.c.startedAt! || a.i - b.i).map((x) => x.c);
}
