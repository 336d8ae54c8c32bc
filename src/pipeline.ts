// The only place that sequences I/O: provision the cluster, take the baseline, run the suite N
// times (watching, snapshotting and cleaning up after each run), run the probes analysis asks
// for, then build the report from the results directory, exactly as `kubeflake report DIR` does.

import { join, basename } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { testName, type CleanupReport, type Framework, type LeakReport, type ProbePlan, type Report, type RunResult, type Snapshot, type TestCase } from './model.ts';
import type { Settings } from './settings.ts';
import type { Presenter } from './presenter.ts';
import { ensureDir, files, listRunIds, readJson, readStoredRun, runDir, writeJson, type HuntRecord } from './results.ts';
import { provisionCluster, type ProvisionedCluster } from './cluster/provision.ts';
import { connectKube, type KubeApi } from './cluster/kube.ts';
import { takeSnapshot, snapshotProblem } from './cluster/snapshot.ts';
import { diffSnapshots } from './cluster/diff.ts';
import { DEFAULT_NOISE_RULES, parseIgnoreRule, type NoiseRule } from './cluster/noise.ts';
import { watchCluster, type ClusterWatch } from './cluster/watch.ts';
import { attribute, attributeDeleted, mergeLeaks, settleAmbiguous } from './cluster/attribution.ts';
import { executeCleanup, formatCleanupPlan, planCleanup } from './cluster/cleanup.ts';
import { analyze, clusterFailures, planProbes, reportVerdict } from './analysis/index.ts';
import { detectFramework } from './runner/command.ts';
import { executeRun } from './runner/execute.ts';
import { seedsFor } from './runner/seeds.ts';
import { formatRunLine } from './runner/progress.ts';
import { loadRun } from './junit/run.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderHtml } from './report/html.ts';
import { renderTerminal } from './report/terminal.ts';

const version = '0.1.0';

/** The whole hunt. Never throws for a broken run, report or cluster: the report says what happened. */
export async function hunt(settings: Settings, presenter: Presenter): Promise<Report> {
  const resultsDir = settings.resultsDir;
  await ensureDir(join(resultsDir, files.runs));
  const framework: Framework = settings.framework === 'auto' ? detectFramework(settings.command) : settings.framework;
  const record: HuntRecord = {
    command: settings.command,
    framework,
    cluster: settings.cluster,
    cwd: settings.cwd,
    baseSeed: settings.baseSeed,
    runs: settings.runs,
    startedAt: Date.now(),
    errors: [],
    ignore: settings.ignore,
  };
  await writeJson(join(resultsDir, files.hunt), record);
  const rules = noiseRules(settings.ignore);

  let cluster: ProvisionedCluster | undefined;
  try {
    cluster = await presenter.group(`cluster: ${settings.cluster}`, () => provisionCluster({
      cluster: settings.cluster,
      kubeconfig: settings.kubeconfig,
      buildScript: join(settings.projectRoot, 'tools', 'build.sh'),
      cacheDir: settings.cacheDir,
      kindName: settings.kindName,
      kindImage: settings.kindImage,
      workDir: resultsDir,
      log: presenter.detail,
    }));
    presenter.info(`cluster: ${cluster.description}`);
    const api = await connectKube(cluster.kubeconfigPath);
    const baseline = await takeSnapshot(api);
    await writeJson(join(resultsDir, files.baseline), baseline);
    const baselineProblem = snapshotProblem(baseline, files.baseline);
    if (baselineProblem) presenter.warn(baselineProblem);
    if (baseline.errors.some((error) => error.resource === '*')) throw new Error(`cannot take the baseline: ${baselineProblem}`);
    presenter.info(`baseline: ${baseline.objects.length} objects`);

    const observe = observer({ settings, presenter, api, baseline, rules, framework, kubeconfig: cluster.kubeconfigPath });
    const runs: RunResult[] = [];
    const seeds = seedsFor(settings.runs, settings.baseSeed);
    for (const [index, seed] of seeds.entries()) {
      const id = String(index).padStart(3, '0');
      const run = await observe({ id, seed, label: `run ${index + 1}/${seeds.length}` });
      runs.push(run);
    }

    // Probes: analysis plans focused reruns from the evidence so far, until it has what it needs.
    let probeIndex = 0;
    for (;;) {
      const leaks = await leaksSoFar(resultsDir, runs, baseline, rules);
      const plans = planProbes({ runs, framework, command: settings.command, leaks, maxProbes: settings.maxProbes });
      if (plans.length === 0) break;
      for (const plan of plans) {
        const id = `probe-${String(probeIndex++).padStart(3, '0')}`;
        presenter.detail(`${id}: ${plan.hypothesis}`);
        runs.push(await observe({ id, seed: plan.seed, plan, label: `probe ${probeIndex} (${plan.purpose} ${testName(plan.subject)})` }));
      }
    }
  } catch (error) {
    const message = (error as Error).message;
    record.errors.push(message);
    presenter.warn(message);
  } finally {
    await cluster?.teardown().catch((error: Error) => presenter.warn(`cluster teardown: ${error.message}`));
    record.endedAt = Date.now();
    await writeJson(join(resultsDir, files.hunt), record);
  }

  const report = await rebuildReport([resultsDir]);
  await writeReportFiles(report, resultsDir, settings.jsonFile);
  return report;
}

interface ObserverContext {
  settings: Settings;
  presenter: Presenter;
  api: KubeApi;
  baseline: Snapshot;
  rules: NoiseRule[];
  framework: Framework;
  kubeconfig: string;
}

/** Runs the suite once while watching the cluster; snapshots and cleans up after it. */
function observer(context: ObserverContext) {
  const { settings, presenter, api, baseline, rules, framework } = context;
  const total = settings.runs;
  return async ({ id, seed, plan, label }: { id: string; seed: number; plan?: ProbePlan; label: string }): Promise<RunResult> => {
    const dir = runDir(settings.resultsDir, id);
    await ensureDir(dir);
    const run = await presenter.group(`${label} seed ${seed}`, async () => {
      let watch: ClusterWatch | undefined;
      if (settings.watch) {
        watch = await watchCluster(api, { timelineFile: join(dir, files.timeline) }).catch((error: Error) => {
          presenter.warn(`${id}: cannot watch the cluster (${error.message}); leaks will be attributed from creation times`);
          return undefined;
        });
      }
      try {
        await executeRun({
          id,
          seed,
          probe: plan !== undefined,
          plan,
          command: settings.command,
          framework,
          runDir: dir,
          cwd: settings.cwd,
          timeoutMs: settings.runTimeoutMs,
          env: { ...settings.testEnv, KUBECONFIG: context.kubeconfig, USE_EXISTING_CLUSTER: 'true', KUBEFLAKE_SEED: String(seed) },
          focus: plan?.tests,
          reportGlob: settings.reportGlob,
          onOutput: presenter.detail,
        });
      } finally {
        const events = await watch?.stop();
        for (const problem of watch?.problems ?? []) presenter.detail(`watch: ${problem}`);
        presenter.detail(`timeline: ${events?.length ?? 0} events`);
      }
      return loadRun(dir);
    });
    presenter.info(formatRunLine(run, { index: Number(id.replace(/\D/g, '')), total, label }));
    for (const warning of run.warnings) presenter.warn(`${id}: ${warning}`);

    const after = await takeSnapshot(api);
    await writeJson(join(dir, files.after), after);
    const problem = snapshotProblem(after, join('runs', id, files.after));
    if (problem) presenter.warn(problem);
    if (after.errors.some((error) => error.resource === '*')) {
      // Without the API server there is nothing to clean, attribute or run against.
      throw new Error(`the cluster stopped answering after ${id}: ${problem}. The runs so far are kept in ${settings.resultsDir}.`);
    }
    if (settings.cleanup !== 'none') {
      const cleanupPlan = planCleanup(baseline, after, {
        run: id,
        dryRun: settings.dryRun,
        protectedNamespaces: settings.protectedNamespaces,
        rules,
        removeFinalizers: settings.removeFinalizersAfterMs !== undefined,
        graceMs: settings.removeFinalizersAfterMs,
      });
      if (settings.dryRun) for (const line of formatCleanupPlan(cleanupPlan)) presenter.info(`${id} dry-run: ${line}`);
      const cleanup = await executeCleanup(api, cleanupPlan, { log: presenter.detail });
      await writeJson(join(dir, files.cleanup), cleanup);
      const summary = `${cleanup.deleted.length} deleted, ${cleanup.finalizersRemoved.length} finalizers removed, ${cleanup.left.length} left`;
      if (cleanup.deleted.length + cleanup.finalizersRemoved.length + cleanup.left.length > 0) presenter.info(`  cleanup: ${summary}`);
    }
    return run;
  };
}

function noiseRules(ignore: string[]): NoiseRule[] {
  return [...DEFAULT_NOISE_RULES, ...ignore.map(parseIgnoreRule)];
}

/** Leaks of every stored run: what each run created and left, attributed to the test that made it. */
async function leaksSoFar(resultsDir: string, runs: RunResult[], baseline: Snapshot, rules: NoiseRule[]): Promise<LeakReport[]> {
  const perRun: LeakReport[][] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    const stored = await readStoredRun(resultsDir, run.id);
    if (!stored.after) continue;
    const diff = diffSnapshots(baseline, stored.after, rules);
    // An object an earlier run left (cleanup off or failed) is that run's leak, not this one's.
    const fresh = diff.leaked.filter((object) => !seen.has(object.uid));
    for (const object of diff.leaked) seen.add(object.uid);
    perRun.push(attribute(fresh, stored.timeline, run), attributeDeleted(diff.deleted, stored.timeline, run));
  }
  return mergeLeaks(settleAmbiguous(perRun));
}

/** Builds the Report from results directories alone (one hunt, or several shards to merge). */
export async function rebuildReport(dirs: string[]): Promise<Report> {
  const errors: string[] = [];
  const runs: RunResult[] = [];
  const leaks: LeakReport[][] = [];
  const cleanup: CleanupReport = { dryRun: false, deleted: [], finalizersRemoved: [], left: [] };
  let record: HuntRecord | undefined;
  for (const dir of dirs) {
    const shard = dirs.length > 1 ? `${basename(dir)}/` : '';
    const hunt = await readJson<HuntRecord>(join(dir, files.hunt)).catch((error: Error) => {
      errors.push(error.message);
      return undefined;
    });
    if (!hunt) errors.push(`${join(dir, files.hunt)} is missing: is ${dir} a kubeflake results directory?`);
    record ??= hunt;
    errors.push(...(hunt?.errors ?? []));
    const dirRuns: RunResult[] = [];
    for (const id of await listRunIds(dir)) {
      try {
        dirRuns.push(await loadRun(runDir(dir, id)));
      } catch (error) {
        errors.push(`${runDir(dir, id)}: ${(error as Error).message}`);
      }
      const stored = await readStoredRun(dir, id).catch(() => undefined);
      if (stored?.cleanup) {
        cleanup.dryRun ||= stored.cleanup.dryRun;
        cleanup.deleted.push(...stored.cleanup.deleted);
        cleanup.finalizersRemoved.push(...stored.cleanup.finalizersRemoved);
        cleanup.left.push(...stored.cleanup.left);
      }
    }
    const baseline = await readJson<Snapshot>(join(dir, files.baseline)).catch(() => undefined);
    if (baseline) leaks.push(await leaksSoFar(dir, dirRuns, baseline, noiseRules(hunt?.ignore ?? [])));
    runs.push(...dirRuns.map((run) => (shard ? { ...run, id: shard + run.id } : run)));
  }
  const allLeaks = mergeLeaks(leaks);
  const framework = record?.framework ?? 'generic';
  const tests = analyze({ runs, framework, command: record?.command, leaks: allLeaks });
  return {
    schema: 'kubeflake/report@1',
    command: (record?.command ?? []).join(' '),
    framework,
    cluster: record?.cluster ?? 'existing',
    runs: runs.map((run) => ({
      id: run.id,
      seed: run.seed,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      timedOut: run.timedOut,
      order: run.order,
      failed: run.cases.filter((test: TestCase) => test.status === 'failed').map((test) => test.id),
      probe: run.probe,
      orderSource: run.orderSource,
      ...(run.plan ? { purpose: run.plan.purpose, subject: run.plan.subject } : {}),
      ...(run.warnings.length ? { warnings: run.warnings } : {}),
    })),
    tests,
    leaks: allLeaks,
    cleanup,
    verdict: reportVerdict(tests, errors),
    version,
    generatedAt: new Date().toISOString(),
    ...(errors.length ? { errors } : {}),
    failureClusters: clusterFailures(tests),
  };
}

export async function writeReportFiles(report: Report, resultsDir: string, jsonFile?: string): Promise<void> {
  await writeJson(join(resultsDir, files.report), report);
  if (jsonFile) await writeJson(jsonFile, report);
  await writeFile(join(resultsDir, files.markdown), renderMarkdown(report));
  await writeFile(join(resultsDir, files.html), renderHtml(report));
}

export async function renderReportAs(report: Report, format: string, out?: string): Promise<string> {
  const text =
    format === 'json' ? JSON.stringify(report, null, 2) + '\n'
    : format === 'md' ? renderMarkdown(report)
    : format === 'html' ? renderHtml(report)
    : format === 'text' ? renderTerminal(report, { color: !out && process.stdout.isTTY })
    : undefined;
  if (text === undefined) throw new Error(`unknown report format "${format}": use md, html, json or text`);
  if (out) await writeFile(out, text);
  return text;
}

export async function snapshotToFile(kubeconfig: string, out?: string): Promise<string> {
  const api = await connectKube(kubeconfig);
  const snapshot = await takeSnapshot(api);
  if (out) await writeJson(out, snapshot);
  else process.stdout.write(JSON.stringify(snapshot, null, 2) + '\n');
  return `${snapshot.objects.length} objects${snapshot.complete ? '' : `; ${snapshot.errors.length} types could not be listed`}`;
}

export async function diffFiles(beforeFile: string, afterFile: string): Promise<string> {
  const before = await readJson<Snapshot>(beforeFile);
  const after = await readJson<Snapshot>(afterFile);
  if (!before || !after) throw new Error(`cannot read ${!before ? beforeFile : afterFile}: no such file`);
  const diff = diffSnapshots(before, after, DEFAULT_NOISE_RULES);
  return JSON.stringify(diff, null, 2) + '\n';
}
