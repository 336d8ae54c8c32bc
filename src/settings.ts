// The one place inputs are read: CLI flags or action inputs become a Settings object, checked
// once, with errors that say which input is wrong and what it accepts. Nothing below this file
// reads process.env or action inputs.

import { existsSync, globSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Framework } from './model.ts';
import { isNightlyEvent, parseRepository, readEvent, type GitHubContext, type GitHubEvent } from './github/context.ts';
import { QuarantineError, parseQuarantine, type QuarantineEntry } from './quarantine.ts';
import { DEFAULT_INFRA_THRESHOLD } from './analysis/infrastructure.ts';
import type { PublishSettings, PublishTarget } from './github/publish.ts';
import type { FailOn } from './github/deliver.ts';

export interface Settings {
  /** The test command, as argv. */
  command: string[];
  /** Folder the test command runs in. */
  cwd: string;
  /** Extra environment for the test command (on top of KUBECONFIG and the seed); USE_EXISTING_CLUSTER=true in the existing-cluster mode. */
  testEnv: Record<string, string>;
  /** How many ordered runs to make (probes come on top). */
  runs: number;
  /** Test framework, or auto-detect from the command. */
  framework: Framework | 'auto';
  /**
   * The cluster asked for: auto makes one only for the existing-cluster mode (`autoCluster`);
   * local, kind or existing are provided from the start and let go when no test uses them.
   */
  cluster: ClusterChoice;
  /** What `cluster: auto` makes in the existing-cluster mode: the local control plane (CLI), kind where Docker is (action). */
  autoCluster: 'local' | 'kind';
  /**
   * The existing-cluster mode: the suites run against kubeflake's cluster (envtest's
   * USE_EXISTING_CLUSTER=true). Off, each suite chooses its control plane as in its repository.
   */
  useExistingCluster: boolean;
  /** Kubeconfig of the existing cluster (cluster=existing). */
  kubeconfig?: string;
  /** Name of the kind cluster to create (cluster=kind). */
  kindName: string;
  /** Node image for kind, when not kind's default. */
  kindImage?: string;
  /** kind config file for the cluster kubeflake creates. */
  kindConfig?: string;
  /** Leave the kind cluster kubeflake created running at the end. */
  keepCluster: boolean;
  /** cluster=existing: really clean up in a cluster that does not look throwaway (else dry run). */
  cleanupExisting: boolean;
  /** PATH, where kind is looked for before the pinned release is installed. */
  searchPath?: string;
  /** Where runs, snapshots and reports are written. */
  resultsDir: string;
  /** Extra copy of report.json, when set. */
  jsonFile?: string;
  /** Clean up what each run leaked (leaked) or leave the cluster alone (none). */
  cleanup: 'leaked' | 'none';
  /** Print what cleanup would do and change nothing. */
  dryRun: boolean;
  /** Remove finalizers from objects the runs created that stay stuck this long after delete. */
  removeFinalizersAfterMs?: number;
  /** Namespaces cleanup never touches, on top of the built-in protected ones. */
  protectedNamespaces: string[];
  /** Leak ignore rules, "kind" or "kind/namespace/name" with * wildcards. */
  ignore: string[];
  /** Kill a run (its whole process tree) after this long. */
  runTimeoutMs: number;
  /** Seed from which every run's seed derives, so a hunt can be replayed. */
  baseSeed: number;
  /** Most focused reruns spent confirming polluters. 0 disables probes. */
  maxProbes: number;
  /** Most pair runs spent proving fixes (src/fix/), after the hunt's probes. 0 disables fixes. */
  fixProbes: number;
  /** Glob of report files for the generic framework. */
  reportGlob?: string;
  /** off, or cpu: the suite runs under CPU pressure (GOMAXPROCS=1 for the tests, the other cores busy) so timing-dependent order bugs fire more often. */
  stress: 'off' | 'cpu';
  /** The GOFLAGS the test command inherits: kubeflake's go test -exec shim is added to them, never replaces them. */
  goflags?: string;
  /** How many runs and probes may run at once when each starts its own control plane: auto (from cores and memory) or a number. */
  parallel: 'auto' | number;
  /** Probing stops (with what it knows) once probes have taken this long in all; unset: only max-probes limits them. */
  probeTimeMs?: number;
  /** Build once, run many: later `go test` runs and probes run the test binaries the first run built, without the go command. */
  reuseBinaries: boolean;
  /** Watch the cluster during runs to attribute leaks (costs one watch per resource type). */
  watch: boolean;
  /** Stream the test output, not only one line per run. */
  verbose: boolean;
  /** Caches (control-plane binaries, ginkgo) live here. */
  cacheDir: string;
  /** The kubeflake checkout or action folder: tools/ and examples/ are found from here. */
  projectRoot: string;
  /** Run only this slice of the planned runs (run i belongs to shard i % count); index is 0-based. */
  shard?: { index: number; count: number };
  /** Results directories of shards whose planned runs this hunt continues from: it runs only the probes. */
  mergeFrom: string[];
  /** Provide and wrap KUBEBUILDER_ASSETS so kubeflake sees inside the envtest control planes a suite starts (auto), or not (off). */
  envtest: 'auto' | 'off';
  /** KUBEBUILDER_ASSETS the user set: used (wrapped) instead of kubeflake's binaries. */
  kubebuilderAssets?: string;
  /** The envtest release to use where kubeflake does not build its own binaries ("1.33", "1.33.2", "latest"). */
  kubernetesVersion?: string;
  /** A run where at least this share (0..1) of its specs failed with one failure class is an infrastructure run. */
  infraThreshold: number;
  /** Extra runs each spec added or changed since `changedSince` gets, on top of `runs`. */
  changedRuns: number;
  /** A git ref (the pull request's base on a PR): the specs changed since it are hunted harder. */
  changedSince?: string;
}

/** A user's mistake (an input, a file, a missing directory): shown as its message alone. Anything else thrown is a bug. */
export class SettingsError extends Error {}

/** The `cluster` input: auto, or one kind of cluster asked for by name. */
export type ClusterChoice = 'auto' | 'local' | 'kind' | 'existing';

export interface FailureExplanation {
  /** The one line a person sees: the user's mistake as it is, or that kubeflake has a bug. */
  message: string;
  /** For a bug: the stack when debugging, else how to get it. */
  detail?: string;
}

/**
 * Tells a user's mistake (SettingsError, argument errors) from a bug (a TypeError, anything else):
 * the first is its message alone; the second says it is kubeflake's fault and shows the stack
 * when `verbose`, or `howToSeeStack` otherwise.
 */
export function explainFailure(error: unknown, verbose: boolean, howToSeeStack: string): FailureExplanation {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err instanceof SettingsError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return { message: err.message };
  return {
    message: `kubeflake hit a bug: ${err.name}: ${err.message}${causeChain(err)}. The results directory is kept; please report this with the log.`,
    detail: verbose ? err.stack ?? String(err) : howToSeeStack,
  };
}

/** " (caused by: X; caused by: Y)": an error's causes, so wrapping never hides the root. */
export function causeChain(error: Error): string {
  const chain: string[] = [];
  for (let cause = error.cause; cause instanceof Error && chain.length < 5; cause = cause.cause) chain.push(cause.message);
  return chain.length ? ` (caused by: ${chain.join('; caused by: ')})` : '';
}

export const defaults = {
  runs: 5,
  runTimeoutMs: 15 * 60_000,
  maxProbes: 20,
  fixProbes: 10,
  kindName: 'kubeflake',
  finalizerGraceMs: 10_000,
  changedRuns: 10,
} as const;

/** The folder holding tools/build.sh: the repository in development, the action folder on GitHub. */
export function findProjectRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'tools', 'build.sh'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new SettingsError(`cannot find kubeflake's tools/build.sh above ${from}: is the checkout complete?`);
    dir = parent;
  }
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBEFLAKE_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubeflake');
}

/**
 * Every input, named once. The action reads each name from action.yml (a test checks the two
 * agree, defaults included); the CLI's `run` flags are the names marked `cli`. `actionDefault` is
 * the default action.yml declares; the CLI's default is what parseSettings falls back to.
 */
export const INPUTS = {
  command: { cli: false, actionDefault: undefined },
  'working-directory': { cli: 'string', actionDefault: '.' },
  runs: { cli: 'string', actionDefault: '5' },
  framework: { cli: 'string', actionDefault: 'auto' },
  // auto makes a cluster only when use-existing-cluster asks for one: on a runner with Docker the
  // action makes the kind cluster most operators already test on; the CLI (a laptop, a CI box
  // perhaps without Docker) starts the local control plane, which needs only Go.
  cluster: { cli: 'string', actionDefault: 'auto' },
  'use-existing-cluster': { cli: 'boolean', actionDefault: 'false' },
  kubeconfig: { cli: 'string', actionDefault: '' },
  'kind-name': { cli: 'string', actionDefault: 'kubeflake' },
  'kind-image': { cli: 'string', actionDefault: '' },
  'kind-config': { cli: 'string', actionDefault: '' },
  'keep-cluster': { cli: 'boolean', actionDefault: 'false' },
  'cleanup-existing': { cli: 'boolean', actionDefault: 'false' },
  results: { cli: 'string', actionDefault: 'kubeflake-results' },
  json: { cli: 'string', actionDefault: undefined },
  cleanup: { cli: 'string', actionDefault: 'leaked' },
  'dry-run': { cli: 'boolean', actionDefault: 'false' },
  'remove-finalizers': { cli: 'boolean', actionDefault: 'false' },
  'finalizer-grace': { cli: 'string', actionDefault: '10s' },
  'protected-namespaces': { cli: 'string', actionDefault: '' },
  ignore: { cli: 'string', actionDefault: '' },
  'run-timeout': { cli: 'string', actionDefault: '15m' },
  seed: { cli: 'string', actionDefault: '' },
  'max-probes': { cli: 'string', actionDefault: '20' },
  'fix-probes': { cli: 'string', actionDefault: '10' },
  'report-glob': { cli: 'string', actionDefault: '' },
  stress: { cli: 'string', actionDefault: 'off' },
  parallel: { cli: 'string', actionDefault: 'auto' },
  'probe-time': { cli: 'string', actionDefault: '' },
  'reuse-binaries': { cli: 'string', actionDefault: 'true' },
  envtest: { cli: 'string', actionDefault: 'auto' },
  'kubernetes-version': { cli: 'string', actionDefault: '' },
  'infra-threshold': { cli: 'string', actionDefault: '80%' },
  'changed-runs': { cli: 'string', actionDefault: '10' },
  'changed-since': { cli: 'string', actionDefault: '' },
  'fail-on': { cli: false, actionDefault: 'findings' },
  mode: { cli: false, actionDefault: 'run' },
  'github-token': { cli: false, actionDefault: '${{ github.token }}' },
  comment: { cli: false, actionDefault: 'always' },
  'comment-key': { cli: false, actionDefault: '' },
  'tracking-label': { cli: false, actionDefault: 'kubeflake' },
  'clean-nights-to-close': { cli: false, actionDefault: '7' },
  quarantine: { cli: false, actionDefault: '' },
  watch: { cli: false, actionDefault: undefined },
  verbose: { cli: 'boolean', actionDefault: undefined },
  shard: { cli: 'string', actionDefault: '' },
  'probe-after-merge': { cli: false, actionDefault: 'false' },
  'merge-from': { cli: 'strings', actionDefault: undefined },
} as const satisfies Record<string, { cli: 'string' | 'strings' | 'boolean' | false; actionDefault: string | undefined }>;

export type InputName = keyof typeof INPUTS;

/** The inputs action.yml declares, in the order of the table above. */
export const ACTION_INPUTS = (Object.keys(INPUTS) as InputName[]).filter((name) => INPUTS[name].actionDefault !== undefined || name === 'command');

/** Raw string inputs, from flags or from action.yml; parsed the same way. */
export type RawInputs = { command?: string[]; 'merge-from'?: string[] } & Partial<Record<Exclude<InputName, 'command' | 'merge-from'>, string | boolean>>;

/** Which face reads the inputs: the action makes kind for `cluster: auto`, the CLI the local control plane. */
export interface Face {
  autoCluster: 'local' | 'kind';
}

export function parseSettings(inputs: RawInputs, env: NodeJS.ProcessEnv = process.env, face: Face = { autoCluster: 'local' }): Settings {
  const command = inputs.command ?? [];
  const text = (name: Exclude<InputName, 'command'>): string => (typeof inputs[name] === 'string' ? (inputs[name] as string) : '');
  if (command.length === 0) throw new SettingsError('no test command given: put it after `--`, e.g. `kubeflake run -- ginkgo ./...`');
  const cwd = resolve(text('working-directory') || '.');
  const cluster = oneOf('cluster', text('cluster') || 'auto', ['auto', 'local', 'kind', 'existing'] as const);
  const kubeconfig = text('kubeconfig') || env.KUBECONFIG || undefined;
  const existingMode = existingClusterMode(inputs['use-existing-cluster'], env.USE_EXISTING_CLUSTER);
  if (cluster === 'existing' && !kubeconfig) {
    throw new SettingsError('cluster=existing needs a kubeconfig: pass --kubeconfig FILE or set KUBECONFIG');
  }
  const removeFinalizers = flag('remove-finalizers', inputs['remove-finalizers']);
  if (text('shard') && !text('seed')) {
    throw new SettingsError('shard needs the seed every shard shares, or the shards run unrelated orders: set seed (in a workflow, e.g. seed: ${{ github.run_id }})');
  }
  return {
    command,
    cwd,
    testEnv: existingMode.env,
    runs: integer('runs', text('runs'), defaults.runs, 1, 1000),
    framework: oneOf('framework', text('framework') || 'auto', ['auto', 'ginkgo', 'go', 'generic'] as const),
    cluster,
    autoCluster: face.autoCluster,
    useExistingCluster: existingMode.on,
    kubeconfig: kubeconfig ? resolve(kubeconfig) : undefined,
    kindName: text('kind-name') || defaults.kindName,
    kindImage: text('kind-image') || undefined,
    kindConfig: text('kind-config') ? resolve(cwd, text('kind-config')) : undefined,
    keepCluster: flag('keep-cluster', inputs['keep-cluster']),
    cleanupExisting: flag('cleanup-existing', inputs['cleanup-existing']),
    searchPath: env.PATH,
    resultsDir: resolve(text('results') || 'kubeflake-results'),
    jsonFile: text('json') ? resolve(text('json')) : undefined,
    cleanup: oneOf('cleanup', text('cleanup') || 'leaked', ['leaked', 'none'] as const),
    dryRun: flag('dry-run', inputs['dry-run']),
    removeFinalizersAfterMs: removeFinalizers ? duration('finalizer-grace', text('finalizer-grace'), defaults.finalizerGraceMs) : undefined,
    protectedNamespaces: list(text('protected-namespaces')),
    ignore: list(text('ignore')),
    runTimeoutMs: duration('run-timeout', text('run-timeout'), defaults.runTimeoutMs),
    baseSeed: integer('seed', text('seed'), Date.now() % 1_000_000_007, 0, 2 ** 31 - 1),
    maxProbes: integer('max-probes', text('max-probes'), defaults.maxProbes, 0, 500),
    fixProbes: integer('fix-probes', text('fix-probes'), defaults.fixProbes, 0, 500),
    reportGlob: text('report-glob') || undefined,
    stress: oneOf('stress', text('stress') || 'off', ['off', 'cpu'] as const),
    goflags: env.GOFLAGS || undefined,
    parallel: text('parallel') === '' || text('parallel') === 'auto' ? 'auto' : integer('parallel', text('parallel'), 1, 1, 64),
    ...(text('probe-time') ? { probeTimeMs: duration('probe-time', text('probe-time'), 0) } : {}),
    reuseBinaries: text('reuse-binaries') === '' ? true : flag('reuse-binaries', text('reuse-binaries')),
    watch: inputs.watch === undefined || inputs.watch === '' ? true : flag('watch', inputs.watch),
    verbose: flag('verbose', inputs.verbose),
    cacheDir: defaultCacheDir(env),
    projectRoot: findProjectRoot(),
    ...(text('shard') ? { shard: parseShard(text('shard')) } : {}),
    mergeFrom: (inputs['merge-from'] ?? []).map((dir) => resolve(dir)),
    envtest: oneOf('envtest', text('envtest') || 'auto', ['auto', 'off'] as const),
    ...(env.KUBEBUILDER_ASSETS ? { kubebuilderAssets: resolve(env.KUBEBUILDER_ASSETS) } : {}),
    ...(text('kubernetes-version') ? { kubernetesVersion: text('kubernetes-version') } : {}),
    infraThreshold: share('infra-threshold', text('infra-threshold'), DEFAULT_INFRA_THRESHOLD),
    changedRuns: integer('changed-runs', text('changed-runs'), defaults.changedRuns, 0, 1000),
    ...(text('changed-since') ? { changedSince: text('changed-since') } : {}),
  };
}

/**
 * The existing-cluster mode from the switch and the USE_EXISTING_CLUSTER the user exported: a
 * value in the environment is the user's own and reaches the suite as it is (it also turns the
 * mode on when true); only the switch makes kubeflake set the variable. Read as envtest reads it
 * (Go's strconv.ParseBool).
 */
export function existingClusterMode(input: string | boolean | undefined, exported: string | undefined): { on: boolean; env: Record<string, string> } {
  const asked = flag('use-existing-cluster', input);
  if (exported === undefined || exported === '') return { on: asked, env: asked ? { USE_EXISTING_CLUSTER: 'true' } : {} };
  const exportedOn = ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(exported);
  if (asked && !exportedOn) {
    throw new SettingsError(`use-existing-cluster is true but the environment exports USE_EXISTING_CLUSTER=${exported}, which envtest reads as false: ` +
      'unset the variable (or drop the switch to let each suite start its own envtest)');
  }
  return { on: exportedOn, env: {} };
}

/** "80%", "80" or "0.8" -> 0.8: a share of a run's specs, above 0 and at most 100%. */
export function share(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(value.trim());
  const number = Number(match?.[1]);
  const fraction = match && (match[2] === '%' || number > 1) ? number / 100 : number;
  if (!match || !(fraction > 0) || fraction > 1) throw new SettingsError(`${name} must be a share of the specs like 80% (above 0, at most 100%); got "${value}"`);
  return fraction;
}

/** "2/3" (1-based, as a matrix counts) -> { index: 1, count: 3 }. */
export function parseShard(value: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (!match || n < 1 || k < 1 || k > n) throw new SettingsError(`shard must be k/n with 1 <= k <= n, e.g. 2/3; got "${value}"`);
  return { index: k - 1, count: n };
}

/** Everything the action face needs, parsed once from action.yml inputs and the runner's environment. */
export interface ActionSettings {
  /** run: hunt, then publish. report: publish results directories an earlier job made. */
  mode: 'run' | 'report';
  /** mode run: the hunt. */
  hunt?: Settings;
  /** mode report: the results directories the `results` input names (globs expanded: downloaded artifacts). */
  resultsDirs: string[];
  /** Where report.json, report.md and report.html are written. */
  outputDir: string;
  failOn: FailOn;
  quarantine: QuarantineEntry[];
  /** Show a bug's stack (ACTIONS_STEP_DEBUG / a debug re-run). */
  verbose: boolean;
  publish: PublishSettings;
  /** mode report: run the probes here from the shards' planned runs (the hunt's mergeFrom is `resultsDirs`). */
  probeAfterMerge: boolean;
}

/** Expands the results input's globs to directories; a pattern that matches none is an error naming it. */
export function resultsDirectories(patterns: string[], workspace: string): string[] {
  const dirs: string[] = [];
  for (const pattern of patterns) {
    const matches = /[*?[{]/.test(pattern) ? globSync(pattern, { cwd: workspace }).map((match) => resolve(workspace, match)) : [resolve(workspace, pattern)];
    const found = matches.filter((dir) => existsSync(dir) && statSync(dir).isDirectory()).sort();
    if (!found.length) {
      throw new SettingsError(`results "${pattern}" names no directory under ${workspace}: did the download-artifact step run, and into which path?`);
    }
    dirs.push(...found.filter((dir) => !dirs.includes(dir)));
  }
  return dirs;
}

/** Where a quarantine file lives in the repository. */
export const QUARANTINE_FILE = join('.kubeflake', 'quarantine.yaml');

/**
 * The action's settings: `read(name)` gives one action input (core.getInput in main.ts), `env`
 * the runner's environment. Every input of ACTION_INPUTS is read here and nowhere else.
 */
export function parseActionSettings(read: (name: InputName) => string, env: NodeJS.ProcessEnv = process.env): ActionSettings {
  const raw: Record<string, string> = {};
  for (const name of ACTION_INPUTS) raw[name] = read(name).trim();
  const workspace = resolve(env.GITHUB_WORKSPACE || '.');
  const event = readEventFile(env);
  const modeInput = oneOf('mode', raw.mode || 'run', ['run', 'report', 'nightly'] as const);
  const mode = modeInput === 'report' ? 'report' : 'run';
  const failOn = oneOf('fail-on', raw['fail-on'] || 'findings', ['findings', 'error', 'never'] as const);
  const comment = oneOf('comment', raw.comment || 'always', ['always', 'on-findings', 'changes', 'off'] as const);
  const verbose = env.RUNNER_DEBUG === '1' || /^true$/i.test(env.ACTIONS_STEP_DEBUG ?? '');
  if (mode === 'run' && !raw.command) throw new SettingsError('the `command` input is empty: give the test command, e.g. `command: ginkgo ./...`, or use `mode: report` to publish results an earlier job made');
  const probeAfterMerge = flag('probe-after-merge', raw['probe-after-merge']);
  if (probeAfterMerge && mode !== 'report') throw new SettingsError('probe-after-merge belongs to the merge job (mode: report), which probes from every shard\'s runs: drop it here, or set max-probes: 0 on the shards and mode: report on the merge job');
  if (probeAfterMerge && !raw.command) throw new SettingsError('probe-after-merge runs the probes in this job\'s cluster: give the test command the shards ran (`command`)');
  if (mode === 'report' && raw.command && !probeAfterMerge) throw new SettingsError('mode: report publishes results an earlier job made and runs no command: drop `command`, or use mode: run (or probe-after-merge: true to probe here)');
  // Matrix shards share the workflow run's id as their seed unless one is given.
  if (raw.shard && !raw.seed && env.GITHUB_RUN_ID) raw.seed = String(Number(env.GITHUB_RUN_ID) % 2 ** 31);
  const hunt = mode === 'run' || probeAfterMerge
    ? parseSettings({ ...raw, command: splitCommand(raw.command ?? ''), json: undefined, watch: undefined, verbose: verbose ? 'true' : '' }, env, { autoCluster: 'kind' })
    : undefined;
  const resultsDirs = mode === 'report' ? resultsDirectories(list(raw.results || 'kubeflake-results'), workspace) : [];
  if (hunt && probeAfterMerge) {
    // The merge job of matrix shards: their planned runs, probed here, in this job's cluster, with results of its own.
    hunt.mergeFrom = resultsDirs;
    hunt.resultsDir = resolve(workspace, 'kubeflake-merged');
  }
  // On a pull request the specs it adds or changes are hunted harder: changed since its base, unless told otherwise.
  if (hunt && !hunt.changedSince && event.pullRequest?.baseSha) hunt.changedSince = event.pullRequest.baseSha;
  const nightly = modeInput === 'nightly' || isNightlyEvent(event);
  const target: PublishTarget = nightly ? 'tracking-issue' : event.pullRequest || event.workflowRun ? 'pull-request' : 'summary';
  const context: GitHubContext = {
    repository: parseRepository(env.GITHUB_REPOSITORY),
    event,
    sha: env.GITHUB_SHA ?? '',
    runId: Number(env.GITHUB_RUN_ID) || 0,
    runAttempt: Number(env.GITHUB_RUN_ATTEMPT) || 1,
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    workspace,
  };
  return {
    mode,
    hunt,
    resultsDirs,
    outputDir: hunt ? hunt.resultsDir : resolve(workspace, 'kubeflake-report'),
    failOn,
    quarantine: readQuarantine(raw.quarantine ?? '', workspace),
    verbose,
    probeAfterMerge,
    publish: {
      token: raw['github-token'] ?? '',
      context,
      target,
      comment,
      commentKey: raw['comment-key'] ?? '',
      trackingLabel: raw['tracking-label'] || 'kubeflake',
      cleanNightsToClose: integer('clean-nights-to-close', raw['clean-nights-to-close'], 7, 1, 365),
    },
  };
}

function readEventFile(env: NodeJS.ProcessEnv): GitHubEvent {
  const name = env.GITHUB_EVENT_NAME ?? '';
  const path = env.GITHUB_EVENT_PATH;
  if (!path || !existsSync(path)) return readEvent(name, {});
  try {
    return readEvent(name, JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new SettingsError(`the event file GITHUB_EVENT_PATH=${path} is not JSON (${(error as Error).message}): is this step running on a GitHub runner?`);
  }
}

/** The `quarantine` input (YAML) and the repository's .kubeflake/quarantine.yaml, both applied. */
function readQuarantine(input: string, workspace: string): QuarantineEntry[] {
  const file = join(workspace, QUARANTINE_FILE);
  try {
    const fromFile = existsSync(file) ? parseQuarantine(readFileSync(file, 'utf8'), QUARANTINE_FILE) : [];
    return [...parseQuarantine(input, 'the quarantine input'), ...fromFile];
  } catch (error) {
    if (error instanceof QuarantineError) throw new SettingsError(error.message, { cause: error });
    throw error;
  }
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SettingsError(`${name} must be one of ${allowed.join(', ')}; got "${value}"`);
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new SettingsError(`${name} must be a whole number from ${min} to ${max}; got "${value}"`);
  }
  return Number(value);
}

function flag(name: string, value: string | boolean | undefined): boolean {
  if (value === undefined || value === '' || value === false) return false;
  if (value === true) return true;
  const text = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(text)) return true;
  if (['false', 'no', '0', 'off'].includes(text)) return false;
  throw new SettingsError(`${name} must be true or false; got "${value}"`);
}

/** "90s", "15m", "1h", "500ms" or plain seconds. */
export function duration(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === '') return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new SettingsError(`${name} must be a duration like 90s, 15m or 1h; got "${value}"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** Newline-, comma- or space-separated items. */
export function list(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).map((item) => item.trim()).filter(Boolean);
}

/**
 * Splits a command line the way a POSIX shell splits words: quotes and backslashes, no
 * expansion. Used for the action's `command` input; the CLI gets argv already split.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) word += text[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      if (next !== '\n') word += next;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new SettingsError(`the command has an unclosed ${quote} quote: ${text}`);
  if (inWord) words.push(word);
  return words;
}
