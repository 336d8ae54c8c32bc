// Verdicts: what each test is (stable, flaky, order-dependent, brittle, broken, skipped), with
// the evidence and one sentence on how the verdict was reached. Counts come from planned runs;
// probes only confirm or refute, and are counted in `why` (renderers list them by subject).

import type {
  FailureKind,
  Framework,
  HazardReport,
  LeakReport,
  PolluterReport,
  ProbePlan,
  ProbeRate,
  Report,
  RunResult,
  TestFailureReport,
  TestId,
  TestReport,
  Verdict,
  RecordLink,
} from '../model.ts';
import type { PlacedRecord } from '../record/links.ts';
import { recordObjectName } from '../record/links.ts';
import { VERDICTS } from '../verdict-table.ts';
import { gatherEvidence, tally, type Evidence, type TestTally } from './evidence.ts';
import { reproduceCommand, selectionOf, type Selection } from '../frameworks/index.ts';
import { huntContext, replayHunts, type Hunt, type HuntOptions, type Suspect, type Tally } from './hunt.ts';
import { triesFor } from './chance.ts';
import { huntHazards } from './hazards.ts';
import { classifyFailure, failureSignature, hintFor } from './taxonomy.ts';

/** The runs and leaks of a hunt, and the options it ran with (the same record planProbes was given, spread in). */
export interface AnalysisInput extends Partial<HuntOptions> {
  runs: RunResult[];
  framework?: Framework;
  /** The user's test command, for reproduce lines; defaults to the latest planned run's command. */
  command?: string[];
  leaks?: LeakReport[];
  /** The API server's record of each run that has one: links failures to the objects' histories. */
  records?: readonly PlacedRecord[];
}

/** Unconfirmed polluter suspects are listed only above this order score. */
const SUSPECT_SCORE = 0.5;

/** One TestReport per test seen in a planned run, findings first. */
export function analyze(input: AnalysisInput): TestReport[] {
  const evidence = gatherEvidence(input.runs);
  const leaks = input.leaks ?? [];
  const hunts = replayHunts(huntContext(evidence, input, leaks, input.records));
  const framework = input.framework ?? 'generic';
  const command = input.command ?? [...evidence.planned].reverse()[0]?.run.command ?? [];
  const reports: TestReport[] = [];
  for (const [id, c] of evidence.tests) {
    const t = tally(evidence, id);
    const hunt = hunts.get(id);
    const verdict = decideVerdict(t, hunt);
    const failures = failuresOf(evidence, id);
    const outcome = hunt?.outcome;
    const report: TestReport = {
      id,
      name: c.name,
      suite: c.suite,
      file: c.file ?? '',
      line: c.line ?? 0,
      verdict,
      passed: t.passed,
      failed: t.failed,
      failureKinds: kindsByFrequency(failures),
      polluters: hunt ? pollutersOf(hunt, verdict) : [],
      cleaners: outcome?.kind === 'polluted' && verdict === 'order-dependent' ? outcome.cleaners.map((cl) => cl.test) : [],
      stateSetters: outcome?.kind === 'needs-setter' && verdict === 'brittle' ? outcome.setters.flatMap((s) => s.tests) : [],
      reproduce: '',
      failures,
    };
    if (hunt?.alone) report.alone = rateOf(hunt.alone.tally);
    const kind = report.failureKinds[0];
    if (kind) report.hint = hintFor(kind);
    const reproduction = reproductionOf(evidence, id, t, verdict, hunt);
    if (reproduction && command.length > 0) {
      const selection = reproduction.selection;
      report.reproduce = reproduceCommand(framework, command, 'purpose' in selection ? selectionOf(selection, evidence.tests) : selection);
      // A rate of zero gives no count of tries (the record proved a race nothing here repeated).
      if (Number.isFinite(reproduction.tries)) report.reproduceTries = reproduction.tries;
    }
    const tries = report.reproduceTries && report.reproduceTries > 1 ? `; its reproduce command may need ${report.reproduceTries} tries (${reproduction?.rate})` : '';
    report.why = readable(evidence, explain(evidence, id, t, verdict, hunt, leaks) + tries);
    reports.push(report);
  }
  return reports.sort((a, b) => VERDICTS[a.verdict].rank - VERDICTS[b.verdict].rank);
}

/** The latent hazards the record shows, with the probes spent on them: Report.hazards. */
export function analyzeHazards(input: AnalysisInput): HazardReport[] {
  if (!input.records?.length) return [];
  return huntHazards(huntContext(gatherEvidence(input.runs), input, input.leaks ?? [], input.records)).map((h) => h.report);
}

/** The report's overall verdict: findings win (a hazard that fired is one); without findings, errors (or no tests at all) mean no clean bill. */
export function reportVerdict(tests: Pick<TestReport, 'verdict'>[], errors: readonly string[] = [], hazards: readonly Pick<HazardReport, 'outcome'>[] = []): Report['verdict'] {
  if (tests.some((t) => VERDICTS[t.verdict].finding)) return 'findings';
  if (hazards.some((h) => h.outcome === 'fired')) return 'findings';
  if (errors.length > 0 || tests.length === 0) return 'error';
  return 'clean';
}

function decideVerdict(t: TestTally, hunt: Hunt | undefined): Verdict {
  if (t.passed + t.failed === 0) return 'skipped';
  if (t.failed === 0) return t.retried.length > 0 ? 'flaky' : 'stable';
  const outcome = hunt?.outcome;
  switch (outcome?.kind) {
    case 'broken':
      return 'broken';
    // Confirmed by probes, and every planned failure had a confirmed polluter before it. A pass
    // after a polluter with no cleaner between is its rate (a race), not a doubt: the probes
    // already ruled out a plain flake.
    case 'polluted':
      return outcome.unexplainedFailures.length === 0 && !outcome.failedAlone?.length ? 'order-dependent' : 'flaky';
    case 'needs-setter':
      return outcome.unexplainedPasses.length === 0 ? 'brittle' : 'flaky';
    default:
      // Broken is a claim about the test by itself. A test that failed every run but was never
      // checked alone (budget, or a command that cannot run one test) may be the victim of a test
      // that ran before it every time, so it gets the verdict that claims no cause, and its
      // sentence says it was not checked alone.
      return 'flaky';
  }
}

function pollutersOf(hunt: Hunt, verdict: Verdict): PolluterReport[] {
  const via = (test: TestId): number[] => hunt.leakLinks.get(test) ?? [];
  const outcome = hunt.outcome;
  const out: PolluterReport[] = [];
  const add = (test: TestId, confirmed: boolean, after?: Tally, record?: RecordLink): void => {
    if (out.some((p) => p.test === test)) return;
    const report: PolluterReport = { test, confirmed, via: via(test) };
    if (after && after.failed.length + after.passed.length > 0) report.after = rateOf(after);
    if (confirmed) report.decidedBy = record ? 'record' : 'probes';
    if (record) report.link = record;
    out.push(report);
  };
  if (outcome.kind === 'polluted') for (const p of outcome.polluters) for (const test of p.tests) add(test, true, p.after, p.record);
  if (verdict !== 'flaky') return out;
  // A flaky test whose hunt never reached a conclusion may name its suspects, unconfirmed; a test
  // the probes cleared (it fails by itself, or every candidate was refuted) names none.
  if (outcome.kind === 'plain-flake' || outcome.kind === 'cleared' || outcome.kind === 'needs-setter') return out;
  const suspect = 'suspect' in outcome ? outcome.suspect : undefined;
  if (suspect?.role === 'polluter') for (const test of suspect.tests) add(test, false, suspect.after);
  if (hunt.shape !== 'mixed') return out;
  const refuted = new Set(hunt.refuted.map((r) => r.test));
  for (const c of hunt.polluterCandidates) {
    if (out.length >= 3) break;
    if (c.score >= SUSPECT_SCORE && !refuted.has(c.test)) add(c.test, false);
  }
  return out;
}

function rateOf(tally: Tally): ProbeRate {
  return { failed: tally.failed.length, runs: tally.failed.length + tally.passed.length };
}

function failuresOf(evidence: Evidence, id: TestId): TestFailureReport[] {
  const out: TestFailureReport[] = [];
  for (const view of [...evidence.planned, ...evidence.probes]) {
    const c = view.cases.get(id);
    if (!c) continue;
    const attempts = [...(c.retries ?? []), ...(c.status === 'failed' ? [{ status: c.status, failure: c.failure }] : [])];
    for (const attempt of attempts) {
      if (attempt.status !== 'failed') continue;
      const f = attempt.failure;
      const message = f?.message || firstLine(f?.text) || '(the report gave no failure message)';
      const failure: TestFailureReport = {
        run: view.run.id,
        kind: f ? classifyFailure(f) : 'Unknown',
        message,
        signature: failureSignature(message),
      };
      if (f?.location) failure.location = f.location;
      out.push(failure);
    }
  }
  return out;
}

function kindsByFrequency(failures: TestFailureReport[]): FailureKind[] {
  const counts = new Map<FailureKind, number>();
  for (const f of failures) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

/**
 * What to run to see the failure again (the probe that showed it, or the seed of a failing run),
 * and how many tries that takes for a 95% chance, from the rate it failed at.
 */
function reproductionOf(
  evidence: Evidence,
  id: TestId,
  t: TestTally,
  verdict: Verdict,
  hunt: Hunt | undefined,
): { selection: ProbePlan | Selection; tries: number; rate: string } | undefined {
  const latestFailing = [...evidence.planned].reverse().find((v) => v.cases.get(id)?.status === 'failed');
  const testCase = evidence.tests.get(id);
  const outcome = hunt?.outcome;
  const at = (rate: ProbeRate, where: string) => ({ tries: triesFor(rate.failed / Math.max(1, rate.runs)), rate: `it failed ${rate.failed} of ${rate.runs} ${where}` });
  switch (verdict) {
    case 'order-dependent': {
      const polluter = outcome?.kind === 'polluted' ? outcome.polluters[0] : undefined;
      if (!polluter) return undefined;
      const measured = rateOf(polluter.after);
      // A polluter the record proved before any probe measured it: the planned runs' rate after it.
      const planned = plannedRateAfter(evidence, id, polluter.tests);
      if (measured.runs === 0) return { selection: polluter.plan, ...at(planned, `of the planned runs where ${polluter.tests.join(' + ')} ran before it`) };
      // A rare race the record proved and no pair probe repeated: the planned runs and the probes together give its rate.
      if (measured.failed === 0 && planned.failed > 0) {
        return { selection: polluter.plan, ...at({ failed: planned.failed, runs: planned.runs + measured.runs }, `times after ${polluter.tests.join(' + ')} (planned runs and pair probes together)`) };
      }
      return { selection: polluter.plan, ...at(measured, `times after ${polluter.tests.join(' + ')}`) };
    }
    case 'brittle':
      return hunt?.alone && { selection: hunt.alone.plan, ...at(rateOf(hunt.alone.tally), 'times alone') };
    case 'broken':
      if (hunt?.alone) return { selection: hunt.alone.plan, ...at(rateOf(hunt.alone.tally), 'times alone') };
      return latestFailing && testCase ? { selection: { seed: latestFailing.run.seed, tests: [testCase] }, tries: 1, rate: '' } : undefined;
    case 'flaky':
      return latestFailing ? { selection: { seed: latestFailing.run.seed }, ...at({ failed: t.failed, runs: t.passed + t.failed }, 'runs') } : undefined;
    default:
      return undefined;
  }
}

function explain(evidence: Evidence, id: TestId, t: TestTally, verdict: Verdict, hunt: Hunt | undefined, leaks: readonly LeakReport[]): string {
  const ran = t.passed + t.failed;
  const missing = t.missing > 0 ? `; no result in ${t.missing} run${plural(t.missing)} (crashed or timed out before it)` : '';
  const outcome = hunt?.outcome;
  switch (verdict) {
    case 'skipped':
      return `skipped in every run it appeared in${missing}`;
    case 'stable':
      return `passed in ${t.passed}/${ran} runs${missing}`;
    case 'broken': {
      const how =
        outcome?.kind !== 'broken' ? '' : outcome.by === 'alone' ? `; alone it failed too in ${outcome.run}`
        : outcome.by === 'ran-first' ? `, with nothing before it in run ${outcome.run}`
        : '; the package did not compile';
      return `failed in all ${t.failed} runs it ran in${how}${missing}`;
    }
    case 'order-dependent': {
      if (outcome?.kind !== 'polluted') return `failed in ${t.failed}/${ran} runs${missing}`;
      const parts = [`failed in ${t.failed}/${ran} runs${afterWhom(outcome.polluters)}`];
      for (const p of outcome.polluters) if (p.record) parts.push(recordProof(p.record));
      for (const p of outcome.polluters) if (!p.record || p.after.failed.length + p.after.passed.length > 0) parts.push(`${p.tests.join(' + ')} then ${id} ${showed(p.after, 'failed')}`);
      if (hunt?.alone) parts.push(`alone it ${showed(hunt.alone.tally, 'passed')}`);
      for (const p of outcome.polluters) if (!alwaysShowed(p.after)) parts.push(p.record ? recordRates(p, hunt) : rates(p, hunt));
      for (const c of outcome.cleaners) parts.push(`with ${c.test} between ${c.polluter} and it, it passed in ${c.probe}`);
      if (outcome.unexplainedPasses.length > 0) {
        const groups = outcome.polluters.map((p) => p.tests.join(' and ')).join(' or ');
        parts.push(`it also passed after ${groups} with no confirmed cleaner between in ${outcome.unexplainedPasses.join(', ')}, so it does not fail every time`);
      }
      for (const p of outcome.polluters.flatMap((x) => x.tests)) {
        const objects = (hunt?.leakLinks.get(p) ?? []).map((i) => leaks[i]).filter((l) => l !== undefined);
        if (objects.length === 0) continue;
        const names = objects.map((l) => `${l.kind} ${l.namespace ? `${l.namespace}/` : ''}${l.name}`).join(', ');
        parts.push(`its failure names ${names}, which ${p} ${objects.some((l) => l.createdBy === p) ? 'left behind' : 'deleted'}`);
      }
      return parts.join('; ') + missing;
    }
    case 'brittle': {
      const s = outcome?.kind === 'needs-setter' ? outcome.setters[0] : undefined;
      const parts = [`passed in ${t.passed}/${ran} runs${s && hunt ? `, ${setterSupport(hunt, s.tests[0] ?? '')}` : ''}`];
      if (hunt?.alone) parts.push(`alone it ${showed(hunt.alone.tally, 'failed')}`);
      if (s) parts.push(`${s.tests.join(' + ')} then ${id} ${showed(s.after, 'passed')}`);
      if (s && !alwaysShowed(s.after, 'passed')) parts.push(rates(s, hunt));
      return parts.join('; ') + missing;
    }
    case 'flaky': {
      if (t.failed === 0) return `passed in all ${t.passed} runs, but only after a retry in ${t.retried.join(', ')}${missing}`;
      const head = t.passed === 0 ? `failed in all ${t.failed} runs it ran in` : `failed in ${t.failed}/${ran} runs`;
      return `${head}; ${flakyReason(hunt)}${missing}`;
    }
  }
}

/** "failed in 2 of 2 probes", for a race "failed in 3 of 5 probes": counts; the report lists the probes by subject. */
function showed(after: Tally, telling: 'passed' | 'failed'): string {
  const probes = after.failed.length + after.passed.length;
  return `${telling} in ${after[telling].length} of ${probes} ${probes === 1 ? 'probe' : 'probes'}`;
}

function inProbes(ids: readonly string[]): string {
  return `in ${ids.length} ${ids.length === 1 ? 'probe' : 'probes'}`;
}

function alwaysShowed(after: Tally, telling: 'passed' | 'failed' = 'failed'): boolean {
  return after[telling === 'failed' ? 'passed' : 'failed'].length === 0;
}

/** The measured rates of a suspect's series: "fails 3 of 5 after P, 0 of 5 alone", and how unlikely a plain flake gives them. */
function rates(s: Suspect, hunt: Hunt | undefined): string {
  const alone = hunt?.alone ? rateOf(hunt.alone.tally) : { failed: 0, runs: 0 };
  const after = rateOf(s.after);
  const verb = s.role === 'polluter' ? 'fails' : 'passes';
  const count = (r: ProbeRate): number => (s.role === 'polluter' ? r.failed : r.runs - r.failed);
  const within = s.chance <= s.bound ? 'within' : 'above';
  return `it ${verb} ${count(after)} of ${after.runs} after ${s.tests.join(' + ')}, ${count(alone)} of ${alone.runs} alone; a plain flake gives that with chance ${chanceText(s.chance)}, ${within} the bound ${chanceText(s.bound)}`;
}

/**
 * The chain the record shows, in one sentence: "the record of run 003 proves it: P deleted
 * modelcaches.cache.kubeflake.dev default/iris2, it was still terminating when its create was
 * refused 40 ms later (409 AlreadyExists), and gone 180 ms after that".
 */
export function recordProof(link: RecordLink): string {
  const object = recordObjectName(link.object);
  const refusal = `${link.refusal.verb} was refused${link.margins.deletedToRefusedMs !== undefined ? ` ${msText(link.margins.deletedToRefusedMs)} later` : ''} (${link.refusal.code}${link.refusal.reason ? ` ${link.refusal.reason}` : ''})`;
  const gone = link.margins.refusedToGoneMs !== undefined ? `, and it was gone ${msText(link.margins.refusedToGoneMs)} after that${link.goneBy === 'next-create' ? ' at the latest' : ''}` : '';
  const head = `the record of run ${link.run} proves it: ${link.polluter}`;
  switch (link.state) {
    case 'terminating':
      return `${head} deleted ${object}, it was still terminating (a finalizer pending) when its ${refusal}${gone}`;
    case 'present':
      return `${head} created ${object} and never deleted it; its ${link.refusal.verb} of that name was refused (${link.refusal.code}${link.refusal.reason ? ` ${link.refusal.reason}` : ''})`;
    case 'deleted':
      return `${head} deleted ${object}; its ${refusal} with nothing there`;
    case 'modified':
      return `${head} wrote ${object} after it read it; its ${refusal}`;
  }
}

/** The rates probes measured for a polluter the record proved: "probes: it fails 4 of 6 after P, 0 of 1 alone". */
function recordRates(s: Suspect, hunt: Hunt | undefined): string {
  const alone = hunt?.alone ? rateOf(hunt.alone.tally) : { failed: 0, runs: 0 };
  const after = rateOf(s.after);
  return `probes: it fails ${after.failed} of ${after.runs} after ${s.tests.join(' + ')}, ${alone.failed} of ${alone.runs} alone`;
}

/** Milliseconds in a sentence: "40 ms", "1.2 s". */
export function msText(ms: number): string {
  if (Math.abs(ms) >= 1000) return `${Number((ms / 1000).toPrecision(2))} s`;
  return `${Math.round(ms)} ms`;
}

/** How often the subject failed in planned runs where these tests all ran before it. */
function plannedRateAfter(evidence: Evidence, id: TestId, tests: TestId[]): ProbeRate {
  const after = evidence.planned.filter((v) => tests.every((t) => v.position?.has(t) && (v.position.get(t) ?? 0) < (v.position.get(id) ?? -1)));
  const failed = after.filter((v) => v.cases.get(id)?.status === 'failed').length;
  return { failed, runs: after.length };
}

function chanceText(p: number): string {
  return p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}

function flakyReason(hunt: Hunt | undefined): string {
  if (!hunt) return 'no order explains it';
  const outcome = hunt.outcome;
  const firstAlone = (status: 'passed' | 'failed'): string | undefined => hunt.alone?.tally[status][0];
  switch (outcome.kind) {
    case 'inconclusive':
      return `a probe was inconclusive (${outcome.reason}), so nothing is confirmed`;
    case 'plain-flake': {
      const measured = outcome.suspect ? ` (${rates(outcome.suspect, hunt)})` : '';
      switch (outcome.by) {
        case 'failed-first':
          return `it failed in run ${outcome.run} where it ran first, so no test before it explains that`;
        case 'passed-first':
          return `it failed alone in ${firstAlone('failed')}, yet passed in run ${outcome.run} where it ran first, so no order explains it`;
        case 'failed-alone':
          return outcome.suspect
            ? `it failed alone in ${outcome.run} too, with nothing before it, so a plain flake explains its failures${measured}`
            : `it failed alone in ${outcome.run} too, and no test ran before it more often when it passed, so it fails by itself`;
        case 'passed-alone':
          return `it passed alone in ${outcome.run} too, so it needs no test before it: a plain flake${measured}`;
      }
      return 'no order explains it';
    }
    case 'polluted': {
      const p = outcome.polluters.map((x) => x.tests.join(' + ')).join(', ');
      const proofs = outcome.polluters.flatMap((x) => (x.record ? [`by the record of run ${x.record.run}`] : x.after.failed.length ? [inProbes(x.after.failed)] : []));
      const without = [
        ...(outcome.unexplainedFailures.length ? [`without it in ${outcome.unexplainedFailures.join(', ')}`] : []),
        ...(outcome.failedAlone?.length ? [`alone in ${outcome.failedAlone.join(', ')}`] : []),
      ];
      const proven = outcome.polluters.filter((x) => x.record).map((x) => recordProof(x.record as RecordLink));
      return `${p} pollutes it (confirmed ${proofs.join(', ')}), but it also failed ${without.join(' and ')}${proven.length ? `; ${proven.join('; ')}` : ''}`;
    }
    case 'needs-setter':
      return `${outcome.setters[0]?.tests.join(' + ')} sets up state it needs, but it also passed without it in ${outcome.unexplainedPasses.join(', ')}`;
    case 'unconfirmed':
      return `probes agreed with an order, but too few to rule out a plain flake: ${rates(outcome.suspect, hunt)}`;
    case 'searching': {
      if (!hunt.alone) break;
      const measured = outcome.suspect ? `; so far ${rates(outcome.suspect, hunt)}` : '';
      return `probes so far agree with an order, but the hunt stopped before anything was confirmed (probe budget spent?)${measured}`;
    }
    case 'cleared': {
      const refuted = hunt.refuted.map((r) => `${r.test} then it ${r.role === 'polluter' ? 'passed' : 'failed'} ${inProbes(r.runs)}`);
      if (outcome.role === 'state-setter') {
        return `it failed alone in ${firstAlone('failed')} too, and no state-setter was confirmed${refuted.length ? ` (${refuted.join('; ')})` : ''}`;
      }
      const bisect = hunt.bisect ? [`bisecting run ${hunt.bisect.run} found no polluter in ${hunt.bisect.tried} probes`] : [];
      const tried = [...refuted, ...bisect];
      return `alone it passed in ${firstAlone('passed')}, but no polluter was confirmed${tried.length ? ` (${tried.join('; ')})` : ''}`;
    }
    case 'broken':
    case 'unprobed':
      break;
  }
  if (hunt.shape === 'all-failed') return 'not checked alone (probe budget spent, or the command cannot run single tests), so it may be broken or the victim of a test that ran before it every time';
  if (hunt.polluterCandidates.length === 0 && hunt.setterCandidates.length === 0) {
    return 'no test ran before it more often when it failed than when it passed, so no order explains it';
  }
  return 'not probed (probe budget spent, or the command cannot run single tests), so no order is confirmed';
}

/** An order-dependent verdict means every failure had a confirmed polluter before it. */
function afterWhom(polluters: Suspect[]): string {
  const groups = polluters.map((p) => p.tests.join(' and '));
  if (groups.length === 0) return '';
  return groups.length === 1 ? `, every time after ${groups[0]}` : `, each time after one of: ${groups.join('; ')}`;
}

function setterSupport(h: Hunt, setter: TestId): string {
  const c = h.setterCandidates.find((x) => x.test === setter);
  if (!c) return `after ${setter}`;
  return c.tellingPreceded === c.telling ? `every time after ${setter}` : `after ${setter} in ${c.tellingPreceded} of them`;
}

/** Test ids read as "suite :: name"; in a sentence the name is enough. */
function readable(evidence: Evidence, sentence: string): string {
  let out = sentence;
  for (const [id, c] of evidence.tests) if (id !== c.name && out.includes(id)) out = out.split(id).join(c.name);
  return out;
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
