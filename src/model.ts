// The shared vocabulary of kubeflake. Every stage reads and writes these shapes; nothing here
// does I/O. The Report at the bottom is the public JSON contract (docs/architecture.md): extend it,
// never rename a field.

export type Framework = 'ginkgo' | 'go' | 'generic';
/** Extension: `none` is a hunt that made no cluster (no existing-cluster mode: every suite ran its own envtest). */
export type ClusterKind = 'kind' | 'local' | 'existing' | 'none';

/**
 * A test's stable identity across runs: suite + full name, never order or label position. The id
 * is this serialised once (testId); nothing splits an id back apart: the parts travel on the
 * TestCase (TestIdentity), and code that needs a name or the node kind reads them there.
 */
export type TestId = string;

/** A Ginkgo spec (It, or a plain Go test), or a suite-level node that runs whatever the focus. */
export type TestNodeKind = 'spec' | 'suite-setup';

/** The parts of a test's identity, as the reports give them. */
export interface TestIdentity {
  suite: string;
  /** The full name a framework selects by (Ginkgo: container texts and leaf text joined by spaces). */
  name: string;
  /** Container texts, then the leaf text, when the report gives them apart (Ginkgo JSON). */
  path?: string[];
  labels?: string[];
  /** 'suite-setup' for Ginkgo's BeforeSuite, AfterSuite, DeferCleanup (Suite)...; 'spec' otherwise. */
  node?: TestNodeKind;
}

/** Builds the stable id of a test. Every dialect goes through here so ids agree. */
export function testId(suite: string, name: string): TestId {
  return suite ? `${suite} :: ${name}` : name;
}

/** Node types Ginkgo writes as a "[Type]" name prefix; every one but It is a suite-level node. */
export const ginkgoNodeTypePrefix =
  /^\[(It|BeforeSuite|AfterSuite|SynchronizedBeforeSuite|SynchronizedAfterSuite|ReportBeforeSuite|ReportAfterSuite|DeferCleanup(?: \((?:Each|All|Suite)\))?)\](?:\s+|$)/;

/**
 * Whether a test is a Ginkgo suite-level node ("[BeforeSuite]", "[DeferCleanup (Suite)]"...):
 * setup that runs whatever the focus, first or last. It is kept in runs (it creates objects and can
 * fail) but is no test: it never pollutes, is never a victim, and a probe may not exclude it.
 */
export function isSuiteNode(test: Pick<TestIdentity, 'node'>): boolean {
  return test.node === 'suite-setup';
}

/** The node kind of a Ginkgo spec name as the readers normalise it ("[BeforeSuite]" -> suite-setup): used once, at ingestion. */
export function nodeKindOfName(name: string): TestNodeKind {
  const m = ginkgoNodeTypePrefix.exec(name);
  return m !== null && m[1] !== 'It' ? 'suite-setup' : 'spec';
}

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface Failure {
  /** The short message (JUnit `message` attribute, Ginkgo failure message). */
  message: string;
  /** JUnit `type` attribute or Ginkgo failure kind ("failed", "panicked", "timedout"...). */
  type?: string;
  /** Longer text: stack, captured output. Capped by the parser; see `truncated`. */
  text?: string;
  /** Where the failure was raised, when the report says ("In [It] at: file:line"). */
  location?: { file: string; line: number };
  /** The parser cut message/text to stay within memory bounds. */
  truncated?: boolean;
}

/** One test's outcome in one run, as a report gave it. */
export interface TestCase extends TestIdentity {
  id: TestId;
  /** Full name without framework decoration: Ginkgo "[It] " prefix and "[labels]" removed. */
  name: string;
  suite: string;
  /** The JUnit classname, where the dialect has one distinct from the suite. */
  classname?: string;
  file?: string;
  line?: number;
  labels?: string[];
  status: TestStatus;
  durationMs: number;
  /** Epoch milliseconds, when the report gives per-test times (Ginkgo JSON does). */
  startedAt?: number;
  endedAt?: number;
  /** Position in the run's execution order, when the report gives the exact order. */
  index?: number;
  failure?: Failure;
  /**
   * Attempts the framework itself retried (Surefire flakyFailure/rerunFailure, Ginkgo --flake-attempts,
   * and rerun tools that repeat the <testcase>: gotestsum --rerun-fails), before the one that decided `status`.
   */
  retries?: { status: TestStatus; failure?: Failure }[];
}

export type ReportDialect =
  | 'ginkgo-json'
  | 'ginkgo-junit'
  | 'gotestsum'
  | 'go-junit-report'
  | 'jest-junit'
  | 'pytest'
  | 'surefire'
  | 'junit'
  /** Extension: a `go test -json` (test2json) event stream, read as it is (the go test shim keeps one per test binary). */
  | 'go-test-json';

/** A report file normalized: what `kubeflake parse` prints, one per file. */
export interface ParsedReport {
  file: string;
  dialect: ReportDialect;
  cases: TestCase[];
  /** Suite-level facts: Ginkgo JSON gives the suite description, path and start time. */
  suites: { name: string; path?: string; startedAt?: number; endedAt?: number }[];
  /** Problems that did not stop parsing (truncated file, capped text...), each naming the file. */
  warnings: string[];
  /** Extension: the file was not well-formed and was read in recovery mode. */
  damage?: ReportDamage;
}

/** One repair recovery mode made in a damaged report (a bare `&` read as text, a tag closed...). */
export interface ReportRecovery {
  line: number;
  column: number;
  what: string;
}

/** What was repaired, and what was lost, in one report that was not well-formed. */
export interface ReportDamage {
  /** Every repair made. */
  repairs: number;
  /** The first repairs, with their position (at most 20). */
  recoveries: ReportRecovery[];
  /** Test cases the file began that could not be recovered. */
  lost: number;
  /** The file ends before its report does (a killed run): cases after the cut are unknown. */
  cut: boolean;
}

/** Where the order of a run came from, from most to least exact. */
export type OrderSource = 'ginkgo-json' | 'junit-times' | 'junit-document' | 'unknown';

/**
 * What the runner records about one execution in `runs/<id>/meta.json`. Ingestion reads it
 * back with the reports in the same folder to build a RunResult, so a results directory alone
 * is enough to rebuild everything (`kubeflake report DIR`).
 */
export interface RunMeta {
  id: string;
  seed: number;
  probe: boolean;
  plan?: ProbePlan;
  framework: Framework;
  /** The command as run, after the adapter added seed, focus and report flags. */
  command: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Report files the run produced, relative to the run folder (junit/*.xml, ginkgo.json, go-exec/*.go-test.json...). */
  reports: string[];
  /** Problems the runner saw: command not found, no report written, killed on timeout. */
  warnings: string[];
  /** The run was made under CPU pressure (the stress option). */
  stress?: 'cpu';
  /** What the go test shim ran, one entry per test binary: how kubeflake knows what a `make test` really is. */
  testBinaries?: { importPath: string; kind: 'ginkgo' | 'ginkgo-v1' | 'go'; exitCode: number | null; skipped?: string }[];
  /** Packages go test could not build: no test binary ran for them. */
  unbuilt?: string[];
  /** Extension: the hunt was stopped (SIGINT/SIGTERM, a cancelled job) while this run went: the signal. */
  interrupted?: string;
  /** Extension: the control plane stopped answering after this run (the snapshot's error). */
  controlPlaneLost?: string;
  /** Extension: a run beyond `runs`, for the specs a change adds or changes. */
  extra?: ExtraRun;
  /**
   * Extension: what go test printed for each package in `unbuilt` (the compiler's errors, capped).
   * No report file exists for them: ingestion reads each as a failed TestMain from this record.
   */
  buildFailures?: { importPath: string; output: string }[];
  /**
   * Extension: build once, run many (a `go test` command with reuse on). `reused`: the test
   * binaries an earlier run built ran without the go command; otherwise `why` the go command ran.
   */
  binaryReuse?: { reused: boolean; why?: string };
}

/**
 * Extension: why a run beyond `runs` was made. changed: focused on the packages of the changed
 * specs (`tests`), in the seed's order; pair: `tests` is a directed pair, run in that order.
 */
export interface ExtraRun {
  purpose: 'changed' | 'pair';
  tests: TestId[];
}

/** One execution of the test command: a planned run or a probe. */
export interface RunResult {
  /** "000", "001"... for runs; "probe-000"... for probes. Also the results folder name. */
  id: string;
  seed: number;
  probe: boolean;
  /** For probes: which plan this run executed. */
  plan?: ProbePlan;
  command: string[];
  exitCode: number | null;
  signal?: string | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  orderSource: OrderSource;
  /** Test ids in execution order (skipped tests excluded). */
  order: TestId[];
  cases: TestCase[];
  /** Report files that were read, relative to the run folder. */
  reports: string[];
  /** Problems that did not stop the run: unreadable reports, missing reports, timeouts. */
  warnings: string[];
  /** Extension: reports of this run that were damaged, by path relative to the run folder. */
  damage?: (ReportDamage & { file: string })[];
  /** Extension: from RunMeta: the run was cut by the hunt's interruption (the signal); neither pass nor fail. */
  interrupted?: string;
  /** Extension: from RunMeta: the control plane stopped answering after this run. */
  controlPlaneLost?: string;
  /** Extension: from RunMeta: the test binaries the go test shim ran (a Ginkgo suite's wrapper is told from a plain test by it). */
  testBinaries?: RunMeta['testBinaries'];
  /** Extension: from RunMeta: a run beyond `runs` for changed specs; a test it did not select is not missing from it. */
  extra?: ExtraRun;
}

/** A reference to a Kubernetes object. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/** An object as a snapshot saw it: metadata only. */
export interface SnapshotObject extends ObjectRef {
  uid: string;
  /** The REST resource (plural), e.g. "deployments", so cleanup can address it. */
  resource: string;
  namespaced: boolean;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  labels?: Record<string, string>;
  generateName?: string;
}

export interface Snapshot {
  takenAt: number;
  /** The API server's address, to notice a snapshot compared against another cluster. */
  server: string;
  objects: SnapshotObject[];
  /** Resource types that could not be listed, and why. A snapshot with errors is partial. */
  errors: { resource: string; message: string }[];
  complete: boolean;
}

/** A watch event seen during a run. */
export interface TimelineEvent {
  /** Epoch milliseconds when kubeflake saw the event. */
  at: number;
  verb: 'created' | 'deleted' | 'terminating';
  object: ObjectRef & { uid: string; resource?: string };
  /** metadata.creationTimestamp (second precision) for created events. */
  createdAt?: string;
  ownerUids?: string[];
  /** Extension: found by listing a type that appeared mid-run, so `at` is later than the creation. */
  late?: boolean;
  /** Extension: the object's resourceVersion in the event (the API server's order of changes). */
  resourceVersion?: string;
  /** Extension, measured: a read that started at this moment still saw an older resource version, so the change came after it. */
  notBefore?: number;
  /** Extension, measured: a read answered at this moment (before the event arrived) already saw the change, so it came before. */
  notAfter?: number;
}

/**
 * Extension: one measurement of the watch's lag, a line of timeline.jsonl beside the events. The
 * watch asked the API server for its current resource version, then saw the change that carries
 * it `at`: the change was made between the request and the answer, so the lag lies in [minMs, maxMs].
 */
export interface WatchLagSample {
  at: number;
  verb: 'lag';
  resourceVersion: string;
  minMs: number;
  maxMs: number;
}

/** A line of timeline.jsonl: a watch event or a lag measurement. */
export type TimelineEntry = TimelineEvent | WatchLagSample;

/** A plan for a focused rerun that analysis asks the pipeline to execute. */
export interface ProbePlan {
  /** Why: confirm a polluter, a state-setter or a cleaner; check the victim alone; bisect. */
  purpose: 'polluter' | 'alone' | 'cleaner' | 'state-setter' | 'bisect' | 'hazard';
  /** The victim (or brittle test) the probe is about. */
  subject: TestId;
  /** The tests to run (focus). The subject is always one of them. */
  tests: TestId[];
  /** Seed that keeps the recorded relative order of `tests` (focus filters, it does not reorder). */
  seed: number;
  /** The order the probe expects them to run in, subject last. */
  expectedOrder: TestId[];
  /** What the probe will prove if the subject fails (or passes). */
  hypothesis: string;
  /** Repetition of the same probe (same tests and seed) to confirm a result; 1 when absent. */
  attempt?: number;
  /** Extension: run this probe under CPU pressure (a latent hazard whose window is short fires more often so). */
  stress?: 'cpu';
}

// ---------------------------------------------------------------------------------------------
// Report JSON, version 1 (docs/architecture.md)

export type Verdict = 'stable' | 'flaky' | 'order-dependent' | 'brittle' | 'broken' | 'skipped';

export type FailureKind =
  | 'AlreadyExists'
  | 'BeingDeleted'
  | 'Conflict'
  | 'NotFound'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Invalid'
  | 'WebhookDenied'
  | 'NamespaceTerminating'
  | 'EventuallyTimeout'
  | 'ConsistentlyFailed'
  | 'ContextDeadline'
  | 'Timeout'
  | 'Panic'
  | 'ConnectionRefused'
  | 'BuildFailure'
  | 'AssertionFailed'
  | 'Unknown';

export interface PolluterReport {
  test: TestId;
  confirmed: boolean;
  /** Indexes into Report.leaks: the objects that link polluter and victim. */
  via: number[];
  /** Extension: the victim's outcomes in the probes that ran this polluter then it (a race fails in some only). */
  after?: ProbeRate;
  /**
   * Extension: what confirmed it. 'record': the API server's record of one failing run links the
   * two through an object (`link`); 'probes': the statistics of pair probes and alone controls.
   */
  decidedBy?: 'record' | 'probes';
  /** Extension: the record's link between polluter and victim, from the failing run that proves it. */
  link?: RecordLink;
}

/** Extension: an object as the API server's record names it (the REST resource, not the kind). */
export interface RecordedObject {
  /** API group; "" for the core group. */
  group: string;
  resource: string;
  namespace?: string;
  name: string;
  /** The envtest instance whose API server it lives in; absent for kubeflake's own cluster. */
  plane?: string;
}

/**
 * Extension: a failure linked, through the API server's record of the run it happened in, to the
 * history of the object it names. Times are the server's, epoch milliseconds (microseconds as the fraction).
 */
export interface RecordLink {
  /** The run whose record shows it. */
  run: string;
  victim: TestId;
  /** The spec whose request made the object stand in the victim's way. */
  polluter: TestId;
  object: RecordedObject;
  /**
   * What the object was when the victim's request was refused: 'terminating' (the polluter deleted
   * it and a finalizer still held it), 'present' (the polluter created it and never deleted it),
   * 'deleted' (the polluter deleted it: the victim's request found nothing), 'modified' (the
   * polluter wrote it between the victim's read and its write).
   */
  state: 'terminating' | 'present' | 'deleted' | 'modified';
  /** The failure kind of the victim's failure that named the object. */
  failure: FailureKind;
  createdBy?: TestId;
  createdAt?: number;
  /** When the polluter's delete (or, for 'modified', its write) was answered. */
  deletedAt?: number;
  /** The victim's own refused request: its first, and how many were refused in all. */
  refusedAt: number;
  refusal: { verb: string; code: number; reason?: string; message?: string };
  refusals: number;
  /** When the object was finally gone: the write that removed its last finalizer, or (upper bounds) its watch deletion event, a request on it answered 404, the next successful create. */
  goneAt?: number;
  goneBy?: 'finalizer-removed' | 'watch' | 'not-found' | 'next-create';
  /** Milliseconds from the delete to the victim's refusal, and from the refusal to the object gone. */
  margins: { deletedToRefusedMs?: number; refusedToGoneMs?: number };
}

/**
 * Extension: a latent hazard found in the record of passing runs: `first` leaves an object held
 * (terminating, a finalizer pending) past its own end, or creates a name, and `second` creates,
 * reads, or expects absent that same name. Reported as a warning while it never fired; one that
 * fired is a finding with its evidence.
 */
export interface HazardReport {
  /** The spec that leaves the object (held past its end, or created). */
  first: TestId;
  /** The spec that touches the same name. */
  second: TestId;
  object: RecordedObject;
  /** 'terminating': first leaves it held past its end; 'state-dependence': second reads what first created. */
  kind: 'terminating' | 'state-dependence';
  /** How the second spec touches the name. */
  access: 'create' | 'read' | 'expects-absent';
  /** The longest time the object stayed held after the first spec ended, over the runs that showed it (ms). */
  windowMs?: number;
  /** Every run where the two met (first before second), with the near-miss margin: ms from the object gone to the second's request (negative: it hit the held object). */
  meetings: HazardMeeting[];
  /** The probes spent on it (the pair back to back, repeated), and how they came out. */
  probes: { runs: string[]; failed: string[]; stress: boolean };
  /** 'fired': the second spec hit the held object (or failed after the first in a probe); 'held-off': it met it and never fired; 'unmet': never met. */
  outcome: 'fired' | 'held-off' | 'unmet';
}

/** Extension: one run in which the two specs of a hazard met. */
export interface HazardMeeting {
  run: string;
  probe: boolean;
  /** ms from the first spec's end to the object gone (its window in this run), when both are known. */
  windowMs?: number;
  /** ms from the object gone to the second spec's request; negative when the request came while it was held. */
  marginMs?: number;
  /** The second spec's request hit the held object (refused) in this run. */
  fired: boolean;
}

/** Extension: how often a test failed in a series of probes. */
export interface ProbeRate {
  failed: number;
  runs: number;
}

export interface TestFailureReport {
  run: string;
  kind: FailureKind;
  message: string;
  location?: { file: string; line: number };
  /** Id of the cluster of similar failures across tests (normalized message signature). */
  signature: string;
}

export interface TestReport {
  id: TestId;
  name: string;
  suite: string;
  file: string;
  line: number;
  verdict: Verdict;
  passed: number;
  failed: number;
  failureKinds: FailureKind[];
  polluters: PolluterReport[];
  cleaners: TestId[];
  stateSetters: TestId[];
  reproduce: string;
  /** One-line fix hint from the failure taxonomy (extension). */
  hint?: string;
  /** Each failure seen, in run order (extension). */
  failures?: TestFailureReport[];
  /** Short human explanation of the verdict (extension). */
  why?: string;
  /** Extension: the test's outcomes in probes that ran it alone; absent when it was never checked alone. */
  alone?: ProbeRate;
  /** Extension: times to run `reproduce` for a 95% chance to see the failure once, from its measured rate (1: every time). */
  reproduceTries?: number;
  /** Extension: the change under test (a pull request) adds this spec, or changes it. */
  change?: 'new' | 'changed';
  /** Extension: the fix written at a confirmed polluter's line and proven by rerunning the pair (src/fix/), or why none is offered. */
  fix?: FixReport;
}

/**
 * Extension: the catalogue's fixes (src/fix/catalogue.ts): one per failure class, and
 * `reset-shared-variable` for a polluter that links to its victim through a Go variable, no object.
 */
export type FixKind = 'wait-after-delete' | 'reset-shared-variable';

/** Extension: a line of Go source, repository-relative (slashes); `what` names the Ginkgo node it is in ("its It", "the BeforeEach of \"shouting\""). */
export interface SourceLine {
  file: string;
  line: number;
  what?: string;
}

/**
 * Extension: pollution that is not in the cluster: a variable of the package (`scope: package`) or
 * of an enclosing Ginkgo container that the polluter's own nodes assign (`assigned`) and the victim's
 * nodes read (`read`) before they assign it themselves. Found with Go's parser (tools/gosource).
 */
export interface SharedVariableReport {
  name: string;
  scope: 'package' | 'container';
  declared: SourceLine;
  assigned: SourceLine;
  read: SourceLine;
}

/** Extension: one pair run of a fix's proof: the polluter then the victim, focused, in the repository patched or not. */
export interface FixRunReport {
  /** Its folder under fixes/<n>/runs/. */
  id: string;
  patched: boolean;
  victim: TestStatus | 'missing';
  polluter: TestStatus | 'missing';
}

/**
 * Extension: a fix for an order dependence, written at the polluter's line in the suite's idiom
 * and proven in a scratch copy of the repository before it is offered. `patch` is there only when
 * it is offered; otherwise `noFix` says why (and the hint stays a sentence).
 */
export interface FixReport {
  kind: FixKind;
  polluter: TestId;
  /** The object the polluter left in the victim's way, when the evidence names it. */
  object?: { type: string; name: string };
  /** Extension: when no object links the pair, the Go variable that does (kind `reset-shared-variable`). */
  sharedVariable?: SharedVariableReport;
  /** Repository-relative (slashes), and the lines of the call the fix is about. */
  file?: string;
  lines?: { start: number; end: number };
  /** The unified diff, repository-relative, for `git apply`; only when offered. */
  patch?: string;
  /** The patch file in the results directory (fixes/<n>.patch); only when offered. */
  patchFile?: string;
  /** The unpatched pair's rate: the hunt's own pair probes, or runs made for the proof when it had none. */
  before?: ProbeRate & { source: 'hunt' | 'fix-runs' };
  /** The patched pair's runs: failed counts the runs where victim or polluter failed. */
  after?: ProbeRate;
  runs?: FixRunReport[];
  /** The pair ran under CPU pressure, as the hunt that found the race did. */
  stress?: 'cpu';
  offered: boolean;
  noFix?: string;
}

export interface RunReport {
  id: string;
  seed: number;
  exitCode: number | null;
  durationMs: number;
  timedOut: boolean;
  order: TestId[];
  failed: TestId[];
  probe: boolean;
  /** Extension: where the order came from, and the probe's purpose. */
  orderSource?: OrderSource;
  purpose?: ProbePlan['purpose'];
  subject?: TestId;
  warnings?: string[];
  /** Extension: tests the run reported as skipped (they are not in `order`), for the run x test matrix. */
  skipped?: TestId[];
  /** Extension: how this run's leaks were attributed (fallbacks and guesses counted). */
  attribution?: AttributionSummary;
  /**
   * Extension: an infrastructure run (the control plane died, the suite setup failed, the binary
   * did not build, most specs failed alike): kept and shown, but no verdict or probe is built on it.
   */
  infrastructure?: { cause: string };
  /** Extension: the hunt was stopped by this signal while the run went: neither pass nor fail, not judged. */
  interrupted?: { signal: string };
  /** Extension: a run beyond `runs`, for the specs a change adds or changes. */
  extra?: ExtraRun;
  /**
   * Extension: what the report says about the run beyond its runner's warnings, by kind, so a
   * renderer places each without reading its words. Their messages are in `warnings` too.
   */
  notices?: RunNotice[];
}

/**
 * Extension: the kinds of run notice. `empty-timeline`: tests ran but the cluster kubeflake
 * watched saw nothing (the suite used another control plane); `envtest-unseen`: the suite
 * started envtest control planes and nothing was seen created in them; `envtest-problem`: one
 * envtest instance could not be observed fully (each problem a notice).
 */
export type RunNoticeKind = 'empty-timeline' | 'envtest-unseen' | 'envtest-problem' | 'parallel-guess';

/** Extension: one run notice: its kind for renderers, its message for people. */
export interface RunNotice {
  kind: RunNoticeKind;
  message: string;
}

export interface LeakReport {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  terminating: boolean;
  finalizers: string[];
  createdBy: TestId | null;
  runs: string[];
  /** Extension: how sure the attribution is ("exact" from per-spec times, "approximate" from order+durations, "owner"). */
  attribution?: 'exact' | 'approximate' | 'owner' | 'unknown';
  /** Extension: the REST resource, for cleanup and kubectl commands. */
  resource?: string;
  /** Extension: seen right at a spec boundary; this other spec may have made it instead. */
  ambiguousWith?: TestId;
  /**
   * Extension: set on a baseline object the run deleted (shared state destroyed, the cause of a
   * later NotFound): the test running when it was deleted. `createdBy` is null on such entries.
   */
  deletedBy?: TestId | null;
  /** Extension: the owner whose test `createdBy` came from, when attribution is "owner". */
  owner?: ObjectRef;
  /**
   * Extension: what named `createdBy`: its own create in the API server's audit record (`audit`,
   * exact like the watch), its creation event seen by the watch, the namespace it is in (made by
   * that test during the run), its owner, or only its creationTimestamp (the watch missed the
   * creation; one-second resolution: a fallback).
   */
  evidence?: 'watch' | 'namespace' | 'owner' | 'creation-time' | 'audit';
  /** Extension: every test that may have made it when the evidence does not decide; `createdBy` is then the likeliest ("probably"). */
  candidates?: TestId[];
  /**
   * Extension: the create request in the API server's record that named `createdBy` (evidence
   * "audit", or "owner" when it is the owner's create): the server time it was received, and
   * how it was matched to the object: by its name, or (a generateName create, whose record
   * names no object) as the nameless create of that resource and namespace just before the
   * first request naming the object.
   */
  recordCreate?: { at: number; match: 'name' | 'generate-name'; placement: 'window' | 'gap' | 'setup' | 'parallel' };
  /**
   * Extension: left inside a namespace the suite deleted, under envtest (no namespace controller
   * there: the namespace stays terminating with what is in it, and cluster-wide managers and
   * caches of later specs still see it). The namespace itself is not reported; its contents are.
   */
  inDeletedNamespace?: boolean;
}

/**
 * The hint for leaks inside a namespace the suite deleted under envtest (LeakReport.inDeletedNamespace),
 * shown once beside them by the renderers: envtest runs no namespace controller, so deleting the
 * namespace deletes nothing in it.
 */
export const DELETED_NAMESPACE_HINT =
  'envtest runs no namespace controller: deleting a namespace leaves everything in it, and cluster-wide managers and caches of later specs still see it. ' +
  'Delete what the spec created; stop the manager and wait for it before cleanup; scope the manager\'s cache to the spec\'s namespace.';

/** Extension: how leaks were attributed, to say how often attribution had to fall back or guess. */
export interface AttributionSummary {
  /** Leaked objects attributed (destroyed baseline objects not counted). */
  objects: number;
  /** Named by their own creation event (in the record, or seen by the watch), one test possible. */
  exact: number;
  /** Named by the namespace they are in or by their owner. */
  byNamespace: number;
  byOwner: number;
  /** The creation event was missing or late: the creationTimestamp was used. */
  fellBack: number;
  /** Several tests were possible: `createdBy` is the likeliest, `candidates` lists them. */
  guessed: number;
  /** Nobody could be named. */
  unknown: number;
  /** Extension: of `exact`, those named by their own create in the API server's record (the rest by the watch's creation event); absent when none. */
  byRecord?: number;
  /** The watch's lag as measured during the runs, in ms (upper bounds), when it was measured. */
  lagMs?: { samples: number; median: number; max: number };
}

export interface CleanupAct {
  object: ObjectRef;
  run: string;
  reason?: string;
}

export interface CleanupReport {
  dryRun: boolean;
  deleted: CleanupAct[];
  finalizersRemoved: CleanupAct[];
  left: (CleanupAct & { why: string })[];
  /** Extension: what stopped cleanup early (API server gone...); the lists above hold what was done. */
  errors?: string[];
}

/** Clusters of similar failures across tests (extension). */
export interface FailureClusterReport {
  signature: string;
  kind: FailureKind;
  example: string;
  tests: TestId[];
  count: number;
}

/** Extension: how one package reached a control plane during the hunt. */
export interface PackageControlPlane {
  /** The package folder, relative to the hunt's folder ("./internal/controller"). */
  package: string;
  /** envtest: it started its own control plane (kubeflake watched inside it); cluster: it used kubeflake's. */
  mode: 'envtest' | 'cluster';
  runs: string[];
  /** envtest control planes it started over all runs. */
  instances: number;
  /**
   * Extension: the evidence kubeflake had of this package's requests. `record`: the API server's
   * audit log (runs/<id>/audit.jsonl, or each envtest instance's), in at least one run; `watch`:
   * the watch and snapshots, always. An existing cluster has no record: `["watch"]`.
   */
  evidence?: ('record' | 'watch')[];
}

export interface Report {
  schema: 'kubeflake/report@1';
  command: string;
  framework: Framework;
  cluster: ClusterKind;
  runs: RunReport[];
  tests: TestReport[];
  leaks: LeakReport[];
  cleanup: CleanupReport;
  verdict: 'clean' | 'findings' | 'error';
  /** Extensions. */
  version?: string;
  generatedAt?: string;
  errors?: string[];
  /** Extension: what the reader should know that is no error (probing stopped at the probe-time budget). */
  notes?: string[];
  failureClusters?: FailureClusterReport[];
  /** Reports that were damaged (not well-formed, cut short) across all runs; absent when none was. */
  damage?: DamageReport;
  /** How the leaks of every run were attributed (fallbacks and guesses counted). */
  attribution?: AttributionSummary;
  /** Extension: which mode each package ran in (its own envtest control plane, or kubeflake's cluster). */
  controlPlanes?: PackageControlPlane[];
  /** Extension: latent hazards found in the API server's record (pairs of specs meeting on one object name), with their windows, margins and probes. */
  hazards?: HazardReport[];
  /**
   * Extension: the run after which kubeflake let the cluster it provided go (`cluster` names it),
   * because every package had started its own envtest: the later runs had no shared cluster.
   */
  clusterReleasedAfter?: string;
  /** Extension: every planned run was an infrastructure run: the first one's cause. No test was judged. */
  neverRan?: string;
  /** Extension: the specs the change under test (a pull request, or changed-since) adds or changes, and how hard they were tried. */
  changed?: ChangeReport;
}

/** Extension: a spec the change adds or changes, and where the change reaches it. */
export interface ChangedSpecReport {
  test: TestId;
  change: 'new' | 'changed';
  why: string;
}

/** Extension: the change under test and the extra runs its specs got. */
export interface ChangeReport {
  /** The ref given (a pull request's base SHA, or changed-since) and the commit diffed against. */
  since: string;
  base?: string;
  specs: ChangedSpecReport[];
  /** Runs focused on the changed specs' packages, beyond `runs`. */
  runs: number;
  /** Directed pair runs with specs that touch the same object names. */
  pairs: number;
  /** "3 changed specs: 10 runs each, 6 directed pairs, all passed". */
  summary: string;
  /** What limited the look (no record of the runs: pairs from leaks and failures; a shallow history...). */
  notes?: string[];
}

/** Damaged reports across a hunt: "3 reports were damaged; 2 test cases could not be recovered". */
export interface DamageReport {
  reports: number;
  /** Test cases the damaged reports began that could not be recovered. */
  lost: number;
  /** Reports that end early (a killed run): their later cases are unknown, so `lost` is a floor. */
  cut: number;
  files: { run: string; file: string; repairs: number; lost: number; cut: boolean; first?: string }[];
}
