// The example suite's answer key (examples/modelcache/ground-truth.json) against a Report:
// every planted role named as planted, and nothing else called a finding. Leaks are judged run by
// run: each run's attribution must name the planted spec on its own, not most runs. Pure.

import type { LeakReport, Report, TestReport, Verdict } from '../../src/model.ts';
import { isFindingVerdict } from '../../src/verdict-table.ts';

export interface TruthObject {
  apiVersion: string;
  kind: string;
  name?: string;
  namePattern?: string;
  namespace?: string;
  namespacePattern?: string;
}

export interface TruthSpec {
  name: string;
  id: string;
  role: 'clean' | 'polluter' | 'victim' | 'cleaner' | 'state-setter' | 'brittle' | 'leaker' | 'timing-flake' | 'broken';
  verdict: Verdict;
  fixedVerdict: Verdict;
  polluters?: string[];
  cleaners?: string[];
  stateSetters?: string[];
  /** `when` on a leak: it is left only in some runs (a race), so a hunt may not see it at all. */
  leaks?: (TruthObject & { terminating?: boolean; finalizers?: string[]; when?: string })[];
  /**
   * A victim fails when one of `after` ran before it with none of `unlessBetween` between; a race
   * only at about `rate`, a transient one only within `withinMs` of the polluter's end.
   */
  failsWhen?: { after?: string[]; unlessBetween?: string[]; rate?: number; withinMs?: number };
  /** A polluter whose object is held past its end and gone before the run ends: never a leak, only the record shows it. */
  transient?: (TruthObject & { heldMs?: number; finalizers?: string[] })[];
  /** A victim that only a latent hazard threatens: stable, and reported among the hazards with its polluter. */
  hazard?: boolean;
  /** The object a victim's failure names. */
  via?: TruthObject;
}

export interface GroundTruth {
  suite: string;
  specs: TruthSpec[];
}

export interface GroundTruthCheck {
  ok: boolean;
  mismatches: number;
  /** One line per planted role: "ok ..." or "MISMATCH ...". */
  lines: string[];
}

export function compareWithGroundTruth(report: Report, truth: GroundTruth, options: { fixed: boolean }): GroundTruthCheck {
  const lines: string[] = [];
  let mismatches = 0;
  const check = (ok: boolean, line: string) => {
    lines.push(`${ok ? 'ok      ' : 'MISMATCH'} ${line}`);
    if (!ok) mismatches += 1;
  };
  const byName = new Map(report.tests.map((test) => [test.name, test]));
  const testName = namesIn(report);
  const idOf = (name: string) => truth.specs.find((spec) => spec.name === name)?.id ?? name;

  for (const spec of truth.specs) {
    const test = byName.get(spec.name);
    if (!test) {
      check(false, `${spec.name}: not in the report`);
      continue;
    }
    const expected = options.fixed ? spec.fixedVerdict : spec.verdict;
    if (options.fixed || spec.role === 'clean' || spec.role === 'polluter' || spec.role === 'cleaner' || spec.role === 'state-setter' || spec.role === 'leaker') {
      check(test.verdict === expected, `${spec.name}: ${test.verdict}${test.verdict === expected ? '' : ` (expected ${expected})`}`);
      if (!options.fixed && (spec.role === 'leaker' || spec.role === 'polluter')) checkLeaks(spec, test, report, check);
      continue;
    }
    switch (spec.role) {
      case 'timing-flake':
        // It fires in some runs only: flaky when it did, stable when it never failed.
        check(test.verdict === 'flaky' || (test.verdict === 'stable' && test.failed === 0),
          `${spec.name}: ${test.verdict} after ${test.failed} failure(s) (a timing flake: flaky when it fired)`);
        break;
      case 'broken':
        check(test.verdict === 'broken', `${spec.name}: ${test.verdict} (expected broken)`);
        break;
      case 'victim': {
        if (spec.hazard && test.failed === 0) {
          checkHazard(spec, test, report, idOf, check);
          break;
        }
        const exposed = report.runs.filter((run) => !run.probe && exposes(run.order, test.id, spec, idOf));
        if (test.failed === 0 && exposed.length === 0) {
          // No run put it after its polluter without a cleaner between (random orders do, about one
          // run in three): no hunt can see it, and it must not be called anything but stable.
          check(test.verdict === 'stable', `${spec.name}: ${test.verdict}, no run placed it after its polluter without a cleaner between`);
          break;
        }
        if (spec.failsWhen?.rate !== undefined && test.failed === 0) {
          // A race that never fired in these runs: no hunt can see it; the runs say how often it could have.
          check(test.verdict === 'stable', `${spec.name}: ${test.verdict}, did not fire in ${exposed.length} run(s) that placed it after its polluter (a race: fails in about ${Math.round(spec.failsWhen.rate * 100)}% of them)`);
          break;
        }
        const polluters = (spec.polluters ?? []).map(idOf);
        const confirmed = polluters.every((id) => test.polluters.some((p) => p.test === id && p.confirmed));
        check(test.verdict === 'order-dependent' && confirmed,
          `${spec.name}: ${test.verdict}, polluters [${test.polluters.map((p) => `${testName(p.test)}${p.confirmed ? ' (confirmed)' : ''}`).join(', ')}]`);
        // An object its polluter leaves behind links them as a leak; a transient one (gone before the run ends) only by the record of a failing run.
        const leaked = !spec.via || truth.specs.some((s) => (spec.polluters ?? []).includes(s.name) && (s.leaks ?? []).some((l) => l.kind === spec.via?.kind && l.name === spec.via.name));
        if (leaked) {
          const linked = test.polluters.some((p) => p.via.length > 0);
          check(linked, `${spec.name}: linked to its polluter by a leaked object (${test.polluters.flatMap((p) => p.via.map((i) => describe(report.leaks[i]))).join(', ') || 'none'})`);
        } else {
          const proven = test.polluters.find((p) => polluters.includes(p.test) && p.decidedBy === 'record' && p.link?.object.name === spec.via?.name);
          check(proven !== undefined, `${spec.name}: linked to its polluter by the record of a failing run (${proven?.link ? `run ${proven.link.run}` : 'none'}; ${spec.via?.kind} ${spec.via?.name} never leaks)`);
        }
        const cleaners = (spec.cleaners ?? []).map(idOf);
        const wrong = test.cleaners.filter((id) => !cleaners.includes(id));
        const named = cleaners.filter((id) => test.cleaners.includes(id));
        check(wrong.length === 0, `${spec.name}: cleaners [${test.cleaners.map(testName).join(', ')}]${named.length < cleaners.length ? ' (the cleaner is named only when a run placed it between polluter and victim)' : ''}`);
        break;
      }
      case 'brittle': {
        const setters = (spec.stateSetters ?? []).map(idOf);
        check(test.verdict === 'brittle' && setters.every((id) => test.stateSetters.includes(id)),
          `${spec.name}: ${test.verdict}, state-setters [${test.stateSetters.map(testName).join(', ')}]`);
        break;
      }
    }
  }
  const attribution = report.attribution;
  if (!options.fixed && attribution?.byRecord) {
    // With the API server's record, serially created objects are named by their own create: no guess remains.
    check(attribution.guessed === 0, `attribution: ${attribution.byRecord} of ${attribution.objects} leaked object(s) named by the record, ${attribution.guessed} by a guess${attribution.guessed ? ' (expected none: the specs run serially)' : ''}`);
  }
  const planted = new Set(truth.specs.map((spec) => spec.name));
  for (const test of report.tests) {
    if (!planted.has(test.name) && !test.name.startsWith('[') && isFindingVerdict(test.verdict)) {
      check(false, `${test.name}: ${test.verdict}, but the ground truth does not plant it`);
    }
  }
  if (options.fixed) {
    check((report.hazards ?? []).length === 0, `hazards: ${(report.hazards ?? []).length}${report.hazards?.length ? ` (${report.hazards.slice(0, 3).map((h) => `${testName(h.first)} then ${testName(h.second)} on ${h.object.name}`).join(', ')})` : ''} (expected none)`);
    check(report.verdict === 'clean', `report verdict: ${report.verdict} (expected clean)`);
    check(report.leaks.length === 0, `leaked objects: ${report.leaks.length}${report.leaks.length ? ` (${report.leaks.slice(0, 3).map(describe).join(', ')})` : ''} (expected none)`);
  }
  return { ok: mismatches === 0, mismatches, lines };
}

/**
 * A latent hazard that did not fire: the victim stays stable, and the report names the pair, in
 * that order, on the planted object, with the record's window.
 */
function checkHazard(spec: TruthSpec, test: TestReport, report: Report, idOf: (name: string) => string, check: (ok: boolean, line: string) => void): void {
  check(test.verdict === 'stable', `${spec.name}: ${test.verdict}${test.verdict === 'stable' ? '' : ' (expected stable: a hazard that never fired)'}`);
  const polluters = (spec.polluters ?? []).map(idOf);
  const hazard = (report.hazards ?? []).find((h) => polluters.includes(h.first) && h.second === test.id && (!spec.via || spec.via.name === h.object.name));
  const met = hazard?.meetings.length ?? 0;
  check(hazard !== undefined, hazard
    ? `${spec.name}: a hazard after ${spec.polluters?.join(', ')} on ${hazard.object.name}: ${hazard.outcome}, window ${hazard.windowMs ?? '?'} ms, met in ${met} run(s), ${hazard.probes.runs.length} probe(s)${hazard.probes.stress ? ' under stress' : ''}`
    : `${spec.name}: no hazard reported after ${spec.polluters?.join(', ')} (expected one on ${spec.via?.name ?? 'its object'})`);
}

/** The run's order puts the victim after one of its polluters with none of its cleaners between: the order it fails in. */
export function exposes(order: readonly string[], victim: string, spec: TruthSpec, idOf: (name: string) => string): boolean {
  const at = order.indexOf(victim);
  if (at === -1) return false;
  const cleaners = new Set((spec.failsWhen?.unlessBetween ?? spec.cleaners ?? []).map(idOf));
  return (spec.failsWhen?.after ?? spec.polluters ?? []).some((name) => {
    const p = order.lastIndexOf(idOf(name), at);
    return p !== -1 && !order.slice(p + 1, at).some((id) => cleaners.has(id));
  });
}

/**
 * Each planted leak, run by run: in every run where the object leaked, that run's entry names the
 * planted spec (a guess among candidates counts when it is right, and is said); a leaker's
 * objects leak in every run that ran it (nothing removes them).
 */
function checkLeaks(spec: TruthSpec, test: TestReport, report: Report, check: (ok: boolean, line: string) => void): void {
  const testName = namesIn(report);
  const ran = report.runs.filter((run) => run.order.includes(test.id)).map((run) => run.id);
  for (const object of spec.leaks ?? []) {
    const what = `${object.kind} ${object.name ?? object.namePattern}`;
    const byRun = new Map<string, LeakReport[]>();
    for (const leak of report.leaks.filter((candidate) => matchesTruthObject(object, candidate))) {
      for (const run of leak.runs) byRun.set(run, [...(byRun.get(run) ?? []), leak]);
    }
    if (byRun.size === 0) {
      check(object.when !== undefined, `${what}: not found among the leaks${object.when !== undefined ? ` (left ${object.when})` : ''}`);
      continue;
    }
    const wrong = [...byRun].filter(([, leaks]) => leaks.some((leak) => leak.createdBy !== test.id));
    const guessed = [...byRun].filter(([, leaks]) => leaks.some((leak) => leak.createdBy === test.id && (leak.candidates?.length ?? 0) > 1));
    // Each distinct answer once, with how many runs gave it: the same list repeated per run says nothing more.
    const named = runsByText(wrong.map(([run, leaks]) => [run, leaks.map((leak) => (leak.createdBy ? testName(leak.createdBy) : 'nobody known')).join(', ')]));
    const detail = [...named].map(([who, runs]) => `${who} in run ${runs.join(', ')}`);
    const lists = runsByText(guessed.map(([run, leaks]) => [run, `[${(leaks[0]?.candidates ?? []).map(testName).join(', ')}]`]));
    const guesses = guessed.length ? ` (${guessed.length} by a guess among ${[...lists].map(([list, runs]) => (lists.size > 1 ? `${list} in ${runs.length}` : list)).join(', ')})` : '';
    check(wrong.length === 0, `${what}: created by ${spec.name} in ${byRun.size - wrong.length} of ${byRun.size} run(s) it leaked in${guesses}${detail.length ? `; ${detail.join('; ')}` : ''}`);
    if (spec.role === 'leaker') {
      const missing = ran.filter((run) => !byRun.has(run));
      check(missing.length === 0, `${what}: leaked in each of the ${ran.length} run(s) that ran ${spec.name}${missing.length ? ` (not in run ${missing.join(', ')})` : ''}`);
    }
  }
}

/** The runs that gave each distinct text, in first-seen order. */
function runsByText(entries: [run: string, text: string][]): Map<string, string[]> {
  const runs = new Map<string, string[]>();
  for (const [run, text] of entries) runs.set(text, [...(runs.get(text) ?? []), run]);
  return runs;
}

/** A test's name by its id, from the report (ids are never split apart). */
function namesIn(report: Report): (id: string) => string {
  const names = new Map(report.tests.map((test) => [test.id, test.name]));
  return (id) => names.get(id) ?? id;
}

export function matchesTruthObject(object: TruthObject, leak: LeakReport): boolean {
  if (object.apiVersion !== leak.apiVersion || object.kind !== leak.kind) return false;
  if (object.name !== undefined && object.name !== leak.name) return false;
  if (object.namePattern !== undefined && !new RegExp(object.namePattern).test(leak.name)) return false;
  if (object.namespace !== undefined && object.namespace !== leak.namespace) return false;
  if (object.namespacePattern !== undefined && !new RegExp(object.namespacePattern).test(leak.namespace)) return false;
  return true;
}

function describe(leak: LeakReport | undefined): string {
  return leak ? `${leak.kind} ${leak.namespace ? `${leak.namespace}/` : ''}${leak.name}` : '?';
}
