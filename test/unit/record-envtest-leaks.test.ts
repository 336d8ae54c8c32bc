// Leaks inside envtest's never-deleted namespaces, on a real run (test/fixtures/record/envtest:
// the example's fixed variant as it was when three specs relied on deleting their namespace to
// remove what they made in it; envtest runs no namespace controller). The namespaces are no leak;
// what the specs made inside them is, marked, and given by the record to the spec that made it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { buildReport } from '../../src/build-report.ts';
import { envtestRunLeaks, readEnvtestEvidence } from '../../src/envtest/evidence.ts';
import { splitDeletedNamespaces, summarizeAttribution } from '../../src/cluster/attribution.ts';
import { DEFAULT_NOISE_RULES } from '../../src/cluster/noise.ts';
import { DELETED_NAMESPACE_HINT, testId, type TimelineEntry } from '../../src/model.ts';
import { fixtures, projectRoot } from '../support/paths.ts';

interface GroundTruthSpec { name: string; role: string }
const truth = JSON.parse(readFileSync(join(projectRoot, 'examples', 'modelcache', 'ground-truth.json'), 'utf8')) as { suite: string; specs: GroundTruthSpec[] };
const byRole = (role: string) => truth.specs.filter((s) => s.role === role).map((s) => testId(truth.suite, s.name));
const [leaker] = byRole('leaker');
const [stateSetter] = byRole('state-setter');
const [brittle] = byRole('brittle');

const dir = join(fixtures, 'record', 'envtest');
const log = await HuntLog.load(dir);
const entry = log.runs[0];
assert.ok(entry?.record, 'the fixture run has its envtest instance\'s record');
const leaks = entry.leaks;
const evidence = await readEnvtestEvidence(join(dir, 'runs', '000'));

test('what the specs made inside the namespaces they deleted is a leak, marked; the terminating namespaces themselves are not', () => {
  const after = evidence[0]?.after?.objects ?? [];
  const deletedNamespaces = after.filter((o) => o.kind === 'Namespace' && o.deletionTimestamp).map((o) => o.name);
  assert.equal(deletedNamespaces.length, 3, 'the tenancy spec and both defaults specs deleted their namespace; envtest left them terminating');
  assert.deepEqual(leaks.filter((l) => l.kind === 'Namespace'), []);
  assert.deepEqual(leaks.map((l) => `${l.kind} ${l.name}`).sort(), [
    'ConfigMap modelcache-defaults', 'ConfigMap modelcache-defaults', 'ConfigMap tenant-config', 'RoleBinding modelcache-reader', 'Secret registry-credentials',
  ]);
  assert.ok(leaks.every((l) => l.inDeletedNamespace === true && deletedNamespaces.includes(l.namespace)));
});

test('each is given by its own create in the record to the spec that made it, as the ground truth says', () => {
  const creators = (namePrefix: string) => [...new Set(leaks.filter((l) => l.namespace.startsWith(namePrefix)).map((l) => l.createdBy))].sort();
  assert.deepEqual(creators('modelcache-tenant-'), [leaker]);
  assert.deepEqual(creators('modelcache-system-'), [brittle, stateSetter].sort(), 'both defaults specs seed a ConfigMap in a namespace of their own');
  assert.ok(leaks.every((l) => l.evidence === 'audit' && l.attribution === 'exact' && l.recordCreate?.match === 'name' && l.recordCreate.placement === 'window'));
  assert.deepEqual(summarizeAttribution(leaks), { objects: 5, exact: 5, byNamespace: 0, byOwner: 0, fellBack: 0, guessed: 0, unknown: 0, byRecord: 5 });
});

test('the report counts the leaks the record decided, in the run and over the hunt', () => {
  const report = buildReport(log, new Date(0));
  assert.equal(report.attribution?.byRecord, 5);
  assert.equal(report.runs[0]?.attribution?.byRecord, 5);
  assert.ok(report.leaks.every((l) => l.inDeletedNamespace));
});

test('without the record the watch names the same specs (the record decides first where there is one)', () => {
  const watched = envtestRunLeaks(evidence, entry.run, DEFAULT_NOISE_RULES).flat();
  assert.deepEqual(watched.map((l) => [l.name, l.namespace, l.createdBy]).sort(), leaks.map((l) => [l.name, l.namespace, l.createdBy]).sort());
  assert.deepEqual([...new Set(watched.map((l) => l.evidence))], ['namespace'], 'each lies in a namespace its spec made: the namespace rule, as before the record');
  assert.ok(watched.every((l) => l.inDeletedNamespace));
});

test('where namespaces really go away (a namespace controller runs), nothing is held back or marked', () => {
  const after = evidence[0]?.after?.objects ?? [];
  const held = splitDeletedNamespaces(after, evidence[0]?.timeline ?? []);
  assert.ok(leaks.every((l) => held.inDeletedNamespace.has(l.uid)));
  assert.equal(held.leaked.length, after.length - 3, 'envtest: the three terminating namespaces are held back');
  const namespace = after.find((o) => o.kind === 'Namespace' && o.deletionTimestamp);
  const gone: TimelineEntry = { at: 1, verb: 'deleted', object: { apiVersion: 'v1', kind: 'Namespace', name: namespace?.name ?? '', uid: namespace?.uid ?? '' } };
  const controlled = splitDeletedNamespaces(after, [gone]);
  assert.equal(controlled.inDeletedNamespace.size, 0);
  assert.equal(controlled.leaked.length, after.length);
});

test('the hint tells what to do', () => {
  assert.match(DELETED_NAMESPACE_HINT, /no namespace controller/);
  assert.match(DELETED_NAMESPACE_HINT, /Delete what the spec created/);
  assert.match(DELETED_NAMESPACE_HINT, /stop the manager and wait/);
  assert.match(DELETED_NAMESPACE_HINT, /scope the manager's cache to the spec's namespace/);
});

test('specs that ran in parallel: the record\'s creator is a guess with its candidates, and the run says so once', () => {
  const tenancyCase = entry.run.cases.find((c) => c.id === leaker);
  const previous = [...entry.run.cases].filter((c) => c.node !== 'suite-setup' && (c.endedAt ?? 0) <= (tenancyCase?.startedAt ?? 0)).sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0))[0];
  assert.ok(tenancyCase && previous);
  // The spec before the tenancy spec stretched over it, as if the two ran on two Ginkgo processes.
  const parallel = { ...entry.run, cases: entry.run.cases.map((c) => (c.id === previous.id ? { ...c, endedAt: (tenancyCase.endedAt as number) - 1 } : c)) };
  const recordOf = () => Object.values(entry.record?.envtest ?? {})[0]?.entries;
  const guessed = envtestRunLeaks(evidence, parallel, DEFAULT_NOISE_RULES, () => undefined, recordOf).flat();
  const tenancyLeaks = guessed.filter((l) => l.namespace.startsWith('modelcache-tenant-'));
  assert.ok(tenancyLeaks.length === 3 && tenancyLeaks.every((l) => l.recordCreate?.placement === 'parallel' && l.attribution === 'approximate' && l.candidates?.length === 2));
  assert.deepEqual(tenancyLeaks[0]?.candidates, [leaker, previous.id], 'the latest to start first');
  const report = buildReport({ ...log, runs: [{ ...entry, run: parallel, leaks: guessed }] }, new Date(0));
  const notices = report.runs[0]?.warnings?.filter((w) => w.includes('specs ran in parallel')) ?? [];
  assert.equal(notices.length, 1);
  assert.match(notices[0] ?? '', /3 leaked object\(s\) are given to the likeliest/);
  assert.equal(report.attribution?.guessed, 3);
});
