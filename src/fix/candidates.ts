// Which verdicts get a fix tried (pure): an order dependence with a confirmed polluter, a victim
// failure class the catalogue has an entry for, and the object that stood in the way named (by
// the victim's failure message, or by the leak that links the pair). A confirmed polluter that no
// object links is a candidate for the Go variable the two share instead (src/fix/sharedvar.ts).

import { isAbsolute, join } from 'node:path';
import type { FailureKind, ProbePlan, ProbeRate, Report, TestId } from '../model.ts';
import { extractObjectRefs } from '../analysis/taxonomy.ts';
import { catalogueEntryFor, sharedVariableEntry, type CatalogueEntry } from './catalogue.ts';

export interface FixCandidate {
  victim: TestId;
  polluter: TestId;
  /** The polluter's leaf location, absolute in the user's tree. */
  polluterFile: string;
  polluterLine: number;
  object: { type: string; name: string };
  entry: CatalogueEntry;
  /** The hunt's pair probes of polluter then victim: the unpatched rate, when it ran any. */
  before?: ProbeRate;
  /** The pair to rerun: the focus and the seed that keeps polluter before victim. */
  plan: ProbePlan;
  /** How many pair runs confirmed it (the patched pair runs at least as many). */
  confirmation: number;
}

export interface NoCandidate {
  victim: TestId;
  polluter: TestId;
  kind: CatalogueEntry['kind'];
  object?: { type: string; name: string };
  reason: string;
}

/** The fixes to try for a report, from its verdicts and the probes the hunt ran (`root`: the repository root the report's paths are relative to). */
export function fixCandidates(report: Report, probes: readonly ProbePlan[], root: string): { candidates: FixCandidate[]; skipped: NoCandidate[] } {
  const candidates: FixCandidate[] = [];
  const skipped: NoCandidate[] = [];
  const byId = new Map(report.tests.map((test) => [test.id, test]));
  for (const victim of report.tests) {
    if (victim.verdict !== 'order-dependent') continue;
    const entry = catalogueEntryFor(victim.failureKinds);
    if (!entry) continue;
    for (const polluter of victim.polluters.filter((p) => p.confirmed)) {
      const object = objectInTheWay(report, victim.failures ?? [], entry.classes, polluter.via);
      const source = byId.get(polluter.test);
      const skip = (reason: string): void => {
        skipped.push({ victim: victim.id, polluter: polluter.test, kind: entry.kind, ...(object ? { object } : {}), reason });
      };
      if (!object) {
        skip('the victim\'s failure names no object, and no leak links the pair');
        continue;
      }
      if (!source?.file || !source.line) {
        skip('the polluter\'s report gives no source location (Ginkgo JSON does)');
        continue;
      }
      const pairProbes = probes.filter((plan) => plan.purpose === 'polluter' && plan.subject === victim.id && plan.tests.includes(polluter.test));
      const plan = pairProbes[pairProbes.length - 1] ?? pairFromRuns(report, victim.id, polluter.test);
      if (!plan) {
        skip('no run ran the polluter before the victim, so there is no pair to rerun');
        continue;
      }
      candidates.push({
        victim: victim.id,
        polluter: polluter.test,
        polluterFile: isAbsolute(source.file) ? source.file : join(root, source.file),
        polluterLine: source.line,
        object,
        entry,
        ...(polluter.after && polluter.after.runs > 0 ? { before: polluter.after } : {}),
        plan,
        confirmation: Math.max(pairProbes.length, 1),
      });
      break;
    }
  }
  return { candidates, skipped };
}

function objectInTheWay(report: Report, failures: readonly { kind: FailureKind; message: string }[], classes: readonly FailureKind[], via: readonly number[]): { type: string; name: string } | undefined {
  for (const failure of failures) {
    if (!classes.includes(failure.kind)) continue;
    const named = extractObjectRefs(failure.message).find((ref) => ref.type !== 'namespaces');
    if (named) return { type: named.type, name: named.name };
  }
  for (const index of via) {
    const leak = report.leaks[index];
    if (leak) return { type: leak.resource ?? leak.kind, name: leak.name };
  }
  return undefined;
}

/** A pair plan from a failing run where the polluter ran before the victim: its seed keeps that order under focus. */
function pairFromRuns(report: Report, victim: TestId, polluter: TestId): ProbePlan | undefined {
  const run = report.runs.find((r) => r.failed.includes(victim) && r.order.indexOf(polluter) >= 0 && r.order.indexOf(polluter) < r.order.indexOf(victim));
  if (!run) return undefined;
  return {
    purpose: 'polluter',
    subject: victim,
    tests: [polluter, victim],
    seed: run.seed,
    expectedOrder: [polluter, victim],
    hypothesis: `${polluter} then ${victim} fails as in run ${run.id}`,
  };
}

/** A confirmed polluter that links to its victim through no object: the Go source may show a shared variable. */
export interface SharedVariableCandidate extends Omit<FixCandidate, 'object'> {
  /** The victim's leaf location, absolute in the user's tree. */
  victimFile: string;
  victimLine: number;
}

/**
 * The pairs to look for a shared variable in: a confirmed polluter with no leak, no record link,
 * and a victim whose failures name no object. The first such polluter of each victim.
 */
export function sharedVariableCandidates(report: Report, probes: readonly ProbePlan[], root: string): SharedVariableCandidate[] {
  const out: SharedVariableCandidate[] = [];
  const byId = new Map(report.tests.map((test) => [test.id, test]));
  const absolute = (file: string) => (isAbsolute(file) ? file : join(root, file));
  for (const victim of report.tests) {
    if (victim.verdict !== 'order-dependent' || !victim.file || !victim.line) continue;
    if ((victim.failures ?? []).some((failure) => extractObjectRefs(failure.message).some((ref) => ref.type !== 'namespaces'))) continue;
    for (const polluter of victim.polluters.filter((p) => p.confirmed && p.via.length === 0 && !p.link)) {
      const source = byId.get(polluter.test);
      if (!source?.file || !source.line) continue;
      const pairProbes = probes.filter((plan) => plan.purpose === 'polluter' && plan.subject === victim.id && plan.tests.includes(polluter.test));
      const plan = pairProbes[pairProbes.length - 1] ?? pairFromRuns(report, victim.id, polluter.test);
      if (!plan) continue;
      out.push({
        victim: victim.id,
        polluter: polluter.test,
        polluterFile: absolute(source.file),
        polluterLine: source.line,
        victimFile: absolute(victim.file),
        victimLine: victim.line,
        entry: sharedVariableEntry,
        ...(polluter.after && polluter.after.runs > 0 ? { before: polluter.after } : {}),
        plan,
        confirmation: Math.max(pairProbes.length, 1),
      });
      break;
    }
  }
  return out;
}
