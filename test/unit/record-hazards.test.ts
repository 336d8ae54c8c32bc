// Latent hazards from passing runs: the record shows a spec leaving an object held past its own
// end and another spec creating the same name; the hunt probes the pair back to back (under stress
// when the window is short), within the budget, and reports a hazard that never fired as a warning
// with its window and margins, one that fired as a finding. Plain data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, TestId } from '../../src/model.ts';
import { findHazards } from '../../src/record/hazards.ts';
import { findRecordLinks, type PlacedRecord, type RecordRequest } from '../../src/record/links.ts';
import { planProbes } from '../../src/analysis/probes.ts';
import { analyzeHazards, reportVerdict } from '../../src/analysis/verdicts.ts';
import { id, run } from './analysis-sim.ts';
import { BEING_DELETED, iris2, T0, withTimes } from './record-sim.ts';
import { parseRecord } from '../../src/record/parse.ts';
import { placedRecord } from '../../src/record/placed.ts';

const P = id('ModelCache lifecycle evicts the iris2 cache on delete');
const V = id('ModelCache serving warms the iris2 cache for inference');
const F = id('filler');

/**
 * A passing run in this order (100 ms a spec), where P deletes iris2 and a finalizer holds it
 * `holdMs` past P's end, and V creates iris2 5 ms into its window (after it was gone when it ran after P).
 */
function passingRun(runId: string, seed: number, order: TestId[], holdMs: number, probe?: RunResult['plan']): { run: RunResult; record: PlacedRecord } {
  const r = withTimes(run(runId, seed, order.map((t) => [t.slice(t.indexOf(' :: ') + 4), 'passed'])));
  if (probe) Object.assign(r, { probe: true, plan: probe });
  const at = (t: TestId) => r.cases.find((c) => c.id === t);
  const requests: RecordRequest[] = [];
  const req = (time: number, spec: TestId, verb: string, code: number, extra: Partial<RecordRequest> = {}) => requests.push({ at: time, spec, verb, code, actor: 'test', object: iris2, ...extra });
  const p = at(P);
  const v = at(V);
  if (p?.startedAt !== undefined && p.endedAt !== undefined) {
    req(p.startedAt + 10, P, 'create', 201);
    req(p.startedAt + 60, P, 'delete', 200, { deleted: 'stayed' });
    req(p.endedAt + holdMs, P, 'update', 200);
  }
  if (v?.startedAt !== undefined) req(v.startedAt + 5 + (p && (p.startedAt ?? 0) < v.startedAt ? Math.max(0, (p.endedAt ?? 0) + holdMs + 35 - (v.startedAt + 5)) : 0), V, 'create', 201);
  requests.sort((a, b) => a.at - b.at);
  return { run: r, record: { run: runId, requests } };
}

test('findHazards: P leaves iris2 terminating 140 ms past its end and V creates iris2 35 ms after it was gone; V never failed', () => {
  const a = passingRun('000', 11, [P, V, F], 140);
  const b = passingRun('001', 12, [V, F, P], 140);
  const [hazard, ...rest] = findHazards([a.run, b.run], [a.record, b.record]);
  assert.deepEqual(rest, []);
  assert.equal(hazard?.first, P);
  assert.equal(hazard?.second, V);
  assert.equal(hazard?.kind, 'terminating');
  assert.equal(hazard?.access, 'create');
  assert.deepEqual(hazard?.object, iris2);
  assert.equal(hazard?.windowMs, 140);
  assert.deepEqual(hazard?.meetings, [{ run: '000', probe: false, windowMs: 140, marginMs: 35, fired: false }]);
});

test('a hazard with a short window is probed back to back under CPU stress, repeated, and reported held off with its margins: a warning, not a finding', () => {
  const planned = [passingRun('000', 11, [P, V, F], 140), passingRun('001', 12, [V, F, P], 140), passingRun('002', 13, [F, P, V], 140)];
  const runs = planned.map((x) => x.run);
  const records = planned.map((x) => x.record);
  const plans = [];
  for (let i = 0; i < 10; i += 1) {
    const [plan] = planProbes({ runs, framework: 'ginkgo', records, maxProbes: 20 });
    if (!plan) break;
    plans.push(plan);
    const probe = passingRun(`probe-${String(i).padStart(3, '0')}`, plan.seed, plan.expectedOrder, 150, plan);
    runs.push(probe.run);
    records.push(probe.record);
  }
  assert.equal(plans.length, 3, 'hazardProbes repeats');
  for (const [i, plan] of plans.entries()) {
    assert.equal(plan.purpose, 'hazard');
    assert.deepEqual(plan.expectedOrder, [P, V]);
    assert.equal(plan.stress, 'cpu', 'the 140 ms window is short');
    assert.equal(plan.seed, 13, 'the latest planned run that kept P before V');
    assert.equal(plan.attempt ?? 1, i + 1);
  }
  const [hazard] = analyzeHazards({ runs, records });
  assert.equal(hazard?.outcome, 'held-off');
  assert.deepEqual(hazard?.probes, { runs: ['probe-000', 'probe-001', 'probe-002'], failed: [], stress: true });
  assert.deepEqual(hazard?.meetings.map((m) => [m.run, m.marginMs, m.fired]), [['000', 35, false], ['002', 35, false], ['probe-000', 35, false], ['probe-001', 35, false], ['probe-002', 35, false]]);
  assert.equal(reportVerdict([{ verdict: 'stable' }], [], hazard ? [hazard] : []), 'clean');
});

test('a hazard that fires in a probe is a finding; a long window is probed without stress; the probe budget holds', () => {
  const planned = [passingRun('000', 11, [P, V, F], 5000), passingRun('001', 12, [F, V, P], 5000)];
  const runs = planned.map((x) => x.run);
  const records = planned.map((x) => x.record);
  const [plan] = planProbes({ runs, framework: 'ginkgo', records, maxProbes: 20 });
  assert.equal(plan?.purpose, 'hazard');
  assert.equal(plan?.stress, undefined, 'a 5 s window needs no stress');
  // The pair back to back: V's create refused while iris2 is held, and V fails.
  const fired = withTimes(run('probe-000', plan?.seed ?? 0, [['ModelCache lifecycle evicts the iris2 cache on delete', 'passed'], ['ModelCache serving warms the iris2 cache for inference', 'failed', 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists']]));
  Object.assign(fired, { probe: true, plan });
  const withFired = [...runs, fired];
  assert.deepEqual(planProbes({ runs: withFired, framework: 'ginkgo', records, maxProbes: 20 }), [], 'a fired hazard needs no more probes');
  const [hazard] = analyzeHazards({ runs: withFired, records });
  assert.equal(hazard?.outcome, 'fired');
  assert.deepEqual(hazard?.probes, { runs: ['probe-000'], failed: ['probe-000'], stress: false });
  assert.equal(reportVerdict([{ verdict: 'stable' }], [], hazard ? [hazard] : []), 'findings');
});

test('hazard probes respect the probe budget', () => {
  const planned = [passingRun('000', 11, [P, V, F], 140), passingRun('001', 13, [F, P, V], 140)];
  const runs = planned.map((x) => x.run);
  const records = planned.map((x) => x.record);
  let spent = 0;
  for (let i = 0; i < 10; i += 1) {
    const [plan] = planProbes({ runs, framework: 'ginkgo', records, maxProbes: 2 });
    if (!plan) break;
    spent += 1;
    const probe = passingRun(`probe-${String(i).padStart(3, '0')}`, plan.seed, plan.expectedOrder, 150, plan);
    runs.push(probe.run);
    records.push(probe.record);
  }
  assert.equal(spent, 2);
  const [hazard] = analyzeHazards({ runs, records, maxProbes: 2 });
  assert.equal(hazard?.outcome, 'held-off');
  assert.equal(hazard?.probes.runs.length, 2);
});

test('a spec that reads a name another spec created is a state dependence, probed by running the reader alone', () => {
  const cm = { group: '', resource: 'configmaps', namespace: 'default', name: 'model-defaults' };
  const r = withTimes(run('000', 7, [['filler', 'passed'], ['ModelCache lifecycle evicts the iris2 cache on delete', 'passed'], ['ModelCache serving warms the iris2 cache for inference', 'passed']]));
  const start = (t: TestId) => r.cases.find((c) => c.id === t)?.startedAt ?? 0;
  const records: PlacedRecord[] = [
    { run: '000', requests: [{ at: start(P) + 5, spec: P, verb: 'create', code: 201, actor: 'test', object: cm }, { at: start(V) + 5, spec: V, verb: 'get', code: 200, actor: 'test', object: cm }] },
  ];
  const [hazard] = findHazards([r], records);
  assert.equal(hazard?.kind, 'state-dependence');
  assert.equal(hazard?.first, P);
  assert.equal(hazard?.second, V);
  assert.equal(hazard?.access, 'read');
  const [plan] = planProbes({ runs: [r], framework: 'ginkgo', records, maxProbes: 5 });
  assert.equal(plan?.purpose, 'hazard');
  assert.deepEqual(plan?.tests, [V]);

  // In another run V ran without P, its read found nothing, and it failed: the hazard has fired, no probe needed.
  const without = withTimes(run('001', 8, [['ModelCache serving warms the iris2 cache for inference', 'failed'], ['filler', 'passed']]));
  const missed: PlacedRecord = { run: '001', requests: [{ at: (without.cases[0]?.startedAt ?? 0) + 5, spec: V, verb: 'get', code: 404, actor: 'test', object: cm }] };
  const [fired] = analyzeHazards({ runs: [r, without], records: [...records, missed] });
  assert.equal(fired?.kind, 'state-dependence');
  assert.equal(fired?.outcome, 'fired');
  assert.deepEqual(fired?.probes.runs, []);
});

test('a hold is dated by the finalizer\'s write even when nothing touches the name after it (the reader ran earlier); a status write dates nothing', () => {
  const r = passingRun('000', 21, [V, F, P], 50);
  const [hazard] = findHazards([r.run], [r.record]);
  assert.equal(hazard?.first, P);
  assert.equal(hazard?.second, V);
  assert.equal(hazard?.windowMs, 50);
  assert.deepEqual(hazard?.meetings, []);
  // The same write to the status subresource removes no finalizer: no hold is dated.
  const status: PlacedRecord = { ...r.record, requests: r.record.requests.map((q) => (q.verb === 'update' ? { ...q, object: { ...iris2, subresource: 'status' } } : q)) };
  assert.deepEqual(findHazards([r.run], [status]), []);
  // Never met, no planned run kept P before V: nothing to probe, reported as unmet.
  const [unmet] = analyzeHazards({ runs: [r.run], records: [r.record] });
  assert.equal(unmet?.outcome, 'unmet');
  assert.deepEqual(planProbes({ runs: [r.run], framework: 'ginkgo', records: [r.record], maxProbes: 5 }), []);
});

test('a hazard probe replays the seed of a run whose record showed the hold, not merely the latest run that kept the order', () => {
  // Run 001 also put P before V, but its draw let iris2 go at once: replaying its seed could never hold it.
  const held = passingRun('000', 11, [P, V, F], 140);
  const quick = passingRun('001', 12, [P, V, F], 0);
  const [hazard] = findHazards([held.run, quick.run], [held.record, quick.record]);
  assert.deepEqual(hazard?.heldIn, ['000']);
  const [plan] = planProbes({ runs: [held.run, quick.run], framework: 'ginkgo', records: [held.record, quick.record], maxProbes: 5 });
  assert.equal(plan?.purpose, 'hazard');
  assert.equal(plan?.seed, 11);
  assert.deepEqual(plan?.tests, [P, V]);
  assert.match(plan?.hypothesis ?? '', /\(seed of run 000\)$/);
  // In the report the runs that held it are no field of the contract.
  const [reported] = analyzeHazards({ runs: [held.run, quick.run], records: [held.record, quick.record] });
  assert.equal(Object.hasOwn(reported ?? {}, 'heldIn'), false);
});

// --- The record as the API server writes it (audit.k8s.io/v1 Events, one envtest instance a run),
// read by the parser and placed in Ginkgo's spec windows, as a real run of the example is.

const RETIRES = id('ModelCache lifecycle retires the bloom cache after its last request');
const WARMS = id('ModelCache serving warms the bloom cache once its tokenizer has loaded');
const FILLER = id('ModelCache inventory counts every cache in the cluster');

/** One audit line of the test process (the specs and the in-process controller share its user agent). */
function auditLine(atMs: number, verb: string, code: number, extra: { subresource?: string; deleted?: 'stayed' | 'gone'; reason?: string; message?: string; answeredMs?: number } = {}): string {
  const status: Record<string, unknown> = { metadata: {}, code };
  if (extra.reason) status.reason = extra.reason;
  if (extra.message) status.message = extra.message;
  if (extra.deleted === 'gone') status.details = { uid: '7d0c5c0e-5b0e-4b8e-9a34-5f1d2c1e0b11' };
  const received = new Date(T0 + atMs).toISOString().replace('Z', '000Z');
  const answered = new Date(T0 + (extra.answeredMs ?? atMs)).toISOString().replace('Z', '000Z');
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `a-${atMs}-${verb}`,
    stage: 'ResponseComplete',
    requestURI: `/apis/cache.kubeflake.dev/v1alpha1/namespaces/default/modelcaches/bloom${extra.subresource ? `/${extra.subresource}` : ''}`,
    verb,
    user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    sourceIPs: ['127.0.0.1'],
    userAgent: 'controller.test/v0.0.0 (linux/amd64) kubernetes/$Format',
    objectRef: { resource: 'modelcaches', namespace: 'default', name: 'bloom', apiGroup: 'cache.kubeflake.dev', apiVersion: 'v1alpha1', ...(extra.subresource ? { subresource: extra.subresource } : {}) },
    responseStatus: status,
    requestReceivedTimestamp: received,
    stageTimestamp: answered,
  });
}

/** The warms spec's life of bloom from `at`: create, the controller's finalizer, then its DeferCleanup deletes and polls until the Get answers 404. */
function warmsAndWaits(at: number): string[] {
  return [
    auditLine(at, 'create', 201),
    auditLine(at + 10, 'patch', 200),
    auditLine(at + 80, 'patch', 200, { subresource: 'status' }),
    auditLine(at + 460, 'delete', 200, { deleted: 'stayed' }),
    auditLine(at + 485, 'get', 200),
    auditLine(at + 510, 'get', 200),
    // The controller drains the shard and removes the finalizer; the cleanup's next Get finds it gone.
    auditLine(at + 600, 'patch', 200),
    auditLine(at + 625, 'get', 404, { reason: 'NotFound' }),
  ];
}

/** The retires spec's life of bloom from `at`: create, finalizer, delete without waiting; the drain ends `holdMs` after `endsAt`. */
function retiresWithoutWaiting(at: number, endsAt: number, holdMs: number): string[] {
  return [
    auditLine(at, 'create', 201),
    auditLine(at + 10, 'patch', 200),
    auditLine(at + 80, 'patch', 200, { subresource: 'status' }),
    auditLine(endsAt - 20, 'delete', 200, { deleted: 'stayed' }),
    auditLine(endsAt + holdMs, 'patch', 200),
  ];
}

/** A passing run of one envtest instance: specs at the given [start, end) ms, the record's lines as written. */
function recordedRun(runId: string, instance: string, windows: [TestId, number, number][], lines: string[]): { run: RunResult; record: PlacedRecord } {
  const base = run(runId, 5, windows.map(([t]) => [t.slice(t.indexOf(' :: ') + 4), 'passed']));
  const at = new Map(windows.map(([t, start, end]) => [t, { start, end }]));
  const timed: RunResult = { ...base, cases: base.cases.map((c) => ({ ...c, startedAt: T0 + (at.get(c.id)?.start ?? 0), endedAt: T0 + (at.get(c.id)?.end ?? 0) })) };
  const audit = parseRecord(`${lines.join('\n')}\n`);
  assert.equal(audit.skipped, 0);
  const placed = placedRecord({ run: timed, record: { envtest: { [instance]: audit } } });
  assert.ok(placed);
  return { run: timed, record: placed };
}

test('one pair is one hazard over all runs, though each run\'s envtest is a new control plane; the spec that deletes and waits for its own is no polluter', () => {
  // Run 000: warms (its cleanup waits for bloom to go), then retires (no wait: bloom held 160 ms past its end).
  const a = recordedRun('000', '1737-1796656083417', [[WARMS, 0, 800], [RETIRES, 800, 1200], [FILLER, 1200, 2000]], [
    ...warmsAndWaits(100),
    ...retiresWithoutWaiting(850, 1200, 160),
  ]);
  // Run 001: retires first (held 120 ms), warms creates bloom 300 ms into its window, 180 ms after it was gone.
  const b = recordedRun('001', '1802-1796656112004', [[RETIRES, 0, 400], [WARMS, 400, 1400], [FILLER, 1400, 2000]], [
    ...retiresWithoutWaiting(50, 400, 120),
    ...warmsAndWaits(700),
  ]);
  const hazards = findHazards([a.run, b.run], [a.record, b.record]);
  assert.deepEqual(hazards.map((h) => [h.first, h.second, h.object.name]), [[RETIRES, WARMS, 'bloom']]);
  const [hazard] = hazards;
  assert.equal(hazard?.windowMs, 160, 'the longest hold over both runs');
  assert.deepEqual(hazard?.heldIn, ['000', '001']);
  assert.deepEqual(hazard?.meetings, [{ run: '001', probe: false, windowMs: 120, marginMs: 180, fired: false }]);
  assert.equal(hazard?.object.plane !== undefined, true, 'the object keeps a control plane of the record (the contract\'s field)');
});

test('a spec whose window ends before its cleanup\'s wait is done with the object when its own Get finds it gone: no hold, no hazard with it first', () => {
  // Warms' window ends at 600 (as a window rebuilt from durations may), before its DeferCleanup's
  // wait: its delete at 560, the finalizer's removal at 700 and its Get answered 404 at 725 fall in
  // the gap after it, where the record places them in warms. Retires (no wait) still holds bloom.
  const c = recordedRun('002', '1911-1796656140230', [[WARMS, 0, 600], [RETIRES, 2700, 3100], [FILLER, 3100, 4000]], [
    ...warmsAndWaits(100),
    ...retiresWithoutWaiting(2750, 3100, 90),
  ]);
  const placedWarms = c.record.requests.filter((r) => r.spec === WARMS);
  assert.equal(placedWarms.some((r) => r.code === 404 && r.at > T0 + 600), true, 'the wait\'s 404 is placed in warms, after its window');
  const hazards = findHazards([c.run], [c.record]);
  assert.deepEqual(hazards.map((h) => [h.first, h.second, h.windowMs]), [[RETIRES, WARMS, 90]]);
  // Without the wait's Get, nothing shows warms saw bloom go: the 100 ms past its window is a hold.
  const noWait = { ...c.record, requests: c.record.requests.filter((r) => !(r.spec === WARMS && r.code === 404)) };
  assert.deepEqual(findHazards([c.run], [noWait]).map((h) => [h.first, h.second, h.windowMs]), [[WARMS, RETIRES, 100], [RETIRES, WARMS, 90]]);
});

test('on envtest, a name in another suite\'s control plane is another object: no pair across suites', () => {
  const a = recordedRun('000', '1737-1796656083417', [[RETIRES, 0, 400], [FILLER, 400, 2000]], retiresWithoutWaiting(50, 400, 120));
  const other = 'Webhook Suite :: serving warms the bloom cache';
  const b = recordedRun('000', '1744-1796656083502', [[WARMS, 0, 1000]], warmsAndWaits(300));
  // The second package's suite: its own process, its own envtest.
  const bRun: RunResult = { ...b.run, cases: b.run.cases.map((c) => ({ ...c, id: other, suite: 'Webhook Suite' })) };
  const bRecord: PlacedRecord = { ...b.record, requests: b.record.requests.map((r) => ({ ...r, spec: other })) };
  const merged: RunResult = { ...a.run, cases: [...a.run.cases, ...bRun.cases], order: [...a.run.order, other] };
  const record: PlacedRecord = { run: '000', requests: [...a.record.requests, ...bRecord.requests].sort((x, y) => x.at - y.at) };
  assert.deepEqual(findHazards([merged], [record]), []);
});

test('a hazard fired in a planned run whose envtest was another instance: the record\'s link to the same name counts', () => {
  // Run 001 (instance a): P before V, iris2 held 140 ms, V creates it after: met, held off.
  const met = passingRun('001', 12, [P, V, F], 140);
  const a: PlacedRecord = { ...met.record, requests: met.record.requests.map((r) => ({ ...r, object: { ...iris2, plane: 'a' } })) };
  // Run 000 (instance b): V's create refused while iris2 is held; it is never seen gone in the run, so no meeting is dated.
  const failing = withTimes(run('000', 11, [['ModelCache lifecycle evicts the iris2 cache on delete', 'passed'], ['ModelCache serving warms the iris2 cache for inference', 'failed', BEING_DELETED], ['filler', 'passed']]));
  const start = (t: TestId) => failing.cases.find((c) => c.id === t)?.startedAt ?? 0;
  const object = { ...iris2, plane: 'b' };
  const b: PlacedRecord = {
    run: '000',
    requests: [
      { at: start(P) + 10, spec: P, verb: 'create', code: 201, actor: 'test', object },
      { at: start(P) + 60, spec: P, verb: 'delete', code: 200, actor: 'test', object, deleted: 'stayed' },
      { at: start(V) + 5, spec: V, verb: 'create', code: 409, actor: 'test', object, reason: 'AlreadyExists', message: BEING_DELETED },
    ],
  };
  const [hazard, ...rest] = analyzeHazards({ runs: [failing, met.run], records: [b, a] });
  assert.deepEqual(rest, []);
  assert.equal(hazard?.first, P);
  assert.equal(hazard?.second, V);
  assert.equal(hazard?.object.plane, 'a', 'the hold was shown by instance a');
  assert.deepEqual(hazard?.meetings.map((m) => [m.run, m.fired]), [['001', false]]);
  assert.equal(hazard?.outcome, 'fired');
});

test('the object is gone when the write that removed its finalizer was answered: a create received between its arrival and its answer was refused, and the meeting fired', () => {
  // From run 001 of a loaded hunt: the finalizer's patch arrived 62 ms after retires ended and was
  // answered 56 ms later; warms' create arrived 44 ms after the patch and was refused (409).
  const refusedMessage = 'object is being deleted: modelcaches.cache.kubeflake.dev "bloom" already exists';
  const r = recordedRun('001', '1737-1796656083417', [[RETIRES, 0, 451], [WARMS, 451, 570], [FILLER, 570, 2000]], [
    auditLine(20, 'create', 201, { answeredMs: 78 }),
    auditLine(105, 'patch', 200),
    auditLine(445, 'delete', 200, { deleted: 'stayed' }),
    auditLine(513, 'patch', 200, { answeredMs: 569 }),
    auditLine(557, 'create', 409, { reason: 'AlreadyExists', message: refusedMessage, answeredMs: 567 }),
    auditLine(4637, 'get', 404, { reason: 'NotFound' }),
  ]);
  const [hazard] = findHazards([r.run], [r.record]);
  assert.equal(hazard?.first, RETIRES);
  assert.equal(hazard?.second, WARMS);
  assert.deepEqual(hazard?.meetings, [{ run: '001', probe: false, windowMs: 118, marginMs: -12, fired: true }]);
  // The failure the refusal caused is linked to retires by the record: bloom was still terminating.
  const failed: RunResult = { ...r.run, cases: r.run.cases.map((c) => (c.id === WARMS ? { ...c, status: 'failed', failure: { message: `Expected success, but got an error:\n    ${refusedMessage}` } } : c)) };
  const [link] = findRecordLinks([failed], [r.record]);
  assert.equal(link?.polluter, RETIRES);
  assert.equal(link?.state, 'terminating');
  assert.equal(link?.goneAt, T0 + 569);
});
