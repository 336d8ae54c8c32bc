// Probes and parallel runs on the example operator run by plain `go test ./...`, the suite
// starting its own envtest every run (as its repository runs it):
// - a probe (two specs) on the test binary the first run kept, against the same probe through the
//   go command (which links the binary again every time); target: the reused probe takes at most
//   what the suite itself reports (envtest start + the specs + envtest stop) plus 1 s;
// - a 6-run hunt one run at a time against `parallel: 2`, and in each the median probe against
//   the median planned run (target <= 0.4; 0.56 before binaries were reused).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneBinaries } from '../src/cluster/local.ts';
import { executeRun, type RunSpec } from '../src/runner/execute.ts';
import { loadRun } from '../src/ingest/run.ts';
import { hunt } from '../src/pipeline.ts';
import { recordingPresenter } from '../src/presenter.ts';
import { findProjectRoot, parseSettings } from '../src/settings.ts';
import type { Report } from '../src/model.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The suite's own account of a run: Ginkgo's RunTime covers BeforeSuite (envtest start), the specs and AfterSuite. */
function suiteRunTimeMs(runDir: string): number {
  const suites = JSON.parse(readFileSync(join(runDir, 'ginkgo.json'), 'utf8')) as { RunTime: number }[];
  return suites.reduce((sum, suite) => sum + suite.RunTime / 1e6, 0);
}

export async function benchProbeReuse(opts: { repeats: number }): Promise<string[]> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-probes-'));
  const assets = await controlPlaneBinaries({ buildScript: join(root, 'tools', 'build.sh') });
  const kept = join(work, 'kept');
  let n = 0;
  const run = async (extra: Partial<RunSpec>) => {
    const id = String(n++).padStart(3, '0');
    const runDir = join(work, id);
    const meta = await executeRun({
      id, seed: 11, command: ['go', 'test', './...'], framework: 'ginkgo', runDir, cwd: example, timeoutMs: 900_000,
      env: { KUBEBUILDER_ASSETS: assets, USE_EXISTING_CLUSTER: 'false', KUBECONFIG: '', MODELCACHE_FIXED: 'true' }, ...extra,
    });
    if (meta.exitCode !== 0) throw new Error(`run ${id} failed: ${meta.warnings.join('; ')} (see ${runDir}/log.txt)`);
    return { meta, runDir };
  };
  try {
    const first = await run({ keptBinaries: kept });
    const specs = (await loadRun(first.runDir)).cases.filter((c) => /iris2|annotations/.test(c.name)).slice(0, 2).map((c) => ({ name: c.name, suite: c.suite }));
    const reused: number[] = [];
    const viaGo: number[] = [];
    const overhead: number[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      // Alternated, so load on the shared machine falls on both alike.
      const probe = await run({ keptBinaries: kept, seed: 100 + i, focus: specs, probe: true });
      if (!probe.meta.binaryReuse?.reused) throw new Error(`probe ${probe.meta.id} did not reuse: ${probe.meta.binaryReuse?.why}`);
      reused.push(probe.meta.durationMs);
      overhead.push(probe.meta.durationMs - suiteRunTimeMs(probe.runDir));
      viaGo.push((await run({ seed: 100 + i, focus: specs, probe: true })).meta.durationMs);
    }
    return [
      `a probe of 2 specs, ${opts.repeats} times each way (medians; first run ${seconds(first.meta.durationMs)})`,
      `through go test:        ${seconds(median(viaGo))} (${viaGo.map(seconds).join(', ')})`,
      `on the kept binary:     ${seconds(median(reused))} (${reused.map(seconds).join(', ')})  ratio ${(median(reused) / median(viaGo)).toFixed(2)}x`,
      `kept binary beyond the suite's own time (envtest start + specs + stop): ${seconds(median(overhead))} (target <= 1 s)`,
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchParallelHunt(opts: { runs: number; maxProbes: number }): Promise<string[]> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-parallel-'));
  const huntWith = async (parallel: number): Promise<{ report: Report; ms: number }> => {
    const settings = parseSettings({
      command: ['go', 'test', './...'],
      'working-directory': example,
      runs: String(opts.runs),
      cluster: 'local',
      results: join(work, `parallel-${parallel}`),
      seed: '2026',
      parallel: String(parallel),
      'max-probes': String(opts.maxProbes),
      'remove-finalizers': true,
      'finalizer-grace': '5s',
    }, { KUBECONFIG: '' });
    // The planted suite, starting its own envtest: as the demo runs it.
    settings.testEnv = { USE_EXISTING_CLUSTER: 'false', MODELCACHE_FIXED: 'false' };
    const started = performance.now();
    const report = await hunt(settings, recordingPresenter());
    return { report, ms: performance.now() - started };
  };
  const probeRatio = (report: Report) => {
    const planned = report.runs.filter((run) => !run.probe).map((run) => run.durationMs);
    const probes = report.runs.filter((run) => run.probe).map((run) => run.durationMs);
    return probes.length ? `median probe ${seconds(median(probes))} / median planned run ${seconds(median(planned))} = ${(median(probes) / median(planned)).toFixed(2)} (target <= 0.4)` : 'no probes';
  };
  try {
    const serial = await huntWith(1);
    const parallel = await huntWith(2);
    const count = (report: Report) => `${report.runs.filter((run) => !run.probe).length} runs + ${report.runs.filter((run) => run.probe).length} probes`;
    return [
      `a hunt of the planted example (${opts.runs} runs, at most ${opts.maxProbes} probes), the suite starting its own envtest`,
      `one at a time:  ${seconds(serial.ms)} (${count(serial.report)}); ${probeRatio(serial.report)}`,
      `parallel 2:     ${seconds(parallel.ms)} (${count(parallel.report)}); ${probeRatio(parallel.report)}`,
      `parallel / serial: ${(parallel.ms / serial.ms).toFixed(2)}x`,
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
