import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderAnnotations } from '../../src/report/annotations.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { hostileReport } from '../fixtures/reports/hostile.ts';

const findings = loadReport('findings');

test('each finding is annotated at its file:line, victims and broken as failures, flaky as a warning', () => {
  const notes = renderAnnotations(findings);
  const at = (file: string, line: number) => notes.find((n) => n.file === file && n.line === line);
  const victim = at('internal/controller/modelcache_controller_test.go', 142);
  assert.ok(victim);
  assert.equal(victim.level, 'failure');
  assert.equal(victim.title, 'Order-dependent test: ModelCache provisioning creates iris2 and reports it Ready');
  assert.match(victim.message, /^Failed in 3 of 6 runs\./);
  assert.match(victim.message, /Polluter \(confirmed\): ModelCache lifecycle evicts the iris2 cache on delete, via ModelCache default\/iris2/);
  assert.match(victim.message, /BeingDeleted: object is being deleted: modelcaches\.cache\.kubeflake\.dev "iris2" already exists/);
  assert.match(victim.message, /Reproduce: go test \.\/internal\/controller\/\.\.\. -count=1 -args -ginkgo\.seed=1733/);
  assert.equal(at('internal/controller/tenant_quota_test.go', 67)?.level, 'failure');
  assert.equal(at('internal/webhook/modelcache_webhook_test.go', 29)?.level, 'failure');
  assert.equal(at('internal/controller/modelcache_status_test.go', 55)?.level, 'warning');
});

test('the polluter and the state-setter get a notice where the fix belongs', () => {
  const notes = renderAnnotations(findings);
  const polluter = notes.find((n) => n.line === 88);
  assert.equal(polluter?.level, 'notice');
  assert.equal(polluter.title, 'Pollutes later tests: ModelCache lifecycle evicts the iris2 cache on delete');
  assert.match(polluter.message, /Makes "ModelCache provisioning creates iris2 and reports it Ready" fail when it runs later: it leaves ModelCache default\/iris2 behind \(confirmed by a probe\)\. Wait for iris2 to be gone/);
  const setter = notes.find((n) => n.line === 31);
  assert.equal(setter?.title, 'Later tests depend on it: Tenant quota creates the default ResourceQuota');
  assert.equal(notes.length, 6);
});

test('a clean report has no annotations', () => {
  assert.deepEqual(renderAnnotations(loadReport('clean')), []);
});

test('titles stay within GitHub\'s limits and carry no control characters', () => {
  const notes = renderAnnotations(hostileReport());
  assert.ok(notes.length > 400);
  for (const n of notes) {
    assert.ok(n.title.length <= 255 && !/[\u0000-\u001f\u202e]/.test(n.title), n.title);
    assert.ok(n.message.length <= 4000 && !/[\u0000-\u0009\u000b-\u001f\u202e]/.test(n.message));
    assert.ok(n.line >= 1);
  }
});

test('tests without a file are not annotated', () => {
  const report = { ...findings, tests: findings.tests.map((t) => ({ ...t, file: '' })) };
  assert.deepEqual(renderAnnotations(report), []);
});
