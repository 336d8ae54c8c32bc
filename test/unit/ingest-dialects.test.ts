import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseReport } from '../../src/ingest/parse.ts';
import type { ParsedReport, TestCase } from '../../src/model.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url));

function byName(report: ParsedReport, name: string): TestCase {
  const found = report.cases.find((c) => c.name === name);
  assert.ok(found, `no case named ${JSON.stringify(name)} in ${report.file}: ${report.cases.map((c) => c.name).join(' | ')}`);
  return found;
}

test('Ginkgo JUnit (real ginkgo v2.34.0 output): prefix and labels stripped, status attribute, locations', async () => {
  const r = await parseReport(fixture('ginkgo-junit.xml'));
  assert.equal(r.dialect, 'ginkgo-junit');
  assert.equal(r.cases.length, 13);
  assert.deepEqual(r.warnings, []);
  const dup = byName(r, 'Widget when created rejects a duplicate');
  assert.equal(dup.id, 'Fixture Suite :: Widget when created rejects a duplicate');
  assert.equal(dup.suite, 'Fixture Suite');
  assert.deepEqual(dup.labels, ['widget', 'flaky', 'api']);
  assert.equal(dup.status, 'failed');
  assert.match(dup.failure!.message, /Unexpected error/);
  assert.deepEqual(dup.failure!.location, { file: 'gosrc/ginkgosuite/suite_test.go', line: 39 });
  assert.equal(dup.file, 'gosrc/ginkgosuite/suite_test.go');
  assert.equal(dup.line, 37);
  assert.equal(byName(r, 'Widget deletion with a finalizer waits for the finalizer').status, 'passed');
  assert.equal(byName(r, 'Widget when created is pending').status, 'skipped');
  assert.equal(byName(r, 'Widget when created is skipped at run time').status, 'skipped');
  const panic = byName(r, 'Gadget panics');
  assert.equal(panic.status, 'failed');
  assert.equal(panic.failure!.type, 'panicked');
  // Suite-level nodes stay cases, recognisable by their bracketed node type.
  for (const node of ['[BeforeSuite]', '[AfterSuite]', '[DeferCleanup (Suite)]']) assert.equal(byName(r, node).status, 'passed');
  // Ginkgo JUnit tells the retry only in its timeline.
  assert.equal(byName(r, 'Gadget recovers on retry').retries?.length, 1);
  assert.ok(r.cases.every((c) => c.index === undefined), 'JUnit gives no exact order index');
});

test('Ginkgo JSON (real --json-report): exact order, per-spec times, labels, failure, attempts', async () => {
  const r = await parseReport(fixture('ginkgo.json'));
  assert.equal(r.dialect, 'ginkgo-json');
  assert.equal(r.cases.length, 13);
  assert.deepEqual(r.suites.map((s) => [s.name, s.path]), [['Fixture Suite', 'gosrc/ginkgosuite']]);
  assert.ok(r.suites[0]!.startedAt! > Date.UTC(2020, 0, 1));
  assert.deepEqual(r.cases.map((c) => c.index), [...r.cases.keys()]);
  assert.equal(r.cases[0]!.name, '[BeforeSuite]');
  const dup = byName(r, 'Widget when created rejects a duplicate');
  assert.deepEqual(dup.labels, ['widget', 'flaky', 'api']);
  assert.deepEqual(dup.failure!.location, { file: 'gosrc/ginkgosuite/suite_test.go', line: 39 });
  assert.equal(dup.failure!.type, 'failed');
  assert.ok(dup.startedAt! > Date.UTC(2020, 0, 1) && dup.endedAt! >= dup.startedAt!);
  assert.deepEqual([dup.file, dup.line], ['gosrc/ginkgosuite/suite_test.go', 37]);
  assert.equal(byName(r, 'Gadget panics').failure!.message, 'assignment to entry in nil map');
  assert.deepEqual(byName(r, 'Gadget recovers on retry').retries, [{ status: 'failed' }]);
  assert.equal(byName(r, 'Widget when created is pending').status, 'skipped');
  // Starts follow the array order (a serial run).
  const starts = r.cases.filter((c) => c.status !== 'skipped').map((c) => c.startedAt!);
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
});

test('gotestsum JUnit (real v1.13.0 output): suite is the import path, subtests keep their slash', async () => {
  const r = await parseReport(fixture('gotestsum.xml'));
  assert.equal(r.dialect, 'gotestsum');
  assert.equal(r.cases.length, 5);
  const neg = byName(r, 'TestAdd/negative');
  assert.equal(neg.id, 'kubeflake.test/fixtures/plaintest :: TestAdd/negative');
  assert.equal(neg.status, 'failed');
  assert.deepEqual(neg.failure!.location, { file: 'plain_test.go', line: 14 });
  assert.equal(neg.classname, undefined, 'classname equal to the suite is not repeated');
  assert.equal(byName(r, 'TestSkipped').status, 'skipped');
  assert.equal(byName(r, 'TestAdd/positive').status, 'passed');
});

test('go-junit-report v2 (real output): same identities as gotestsum for the same package', async () => {
  const r = await parseReport(fixture('go-junit-report.xml'));
  const g = await parseReport(fixture('gotestsum.xml'));
  assert.equal(r.dialect, 'go-junit-report');
  assert.deepEqual(r.cases.map((c) => c.id).sort(), g.cases.map((c) => c.id).sort());
  assert.deepEqual(byName(r, 'TestAdd/negative').failure!.location, { file: 'plain_test.go', line: 14 });
  assert.equal(byName(r, 'TestSkipped').status, 'skipped');
});

test('jest-junit: classname path joined with ›, message from the first line of the body', async () => {
  const r = await parseReport(fixture('jest-junit.xml'));
  assert.equal(r.dialect, 'jest-junit');
  const c = byName(r, 'Test 1 › Test 1.1 › Failing test');
  assert.equal(c.suite, '__tests__\\main.test.js');
  assert.equal(c.failure!.message, 'Error: expect(received).toBeTruthy()');
  assert.match(c.failure!.text!, /main\.test\.js:10:21/);
  assert.equal(r.suites.length, 2);
  assert.equal(r.suites[0]!.startedAt, Date.UTC(2020, 9, 27, 21, 39, 41));
});

test('pytest: classname.name, skipped and xfail as skipped, failures with text', async () => {
  const r = await parseReport(fixture('python-xunit-pytest.xml'));
  assert.equal(r.dialect, 'pytest');
  assert.equal(r.cases.length, 10);
  assert.equal(byName(r, 'tests.test_lib.test_always_fail').failure!.message, 'assert False');
  assert.equal(byName(r, 'tests.test_lib.test_always_skip').status, 'skipped');
  assert.equal(byName(r, 'tests.test_lib.test_expected_failure').status, 'skipped');
  assert.equal(byName(r, 'custom_classname.test_with_record_xml_attribute').status, 'passed');
});

test('python unittest (xmlrunner): run timestamp dropped from the suite name, per-test timestamps and file/line', async () => {
  const r = await parseReport(fixture('python-xunit-unittest.xml'));
  assert.equal(r.dialect, 'junit');
  const c = byName(r, 'test_error');
  assert.equal(c.id, 'TestAcme :: test_error');
  assert.deepEqual([c.file, c.line], ['tests/test_lib.py', 30]);
  assert.equal(c.startedAt, Date.UTC(2025, 10, 14, 21, 49, 22));
  assert.equal(c.failure!.type, 'Exception');
});

test('Maven Surefire: flakyFailure and rerunFailure/rerunError become retries', async () => {
  const r = await parseReport(fixture('surefire-reruns.xml'));
  assert.equal(r.dialect, 'surefire');
  const flaky = byName(r, 'deletesWidget');
  assert.equal(flaky.id, 'com.example.widgets.WidgetControllerTest :: deletesWidget');
  assert.equal(flaky.status, 'passed');
  assert.equal(flaky.retries?.length, 1);
  assert.equal(flaky.retries![0]!.status, 'failed');
  assert.equal(flaky.retries![0]!.failure!.message, 'expected: <200> but was: <409>');
  assert.match(flaky.retries![0]!.failure!.text!, /WidgetControllerTest\.java:57/);
  const broken = byName(r, 'updatesWidget');
  assert.equal(broken.status, 'failed');
  assert.equal(broken.failure!.type, 'java.lang.IllegalStateException');
  assert.deepEqual(broken.retries!.map((x) => x.failure!.type), ['java.lang.IllegalStateException', 'java.net.ConnectException']);
  assert.equal(byName(r, 'listsWidgets').status, 'skipped');
});

test('generic JUnit with nested testsuites (PHPUnit): innermost suite names the case', async () => {
  const r = await parseReport(fixture('external-phpunit-phpcheckstyle-phpunit.xml'));
  assert.equal(r.dialect, 'junit');
  assert.equal(r.cases.length, 30);
  const c = byName(r, 'testGoodDoc');
  assert.equal(c.suite, 'CommentsTest');
  assert.equal(c.line, 12);
  assert.equal(r.cases.filter((x) => x.status === 'failed').length, 2);
  assert.ok(r.suites.some((s) => s.name === 'PHPUnitTestSuite'));
});

test('generic JUnit: the Testmo reference file, an empty suite, a googletest-style status and a large TestNG report', async () => {
  const complete = await parseReport(fixture('external-java-junit4-complete.xml'));
  assert.equal(complete.cases.length, 8);
  assert.equal(complete.cases.filter((c) => c.status === 'failed').length, 2);
  assert.equal(complete.cases.filter((c) => c.status === 'skipped').length, 1);
  const empty = await parseReport(fixture('empty-java-junit.xml'));
  assert.deepEqual([empty.cases.length, empty.suites.length, empty.warnings.length], [0, 1, 0]);
  const gtest = await parseReport(fixture('junit-with-message.xml'));
  assert.equal(gtest.cases[0]!.name, 'Fails.Test');
  assert.equal(gtest.cases[0]!.failure!.message, 'error');
  const pulsar = await parseReport(fixture('external-java-pulsar-test-report.xml'));
  assert.equal(pulsar.cases.length, 808);
  assert.equal(pulsar.cases.filter((c) => c.status === 'failed').length, 1);
  assert.equal(pulsar.cases.filter((c) => c.status === 'skipped').length, 14);
});
