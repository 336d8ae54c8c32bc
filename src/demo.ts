// `kubeflake demo`: the whole hunt on the example operator (examples/modelcache) against the
// local control plane, then a check of what it found against the suite's ground truth.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Report } from './model.ts';
import { defaultCacheDir, findProjectRoot, parseSettings } from './settings.ts';
import { runProcess } from './exec.ts';
import { hunt } from './pipeline.ts';
import { terminalPresenter } from './presenter.ts';
import { renderTerminal } from './report/terminal.ts';
import { compareWithGroundTruth, type GroundTruth } from './ground-truth.ts';

export interface DemoOptions {
  runs?: string;
  results?: string;
  fixed: boolean;
  seed?: string;
  verbose: boolean;
}

export async function demo(options: DemoOptions): Promise<Report> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const presenter = terminalPresenter(options.verbose);
  const ginkgo = await ensureGinkgo(example, defaultCacheDir(), presenter.info);
  const settings = parseSettings({
    command: ['ginkgo', './...'],
    'working-directory': example,
    runs: options.runs ?? (options.fixed ? '20' : '6'),
    cluster: 'local',
    results: options.results ?? 'kubeflake-results',
    seed: options.seed,
    // The suite's controller dies with each run, so its finalizers can only be removed by us.
    'remove-finalizers': true,
    'finalizer-grace': '5s',
    verbose: options.verbose,
  }, { ...process.env, KUBECONFIG: '' });
  settings.testEnv = {
    PATH: `${ginkgo.dir}${delimiter}${process.env.PATH ?? ''}`,
    MODELCACHE_FIXED: options.fixed ? 'true' : 'false',
  };
  presenter.info(`kubeflake demo: ${settings.runs} runs of the ${options.fixed ? 'fixed' : 'planted'} example suite (${example})`);
  const report = await hunt(settings, presenter);
  process.stdout.write(renderTerminal(report, { color: process.stdout.isTTY }));

  const truth = JSON.parse(await readFile(join(example, 'ground-truth.json'), 'utf8')) as GroundTruth;
  const check = compareWithGroundTruth(report, truth, { fixed: options.fixed });
  process.stdout.write(`\nground truth (${join('examples', 'modelcache', 'ground-truth.json')}):\n`);
  for (const line of check.lines) process.stdout.write(`  ${line}\n`);
  process.stdout.write(`${check.ok ? 'every planted role was named correctly' : `${check.mismatches} mismatch(es) with the ground truth`}\n`);
  process.stdout.write(`results: ${settings.resultsDir} (report.md, report.html, report.json)\n`);
  return report;
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
