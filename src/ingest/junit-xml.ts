import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { testId, type Failure, type ParsedReport, type ReportDamage, type ReportDialect, type ReportRecovery, type TestCase, type TestNodeKind, type TestStatus } from '../model.ts';
import { ReportError } from './report-error.ts';
import { type ParseLimits, kib } from './limits.ts';
import { XmlGuard, XmlGuardError, cutMarker } from './xml-guard.ts';
import { CappedText, own } from './text-cap.ts';
import { type RecoveryLog, describeRecovery } from './recovery.ts';
import { parseTimestamp, secondsToMs } from './timestamps.ts';
import {
  ginkgoFailureLocation,
  ginkgoFailedAttempts,
  ginkgoSpecLocation,
  ginkgoSpecName,
  ginkgoTimelineMarks,
  nodeKind,
  splitGinkgoJUnitName,
  trailingGroups,
} from './ginkgo-names.ts';

/** A testcase as read, before the dialect (known only at the end) decides its name and suite. */
export interface RawCase {
  name: string;
  classname?: string;
  suite: string;
  time?: string;
  status?: string;
  timestamp?: string;
  file?: string;
  line?: string;
  outcome: TestStatus;
  failure?: Failure;
  retries?: { status: TestStatus; failure?: Failure }[];
  specLocation?: { file: string; line: number };
}

/** What the document said about which tool wrote it. */
export interface DialectSignals {
  cases: number;
  ginkgoNames: number;
  statusAttrs: number;
  ginkgoProperties: boolean;
  goVersion: boolean;
  suiteIds: boolean;
  goNames: number;
  /** Cases whose classname is their suite's name, as Go tools write the package path in both. */
  classIsSuite: number;
  surefire: boolean;
  jest: boolean;
  pytest: boolean;
}

// Element kinds the reader acts on; everything else is walked past.
const OTHER = 0;
const SUITE = 1;
const CASE = 2;
const FAILURE = 3;
const SKIPPED = 4;
const RETRY = 5;
const STACK = 6;
const OUTPUT = 7;
const PROPERTY = 8;

const kindOf: Record<string, number> = {
  testsuite: SUITE,
  testcase: CASE,
  failure: FAILURE,
  error: FAILURE,
  skipped: SKIPPED,
  flakyFailure: RETRY,
  flakyError: RETRY,
  rerunFailure: RETRY,
  rerunError: RETRY,
  stackTrace: STACK,
  'system-out': OUTPUT,
  'system-err': OUTPUT,
  property: PROPERTY,
};

const ginkgoProperties = new Set(['SuiteSucceeded', 'SuiteHasProgrammaticFocus', 'SpecialSuiteFailureReason', 'RandomSeed']);
const goTestName = /^(Test|Example|Benchmark|Fuzz)\S*$/;
const goFileLine = /(?:^|\s)([\w./-]+\.go):(\d+)/;

/**
 * A report whose test cases are made one at a time as they are taken (`kubeflake parse` writes each
 * and lets it go): the cases of a JUnit document exist only as read until its end decides the dialect.
 */
export type StreamedReport = Omit<ParsedReport, 'cases'> & { cases: Iterable<TestCase> };

/** The report with its cases in an array. */
export function collectCases(report: StreamedReport): ParsedReport {
  return { ...report, cases: Array.isArray(report.cases) ? (report.cases as TestCase[]) : Array.from(report.cases) };
}

/** Reads a JUnit XML report from decoded text chunks into a ParsedReport, in bounded memory, in recovery mode. */
export async function parseJUnitXml(file: string, chunks: AsyncIterable<string>, limits: ParseLimits): Promise<ParsedReport> {
  return collectCases(await readJUnitXml(file, chunks, limits));
}

/** parseJUnitXml, its cases made as they are taken. */
export async function readJUnitXml(file: string, chunks: AsyncIterable<string>, limits: ParseLimits): Promise<StreamedReport> {
  const guard = new XmlGuard(limits.maxTextChars, limits.maxTagChars, limits.maxOutputChars, ginkgoTimelineMarks);
  const document = new JUnitDocument(file, limits, guard.repairs);
  const parser = new SaxesParser({ xmlns: false, position: false });
  parser.on('opentag', (tag: SaxesTagPlain) => document.open(tag.name, tag.attributes as Record<string, string>));
  parser.on('text', (text) => document.text(text));
  parser.on('cdata', (text) => document.text(text));
  parser.on('processinginstruction', (pi) => document.instruction(pi.target, pi.body));
  parser.on('closetag', () => document.close());
  // Recovery mode: saxes reports what the guard did not repair and reads on.
  parser.on('error', (err) => document.xmlError(xmlMessage(err), () => guard.locateOutput(parser.position)));
  try {
    for await (const chunk of chunks) {
      const safe = guard.filter(chunk);
      if (safe.length > 0) parser.write(safe);
    }
  } catch (err) {
    if (err instanceof ReportError) throw err;
    if (err instanceof XmlGuardError) throw new ReportError(file, err.message);
    throw err;
  }
  return document.finishStreamed(guard);
}

/**
 * The state of one JUnit document as saxes walks it: the open elements, the test case being read
 * and its failure text, and what the document says about its dialect. Each event is one method.
 */
export class JUnitDocument {
  readonly file: string;
  readonly limits: ParseLimits;
  readonly recoveries: RecoveryLog;
  private readonly raws: RawCase[] = [];
  private readonly suites: ParsedReport['suites'] = [];
  private readonly suiteStack: string[] = [];
  private readonly kinds: number[] = [];
  private readonly signals = noSignals();
  private rootSeen = false;
  private current: RawCase | undefined;
  private retry: { status: TestStatus; failure: Failure } | undefined;
  private collector: CappedText | undefined;
  /** The last start tag, for a `<?kubeflake-cut attr?>` mark right after it. */
  private lastTag: { kind: number; failure?: Failure } = { kind: OTHER };
  private caseAttributeCuts = 0;
  /** saxes' errors before the root element, with their position. */
  private readonly prologueErrors: ReportRecovery[] = [];

  constructor(file: string, limits: ParseLimits, recoveries: RecoveryLog) {
    this.file = file;
    this.limits = limits;
    this.recoveries = recoveries;
  }

  open(name: string, attrs: Record<string, string>): void {
    const kind = kindOf[name] ?? OTHER;
    this.kinds.push(kind);
    this.lastTag = { kind };
    if (this.kinds.length > this.limits.maxDepth) {
      throw new ReportError(this.file, `nests elements deeper than ${this.limits.maxDepth} levels: this is not a report a test tool writes; check where the file came from`);
    }
    if (!this.rootSeen) this.openRoot(name, attrs);
    switch (kind) {
      case SUITE:
        if (!this.current) this.openSuite(attrs);
        return;
      case PROPERTY:
        observeProperty(this.signals, attrs.name ?? '');
        return;
      case CASE:
        // Every kept string is copied out of the chunk it was sliced from (see own()).
        if (!this.current) this.current = caseFromTag(attrs, this.suiteStack[this.suiteStack.length - 1] ?? '');
        return;
      case FAILURE:
        if (!this.current || this.retry || this.current.failure) return;
        this.current.outcome = 'failed';
        this.current.failure = failureFromTag(attrs);
        this.lastTag.failure = this.current.failure;
        this.collector = new CappedText(this.limits.maxTextChars);
        return;
      case SKIPPED:
        if (this.current && !this.retry && this.current.outcome !== 'failed') this.current.outcome = 'skipped';
        return;
      case RETRY:
        if (!this.current || this.retry) return;
        this.signals.surefire = true;
        this.retry = { status: 'failed', failure: failureFromTag(attrs) };
        this.lastTag.failure = this.retry.failure;
        return;
      case STACK:
        if (this.retry) this.collector = new CappedText(this.limits.maxTextChars);
        return;
      case OUTPUT:
        // Only Ginkgo's captured timeline is read, for the spec's file:line; other output is skipped.
        if (this.current && !this.retry && !this.current.specLocation && this.current.name.startsWith('[')) {
          this.collector = new CappedText(this.limits.maxOutputChars);
        }
        return;
    }
  }

  text(text: string): void {
    this.collector?.add(text);
  }

  /** `<?kubeflake-cut?>` marks text the guard cut, `<?kubeflake-cut attr?>` an attribute of the last tag. */
  instruction(target: string, body: string): void {
    if (target !== cutMarker) return;
    if (body !== 'attr') {
      if (this.collector) this.collector.truncated = true;
    } else if (this.lastTag.failure) {
      this.lastTag.failure.truncated = true;
    } else if (this.lastTag.kind === CASE) {
      this.caseAttributeCuts++;
    }
  }

  close(): void {
    const kind = this.kinds.pop() ?? OTHER;
    const current = this.current;
    switch (kind) {
      case SUITE:
        if (!current) this.suiteStack.pop();
        return;
      case FAILURE:
        if (current?.failure && this.collector && !this.retry) this.finishCollected(current.failure);
        return;
      case STACK:
        if (this.retry && this.collector) this.finishCollected(this.retry.failure);
        return;
      case RETRY:
        if (current && this.retry) {
          if (this.collector === undefined && this.retry.failure.message === '') this.retry.failure.message = '(no message)';
          (current.retries ??= []).push(this.retry);
          this.retry = undefined;
          this.collector = undefined;
        }
        return;
      case OUTPUT:
        if (current && this.collector && !this.retry) {
          readGinkgoTimeline(current, this.collector.toString());
          this.collector = undefined;
        }
        return;
      case CASE:
        if (current) this.keep(current);
        return;
    }
  }

  /**
   * An error saxes reported and read past. Before the root element it is held until the root
   * shows whether this is a report at all (a damaged prologue of a JUnit file is recoverable).
   */
  xmlError(message: string, at: () => { line: number; column: number }): void {
    // The guard already noted (and let through) a second root element.
    if (/only one root/.test(message)) return;
    if (!this.rootSeen) {
      if (this.prologueErrors.length < 100) this.prologueErrors.push({ ...at(), what: `${message}; read past it` });
      return;
    }
    this.recoveries.add(`${message}; read past it`, at);
  }

  /** The ParsedReport, once the input is exhausted: a case cut off is kept when its outcome was read. */
  finish(guard: Pick<XmlGuard, 'openElements' | 'insideMarkup' | 'caseTags' | 'cuts'>): ParsedReport {
    return collectCases(this.finishStreamed(guard));
  }

  /** finish(), its cases made one at a time as they are taken, each raw case let go once made. */
  finishStreamed(guard: Pick<XmlGuard, 'openElements' | 'insideMarkup' | 'caseTags' | 'cuts'>): StreamedReport {
    if (!this.rootSeen) {
      const first = this.prologueErrors[0];
      if (first) {
        const what = first.what.replace(/; read past it$/, '');
        throw new ReportError(this.file, `is not well-formed XML (${what} at line ${first.line}, column ${first.column}): pass a JUnit XML or Ginkgo JSON report`);
      }
      throw new ReportError(this.file, 'holds no complete XML element: the test run probably died before writing its report; check the run log');
    }
    const cut = guard.openElements.length > 0 || guard.insideMarkup;
    if (cut && this.current && outcomeKnown(this.current)) {
      if (this.collector && this.current.failure && !this.retry) {
        this.collector.truncated = true;
        this.finishCollected(this.current.failure);
      }
      this.keep(this.current);
    }
    const read = this.raws.length;
    const dialect = decideDialect(this.signals);
    const cases = this.testCases(dialect);
    const lost = Math.max(0, guard.caseTags - read);
    const damage: ReportDamage | undefined =
      cut || lost > 0 || this.recoveries.count > 0 ? { repairs: this.recoveries.count, recoveries: this.recoveries.listed, lost, cut } : undefined;
    const warnings = damage ? [damageWarning(this.file, damage, read)] : [];
    warnings.push(...cutWarnings(this.file, this.caseAttributeCuts, guard.cuts, this.limits.maxTextChars));
    return { file: this.file, dialect, cases, suites: this.suites, warnings, ...(damage ? { damage } : {}) };
  }

  /**
   * Each raw case becomes a TestCase as it is taken and is let go at once; repeated attempts
   * (mergeAttempts) are found first from the cases' identities alone.
   */
  private *testCases(dialect: ReportDialect): Generator<TestCase> {
    const raws: (RawCase | undefined)[] = this.raws;
    const max = this.limits.maxTextChars;
    const merging = dialect !== 'ginkgo-junit';
    const laterAt = merging ? repeatedCases(raws.length, (i) => identityOf(raws[i]!, dialect, max)) : new Map<number, number[]>();
    const dropped = new Set<number>();
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      raws[i] = undefined;
      if (dropped.has(i)) continue;
      const later = laterAt.get(i);
      if (!later) {
        yield toTestCase(raw, dialect, max);
        continue;
      }
      const attempts = [toTestCase(raw, dialect, max), ...later.map((k) => toTestCase(raws[k]!, dialect, max))];
      if (attempts.slice(0, -1).every((c) => c.status === 'failed')) {
        for (const k of later) dropped.add(k);
        yield joinAttempts(attempts);
      } else yield attempts[0]!;
    }
    raws.length = 0;
  }

  private openRoot(name: string, attrs: Record<string, string>): void {
    this.rootSeen = true;
    if (name !== 'testsuites' && name !== 'testsuite') throw new ReportError(this.file, notJUnitMessage(name));
    for (const { line, column, what } of this.prologueErrors) this.recoveries.add(what, () => ({ line, column }));
    if (name === 'testsuites') {
      const rootName = attrs.name ?? '';
      if (/jest/i.test(rootName)) this.signals.jest = true;
      if (/pytest/i.test(rootName)) this.signals.pytest = true;
    }
  }

  private openSuite(attrs: Record<string, string>): void {
    const suiteName = own(attrs.name ?? '');
    this.suiteStack.push(suiteName);
    const startedAt = parseTimestamp(attrs.timestamp);
    this.suites.push(startedAt === undefined ? { name: suiteName } : { name: suiteName, startedAt });
    if ('id' in attrs) this.signals.suiteIds = true;
    if (suiteName === 'pytest') this.signals.pytest = true;
    if ((attrs['xsi:noNamespaceSchemaLocation'] ?? '').includes('surefire')) this.signals.surefire = true;
  }

  private finishCollected(failure: Failure): void {
    finishFailure(failure, this.collector!, this.limits.maxTextChars);
    this.collector = undefined;
  }

  private keep(raw: RawCase): void {
    observe(this.signals, raw);
    this.raws.push(raw);
    this.current = undefined;
    this.collector = undefined;
  }
}

function noSignals(): DialectSignals {
  return {
    cases: 0,
    ginkgoNames: 0,
    statusAttrs: 0,
    ginkgoProperties: false,
    goVersion: false,
    suiteIds: false,
    goNames: 0,
    classIsSuite: 0,
    surefire: false,
    jest: false,
    pytest: false,
  };
}

function observeProperty(signals: DialectSignals, prop: string): void {
  if (prop === 'go.version') signals.goVersion = true;
  else if (ginkgoProperties.has(prop)) signals.ginkgoProperties = true;
  else if (prop.startsWith('surefire.')) signals.surefire = true;
}

/** A `<testcase>` start tag as read, in the suite it sits in. */
export function caseFromTag(attrs: Record<string, string>, suite: string): RawCase {
  const raw: RawCase = { name: own(attrs.name ?? ''), suite, outcome: 'passed' };
  if (attrs.classname !== undefined) raw.classname = attrs.classname === suite ? suite : own(attrs.classname);
  if (attrs.time !== undefined) raw.time = own(attrs.time);
  if (attrs.status !== undefined) raw.status = own(attrs.status);
  if (attrs.timestamp !== undefined) raw.timestamp = own(attrs.timestamp);
  if (attrs.file !== undefined) raw.file = own(attrs.file);
  if (attrs.line !== undefined) raw.line = own(attrs.line);
  return raw;
}

/** A `<failure>`/`<error>` (or Surefire retry) start tag; xunit's file/line on it give the location. */
export function failureFromTag(attrs: Record<string, string>): Failure {
  const failure: Failure = { message: own(attrs.message ?? '') };
  if (attrs.type) failure.type = own(attrs.type);
  const line = Number(attrs.line);
  if (attrs.file && Number.isInteger(line) && line > 0) failure.location = { file: own(attrs.file), line };
  return failure;
}

/** Ginkgo's captured timeline gives the spec's file:line and the attempts --flake-attempts made. */
function readGinkgoTimeline(raw: RawCase, timeline: string): void {
  const at = ginkgoSpecLocation(timeline);
  if (at) raw.specLocation = { file: own(at.file), line: at.line };
  const attempts = ginkgoFailedAttempts(timeline);
  if (attempts > 0 && !raw.retries) raw.retries = Array.from({ length: attempts }, () => ({ status: 'failed' as const }));
}

/** A case the file was cut in is kept only when its outcome was already read (status, failure, skipped). */
export function outcomeKnown(raw: RawCase): boolean {
  return raw.status !== undefined || raw.outcome !== 'passed';
}

function damageWarning(file: string, damage: ReportDamage, read: number): string {
  const first = damage.recoveries[0];
  const lost = damage.lost > 0 ? `; ${plural(damage.lost, 'test case')} could not be recovered` : '';
  if (damage.cut) {
    const repairs = damage.repairs > 0 ? ` (and ${plural(damage.repairs, 'repair')}, first at ${describeRecovery(first!)})` : '';
    return `${file}: ends before the report is complete (the test run was probably killed while writing it); kept the ${read} test cases read so far${lost}${repairs}`;
  }
  const where = first ? `, first at ${describeRecovery(first)}` : '';
  return `${file}: is not well-formed XML; read in recovery mode with ${plural(damage.repairs, 'repair')}${where}${lost || '; every test case was recovered'}: check the tool that wrote it`;
}

function cutWarnings(file: string, caseCuts: number, allCuts: number, max: number): string[] {
  const warnings: string[] = [];
  if (caseCuts > 0) warnings.push(`${file}: ${caseCuts} test case names or attributes were longer than ${kib(max)} and were cut; raise maxTextChars to keep more`);
  const texts = allCuts - caseCuts;
  if (texts > 0) {
    warnings.push(`${file}: ${texts} text fields were longer than ${kib(max)} and were cut (Failure.truncated marks affected failures); raise maxTextChars to keep more`);
  }
  return warnings;
}

/**
 * Rerun tools write each attempt as its own <testcase> (gotestsum --rerun-fails, pytest rerun
 * plugins, web-test-runner): repeated cases of one id whose earlier attempts all failed become one
 * case, the last attempt deciding the outcome (gotestsum's rule) and the earlier ones its
 * `retries`, in the first attempt's place. Ginkgo never does (its attempts are inside one spec,
 * and a repeated name is a distinct table entry), nor does a repetition that passed (go test -count).
 */
export function mergeAttempts(cases: TestCase[], dialect: ReportDialect): TestCase[] {
  if (dialect === 'ginkgo-junit' || dialect === 'ginkgo-json') return cases;
  const laterAt = repeatedCases(cases.length, (i) => cases[i]!);
  if (laterAt.size === 0) return cases;
  const dropped = new Set<number>();
  const merged = new Map<number, TestCase>();
  for (const [first, later] of laterAt) {
    const attempts = [first, ...later].map((i) => cases[i]!);
    if (!attempts.slice(0, -1).every((c) => c.status === 'failed')) continue;
    merged.set(first, joinAttempts(attempts));
    for (const i of later) dropped.add(i);
  }
  return cases.flatMap((c, i) => (dropped.has(i) ? [] : [merged.get(i) ?? c]));
}

/**
 * The later cases of each repeated id whose first attempt failed (no other repetition is merged),
 * by the index of its first. Only those ids are hashed: most reports repeat nothing and fail few,
 * and hashing millions of ids (concatenations, copied first) was a fifth of the parse. Keyed by
 * suite, then name, which is the id unless either holds the separator.
 */
function repeatedCases(count: number, caseAt: (i: number) => { suite: string; name: string; status: TestStatus }): Map<number, number[]> {
  const laterAt = new Map<number, number[]>();
  const failed: number[] = [];
  let byId = false;
  for (let i = 0; i < count; i++) {
    const c = caseAt(i);
    if (c.status === 'failed') failed.push(i);
    if (c.suite === '' || c.suite.includes(idSeparator) || c.name.includes(idSeparator)) byId = true;
  }
  if (failed.length === 0) return laterAt;
  const firstAt = new Map<string, Map<string, number>>();
  const slot = (c: { suite: string }, create: boolean): Map<string, number> | undefined => {
    const outer = byId ? '' : c.suite;
    let names = firstAt.get(outer);
    if (!names && create) firstAt.set(outer, (names = new Map()));
    return names;
  };
  const key = (c: { suite: string; name: string }): string => (byId ? testId(c.suite, c.name) : c.name);
  // -1: a failed id not seen yet in document order.
  for (const i of failed) {
    const c = caseAt(i);
    slot(c, true)!.set(key(c), -1);
  }
  for (let i = 0; i < count; i++) {
    const c = caseAt(i);
    const names = slot(c, false);
    const first = names?.get(key(c));
    if (first === undefined) continue;
    if (first < 0) names!.set(key(c), i);
    else if (laterAt.has(first)) laterAt.get(first)!.push(i);
    else laterAt.set(first, [i]);
  }
  return laterAt;
}

const idSeparator = ' :: ';

/** One case from its attempts in order: the last decides, the earlier ones are its retries. */
function joinAttempts(attempts: TestCase[]): TestCase {
  const last = attempts[attempts.length - 1]!;
  const first = attempts[0]!;
  const retries = attempts.slice(0, -1).flatMap((c) => [...(c.retries ?? []), { status: c.status, ...(c.failure ? { failure: c.failure } : {}) }]);
  const one: TestCase = { ...last, retries: [...retries, ...(last.retries ?? [])] };
  if (first.startedAt !== undefined) one.startedAt = first.startedAt;
  if (first.startedAt !== undefined && last.endedAt !== undefined) one.endedAt = last.endedAt;
  return one;
}

function notJUnitMessage(root: string): string {
  if (root.toLowerCase() === 'html') return 'is an HTML page, not a test report: point kubeflake at the JUnit XML or Ginkgo JSON file';
  if (root === 'project') return 'is a Maven pom.xml, not a test report: Surefire writes reports to target/surefire-reports/TEST-*.xml';
  return `has root element <${root}>, not <testsuites> or <testsuite>: it is not a JUnit report; pass a JUnit XML or Ginkgo JSON report`;
}

function xmlMessage(err: unknown): string {
  return err instanceof Error ? err.message.replace(/^undefined:/, '').trim() : String(err);
}

export function finishFailure(failure: Failure, text: CappedText, max: number): void {
  const body = text.toString();
  if (body.trim().length > 0) failure.text = body;
  if (text.truncated) failure.truncated = true;
  if (failure.message === '') {
    // Some tools (jest-junit, go-junit-report) put everything in the body: the first line is the message.
    const first = body.trim().split('\n', 1)[0] ?? '';
    failure.message = first.length > max ? first.slice(0, max) : first;
  }
}

function observe(signals: DialectSignals, raw: RawCase): void {
  signals.cases++;
  if (raw.status !== undefined) signals.statusAttrs++;
  if (splitGinkgoJUnitName(raw.name)) signals.ginkgoNames++;
  if (goTestName.test(raw.name)) signals.goNames++;
  if (raw.classname !== undefined && raw.classname === raw.suite) signals.classIsSuite++;
  if (raw.classname?.includes(' › ')) signals.jest = true;
}

/** Dialect rules, most specific first. */
export function decideDialect(s: DialectSignals): ReportDialect {
  if (s.ginkgoProperties || (s.cases > 0 && s.ginkgoNames === s.cases && s.statusAttrs === s.cases)) return 'ginkgo-junit';
  if (s.goVersion) return s.suiteIds ? 'go-junit-report' : 'gotestsum';
  if (s.suiteIds && s.cases > 0 && s.goNames === s.cases) return 'go-junit-report';
  // gotestsum's shape without its go.version property (kubeflake's own go test -json conversion).
  if (s.cases > 0 && s.goNames === s.cases && s.classIsSuite === s.cases) return 'gotestsum';
  if (s.surefire) return 'surefire';
  if (s.jest) return 'jest-junit';
  if (s.pytest) return 'pytest';
  return 'junit';
}

/** Ginkgo's `status` attribute values (types.SpecState strings). */
function ginkgoStatus(status: string | undefined, fallback: TestStatus): TestStatus {
  switch (status) {
    case 'passed':
      return 'passed';
    case 'skipped':
    case 'pending':
      return 'skipped';
    case 'failed':
    case 'panicked':
    case 'timedout':
    case 'interrupted':
    case 'aborted':
      return 'failed';
    default:
      return fallback;
  }
}

/** What names a raw case in a dialect: its name, suite and status (all a TestId and mergeAttempts need). */
function identityOf(raw: RawCase, dialect: ReportDialect, maxText: number): { name: string; suite: string; status: TestStatus } {
  let name = raw.name;
  let suite = raw.suite || raw.classname || '';
  // Python's xmlrunner stamps the run time on the suite name ("TestAcme-20251114214921"): not an identity.
  if (dialect === 'junit') suite = suite.replace(/-\d{14}$/, '');
  let status = raw.outcome;
  if (dialect === 'ginkgo-junit') {
    const split = splitGinkgoJUnitName(raw.name);
    name = split ? ginkgoSpecName(split.nodeType, split.text) : ginkgoSpecName('It', raw.name);
    status = ginkgoStatus(raw.status, raw.outcome);
  } else if (dialect !== 'gotestsum' && dialect !== 'go-junit-report') {
    const cls = raw.classname;
    if (cls && cls !== suite && !name.startsWith(cls)) name = `${cls}${dialect === 'jest-junit' ? ' › ' : '.'}${name}`;
    if (raw.status === 'notrun' || raw.status === 'disabled') status = 'skipped';
  }
  if (name.length > maxText) name = name.slice(0, maxText);
  return { name, suite, status };
}

export function toTestCase(raw: RawCase, dialect: ReportDialect, maxText: number): TestCase {
  const { name, suite, status } = identityOf(raw, dialect, maxText);
  let labels: string[] | undefined;
  let node: TestNodeKind | undefined;
  let classname = raw.classname;
  if (dialect === 'ginkgo-junit') {
    const split = splitGinkgoJUnitName(raw.name);
    // Written with OmitLeafNodeType: no "[It]" prefix, but labels may still trail the name.
    node = split ? nodeKind(split.nodeType) : 'spec';
    const groups = split?.nodeType === 'It' ? trailingGroups(split.text) : [];
    if (groups.length > 0 && groups[0]) labels = groups[0].split(', ');
  }
  if ((dialect === 'ginkgo-junit' || dialect === 'gotestsum' || dialect === 'go-junit-report') && classname === suite) classname = undefined;

  const tc: TestCase = { id: testId(suite, name), name, suite, status, durationMs: secondsToMs(raw.time) };
  if (node) tc.node = node;
  if (classname) tc.classname = classname;
  const line = raw.line !== undefined ? Number(raw.line) : NaN;
  if (raw.file) {
    tc.file = raw.file;
    if (Number.isInteger(line)) tc.line = line;
  } else if (raw.specLocation) {
    tc.file = raw.specLocation.file;
    tc.line = raw.specLocation.line;
  }
  if (labels) tc.labels = labels;
  const startedAt = parseTimestamp(raw.timestamp);
  if (startedAt !== undefined) {
    tc.startedAt = startedAt;
    tc.endedAt = startedAt + tc.durationMs;
  }
  if (raw.failure && status === 'failed') {
    const failure = raw.failure;
    if (!failure.location && failure.text) {
      const at = dialect === 'ginkgo-junit' ? ginkgoFailureLocation(failure.text) : goLocation(dialect, failure.text);
      if (at) failure.location = at;
    }
    tc.failure = failure;
  } else if (status === 'failed') {
    tc.failure = { message: raw.status ? `${raw.status}` : 'failed' };
  }
  if (raw.retries) tc.retries = raw.retries;
  return tc;
}

function goLocation(dialect: ReportDialect, text: string): { file: string; line: number } | undefined {
  if (dialect !== 'gotestsum' && dialect !== 'go-junit-report') return undefined;
  const m = goFileLine.exec(text);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
