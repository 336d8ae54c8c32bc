// Framework detection by what actually runs, not by the command's first word: a ginkgo CLI
// under another name (`bin/gk`, `tools/ginkgo-v2.34`) is known by the package it is built
// from; what a script or `make test` runs is known only after the first run, from the records
// the go test shim left. When that first run gave no report, every later run would too: the
// hunt stops at once and says what to do (firstRunStop), instead of spending every run.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Framework } from '../model.ts';
import type { CommandStyle } from './adapter.ts';
import { baseName, parseCommandLine } from './command-line.ts';
import type { TestBinaryKind } from './go-exec.ts';

/** In every ginkgo CLI binary: the package that runs suites. Test binaries never link it. */
export const ginkgoCliMark = 'github.com/onsi/ginkgo/v2/ginkgo/run.';

/** What the command's program is, from its content. */
export type ExecutableKind = 'ginkgo-cli' | 'script' | 'binary' | 'missing';

/** The program word of a command: after `VAR=value` words and an `env` prefix. */
export function programWord(command: string[]): string | undefined {
  let i = 0;
  if (command[0] === 'env') i = 1;
  while (i < command.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(command[i]!)) i++;
  return command[i];
}

/** Reads the program's file: a ginkgo CLI by any name, a script, or another binary. */
export function detectExecutable(program: string, cwd: string, searchPath: string): ExecutableKind {
  const file = locate(program, cwd, searchPath);
  if (!file) return 'missing';
  const head = Buffer.alloc(2);
  try {
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'missing';
  }
  if (head.toString('latin1') === '#!') return 'script';
  return fileContains(file, [ginkgoCliMark])[0] ? 'ginkgo-cli' : 'binary';
}

function locate(program: string, cwd: string, searchPath: string): string | undefined {
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(cwd, program)] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  return candidates.find((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Which of the strings occur in the file, read in 1 MiB chunks (test binaries run to tens of
 * MiB); stops early once all are found.
 */
export function fileContains(file: string, strings: string[]): boolean[] {
  const found = strings.map(() => false);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return found;
  }
  try {
    const needles = strings.map((s) => Buffer.from(s));
    const overlap = Math.max(0, ...needles.map((n) => n.length));
    const buffer = Buffer.alloc(Math.max(1 << 20, overlap * 2));
    let kept = 0;
    for (;;) {
      const read = readSync(fd, buffer, kept, buffer.length - kept, null);
      if (read === 0) break;
      const view = buffer.subarray(0, kept + read);
      needles.forEach((needle, i) => (found[i] ||= view.includes(needle)));
      if (found.every(Boolean)) break;
      kept = Math.min(overlap, view.length);
      view.copyWithin(0, view.length - kept);
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

/** How kubeflake drove the command in the run. */
export type DriveStyle = 'ginkgo-cli' | 'go-exec' | 'test-binary' | 'generic';

/** The way a command of this style runs: through the go test shim for anything that runs `go test`. */
export function driveStyleOf(style: CommandStyle, command: readonly string[]): DriveStyle {
  switch (style) {
    case 'ginkgo-cli':
      return 'ginkgo-cli';
    case 'go-test':
    case 'go-exec':
      return 'go-exec';
    case 'ginkgo-binary':
      return baseName(parseCommandLine(command).argv[0] ?? '') === 'go' ? 'go-exec' : 'test-binary';
    case 'go-binary':
      return 'test-binary';
    case 'env':
      return 'generic';
  }
}

/**
 * The framework after the first run showed what really runs: a `go test ./...` or `make test`
 * taken for plain Go that ran a Ginkgo suite is Ginkgo (its probes focus specs, not -run names).
 */
export function frameworkAfterFirstRun(framework: Framework, binaries: readonly { kind: TestBinaryKind }[]): Framework {
  return framework === 'go' && binaries.some((binary) => binary.kind === 'ginkgo') ? 'ginkgo' : framework;
}

/** What the first run left, as the stop decision needs it. */
export interface FirstRunFacts {
  /** The run folder as a person finds it: `results/runs/000`. */
  runDir: string;
  command: string;
  style: DriveStyle;
  /** The command could be started (it exists, the working directory exists). */
  started: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Report files found, and the tests they hold. */
  reports: number;
  tests: number;
  /** What the go test shim ran (go-exec style): one entry per test binary. */
  binaries: { kind: TestBinaryKind; importPath: string }[];
  /** Packages go test could not build. */
  unbuilt?: string[];
  reportGlob?: string;
  /** What the command's program is by its content, when known. */
  program?: ExecutableKind;
}

export type FirstRunDecision = { stop: false } | { stop: true; reason: string; todo: string };

/** Whether the hunt can go on after its first run, and if not, why and what the user should do. */
export function firstRunStop(facts: FirstRunFacts): FirstRunDecision {
  const log = `${facts.runDir}/log.txt`;
  const stop = (reason: string, todo: string): FirstRunDecision => ({ stop: true, reason: `the first run gave no test results: ${reason}; every further run would do the same, so the hunt stops here`, todo });
  // Only build failures (reported as failed TestMains) and no test binary: the same in every run.
  const unbuilt = facts.unbuilt ?? [];
  if (unbuilt.length > 0 && facts.binaries.length === 0) {
    return stop(`${unbuilt.length === 1 ? 'its package' : `all ${unbuilt.length} of its packages`} did not build (${unbuilt.join(', ')})`, `fix the build; the compiler's errors are in the report and in ${log}`);
  }
  if (facts.tests > 0) return { stop: false };
  if (!facts.started) return stop(`\`${facts.command}\` could not be started`, `fix the test command or working-directory (the reason is in ${facts.runDir}/meta.json)`);
  if (facts.timedOut) return stop('it was killed at the run timeout before any test reported', `raise run-timeout, or find what hangs in ${log}`);
  if (facts.reports > 0) {
    return stop('its reports hold no test', `check that the command's filters (-run, --focus, --label-filter) leave tests to run; the output is in ${log}`);
  }
  switch (facts.style) {
    case 'ginkgo-cli':
      return stop(
        'ginkgo wrote no report into its --output-dir',
        `check that this is the Ginkgo v2 CLI and that the command runs suites (\`ginkgo run\`, not \`ginkgo build\`); if the build failed, the compiler's errors are in ${log}`,
      );
    case 'go-exec': {
      if (facts.binaries.length > 0) {
        return stop(
          `${facts.binaries.length} test binaries ran through kubeflake's go test shim but none left a report`,
          `see ${facts.runDir}/go-exec/*.exec.json and ${log}; this is a kubeflake bug worth reporting with those files`,
        );
      }
      if (facts.program === 'ginkgo-cli') {
        return stop(
          `\`${facts.command}\` is a ginkgo CLI under another name, which runs its suites without \`go test\``,
          'give kubeflake the program under the name ginkgo (a link named ginkgo, or a name like ginkgo-v2.34.0), so it adds its seed and report flags, or run the suites with `go test`',
        );
      }
      const failed = facts.exitCode !== 0 ? ` It exited with code ${String(facts.exitCode)}: if the build failed, the errors are in ${log}.` : '';
      return stop(
        'the command ran no Go test binary through `go test`',
        'kubeflake orders tests through GOFLAGS=-exec, which reaches every `go test` the command starts. Check that the command runs `go test` (a script running the ginkgo CLI: give kubeflake that ginkgo command, e.g. `ginkgo -r`), ' +
          'does not pass -exec to go test itself (kubeflake keeps one set in GOFLAGS), and does not replace GOFLAGS (append to it: GOFLAGS="$GOFLAGS -tags=x").' +
          failed,
      );
    }
    case 'test-binary':
      return stop('a compiled test binary writes no report kubeflake can read', 'run it through `go test` (e.g. `go test ./pkg`), which kubeflake orders and reports through its exec shim');
    case 'generic':
      return facts.reportGlob
        ? stop(`nothing matched report-glob ${facts.reportGlob} after the run`, `point report-glob at the JUnit files the command writes (relative to working-directory); the output is in ${log}`)
        : stop('the command ran no `go test` and no report-glob says where its reports are', 'set report-glob to the JUnit files the command writes, or give kubeflake a `go test` or ginkgo command');
  }
}
