// The only place that sequences I/O: provision a cluster when one is wanted and take its
// baseline, run the suite N times (watching, snapshotting and cleaning up that cluster after each
// run, observing the envtest control planes the suite starts), run the probes analysis asks
// for, and append everything to the hunt log; the report is built from that log, exactly as
// `kubeflake report DIR` builds it from the log on disk.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ExtraRun, ProbePlan, Report, RunMeta, Snapshot, TestId, TimelineEntry } from './model.ts';
import { SettingsError, type Settings } from './settings.ts';
import type { Presenter } from './presenter.ts';
import { ensureDir, files, runDir, runId, writeJson } from './results.ts';
import { HuntLog, type LoggedRun } from './hunt-log.ts';
import { buildReport, runNotices } from './build-report.ts';
import { chooseCluster, dockerOnPath, idleClusterAfterFirstRun, provisionCluster, type ProvisionedCluster } from './cluster/provision.ts';
import { connectKube, type KubeApi } from './cluster/kube.ts';
import { markAuditLogs, sliceAuditLogs, type AuditLogMark } from './cluster/audit-log.ts';
import { takeSnapshot, snapshotProblem } from './cluster/snapshot.ts';
import { diffSnapshots } from './cluster/diff.ts';
import { DEFAULT_NOISE_RULES } from './cluster/noise.ts';
import { timelineEvents, watchCluster, type ClusterWatch } from './cluster/watch.ts';
import { INSTANCES_ENV, OBSERVATION_ENV, provideEnvtestAssets, type ProvidedEnvtestAssets } from './envtest/assets.ts';
import { describeInstances, packageModes, packagesOfRun, readEnvtestEvidence } from './envtest/evidence.ts';
import { observeEnvtest } from './envtest/observe.ts';
import { readRunRecord } from './record/read.ts';
import { controlPlaneBinaries } from './cluster/local.ts';
import { mergeLeaks, settleAmbiguous } from './cluster/attribution.ts';
import { executeCleanup, formatCleanupPlan, planCleanup } from './cluster/cleanup.ts';
import { huntOptions, planProbes } from './analysis/index.ts';
import { placedRecords } from './record/placed.ts';
import { infrastructureCause, judgeableRuns } from './analysis/infrastructure.ts';
import { huntChangedSpecs } from './changed/runs.ts';
import type { RecordedRun } from './changed/plan.ts';
import { commandStyle, detectFramework, selectionOf } from './frameworks/index.ts';
import { detectExecutable, driveStyleOf, firstRunStop, frameworkAfterFirstRun, programWord } from './frameworks/go-exec-detect.ts';
import { executeRun } from './runner/execute.ts';
import { interruption } from './exec.ts';
import { stressPlan } from './runner/stress.ts';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { autoParallel, sideBySide, sideBySideWidth } from './runner/side-by-side.ts';
import { seedsFor } from './runner/seeds.ts';
import { ingestRun } from './ingest/run.ts';
import { goSourceTool } from './changed/gosource.ts';
import { fixCandidates, sharedVariableCandidates } from './fix/candidates.ts';
import { proveFix, type PairOutcome, type ProofContext } from './fix/prove.ts';
import { proveSharedVariableFix } from './fix/sharedvar.ts';
import { formatRunLine } from './report/run-line.ts';
import { formatDuration } from './report/text.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderHtml } from './report/html.ts';
import { renderTerminal } from './report/terminal.ts';
import { validateReport } from './report/validate.ts';

/** The whole hunt. Never throws for a broken run, report or cluster: the report says what happened. */
export async function hunt(settings: Settings, presenter: Presenter): Promise<Report> {
  // The whole record, defaults filled in, is saved in hunt.json: a rebuilt report replays under it.
  const options = huntOptions({ maxProbes: settings.maxProbes });
  const sources = await Promise.all(settings.mergeFrom.map((dir) => HuntLog.load(dir)));
  const wanted = chooseCluster({
    requested: settings.cluster,
    useExistingCluster: settings.useExistingCluster,
    autoCluster: settings.autoCluster,
    docker: settings.cluster === 'auto' && settings.autoCluster === 'kind' && dockerOnPath(settings.searchPath),
  });
  const log = await HuntLog.start(settings.resultsDir, {
    command: settings.command,
    // The record owns the framework: the first run may correct it (afterFirstRun), and everything reads it there.
    framework: settings.framework === 'auto' ? detectFramework(settings.command, { reportGlob: settings.reportGlob }) : settings.framework,
    cluster: wanted.cluster ?? 'none',
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
    infraThreshold: settings.infraThreshold,
  });
  for (const source of sources) for (const error of source.errors) await log.fail(`${source.dir}: ${error}`);
  if (settings.stress !== 'off') {
    const pressure = stressPlan(settings.stress, availableParallelism());
    presenter.info(`stress: ${settings.stress} (the tests run with GOMAXPROCS=${String(pressure.gomaxprocs)}, ${pressure.loadThreads} busy thread(s) beside each run)`);
  }
  if (log.record.movedAside) presenter.warn(`${settings.resultsDir} held an earlier hunt: moved it to ${log.record.movedAside}`);

  let cluster: ProvisionedCluster | undefined;
  let envtest: ProvidedEnvtestAssets | undefined;
  let keptBinaries: string | undefined;
  let width = 1;
  try {
    if (settings.cluster === 'auto') presenter.info(wanted.why);
    let shared: SharedCluster | undefined;
    if (wanted.cluster) {
      const kind = wanted.cluster;
      cluster = await presenter.group(`cluster: ${kind}`, () => provisionCluster({
        cluster: kind,
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
      shared = await observeCluster(cluster, log, presenter);
    }

    envtest = await envtestAssets(settings, presenter);
    // Build once, run many: the test binaries the first go test run builds, for the runs and probes after it.
    keptBinaries = settings.reuseBinaries ? await mkdtemp(join(tmpdir(), 'kubeflake-test-binaries-')) : undefined;
    const context: ObserverContext = { settings: cluster?.cleanupDryRun ? { ...settings, dryRun: true } : settings, presenter, shared, log, envtest, keptBinaries };
    const { execute, record, observe } = observer(context);
    // What the first run showed decides the rest: what framework really runs, whether any run can
    // report at all, and whether the provided cluster is used by any test.
    const afterFirstRun = async ({ entry, meta }: { entry: LoggedRun; meta: RunMeta }): Promise<void> => {
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
      const packages = packageModes([{ id: entry.run.id, packages: packagesOfRun(entry.run, settings.cwd), instances: entry.envtest ?? [] }]);
      if (cluster && context.shared) {
        const idle = idleClusterAfterFirstRun({ cluster: cluster.kind, run: entry.run.id, packages });
        if (!idle.release) return;
        presenter.info(idle.message ?? '');
        context.shared.api.close();
        context.shared = undefined;
        log.record.clusterReleasedAfter = entry.run.id;
        const released = cluster;
        cluster = undefined;
        await released.teardown({ failed: false });
      } else if (!wanted.cluster && packages.some((plane) => plane.mode !== 'envtest')) {
        const none = packages.filter((plane) => plane.mode !== 'envtest').map((plane) => plane.package).slice(0, 3).join(', ');
        presenter.info(`${entry.run.id}: ${none} started no envtest of its own; kubeflake made no cluster (no existing-cluster mode), so whatever cluster it reached is not watched: ` +
          'set use-existing-cluster: true (--use-existing-cluster) if the suite runs against a cluster');
      }
    };
    // Side by side after the first run, when its packages each started their own envtest.
    const requested = settings.parallel === 'auto' ? autoParallel(availableParallelism(), totalmem()) : settings.parallel;
    const parallelAfter = (entry: LoggedRun | undefined, meta?: RunMeta): number => {
      // A cluster still watched is one watch, one record and one cleanup: its runs go one at a time.
      if (!entry || requested <= 1 || context.shared) return 1;
      const decision = sideBySideWidth(requested, {
        ...(meta?.testBinaries ? { binaries: meta.testBinaries.filter((binary) => !binary.skipped).length } : {}),
        envtestInstances: entry.envtest?.length ?? 0,
        // The shared cluster's own evidence only: an envtest instance's leaks join entry.leaks too.
        sharedClusterUse: entry.leftover.length + timelineEvents(entry.timeline).length,
      });
      presenter.info(decision.width > 1 ? `parallel: ${decision.width} runs side by side (${decision.why})` : `parallel: one run at a time (${decision.why})`);
      return decision.width;
    };
    if (sources.length > 0) {
      // Probe after merge: the shards ran the planned runs; this hunt probes from all of them.
      const planned = sources.flatMap((source) => source.runs.filter((e) => !e.run.probe).map((entry) => ({ source, entry })));
      planned.sort((a, b) => a.entry.run.id.localeCompare(b.entry.run.id));
      for (const { source, entry } of planned) await log.adopt(source, entry);
      presenter.info(`merged ${log.runs.length} planned runs from ${sources.length} results directories`);
      width = parallelAfter(log.runs[0]);
    } else {
      const seeds = seedsFor(settings.runs, settings.baseSeed);
      const planned = [...seeds.entries()]
        .filter(([index]) => !settings.shard || index % settings.shard.count === settings.shard.index)
        .map(([index, seed]): Observation => ({ id: runId(index), seed, label: `run ${index + 1}/${seeds.length}` }));
      const [first, ...rest] = planned;
      if (first) {
        stopIfInterrupted(log);
        const observed = await observe(first);
        await afterFirstRun(observed);
        width = parallelAfter(observed.entry, observed.meta);
      }
      await sideBySide(rest, width, (run) => (stopIfInterrupted(log), execute(run, width > 1)), record);
      // The specs the change under test adds or changes get their extra runs before any probe.
      if (settings.changedSince && settings.changedRuns > 0) {
        await huntChangedSpecs({
          since: settings.changedSince,
          plannedRuns: settings.runs,
          changedRuns: settings.changedRuns,
          baseSeed: settings.baseSeed,
          ...(settings.shard ? { shard: settings.shard } : {}),
          cwd: settings.cwd,
          projectRoot: settings.projectRoot,
          cacheDir: settings.cacheDir,
          tests: () => log.tests(),
          judgedRuns: () => judgeableRuns(log.runs.map((entry) => entry.run), settings.infraThreshold).judged,
          leaks: () => mergeLeaks(settleAmbiguous(log.runs.map((entry) => entry.leaks))),
          recorded: () => recordedRuns(log, settings.infraThreshold),
          record: (change) => log.setChanged(change),
          run: (args) => {
            stopIfInterrupted(log);
            return observe(args);
          },
          info: presenter.info,
          warn: presenter.warn,
          detail: presenter.detail,
        });
      }
    }

    // Probes: analysis plans focused reruns from the evidence so far, until it has what it needs (or probe-time is up).
    const probingFrom = Date.now();
    for (let probeIndex = 0; ; ) {
      const plans = planProbes({
        ...options,
        // Probes are spent on what the tests did, never on runs the environment or an interruption spoiled.
        runs: judgeableRuns(log.runs.map((entry) => entry.run), settings.infraThreshold).judged,
        framework: log.record.framework,
        command: settings.command,
        leaks: mergeLeaks(settleAmbiguous(log.runs.map((entry) => entry.leaks))),
        records: placedRecords(log.runs),
        batch: width,
      });
      if (plans.length === 0) break;
      if (settings.probeTimeMs !== undefined && Date.now() - probingFrom >= settings.probeTimeMs) {
        const message = `probing stopped at the probe-time budget (${formatDuration(settings.probeTimeMs)}) after ${probeIndex} probe(s), with ${plans.length > 1 ? 'probes' : 'a probe'} still planned: the verdicts say what the runs and those probes showed`;
        presenter.warn(message);
        await log.note(message);
        break;
      }
      const probes = plans.map((plan): Observation => {
        // Shards probe on their own: their probe ids must not collide when merged.
        const id = settings.shard ? `probe-s${settings.shard.index + 1}-${runId(probeIndex++)}` : runId(probeIndex++, true);
        presenter.detail(`${id}: ${plan.hypothesis}`);
        const subject = log.tests().get(plan.subject)?.name ?? plan.subject;
        return { id, seed: plan.seed, plan, label: `probe ${probeIndex} (${plan.purpose} ${subject}${plan.stress ? `, under stress ${plan.stress}` : ''})` };
      });
      await sideBySide(probes, width, (probe) => (stopIfInterrupted(log), execute(probe, width > 1)), async (executed) => {
        const { entry } = await record(executed);
        // The planner would ask for the same probe again: a broken environment ends the probing instead.
        const broken = infrastructureCause(entry.run, settings.infraThreshold);
        if (broken) throw new Error(`${executed.id} was an infrastructure run (${broken}): probing stops here; the runs so far are judged`);
      });
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
    if (keptBinaries) await rm(keptBinaries, { recursive: true, force: true });
    await log.finish(Date.now());
  }

  const report = buildReport(log);
  await writeReportFiles(report, settings.resultsDir, settings.jsonFile);
  return report;
}

interface ObserverContext {
  settings: Settings;
  presenter: Presenter;
  /** The cluster kubeflake provided, while it is in use: absent with none, or once the first run showed no test uses it. */
  shared?: SharedCluster;
  log: HuntLog;
  /** Wrapped KUBEBUILDER_ASSETS, for suites that start their own control plane. */
  envtest?: ProvidedEnvtestAssets;
  /** Build once, run many: the hunt's folder of kept test binaries (reuse-binaries). */
  keptBinaries?: string;
}

/** A provided cluster as the runs see it: watched, snapshotted against its baseline, cleaned up. */
interface SharedCluster {
  api: KubeApi;
  baseline: Snapshot;
  /** For the test command. */
  kubeconfig: string;
  /** Its audit logs on this host: each run's slice goes into its folder. */
  auditLogs?: string[];
}

/** Connects to a provided cluster and takes its baseline (the hunt stops when it cannot). */
async function observeCluster(cluster: ProvisionedCluster, log: HuntLog, presenter: Presenter): Promise<SharedCluster> {
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
  return { api, baseline, kubeconfig: cluster.kubeconfigPath, ...(cluster.auditLogs?.length ? { auditLogs: cluster.auditLogs } : {}) };
}

/** KUBEBUILDER_ASSETS kubeflake provides and wraps; a hunt goes on without it (only envtest suites lose sight). */
async function envtestAssets(settings: Settings, presenter: Presenter): Promise<ProvidedEnvtestAssets | undefined> {
  if (settings.envtest === 'off') return undefined;
  try {
    const assets = await provideEnvtestAssets({
      given: settings.kubebuilderAssets,
      // Built only when the release archives are unreachable (offline), and said first.
      localBinaries: () => controlPlaneBinaries({
        buildScript: join(settings.projectRoot, 'tools', 'build.sh'),
        cacheDir: settings.cacheDir,
        binaries: ['etcd', 'kube-apiserver'],
        log: presenter.detail,
        progress: presenter.info,
      }),
      kubernetesVersion: settings.kubernetesVersion,
      cwd: settings.cwd,
      cacheDir: settings.cacheDir,
      nodePath: process.execPath,
      log: presenter.detail,
      progress: presenter.info,
    });
    if (assets) presenter.info(`envtest: KUBEBUILDER_ASSETS from ${assets.source}, wrapped so kubeflake sees inside every control plane the suite starts`);
    return assets;
  } catch (error) {
    presenter.warn(`envtest: cannot provide KUBEBUILDER_ASSETS (${(error as Error).message}); a suite that starts its own control plane runs unobserved`);
    return undefined;
  }
}

/** One run or probe to make. */
interface Observation {
  id: string;
  seed: number;
  plan?: ProbePlan;
  /** A run beyond `runs` for the changed specs: its focus, and why it was made. */
  focus?: TestId[];
  extra?: ExtraRun;
  label: string;
}

/**
 * Runs the suite once while watching the cluster (`execute`: side by side with other runs when
 * asked); snapshots and cleans up after it and appends it all to the log (`record`: one run at a
 * time, in run order). `observe` does both.
 */
function observer(context: ObserverContext) {
  const { settings, presenter, log } = context;
  const execute = async ({ id, seed, plan, focus, extra, label }: Observation, sideBySide = false): Promise<Executed> => {
    const dir = runDir(settings.resultsDir, id);
    const shared = context.shared;
    // The watch writes the run's timeline into its folder from the first event on.
    await ensureDir(dir);
    // Side by side, groups would interleave: a start line, and output lines marked with the run.
    const inGroup = <T>(title: string, work: () => Promise<T>): Promise<T> => (sideBySide ? (presenter.info(`${title}: started`), work()) : presenter.group(title, work));
    const detail = sideBySide ? (line: string) => presenter.detail(`${id}: ${line}`) : presenter.detail;
    // Each run's envtest instances announce themselves in its own folder, so runs side by side never take each other's.
    const instancesDir = context.envtest ? join(context.envtest.instancesDir, 'runs', id) : undefined;
    const { meta, timeline } = await inGroup(`${label} seed ${seed}`, async () => {
      if (instancesDir) await ensureDir(instancesDir);
      const instances = context.envtest && instancesDir ? await observeEnvtest({ instancesDir, token: context.envtest.token, runDir: dir, cwd: settings.cwd, watch: settings.watch, log: detail }) : undefined;
      const auditMarks = shared?.auditLogs && (await markAuditLogs(shared.auditLogs));
      let watch: ClusterWatch | undefined;
      if (settings.watch && shared) {
        watch = await watchCluster(shared.api, { timelineFile: join(dir, files.timeline) }).catch((error: Error) => {
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
          // A probe only measures a rate: its own envtest keeps the record alone (no gate, no hold, no snapshots).
          env: { ...suiteEnv(context, instancesDir, seed), ...(plan ? { [OBSERVATION_ENV]: 'record' } : {}) },
          focus: plan ? selectionOf(plan, log.tests()).tests : focus ? selectionOf({ seed, tests: focus }, log.tests()).tests : undefined,
          extra,
          reportGlob: settings.reportGlob,
          // A hazard probe asks for CPU pressure when its window is short.
          stress: plan?.stress ?? settings.stress,
          goflags: settings.goflags,
          onOutput: detail,
          ...(context.keptBinaries ? { keptBinaries: context.keptBinaries } : {}),
        });
        const events = (await watch?.stop()) ?? [];
        for (const problem of watch?.problems ?? []) detail(`watch: ${problem}`);
        if (auditMarks) await recordSlice(auditMarks, dir, id, presenter);
        detail(`timeline: ${timelineEvents(events).length} events`);
        for (const line of describeInstances(id, (await instances?.finish()) ?? []).lines) detail(line);
        if (meta.binaryReuse) detail(meta.binaryReuse.reused ? 'ran the test binaries an earlier run built' : `built by go test: ${meta.binaryReuse.why ?? ''}`);
        return { meta, timeline: events };
      } catch (error) {
        await watch?.stop();
        await instances?.finish();
        throw error;
      }
    });
    return { id, label, dir, meta, timeline };
  };

  const record = async ({ id, label, dir, meta, timeline }: Executed): Promise<{ entry: LoggedRun; meta: RunMeta }> => {
    const shared = context.shared;
    const run = await log.ingest(meta);
    presenter.info(formatRunLine(run, { index: Number(id.replace(/\D/g, '')), total: settings.runs, label }));
    if (meta.interrupted) {
      // Cut short by the interruption: kept as it is, judged by nobody; nothing more is done to the cluster.
      await log.addRun(run, { timeline });
      throw new HuntInterrupted(meta.interrupted, id, log);
    }
    for (const warning of run.warnings) presenter.warn(`${id}: ${warning}`);
    const after = shared && (await takeSnapshot(shared.api));
    const problem = after && snapshotProblem(after, join(files.runs, id, files.after));
    const clusterGone = after?.errors.some((error) => error.resource === '*') ?? false;
    const envtestEvidence = await readEnvtestEvidence(dir);
    const runRecord = await readRunRecord(dir, envtestEvidence.map((evidence) => evidence.instance.id));
    const entry = await log.addRun(run, { after: clusterGone ? undefined : after, timeline, envtest: envtestEvidence, ...(runRecord ? { record: runRecord } : {}) });
    for (const notice of runNotices(entry, settings.watch && entry.observed)) presenter.warn(notice.message);
    if (problem) presenter.warn(problem);
    if (clusterGone) {
      // The run's failures are the control plane's, not the tests': recorded, so a rebuilt report knows it too.
      run.controlPlaneLost = problem ?? 'the API server did not answer';
      await writeJson(join(dir, files.meta), { ...meta, controlPlaneLost: run.controlPlaneLost });
      // Without the API server there is nothing to clean, attribute or run against.
      throw new Error(`the cluster stopped answering after ${id}: ${problem}. The runs so far are kept in ${settings.resultsDir}.`);
    }
    if (settings.cleanup !== 'none' && shared && after) {
      const cleanupPlan = planCleanup(shared.baseline, after, {
        run: id,
        dryRun: settings.dryRun,
        protectedNamespaces: settings.protectedNamespaces,
        rules: log.rules,
        removeFinalizers: settings.removeFinalizersAfterMs !== undefined,
        graceMs: settings.removeFinalizersAfterMs,
      });
      if (settings.dryRun) for (const line of formatCleanupPlan(cleanupPlan)) presenter.info(`${id} dry-run: ${line}`);
      const cleanup = await executeCleanup(shared.api, cleanupPlan, { log: presenter.detail });
      await log.addCleanup(entry, cleanup);
      const summary = `${cleanup.deleted.length} deleted, ${cleanup.finalizersRemoved.length} finalizers removed, ${cleanup.left.length} left`;
      if (cleanup.deleted.length + cleanup.finalizersRemoved.length + cleanup.left.length > 0) presenter.info(`  cleanup: ${summary}`);
    }
    return { entry, meta };
  };
  return { execute, record, observe: async (observation: Observation) => record(await execute(observation)) };
}

/** A run made and not yet recorded. */
interface Executed {
  id: string;
  label: string;
  dir: string;
  meta: RunMeta;
  timeline: TimelineEntry[];
}

/** The hunt was interrupted (SIGINT/SIGTERM, a cancelled job): what finished is reported, nothing more is run. */
class HuntInterrupted extends Error {
  constructor(signal: NodeJS.Signals | string, cut: string | undefined, log: HuntLog) {
    const finished = log.runs.filter((entry) => !entry.run.interrupted).length;
    const during = cut ? ` during ${cut} (kept, marked interrupted, not judged)` : '';
    super(`interrupted by ${signal}${during}: the report holds the ${finished} run${finished === 1 ? '' : 's'} that finished`);
  }
}

/** The judged runs that kept the API server's record, with every request of it (the cluster's slice and each envtest instance's). */
function recordedRuns(log: HuntLog, infraThreshold: number): RecordedRun[] {
  const judged = new Set(judgeableRuns(log.runs.map((entry) => entry.run), infraThreshold).judged.map((run) => run.id));
  return log.runs
    .filter((entry) => judged.has(entry.run.id) && entry.record)
    .map((entry) => ({ run: entry.run, entries: [...(entry.record?.cluster?.entries ?? []), ...Object.values(entry.record?.envtest ?? {}).flatMap((record) => record.entries)] }))
    .filter((recorded) => recorded.entries.length > 0);
}

function stopIfInterrupted(log: HuntLog): void {
  const signal = interruption();
  if (signal) throw new HuntInterrupted(signal, undefined, log);
}

/**
 * Tries a catalogue fix for each confirmed polluter that has one: located in its source, patched,
 * vetted and rerun as a pair in a scratch copy of the repository (src/fix/); one that links to its
 * victim through no object has the Go variable they share looked for (src/fix/sharedvar.ts). Each
 * outcome, offered or not, is kept in fixes/. Nothing to try builds nothing.
 */
async function proveFixes(context: ObserverContext): Promise<void> {
  const { settings, presenter, log } = context;
  const root = log.record.root ?? settings.cwd;
  const probes = log.runs.flatMap((entry) => (entry.run.plan ? [entry.run.plan] : []));
  const report = buildReport(log);
  const { candidates, skipped } = fixCandidates(report, probes, root);
  // A victim no object links to its polluter has the Go source looked at instead (one fix a victim:
  // a catalogue candidate goes first); what that proof finds says more than the skip.
  const shared = sharedVariableCandidates(report, probes, root).filter((c) => !candidates.some((other) => other.victim === c.victim));
  const sharedVictims = new Set(shared.map((c) => c.victim));
  for (const skip of skipped.filter((s) => !sharedVictims.has(s.victim))) await log.addFix(skip.victim, { kind: skip.kind, polluter: skip.polluter, ...(skip.object ? { object: skip.object } : {}), offered: false, noFix: skip.reason });
  const proofs = [
    ...candidates.map((candidate) => ({ candidate, prove: (ctx: ProofContext) => proveFix(candidate, ctx) })),
    ...shared.map((candidate) => ({ candidate, prove: (ctx: ProofContext) => proveSharedVariableFix(candidate, ctx) })),
  ];
  if (proofs.length === 0) return;
  let tool: Promise<string> | undefined;
  const budget = { left: settings.fixProbes };
  for (const [index, { candidate, prove }] of proofs.entries()) {
    const fixDir = join(settings.resultsDir, files.fixes, String(log.fixes.length + 1));
    try {
      const fix = await presenter.group(`fix ${index + 1}/${proofs.length}: ${candidate.polluter} before ${candidate.victim}`, () => prove({
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
      // The kept fix names its patch file in the results directory.
      const kept = await log.addFix(candidate.victim, fix);
      presenter.info(kept.offered ? `fix: a proven patch for ${candidate.victim} in ${kept.patchFile}` : `fix: none for ${candidate.victim}: ${kept.noFix}`);
    } catch (error) {
      presenter.warn(`fix for ${candidate.victim}: ${(error as Error).message}`);
    }
  }
}

/** One pair run of a fix's proof, in the scratch copy: observed like a probe, never added to the hunt's runs. */
async function runFixPair(context: ObserverContext, pair: { id: string; cwd: string; plan: ProbePlan; runDir: string }): Promise<PairOutcome> {
  const { settings, presenter, log } = context;
  const shared = context.shared;
  await ensureDir(pair.runDir);
  // Its envtest instances announce themselves in a folder of their own, as a run's do.
  const instancesDir = context.envtest ? join(context.envtest.instancesDir, 'fixes', pair.id) : undefined;
  if (instancesDir) await ensureDir(instancesDir);
  const instances = context.envtest && instancesDir ? await observeEnvtest({ instancesDir, token: context.envtest.token, runDir: pair.runDir, cwd: pair.cwd, watch: false, log: presenter.detail }) : undefined;
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
      // The control plane the hunt's runs had.
      env: suiteEnv(context, instancesDir, pair.plan.seed),
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
  if (settings.cleanup !== 'none' && shared) {
    const after = await takeSnapshot(shared.api);
    if (!after.errors.some((error) => error.resource === '*')) {
      const plan = planCleanup(shared.baseline, after, { run: pair.id, dryRun: settings.dryRun, protectedNamespaces: settings.protectedNamespaces, rules: log.rules, removeFinalizers: settings.removeFinalizersAfterMs !== undefined, graceMs: settings.removeFinalizersAfterMs });
      await executeCleanup(shared.api, plan, { log: presenter.detail });
    }
  }
  return outcome;
}

/**
 * The environment a run of the suite gets. The suite chooses its control plane as in its
 * repository (settings.testEnv holds USE_EXISTING_CLUSTER=true only in the existing-cluster mode):
 * the shared cluster's kubeconfig while one is provided, and for its own envtest the wrapped assets
 * and the folder where this run's instances announce themselves.
 */
function suiteEnv(context: ObserverContext, instancesDir: string | undefined, seed: number): Record<string, string> {
  return {
    ...(context.shared ? { KUBECONFIG: context.shared.kubeconfig } : {}),
    ...context.settings.testEnv,
    ...context.envtest?.env,
    ...(instancesDir ? { [INSTANCES_ENV]: instancesDir } : {}),
    KUBEFLAKE_SEED: String(seed),
  };
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
