// The one place that knows test command lines: which framework a command runs, how to give it a
// seed, a focus and report flags, and the line a person runs to reproduce a failure. A probe
// runs exactly the reproduce line plus report flags, so the two cannot drift apart.

import type { Framework } from '../model.ts';
import { baseName, hasFlag, parseCommandLine } from './command-line.ts';
import { ginkgoBinary, ginkgoCli, ginkgoCliArgsAt } from './ginkgo.ts';
import { goBinary, goTest } from './go-test.ts';
import { envStyle } from './generic.ts';
import { goExecCommand } from './go-exec.ts';
import { shellQuote } from './patterns.ts';
import type { CommandStyle, FocusTest, ReportPlaces, ReportTarget, Selection, StyleAdapter } from './adapter.ts';

export type { CommandStyle, FocusTest, ReportPlaces, ReportTarget, Selection } from './adapter.ts';
export { escapeRegex, ginkgoFocusPattern, goRunPattern, shellJoin, shellQuote } from './patterns.ts';
export { parseCommandLine, removeFlags, type CommandLine, type FlagRule } from './command-line.ts';

/** What runs, read from the command once: a ginkgo CLI, `go test`, a compiled test binary, or something else. */
type Shape = 'ginkgo-cli' | 'go-test' | 'test-binary' | 'other';

function shapeOf(argv: readonly string[]): Shape {
  if (ginkgoCliArgsAt(argv) >= 0) return 'ginkgo-cli';
  const program = baseName(argv[0] ?? '');
  if (program === 'go' && argv[1] === 'test') return 'go-test';
  if (program.endsWith('.test')) return 'test-binary';
  return 'other';
}

/**
 * The framework a command runs: the ginkgo CLI -> ginkgo; `go test` or `pkg.test` with
 * `-ginkgo.*` flags -> ginkgo, without -> go; anything else (make test, a script) -> go, driven
 * through the go test shim (what it really runs is known after the first run), unless a report
 * glob says the command writes its own reports -> generic.
 */
export function detectFramework(command: readonly string[], options: { reportGlob?: string } = {}): Framework {
  const { argv } = parseCommandLine(command);
  switch (shapeOf(argv)) {
    case 'ginkgo-cli':
      return 'ginkgo';
    case 'go-test':
    case 'test-binary':
      return hasFlag(argv, /^--?ginkgo\./) ? 'ginkgo' : 'go';
    case 'other':
      return options.reportGlob ? 'generic' : 'go';
  }
}

const adapters: Record<CommandStyle, StyleAdapter> = {
  'ginkgo-cli': ginkgoCli,
  'ginkgo-binary': ginkgoBinary,
  'go-test': goTest,
  'go-binary': goBinary,
  'go-exec': goExecCommand,
  env: envStyle,
};

/** How flags are added to this command for this framework (the user may force a framework). */
export function commandStyle(framework: Framework, command: readonly string[]): CommandStyle {
  if (framework === 'generic') return 'env';
  switch (shapeOf(parseCommandLine(command).argv)) {
    case 'ginkgo-cli':
      return framework === 'ginkgo' ? 'ginkgo-cli' : 'env';
    case 'go-test':
      return framework === 'ginkgo' ? 'ginkgo-binary' : 'go-test';
    case 'test-binary':
      return framework === 'ginkgo' ? 'ginkgo-binary' : 'go-binary';
    case 'other':
      return 'go-exec';
  }
}

/** Whether probes can run single tests of this command. */
export function canFocus(framework: Framework, command: readonly string[]): boolean {
  return adapters[commandStyle(framework, command)].focusable;
}

export interface BuiltCommand {
  framework: Framework;
  style: CommandStyle;
  /** What to spawn: the env words removed. */
  argv: string[];
  /** What to record and show: the env words kept in front, as the user wrote them. */
  display: string[];
  /** Env for the process: the user's env words plus KUBEFLAKE_SEED. */
  env: Record<string, string>;
  reports: ReportTarget;
  /** Things the user should know about how the command was changed. */
  notes: string[];
}

/**
 * The command of one run or probe: seed, order and focus flags (as the reproduce line has them),
 * plus report flags into `places` when given. Throws with what to do when the command cannot
 * serve (empty, a framework that does not fit it, focus on a command that cannot select tests).
 */
export function buildRunCommand(command: readonly string[], framework: Framework, options: Selection & { reports?: ReportPlaces }): BuiltCommand {
  if (command.length === 0) throw new Error('the test command is empty: pass it after `--`, e.g. `kubeflake run -- go test ./...`');
  const line = parseCommandLine(command);
  const adapter = adapters[commandStyle(framework, command)];
  if (!adapter.serves.includes(framework)) {
    const hint = framework === 'ginkgo' ? 'a `ginkgo` or `go test` command' : 'a `go test` command';
    throw new Error(`framework ${framework} needs ${hint}, got \`${command.join(' ')}\`: use framework generic and pass $KUBEFLAKE_SEED on yourself`);
  }
  const focus = options.tests?.length ? options.tests : undefined;
  if (focus && !adapter.focusable) {
    throw new Error(`cannot focus on ${focus.length} test(s) with the ${framework} framework: it has no way to select tests, so probes are impossible; use a ginkgo or go test command (framework ginkgo or go)`);
  }
  const selected = adapter.select(line.argv, { seed: options.seed, tests: focus });
  const withReports = options.reports ? adapter.addReports(selected, options.reports) : { argv: selected, reports: { kind: 'none' } as const, notes: [] };
  return {
    framework,
    style: adapter.style,
    argv: withReports.argv,
    display: [...line.envWords, ...withReports.argv],
    env: { ...line.env, KUBEFLAKE_SEED: String(options.seed) },
    reports: withReports.reports,
    notes: withReports.notes,
  };
}

/** One shell-quoted line that reproduces a run or probe: environment, then the command. */
export function reproduceCommand(framework: Framework, command: readonly string[], selection: Selection): string {
  const line = parseCommandLine(command);
  const adapter = adapters[commandStyle(framework, command)];
  const argv = adapter.select(line.argv, adapter.focusable ? selection : { seed: selection.seed });
  const env = { ...line.env, ...(adapter.seedInEnv ? { KUBEFLAKE_SEED: String(selection.seed) } : {}), ...adapter.reproduceEnv?.(selection, line.env) };
  return [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...argv.map(shellQuote)].join(' ');
}

/** The selection of a probe plan: its seed and its tests by name, looked up, never parsed out of ids. */
export function selectionOf(plan: { seed: number; tests: readonly string[] }, tests: ReadonlyMap<string, FocusTest>): Selection {
  return {
    seed: plan.seed,
    tests: plan.tests.map((id) => {
      const test = tests.get(id);
      if (!test) throw new Error(`probe plan names ${JSON.stringify(id)}, which no report of this hunt contains`);
      return test;
    }),
  };
}
