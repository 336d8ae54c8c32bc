import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateReport } from '../../src/report/validate.ts';
import { hostileReport } from '../fixtures/reports/hostile.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/reports/${name}.json`, import.meta.url), 'utf8'));

function errorsOf(value: unknown): string[] {
  const result = validateReport(value);
  assert.equal(result.ok, false, 'expected the report to be rejected');
  return result.ok ? [] : result.errors;
}

test('the fixtures are valid v1 reports, and the report comes back as given', () => {
  for (const name of ['findings', 'clean']) {
    const value = fixture(name);
    const result = validateReport(value);
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    assert.equal(result.report, value);
  }
  assert.ok(validateReport(JSON.parse(JSON.stringify(hostileReport()))).ok);
});

test('wrong types and missing fields are named by path', () => {
  const value = fixture('findings');
  value.tests[1].verdict = 'wobbly';
  delete value.runs[2].seed;
  value.leaks[0].finalizers = 'cache.kubeflake.dev/evict';
  value.cleanup.dryRun = 'no';
  value.tests[0].polluters = [{ test: 'x', confirmed: 'yes', via: [0] }];
  const errors = errorsOf(value);
  assert.ok(errors.includes('report.tests[1].verdict: expected one of order-dependent, brittle, broken, flaky, stable, skipped, got "wobbly"'), errors.join('\n'));
  assert.ok(errors.includes('report.runs[2].seed: missing'));
  assert.ok(errors.includes('report.leaks[0].finalizers: expected an array, got "cache.kubeflake.dev/evict"'));
  assert.ok(errors.includes('report.cleanup.dryRun: expected true or false, got "no"'));
  assert.ok(errors.includes('report.tests[0].polluters[0].confirmed: expected true or false, got "yes"'));
  assert.equal(errors.length, 5);
});

test('optional extension fields are checked when present, unknown fields are allowed', () => {
  const value = fixture('findings');
  value.futureField = { anything: true };
  value.tests[0].futureField = 1;
  assert.ok(validateReport(value).ok);
  value.leaks[0].attribution = 'guessed';
  value.runs[0].skipped = 'none';
  assert.deepEqual(errorsOf(value), [
    'report.runs[0].skipped: expected an array, got "none"',
    'report.leaks[0].attribution: expected one of exact, approximate, owner, unknown, got "guessed"',
  ]);
});

test('a via index past the leaks and a duplicate test id are caught', () => {
  const value = fixture('findings');
  const victim = value.tests.findIndex((t: { verdict: string }) => t.verdict === 'order-dependent');
  value.tests[victim].polluters[0].via = [9];
  value.tests.push({ ...value.tests[0] });
  const errors = errorsOf(value);
  assert.ok(errors.some((e) => e.startsWith(`report.tests[${victim}].polluters[0].via[0]: leak index 9 is out of range (the report has 4 leaks)`)), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith(`report.tests[${value.tests.length - 1}].id: duplicate test id`)));
});

test('another schema version, or not a report at all, is rejected with what to do', () => {
  assert.match(errorsOf({ ...fixture('clean'), schema: 'kubeflake/report@2' })[0]!, /this kubeflake reads kubeflake\/report@1, the file is kubeflake\/report@2/);
  assert.deepEqual(errorsOf({ ...fixture('clean'), schema: 'something' }), ['report.schema: expected "kubeflake/report@1", got "something"']);
  assert.deepEqual(errorsOf([]), ['report: expected an object, got an array']);
  assert.deepEqual(errorsOf(null), ['report: expected an object, got null']);
});

test('a badly broken file stops after 50 problems', () => {
  const value = fixture('clean');
  value.tests = Array.from({ length: 500 }, () => ({ id: 1 }));
  const errors = errorsOf(value);
  assert.equal(errors.length, 51);
  assert.match(errors[50]!, /stopped after 50 problems/);
});

test('kubeflake report renders a report.json only after the check: a bad file is refused with each problem named', async () => {
  const { readReportFile } = await import('../../src/pipeline.ts');
  const { SettingsError } = await import('../../src/settings.ts');
  const good = new URL('../fixtures/reports/findings.json', import.meta.url).pathname;
  assert.deepEqual(await readReportFile(good), fixture('findings'));
  const dir = mkdtempSync(join(tmpdir(), 'kf-validate-'));
  const bad = join(dir, 'report.json');
  writeFileSync(bad, JSON.stringify({ ...fixture('findings'), runs: 'all of them' }));
  await assert.rejects(readReportFile(bad), (e: unknown) => e instanceof SettingsError && e.message === `${bad} is not a kubeflake report:\n  report.runs: expected an array, got "all of them"`);
  writeFileSync(bad, '{"schema": "kubeflake/report@1",');
  await assert.rejects(readReportFile(bad), (e: unknown) => e instanceof SettingsError && e.message.startsWith(`cannot read ${bad} as a report: `));
  rmSync(dir, { recursive: true });
});
