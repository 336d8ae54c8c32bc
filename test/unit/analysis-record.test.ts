// The record decides first: a victim whose failing run's record links it to a polluter (the
// polluter deleted the object; it was still held when the victim's create was refused) is
// confirmed from that one run, with no probe; probes then only measure its rate and the
// reproduce line's tries. Plain data: the simulator of analysis-sim.ts, records from record-sim.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../src/model.ts';
import { analyze } from '../../src/analysis/verdicts.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import { DEFAULT_HUNT_OPTIONS, huntContext, huntFor } from '../../src/analysis/hunt.ts';
import { gatherEvidence } from '../../src/analysis/evidence.ts';
import { triesFor } from '../../src/analysis/chance.ts';
import type { PlacedRecord } from '../../src/record/links.ts';
import { id, pass, plannedRuns, plainFlake, raceVictim, simulate, type Oracle } from './analysis-sim.ts';
import { BEING_DELETED, raceRecord, withTimes, type Race } from './record-sim.ts';

const P = id('ModelCache lifecycle evicts the iris2 cache on delete');
const V = id('ModelCache serving warms the iris2 cache for inference');
const FILLERS = Array.from({ length: 10 }, (_, i) => id(`filler ${i}`));
const ALL = [P, V, ...FILLERS];
const race: Race = { polluter: P, victim: V, holdMs: 140 };

/** The pipeline's loop with a record for every run (probes included), until planProbes returns []. */
function huntWithRecords(oracle: Oracle, planned: RunResult[], options: { maxProbes: number }) {
  const runs = planned.map(withTimes);
  const records: PlacedRecord[] = runs.map((r) => raceRecord(r, race));
  for (let i = 0; i < 200; i += 1) {
    const [plan] = planProbes({ runs, framework: 'ginkgo', records, ...options });
    if (!plan) return { runs, records };
    const probe = withTimes(simulate(ALL, oracle, { id: `probe-${String(i).padStart(3, '0')}`, seed: plan.seed, focus: plan.tests, plan }));
    runs.push(probe);
    records.push(raceRecord(probe, race));
  }
  throw new Error('planProbes never returned []');
}

/** Eight planned runs of suites where the victim failed at least once. */
function suitesWhereItFailed(oracle: Oracle, count: number): RunResult[][] {
  const out: RunResult[][] = [];
  for (let base = 1; out.length < count && base < count * 10; base += 1) {
    const planned = plannedRuns(ALL, oracle, 8, base * 7717 + 3);
    if (planned.some((r) => r.cases.some((c) => c.id === V && c.status === 'failed'))) out.push(planned);
  }
  return out;
}

test('the record of one failing run confirms the polluter before any probe: the chain, its timings, and which evidence decided', () => {
  const oracle = raceVictim(V, P, 0.3, BEING_DELETED);
  const [planned] = suitesWhereItFailed(oracle, 1);
  assert.ok(planned);
  const runs = planned.map(withTimes);
  const records = runs.map((r) => raceRecord(r, race));
  const failing = runs.find((r) => r.cases.some((c) => c.id === V && c.status === 'failed'));
  assert.ok(failing);

  const v = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], records, maxProbes: 0 }).find((r) => r.id === V);
  assert.equal(v?.verdict, 'order-dependent', v?.why);
  const [polluter] = v?.polluters ?? [];
  assert.equal(polluter?.test, P);
  assert.equal(polluter?.confirmed, true);
  assert.equal(polluter?.decidedBy, 'record');
  assert.equal(polluter?.after, undefined, 'no probe ran');
  assert.equal(polluter?.link?.run, failing.id, 'the first failing run proves it');
  assert.equal(polluter?.link?.state, 'terminating');
  assert.equal(polluter?.link?.margins.deletedToRefusedMs !== undefined && polluter.link.margins.deletedToRefusedMs > 0, true);
  const link = polluter?.link;
  assert.ok(link?.goneAt !== undefined && link.goneAt > link.refusedAt, 'still held when refused');
  assert.equal(link.goneBy, 'finalizer-removed');
  assert.equal(link.margins.refusedToGoneMs, link.goneAt - link.refusedAt);
  assert.match(
    v?.why ?? '',
    new RegExp(`the record of run ${failing.id} proves it: ModelCache lifecycle evicts the iris2 cache on delete deleted modelcaches.cache.kubeflake.dev default/iris2, it was still terminating \\(a finalizer pending\\) when its create was refused ${Math.round(link.margins.deletedToRefusedMs ?? 0)} ms later \\(409 AlreadyExists\\), and it was gone ${Math.round(link.margins.refusedToGoneMs ?? 0)} ms after that`),
  );

  // The same runs without the record: nothing is confirmed without probes.
  const blind = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], maxProbes: 0 }).find((r) => r.id === V);
  assert.equal(blind?.verdict, 'flaky');
  assert.equal(blind?.polluters.some((p) => p.confirmed), false);
});

test('a race confirmed from the record in every suite where it fired; probes only measure its rate (a few, never the long series)', () => {
  const oracle = raceVictim(V, P, 0.3, BEING_DELETED);
  const suites = suitesWhereItFailed(oracle, 15);
  assert.ok(suites.length >= 10, `${suites.length} suites`);
  for (const [i, planned] of suites.entries()) {
    const { runs, records } = huntWithRecords(oracle, planned, { maxProbes: 30 });
    const probes = runs.filter((r) => r.probe);
    // The alone control, then at most recordRateProbes pairs: the record decided, probes measure.
    assert.ok(probes.length <= 1 + DEFAULT_HUNT_OPTIONS.recordRateProbes, `suite ${i}: ${probes.length} probes`);
    const v = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], records, maxProbes: 30 }).find((r) => r.id === V);
    assert.equal(v?.verdict, 'order-dependent', `suite ${i}: ${v?.why}`);
    const p = v?.polluters[0];
    assert.equal(p?.decidedBy, 'record');
    assert.equal(v?.alone?.runs, 1);
    assert.ok(p?.after && p.after.runs >= 2, `suite ${i}: the rate was measured`);
    const { failed, runs: tries } = p.after;
    const measured = failed > 0 ? triesFor(failed / tries) : undefined;
    if (measured !== undefined) assert.equal(v?.reproduceTries, measured, `suite ${i}: tries from the measured rate`);
    if (failed < tries) assert.match(v?.why ?? '', new RegExp(`probes: it fails ${failed} of ${tries} after ModelCache lifecycle evicts the iris2 cache on delete, 0 of 1 alone`));
  }
});

test('a rare race the record proved and no pair probe repeated: the reproduce line\'s tries come from the planned runs and the probes together, never infinite', () => {
  const oracle = raceVictim(V, P, 0.1, BEING_DELETED);
  let seen = 0;
  for (const planned of suitesWhereItFailed(oracle, 15)) {
    const { runs, records } = huntWithRecords(oracle, planned, { maxProbes: 30 });
    const v = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], records, maxProbes: 30 }).find((r) => r.id === V);
    const after = v?.polluters[0]?.after;
    if (v?.verdict !== 'order-dependent' || !after || after.failed > 0) continue;
    seen += 1;
    const before = runs.filter((r) => !r.probe && r.order.indexOf(P) !== -1 && r.order.indexOf(P) < r.order.indexOf(V));
    const failed = before.filter((r) => r.cases.some((c) => c.id === V && c.status === 'failed')).length;
    assert.equal(v.reproduceTries, triesFor(failed / (before.length + after.runs)), v.why);
    assert.match(v.why ?? '', /planned runs and pair probes together/);
  }
  assert.ok(seen > 0, 'some suite proved the race from the record while every pair probe passed');
});

test('a victim that also fails alone keeps its record-proven polluter but is flaky, and says so', () => {
  // Fails after P (the record shows it) and, at half the rate, alone too.
  const oracle: Oracle = (t, before, random, seed) => (t === V && !before.includes(P) ? plainFlake(V, 1, 'Expected true to be false')(t, before, random, seed) : raceVictim(V, P, 1, BEING_DELETED)(t, before, random, seed));
  const planned = plannedRuns(ALL, (t, before, random, seed) => (t === V && !before.includes(P) ? pass : oracle(t, before, random, seed)), 6, 4242);
  const { runs, records } = huntWithRecords(oracle, planned, { maxProbes: 10 });
  const v = analyze({ runs, framework: 'ginkgo', command: ['ginkgo', './...'], records, maxProbes: 10 }).find((r) => r.id === V);
  assert.equal(v?.verdict, 'flaky', v?.why);
  assert.equal(v?.polluters[0]?.decidedBy, 'record');
  assert.equal(v?.polluters[0]?.confirmed, true);
  assert.match(v?.why ?? '', /pollutes it \(confirmed by the record of run \d+\), but it also failed alone in probe-000/);
});

test('a failure the record does not link is hunted by probes as before, and says so', () => {
  const oracle = raceVictim(V, P, 1, BEING_DELETED);
  const planned = plannedRuns(ALL, oracle, 6, 99);
  const runs = planned.map(withTimes);
  // A record without the victim's refusal (another name): no link.
  const records = runs.map((r) => raceRecord(r, { ...race, object: { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'mnist' } }));
  let all = [...runs];
  for (let i = 0; i < 40; i += 1) {
    const [plan] = planProbes({ runs: all, framework: 'ginkgo', records, maxProbes: 30 });
    if (!plan) break;
    all = [...all, withTimes(simulate(ALL, oracle, { id: `probe-${String(i).padStart(3, '0')}`, seed: plan.seed, focus: plan.tests, plan }))];
  }
  const v = analyze({ runs: all, framework: 'ginkgo', command: ['ginkgo', './...'], records, maxProbes: 30 }).find((r) => r.id === V);
  assert.equal(v?.verdict, 'order-dependent');
  assert.equal(v?.polluters[0]?.decidedBy, 'probes');
  assert.equal(v?.polluters[0]?.link, undefined);
});

test('reads count: a spec whose GET of a name found nothing in its failing runs has the spec that creates that name as a linked state-setter candidate', () => {
  const S = id('ModelCache platform defaults publishes the default shard count for tenants');
  const B = id('ModelCache provisioning sizes a new cache from the platform defaults');
  const tests = [S, B, ...FILLERS.slice(0, 4)];
  const brittle: Oracle = (t, before) => (t === B && !before.includes(S) ? { status: 'failed', failure: { message: 'Expected <int>: 0 to equal <int>: 3' } } : pass);
  const runs = plannedRuns(tests, brittle, 8, 321).map(withTimes);
  const cm = { group: '', resource: 'configmaps', namespace: 'modelcache-system', name: 'modelcache-defaults' };
  const records: PlacedRecord[] = runs.map((r) => {
    const at = (t: string) => r.cases.find((c) => c.id === t)?.startedAt ?? 0;
    const sRan = r.order.indexOf(S) >= 0 && r.order.indexOf(S) < r.order.indexOf(B);
    return {
      run: r.id,
      requests: [
        { at: at(S) + 5, spec: S, verb: 'create', code: 201, actor: 'test' as const, object: cm },
        { at: at(B) + 5, spec: B, verb: 'get', code: sRan ? 200 : 404, actor: 'test' as const, object: cm },
      ].sort((a, b) => a.at - b.at),
    };
  });
  assert.ok(runs.some((r) => r.cases.some((c) => c.id === B && c.status === 'failed')) && runs.some((r) => r.cases.some((c) => c.id === B && c.status === 'passed')));
  const withRecord = huntFor(huntContext(gatherEvidence(runs), {}, [], records), B);
  const blind = huntFor(huntContext(gatherEvidence(runs)), B);
  assert.equal(withRecord.setterCandidates.find((c) => c.test === S)?.leakLinked, true);
  assert.equal(blind.setterCandidates.find((c) => c.test === S)?.leakLinked, false);
});
