// Reads the `go test -json` event stream (test2json) as a report dialect of its own: events in,
// TestCases out, with no JUnit in between. The shape follows gotestsum's JUnit (suite = package,
// package failures as "TestMain"), cases in execution order (their "run" events), each with the
// time it started. Unlike gotestsum (message="Failed"), the failure message is the test's own:
// its t.Fatalf/t.Errorf text, a panic, or the compiler's error, so the report says what went wrong.
// Why not wrap the command with gotestsum: it is often not installed, wrapping changes the
// command the user sees, and test2json is always there; the go test shim keeps each binary's raw
// stream in go-exec/<package>.go-test.json, and that file is the report.

import { testId, type Failure, type ParsedReport, type TestCase } from '../model.ts';
import { CappedText } from './text-cap.ts';
import { type ParseLimits, kib } from './limits.ts';
import { parseTimestamp, secondsToMs } from './timestamps.ts';

/** One test2json event (`go doc cmd/test2json`). */
export interface GoTestEvent {
  Time?: string;
  Action: string;
  Package?: string;
  Test?: string;
  Elapsed?: number;
  Output?: string;
  /** Build events ("build-output", "build-fail") name the package being built here. */
  ImportPath?: string;
  /** On a package "fail": the ImportPath whose build failed. */
  FailedBuild?: string;
}

/** What the stream cannot say itself: why tests still running never finished. */
export interface GoTestContext {
  /** The run was stopped (timeout, signal): tests still running are failures of that cause. */
  interrupted?: string;
}

/** How ingestion says a run killed at its timeout stopped its tests (RunMeta.timedOut). */
export const killedAtTimeout = 'the run was killed at its timeout';

/** A line longer than this is not an event test2json writes (it splits long output): skipped. */
const maxEventChars = 16 * 1024 * 1024;

/**
 * Reads a `go test -json` stream from decoded text chunks, line by line, into a ParsedReport.
 * Lines that are not events (a build's text output mixed in) are passed over.
 */
export async function parseGoTestJson(file: string, chunks: AsyncIterable<string>, limits: ParseLimits, context: GoTestContext = {}): Promise<ParsedReport> {
  const stream = new GoTestStream();
  let carry = '';
  let overlong = 0;
  // Inside a line over maxEventChars: the text up to its end is dropped.
  let skipping = false;
  for await (const chunk of chunks) {
    const text = carry.length > 0 ? carry + chunk : chunk;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      if (!skipping) stream.line(text.slice(from, nl));
      skipping = false;
      from = nl + 1;
    }
    carry = skipping ? '' : text.slice(from);
    if (carry.length > maxEventChars) {
      overlong++;
      skipping = true;
      carry = '';
    }
  }
  if (!skipping) stream.line(carry);
  const report = stream.toReport(file, limits.maxTextChars, context.interrupted);
  if (overlong > 0) report.warnings.push(`${file}: ${overlong} lines longer than ${kib(maxEventChars)} were skipped: go test -json writes no such event`);
  return report;
}

/** Whether text (a report's first characters) begins as a `go test -json` stream: an event's first key. */
export function looksLikeGoTestJson(head: string): boolean {
  return /^\{\s*"(Time|Action|Package|ImportPath)"\s*:/.test(head);
}

/** Splits `go test -json` output into events and the lines that are not events (build errors, vet). */
export function parseGoTestEvents(text: string): { events: GoTestEvent[]; other: string[] } {
  const events: GoTestEvent[] = [];
  const other: string[] = [];
  for (const line of text.split('\n')) {
    const event = parseGoTestEvent(line);
    if (event) events.push(event);
    else if (line.trim() !== '') other.push(line);
  }
  return { events, other };
}

/** One line as an event, or undefined when the line is plain text. */
export function parseGoTestEvent(line: string): GoTestEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === 'object' && typeof (value as GoTestEvent).Action === 'string') return value as GoTestEvent;
  } catch {
    // A line that merely starts with "{" is output, not an event.
  }
  return undefined;
}

type Outcome = 'passed' | 'failed' | 'skipped';

interface CaseState {
  name: string;
  startedAt?: string;
  status?: Outcome;
  elapsed: number;
  /** Released once the test passed or was skipped: only a failure's output is kept. */
  output?: CappedText;
}

interface PackageState {
  name: string;
  startedAt?: string;
  status?: Outcome;
  elapsed: number;
  failedBuild?: string;
  cases: Map<string, CaseState>;
  output: CappedText;
}

/**
 * Folds events one at a time, keeping at most `maxOutput` characters of output per running or
 * failed test and per package, so a long, chatty run never holds its whole event stream in memory.
 */
export class GoTestStream {
  readonly #maxOutput: number;
  readonly #packages = new Map<string, PackageState>();
  readonly #buildOutput = new Map<string, CappedText>();
  #events = 0;

  constructor(maxOutput = 256 * 1024) {
    this.#maxOutput = maxOutput;
  }

  /** Events seen so far: zero means `go test -json` printed nothing usable. */
  get events(): number {
    return this.#events;
  }

  /** One line of the stream; a line that is not an event is passed over. */
  line(text: string): void {
    const event = parseGoTestEvent(text);
    if (event) this.add(event);
  }

  add(event: GoTestEvent): void {
    this.#events++;
    if (event.Action === 'build-output' && event.ImportPath) {
      let output = this.#buildOutput.get(event.ImportPath);
      if (!output) this.#buildOutput.set(event.ImportPath, (output = new CappedText(this.#maxOutput)));
      output.add(event.Output ?? '');
      return;
    }
    if (!event.Package) return;
    const pkg = this.#packageOf(event.Package);
    if (!event.Test) {
      if (event.Action === 'start') pkg.startedAt ??= event.Time;
      else if (event.Action === 'output') pkg.output.add(event.Output ?? '');
      else if (isEnd(event.Action)) {
        pkg.status = endStatus(event.Action);
        pkg.elapsed = event.Elapsed ?? 0;
        if (event.FailedBuild) pkg.failedBuild = event.FailedBuild;
      }
      return;
    }
    let testCase = pkg.cases.get(event.Test);
    if (!testCase) {
      testCase = { name: event.Test, elapsed: 0 };
      pkg.cases.set(testCase.name, testCase);
    }
    if (event.Action === 'run') testCase.startedAt ??= event.Time;
    else if (event.Action === 'output' && event.Output !== undefined) (testCase.output ??= new CappedText(this.#maxOutput)).add(event.Output);
    else if (isEnd(event.Action)) {
      testCase.status = endStatus(event.Action);
      testCase.elapsed = event.Elapsed ?? 0;
      if (testCase.status !== 'failed') testCase.output = undefined;
    }
  }

  /** The report: `interrupted` names why tests still running never finished; failure text is cut at `maxText`. */
  toReport(file: string, maxText: number, interrupted?: string): ParsedReport {
    const cases: TestCase[] = [];
    const suites: ParsedReport['suites'] = [];
    const cuts = { count: 0 };
    for (const pkg of this.#packages.values()) {
      let failures = 0;
      for (const testCase of pkg.cases.values()) {
        let status = testCase.status;
        let output = testCase.output?.toStringMarked(outputCut) ?? '';
        if (status === undefined) {
          // Started, never finished: the binary panicked, timed out or was stopped.
          status = 'failed';
          output += `\n[kubeflake: ${testCase.name} did not finish${interrupted ? `: ${interrupted}` : ': its package failed before it ended'}]\n`;
        }
        if (status === 'failed') failures++;
        cases.push(goTestCase(pkg.name, testCase.name, testCase.elapsed, testCase.startedAt, status, output, maxText, cuts));
      }
      if ((pkg.status === 'failed' || (pkg.status === undefined && interrupted)) && failures === 0) {
        // A failure no test owns (build error, TestMain, init panic) still has to show.
        const build = pkg.failedBuild ? (this.#buildOutput.get(pkg.failedBuild)?.toStringMarked(outputCut) ?? '') : '';
        const reason = pkg.status === undefined ? `\n[kubeflake: package did not finish: ${interrupted}]\n` : '';
        cases.push(goTestCase(pkg.name, 'TestMain', pkg.elapsed, pkg.startedAt, 'failed', build + pkg.output.toStringMarked(outputCut) + reason, maxText, cuts));
      }
      const startedAt = parseTimestamp(pkg.startedAt);
      suites.push(startedAt === undefined ? { name: pkg.name } : { name: pkg.name, startedAt });
    }
    const warnings =
      cuts.count > 0 ? [`${file}: ${cuts.count} failure outputs were longer than ${kib(maxText)} and were cut (Failure.truncated marks them); raise maxTextChars to keep more`] : [];
    return { file, dialect: 'go-test-json', cases, suites, warnings };
  }

  #packageOf(name: string): PackageState {
    let state = this.#packages.get(name);
    if (!state) {
      state = { name, elapsed: 0, cases: new Map(), output: new CappedText(this.#maxOutput) };
      this.#packages.set(state.name, state);
    }
    return state;
  }
}

/** The failed TestMain of each package go test could not build, from what the compiler said (RunMeta.buildFailures). */
export function buildFailureReport(file: string, failures: readonly { importPath: string; output: string }[], maxText: number): ParsedReport {
  const stream = new GoTestStream();
  for (const { importPath, output } of failures) {
    stream.add({ Action: 'start', Package: importPath });
    stream.add({ Action: 'output', Package: importPath, Output: output });
    stream.add({ Action: 'fail', Package: importPath, FailedBuild: importPath });
  }
  return stream.toReport(file, maxText);
}

/** Ends captured output that was cut at the cap, for a person reading the failure. */
const outputCut = '\n[kubeflake: output truncated]\n';
/** `file.go:42` in a failure's output: where it failed. */
const goFileLine = /(?:^|\s)([\w./-]+\.go):(\d+)/;

function isEnd(action: string): boolean {
  return action === 'pass' || action === 'fail' || action === 'skip';
}

function endStatus(action: string): Outcome {
  return action === 'pass' ? 'passed' : action === 'fail' ? 'failed' : 'skipped';
}

function goTestCase(pkg: string, name: string, elapsed: number, startedAt: string | undefined, status: Outcome, output: string, maxText: number, cuts: { count: number }): TestCase {
  const durationMs = secondsToMs(elapsed.toFixed(6));
  const tc: TestCase = { id: testId(pkg, name), name, suite: pkg, status, durationMs };
  const start = parseTimestamp(startedAt);
  if (start !== undefined) {
    tc.startedAt = start;
    tc.endedAt = start + durationMs;
  }
  if (status !== 'failed') return tc;
  const failure: Failure = { message: readable(name === 'TestMain' ? packageFailureMessage(output) : testFailureMessage(output)) };
  let text = readable(output).replace(/\r\n?/g, '\n');
  if (text.length > maxText) {
    text = text.slice(0, maxText);
    failure.truncated = true;
    cuts.count++;
  }
  if (text.trim().length > 0) failure.text = text;
  const at = goFileLine.exec(text);
  if (at) failure.location = { file: at[1]!, line: Number(at[2]) };
  tc.failure = failure;
  return tc;
}

/** Output as a person reads it: ANSI colour codes dropped, characters no report may hold (C0 controls) as U+FFFD. */
export function readable(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
}

// The longest failure message kept in the attribute; the whole output stays in the body.
const maxMessage = 2000;
// `    file_test.go:42: text`: what t.Errorf, t.Fatalf and t.Log print; continuation lines are indented deeper.
const testLogLine = /^ {4}(?:\S+\.go):\d+: (.*)$/;
const continuation = /^ {8}(.*)$/;
const panicLine = /^panic: (.*?)(?: \[recovered[^\]]*\])?$/;
const kubeflakeNote = /^\[kubeflake: (.*)\]$/;

/**
 * A failed test's message from its output: a panic if there was one, else the last
 * `file.go:N: text` entry (t.Fatalf ends the test, and t.Errorf is usually the last thing a test
 * says before it fails; the text cannot tell t.Log from t.Error), with its continuation lines.
 */
export function testFailureMessage(output: string): string {
  const lines = output.split('\n');
  const panic = lines.map((line) => panicLine.exec(line)).find((m) => m);
  if (panic) return cap(`panic: ${panic[1]}`);
  let last: string[] | undefined;
  let open = false;
  for (const line of lines) {
    const entry = testLogLine.exec(line);
    if (entry) {
      last = [entry[1]!];
      open = true;
      continue;
    }
    const more = open ? continuation.exec(line) : null;
    if (more) last!.push(more[1]!);
    else open = false;
  }
  if (last) return cap(last.join('\n'));
  const note = lines.map((line) => kubeflakeNote.exec(line.trim())).find((m) => m);
  return note ? cap(note[1]!) : 'Failed';
}

/**
 * A package failure's message (build error, TestMain, a crash before any test): the compiler's
 * first error, a panic, or the last line the package printed before go test's own summary.
 */
export function packageFailureMessage(output: string): string {
  const lines = output.split('\n').map((line) => line.trimEnd());
  const compile = lines.find((line) => /^\S+\.go:\d+:\d+: /.test(line));
  if (compile) return cap(compile);
  const panic = lines.map((line) => panicLine.exec(line)).find((m) => m);
  if (panic) return cap(`panic: ${panic[1]}`);
  const said = lines.filter((line) => line.trim() !== '' && !/^(FAIL|PASS|ok|exit status \d+|coverage: .*|# .*|testing: warning: .*)(\s|$)/.test(line));
  // What the package said itself comes before kubeflake's own note on how it ended.
  const own = said.filter((line) => !kubeflakeNote.test(line.trim()));
  const last = own.at(-1) ?? said.at(-1);
  if (last === undefined) return 'Failed';
  return cap(kubeflakeNote.exec(last.trim())?.[1] ?? last.trim());
}

function cap(text: string): string {
  return text.length > maxMessage ? `${text.slice(0, maxMessage)}…` : text;
}

/**
 * Packages `go test` could not build (or set up), read from its text output: the compiler's
 * `# pkg` block and the `FAIL pkg [build failed]` line. Through the exec shim no test binary runs
 * for them, so this is the only trace; ingestion makes each a failed TestMain (buildFailureReport).
 */
export class BuildFailureScanner {
  readonly #output = new Map<string, CappedText>();
  readonly #failed: string[] = [];
  #current: string | undefined;

  add(line: string): void {
    const header = /^# (\S+)(?: \[[^\]]*\])?$/.exec(line);
    if (header) {
      this.#current = header[1]!;
      if (!this.#output.has(this.#current)) this.#output.set(this.#current, new CappedText(64 * 1024));
      this.#output.get(this.#current)!.add(`${line}\n`);
      return;
    }
    const failed = /^FAIL\t(\S+) \[(build|setup) failed\]$/.exec(line);
    if (failed) {
      if (!this.#failed.includes(failed[1]!)) this.#failed.push(failed[1]!);
      this.#current = undefined;
      return;
    }
    // go test's own summary and test framing end a compiler block.
    if (/^(ok|FAIL|PASS|\?)(\s|$)|^(===|---) /.test(line)) this.#current = undefined;
    else if (this.#current) this.#output.get(this.#current)!.add(`${line}\n`);
  }

  /** What go test printed for each package it could not build (RunMeta.buildFailures). */
  failures(): { importPath: string; output: string }[] {
    return this.#failed.map((importPath) => ({
      importPath,
      output: this.#output.get(importPath)?.toStringMarked(outputCut) ?? `FAIL\t${importPath} [build failed]\n`,
    }));
  }
}
