import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuarantineError, applyQuarantine, parseQuarantine } from '../../src/quarantine.ts';
import { makeReport } from './github-fixtures.ts';

test('quarantine entries: names, * patterns and /regex/; expired entries apply no more and are reported', () => {
  const entries = parseQuarantine(
    [
      '- creates iris2',
      '- test: "Tenant *"',
      '  reason: quota webhook races',
      '  expires: 2026-12-31',
      '- test: /^evicts .* on delete$/',
      '  reason: cache eviction is timing-bound',
      '- test: reconciles after restart',
      '  reason: was fixed',
      '  expires: 2026-11-01',
    ].join('\n'),
    'the quarantine input',
  );
  const report = makeReport([
    { name: 'creates iris2', verdict: 'order-dependent' },
    { name: 'Tenant quota admits workloads', verdict: 'flaky' },
    { name: 'evicts the cache on delete', verdict: 'flaky' },
    { name: 'reconciles after restart', verdict: 'flaky' },
    { name: 'Tenant namespace is created' },
  ]);
  const outcome = applyQuarantine(report, entries, '2026-11-20');
  assert.deepEqual(outcome.quarantined.map((q) => [q.test.name, q.entry.reason]), [
    ['creates iris2', ''],
    ['Tenant quota admits workloads', 'quota webhook races'],
    ['evicts the cache on delete', 'cache eviction is timing-bound'],
  ]);
  assert.deepEqual(outcome.unquarantined.map((t) => t.name), ['reconciles after restart'], 'stable tests are never listed; the expired entry covers nothing');
  assert.deepEqual(outcome.expired.map((e) => e.test), ['reconciles after restart']);
  assert.equal(applyQuarantine(report, entries, '2027-01-01').quarantined.length, 2, 'the Tenant entry expired too');
});

test('a broken quarantine says which entry and what it accepts', () => {
  assert.throws(() => parseQuarantine('tests: nope', 'q.yaml'), (e: unknown) => e instanceof QuarantineError && /q\.yaml must be a list of tests/.test(e.message));
  assert.throws(() => parseQuarantine('- reason: no test', 'q.yaml'), /q\.yaml entry 1 needs "test:"/);
  assert.throws(() => parseQuarantine('- test: /([/', 'q.yaml'), /q\.yaml entry 1: Invalid regular expression/);
  assert.throws(() => parseQuarantine('- [a', 'q.yaml'), /q\.yaml is not valid YAML/);
  assert.deepEqual(parseQuarantine('  \n', 'q.yaml'), []);
});
