// Converts the `go test -json` event stream (test2json) into a JUnit document, so plain Go
// tests reach the same ingestion as every other framework. Pure: events in, XML text out.
// The shape follows gotestsum's JUnit (classname = package, package failures as "TestMain"),
// testcases in execution order (their "run" events), each with the time it started. Unlike
// gotestsum (message="Failed"), the failure message is the test's own: its t.Fatalf/t.Errorf
// text, a panic, or the compiler's error, so the report says what went wrong.
// Why not wrap the command with gotestsum: it is often not installed, wrapping changes the
// command the user sees, and test2json is always there; the go test shim keeps each binary's raw
// stream in go-exec/<package>.go-test.json, so nothing the conversion leaves out is lost.

import { CappedText } from './text-cap.ts';

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

export interface ConvertOptions {
  /** The run was stopped (timeout, signal): tests still running are failures of that cause. */
  interrupted?: string;
  /** Cap on the output kept a testcase, in characters. */
  maxOutput?: number;
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

interface CaseState {
  name: string;
  startedAt?: string;
  status?: 'passed' | 'failed' | 'skipped';
  elapsed: number;
  output: CappedText;
}

interface PackageState {
  name: string;
  startedAt?: string;
  status?: 'passed' | 'failed' | 'skipped';
  elapsed: number;
  failedBuild?: string;
  cases: Map<string, CaseState>;
  output: CappedText;
}

/** The JUnit XML for a `go test -json` event stream. */
export function goTestJUnit(events: GoTestEvent[], options: ConvertOptions = {}): string {
  const builder = new GoTestJUnitBuilder(options.maxOutput);
  for (const event of events) builder.add(event);
  return builder.toXml(options.interrupted);
}

/**
 * Folds events one at a time, keeping at most `maxOutput` characters of output per test and
 * per package, so a long, chatty run never holds its whole event stream in memory.
 */
export class GoTestJUnitBuilder {
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
      testCase = { name: event.Test, elapsed: 0, output: new CappedText(this.#maxOutput) };
      pkg.cases.set(event.Test, testCase);
    }
    if (event.Action === 'run') testCase.startedAt ??= event.Time;
    else if (event.Action === 'output' && event.Output !== undefined) testCase.output.add(event.Output);
    else if (isEnd(event.Action)) {
      testCase.status = endStatus(event.Action);
      testCase.elapsed = event.Elapsed ?? 0;
    }
  }

  /** The JUnit document; `interrupted` names why tests still running never finished. */
  toXml(interrupted?: string): string {
    let totalTests = 0;
    let totalFailures = 0;
    let totalTime = 0;
    const suites: string[] = [];
    for (const pkg of this.#packages.values()) {
      const cases: string[] = [];
      let failures = 0;
      let skipped = 0;
      for (const testCase of pkg.cases.values()) {
        let status = testCase.status;
        let output = testCase.output.toStringMarked(outputCut);
        if (status === undefined) {
          // Started, never finished: the binary panicked, timed out or was stopped.
          status = 'failed';
          output += `\n[kubeflake: ${testCase.name} did not finish${interrupted ? `: ${interrupted}` : ': its package failed before it ended'}]\n`;
        }
        if (status === 'failed') failures++;
        if (status === 'skipped') skipped++;
        cases.push(testcaseXml(pkg.name, testCase.name, testCase.elapsed, testCase.startedAt, status, output));
      }
      if ((pkg.status === 'failed' || (pkg.status === undefined && interrupted)) && failures === 0) {
        // A failure no test owns (build error, TestMain, init panic) still has to show.
        const build = pkg.failedBuild ? (this.#buildOutput.get(pkg.failedBuild)?.toStringMarked(outputCut) ?? '') : '';
        const reason = pkg.status === undefined ? `\n[kubeflake: package did not finish: ${interrupted}]\n` : '';
        failures++;
        cases.push(testcaseXml(pkg.name, 'TestMain', pkg.elapsed, pkg.startedAt, 'failed', build + pkg.output.toStringMarked(outputCut) + reason));
      }
      totalTests += cases.length;
      totalFailures += failures;
      totalTime += pkg.elapsed;
      const timestamp = pkg.startedAt ? ` timestamp="${escapeXml(pkg.startedAt)}"` : '';
      suites.push(
        `  <testsuite tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(pkg.elapsed)}" name="${escapeXml(pkg.name)}"${timestamp}>\n` +
          cases.join('') +
          '  </testsuite>\n',
      );
    }
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<testsuites tests="${totalTests}" failures="${totalFailures}" errors="0" time="${seconds(totalTime)}">\n` +
      suites.join('') +
      '</testsuites>\n'
    );
  }

  #packageOf(name: string): PackageState {
    let state = this.#packages.get(name);
    if (!state) {
      state = { name, elapsed: 0, cases: new Map(), output: new CappedText(this.#maxOutput) };
      this.#packages.set(name, state);
    }
    return state;
  }
}

/** Ends captured output that was cut at the cap, for a person reading the failure. */
const outputCut = '\n[kubeflake: output truncated]\n';

function isEnd(action: string): boolean {
  return action === 'pass' || action === 'fail' || action === 'skip';
}

function endStatus(action: string): 'passed' | 'failed' | 'skipped' {
  return action === 'pass' ? 'passed' : action === 'fail' ? 'failed' : 'skipped';
}

function testcaseXml(pkg: string, name: string, elapsed: number, startedAt: string | undefined, status: 'passed' | 'failed' | 'skipped', output: string): string {
  const timestamp = startedAt ? ` timestamp="${escapeXml(startedAt)}"` : '';
  const open = `    <testcase classname="${escapeXml(pkg)}" name="${escapeXml(name)}" time="${seconds(elapsed)}"${timestamp}>`;
  if (status === 'passed') return `${open}</testcase>\n`;
  if (status === 'skipped') return `${open}\n      <skipped message="${escapeAttribute(output)}"></skipped>\n    </testcase>\n`;
  const message = name === 'TestMain' ? packageFailureMessage(output) : testFailureMessage(output);
  return `${open}\n      <failure message="${escapeAttribute(message)}" type="">${escapeXml(output)}</failure>\n    </testcase>\n`;
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

function seconds(value: number): string {
  return value.toFixed(6);
}

/** Escapes text for XML 1.0: markup characters, ANSI colour codes and characters XML forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

// Parsers turn raw newlines in attributes into spaces; a character reference keeps them.
function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/**
 * Packages `go test` could not build (or set up), read from its text output: the compiler's
 * `# pkg` block and the `FAIL pkg [build failed]` line. Through the exec shim no test binary runs
 * for them, so this is the only trace; as events, they become a failed TestMain like any other.
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

  /** One package's events each: start, what the compiler said, fail. */
  events(): { importPath: string; events: GoTestEvent[] }[] {
    return this.#failed.map((importPath) => {
      const said = this.#output.get(importPath)?.toStringMarked(outputCut) ?? `FAIL\t${importPath} [build failed]\n`;
      return {
        importPath,
        events: [
          { Action: 'start', Package: importPath },
          { Action: 'output', Package: importPath, Output: said },
          { Action: 'fail', Package: importPath, FailedBuild: importPath },
        ],
      };
    });
  }
}
