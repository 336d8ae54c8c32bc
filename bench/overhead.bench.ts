// Overhead: the example suite (fixed variant, so every run does the same work) run N times bare,
// then N times under kubeflake (watch, snapshots, cleanup, parsing, report; probes off), then N
// times bare again, all on one local control plane. Goal: kubeflake within 5% of bare.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { controlPlaneBinaries, startLocalCluster } from '../src/cluster/local.ts';
import { runProcess } from '../src/exec.ts';
import { ensureGinkgo } from '../examples/harness/demo.ts';
import { hunt } from '../src/pipeline.ts';
import { recordingPresenter } from '../src/presenter.ts';
import { defaultCacheDir, findProjectRoot, parseSettings } from '../src/settings.ts';

export async function benchOverhead(opts: { runs: number }): Promise<string[]> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-overhead-'));
  const ginkgo = await ensureGinkgo(example, defaultCacheDir(), () => {});
  const binDir = await controlPlaneBinaries({ buildScript: join(root, 'tools', 'build.sh') });
  const cluster = await startLocalCluster({ binDir, stateDir: join(work, 'cluster') });
  const env = {
    ...process.env,
    PATH: `${ginkgo.dir}${delimiter}${process.env.PATH ?? ''}`,
    KUBECONFIG: cluster.kubeconfigPath,
    USE_EXISTING_CLUSTER: 'true',
    MODELCACHE_FIXED: 'true',
  };
  const seeds = Array.from({ length: opts.runs }, (_, i) => 1000 + i * 7919);
  const bare = async (label: string): Promise<number> => {
    const started = performance.now();
    for (const seed of seeds) {
      const dir = join(work, `${label}-${seed}`);
      const result = await runProcess(['ginkgo', '--randomize-all', `--seed=${seed}`, `--junit-report=${dir}/junit.xml`, `--json-report=${dir}/ginkgo.json`, './...'], { cwd: example, env, capture: true });
      if (result.exitCode !== 0) throw new Error(`bare run failed (seed ${seed}): ${result.stdout.slice(-2000)}`);
    }
    return performance.now() - started;
  };
  try {
    await bare('warmup'); // compiles the suite once, for everyone
    const before = await bare('bare-a');
    const started = performance.now();
    const settings = parseSettings({
      command: ['ginkgo', './...'],
      'working-directory': example,
      cluster: 'existing',
      kubeconfig: cluster.kubeconfigPath,
      // As the bare runs: the suite runs against the local control plane.
      'use-existing-cluster': true,
      runs: String(opts.runs),
      'max-probes': '0',
      results: join(work, 'kubeflake-results'),
      seed: '1000',
    }, {});
    settings.testEnv = { ...settings.testEnv, PATH: env.PATH, MODELCACHE_FIXED: 'true' };
    const report = await hunt(settings, recordingPresenter());
    const withKubeflake = performance.now() - started;
    const after = await bare('bare-b');
    const bareMs = (before + after) / 2;
    const overhead = withKubeflake / bareMs - 1;
    return [
      `${opts.runs} runs of the fixed example suite on the local control plane`,
      `bare ginkgo:      ${(bareMs / 1000).toFixed(1)} s (mean of ${(before / 1000).toFixed(1)} s before and ${(after / 1000).toFixed(1)} s after)`,
      `under kubeflake:  ${(withKubeflake / 1000).toFixed(1)} s (verdict ${report.verdict}; baseline, watch, snapshots, cleanup, report included)`,
      `overhead:         ${(overhead * 100).toFixed(1)}% (goal: under 5%) ratio ${(withKubeflake / bareMs).toFixed(3)}x`,
    ];
  } finally {
    await cluster.stop({ remove: true });
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchOverhead({ runs: Number(process.argv[2] ?? 3) })) console.log(line);
}
