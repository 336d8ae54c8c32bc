// Verdicts: what each test is (stable, flaky, order-dependent, brittle, broken, skipped), with
// the evidence and one sentence on how the verdict was reached. Counts come from planned runs;
// probes only confirm or refute, and are named in `why`.

import type {
  FailureKind,
  Framework,
  LeakReport,
  PolluterReport,
  ProbePlan,
  Report,
  RunResult,
  TestFailureReport,
  TestId,
  TestReport,
  Verdict,
} from '../model.ts';
import { gatherEvidence, tally, type Evidence, type TestTally } from './evidence.ts';
import { reproduceCommand, selectionOf, type Selection } from '../frameworks/index.ts';
import { huntContext, huntFor, type Hunt, type HuntOptions } from './hunt.ts';
import type { FailureLink } from './leaks.ts';
import { classifyFailure, failureSignature, hintFor } from './taxonomy.ts';

export interface AnalysisInput extends HuntOptions {
  runs: RunResult[];
  framework?: Framework;
  /** The user's test command, for reproduce lines; defaults to the latest planned run's command. */
  command?: string[];
  leaks?: LeakReport[];
  links?: FailureLink[];
}

const VERDICT_ORDER: Verdict[] = ['order-dependent', 'brittle', 'broken', 'flaky', 'stable', 'skipped'];
/** Unconfirmed polluter suspects are listed only above this order score. */
const SUSPECT_SCORE = 0.5;

/** One TestReport per test seen in a planned run, findings first. */
export function analyze(input: AnalysisInput): TestReport[] {
  const evidence = gatherEvidence(input.runs);
  const leaks = input.leaks ?? [];
  const ctx = huntContext(evidence, input, leaks, input.links);
  const framework = input.framework ?? 'generic';
  const command = input.command ?? [...evidence.planned].reverse()[0]?.run.command ?? [];
  const reports: TestReport[] = [];
  for (const [id, c] of evidence.tests) {
    const t = tally(evidence, id);
    const hunt = t.failed > 0 ? huntFor(ctx, id) : undefined;
    const verdict = decideVerdict(t, hunt);
    const failures = failuresOf(evidence, id);
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
      cleaners: hunt && verdict === 'order-dependent' ? hunt.cleaners.map((cl) => cl.test) : [],
      stateSetters: hunt && verdict === 'brittle' ? hunt.setters.map((s) => s.test) : [],
      reproduce: '',
      failures,
      why: readable(evidence, explain(evidence, id, t, verdict, hunt, leaks)),
    };
    const kind = report.failureKinds[0];
    if (kind) report.hint = hintFor(kind);
    const selection = reproduction(evidence, id, verdict, hunt);
    if (selection && command.length > 0) {
      report.reproduce = reproduceCommand(framework, command, 'purpose' in selection ? selectionOf(selection, evidence.tests) : selection);
    }
    reports.push(report);
  }
  return reports.sort((a, b) => VERDICT_ORDER.indexOf(a.verdict) - VERDICT_ORDER.indexOf(b.verdict));
}

/** The report's overall verdict: findings win; without findings, errors (or no tests at all) mean no clean bill. */
export function reportVerdict(tests: Pick<TestReport, 'verdict'>[], errors: readonly string[] = []): Report['verdict'] {
  if (tests.some((t) => t.verdict !== 'stable' && t.verdict !== 'skipped')) return 'findings';
  if (errors.length > 0 || tests.length === 0) return 'error';
  return 'clean';
}

function decideVerdict(t: TestTally, hunt: Hunt | undefined): Verdict {
  if (t.passed + t.failed === 0) return 'skipped';
  if (t.failed === 0) return t.retried.length > 0 ? 'flaky' : 'stable';
  // Probes that contradicted each other, proved nothing, or proved too little: no order verdict.
  if (hunt && (hunt.inconsistent || hunt.inconclusive || hunt.weak)) return t.passed === 0 && hunt.alone?.status !== 'passed' ? 'broken' : 'flaky';
  // Confirmed by probes, and every planned failure (or pass) explained by the confirmed tests.
  if (hunt?.alone?.status === 'passed' && hunt.polluters.length > 0 && hunt.unexplainedFailures.length === 0 && hunt.unexplainedPasses.length === 0) {
    return 'order-dependent';
  }
  if (t.passed > 0 && hunt?.alone?.status === 'failed' && hunt.setters.length > 0 && hunt.unexplainedPasses.length === 0) return 'brittle';
  if (t.passed === 0 && hunt?.alone?.status !== 'passed') return 'broken';
  return 'flaky';
}

function pollutersOf(hunt: Hunt, verdict: Verdict): PolluterReport[] {
  const via = (test: TestId): number[] => hunt.leakLinks.get(test) ?? [];
  if (verdict === 'order-dependent') {
    const seen = new Set<TestId>();
    const out: PolluterReport[] = [];
    for (const p of hunt.polluters) {
      for (const test of p.tests) {
        if (seen.has(test)) continue;
        seen.add(test);
        out.push({ test, confirmed: true, via: via(test) });
      }
    }
    return out;
  }
  // A flaky test whose hunt never reached its suspects may name them, unconfirmed; a test the
  // probes cleared (alone failed, or contradicting probes) names none.
  if (verdict !== 'flaky' || hunt.shape !== 'mixed' || hunt.inconsistent || hunt.alone?.status === 'failed') return [];
  const refuted = new Set(hunt.refutedPolluters.map((r) => r.test));
  return hunt.polluterCandidates
    .filter((c) => c.score >= SUSPECT_SCORE && !refuted.has(c.test))
    .slice(0, 3)
    .map((c) => ({ test: c.test, confirmed: false, via: via(c.test) }));
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

/** What to run to see the failure again: the probe that showed it, or the seed of a failing run. */
function reproduction(evidence: Evidence, id: TestId, verdict: Verdict, hunt: Hunt | undefined): ProbePlan | Selection | undefined {
  const latestFailing = [...evidence.planned].reverse().find((v) => v.cases.get(id)?.status === 'failed');
  const testCase = evidence.tests.get(id);
  switch (verdict) {
    case 'order-dependent':
      return hunt?.polluters[0]?.plan;
    case 'brittle':
      return hunt?.alone?.plan;
    case 'broken':
      if (hunt?.alone) return hunt.alone.plan;
      return latestFailing && testCase ? { seed: latestFailing.run.seed, tests: [testCase] } : undefined;
    case 'flaky':
      return latestFailing ? { seed: latestFailing.run.seed } : undefined;
    default:
      return undefined;
  }
}

function explain(evidence: Evidence, id: TestId, t: TestTally, verdict: Verdict, hunt: Hunt | undefined, leaks: readonly LeakReport[]): string {
  const n = evidence.planned.length;
  const ran = t.passed + t.failed;
  const missing = t.missing > 0 ? `; no result in ${t.missing} run${plural(t.missing)} (crashed or timed out before it)` : '';
  switch (verdict) {
    case 'skipped':
      return `skipped in every run it appeared in${missing}`;
    case 'stable':
      return `passed in ${t.passed}/${ran} runs${missing}`;
    case 'broken': {
      const alone = hunt?.alone ? `; alone it failed too in ${hunt.alone.run}` : '; not checked alone';
      return `failed in all ${t.failed} runs it ran in${alone}${missing}`;
    }
    case 'order-dependent': {
      const h = hunt as Hunt;
      const parts = [`failed in ${t.failed}/${ran} runs${afterWhom(h)}`];
      for (const p of h.polluters) parts.push(`${p.tests.join(' + ')} then ${id} failed in ${p.probes.join(' and ')}`);
      if (h.alone) parts.push(`alone it passed in ${h.alone.runs.join(' and ')}`);
      for (const c of h.cleaners) parts.push(`with ${c.test} between ${c.polluter} and it, it passed in ${c.probe}`);
      for (const p of h.polluters.flatMap((x) => x.tests)) {
        const objects = (h.leakLinks.get(p) ?? []).map((i) => leaks[i]).filter((l) => l !== undefined);
        if (objects.length === 0) continue;
        const names = objects.map((l) => `${l.kind} ${l.namespace ? `${l.namespace}/` : ''}${l.name}`).join(', ');
        parts.push(`its failure names ${names}, which ${p} ${objects.some((l) => l.createdBy === p) ? 'left behind' : 'deleted'}`);
      }
      return parts.join('; ') + missing;
    }
    case 'brittle': {
      const h = hunt as Hunt;
      const s = h.setters[0];
      const parts = [`passed in ${t.passed}/${ran} runs${s ? `, ${setterSupport(h, s.test)}` : ''}`];
      if (h.alone) parts.push(`alone it failed in ${h.alone.runs.join(' and ')}`);
      if (s) parts.push(`${s.test} then ${id} passed in ${s.probes.join(' and ')}`);
      return parts.join('; ') + missing;
    }
    case 'flaky': {
      if (t.failed === 0) return `passed in all ${t.passed} runs, but only after a retry in ${t.retried.join(', ')}${missing}`;
      const head = t.passed === 0 ? `failed in all ${t.failed} runs it ran in` : `failed in ${t.failed}/${ran} runs`;
      return `${head}; ${flakyReason(hunt)}${missing}`;
    }
  }
}

function flakyReason(hunt: Hunt | undefined): string {
  if (!hunt) return 'no order explains it';
  if (hunt.inconsistent) return `probes disagreed (${hunt.inconsistent}), so no order explains it`;
  if (hunt.weak) return `probes agreed with an order, but too few to rule out a plain flake (${hunt.weak})`;
  if (hunt.inconclusive) return `a probe was inconclusive (${hunt.inconclusive}), so nothing is confirmed`;
  if (hunt.passedFirst) return `it failed alone in ${hunt.alone?.run}, yet passed in run ${hunt.passedFirst} where it ran first, so no order explains it`;
  if (hunt.failedFirst) return `it failed in run ${hunt.failedFirst} where it ran first, so no test before it explains that`;
  if (hunt.polluters.length > 0 && hunt.unexplainedFailures.length > 0) {
    const p = hunt.polluters.map((x) => x.tests.join(' + ')).join(', ');
    return `${p} pollutes it (confirmed in ${hunt.polluters.flatMap((x) => x.probes).join(', ')}), but it also failed without it in ${hunt.unexplainedFailures.join(', ')}`;
  }
  if (hunt.polluters.length > 0 && hunt.unexplainedPasses.length > 0) {
    const p = hunt.polluters.map((x) => x.tests.join(' + ')).join(', ');
    return `${p} then it failed in ${hunt.polluters.flatMap((x) => x.probes).join(', ')}, but it also passed after ${p} with no confirmed cleaner between in ${hunt.unexplainedPasses.join(', ')}`;
  }
  if (hunt.setters.length > 0 && hunt.unexplainedPasses.length > 0) {
    return `${hunt.setters[0]?.test} sets up state it needs, but it also passed without it in ${hunt.unexplainedPasses.join(', ')}`;
  }
  if (hunt.next && hunt.alone) return `probes so far agree with an order, but the hunt stopped before anything was confirmed (probe budget spent?)`;
  if (hunt.alone?.status === 'passed') {
    const refuted = hunt.refutedPolluters.map((r) => `${r.test} then it passed in ${r.run}`);
    const bisect = hunt.bisect ? `bisecting run ${hunt.bisect.run} found no polluter in ${hunt.bisect.tried} probes` : '';
    const tried = [...refuted, ...(bisect ? [bisect] : [])];
    return `alone it passed in ${hunt.alone.run}, but no polluter was confirmed${tried.length ? ` (${tried.join('; ')})` : ''}`;
  }
  if (hunt.alone?.status === 'failed') {
    const refuted = hunt.refutedSetters.map((r) => `${r.test} then it failed in ${r.run}`);
    return `it failed alone in ${hunt.alone.run} too, and no state-setter was confirmed${refuted.length ? ` (${refuted.join('; ')})` : ''}`;
  }
  if (hunt.polluterCandidates.length === 0 && hunt.setterCandidates.length === 0) {
    return 'no test ran before it more often when it failed than when it passed, so no order explains it';
  }
  return 'not probed (probe budget spent, or the command cannot run single tests), so no order is confirmed';
}

/** An order-dependent verdict means every failure had a confirmed polluter before it. */
function afterWhom(h: Hunt): string {
  const groups = h.polluters.map((p) => p.tests.join(' and '));
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
