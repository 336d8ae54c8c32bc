// Transient objects as evidence: a failure naming an object is linked to that object's history in
// the record of the run it failed in (who created it, who deleted it, whether it was still held
// when the victim's request was refused, when it finally went), and reads that found nothing feed
// the state-setter hunt. Plain data: runs and placed records written by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, TestCase } from '../../src/model.ts';
import { testId } from '../../src/model.ts';
import { findReadMisses, findRecordLinks, type PlacedRecord, type RecordRequest } from '../../src/record/links.ts';
import { placedRecord } from '../../src/record/placed.ts';
import type { RecordEntry } from '../../src/record/entry.ts';

const SUITE = 'ModelCache Controller Suite';
const A = testId(SUITE, 'ModelCache lifecycle evicts the iris2 cache on delete');
const B = testId(SUITE, 'ModelCache serving warms the iris2 cache for inference');
const C = testId(SUITE, 'ModelCache status reports shards');
const SETUP = testId(SUITE, '[BeforeSuite]');
const T0 = Date.UTC(2026, 11, 7, 5, 0, 0);
const BEING_DELETED = 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';
const iris2 = { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'iris2' };

/** A run of these specs in this order, each 100 ms from the last, with their outcomes. */
function ranInOrder(id: string, specs: [string, 'passed' | 'failed', string?][]): RunResult {
  const cases: TestCase[] = specs.map(([tid, status, message], i) => {
    const name = tid.slice(SUITE.length + 4);
    const c: TestCase = { id: tid, name, suite: SUITE, status, durationMs: 90, startedAt: T0 + i * 100, endedAt: T0 + i * 100 + 90, index: i };
    if (name.startsWith('[')) c.node = 'suite-setup';
    if (status === 'failed') c.failure = { message: message ?? 'Expected true' };
    return c;
  });
  return {
    id, seed: 1, probe: false, command: ['ginkgo'], exitCode: 1, timedOut: false, startedAt: T0, endedAt: T0 + 1000, durationMs: 1000,
    orderSource: 'ginkgo-json', order: cases.map((c) => c.id), cases, reports: ['ginkgo.json'], warnings: [],
  };
}

function req(at: number, spec: string, verb: string, code: number, extra: Partial<RecordRequest> = {}): RecordRequest {
  return { at: T0 + at, spec, verb, code, actor: 'test', object: iris2, ...extra };
}

test('spec A deleted iris2, it was still terminating when B create was refused 40 ms later, its finalizer went 140 ms after: A is linked from that one run', () => {
  const run = ranInOrder('003', [[A, 'passed'], [B, 'failed', BEING_DELETED]]);
  const record: PlacedRecord = {
    run: '003',
    requests: [
      req(10, A, 'create', 201),
      req(60, A, 'delete', 200, { deleted: 'stayed' }),
      req(70, A, 'update', 200, { object: { ...iris2, subresource: 'status' } }),
      req(100, B, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED }),
      req(150, B, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED }),
      // The in-process controller removes the finalizer: the object goes with that write.
      req(240, B, 'update', 200),
      req(260, B, 'create', 201),
    ],
  };
  const links = findRecordLinks([run], [record]);
  assert.deepEqual(links, [
    {
      run: '003',
      victim: B,
      object: iris2,
      failure: 'BeingDeleted',
      refusedAt: T0 + 100,
      refusal: { verb: 'create', code: 409, reason: 'AlreadyExists', message: BEING_DELETED },
      refusals: 2,
      createdBy: A,
      createdAt: T0 + 10,
      polluter: A,
      state: 'terminating',
      deletedAt: T0 + 60,
      goneAt: T0 + 240,
      goneBy: 'finalizer-removed',
      margins: { deletedToRefusedMs: 40, refusedToGoneMs: 140 },
    },
  ]);
});

test('without a write after the delete, the watch deletion event (or else the next successful create) says when the object went', () => {
  const run = ranInOrder('001', [[A, 'passed'], [B, 'failed', BEING_DELETED]]);
  const base = [req(10, A, 'create', 201), req(60, A, 'delete', 200, { deleted: 'stayed' }), req(100, B, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED }), req(400, C, 'create', 201)];
  const watched = findRecordLinks([run], [{ run: '001', requests: base, deletions: [{ at: T0 + 300, object: { apiVersion: 'cache.kubeflake.dev/v1alpha1', resource: 'modelcaches', namespace: 'default', name: 'iris2' } }] }]);
  assert.equal(watched[0]?.goneBy, 'watch');
  assert.equal(watched[0]?.margins.refusedToGoneMs, 200);
  const created = findRecordLinks([run], [{ run: '001', requests: base }]);
  assert.equal(created[0]?.goneBy, 'next-create');
  assert.equal(created[0]?.goneAt, T0 + 400);
});

test('no link when the record does not show another spec putting the object in the way', () => {
  const run = ranInOrder('002', [[SETUP, 'passed'], [A, 'passed'], [B, 'failed', BEING_DELETED]]);
  const refused = req(200, B, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED });
  const cases: Record<string, RecordRequest[]> = {
    'the delete removed it at once': [req(110, A, 'create', 201), req(150, A, 'delete', 200, { deleted: 'gone' }), refused],
    'the victim made it itself': [req(190, B, 'create', 201), req(195, B, 'delete', 200, { deleted: 'stayed' }), refused],
    'suite setup made it': [req(10, SETUP, 'create', 201), refused],
    'the refusal is another spec’s, not the victim’s': [req(110, A, 'create', 201), req(150, A, 'delete', 200, { deleted: 'stayed' }), req(160, A, 'create', 409, { reason: 'AlreadyExists' })],
    'the record shows it gone before the refusal': [req(110, A, 'create', 201), req(150, A, 'delete', 200, { deleted: 'stayed' }), req(160, A, 'update', 200), req(170, C, 'create', 201), req(175, C, 'delete', 200, { deleted: 'gone' }), refused],
  };
  for (const [why, requests] of Object.entries(cases)) assert.deepEqual(findRecordLinks([run], [{ run: '002', requests }]), [], why);
  // A run without a record gives no link at all.
  assert.deepEqual(findRecordLinks([run], []), []);
});

test('an object A created and never deleted is "present"; a shared object A deleted is "deleted" for a NotFound', () => {
  const run = ranInOrder('004', [[A, 'passed'], [B, 'failed', 'modelcaches.cache.kubeflake.dev "iris2" already exists']]);
  const present = findRecordLinks([run], [{ run: '004', requests: [req(10, A, 'create', 201), req(110, B, 'create', 409, { reason: 'AlreadyExists' })] }]);
  assert.equal(present.length, 1);
  assert.equal(present[0]?.state, 'present');
  assert.equal(present[0]?.polluter, A);
  assert.equal(present[0]?.failure, 'AlreadyExists');

  const cm = { group: '', resource: 'configmaps', namespace: 'default', name: 'model-defaults' };
  const notFound = ranInOrder('005', [[A, 'passed'], [B, 'failed', 'configmaps "model-defaults" not found']]);
  const deleted = findRecordLinks([notFound], [{ run: '005', requests: [req(50, A, 'delete', 200, { object: cm, deleted: 'gone' }), req(120, B, 'get', 404, { object: cm, reason: 'NotFound' })] }]);
  assert.equal(deleted[0]?.state, 'deleted');
  assert.equal(deleted[0]?.polluter, A);
  assert.equal(deleted[0]?.margins.deletedToRefusedMs, 70);
});

test('a conflict is linked to the spec that wrote the object after the victim read it (parallel specs)', () => {
  const run = ranInOrder('006', [[A, 'passed'], [B, 'failed', 'Operation cannot be fulfilled on modelcaches.cache.kubeflake.dev "iris2": the object has been modified; please apply your changes to the latest version and try again']]);
  const links = findRecordLinks([run], [{ run: '006', requests: [req(100, B, 'get', 200), req(105, A, 'update', 200), req(110, B, 'update', 409, { reason: 'Conflict' })] }]);
  assert.equal(links[0]?.state, 'modified');
  assert.equal(links[0]?.polluter, A);
  // A write before the victim's read explains no conflict.
  assert.deepEqual(findRecordLinks([run], [{ run: '006', requests: [req(95, A, 'update', 200), req(100, B, 'get', 200), req(110, B, 'update', 409, { reason: 'Conflict' })] }]), []);
});

test('reads count: a spec whose GET found nothing in a run it failed names the specs that create that name in other runs', () => {
  const cm = { group: '', resource: 'configmaps', namespace: 'default', name: 'model-defaults' };
  const failing = ranInOrder('000', [[B, 'failed', 'Expected <bool>: false to be true'], [A, 'passed']]);
  const passing = ranInOrder('001', [[A, 'passed'], [B, 'passed']]);
  const records: PlacedRecord[] = [
    { run: '000', requests: [req(5, B, 'get', 404, { object: cm })] },
    { run: '001', requests: [req(5, A, 'create', 201, { object: cm }), req(105, B, 'get', 200, { object: cm })] },
  ];
  assert.deepEqual(findReadMisses([failing, passing], records), [{ run: '000', reader: B, object: cm, at: T0 + 5, creators: [A] }]);
  // A miss in a run the reader passed is no evidence.
  assert.deepEqual(findReadMisses([passing], [{ run: '001', requests: [req(105, B, 'get', 404, { object: cm })] }, records[1] as PlacedRecord]), []);
});

test('placedRecord: the record core entries of every control plane, placed in the spec running when the server received them; kubeflake’s own requests left out', () => {
  const run = ranInOrder('003', [[A, 'passed'], [B, 'failed', BEING_DELETED]]);
  const entry = (at: number, verb: string, code: number, extra: Partial<RecordEntry> = {}): RecordEntry => ({
    auditID: `${at}`, requestReceivedTimestamp: T0 + at, stageTimestamp: T0 + at + 1, verb, user: 'admin', userAgent: 'controller.test/v0.0.0', actor: 'test', requestURI: '/apis',
    object: { apiGroup: 'cache.kubeflake.dev', apiVersion: 'v1alpha1', resource: 'modelcaches', namespace: 'default', name: 'iris2' }, code, ...extra,
  });
  const placed = placedRecord({
    run,
    record: {
      envtest: {
        'i-1': { entries: [entry(10, 'create', 201), entry(60, 'delete', 200, { deleted: 'stayed' }), entry(100, 'create', 409, { reason: 'AlreadyExists', message: BEING_DELETED }), entry(120, 'get', 200, { actor: 'kubeflake', userAgent: 'kubeflake/0.1.0' })], lines: 4, skipped: 0, cut: false, problems: [], dropped: 0 },
      },
    },
  });
  assert.ok(placed);
  assert.deepEqual(placed.requests.map((r) => [r.at - T0, r.verb, r.spec, r.object?.plane]), [
    [10, 'create', A, 'i-1'],
    [60, 'delete', A, 'i-1'],
    [100, 'create', B, 'i-1'],
  ]);
  const links = findRecordLinks([run], [placed]);
  assert.equal(links[0]?.polluter, A);
  assert.equal(links[0]?.object.plane, 'i-1');
  assert.equal(placedRecord({ run }), undefined, 'no record, nothing placed');
});
