import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { testId, type Failure, type ParsedReport, type ReportDialect, type TestCase, type TestStatus } from '../model.ts';
import { ReportError } from './report-error.ts';
import { type ParseLimits, kib } from './limits.ts';
import { XmlGuard, XmlGuardError, cutMarker } from './xml-guard.ts';
import { CappedText, own } from './text-cap.ts';
import { parseTimestamp, secondsToMs } from './timestamps.ts';
import {
  ginkgoFailureLocation,
  ginkgoFailedAttempts,
  ginkgoSpecLocation,
  ginkgoSpecName,
  ginkgoTimelineMarks,
  splitGinkgoJUnitName,
  trailingGroups,
} from './ginkgo-names.ts';

/** A testcase as read, before the dialect (known only at the end) decides its name and suite. */
interface RawCase {
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
interface DialectSignals {
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

/** Reads a JUnit XML report from decoded text chunks into a ParsedReport, in bounded memory. */
export async function parseJUnitXml(file: string, chunks: AsyncIterable<string>, limits: ParseLimits): Promise<ParsedReport> {
  const warnings: string[] = [];
  const raws: RawCase[] = [];
  const suites: ParsedReport['suites'] = [];
  const suiteStack: string[] = [];
  const kinds: number[] = [];
  const signals: DialectSignals = {
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

  let rootSeen = false;
  let rootClosed = false;
  let current: RawCase | undefined;
  let retry: { status: TestStatus; failure: Failure } | undefined;
  let collector: CappedText | undefined;
  // The Failure a `<?kubeflake-cut attr?>` mark after a tag refers to.
  let lastTagFailure: Failure | undefined;
  let textCuts = 0;

  const parser = new SaxesParser({ xmlns: false, position: false });

  parser.on('opentag', (tag: SaxesTagPlain) => {
    const name = tag.name;
    const attrs = tag.attributes as Record<string, string>;
    const kind = kindOf[name] ?? OTHER;
    kinds.push(kind);
    lastTagFailure = undefined;
    if (kinds.length > limits.maxDepth) {
      throw new ReportError(file, `nests elements deeper than ${limits.maxDepth} levels: this is not a report a test tool writes; check where the file came from`);
    }
    if (!rootSeen) {
      rootSeen = true;
      if (name !== 'testsuites' && name !== 'testsuite') {
        throw new ReportError(file, notJUnitMessage(name));
      }
      if (name === 'testsuites') {
        const rootName = attrs.name ?? '';
        if (/jest/i.test(rootName)) signals.jest = true;
        if (/pytest/i.test(rootName)) signals.pytest = true;
      }
    }
    switch (kind) {
      case SUITE: {
        if (current) return;
        const suiteName = own(attrs.name ?? '');
        suiteStack.push(suiteName);
        const startedAt = parseTimestamp(attrs.timestamp);
        suites.push(startedAt === undefined ? { name: suiteName } : { name: suiteName, startedAt });
        if ('id' in attrs) signals.suiteIds = true;
        if (suiteName === 'pytest') signals.pytest = true;
        if ((attrs['xsi:noNamespaceSchemaLocation'] ?? '').includes('surefire')) signals.surefire = true;
        return;
      }
      case PROPERTY: {
        const prop = attrs.name ?? '';
        if (prop === 'go.version') signals.goVersion = true;
        else if (ginkgoProperties.has(prop)) signals.ginkgoProperties = true;
        else if (prop.startsWith('surefire.')) signals.surefire = true;
        return;
      }
      case CASE: {
        if (current) return;
        // Every kept string is copied out of the chunk it was sliced from (see own()).
        const raw: RawCase = { name: own(attrs.name ?? ''), suite: suiteStack[suiteStack.length - 1] ?? '', outcome: 'passed' };
        if (attrs.classname !== undefined) raw.classname = attrs.classname === raw.suite ? raw.suite : own(attrs.classname);
        if (attrs.time !== undefined) raw.time = own(attrs.time);
        if (attrs.status !== undefined) raw.status = own(attrs.status);
        if (attrs.timestamp !== undefined) raw.timestamp = own(attrs.timestamp);
        if (attrs.file !== undefined) raw.file = own(attrs.file);
        if (attrs.line !== undefined) raw.line = own(attrs.line);
        current = raw;
        return;
      }
      case FAILURE: {
        if (!current || retry || current.failure) return;
        current.outcome = 'failed';
        const failure: Failure = { message: own(attrs.message ?? '') };
        if (attrs.type) failure.type = own(attrs.type);
        current.failure = failure;
        lastTagFailure = failure;
        collector = new CappedText(limits.maxTextChars);
        return;
      }
      case SKIPPED: {
        if (current && !retry && current.outcome !== 'failed') current.outcome = 'skipped';
        return;
      }
      case RETRY: {
        if (!current || retry) return;
        signals.surefire = true;
        const failure: Failure = { message: own(attrs.message ?? '') };
        if (attrs.type) failure.type = own(attrs.type);
        retry = { status: 'failed', failure };
        lastTagFailure = failure;
        return;
      }
      case STACK: {
        if (retry) collector = new CappedText(limits.maxTextChars);
        return;
      }
      case OUTPUT: {
        // Only Ginkgo's captured timeline is read, for the spec's file:line; other output is skipped.
        if (current && !retry && !current.specLocation && current.name.startsWith('[')) {
          collector = new CappedText(limits.maxOutputChars);
        }
        return;
      }
    }
  });

  const onText = (text: string): void => {
    if (collector) collector.add(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('processinginstruction', (pi) => {
    if (pi.target !== cutMarker) return;
    if (pi.body === 'attr') {
      if (lastTagFailure) lastTagFailure.truncated = true;
    } else if (collector) {
      collector.truncated = true;
    }
    textCuts++;
  });

  parser.on('closetag', () => {
    const kind = kinds.pop() ?? OTHER;
    if (kinds.length === 0) rootClosed = true;
    switch (kind) {
      case SUITE:
        if (!current) suiteStack.pop();
        return;
      case FAILURE:
        if (current?.failure && collector && !retry) {
          finishFailure(current.failure, collector, limits.maxTextChars);
          collector = undefined;
        }
        return;
      case STACK:
        if (retry && collector) {
          finishFailure(retry.failure, collector, limits.maxTextChars);
          collector = undefined;
        }
        return;
      case RETRY:
        if (current && retry) {
          if (collector === undefined && retry.failure.message === '') retry.failure.message = '(no message)';
          (current.retries ??= []).push(retry);
          retry = undefined;
          collector = undefined;
        }
        return;
      case OUTPUT:
        if (current && collector && !retry) {
          const timeline = collector.toString();
          const at = ginkgoSpecLocation(timeline);
          if (at) current.specLocation = { file: own(at.file), line: at.line };
          const attempts = ginkgoFailedAttempts(timeline);
          if (attempts > 0 && !current.retries) current.retries = Array.from({ length: attempts }, () => ({ status: 'failed' as const }));
          collector = undefined;
        }
        return;
      case CASE:
        if (current) {
          observe(signals, current);
          raws.push(current);
          current = undefined;
          collector = undefined;
        }
        return;
    }
  });

  const guard = new XmlGuard(limits.maxTextChars, limits.maxTagChars, limits.maxOutputChars, ginkgoTimelineMarks);
  let brokenAt: string | undefined;
  try {
    for await (const chunk of chunks) {
      const safe = guard.filter(chunk);
      if (safe.length > 0) parser.write(safe);
      if (rootClosed) break;
    }
  } catch (err) {
    if (err instanceof ReportError) throw err;
    if (err instanceof XmlGuardError) throw new ReportError(file, err.message);
    if (!rootSeen) {
      throw new ReportError(file, `is not well-formed XML (${xmlMessage(err)}): pass a JUnit XML or Ginkgo JSON report`, { cause: err });
    }
    brokenAt = xmlMessage(err);
  }

  if (!rootSeen) {
    throw new ReportError(file, 'holds no complete XML element: the test run probably died before writing its report; check the run log');
  }
  const dialect = decideDialect(signals);
  const cases = raws.map((raw) => toTestCase(raw, dialect, limits.maxTextChars));
  if (brokenAt !== undefined) {
    warnings.push(`${file}: XML error after ${cases.length} test cases (${brokenAt}); kept the cases before it. The file is corrupt or was cut short: check the run log`);
  } else if (!rootClosed) {
    warnings.push(`${file}: ends before the report is complete (the test run was probably killed while writing it); kept the ${cases.length} test cases read so far`);
  }
  if (textCuts > 0 || guard.cuts > 0) {
    warnings.push(`${file}: ${Math.max(textCuts, guard.cuts)} text fields were longer than ${kib(limits.maxTextChars)} and were cut (Failure.truncated marks affected failures); raise maxTextChars to keep more`);
  }
  return { file, dialect, cases, suites, warnings };
}

function notJUnitMessage(root: string): string {
  if (root.toLowerCase() === 'html') return 'is an HTML page, not a test report: point kubeflake at the JUnit XML or Ginkgo JSON file';
  if (root === 'project') return 'is a Maven pom.xml, not a test report: Surefire writes reports to target/surefire-reports/TEST-*.xml';
  return `has root element <${root}>, not <testsuites> or <testsuite>: it is not a JUnit report; pass a JUnit XML or Ginkgo JSON report`;
}

function xmlMessage(err: unknown): string {
  return err instanceof Error ? err.message.replace(/^undefined:/, '').trim() : String(err);
}

function finishFailure(failure: Failure, text: CappedText, max: number): void {
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
function decideDialect(s: DialectSignals): ReportDialect {
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

function toTestCase(raw: RawCase, dialect: ReportDialect, maxText: number): TestCase {
  let name = raw.name;
  let suite = raw.suite || raw.classname || '';
  // Python's xmlrunner stamps the run time on the suite name ("TestAcme-20251114214921"): not an identity.
  if (dialect === 'junit') suite = suite.replace(/-\d{14}$/, '');
  let status = raw.outcome;
  let labels: string[] | undefined;
  let classname = raw.classname;

  if (dialect === 'ginkgo-junit') {
    const split = splitGinkgoJUnitName(raw.name);
    if (split) {
      name = ginkgoSpecName(split.nodeType, split.text);
      const groups = split.nodeType === 'It' ? trailingGroups(split.text) : [];
      if (groups.length > 0 && groups[0]) labels = groups[0].split(', ');
    } else {
      // Written with OmitLeafNodeType: no "[It]" prefix, but labels may still trail the name.
      name = ginkgoSpecName('It', raw.name);
    }
    status = ginkgoStatus(raw.status, raw.outcome);
    if (classname === suite) classname = undefined;
  } else if (dialect === 'gotestsum' || dialect === 'go-junit-report') {
    if (classname === suite) classname = undefined;
  } else {
    const cls = raw.classname;
    if (cls && cls !== suite && !name.startsWith(cls)) {
      name = `${cls}${dialect === 'jest-junit' ? ' › ' : '.'}${name}`;
    }
    if (raw.status === 'notrun' || raw.status === 'disabled') status = 'skipped';
  }
  if (name.length > maxText) name = name.slice(0, maxText);

  const tc: TestCase = { id: testId(suite, name), name, suite, status, durationMs: secondsToMs(raw.time) };
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
