// The `go test -exec` shim's decisions, as pure functions: kubeflake sets
// GOFLAGS=-exec=<shim>, so the go command runs every test binary through the shim, whatever
// started `go test` (`go test ./...`, `make test`, a script). The shim looks at the binary it
// was given, not at the command the user typed: a Ginkgo v2 suite gets
// `-ginkgo.randomize-all -ginkgo.seed=S` and JSON/JUnit report flags into the run folder, a
// plain Go test binary gets `-test.shuffle=S` and a test2json stream; anything else (`go run`
// honours -exec too) runs untouched. The user's own flags stay (-coverprofile, -run,
// -ginkgo.label-filter...); only the ones kubeflake must own (seed, shuffle, focus) are replaced.
//
// go test passes flags to the binary as `-test.x=v` words, then the user's words verbatim, so
// `-ginkgo.focus foo` (two words) and positional arguments after the flags both occur: the
// shim puts its flags first, where they can never land among positional arguments, and removes
// the user's copies of the flags it replaces (the Go flag package keeps the last value).

import { ginkgoFocusPattern, goRunPattern, shellWord } from './patterns.ts';
import { baseName } from './command-line.ts';
import type { StyleAdapter } from './adapter.ts';

/**
 * `make test`, a script: kubeflake cannot add flags, but every `go test` inside reads GOFLAGS,
 * so the shim carries seed, focus and reports (the run folder's plan). The reproduce line sets
 * the same order through GOFLAGS (`-shuffle`, `-run`): exact for plain Go tests; Ginkgo's flags
 * have no GOFLAGS form, so a Ginkgo suite's line keeps the seed only in KUBEFLAKE_SEED.
 */
export const goExecCommand: StyleAdapter = {
  style: 'go-exec',
  focusable: true,
  seedInEnv: true,
  serves: ['go', 'ginkgo'],
  select: (argv) => [...argv],
  addReports: (argv) => ({ argv: [...argv], reports: { kind: 'go-exec' }, notes: [] }),
  reproduceEnv(selection, env): Record<string, string> {
    const names = (selection.tests ?? []).map((test) => test.name);
    // GOFLAGS splits on spaces: a name with one (a Ginkgo spec) cannot be put in -run.
    if (names.some((name) => /\s/.test(name))) return {};
    const flags = [env.GOFLAGS ?? '', `-shuffle=${selection.seed}`, names.length > 0 ? `-run=${goRunPattern(names)}` : ''];
    return { GOFLAGS: flags.filter((flag) => flag !== '').join(' ') };
  },
};

/** What kubeflake asks of every test binary one run starts: the shim reads it from the run folder. */
export interface GoExecPlan {
  /** Bumped when the shape changes, so an old shim never misreads a new plan. */
  version: 1;
  seed: number;
  /** Absolute: each test binary writes its reports and its record here, one set of files per package. */
  reportDir: string;
  /** Probes: only these tests run. Plain Go tests are matched by package (suite) and name; Ginkgo specs by name. */
  focus?: GoExecFocus[];
  /** Stress: the test processes run with this GOMAXPROCS (the go command itself keeps its own). */
  gomaxprocs?: number;
  /** The -exec program GOFLAGS had before kubeflake's: test binaries still run through it. */
  userExec?: string;
  /** Build once, run many: where test binaries are kept, and the build they come from (go-exec-reuse.ts). */
  keep?: { dir: string; buildKey: string };
}

export interface GoExecFocus {
  /** The package import path for plain Go tests, the suite description for Ginkgo specs. */
  suite: string;
  name: string;
}

/**
 * What a binary the go command hands to the shim is: a Ginkgo v2 suite, a Ginkgo v1 suite
 * (its flags differ: run as a plain test binary, with a note), a plain Go test binary, or
 * something `go run` started.
 */
export type TestBinaryKind = 'ginkgo' | 'ginkgo-v1' | 'go' | 'program';

/** Symbols the linker keeps only when the suite really calls RunSpecs (dead code is dropped). */
export const ginkgoV2Mark = 'github.com/onsi/ginkgo/v2.RunSpecs';
export const ginkgoV1Mark = 'github.com/onsi/ginkgo.RunSpecs';

/** The kind of binary: test binaries are named `<pkg>.test` by the go command; the marks say which framework. */
export function classifyBinary(path: string, marks: { ginkgoV2: boolean; ginkgoV1: boolean }): TestBinaryKind {
  if (!baseName(path).endsWith('.test')) return 'program';
  if (marks.ginkgoV2) return 'ginkgo';
  if (marks.ginkgoV1) return 'ginkgo-v1';
  return 'go';
}

/** One test binary as the shim met it. */
export interface TestBinary {
  path: string;
  kind: TestBinaryKind;
  /** The package import path (the `Package` go test -json would print). */
  importPath: string;
  /** The package directory: the go command runs the binary there. */
  dir: string;
  /** File-name-safe and unique within the run: the stem of this binary's report files. */
  label: string;
}

/** What the shim leaves in the report folder for each binary: `<label>.exec.json`. */
export interface TestBinaryRecord {
  importPath: string;
  kind: Exclude<TestBinaryKind, 'program'>;
  label: string;
  /** The package folder, where the binary ran. */
  dir: string;
  /** The words the go command passed, and what the shim ran instead. */
  args: string[];
  argv: string[];
  skipped?: string;
  notes: string[];
  exitCode: number | null;
  signal: string | null;
  startedAt: number;
  endedAt: number;
  /** The key the binary was kept under, for later runs (go-exec-reuse.ts). */
  kept?: string;
  /** The binary was a kept one, run without the go command. */
  reused?: boolean;
}

/** How the shim runs one binary and what it leaves in the report folder. */
export interface ShimInvocation {
  /** What to spawn: the user's -exec program (if any), the binary, the arguments. */
  argv: string[];
  /** Set on top of the environment the go command gave. */
  env: Record<string, string>;
  /**
   * Ginkgo reports this binary writes (absolute). `fromUser` when the user asked for that report
   * themselves: it is written where they wanted and copied into the run folder after.
   */
  ginkgoJson?: { path: string; fromUser: boolean };
  junit?: { path: string; fromUser: boolean };
  /** Where the binary's test2json stream goes (absolute): every test binary has one. */
  goTestJson?: string;
  /**
   * `raw`: go test itself converts the output (-json), so it passes through untouched; `text`:
   * the test2json framing marks are taken out, so the log reads like `go test -v`.
   */
  output: 'raw' | 'text';
  /** A probe has no test in this package: the binary is not run at all (saves its TestMain, an envtest start). */
  skip?: string;
  /** Things the user should know, written into the binary's record. */
  notes: string[];
}

/** Files of one binary in the report folder. */
export function reportFiles(reportDir: string, label: string): { ginkgoJson: string; junit: string; goTestJson: string; record: string } {
  const stem = `${trimSlash(reportDir)}/${label}`;
  return { ginkgoJson: `${stem}.ginkgo.json`, junit: `${stem}.junit.xml`, goTestJson: `${stem}.go-test.json`, record: `${stem}.exec.json` };
}

/** Decides the argv and report files for one binary; `args` are the words the go command passed after it. */
export function shimInvocation(plan: GoExecPlan, binary: TestBinary, args: string[]): ShimInvocation {
  const env: Record<string, string> = {};
  // A command-line -exec may carry its own arguments (`-exec 'sudo -E'`).
  const prefix = plan.userExec ? plan.userExec.split(/\s+/).filter((word) => word !== '') : [];
  if (binary.kind === 'program') return { argv: [...prefix, binary.path, ...args], env, output: 'raw', notes: [] };
  if (plan.gomaxprocs !== undefined) env.GOMAXPROCS = String(plan.gomaxprocs);
  const files = reportFiles(plan.reportDir, binary.label);
  const parsed = parseBinaryArgs(args);
  const output = parsed.flags.some((flag) => flag.name === 'test.v' && flag.value === 'test2json') ? 'raw' : 'text';
  const notes: string[] = [];
  // test2json needs -test.v=test2json: its framing marks tell test output from test events.
  const ours = ['-test.v=test2json'];
  const replaced = new Set(['test.v']);
  const seed = String(plan.seed);

  if (binary.kind === 'ginkgo') {
    replaced.add('ginkgo.seed').add('ginkgo.randomize-all');
    ours.push('-ginkgo.randomize-all', `-ginkgo.seed=${seed}`);
    if (plan.focus?.length) {
      replaced.add('ginkgo.focus');
      ours.push(...unique(plan.focus.map((test) => test.name)).map((name) => `-ginkgo.focus=${ginkgoFocusPattern(name)}`));
    }
    const userJson = lastValue(parsed.flags, 'ginkgo.json-report');
    const userJunit = lastValue(parsed.flags, 'ginkgo.junit-report');
    if (userJson === undefined) ours.push(`-ginkgo.json-report=${files.ginkgoJson}`);
    if (userJunit === undefined) ours.push(`-ginkgo.junit-report=${files.junit}`);
    return {
      argv: [...prefix, binary.path, ...ours, ...withoutFlags(parsed, replaced)],
      env,
      ginkgoJson: { path: userJson === undefined ? files.ginkgoJson : resolveIn(binary.dir, userJson), fromUser: userJson !== undefined },
      junit: { path: userJunit === undefined ? files.junit : resolveIn(binary.dir, userJunit), fromUser: userJunit !== undefined },
      goTestJson: files.goTestJson,
      output,
      notes,
    };
  }

  if (binary.kind === 'ginkgo-v1') {
    notes.push(`${binary.importPath} is a Ginkgo v1 suite: kubeflake orders Ginkgo v2 specs only, so its specs run in their written order as one Go test; upgrade to Ginkgo v2 to hunt inside it`);
  }
  // `go test ./... -ginkgo.v` hands Ginkgo's flags to every package; a plain one would refuse them and fail.
  const foreign = unique(parsed.flags.filter((flag) => flag.name.startsWith('ginkgo.')).map((flag) => flag.name));
  if (foreign.length > 0) {
    for (const name of foreign) replaced.add(name);
    notes.push(`${binary.importPath} is no Ginkgo v2 suite: kubeflake left out the Ginkgo flags it would have refused (${foreign.map((name) => `-${name}`).join(', ')})`);
  }
  replaced.add('test.shuffle');
  ours.push(`-test.shuffle=${seed}`);
  if (plan.focus?.length) {
    // A focused test with no package named could be in any package.
    const names = unique(plan.focus.filter((test) => test.suite === '' || test.suite === binary.importPath).map((test) => test.name));
    if (names.length === 0) {
      return { argv: [], env, output, notes, skip: `no focused test is in ${binary.importPath}` };
    }
    replaced.add('test.run');
    ours.push(`-test.run=${goRunPattern(names)}`);
  }
  return { argv: [...prefix, binary.path, ...ours, ...withoutFlags(parsed, replaced)], env, goTestJson: files.goTestJson, output, notes };
}

/** One flag word (or two, `-name value`) as the Go flag package reads it. */
export interface BinaryFlag {
  name: string;
  /** Undefined for a bare `-name`. */
  value?: string;
  words: string[];
}

export interface BinaryArgs {
  flags: BinaryFlag[];
  /** `--` and everything after it, or everything from the first positional argument on. */
  rest: string[];
}

// Flags that never take the next word as their value: the testing package's and Ginkgo's booleans.
const boolFlags = new Set([
  'test.v', 'test.short', 'test.failfast', 'test.benchmem', 'test.paniconexit0', 'test.fullpath', 'test.fuzzworker', 'test.artifacts',
  'ginkgo.randomize-all', 'ginkgo.v', 'ginkgo.vv', 'ginkgo.succinct', 'ginkgo.no-color', 'ginkgo.fail-fast', 'ginkgo.dry-run',
  'ginkgo.trace', 'ginkgo.show-node-events', 'ginkgo.fail-on-pending', 'ginkgo.fail-on-empty', 'ginkgo.keep-going',
  'ginkgo.silence-skips', 'ginkgo.force-newlines', 'ginkgo.always-emit-ginkgo-writer', 'ginkgo.github-output',
  'ginkgo.emit-spec-progress', 'ginkgo.no-parallel', 'ginkgo.require-suite',
]);

/**
 * Splits a test binary's arguments the way the Go flag package reads them: `-x`, `--x`,
 * `-x=v`, `-x v` (the next word is a value unless the flag is a known boolean or the word looks
 * like a flag), stopping at `--` or the first positional argument.
 */
export function parseBinaryArgs(args: string[]): BinaryArgs {
  const flags: BinaryFlag[] = [];
  let i = 0;
  while (i < args.length) {
    const word = args[i]!;
    const match = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/.exec(word);
    if (word === '--' || !match) break;
    const name = match[1]!;
    if (match[2] !== undefined || boolFlags.has(name) || i + 1 >= args.length || args[i + 1]!.startsWith('-')) {
      flags.push({ name, value: match[2], words: [word] });
      i += 1;
    } else {
      flags.push({ name, value: args[i + 1], words: [word, args[i + 1]!] });
      i += 2;
    }
  }
  return { flags, rest: args.slice(i) };
}

function withoutFlags(parsed: BinaryArgs, names: Set<string>): string[] {
  return [...parsed.flags.filter((flag) => !names.has(flag.name)).flatMap((flag) => flag.words), ...parsed.rest];
}

function lastValue(flags: BinaryFlag[], name: string): string | undefined {
  return flags.filter((flag) => flag.name === name && flag.value !== undefined && flag.value !== '').at(-1)?.value;
}

/**
 * GOFLAGS for a run: the user's own kept, kubeflake's -exec added. GOFLAGS is space-separated
 * and cannot quote, so the shim path must hold no whitespace; a -exec the user already had is
 * taken out and handed to the shim, which still runs the test binaries through it.
 */
export function goflagsWithShim(existing: string | undefined, shimPath: string): { goflags: string; userExec?: string } {
  if (/\s/.test(shimPath)) throw new Error(`the go test exec shim path "${shimPath}" contains whitespace, which GOFLAGS cannot carry: use a results directory whose path has no spaces`);
  const words = (existing ?? '').split(/\s+/).filter((word) => word !== '');
  let userExec: string | undefined;
  const kept = words.filter((word) => {
    const match = /^--?exec=(.*)$/.exec(word);
    if (!match) return true;
    userExec = match[1] || undefined;
    return false;
  });
  return { goflags: [...kept, `-exec=${shimPath}`].join(' '), ...(userExec ? { userExec } : {}) };
}

/**
 * A `go test` argv for the run: its own `-exec prog` (which would replace kubeflake's from GOFLAGS)
 * taken out and handed to the shim, which still runs the test binaries through it.
 */
export function takeExecFlag(argv: readonly string[]): { argv: string[]; exec?: string; notes: string[] } {
  let exec: string | undefined;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-args' || word === '--args') {
      kept.push(...argv.slice(i));
      break;
    }
    const match = /^--?exec(?:=(.*))?$/.exec(word);
    if (!match) {
      kept.push(word);
      continue;
    }
    exec = match[1] ?? argv[i + 1];
    if (match[1] === undefined) i++;
  }
  if (exec === undefined) return { argv: kept, notes: [] };
  return { argv: kept, exec, notes: [`kubeflake runs the test binaries through its go test shim, which runs them through your -exec ${exec}`] };
}

/** The generated shim: one path, no spaces, so GOFLAGS can carry it; it only hands over to node. */
export function shimScript(node: string, entry: string, planFile: string): string {
  return `#!/bin/sh\n# kubeflake's go test -exec shim: go runs every test binary through this.\nexec ${shellWord(node)} ${shellWord(entry)} ${shellWord(planFile)} "$@"\n`;
}

/**
 * A package's import path from the module that holds it: the module path plus the package's
 * folder below the module root (what `go list` prints for it).
 */
export function importPathOf(modulePath: string, moduleDir: string, packageDir: string): string {
  const root = trimSlash(moduleDir);
  const dir = trimSlash(packageDir);
  if (dir === root) return modulePath;
  if (!dir.startsWith(`${root}/`)) return modulePath;
  return `${modulePath}/${dir.slice(root.length + 1)}`;
}

/** The module path a go.mod declares (`module example.com/x`, quoted or not). */
export function modulePathOf(goMod: string): string | undefined {
  const match = /^\s*module\s+("?)([^"\s]+)\1\s*(?:\/\/.*)?$/m.exec(goMod);
  return match?.[2];
}

/** A file-name-safe stem from an import path: `example.com/op/internal/controller` -> `example.com_op_internal_controller`. */
export function labelOf(importPath: string): string {
  return importPath.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'package';
}

/**
 * How to start test2json: the go command puts `$GOROOT/bin` first on a test binary's PATH, so the
 * tool is at `$GOROOT/pkg/tool/<os>_<arch>/test2json`; started directly, it saves a go command
 * start per test binary. `go tool test2json` when it is not there.
 */
export function test2jsonCommand(path: string | undefined, platform: string, arch: string, exists: (file: string) => boolean): string[] {
  const goBin = (path ?? '').split(':')[0] ?? '';
  const goos = ({ win32: 'windows' } as Record<string, string>)[platform] ?? platform;
  const goarch = ({ x64: 'amd64', ia32: '386' } as Record<string, string>)[arch] ?? arch;
  if (goBin.endsWith('/bin')) {
    const tool = `${goBin.slice(0, -'/bin'.length)}/pkg/tool/${goos}_${goarch}/test2json`;
    if (exists(tool)) return [tool];
  }
  return ['go', 'tool', 'test2json'];
}

/**
 * Turns test2json-mode output back into `go test -v` text, line by line: the ^V framing marks
 * go, and the empty `=== NAME` lines test2json mode adds between tests are dropped.
 */
export function plainTestOutput(line: string): string | undefined {
  if (!line.startsWith('\x16')) return line;
  const framing = line.slice(1);
  if (/^=== NAME\s*$/.test(framing)) return undefined;
  return framing;
}

function resolveIn(dir: string, path: string): string {
  return path.startsWith('/') ? path : `${trimSlash(dir)}/${path.replace(/^\.\//, '')}`;
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}



function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
