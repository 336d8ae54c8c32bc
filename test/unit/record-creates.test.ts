// Finding an object's create in the record, on a real run (test/fixtures/record/envtest): at
// Metadata level a generateName create names no object and no create has a uid; objects are
// matched by name, or as the nameless create just before their first mention. Checked against
// what kubeflake's watch saw inside the same envtest instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { readEnvtestEvidence } from '../../src/envtest/evidence.ts';
import { timelineEvents } from '../../src/cluster/watch.ts';
import { birthOf, creatorsOf, lagProfile, specWindows } from '../../src/cluster/attribution.ts';
import { RecordAttribution } from '../../src/record/attribution.ts';
import { isCreation, RecordIndex } from '../../src/record/creates.ts';
import type { TimelineEvent } from '../../src/model.ts';
import { fixtures } from '../support/paths.ts';

const dir = join(fixtures, 'record', 'envtest');
const log = await HuntLog.load(dir);
const entry = log.runs[0];
const [evidence] = await readEnvtestEvidence(join(dir, 'runs', '000'));
assert.ok(entry && evidence);
const record = Object.values(entry.record?.envtest ?? {})[0]?.entries ?? [];
const byRecord = new RecordAttribution(record, entry.run);
// What the suite made: the watch saw it created, and the test process sent some request about it.
const made = timelineEvents(evidence.timeline).filter((e): e is TimelineEvent & { object: { resource: string } } =>
  e.verb === 'created' && e.object.resource !== undefined && !['customresourcedefinitions', 'apiservices'].includes(e.object.resource));
const asRecorded = (e: TimelineEvent & { object: { resource: string } }) => ({
  apiVersion: e.object.apiVersion, resource: e.object.resource, name: e.object.name, ...(e.object.namespace ? { namespace: e.object.namespace } : {}), ...(e.createdAt ? { creationTimestamp: e.createdAt } : {}),
});

test('every object the suite made is in the record with its create, by its name or as a generateName create', () => {
  assert.ok(made.length >= 25);
  const matches = made.map((e) => [e.object.name, byRecord.creatorOf(asRecorded(e))?.create.match]);
  assert.deepEqual(matches.filter(([, match]) => match === undefined), [], 'none missing');
  const generated = matches.filter(([, match]) => match === 'generate-name').map(([name]) => name as string);
  assert.ok(generated.some((n) => n.startsWith('suite-probe-')), 'the BeforeSuite\'s probe cache');
  assert.ok(generated.some((n) => n.startsWith('modelcache-tenant-reader-')), 'the generated ClusterRole');
  assert.ok(generated.some((n) => n.startsWith('modelcache-tenant-')), 'a generated namespace, first named by a request inside it');
  assert.ok(matches.some(([name, match]) => name === 'iris2' && match === 'name'));
});

test('each create is the test process\'s, placed without a guess in the spec the watch\'s own evidence names', () => {
  const windows = specWindows(entry.run);
  assert.ok(windows);
  const lag = lagProfile(evidence.timeline);
  for (const e of made) {
    const creator = byRecord.creatorOf(asRecorded(e));
    assert.ok(creator?.byTest && creator.certain, `${e.object.name}: one spec`);
    const watched = creatorsOf(windows, birthOf(e, lag, 2000), 2000);
    assert.ok(watched?.candidates.includes(creator.placement.test), `${e.object.name}: the record's ${creator.placement.test} is among the watch's ${watched?.candidates.join(', ')}`);
  }
});

test('a generateName create goes to one object only: no two objects share a create', () => {
  const creates = made.map((e) => byRecord.creatorOf(asRecorded(e))?.create.entry.auditID);
  assert.equal(new Set(creates).size, creates.length);
});

test('the create is the one that fits the creation second, not a refused or earlier one of the same name', () => {
  const index = new RecordIndex(record);
  const iris2 = made.find((e) => e.object.name === 'iris2');
  assert.ok(iris2);
  const create = index.createOf(asRecorded(iris2));
  assert.equal(create?.entry.code, 201);
  assert.ok(create && isCreation(create.entry));
  // A create refused (422, the invalid "standby" cache) is no creation.
  const refused = record.find((e) => e.verb === 'create' && e.code === 422);
  assert.ok(refused && !isCreation(refused));
  const beforeItWas = index.createOf({ ...asRecorded(iris2), creationTimestamp: '2020-01-01T00:00:00Z' });
  assert.equal(beforeItWas, undefined, 'a creation second no create fits: not this object\'s create');
});

test('deletes and mentions of an object by name, a namespace\'s own requests apart from those inside it', () => {
  const index = new RecordIndex(record);
  const tenant = made.find((e) => e.object.kind === 'Namespace' && e.object.name.startsWith('modelcache-tenant-'));
  assert.ok(tenant);
  const deletes = index.deletesOf(asRecorded(tenant));
  assert.deepEqual(deletes.map((e) => [e.object?.resource, e.object?.name, e.deleted]), [['namespaces', tenant.object.name, 'stayed']]);
  assert.ok(index.mentionsOf(asRecorded(tenant)).every((e) => e.object?.resource === 'namespaces'));
});
