import { testId, type Failure, type ParsedReport, type TestCase, type TestStatus } from '../model.ts';
import { ReportError } from './report-error.ts';
import { type ParseLimits, kib } from './limits.ts';
import { JsonSyntaxError, JsonTokenizer, type JsonEvents, type JsonScalar } from './json-tokenizer.ts';
import { ginkgoSpecName, nodeKind } from './ginkgo-names.ts';
import { parseTimestamp } from './timestamps.ts';
import { own } from './text-cap.ts';

/** Which parts of a SpecReport are materialized; everything else (SpecEvents, captured output...) is walked past. */
type Keep = { [key: string]: Keep | 'all' };

const location: Keep = { FileName: 'all', LineNumber: 'all', FullStackTrace: 'all' };
const specKeep: Keep = {
  ContainerHierarchyTexts: 'all',
  ContainerHierarchyLabels: 'all',
  LeafNodeType: 'all',
  LeafNodeText: 'all',
  LeafNodeLabels: 'all',
  LeafNodeLocation: location,
  State: 'all',
  StartTime: 'all',
  EndTime: 'all',
  RunTime: 'all',
  ParallelProcess: 'all',
  NumAttempts: 'all',
  MaxFlakeAttempts: 'all',
  MaxMustPassRepeatedly: 'all',
  Failure: { Message: 'all', Location: location, FailureNodeType: 'all', ForwardedPanic: 'all' },
};
const suiteScalars = new Set(['SuiteDescription', 'SuitePath', 'StartTime', 'EndTime']);
/** Elements kept of any one array inside a spec (labels, container texts). */
const maxArrayItems = 10_000;

interface GinkgoLocation {
  FileName?: string;
  LineNumber?: number;
  FullStackTrace?: string;
}

interface GinkgoSpec {
  ContainerHierarchyTexts?: string[] | null;
  ContainerHierarchyLabels?: (string[] | null)[] | null;
  LeafNodeType?: string;
  LeafNodeText?: string;
  LeafNodeLabels?: string[] | null;
  LeafNodeLocation?: GinkgoLocation;
  State?: string;
  StartTime?: string;
  EndTime?: string;
  RunTime?: number;
  NumAttempts?: number;
  MaxMustPassRepeatedly?: number;
  Failure?: { Message?: string; Location?: GinkgoLocation; ForwardedPanic?: string };
}

type Container = Record<string, unknown> | unknown[];

interface Frame {
  role: 'root' | 'suite' | 'specs' | 'spec' | 'value' | 'skip';
  key?: string;
  container?: Container;
  keep?: Keep | 'all';
  items?: number;
}

interface SuiteState {
  description?: string;
  path?: string;
  startedAt?: number;
  endedAt?: number;
  sawSpecs: boolean;
  cases: TestCase[];
}

/** Streams a Ginkgo `--json-report` into a ParsedReport; memory grows with the specs kept, not the file. */
class GinkgoReportReader implements JsonEvents {
  readonly cases: TestCase[] = [];
  readonly suites: ParsedReport['suites'] = [];
  recognised = false;
  cutFields = 0;
  private frames: Frame[] = [];
  private suite: SuiteState | undefined;
  private specCut = false;
  private index = 0;
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  openObject(): void {
    this.open({});
  }

  openArray(): void {
    this.open([]);
  }

  private open(container: Container): void {
    const parent = this.frames[this.frames.length - 1];
    const isArray = Array.isArray(container);
    if (!parent) {
      if (isArray) this.frames.push({ role: 'root' });
      else this.beginSuite();
      return;
    }
    switch (parent.role) {
      case 'root':
        if (isArray) this.frames.push({ role: 'skip' });
        else this.beginSuite();
        return;
      case 'suite':
        if (isArray && parent.key === 'SpecReports') {
          this.suite!.sawSpecs = true;
          this.frames.push({ role: 'specs' });
        } else {
          this.frames.push({ role: 'skip' });
        }
        return;
      case 'specs':
        if (isArray) this.frames.push({ role: 'skip' });
        else {
          this.specCut = false;
          this.frames.push({ role: 'spec', container, keep: specKeep });
        }
        return;
      case 'spec':
      case 'value': {
        const keep = this.childKeep(parent);
        if (keep === undefined) {
          this.frames.push({ role: 'skip' });
          return;
        }
        this.attach(parent, container);
        this.frames.push({ role: 'value', container, keep, items: 0 });
        return;
      }
      default:
        this.frames.push({ role: 'skip' });
    }
  }

  private beginSuite(): void {
    this.suite = { sawSpecs: false, cases: [] };
    this.frames.push({ role: 'suite' });
  }

  /** What to keep of the value about to be added to `parent`, or undefined to skip it. */
  private childKeep(parent: Frame): Keep | 'all' | undefined {
    if (Array.isArray(parent.container)) {
      if ((parent.items ?? 0) >= maxArrayItems) return undefined;
      return parent.keep;
    }
    if (parent.keep === 'all') return 'all';
    return parent.key === undefined ? undefined : parent.keep?.[parent.key];
  }

  private attach(parent: Frame, value: unknown): void {
    if (Array.isArray(parent.container)) {
      parent.container.push(value);
      parent.items = (parent.items ?? 0) + 1;
    } else if (parent.container && parent.key !== undefined) {
      parent.container[parent.key] = value;
    }
  }

  key(name: string): void {
    const top = this.frames[this.frames.length - 1];
    if (top) top.key = name;
  }

  value(value: JsonScalar, cut: boolean): void {
    const top = this.frames[this.frames.length - 1];
    if (!top) {
      throw new ReportError(this.file, 'is a bare JSON value, not a Ginkgo JSON report (an array of suite reports): pass the file written by ginkgo --json-report');
    }
    if (top.role === 'suite') {
      if (top.key !== undefined && suiteScalars.has(top.key)) this.suiteScalar(top.key, value);
      return;
    }
    if (top.role !== 'spec' && top.role !== 'value') return;
    if (this.childKeep(top) === undefined) return;
    // Kept strings are copied out of the chunk they were sliced from (see own()).
    this.attach(top, typeof value === 'string' ? own(value) : value);
    if (cut) {
      this.specCut = true;
      this.cutFields++;
    }
  }

  private suiteScalar(key: string, value: JsonScalar): void {
    const suite = this.suite!;
    if (typeof value !== 'string') return;
    if (key === 'SuiteDescription') suite.description = own(value);
    else if (key === 'SuitePath') suite.path = own(value);
    else if (key === 'StartTime') suite.startedAt = parseTimestamp(value);
    else if (key === 'EndTime') suite.endedAt = parseTimestamp(value);
  }

  closeObject(): void {
    this.close();
  }

  closeArray(): void {
    this.close();
  }

  private close(): void {
    const frame = this.frames.pop();
    if (!frame) return;
    if (frame.role === 'spec') {
      this.suite!.cases.push(this.toTestCase(frame.container as GinkgoSpec));
    } else if (frame.role === 'suite') {
      this.endSuite();
    }
  }

  /** Gives the suite's cases their suite name; also called for a suite cut off by a truncated file. */
  endSuite(): void {
    const suite = this.suite;
    if (!suite) return;
    this.suite = undefined;
    if (suite.description === undefined && !suite.sawSpecs) return;
    this.recognised = true;
    const name = suite.description ?? '';
    const facts: ParsedReport['suites'][number] = { name };
    if (suite.path !== undefined) facts.path = suite.path;
    if (suite.startedAt !== undefined) facts.startedAt = suite.startedAt;
    if (suite.endedAt !== undefined) facts.endedAt = suite.endedAt;
    this.suites.push(facts);
    for (const tc of suite.cases) {
      tc.suite = name;
      tc.id = testId(name, tc.name);
      this.cases.push(tc);
    }
  }

  private toTestCase(spec: GinkgoSpec): TestCase {
    const texts = (spec.ContainerHierarchyTexts ?? []).filter((t): t is string => typeof t === 'string' && t !== '');
    if (typeof spec.LeafNodeText === 'string' && spec.LeafNodeText !== '') texts.push(spec.LeafNodeText);
    const nodeType = typeof spec.LeafNodeType === 'string' && spec.LeafNodeType ? spec.LeafNodeType : 'It';
    const name = ginkgoSpecName(nodeType, texts.join(' '));
    const status = specStatus(spec.State);
    const runTime = typeof spec.RunTime === 'number' ? spec.RunTime : 0;
    const tc: TestCase = { id: '', name, suite: '', status, durationMs: Math.round(runTime / 1000) / 1000, index: this.index++, node: nodeKind(nodeType) };
    if (texts.length > 1) tc.path = texts;

    const labels = new Set<string>();
    for (const group of spec.ContainerHierarchyLabels ?? []) for (const l of group ?? []) labels.add(l);
    for (const l of spec.LeafNodeLabels ?? []) labels.add(l);
    if (labels.size > 0) tc.labels = [...labels];

    const at = spec.LeafNodeLocation;
    if (at?.FileName) {
      tc.file = at.FileName;
      if (typeof at.LineNumber === 'number') tc.line = at.LineNumber;
    }
    const startedAt = parseTimestamp(spec.StartTime);
    const endedAt = parseTimestamp(spec.EndTime);
    if (startedAt !== undefined) tc.startedAt = startedAt;
    if (endedAt !== undefined) tc.endedAt = endedAt;

    if (status === 'failed') {
      const f = spec.Failure ?? {};
      // Ginkgo's message for a panic is just "Test Panicked"; the panic value says what happened.
      const failure: Failure = { message: f.ForwardedPanic || f.Message || spec.State || 'failed' };
      if (spec.State) failure.type = spec.State;
      const text = [f.ForwardedPanic, f.Location?.FullStackTrace].filter((t) => typeof t === 'string' && t !== '').join('\n\n');
      if (text) failure.text = text;
      if (f.Location?.FileName && typeof f.Location.LineNumber === 'number') {
        failure.location = { file: f.Location.FileName, line: f.Location.LineNumber };
      }
      if (this.specCut) failure.truncated = true;
      tc.failure = failure;
    }

    const attempts = typeof spec.NumAttempts === 'number' ? spec.NumAttempts : 0;
    if (attempts > 1) {
      // --flake-attempts retries failures; MustPassRepeatedly repeats successes.
      const earlier: TestStatus = (spec.MaxMustPassRepeatedly ?? 0) > 1 ? 'passed' : 'failed';
      tc.retries = Array.from({ length: attempts - 1 }, () => ({ status: earlier }));
    }
    return tc;
  }
}

function specStatus(state: string | undefined): TestStatus {
  switch (state) {
    case 'passed':
      return 'passed';
    case 'skipped':
    case 'pending':
      return 'skipped';
    default:
      // failed, panicked, timedout, interrupted, aborted; an unknown state is not a pass.
      return state === undefined ? 'skipped' : 'failed';
  }
}

/** Reads a Ginkgo JSON report from decoded text chunks. */
export async function parseGinkgoJson(file: string, chunks: AsyncIterable<string>, limits: ParseLimits): Promise<ParsedReport> {
  const reader = new GinkgoReportReader(file);
  const tokenizer = new JsonTokenizer(reader, limits.maxTextChars, limits.maxDepth);
  const warnings: string[] = [];
  let problem: string | undefined;
  try {
    for await (const chunk of chunks) tokenizer.write(chunk);
    tokenizer.end();
  } catch (err) {
    if (err instanceof ReportError) throw err;
    if (!(err instanceof JsonSyntaxError)) throw err;
    if (err.message.startsWith('nesting deeper')) {
      throw new ReportError(file, `${err.message}: this is not a report Ginkgo writes; check where the file came from`);
    }
    problem = err.message.startsWith('unexpected end of input')
      ? 'ends before the report is complete (the test run was probably killed while writing it)'
      : `is not valid JSON (${err.message})`;
    reader.endSuite();
  }
  if (!reader.recognised) {
    if (problem) throw new ReportError(file, `${problem}, and no Ginkgo suite report could be read from it: check the run log`);
    throw new ReportError(file, 'is JSON but not a Ginkgo report (no SuiteDescription or SpecReports): pass the file written by ginkgo --json-report');
  }
  if (problem) warnings.push(`${file}: ${problem}; kept the ${reader.cases.length} specs read so far`);
  if (reader.cutFields > 0) {
    warnings.push(`${file}: ${reader.cutFields} text fields were longer than ${kib(limits.maxTextChars)} and were cut (Failure.truncated marks affected failures); raise maxTextChars to keep more`);
  }
  return { file, dialect: 'ginkgo-json', cases: reader.cases, suites: reader.suites, warnings };
}
