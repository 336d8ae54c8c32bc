// Build once, run many: the decisions (pure) behind running a test binary the first run built
// instead of asking the go command to link it again for every run and probe (~10 s and 1.2 GB
// a link on an envtest suite; the binary itself starts in 0.4 s).
//
// The first run goes through `go test` as always; the shim keeps each test binary it is handed,
// keyed by the package, the build (command, GOFLAGS, build environment) and the source state (the
// module's build inputs), with the words the go command passed it. A later run whose keys all
// still match runs the kept binaries through the same shim, in the package folder, with those
// words and the PATH and PWD the go command gives: the shim then adds seed, focus and reports as it
// does under go test, so the run folder, the records and the report are the same.

import { createHash } from 'node:crypto';
import { baseName } from './command-line.ts';

/** A kept test binary: what the go command gave it, and the keys it was built under. */
export interface KeptTestBinary {
  version: 1;
  importPath: string;
  kind: 'ginkgo' | 'ginkgo-v1' | 'go';
  /** The package folder: the binary runs there. */
  dir: string;
  /** The kept copy (absolute). */
  binary: string;
  /** What the go command sets on top of the command's environment: PATH ($GOROOT/bin first). */
  env: Record<string, string>;
  buildKey: string;
  sourceDigest: string;
  /** `binaryKey(importPath, buildKey, sourceDigest)`: the kept binary's folder name. */
  key: string;
}

/** The packages one `go test` run handed to the shim, in the order they started: what a reused run runs. */
export interface KeptRun {
  version: 1;
  buildKey: string;
  /** From a probe: its recorded words carry a focus, so only probes (which replace it) may reuse them. */
  focused: boolean;
  /** `go test -p N`: how many packages the go command runs at once. */
  concurrency: number;
  /** Each with the words the go command passed it (before the shim changed them). */
  packages: { importPath: string; key: string; args: string[] }[];
}

/** Variables the go command reads that change what it builds. */
export const buildEnvNames = [
  'GOFLAGS', 'GOOS', 'GOARCH', 'GOAMD64', 'GOARM', 'GOARM64', 'GO386', 'GOEXPERIMENT', 'GOTOOLCHAIN', 'GOROOT', 'GOPATH',
  'GOWORK', 'GOPROXY', 'GOPRIVATE', 'GONOSUMDB', 'GOFIPS140', 'GODEBUG', 'CGO_ENABLED', 'CGO_CFLAGS', 'CGO_CPPFLAGS',
  'CGO_CXXFLAGS', 'CGO_LDFLAGS', 'CC', 'CXX', 'PKG_CONFIG', 'PATH',
] as const;

/**
 * The build part of the key: the user's command (its build flags: -race, -tags, -ldflags...),
 * their GOFLAGS without kubeflake's -exec, and the variables that change the build. Kubeflake's
 * own seed and focus words are not in it: they reach the binary, not the compiler.
 */
export function buildKey(command: readonly string[], userGoflags: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const buildEnv = Object.fromEntries(buildEnvNames.filter((name) => name !== 'GOFLAGS' && env[name] !== undefined).map((name) => [name, env[name]]));
  const goflags = (userGoflags ?? '').split(/\s+/).filter((word) => word !== '' && !/^--?exec=/.test(word));
  return digest(JSON.stringify({ command, goflags, buildEnv }));
}

/** The kept binary's key: one package, one build, one source state. */
export function binaryKey(importPath: string, build: string, sourceDigest: string): string {
  return digest(JSON.stringify([importPath, build, sourceDigest])).slice(0, 32);
}

/** One source file's part in the source state: its path in the module, size and modification time. */
export interface SourceFileState {
  path: string;
  size: number;
  mtimeNs: bigint;
}

/** The source state of a set of build inputs, whatever order they were found in. */
export function sourceDigestOf(states: readonly SourceFileState[]): string {
  const lines = states.map((state) => `${state.path}\0${state.size}\0${state.mtimeNs}`).sort();
  return digest(lines.join('\n'));
}

/** Files the go command compiles or embeds in a package: Go, assembly, cgo sources, syso objects. */
export function isBuildInput(name: string): boolean {
  return /\.(go|s|S|sx|c|h|cc|cpp|cxx|hh|hpp|hxx|m|f|F|for|f90|syso|swig|swigcxx)$/.test(name) || name === 'go.mod' || name === 'go.sum';
}

/** Folders the go command never builds from: `testdata`, and names starting with `.` or `_`. */
export function isIgnoredDir(name: string): boolean {
  return name === 'testdata' || name === 'node_modules' || name.startsWith('.') || name.startsWith('_');
}

/** The `//go:embed` patterns of a Go file: embedded files are build inputs too. */
export function embedPatterns(source: string): string[] {
  const patterns: string[] = [];
  for (const match of source.matchAll(/^\/\/go:embed\s+(.+)$/gm)) {
    for (const word of match[1]!.matchAll(/"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g)) {
      const pattern = word[1] ?? word[2] ?? word[3]!;
      patterns.push(pattern.replace(/^all:/, ''));
    }
  }
  return patterns;
}

/** Local module folders a go.mod pulls in with `replace ... => ./path` (their sources are build inputs). */
export function localReplacements(goMod: string): string[] {
  const dirs: string[] = [];
  for (const match of goMod.matchAll(/=>\s*(\.{1,2}\/[^\s]*|\/[^\s]+)\s*$/gm)) dirs.push(match[1]!);
  return dirs;
}

/**
 * Why this run must go through the go command even with kept binaries; [] when it need not.
 * Coverage is merged by the go command from the binary's files; `-json` output is converted by
 * it; `-c`, `-o`, `-n` do something other than run; any other command but `go test` (make, a
 * script) may do more than build and run test binaries, which running them directly would skip.
 */
export function goCommandReasons(argv: readonly string[], userGoflags: string | undefined): string[] {
  if (baseName(argv[0] ?? '') !== 'go' || argv[1] !== 'test') {
    return [`the test command is not \`go test\` itself (${argv.slice(0, 2).join(' ')}): what else it does cannot be skipped`];
  }
  const reasons: string[] = [];
  const words = [...goTestFlagWords(argv.slice(2)), ...(userGoflags ?? '').split(/\s+/).filter((word) => word !== '')];
  for (const word of words) {
    const name = /^--?([\w.-]+)(=.*)?$/.exec(word)?.[1];
    if (name === undefined) continue;
    const reason = goCommandFlags[name];
    if (reason && !reasons.includes(reason)) reasons.push(reason);
  }
  return reasons;
}

const goCommandFlags: Record<string, string> = {
  cover: 'coverage (-cover) is measured and merged by the go command',
  coverprofile: 'coverage (-coverprofile) is measured and merged by the go command',
  covermode: 'coverage (-covermode) is measured and merged by the go command',
  coverpkg: 'coverage (-coverpkg) is measured and merged by the go command',
  json: '-json output is converted by the go command',
  c: '-c compiles the test binary without running it',
  o: '-o writes the test binary where the command asks',
  n: '-n prints the commands without running them',
  toolexec: '-toolexec runs the build through another program',
};

/** The words of a `go test` argv up to `-args` (after it, everything goes to the binary untouched). */
function goTestFlagWords(words: readonly string[]): string[] {
  const end = words.findIndex((word) => word === '-args' || word === '--args');
  return [...(end < 0 ? words : words.slice(0, end))];
}

/** Binary words the go command adds for coverage: a run recorded with them cannot be replayed. */
export function recordedCoverage(args: readonly string[], env: Readonly<Record<string, string>>): boolean {
  return args.some((word) => /^--?test\.(coverprofile|gocoverdir)(=|$)/.test(word)) || env.GOCOVERDIR !== undefined;
}

/** `go test -p N`, else the go command's default: one package a core. */
export function packageConcurrency(argv: readonly string[], userGoflags: string | undefined, cores: number): number {
  const words = [...goTestFlagWords(argv.slice(2)), ...(userGoflags ?? '').split(/\s+/)];
  let value: number | undefined;
  for (let i = 0; i < words.length; i++) {
    const match = /^--?p(?:=(\d+))?$/.exec(words[i]!);
    if (match) value = Number(match[1] ?? words[i + 1]);
  }
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : Math.max(1, cores);
}

/**
 * Whether a run can use what a kept run recorded: the same build, and for a run without focus a
 * kept run without one (a probe's recorded words carry its focus, which only a probe replaces).
 */
export function keptRunFits(kept: KeptRun, build: string, focused: boolean): string | undefined {
  if (kept.version !== 1) return 'kept by another kubeflake version';
  if (kept.buildKey !== build) return 'the build (command, GOFLAGS or build environment) changed';
  if (kept.focused && !focused) return 'only a probe ran through go test so far';
  if (kept.packages.length === 0) return 'the go command handed no test binary to the shim';
  return undefined;
}

/** A `go test` run as the runner asks for it. */
export interface GoRunShape {
  buildKey: string;
  /** The `go test` argv as run (env words out). */
  argv: readonly string[];
  /** The user's GOFLAGS, before kubeflake's -exec. */
  userGoflags?: string;
  focused: boolean;
  cores: number;
}

/** How a run through the go command ended, with the shim's records of its binaries. */
export interface GoRunOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Packages that did not build. */
  unbuilt: number;
  binaries: readonly { importPath: string; args: string[]; exitCode: number | null; kept?: string; reused?: boolean }[];
}

/**
 * What a run through the go command leaves for later runs: the packages it handed over, only when
 * the run shows it ran every package it builds (no build failure, not cut short, every binary
 * kept, and a failing exit only with a failing binary: a vet or setup failure runs no binary).
 */
export function keptRunOf(shape: GoRunShape, outcome: GoRunOutcome): KeptRun | undefined {
  if (goCommandReasons(shape.argv, shape.userGoflags).length > 0) return undefined;
  if (outcome.timedOut || outcome.signal !== null || outcome.unbuilt > 0 || outcome.binaries.length === 0) return undefined;
  if (outcome.binaries.some((binary) => binary.reused || binary.kept === undefined)) return undefined;
  const binaryFailed = outcome.binaries.some((binary) => binary.exitCode !== 0);
  if (outcome.exitCode !== (binaryFailed ? 1 : 0)) return undefined;
  return {
    version: 1,
    buildKey: shape.buildKey,
    focused: shape.focused,
    concurrency: packageConcurrency(shape.argv, shape.userGoflags, shape.cores),
    packages: outcome.binaries.map((binary) => ({ importPath: binary.importPath, key: binary.kept!, args: [...binary.args] })),
  };
}

/** What one reused run does: each kept binary, through the run's shim, in its package folder. */
export interface ReplayPlan {
  version: 1;
  /** The run's shim plan (go-exec/plan.json): each binary runs as the shim runs it under go test. */
  plan: string;
  concurrency: number;
  packages: ReplayPackage[];
}

export interface ReplayPackage {
  importPath: string;
  dir: string;
  binary: string;
  args: string[];
  /** Set on top of the run's environment, as the go command sets them. */
  env: Record<string, string>;
}

/** The replay of kept binaries: the go command's words verbatim (the shim swaps seed, focus and reports), PWD the package folder. */
export function replayPlan(plan: string, concurrency: number, binaries: readonly (KeptTestBinary & { args: readonly string[] })[]): ReplayPlan {
  return {
    version: 1,
    plan,
    concurrency,
    packages: binaries.map((binary) => ({
      importPath: binary.importPath,
      dir: binary.dir,
      binary: binary.binary,
      args: [...binary.args],
      env: { ...binary.env, PWD: binary.dir },
    })),
  };
}

/** The line `go test` prints for a package when it ends (`ok`/`FAIL`, the import path, seconds). */
export function packageResultLine(importPath: string, passed: boolean, ms: number): string {
  return `${passed ? 'ok  ' : 'FAIL'}\t${importPath}\t${(ms / 1000).toFixed(3)}s`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
