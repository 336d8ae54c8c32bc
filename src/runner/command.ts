// The framework adapters as pure functions: given the user's command, a seed, an optional
// focus and where reports should go, return the argv to run. Seed and focus flags come from
// analysis/focus.ts, the one implementation shared with the reproduce commands, so a probe
// runs exactly what a person would rerun; this module adds the report flags on top.

import type { Framework, TestId } from '../model.ts';
import { buildInvocation, type CommandStyle } from '../analysis/focus.ts';

/** A test to focus on, as the reports named it. */
export interface FocusTest {
  id: TestId;
  name: string;
  suite: string;
}

/** Where the adapter asks the command to write its reports. */
export type ReportTarget =
  /** ginkgo CLI: `--output-dir` so nothing lands in the user's packages; names are relative. */
  | { kind: 'ginkgo-output-dir'; dir: string; junit: string; json: string }
  /** `go test -ginkgo.*`: each test binary writes these names in its own package directory. */
  | { kind: 'package-files'; junit: string; json: string }
  /** plain `go test`: the `-json` event stream on stdout, converted to JUnit by the runner. */
  | { kind: 'go-test-json' }
  /** generic: files the user's command writes, found by a glob. */
  | { kind: 'glob'; pattern: string }
  | { kind: 'none' };

export interface BuildOptions {
  seed: number;
  /** Run only these tests (probes). Unsupported by the generic adapter. */
  focus?: FocusTest[];
  /**
   * Ask for reports: the ginkgo CLI output directory (absolute) / a unique file stem for
   * per-package Ginkgo reports / a glob for generic commands. Without it, no report flags are
   * added: that is the reproduce command a person runs.
   */
  reports?: { outputDir: string; packageFileStem: string; glob?: string };
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

const ginkgoSubcommands = new Set(['watch', 'build', 'bootstrap', 'generate', 'labels', 'outline', 'unfocus', 'version', 'help']);
const envWord = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** `env A=1 go test` runs like `A=1 go test`: the env words are applied by the runner. */
function withoutEnvProgram(command: string[]): string[] {
  return command[0] === 'env' && command.length > 1 && !command[1]!.startsWith('-') ? command.slice(1) : command;
}

function programIndex(command: string[]): number {
  let i = 0;
  while (i < command.length && envWord.test(command[i]!)) i++;
  return i;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The adapter a command needs: the ginkgo CLI (`ginkgo`, `go run .../ginkgo/v2/ginkgo`) or
 * `go test`/`pkg.test` with `-ginkgo.*` flags -> ginkgo; `go test`/`pkg.test` -> go; else generic.
 */
export function detectFramework(command: string[]): Framework {
  const argv = withoutEnvProgram(command);
  const start = programIndex(argv);
  const program = baseName(argv[start] ?? '');
  const rest = argv.slice(start + 1);
  if (program === 'ginkgo') return 'ginkgo';
  if (program === 'go' && rest[0] === 'run' && rest.some((word) => /(^|\/)ginkgo(\/v\d+)?\/ginkgo(@\S+)?$/.test(word))) return 'ginkgo';
  if ((program === 'go' && rest[0] === 'test') || program.endsWith('.test')) {
    return rest.some((word) => /^--?ginkgo\./.test(word)) ? 'ginkgo' : 'go';
  }
  return 'generic';
}

/** Builds the argv of one run: seed, order, focus and report flags added, conflicting ones removed. */
export function buildRunCommand(command: string[], framework: Framework, options: BuildOptions): BuiltCommand {
  if (command.length === 0) throw new Error('the test command is empty: pass it after `--`, e.g. `kubeflake run -- go test ./...`');
  const normalized = withoutEnvProgram(command);
  const focus = options.focus?.length ? options.focus : undefined;
  if (framework === 'generic' && focus) {
    throw new Error(`cannot focus on ${focus.length} test(s) with the generic framework: it has no way to select tests, so probes are impossible; use a ginkgo or go test command (framework ginkgo or go)`);
  }
  const start = programIndex(normalized);
  const program = normalized.slice(start);
  if (framework === 'ginkgo' && baseName(program[0] ?? '') === 'ginkgo' && ginkgoSubcommands.has(program[1] ?? '')) {
    throw new Error(`\`ginkgo ${program[1]}\` does not run the suite once: use \`ginkgo run\` (or plain \`ginkgo\`) in the test command`);
  }
  const invocation = buildInvocation(framework, normalized, { seed: options.seed, tests: focus?.map((test) => ({ name: test.name })) });
  if (framework !== 'generic' && invocation.style === 'env') {
    const hint = framework === 'ginkgo' ? 'a `ginkgo` or `go test` command' : 'a `go test` command';
    throw new Error(`framework ${framework} needs ${hint}, got \`${command.join(' ')}\`: use framework generic and pass $KUBEFLAKE_SEED on yourself`);
  }
  const env = { ...invocation.env, KUBEFLAKE_SEED: String(options.seed) };
  const notes: string[] = [];
  let argv = invocation.argv;
  let reports: ReportTarget = { kind: 'none' };
  const wanted = options.reports;

  if (wanted) {
    switch (invocation.style) {
      case 'ginkgo-cli': {
        // Flags after `--` belong to the test binaries; ours go right after the seed flags.
        const split = argv.indexOf('--');
        const own = split < 0 ? argv : argv.slice(0, split);
        const passthrough = split < 0 ? [] : argv.slice(split);
        if (own.some((word) => /^--?output-dir(=|$)/.test(word))) {
          notes.push(`kubeflake replaced the command's --output-dir with ${wanted.outputDir}: profiles the command writes land there too`);
        }
        const kept = removeFlags(own, [{ names: ['junit-report', 'json-report', 'output-dir'], value: true }]);
        const at = kept.indexOf(`--seed=${options.seed}`) + 1;
        reports = { kind: 'ginkgo-output-dir', dir: wanted.outputDir, junit: 'junit.xml', json: 'ginkgo.json' };
        kept.splice(at, 0, `--output-dir=${wanted.outputDir}`, `--junit-report=${reports.junit}`, `--json-report=${reports.json}`);
        argv = [...kept, ...passthrough];
        break;
      }
      case 'ginkgo-binary': {
        // Each package's test binary runs in its own directory: relative names keep one report each.
        reports = { kind: 'package-files', junit: `${wanted.packageFileStem}-junit.xml`, json: `${wanted.packageFileStem}-ginkgo.json` };
        argv = [
          ...removeFlags(argv, [{ names: ['ginkgo.junit-report', 'ginkgo.json-report'], value: true }]),
          `-ginkgo.junit-report=${reports.junit}`,
          `-ginkgo.json-report=${reports.json}`,
        ];
        break;
      }
      case 'go-test': {
        const kept = removeFlags(argv, [{ names: ['json'], value: false }]);
        argv = [...kept.slice(0, 2), '-json', ...kept.slice(2)];
        reports = { kind: 'go-test-json' };
        break;
      }
      case 'go-binary':
        notes.push('a compiled go test binary writes no machine-readable report: run it through `go test` to get one');
        break;
      case 'env':
        if (wanted.glob) reports = { kind: 'glob', pattern: wanted.glob };
        break;
    }
  }
  return { framework, style: invocation.style, argv, display: [...normalized.slice(0, start), ...argv], env, reports, notes };
}

interface FlagRule {
  /** Flag names without dashes. */
  names: string[];
  /** Takes a value (`--seed=5` or `--seed 5`); bool flags only ever use `=`. */
  value: boolean;
}

/** Removes the flags named by the rules, in `-x`, `--x`, `-x=v`, `-x v` forms. */
export function removeFlags(args: string[], rules: FlagRule[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const match = /^--?([^=]+)(=.*)?$/.exec(word);
    const rule = match && word !== '--' ? rules.find((r) => r.names.includes(match[1]!)) : undefined;
    if (!rule) {
      kept.push(word);
      continue;
    }
    if (rule.value && match![2] === undefined) i++;
  }
  return kept;
}
