// The record as the hunt's evidence, on a real run (test/fixtures/record/cluster: the example's
// unfixed suite on kubeflake's local control plane, seed 11, where the iris2 victim's create was
// refused while the iris2 its polluter had deleted was still terminating). That one run proves the
// polluter, names the object with its timings, and agrees with the example's ground truth; the
// record of the same run also shows the suite's state dependence (the brittle pair) as a hazard.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { buildReport } from '../../src/build-report.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { placedRecords } from '../../src/record/placed.ts';
import { findRecordLinks } from '../../src/record/links.ts';
import { huntContext, huntFor } from '../../src/analysis/hunt.ts';
import { gatherEvidence } from '../../src/analysis/evidence.ts';
import { testId } from '../../src/model.ts';
import { fixtures, projectRoot } from '../support/paths.ts';

interface GroundTruthSpec { name: string; role: string; victims?: string[]; dependents?: string[]; requires?: string[] }
const truth = JSON.parse(readFileSync(join(projectRoot, 'examples', 'modelcache', 'ground-truth.json'), 'utf8')) as { suite: string; specs: GroundTruthSpec[] };
const id = (name: string) => testId(truth.suite, name);
const POLLUTER = id('ModelCache lifecycle evicts the iris2 cache on delete');
const VICTIM = id('ModelCache serving warms the iris2 cache for inference');

const log = await HuntLog.load(join(fixtures, 'record', 'cluster'));

test('the ground truth names this pair: the polluter of the iris2 victim', () => {
  const polluter = truth.specs.find((s) => id(s.name) === POLLUTER);
  assert.deepEqual(polluter?.victims, [VICTIM.slice(truth.suite.length + 4)]);
});

test('from the record of the one run it failed in: the polluter deleted iris2, which was still terminating when the victim\'s create was refused', () => {
  const run = log.runs[0]?.run;
  assert.ok(run);
  assert.equal(run.cases.find((c) => c.id === VICTIM)?.status, 'failed');
  const links = findRecordLinks([run], placedRecords(log.runs));
  assert.equal(links.length, 1, JSON.stringify(links));
  const [link] = links;
  assert.equal(link?.victim, VICTIM);
  assert.equal(link?.polluter, POLLUTER);
  assert.equal(link?.createdBy, POLLUTER);
  assert.equal(link?.state, 'terminating');
  assert.equal(link?.failure, 'BeingDeleted');
  assert.deepEqual(link?.object, { group: 'cache.kubeflake.dev', resource: 'modelcaches', name: 'iris2' });
  assert.deepEqual(link?.refusal, { verb: 'create', code: 409, reason: 'AlreadyExists', message: 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists' });
  // The server's own times: the delete inside the polluter's window, the refusal inside the victim's, in that order.
  const polluter = run.cases.find((c) => c.id === POLLUTER);
  const victim = run.cases.find((c) => c.id === VICTIM);
  assert.ok(link?.deletedAt !== undefined && polluter?.startedAt !== undefined && polluter.endedAt !== undefined);
  assert.ok(link.deletedAt >= polluter.startedAt && link.deletedAt <= polluter.endedAt, 'deleted during the polluter');
  assert.ok(victim?.startedAt !== undefined && link.refusedAt >= victim.startedAt - 1, 'refused during the victim');
  assert.equal(link.margins.deletedToRefusedMs, Math.round((link.refusedAt - link.deletedAt) * 1000) / 1000);
  assert.ok((link.margins.deletedToRefusedMs ?? 0) > 0);
  // The 10 s drain outlasts the run: the record never shows it gone, and the run left it terminating.
  assert.equal(link.goneAt, undefined);
  assert.ok(log.runs[0]?.leaks.some((l) => l.name === 'iris2' && l.terminating));
});

test('the report confirms the polluter from the record with no probe, and says so; the chain and its timing are in the comment', () => {
  const report = buildReport(log);
  assert.equal(report.runs.filter((r) => r.probe).length, 0, 'no probe ran');
  const victim = report.tests.find((t) => t.id === VICTIM);
  assert.equal(victim?.verdict, 'order-dependent', victim?.why);
  const [polluter] = victim?.polluters ?? [];
  assert.equal(polluter?.test, POLLUTER);
  assert.equal(polluter?.confirmed, true);
  assert.equal(polluter?.decidedBy, 'record');
  assert.equal(polluter?.link?.run, '000');
  assert.match(victim?.why ?? '', /the record of run 000 proves it: ModelCache lifecycle evicts the iris2 cache on delete deleted modelcaches\.cache\.kubeflake\.dev iris2, it was still terminating \(a finalizer pending\) when its create was refused \d+ ms later \(409 AlreadyExists\)/);
  const md = renderMarkdown(report);
  assert.match(md, /\*\*Polluter\*\* \(proven from the record of run 000\): <code>ModelCache lifecycle evicts the iris2 cache on delete<\/code>/);
  assert.match(md, /\*\*Chain\*\* \(record of run <code>000<\/code>\): .* deleted modelcaches\.cache\.kubeflake\.dev iris2 at \+0 ms; the victim's create was refused at \+\d+ ms \(409 AlreadyExists\) while it was terminating; still there when the record ends/);
});

test('the hunt is already decided before any probe; its next probe only measures: the victim alone, on the failing run\'s seed', () => {
  const runs = log.runs.map((e) => e.run);
  const hunt = huntFor(huntContext(gatherEvidence(runs), { maxProbes: 20 }, [], placedRecords(log.runs)), VICTIM);
  assert.equal(hunt.outcome.kind, 'polluted');
  assert.deepEqual(hunt.outcome.kind === 'polluted' ? hunt.outcome.polluters.map((p) => [p.tests, p.record?.run]) : [], [[[POLLUTER], '000']]);
  assert.equal(hunt.next?.plan.purpose, 'alone');
  assert.deepEqual(hunt.next?.plan.tests, [VICTIM]);
  assert.equal(hunt.next?.plan.seed, runs[0]?.seed);
});

test('the record of the same run shows the suite\'s state dependence as a hazard: the defaults reader after the defaults publisher', () => {
  const report = buildReport(log);
  const brittle = truth.specs.find((s) => s.role === 'brittle' && /platform defaults/.test(s.name));
  assert.ok(brittle, 'the ground truth has the brittle spec');
  const hazard = report.hazards?.find((h) => h.kind === 'state-dependence' && h.second === id(brittle.name));
  assert.ok(hazard, JSON.stringify(report.hazards));
  assert.equal(hazard.first, id('ModelCache platform defaults publishes the default shard count for tenants'));
  assert.deepEqual(hazard.object, { group: '', resource: 'configmaps', namespace: 'modelcache-system', name: 'modelcache-defaults' });
});
