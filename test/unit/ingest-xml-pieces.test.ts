// The JUnit reader's pieces, each on its own: the document driven by events without saxes, the
// start-tag readers, the dialect rules and the cut-case rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JUnitDocument, caseFromTag, decideDialect, failureFromTag, outcomeKnown, type DialectSignals } from '../../src/ingest/junit-xml.ts';
import { XmlGuard } from '../../src/ingest/xml-guard.ts';
import { RecoveryLog } from '../../src/ingest/recovery.ts';
import { ReportError } from '../../src/ingest/report-error.ts';
import { defaultLimits } from '../../src/ingest/limits.ts';

/** A guard that saw a whole, well-formed document: nothing open, nothing cut. */
function finishedGuard(): XmlGuard {
  const guard = new XmlGuard(1000, 1000);
  guard.filter('<testsuites></testsuites>');
  return guard;
}

test('JUnitDocument: events in, a ParsedReport out; Surefire retries and the failure body land on their case', () => {
  const doc = new JUnitDocument('events.xml', defaultLimits, new RecoveryLog());
  doc.open('testsuites', {});
  doc.open('testsuite', { name: 'com.example.WidgetTest', timestamp: '2026-11-25T16:58:01' });
  doc.open('testcase', { name: 'creates', classname: 'com.example.WidgetTest', time: '0.25' });
  doc.open('flakyFailure', { message: 'expected 200 but was 409', type: 'AssertionError' });
  doc.open('stackTrace', {});
  doc.text('at WidgetTest.creates(WidgetTest.java:12)');
  doc.close();
  doc.close();
  doc.close();
  doc.open('testcase', { name: 'deletes', classname: 'com.example.WidgetTest', time: '1' });
  doc.open('failure', { message: '', type: 'IllegalStateException' });
  doc.text('Conflict: the object has been modified\n');
  doc.text('\tat WidgetTest.deletes(WidgetTest.java:40)');
  doc.close();
  doc.close();
  doc.close();
  doc.close();
  const r = doc.finish(finishedGuard());
  assert.equal(r.dialect, 'surefire');
  assert.deepEqual(r.suites, [{ name: 'com.example.WidgetTest', startedAt: Date.UTC(2026, 10, 25, 16, 58, 1) }]);
  const [creates, deletes] = r.cases;
  assert.deepEqual([creates!.status, creates!.durationMs, creates!.retries?.[0]?.failure?.text], ['passed', 250, 'at WidgetTest.creates(WidgetTest.java:12)']);
  // A failure with no message takes the first line of its body.
  assert.equal(deletes!.failure!.message, 'Conflict: the object has been modified');
  assert.equal(r.damage, undefined);
});

test('JUnitDocument: a root that is not a report is refused, naming the file', () => {
  const doc = new JUnitDocument('page.xml', defaultLimits, new RecoveryLog());
  assert.throws(() => doc.open('html', {}), (err: unknown) => err instanceof ReportError && /page\.xml: is an HTML page/.test(err.message));
});

test('caseFromTag and failureFromTag read start tags; xunit file/line only when both are usable', () => {
  assert.deepEqual(caseFromTag({ name: 'TestA', classname: 'pkg', time: '0.1', file: 'a_test.go', line: '7' }, 'pkg'), {
    name: 'TestA',
    suite: 'pkg',
    classname: 'pkg',
    time: '0.1',
    file: 'a_test.go',
    line: '7',
    outcome: 'passed',
  });
  assert.deepEqual(failureFromTag({ message: 'boom', type: 'E', file: 't.py', line: '42' }), { message: 'boom', type: 'E', location: { file: 't.py', line: 42 } });
  assert.deepEqual(failureFromTag({ message: 'boom', file: 't.py', line: 'x' }), { message: 'boom' });
});

test('outcomeKnown: a cut case is kept only with a status attribute, a failure or a skip', () => {
  const raw = caseFromTag({ name: 'a' }, 's');
  assert.equal(outcomeKnown(raw), false);
  assert.equal(outcomeKnown({ ...raw, status: 'passed' }), true);
  assert.equal(outcomeKnown({ ...raw, outcome: 'failed' }), true);
  assert.equal(outcomeKnown({ ...raw, outcome: 'skipped' }), true);
});

test('decideDialect: the most specific rule wins', () => {
  const none: DialectSignals = { cases: 2, ginkgoNames: 0, statusAttrs: 0, ginkgoProperties: false, goVersion: false, suiteIds: false, goNames: 0, classIsSuite: 0, surefire: false, jest: false, pytest: false };
  assert.equal(decideDialect(none), 'junit');
  assert.equal(decideDialect({ ...none, ginkgoNames: 2, statusAttrs: 2 }), 'ginkgo-junit');
  assert.equal(decideDialect({ ...none, goVersion: true }), 'gotestsum');
  assert.equal(decideDialect({ ...none, goVersion: true, suiteIds: true }), 'go-junit-report');
  assert.equal(decideDialect({ ...none, goNames: 2, classIsSuite: 2 }), 'gotestsum');
  assert.equal(decideDialect({ ...none, surefire: true, jest: true }), 'surefire');
  assert.equal(decideDialect({ ...none, pytest: true }), 'pytest');
});
