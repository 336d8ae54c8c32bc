// Order and focus flags for a test command: one implementation for the runner (to execute runs
// and probes) and for analysis (to print a reproduce command).
//
// The probe planner relies on how the frameworks shuffle: Ginkgo `--randomize-all --seed=S`
// shuffles the full spec list and then marks specs not matching --focus as skipped, and
// `go test -shuffle=S` shuffles every test of the package and then filters by -run. So running
// a subset with the seed of a recorded run keeps the subset's recorded relative order.
//
// Ginkgo matches --focus against "<suite description> <spec text>", so a pattern anchored with
// `^` at the spec text would never match; the pattern is anchored at a word boundary instead.

import type { Framework, ProbePlan, TestId } from '../model.ts';

/** Which seed to run with and, optionally, which tests only (by full name, as in TestCase.name). */
export interface TestSelection {
  seed: number;
  tests?: { name: string }[];
}

/** How flags are added to a command. */
export type CommandStyle =
  | 'ginkgo-cli' // ginkgo [run] [flags] [packages]
  | 'ginkgo-binary' // go test ... -ginkgo.seed=S, or a compiled pkg.test binary with -ginkgo.* flags
  | 'go-test' // go test -shuffle=S -run=...
  | 'go-binary' // pkg.test -test.shuffle=S -test.run=...
  | 'env'; // anything else (make test, scripts): the seed is passed as KUBEFLAKE_SEED

/** A command ready to run: argv plus environment variables to set. */
export interface TestInvocation {
  argv: string[];
  env: Record<string, string>;
  style: CommandStyle;
  /** False when the style cannot select tests (env style): the whole suite runs. */
  focused: boolean;
}

const GO_REGEX_META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes Go (RE2) regular expression metacharacters, like regexp.QuoteMeta. */
export function escapeRegex(text: string): string {
  return text.replace(GO_REGEX_META, '\\$&');
}

/** A Ginkgo --focus pattern that matches exactly one spec's full text (containers + It). */
export function ginkgoFocusPattern(specText: string): string {
  return `(^|\\s)${escapeRegex(specText)}$`;
}

/** A `go test -run` pattern selecting exactly these tests ("TestA", or "TestA/sub_case" subtests). */
export function goRunPattern(testNames: string[]): string {
  const levels = testNames.map((n) => n.split('/'));
  const top = unique(levels.map((l) => l[0] ?? ''));
  const topPattern = `^(${top.map(escapeRegex).join('|')})$`;
  // Subtests are selected only when every test is a direct subtest; otherwise whole top-level tests run.
  if (levels.length > 0 && levels.every((l) => l.length === 2)) {
    const sub = unique(levels.map((l) => l[1] ?? ''));
    return `${topPattern}/^(${sub.map(escapeRegex).join('|')})$`;
  }
  return topPattern;
}

/** Which way flags are added to this command for this framework. */
export function commandStyle(framework: Framework, baseCommand: string[]): CommandStyle {
  const start = programIndex(baseCommand);
  const program = baseName(baseCommand[start] ?? '');
  if (framework === 'generic') return 'env';
  if (framework === 'ginkgo' && (program === 'ginkgo' || ginkgoGoRunIndex(baseCommand, start) >= 0)) return 'ginkgo-cli';
  if (program === 'go' && baseCommand[start + 1] === 'test') return framework === 'ginkgo' ? 'ginkgo-binary' : 'go-test';
  if (program.endsWith('.test')) return framework === 'ginkgo' ? 'ginkgo-binary' : 'go-binary';
  return 'env';
}

/**
 * Adds (or replaces) the seed and focus flags on the user's command. Flags the user gave for
 * seed, focus, -run and shuffle are replaced; everything else is kept in place.
 */
export function buildInvocation(framework: Framework, baseCommand: string[], selection: TestSelection): TestInvocation {
  const style = commandStyle(framework, baseCommand);
  const seed = String(selection.seed);
  const names = (selection.tests ?? []).map((t) => t.name);
  const start = programIndex(baseCommand);
  const env: Record<string, string> = {};
  for (const assignment of baseCommand.slice(0, start)) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  const command = baseCommand.slice(start);

  switch (style) {
    case 'ginkgo-cli': {
      const goRun = ginkgoGoRunIndex(command, 0);
      let insertAt = goRun >= 0 ? goRun + 1 : 1;
      if (command[insertAt] === 'run') insertAt += 1;
      const { kept, removedBefore } = removeFlags(command, ['seed', 'focus', 'randomize-all'], ['seed', 'focus'], insertAt);
      const flags = ['--randomize-all', `--seed=${seed}`, ...names.map((n) => `--focus=${ginkgoFocusPattern(n)}`)];
      kept.splice(insertAt - removedBefore, 0, ...flags);
      return { argv: kept, env, style, focused: true };
    }
    case 'ginkgo-binary': {
      const { kept } = removeFlags(
        command,
        ['ginkgo.seed', 'ginkgo.focus', 'ginkgo.randomize-all'],
        ['ginkgo.seed', 'ginkgo.focus'],
        command.length,
      );
      // go test passes flags it does not know to the test binary only after the package list.
      kept.push('-ginkgo.randomize-all', `-ginkgo.seed=${seed}`, ...names.map((n) => `-ginkgo.focus=${ginkgoFocusPattern(n)}`));
      return { argv: kept, env, style, focused: true };
    }
    case 'go-test':
    case 'go-binary': {
      const prefix = style === 'go-binary' ? 'test.' : '';
      const insertAt = style === 'go-test' ? 2 : 1;
      const { kept, removedBefore } = removeFlags(
        command,
        ['shuffle', 'test.shuffle', 'run', 'test.run'],
        ['shuffle', 'test.shuffle', 'run', 'test.run'],
        insertAt,
      );
      const flags = [`-${prefix}shuffle=${seed}`];
      if (names.length > 0) flags.push(`-${prefix}run=${goRunPattern(names)}`);
      kept.splice(insertAt - removedBefore, 0, ...flags);
      return { argv: kept, env, style, focused: true };
    }
    case 'env':
      env.KUBEFLAKE_SEED = seed;
      return { argv: command, env, style, focused: false };
  }
}

/** One shell-quoted line that reproduces a run or probe: environment, then the command. */
export function reproduceCommand(
  framework: Framework,
  baseCommand: string[],
  selection: TestSelection | ProbePlan,
  names?: ReadonlyMap<TestId, { name: string }>,
): string {
  const resolved: TestSelection = isProbePlan(selection)
    ? { seed: selection.seed, tests: selection.tests.map((id) => names?.get(id) ?? { name: nameOfId(id) }) }
    : selection;
  const invocation = buildInvocation(framework, baseCommand, resolved);
  const env = Object.entries(invocation.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...env, ...invocation.argv.map(shellQuote)].join(' ');
}

/** Quotes one argument for a POSIX shell, leaving plain words readable. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one line a POSIX shell splits back into the same argv. */
export function shellJoin(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

// ---------------------------------------------------------------------------------------------

function isProbePlan(s: TestSelection | ProbePlan): s is ProbePlan {
  return 'purpose' in s && 'subject' in s;
}

/** The name part of a test id built by testId(suite, name), for plans whose cases are not at hand. */
function nameOfId(id: TestId): string {
  const sep = id.indexOf(' :: ');
  return sep >= 0 ? id.slice(sep + 4) : id;
}

/** Leading VAR=value words are environment assignments, as a shell reads them. */
function programIndex(argv: string[]): number {
  let i = 0;
  while (i < argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i] ?? '')) i += 1;
  return i;
}

/** `go run github.com/onsi/ginkgo/v2/ginkgo[@v] ...`: index of the ginkgo package argument, or -1. */
function ginkgoGoRunIndex(argv: string[], start: number): number {
  if (baseName(argv[start] ?? '') !== 'go' || argv[start + 1] !== 'run') return -1;
  for (let i = start + 2; i < argv.length; i += 1) {
    if (/(^|\/)ginkgo(\/v\d+)?\/ginkgo(@\S+)?$/.test(argv[i] ?? '')) return i;
  }
  return -1;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Drops flags named in `names` (any of -f, --f, -f=v, --f=v; `-f v` for flags in `valued`) that
 * appear before a `--` separator. Reports how many words were dropped before `insertAt`.
 */
function removeFlags(
  argv: string[],
  names: string[],
  valued: string[],
  insertAt: number,
): { kept: string[]; removedBefore: number } {
  const kept: string[] = [];
  let removedBefore = 0;
  let passThrough = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--' || arg === '-args' || arg === '--args') passThrough = true;
    const m = passThrough ? null : /^--?([^=]+)(=.*)?$/.exec(arg);
    const name = m?.[1];
    if (name !== undefined && names.includes(name)) {
      let drop = 1;
      if (m?.[2] === undefined && valued.includes(name) && i + 1 < argv.length) drop = 2;
      for (let d = 0; d < drop; d += 1) if (i + d < insertAt) removedBefore += 1;
      i += drop - 1;
      continue;
    }
    kept.push(arg);
  }
  return { kept, removedBefore };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
