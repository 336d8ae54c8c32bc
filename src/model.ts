// The shared vocabulary of kubeflake. Every stage reads and writes these shapes; nothing here
// does I/O. The Report at the bottom is the public JSON contract (docs/architecture.md): extend it,
// never rename a field.

export type Framework = 'ginkgo' | 'go' | 'generic';
export type ClusterKind = 'kind' | 'local' | 'existing';

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
  /**
   * Extension: what go test printed for each package in `unbuilt` (the compiler's errors, capped).
   * No report file exists for them: ingestion reads each as a failed TestMain from this record.
   */
  buildFailures?: { importPath: string; output: string }[];
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
  purpose: 'polluter' | 'alone' | 'cleaner' | 'state-setter' | 'bisect';
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
  /** Extension: the fix written at a confirmed polluter's line and proven by rerunning the pair (src/fix/), or why none is offered. */
  fix?: FixReport;
}

/** Extension: the catalogue's fixes (src/fix/catalogue.ts): one per failure class. */
export type FixKind = 'wait-after-delete';

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
   * Extension: what named `createdBy`: its creation event seen by the watch, the namespace it is
   * in (made by that test during the run), its owner, or only its creationTimestamp (the watch
   * missed the creation; one-second resolution: a fallback).
   */
  evidence?: 'watch' | 'namespace' | 'owner' | 'creation-time' | 'record';
  /** Extension: every test that may have made it when the evidence does not decide; `createdBy` is then the likeliest ("probably"). */
  candidates?: TestId[];
  /**
   * Extension: the create request in the API server's record that named `createdBy` (evidence
   * "record", or "owner" when it is the owner's create): the server time it was received, and
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
  failureClusters?: FailureClusterReport[];
  /** Reports that were damaged (not well-formed, cut short) across all runs; absent when none was. */
  damage?: DamageReport;
  /** How the leaks of every run were attributed (fallbacks and guesses counted). */
  attribution?: AttributionSummary;
  /** Extension: which mode each package ran in (its own envtest control plane, or kubeflake's cluster). */
  controlPlanes?: PackageControlPlane[];
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
