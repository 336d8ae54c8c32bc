// The only place that sequences I/O: provision the cluster, take the baseline, run the suite N
// times (watching, snapshotting and cleaning up after each run), run the probes analysis asks
// for, and append everything to the hunt log; the report is built from that log, exactly as
// `kubeflake report DIR` builds it from the log on disk.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ProbePlan, Report, RunMeta, Snapshot } from './model.ts';
import { SettingsError, type Settings } from './settings.ts';
import type { Presenter } from './presenter.ts';
import { ensureDir, files, runDir, runId, writeJson } from './results.ts';
import { HuntLog, type LoggedRun } from './hunt-log.ts';
import { buildReport, runNotices } from './build-report.ts';
import { provisionCluster, type ProvisionedCluster } from './cluster/provision.ts';
import { connectKube, type KubeApi } from './cluster/kube.ts';
import { markAuditLogs, sliceAuditLogs, type AuditLogMark } from './cluster/audit-log.ts';
import { takeSnapshot, snapshotProblem } from './cluster/snapshot.ts';
import { diffSnapshots } from './cluster/diff.ts';
import { DEFAULT_NOISE_RULES } from './cluster/noise.ts';
import { timelineEvents, watchCluster, type ClusterWatch } from './cluster/watch.ts';
import { provideEnvtestAssets, type ProvidedEnvtestAssets } from './envtest/assets.ts';
import { describeInstances, readEnvtestEvidence } from './envtest/evidence.ts';
import { observeEnvtest } from './envtest/observe.ts';
import { readRunRecord } from './record/read.ts';
import { controlPlaneBinaries } from './cluster/local.ts';
import { mergeLeaks, settleAmbiguous } from './cluster/attribution.ts';
import { executeCleanup, formatCleanupPlan, planCleanup } from './cluster/cleanup.ts';
import { huntOptions, planProbes } from './analysis/index.ts';
import { commandStyle, detectFramework, selectionOf } from './frameworks/index.ts';
import { detectExecutable, driveStyleOf, firstRunStop, frameworkAfterFirstRun, programWord } from './frameworks/go-exec-detect.ts';
import { executeRun } from './runner/execute.ts';
import { stressPlan } from './runner/stress.ts';
import { availableParallelism } from 'node:os';
import { seedsFor } from './runner/seeds.ts';
import { ingestRun } from './ingest/run.ts';
import { goSourceTool } from './changed/gosource.ts';
import { fixCandidates } from './fix/candidates.ts';
import { proveFix, type PairOutcome } from './fix/prove.ts';
import { formatRunLine } from './report/run-line.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderHtml } from './report/html.ts';
import { renderTerminal } from './report/terminal.ts';
import { validateReport } from './report/validate.ts';

/** The whole hunt. Never throws for a broken run, report or cluster: the report says what happened. */
export async function hunt(settings: Settings, presenter: Presenter): Promise<Report> {
  // The whole record, defaults filled in, is saved in hunt.json: a rebuilt report replays under it.
  const options = huntOptions({ maxProbes: settings.maxProbes });
  const sources = await Promise.all(settings.mergeFrom.map((dir) => HuntLog.load(dir)));
  const log = await HuntLog.start(settings.resultsDir, {
    command: settings.command,
    // The record owns the framework: the first run may correct it (afterFirstRun), and everything reads it there.
    framework: settings.framework === 'auto' ? detectFramework(settings.command, { reportGlob: settings.reportGlob }) : settings.framework,
    cluster: settings.cluster,
    cwd: settings.cwd,
    root: repositoryRoot(settings.cwd),
    baseSeed: settings.baseSeed,
    runs: settings.runs,
    ...(settings.shard ? { shard: settings.shard } : {}),
    ...(sources.length ? { mergedFrom: settings.mergeFrom } : {}),
    options,
    startedAt: Date.now(),
    ignore: settings.ignore,
    ...(settings.stress !== 'off' ? { stress: settings.stress } : {}),
    watch: settings.watch,
  });
  for (const source of sources) for (const error of source.errors) await log.fail(`${source.dir}: ${error}`);
  if (settings.stress !== 'off') {
    const pressure = stressPlan(settings.stress, availableParallelism());
    presenter.info(`stress: ${settings.stress} (the tests run with GOMAXPROCS=${String(pressure.gomaxprocs)}, ${pressure.loadThreads} busy thread(s) beside each run)`);
  }
  if (log.record.movedAside) presenter.warn(`${settings.resultsDir} held an earlier hunt: moved it to ${log.record.movedAside}`);

  let cluster: ProvisionedCluster | undefined;
  let envtest: ProvidedEnvtestAssets | undefined;
  try {
    cluster = await presenter.group(`cluster: ${settings.cluster}`, () => provisionCluster({
      cluster: settings.cluster,
      kubeconfig: settings.kubeconfig,
      buildScript: join(settings.projectRoot, 'tools', 'build.sh'),
      cacheDir: settings.cacheDir,
      kindName: settings.kindName,
      kindImage: settings.kindImage,
      kindConfig: settings.kindConfig,
      keepCluster: settings.keepCluster,
      cleanupExisting: settings.cleanupExisting,
      searchPath: settings.searchPath,
      workDir: settings.resultsDir,
      log: presenter.detail,
      progress: presenter.info,
    }));
    presenter.info(`cluster: ${cluster.description}`);
    if (cluster.warning) presenter.warn(cluster.warning);
    // kubeflake's own identity where it has one: the record then holds the suite's requests only.
    const api = await connectKube(cluster.ownKubeconfigPath ?? cluster.kubeconfigPath);
    if (cluster.auditLogs?.length) log.record.auditRecord = true;
    const baseline = await takeSnapshot(api);
    await log.setBaseline(baseline);
    const baselineProblem = snapshotProblem(baseline, files.baseline);
    if (baselineProblem) presenter.warn(baselineProblem);
    if (baseline.errors.some((error) => error.resource === '*')) throw new Error(`cannot take the baseline: ${baselineProblem}`);
    presenter.info(`baseline: ${baseline.objects.length} objects`);

    envtest = await envtestAssets(settings, presenter);
    const context: ObserverContext = { settings: cluster.cleanupDryRun ? { ...settings, dryRun: true } : settings, presenter, api, baseline, kubeconfig: cluster.kubeconfigPath, log, envtest, ...(cluster.auditLogs?.length ? { auditLogs: cluster.auditLogs } : {}) };
    const observe = observer(context);
    // What the first run showed decides the rest: what framework really runs, and whether any run can report at all.
    const afterFirstRun = ({ entry, meta }: { entry: LoggedRun; meta: RunMeta }): void => {
      const decision = firstRunStop({
        runDir: relative(log.record.root ?? settings.cwd, runDir(settings.resultsDir, entry.run.id)) || '.',
        command: settings.command.join(' '),
        style: driveStyleOf(commandStyle(log.record.framework, settings.command), settings.command),
        started: meta.exitCode !== null || meta.signal !== null || meta.timedOut,
        exitCode: meta.exitCode,
        timedOut: meta.timedOut,
        reports: entry.run.reports.length,
        tests: entry.run.cases.length,
        binaries: meta.testBinaries ?? [],
        unbuilt: meta.unbuilt,
        reportGlob: settings.reportGlob,
        program: detectExecutable(programWord(settings.command) ?? '', settings.cwd, settings.testEnv.PATH ?? ''),
      });
      if (decision.stop) throw new Error(`${decision.reason}. ${decision.todo}`);
      const seen = frameworkAfterFirstRun(log.record.framework, meta.testBinaries ?? []);
      if (seen !== log.record.framework) {
        presenter.info(`framework: ${seen} (the first run ran ${seen} suites through go test)`);
        log.record.framework = seen;
      }
    };
    if (sources.length > 0) {
      // Probe after merge: the shards ran the planned runs; this hunt probes from all of them.
      const planned = sources.flatMap((source) => source.runs.filter((e) => !e.run.probe).map((entry) => ({ source, entry })));
      planned.sort((a, b) => a.entry.run.id.localeCompare(b.entry.run.id));
      for (const { source, entry } of planned) await log.adopt(source, entry);
      presenter.info(`merged ${log.runs.length} planned runs from ${sources.length} results directories`);
    } else {
      const seeds = seedsFor(settings.runs, settings.baseSeed);
      let first = true;
      for (const [index, seed] of seeds.entries()) {
        if (settings.shard && index % settings.shard.count !== settings.shard.index) continue;
        const observed = await observe({ id: runId(index), seed, label: `run ${index + 1}/${seeds.length}` });
        if (first) afterFirstRun(observed);
        first = false;
      }
    }

    // Probes: analysis plans focused reruns from the evidence so far, until it has what it needs.
    for (let probeIndex = 0; ; ) {
      const plans = planProbes({
        ...options,
        runs: log.runs.map((entry) => entry.run),
        framework: log.record.framework,
        command: settings.command,
        leaks: mergeLeaks(settleAmbiguous(log.runs.map((entry) => entry.leaks))),
      });
      if (plans.length === 0) break;
      for (const plan of plans) {
        // Shards probe on their own: their probe ids must not collide when merged.
        const id = settings.shard ? `probe-s${settings.shard.index + 1}-${runId(probeIndex++)}` : runId(probeIndex++, true);
        presenter.detail(`${id}: ${plan.hypothesis}`);
        const subject = log.tests().get(plan.subject)?.name ?? plan.subject;
        await observe({ id, seed: plan.seed, plan, label: `probe ${probeIndex} (${plan.purpose} ${subject})` });
      }
    }

    // Fixes, after the probes and on their own budget: proven in a scratch copy before they are offered.
    if (settings.fixProbes > 0) await proveFixes(context);
  } catch (error) {
    const message = (error as Error).message;
    await log.fail(message);
    presenter.warn(message);
  } finally {
    const failed = log.errors.length > 0 || log.runs.some((entry) => entry.run.exitCode !== 0);
    await cluster?.teardown({ failed }).catch((error: Error) => presenter.warn(`cluster teardown: ${error.message}`));
    await envtest?.remove();
    await log.finish(Date.now());
  }

  const report = buildReport(log);
  await writeReportFiles(report, settings.resultsDir, settings.jsonFile);
  return report;
}

interface ObserverContext {
  settings: Settings;
  presenter: Presenter;
  api: KubeApi;
  baseline: Snapshot;
  kubeconfig: string;
  log: HuntLog;
  /** Wrapped KUBEBUILDER_ASSETS, for suites that start their own control plane. */
  envtest?: ProvidedEnvtestAssets;
  /** The provisioned cluster's audit logs on this host: each run's slice goes into its folder. */
  auditLogs?: string[];
}

/** KUBEBUILDER_ASSETS kubeflake provides and wraps; a hunt goes on without it (only envtest suites lose sight). */
async function envtestAssets(settings: Settings, presenter: Presenter): Promise<ProvidedEnvtestAssets | undefined> {
  if (settings.envtest === 'off') return undefined;
  try {
    const assets = await provideEnvtestAssets({
      given: settings.kubebuilderAssets,
      ...(settings.cluster === 'local' ? { localBinaries: () => controlPlaneBinaries({ buildScript: join(settings.projectRoot, 'tools', 'build.sh'), cacheDir: settings.cacheDir }) } : {}),
      kubernetesVersion: settings.kubernetesVersion,
      cwd: settings.cwd,
      cacheDir: settings.cacheDir,
      nodePath: process.execPath,
      log: presenter.detail,
    });
    if (assets) presenter.info(`envtest: KUBEBUILDER_ASSETS from ${assets.source}, wrapped so kubeflake sees inside every control plane the suite starts`);
    return assets;
  } catch (error) {
    presenter.warn(`envtest: cannot provide KUBEBUILDER_ASSETS (${(error as Error).message}); a suite that starts its own control plane runs unobserved`);
    return undefined;
  }
}

/** Runs the suite once while watching the cluster; snapshots and cleans up after it; appends it all to the log. */
function observer(context: ObserverContext) {
  const { settings, presenter, api, baseline, log } = context;
  return async ({ id, seed, plan, label }: { id: string; seed: number; plan?: ProbePlan; label: string }): Promise<{ entry: LoggedRun; meta: RunMeta }> => {
    const dir = runDir(settings.resultsDir, id);
    // The watch writes the run's timeline into its folder from the first event on.
    await ensureDir(dir);
    const { meta, timeline } = await presenter.group(`${label} seed ${seed}`, async () => {
      const instances = context.envtest && (await observeEnvtest({ instancesDir: context.envtest.instancesDir, token: context.envtest.token, runDir: dir, cwd: settings.cwd, watch: settings.watch, log: presenter.detail }));
      const auditMarks = context.auditLogs && (await markAuditLogs(context.auditLogs));
      let watch: ClusterWatch | undefined;
      if (settings.watch) {
        watch = await watchCluster(api, { timelineFile: join(dir, files.timeline) }).catch((error: Error) => {
          presenter.warn(`${id}: cannot watch the cluster (${error.message}); leaks will be attributed from creation times`);
          return undefined;
        });
      }
      try {
        const meta = await executeRun({
          id,
          seed,
          probe: plan !== undefined,
          plan,
          command: settings.command,
          framework: log.record.framework,
          runDir: dir,
          cwd: settings.cwd,
          timeoutMs: settings.runTimeoutMs,
          // A suite honouring USE_EXISTING_CLUSTER uses kubeflake's cluster (the demo's envtest mode turns it off);
          // one that starts its own control plane gets the wrapped assets.
          env: { KUBECONFIG: context.kubeconfig, USE_EXISTING_CLUSTER: 'true', ...settings.testEnv, ...context.envtest?.env, KUBEFLAKE_SEED: String(seed) },
          focus: plan ? selectionOf(plan, log.tests()).tests : undefined,
          reportGlob: settings.reportGlob,
          stress: settings.stress,
          goflags: settings.goflags,
          onOutput: presenter.detail,
        });
        const events = (await watch?.stop()) ?? [];
        for (const problem of watch?.problems ?? []) presenter.detail(`watch: ${problem}`);
        if (auditMarks) await recordSlice(auditMarks, dir, id, presenter);
        presenter.detail(`timeline: ${timelineEvents(events).length} events`);
        for (const line of describeInstances(id, (await instances?.finish()) ?? []).lines) presenter.detail(line);
        return { meta, timeline: events };
      } catch (error) {
        await watch?.stop();
        await instances?.finish();
        throw error;
      }
    });

    const run = await log.ingest(meta);
    presenter.info(formatRunLine(run, { index: Number(id.replace(/\D/g, '')), total: settings.runs, label }));
    for (const warning of run.warnings) presenter.warn(`${id}: ${warning}`);
    const after = await takeSnapshot(api);
    const problem = snapshotProblem(after, join(files.runs, id, files.after));
    const clusterGone = after.errors.some((error) => error.resource === '*');
    const envtestEvidence = await readEnvtestEvidence(dir);
    const record = await readRunRecord(dir, envtestEvidence.map((evidence) => evidence.instance.id));
    const entry = await log.addRun(run, { after: clusterGone ? undefined : after, timeline, envtest: envtestEvidence, ...(record ? { record } : {}) });
    for (const notice of runNotices(entry, settings.watch)) presenter.warn(notice.message);
    if (problem) presenter.warn(problem);
    if (clusterGone) {
      // Without the API server there is nothing to clean, attribute or run against.
      throw new Error(`the cluster stopped answering after ${id}: ${problem}. The runs so far are kept in ${settings.resultsDir}.`);
    }
    if (settings.cleanup !== 'none') {
      const cleanupPlan = planCleanup(baseline, after, {
        run: id,
        dryRun: settings.dryRun,
        protectedNamespaces: settings.protectedNamespaces,
        rules: log.rules,
        removeFinalizers: settings.removeFinalizersAfterMs !== undefined,
        graceMs: settings.removeFinalizersAfterMs,
      });
      if (settings.dryRun) for (const line of formatCleanupPlan(cleanupPlan)) presenter.info(`${id} dry-run: ${line}`);
      const cleanup = await executeCleanup(api, cleanupPlan, { log: presenter.detail });
      await log.addCleanup(entry, cleanup);
      const summary = `${cleanup.deleted.length} deleted, ${cleanup.finalizersRemoved.length} finalizers removed, ${cleanup.left.length} left`;
      if (cleanup.deleted.length + cleanup.finalizersRemoved.length + cleanup.left.length > 0) presenter.info(`  cleanup: ${summary}`);
    }
    return { entry, meta };
  };
}

/**
 * Tries a catalogue fix for each confirmed polluter that has one: located in its source, patched,
 * vetted and rerun as a pair in a scratch copy of the repository (src/fix/). Each outcome, offered
 * or not, is kept in fixes/. Nothing to try builds nothing.
 */
async function proveFixes(context: ObserverContext): Promise<void> {
  const { settings, presenter, log } = context;
  const root = log.record.root ?? settings.cwd;
  const probes = log.runs.flatMap((entry) => (entry.run.plan ? [entry.run.plan] : []));
  const { candidates, skipped } = fixCandidates(buildReport(log), probes, root);
  for (const skip of skipped) await log.addFix(skip.victim, { kind: skip.kind, polluter: skip.polluter, ...(skip.object ? { object: skip.object } : {}), offered: false, noFix: skip.reason });
  if (candidates.length === 0) return;
  let tool: Promise<string> | undefined;
  const budget = { left: settings.fixProbes };
  for (const [index, candidate] of candidates.entries()) {
    const fixDir = join(settings.resultsDir, files.fixes, String(log.fixes.length + 1));
    try {
      const fix = await presenter.group(`fix ${index + 1}/${candidates.length}: ${candidate.polluter} before ${candidate.victim}`, () => proveFix(candidate, {
        tool: () => (tool ??= goSourceTool({ projectRoot: settings.projectRoot, cacheDir: settings.cacheDir, log: presenter.detail })),
        root,
        cwd: settings.cwd,
        runPair: (pair) => runFixPair(context, pair),
        fixDir,
        budget,
        ...(settings.stress !== 'off' ? { stress: settings.stress } : {}),
        log: presenter.info,
        goEnv: settings.goflags ? { GOFLAGS: settings.goflags } : {},
      }));
      await log.addFix(candidate.victim, fix);
      presenter.info(fix.offered ? `fix: a proven patch for ${candidate.victim} in ${fix.patchFile}` : `fix: none for ${candidate.victim}: ${fix.noFix}`);
    } catch (error) {
      presenter.warn(`fix for ${candidate.victim}: ${(error as Error).message}`);
    }
  }
}

/** One pair run of a fix's proof, in the scratch copy: observed like a probe, never added to the hunt's runs. */
async function runFixPair(context: ObserverContext, pair: { id: string; cwd: string; plan: ProbePlan; runDir: string }): Promise<PairOutcome> {
  const { settings, presenter, log } = context;
  await ensureDir(pair.runDir);
  const instances = context.envtest && (await observeEnvtest({ instancesDir: context.envtest.instancesDir, token: context.envtest.token, runDir: pair.runDir, cwd: pair.cwd, watch: false, log: presenter.detail }));
  let meta: RunMeta;
  try {
    meta = await executeRun({
      id: pair.id,
      seed: pair.plan.seed,
      probe: true,
      plan: pair.plan,
      command: settings.command,
      framework: log.record.framework,
      runDir: pair.runDir,
      cwd: pair.cwd,
      timeoutMs: settings.runTimeoutMs,
      env: { KUBECONFIG: context.kubeconfig, USE_EXISTING_CLUSTER: 'true', ...settings.testEnv, ...context.envtest?.env, KUBEFLAKE_SEED: String(pair.plan.seed) },
      focus: selectionOf(pair.plan, log.tests()).tests,
      reportGlob: settings.reportGlob,
      stress: settings.stress,
      goflags: settings.goflags,
      onOutput: presenter.detail,
    });
  } finally {
    await instances?.finish();
  }
  const run = await ingestRun(pair.runDir, meta);
  const status = (id: string) => run.cases.find((c) => c.id === id)?.status ?? 'missing';
  const [polluter] = pair.plan.tests.filter((id) => id !== pair.plan.subject);
  const outcome: PairOutcome = { victim: status(pair.plan.subject), polluter: polluter ? status(polluter) : 'missing' };
  presenter.info(`  ${pair.id}: victim ${outcome.victim}, polluter ${outcome.polluter}`);
  // The shared cluster is left as the baseline found it, as after every run of the hunt.
  if (settings.cleanup !== 'none') {
    const after = await takeSnapshot(context.api);
    if (!after.errors.some((error) => error.resource === '*')) {
      const plan = planCleanup(context.baseline, after, { run: pair.id, dryRun: settings.dryRun, protectedNamespaces: settings.protectedNamespaces, rules: log.rules, removeFinalizers: settings.removeFinalizersAfterMs !== undefined, graceMs: settings.removeFinalizersAfterMs });
      await executeCleanup(context.api, plan, { log: presenter.detail });
    }
  }
  return outcome;
}

/** Copies the run's slice of the cluster's audit record into its folder; a failure costs the record, not the run. */
async function recordSlice(marks: AuditLogMark[], dir: string, id: string, presenter: Presenter): Promise<void> {
  try {
    const slice = await sliceAuditLogs(marks, join(dir, files.audit));
    presenter.detail(`record: ${slice.bytes} bytes of the API server's audit log`);
    for (const note of slice.notes) presenter.warn(`${id}: record: ${note}`);
  } catch (error) {
    presenter.warn(`${id}: cannot copy the API server's audit record (${(error as Error).message}); this run is known from the watch alone`);
  }
}

/** The folder holding `.git` above the test command's folder (report paths are relative to it), else that folder. */
function repositoryRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/** Builds the Report from results directories alone (one hunt, or several shards to merge). */
export async function rebuildReport(dirs: string[]): Promise<Report> {
  const logs: HuntLog[] = [];
  for (const dir of dirs) logs.push(await HuntLog.load(dir));
  return buildReport(logs);
}

/** A report.json someone wrote (another kubeflake, a shard, a hand edit), checked against the v1 contract before anything renders it. */
export async function readReportFile(file: string): Promise<Report> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new SettingsError(`cannot read ${file} as a report: ${(error as Error).message}`);
  }
  const checked = validateReport(value);
  if (!checked.ok) throw new SettingsError(`${file} is not a kubeflake report:\n  ${checked.errors.join('\n  ')}`);
  return checked.report;
}

export async function writeReportFiles(report: Report, resultsDir: string, jsonFile?: string): Promise<void> {
  await writeJson(join(resultsDir, files.report), report);
  if (jsonFile) await writeJson(jsonFile, report);
  await writeFile(join(resultsDir, files.markdown), renderMarkdown(report));
  await writeFile(join(resultsDir, files.html), renderHtml(report));
}

/** The report as text in one of the formats `kubeflake report` offers. */
export function renderReportAs(report: Report, format: string, options: { color?: boolean } = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'text':
      return renderTerminal(report, { color: options.color ?? false });
    default:
      throw new Error(`unknown report format "${format}": use md, html, json or text`);
  }
}

/** A snapshot of the cluster in a kubeconfig, with a one-line summary. */
export async function snapshotCluster(kubeconfig: string): Promise<{ snapshot: Snapshot; summary: string }> {
  const api = await connectKube(kubeconfig);
  const snapshot = await takeSnapshot(api);
  const summary = `${snapshot.objects.length} objects${snapshot.complete ? '' : `; ${snapshot.errors.length} types could not be listed`}`;
  return { snapshot, summary };
}

export function diffSnapshotsOf(before: Snapshot, after: Snapshot): ReturnType<typeof diffSnapshots> {
  return diffSnapshots(before, after, DEFAULT_NOISE_RULES);
}
