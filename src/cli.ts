#!/usr/bin/env node
// CLI face: argv -> Settings -> pipeline -> terminal and files. README.md "CLI" says how to use it.

import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import type { Snapshot } from './model.ts';
import { join } from 'node:path';
import { interruption, signalExitCode, stopChildrenOnExit } from './exec.ts';
import { once } from 'node:events';
import { INPUTS, SettingsError, explainFailure, defaultCacheDir, findProjectRoot, parseSettings, type InputName, type RawInputs } from './settings.ts';
import { localControlPlaneBinaries, readLocalClusterState, startLocalCluster, stopLocalCluster } from './cluster/local.ts';
import { envtestReleaseAssets, ReleaseUnreachable } from './envtest/release.ts';

const usage = `kubeflake: hunts flaky and order-dependent tests in Kubernetes controller test suites

  kubeflake run [--runs N] [--framework F] [--cluster auto|local|kind|existing]
                [--use-existing-cluster] [--results DIR]
                [--json FILE] [--cleanup leaked|none] [--dry-run] [--remove-finalizers]
                [--seed S] [--max-probes N] [--fix-probes N] [--run-timeout 15m] [--stress off|cpu] [--verbose]
                [--kind-name N] [--kind-image I] [--kind-config F] [--keep-cluster]
                [--kubeconfig F] [--cleanup-existing] [--shard k/n] [--merge-from DIR]...
                [--envtest auto|off] [--kubernetes-version 1.33] [--parallel auto|N]
                [--probe-time 30m] [--reuse-binaries true|false] [--changed-since REF]
                [--changed-runs N] [--infra-threshold 80%] -- <test command...>
  kubeflake report DIR... [--format md|html|json|text] [--out FILE]
  kubeflake report report.json [--format ...]    renders a report.json, checked first
  kubeflake fix DIR [--apply] [--repo DIR]
                                prints the proven patches of a hunt (fixes/<n>.patch); --apply
                                applies them with git apply at the repository root (default: the
                                git root of the current folder)
  kubeflake parse FILE...       JSON of each report, streamed; exit 0 read (repairs listed under
                                "damage"), 1 a file unreadable, 3 test cases lost (damaged or cut)
  kubeflake snapshot [--out FILE] [--kubeconfig FILE]
  kubeflake diff A B
  kubeflake cluster up|down
  kubeflake demo [--runs N] [--results DIR] [--fixed] [--mode envtest|cluster]
`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  run: runCommand,
  report: reportCommand,
  fix: fixCommand,
  parse: parseReportsCommand,
  snapshot: snapshotCommand,
  diff: diffCommand,
  cluster: clusterCommand,
  demo: demoCommand,
};

/** The `run` flags: every input the table in settings.ts marks for the CLI, plus --no-watch and -v. */
const runOptions = {
  ...Object.fromEntries(
    (Object.keys(INPUTS) as InputName[]).flatMap((name) => {
      const type = INPUTS[name].cli;
      return type ? [[name, type === 'strings' ? { type: 'string', multiple: true } : { type }]] : [];
    }),
  ),
  'no-watch': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
} as Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

async function runCommand(args: string[]): Promise<number> {
  const split = args.indexOf('--');
  const flags = split === -1 ? args : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  const { values } = parseArgs({ args: flags, options: runOptions, strict: true });
  const inputs: RawInputs = { ...(values as RawInputs), watch: !values['no-watch'], command };
  const settings = parseSettings(inputs);
  const { hunt } = await import('./pipeline.ts');
  const { terminalPresenter } = await import('./presenter.ts');
  const report = await hunt(settings, terminalPresenter(settings.verbose));
  const { renderTerminal } = await import('./report/terminal.ts');
  process.stdout.write(renderTerminal(report, { color: process.stdout.isTTY }));
  process.stdout.write(`results: ${settings.resultsDir} (report.md, report.html, report.json)\n`);
  return report.verdict === 'error' ? 2 : report.verdict === 'findings' ? 1 : 0;
}

async function fixCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    apply: { type: 'boolean' },
    repo: { type: 'string' },
  } });
  if (positionals.length !== 1) throw new SettingsError('fix needs one results directory: kubeflake fix kubeflake-results [--apply]');
  const { offeredPatches, applyPatch } = await import('./fix/kept.ts');
  const patches = await offeredPatches(positionals[0]!);
  if (patches.length === 0) {
    process.stdout.write(`no proven patch in ${positionals[0]!} (report.md says why for each finding)\n`);
    return 0;
  }
  if (!values.apply) {
    for (const { victim, fix, patch } of patches) process.stdout.write(`# ${victim}: after ${fix.polluter} (${fix.after?.failed ?? 0} of ${fix.after?.runs ?? 0} failed after the fix; before: ${fix.before?.failed ?? 0} of ${fix.before?.runs ?? 0})\n${patch}`);
    return 0;
  }
  const { gitRoot } = await import('./fix/scratch.ts');
  const root = values.repo ?? (await gitRoot(process.cwd()));
  if (!root) throw new SettingsError(`${process.cwd()} is not in a git repository: run kubeflake fix --apply inside the repository the hunt ran on, or give --repo DIR`);
  for (const { file, fix } of patches) {
    await applyPatch(file, root);
    process.stdout.write(`applied ${file}: ${fix.file ?? ''}:${fix.lines?.start ?? ''}\n`);
  }
  return 0;
}

async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    format: { type: 'string', default: 'text' },
    out: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  } });
  if (positionals.length === 0) throw new SettingsError('report needs at least one results directory: kubeflake report kubeflake-results');
  const { readReportFile, rebuildReport, renderReportAs } = await import('./pipeline.ts');
  // A report.json is rendered as written (after a check); results directories are rebuilt from their runs.
  const files = positionals.filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());
  if (files.length && (files.length > 1 || positionals.length > 1)) throw new SettingsError('report renders one report.json, or rebuilds from results directories: give one file, or only directories');
  const report = files[0] ? await readReportFile(files[0]) : await rebuildReport(positionals);
  const text = renderReportAs(report, values.format ?? 'text', { color: !values.out && process.stdout.isTTY });
  if (values.out) await writeFile(values.out, text);
  else process.stdout.write(text);
  return report.verdict === 'error' ? 2 : 0;
}

/** `kubeflake parse`: test report files (JUnit XML, Ginkgo JSON) to the TestCases kubeflake reads from them. */
async function parseReportsCommand(args: string[]): Promise<number> {
  if (args.length === 0) throw new SettingsError('parse needs at least one report file: kubeflake parse junit.xml');
  const { parseCommand } = await import('./ingest/cli.ts');
  return parseCommand(args, (text) => (process.stdout.write(text) ? undefined : once(process.stdout, 'drain').then(() => undefined)), undefined, (line) => process.stderr.write(line + '\n'));
}

async function snapshotCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, kubeconfig: { type: 'string' } } });
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new SettingsError('snapshot needs a cluster: pass --kubeconfig FILE or set KUBECONFIG');
  const { snapshotCluster } = await import('./pipeline.ts');
  const { writeJson } = await import('./results.ts');
  const { snapshot, summary } = await snapshotCluster(kubeconfig);
  if (values.out) await writeJson(values.out, snapshot);
  else process.stdout.write(JSON.stringify(snapshot, null, 2) + '\n');
  process.stderr.write(summary + '\n');
  return 0;
}

async function diffCommand(args: string[]): Promise<number> {
  const [before, after] = args;
  if (!before || !after) throw new SettingsError('diff needs two snapshot files: kubeflake diff baseline.json after.json');
  const { diffSnapshotsOf } = await import('./pipeline.ts');
  const { readJson } = await import('./results.ts');
  const [a, b] = [await readJson<Snapshot>(before), await readJson<Snapshot>(after)];
  if (!a || !b) throw new SettingsError(`cannot read ${!a ? before : after}: no such file`);
  process.stdout.write(JSON.stringify(diffSnapshotsOf(a, b), null, 2) + '\n');
  return 0;
}

async function clusterCommand(args: string[]): Promise<number> {
  const [action] = args;
  const stateDir = join(defaultCacheDir(), 'cluster');
  if (action === 'up') {
    const existing = await readLocalClusterState(stateDir);
    if (existing) {
      process.stderr.write(`a local control plane is already recorded at ${stateDir}; \`kubeflake cluster down\` first\n`);
      process.stdout.write(`export KUBECONFIG=${existing.kubeconfigPath}\n`);
      return 1;
    }
    const buildScript = join(findProjectRoot(), 'tools', 'build.sh');
    const say = (line: string) => process.stderr.write(`${line}\n`);
    // Download first (etcd and kube-apiserver from the envtest release), build what is left.
    const cacheDir = defaultCacheDir();
    const { dir: binDir } = await localControlPlaneBinaries({
      buildScript,
      cacheDir,
      release: (version) => envtestReleaseAssets({ version, cacheDir, log: say, progress: say }),
      isUnreachable: (error) => error instanceof ReleaseUnreachable,
      log: say,
    });
    const cluster = await startLocalCluster({ binDir, stateDir, detached: true, log: (line) => process.stderr.write(`${line}\n`) });
    process.stderr.write(`control plane up in ${(cluster.readyMs / 1000).toFixed(1)} s, ${(cluster.memoryBytes() / 2 ** 20).toFixed(0)} MiB resident; stop it with \`kubeflake cluster down\`\n`);
    process.stdout.write(`export KUBECONFIG=${cluster.kubeconfigPath}\n`);
    return 0;
  }
  if (action === 'down') {
    const stopped = await stopLocalCluster(stateDir);
    process.stderr.write(stopped.length ? `stopped ${stopped.join(', ')}\n` : 'no local control plane was running\n');
    return 0;
  }
  throw new SettingsError('cluster takes `up` or `down`');
}

async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: {
    runs: { type: 'string' },
    results: { type: 'string' },
    fixed: { type: 'boolean' },
    mode: { type: 'string' },
    seed: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  } });
  if (values.mode !== undefined && values.mode !== 'envtest' && values.mode !== 'cluster') throw new SettingsError(`--mode must be envtest or cluster; got "${values.mode}"`);
  const { demo } = await import('../examples/harness/demo.ts');
  const { report, check } = await demo({ runs: values.runs, results: values.results, fixed: values.fixed ?? false, mode: values.mode, seed: values.seed, verbose: values.verbose ?? false });
  // The demo's job is to find exactly the planted flakes (or, fixed, none): fail when it did not.
  return report.verdict === 'error' ? 2 : check.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    // A user's mistake is its message; anything else is kubeflake's bug, with the stack under --verbose.
    const verbose = rest.includes('--verbose') || rest.includes('-v');
    const { message, detail } = explainFailure(error, verbose, 'run it again with --verbose to see the stack, and report it with that output');
    process.stderr.write(`kubeflake ${name}: ${message}\n${detail ? `${detail}\n` : ''}`);
    return 2;
  }
}

// A hunt that is interrupted (Ctrl-C, a cancelled job) writes the report of what finished before it exits.
const hunting = ['run', 'demo'].includes(process.argv[2] ?? '');
stopChildrenOnExit(hunting ? { windDownMs: 30_000 } : {});
const code = await main(process.argv.slice(2));
const signal = interruption();
process.exitCode = signal ? signalExitCode(signal) : code;
