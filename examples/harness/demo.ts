// `kubeflake demo`: the whole hunt on the example operator (examples/modelcache), in its own
// envtest or against the local control plane, then a check of what it found against the suite's
// ground truth.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Report } from '../../src/model.ts';
import { defaultCacheDir, findProjectRoot, parseSettings } from '../../src/settings.ts';
import { runProcess } from '../../src/exec.ts';
import { hunt } from '../../src/pipeline.ts';
import { terminalPresenter } from '../../src/presenter.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { compareWithGroundTruth, type GroundTruth, type GroundTruthCheck } from './ground-truth.ts';

export interface DemoOptions {
  runs?: string;
  results?: string;
  fixed: boolean;
  /**
   * envtest (default): the suite starts its own envtest control plane in every run, as its
   * repository runs it; kubeflake provides and wraps KUBEBUILDER_ASSETS and watches inside.
   * cluster: the existing-cluster mode (use-existing-cluster): the suite runs against kubeflake's
   * local control plane (USE_EXISTING_CLUSTER=true).
   */
  mode?: 'envtest' | 'cluster';
  seed?: string;
  verbose: boolean;
  /** Where the summary goes (stdout by default); progress goes to the presenter (stderr). */
  write?: (text: string) => void;
}

/**
 * Six runs leave five hunts open at once (two victims, one of them a race, the brittle spec, the
 * cleaner, the timing flake): the demo's probe budget lets each conclude. Simulated over 100
 * suites (test/unit/analysis-modelcache.test.ts), 40 leaves about one in 50 with the race's hunt
 * cut short, 30 about one in 12.
 */
export const DEMO_MAX_PROBES = 40;

export async function demo(options: DemoOptions): Promise<{ report: Report; check: GroundTruthCheck }> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const presenter = terminalPresenter(options.verbose, options.write);
  const ginkgo = await ensureGinkgo(example, defaultCacheDir(), presenter.info);
  const mode = options.mode ?? 'envtest';
  const settings = parseSettings({
    // envtest mode runs the suite as its repository does, by plain go test; cluster mode by the ginkgo CLI.
    command: mode === 'envtest' ? ['go', 'test', './...'] : ['ginkgo', './...'],
    'working-directory': example,
    runs: options.runs ?? (options.fixed ? '20' : '6'),
    // cluster: auto, as a user gets it: no cluster in envtest mode, the local control plane in cluster mode.
    'use-existing-cluster': mode === 'cluster',
    results: options.results ?? 'kubeflake-results',
    seed: options.seed,
    // The suite's controller dies with each run, so its finalizers can only be removed by us.
    'remove-finalizers': true,
    'finalizer-grace': '5s',
    'max-probes': String(DEMO_MAX_PROBES),
    verbose: options.verbose,
  }, { ...process.env, KUBECONFIG: '' });
  settings.testEnv = {
    ...settings.testEnv,
    PATH: `${ginkgo.dir}${delimiter}${process.env.PATH ?? ''}`,
    MODELCACHE_FIXED: options.fixed ? 'true' : 'false',
  };
  if (mode === 'envtest') delete settings.kubebuilderAssets; // kubeflake provides them (release archive, or its build offline), whatever the shell says
  presenter.info(`kubeflake demo: ${settings.runs} runs of the ${options.fixed ? 'fixed' : 'planted'} example suite in ${mode === 'envtest' ? 'its own envtest control plane' : 'kubeflake\'s local cluster'} (${example})`);
  const report = await hunt(settings, presenter);
  write(renderTerminal(report, { color: !options.write && process.stdout.isTTY }));

  const truth = JSON.parse(await readFile(join(example, 'ground-truth.json'), 'utf8')) as GroundTruth;
  const check = compareWithGroundTruth(report, truth, { fixed: options.fixed });
  write(`\nground truth (${join('examples', 'modelcache', 'ground-truth.json')}):\n`);
  for (const line of check.lines) write(`  ${line}\n`);
  write(`${check.ok ? 'every planted role was named correctly' : `${check.mismatches} mismatch(es) with the ground truth`}\n`);
  write(`results: ${settings.resultsDir} (report.md, report.html, report.json)\n`);
  return { report, check };
}

/** The ginkgo CLI at the version examples/modelcache pins, built once into the cache. */
export async function ensureGinkgo(moduleDir: string, cacheDir: string, log: (line: string) => void): Promise<{ dir: string; path: string }> {
  const goMod = await readFile(join(moduleDir, 'go.mod'), 'utf8');
  const version = /github\.com\/onsi\/ginkgo\/v2 (v[\w.-]+)/.exec(goMod)?.[1];
  if (!version) throw new Error(`${join(moduleDir, 'go.mod')} does not require github.com/onsi/ginkgo/v2`);
  const dir = join(cacheDir, 'ginkgo', version);
  const path = join(dir, 'ginkgo');
  if (existsSync(path)) return { dir, path };
  log(`building the ginkgo CLI ${version} into ${dir}`);
  const built = await runProcess(['go', 'build', '-o', path, 'github.com/onsi/ginkgo/v2/ginkgo'], { cwd: moduleDir, capture: true });
  if (built.exitCode !== 0) throw new Error(`building the ginkgo CLI failed: ${built.stderr.trim()}. Is Go installed?`);
  return { dir, path };
}
