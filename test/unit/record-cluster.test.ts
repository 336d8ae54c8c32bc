// Attribution by the record on a real run against kubeflake's local control plane
// (test/fixtures/record/cluster: the example's unfixed suite, USE_EXISTING_CLUSTER=true, its CRD
// installed by its own BeforeSuite, kubeflake's watch running as a hunt runs it). Every leak's
// creator comes from its create in the record, and agrees with the example's ground truth; the
// record holds every object the suite made, whenever its type became watchable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HuntLog, runLeaks } from '../../src/hunt-log.ts';
import { attribute, summarizeAttribution } from '../../src/cluster/attribution.ts';
import { timelineEvents } from '../../src/cluster/watch.ts';
import { RecordAttribution } from '../../src/record/attribution.ts';
import { RecordIndex } from '../../src/record/creates.ts';
import { testId, type LeakReport, type Snapshot } from '../../src/model.ts';
import { fixtures, projectRoot } from '../support/paths.ts';

interface Expected { apiVersion: string; kind: string; name?: string; namePattern?: string; namespace?: string; namespacePattern?: string }
interface GroundTruthSpec { name: string; role: string; leaks?: Expected[]; state?: Expected[] }
const truth = JSON.parse(readFileSync(join(projectRoot, 'examples', 'modelcache', 'ground-truth.json'), 'utf8')) as { suite: string; specs: GroundTruthSpec[] };
const suiteSetup = testId(truth.suite, '[BeforeSuite]');

/** The spec the ground truth says leaves an object like this one (its leaks, or the state it sets and leaves). */
function expectedCreator(leak: LeakReport): string | undefined {
  const fits = (e: Expected) => e.apiVersion === leak.apiVersion && e.kind === leak.kind &&
    (e.name ? e.name === leak.name : e.namePattern ? new RegExp(e.namePattern).test(leak.name) : true) &&
    (e.namespace !== undefined ? e.namespace === leak.namespace : e.namespacePattern ? new RegExp(e.namespacePattern).test(leak.namespace) : leak.namespace === '');
  const spec = truth.specs.find((s) => [...(s.leaks ?? []), ...(s.state ?? [])].some(fits));
  return spec && testId(truth.suite, spec.name);
}

const dir = join(fixtures, 'record', 'cluster');
const log = await HuntLog.load(dir);
const entry = log.runs[0];
assert.ok(entry?.record?.cluster, 'the run has the cluster\'s record');
const record = entry.record.cluster.entries;

test('every leak is named by its own create in the record, the spec the ground truth says; the suite\'s CRD by its BeforeSuite', () => {
  assert.ok(entry.leaks.length >= 8);
  for (const leak of entry.leaks) {
    const expected = leak.kind === 'CustomResourceDefinition' ? suiteSetup : expectedCreator(leak);
    assert.ok(expected, `the ground truth knows ${leak.kind} ${leak.namespace}/${leak.name}`);
    assert.equal(leak.createdBy, expected, `${leak.kind} ${leak.namespace}/${leak.name}`);
    assert.equal(leak.evidence, 'audit');
    assert.equal(leak.attribution, 'exact');
  }
  const generated = entry.leaks.filter((l) => l.recordCreate?.match === 'generate-name').map((l) => l.kind).sort();
  assert.deepEqual(generated, ['ClusterRole', 'Namespace'], 'the tenant namespace (named first by a request inside it) and the ClusterRole no request ever names again');
  assert.equal(entry.leaks.find((l) => l.kind === 'CustomResourceDefinition')?.recordCreate?.placement, 'setup');
});

test('the record leaves no guess where the watch had to guess, and the summary says the record decided', () => {
  const summary = summarizeAttribution(entry.leaks, [entry.timeline]);
  assert.equal(summary.guessed, 0);
  assert.equal(summary.byRecord, summary.objects);
  const baseline = JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as Snapshot;
  const after = JSON.parse(readFileSync(join(dir, 'runs', '000', 'after.json'), 'utf8')) as Snapshot;
  const byWatch = runLeaks({ baseline, after, timeline: entry.timeline, run: entry.run, rules: log.rules, earlier: new Set() }).leaks;
  const watchSummary = summarizeAttribution(byWatch, [entry.timeline]);
  assert.equal(watchSummary.byRecord, undefined);
  assert.ok(watchSummary.guessed > 0, 'from the watch alone, a creation seen at a spec boundary was a guess among several specs');
  assert.deepEqual(byWatch.map((l) => l.uid).sort(), entry.leaks.map((l) => l.uid).sort(), 'the same objects leaked: only who made them is decided differently');
});

test('suites that install their CRDs themselves lose no object to the type discovery race: the record holds every one', () => {
  const index = new RecordIndex(record);
  const byRecord = new RecordAttribution(record, entry.run);
  const crdCreate = record.find((e) => e.verb === 'create' && e.object?.resource === 'customresourcedefinitions' && e.code === 201);
  assert.ok(crdCreate && crdCreate.actor === 'test', 'the suite installs its CRD itself');
  // Every custom resource any request of the test process names has its create in the record, placed in one spec.
  const names = new Set(record.filter((e) => e.actor === 'test' && e.object?.resource === 'modelcaches' && e.object.name).map((e) => e.object?.name as string));
  assert.ok(names.size >= 15);
  for (const name of names) {
    const creator = byRecord.creatorOf({ apiVersion: 'cache.kubeflake.dev/v1alpha1', resource: 'modelcaches', name });
    if (name === 'standby') continue; // refused by validation: never created
    assert.ok(creator?.certain && creator.byTest, `${name}: its create is in the record, placed without a guess`);
  }
  // The BeforeSuite's own cache: created right after the CRD, while its type was still being
  // discovered and its storage made ready (the create waited for it), and deleted at once.
  const probe = [...names].find((n) => n.startsWith('suite-probe-')) as string;
  const probeRef = { apiVersion: 'cache.kubeflake.dev/v1alpha1', resource: 'modelcaches', name: probe };
  const create = index.createOf(probeRef);
  assert.ok(create && create.match === 'generate-name');
  assert.ok(create.entry.requestReceivedTimestamp - crdCreate.requestReceivedTimestamp < 1000, 'sent within a second of the CRD');
  assert.ok(create.entry.stageTimestamp - create.entry.requestReceivedTimestamp > 500, 'its create waited for the new type\'s storage');
  assert.equal(byRecord.creatorOf(probeRef)?.placement.test, suiteSetup);
  const deletes = index.deletesOf(probeRef);
  assert.deepEqual(deletes.map((e) => e.deleted), ['stayed'], 'deleted while its finalizer held it');
  const life = deletes[0] as { requestReceivedTimestamp: number };
  assert.ok(life.requestReceivedTimestamp - create.entry.stageTimestamp < 1000, 'created and deleted within a second: a watch that finds the type later never sees it');
  // This run's watch found the type in time; the record does not depend on it.
  assert.ok(timelineEvents(entry.timeline).some((e) => e.object.name === probe));
});

test('the victim\'s refused create is in the record with its code and reason, after the polluter\'s delete of the same name', () => {
  const index = new RecordIndex(record);
  const iris2 = { apiVersion: 'cache.kubeflake.dev/v1alpha1', resource: 'modelcaches', name: 'iris2' };
  const refused = index.mentionsOf(iris2).find((e) => e.verb === 'create' && e.code === 409);
  assert.ok(refused, 'the victim ran after the polluter in this run (seed 11) and its create was refused');
  assert.equal(refused.reason, 'AlreadyExists');
  assert.match(refused.message ?? '', /object is being deleted/);
  const deleted = index.deletesOf(iris2).find((e) => e.requestReceivedTimestamp < refused.requestReceivedTimestamp);
  assert.equal(deleted?.deleted, 'stayed');
  const placer = new RecordAttribution(record, entry.run).placer;
  const polluter = testId(truth.suite, 'ModelCache lifecycle evicts the iris2 cache on delete');
  const victim = testId(truth.suite, 'ModelCache serving warms the iris2 cache for inference');
  assert.equal(placer?.entry(deleted as { requestReceivedTimestamp: number }).test, polluter);
  assert.equal(placer?.entry(refused).test, victim);
});

test('an object a controller made for a leaked one follows its owner, whose own create the record gives', () => {
  const after = JSON.parse(readFileSync(join(dir, 'runs', '000', 'after.json'), 'utf8')) as Snapshot;
  const iris2 = after.objects.find((o) => o.kind === 'ModelCache' && o.name === 'iris2');
  assert.ok(iris2);
  // A shard ConfigMap the controller would make for the cache, created a second after it (late in the run).
  const shard = {
    apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'iris2-shard-0', uid: 'b5d1c8f2-0c2e-4d55-9d5e-3d0f3a1c2b7e', resource: 'configmaps', namespaced: true,
    creationTimestamp: new Date(Date.parse(iris2.creationTimestamp ?? '') + 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    ownerReferences: [{ apiVersion: iris2.apiVersion, kind: iris2.kind, name: iris2.name, uid: iris2.uid, controller: true }],
  };
  const [leak] = attribute([shard, iris2], entry.timeline, entry.run, { record }).filter((l) => l.name === 'iris2-shard-0');
  const polluter = testId(truth.suite, 'ModelCache lifecycle evicts the iris2 cache on delete');
  assert.deepEqual([leak?.createdBy, leak?.attribution, leak?.evidence, leak?.owner?.name, leak?.recordCreate?.match], [polluter, 'owner', 'owner', 'iris2', 'name']);
});
