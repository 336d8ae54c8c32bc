// The one place inputs are read: CLI flags or action inputs become a Settings object, checked
// once, with errors that say which input is wrong and what it accepts. Nothing below this file
// reads process.env or action inputs.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterKind, Framework } from './model.ts';

export interface Settings {
  /** The test command, as argv. */
  command: string[];
  /** Folder the test command runs in. */
  cwd: string;
  /** Extra environment for the test command (on top of KUBECONFIG and the seed). */
  testEnv: Record<string, string>;
  /** How many ordered runs to make (probes come on top). */
  runs: number;
  /** Test framework, or auto-detect from the command. */
  framework: Framework | 'auto';
  /** Which cluster the runs use. */
  cluster: ClusterKind;
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
  /** Glob of report files for the generic framework. */
  reportGlob?: string;
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
}

export class SettingsError extends Error {}

export const defaults = {
  runs: 5,
  runTimeoutMs: 15 * 60_000,
  maxProbes: 20,
  kindName: 'kubeflake',
  finalizerGraceMs: 10_000,
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

/** Raw string inputs, from flags or from action.yml; parsed the same way. */
export interface RawInputs {
  command?: string[];
  'working-directory'?: string;
  runs?: string;
  framework?: string;
  cluster?: string;
  kubeconfig?: string;
  'kind-name'?: string;
  'kind-image'?: string;
  'kind-config'?: string;
  'keep-cluster'?: string | boolean;
  'cleanup-existing'?: string | boolean;
  results?: string;
  json?: string;
  cleanup?: string;
  'dry-run'?: string | boolean;
  'remove-finalizers'?: string | boolean;
  'finalizer-grace'?: string;
  'protected-namespaces'?: string;
  ignore?: string;
  'run-timeout'?: string;
  seed?: string;
  'max-probes'?: string;
  'report-glob'?: string;
  watch?: string | boolean;
  verbose?: string | boolean;
  shard?: string;
  'merge-from'?: string[];
}

export function parseSettings(inputs: RawInputs, env: NodeJS.ProcessEnv = process.env): Settings {
  const command = inputs.command ?? [];
  if (command.length === 0) throw new SettingsError('no test command given: put it after `--`, e.g. `kubeflake run -- ginkgo ./...`');
  const cwd = resolve(inputs['working-directory'] || '.');
  const cluster = oneOf('cluster', inputs.cluster || 'local', ['local', 'kind', 'existing'] as const);
  const kubeconfig = inputs.kubeconfig || env.KUBECONFIG || undefined;
  if (cluster === 'existing' && !kubeconfig) {
    throw new SettingsError('cluster=existing needs a kubeconfig: pass --kubeconfig FILE or set KUBECONFIG');
  }
  const removeFinalizers = flag('remove-finalizers', inputs['remove-finalizers']);
  if (inputs.shard && !inputs.seed) {
    throw new SettingsError('shard needs the seed every shard shares, or the shards run unrelated orders: set seed (in a workflow, e.g. seed: ${{ github.run_id }})');
  }
  return {
    command,
    cwd,
    testEnv: {},
    runs: integer('runs', inputs.runs, defaults.runs, 1, 1000),
    framework: oneOf('framework', inputs.framework || 'auto', ['auto', 'ginkgo', 'go', 'generic'] as const),
    cluster,
    kubeconfig: kubeconfig ? resolve(kubeconfig) : undefined,
    kindName: inputs['kind-name'] || defaults.kindName,
    kindImage: inputs['kind-image'] || undefined,
    kindConfig: inputs['kind-config'] ? resolve(cwd, inputs['kind-config']) : undefined,
    keepCluster: flag('keep-cluster', inputs['keep-cluster']),
    cleanupExisting: flag('cleanup-existing', inputs['cleanup-existing']),
    searchPath: env.PATH,
    resultsDir: resolve(inputs.results || 'kubeflake-results'),
    jsonFile: inputs.json ? resolve(inputs.json) : undefined,
    cleanup: oneOf('cleanup', inputs.cleanup || 'leaked', ['leaked', 'none'] as const),
    dryRun: flag('dry-run', inputs['dry-run']),
    removeFinalizersAfterMs: removeFinalizers ? duration('finalizer-grace', inputs['finalizer-grace'], defaults.finalizerGraceMs) : undefined,
    protectedNamespaces: list(inputs['protected-namespaces']),
    ignore: list(inputs.ignore),
    runTimeoutMs: duration('run-timeout', inputs['run-timeout'], defaults.runTimeoutMs),
    baseSeed: integer('seed', inputs.seed, Date.now() % 1_000_000_007, 0, 2 ** 31 - 1),
    maxProbes: integer('max-probes', inputs['max-probes'], defaults.maxProbes, 0, 500),
    reportGlob: inputs['report-glob'] || undefined,
    watch: inputs.watch === undefined || inputs.watch === '' ? true : flag('watch', inputs.watch),
    verbose: flag('verbose', inputs.verbose),
    cacheDir: defaultCacheDir(env),
    projectRoot: findProjectRoot(),
    ...(inputs.shard ? { shard: parseShard(inputs.shard) } : {}),
    mergeFrom: (inputs['merge-from'] ?? []).map((dir) => resolve(dir)),
  };
}

/** "2/3" (1-based, as a matrix counts) -> { index: 1, count: 3 }. */
export function parseShard(value: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (!match || n < 1 || k < 1 || k > n) throw new SettingsError(`shard must be k/n with 1 <= k <= n, e.g. 2/3; got "${value}"`);
  return { index: k - 1, count: n };
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

function list(value: string | undefined): string[] {
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
