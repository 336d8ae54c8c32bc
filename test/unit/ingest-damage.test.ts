// Damaged reports as real tools write them: every test case that can be recovered is kept, each
// repair is listed with its line and column, and what was lost is counted, never dropped silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, withTemp } from './ingest-support.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { ReportError } from '../../src/ingest/report-error.ts';
import type { ParsedReport, TestCase } from '../../src/model.ts';



/** 1-based line and column of text[at], counted independently of the parser. */
function positionOf(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') };
}

function byName(report: ParsedReport, name: string): TestCase {
  const found = report.cases.find((c) => c.name === name);
  assert.ok(found, `no case ${JSON.stringify(name)}: ${report.cases.map((c) => c.name).join(' | ')}`);
  return found;
}

test('Surefire with ANSI colour codes (&#27;) in failure messages: every case is kept, the codes read as text, each listed', async () => {
  const r = await parseReport(fixture('surefire-ansi.xml'));
  assert.equal(r.dialect, 'surefire');
  assert.deepEqual(
    r.cases.map((c) => [c.name, c.status]),
    [
      ['createsWidget', 'passed'],
      ['rejectsDuplicate', 'failed'],
      ['updatesStatus', 'passed'],
      ['deletesWithFinalizer', 'failed'],
      ['scalesDown', 'passed'],
      ['migratesV1Alpha1', 'skipped'],
    ],
  );
  assert.equal(byName(r, 'rejectsDuplicate').failure!.message, '&#27;[31mexpected: <201 CREATED> but was: <409 CONFLICT>&#27;[0m');
  assert.match(byName(r, 'deletesWithFinalizer').failure!.text!, /&#27;\[1;31mTerminating/);
  assert.equal(r.damage?.repairs, 8);
  assert.equal(r.damage?.lost, 0);
  assert.equal(r.damage?.cut, false);
  assert.deepEqual(r.damage?.recoveries[0], { line: 13, column: 23, what: 'character reference &#27; is not allowed in XML 1.0; read as text' });
  assert.match(r.warnings[0]!, /surefire-ansi\.xml: is not well-formed XML; read in recovery mode with 8 repairs, first at line 13, column 23.*every test case was recovered/);
});

test('a single bare & early in a 22,772-spec report loses nothing (it used to keep 3 cases)', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'ginkgo-22772.xml');
    const specs = 22_772;
    const cases: string[] = [];
    for (let i = 0; i < specs; i++) {
      const message = i === 2 ? 'Tom & Jerry: widget &#34;iris2&#34; already exists' : 'widget &#34;iris2&#34; already exists';
      cases.push(
        i % 10 === 2
          ? `<testcase name="[It] Widget spec ${i}" classname="S" status="failed" time="0.01"><failure message="${message}" type="failed">[FAILED] ${message}</failure></testcase>`
          : `<testcase name="[It] Widget spec ${i}" classname="S" status="passed" time="0.01"></testcase>`,
      );
    }
    const xml = `<?xml version="1.0"?>\n<testsuites><testsuite name="S" tests="${specs}">\n${cases.join('\n')}\n</testsuite></testsuites>\n`;
    await writeFile(file, xml);
    const r = await parseReport(file);
    assert.equal(r.cases.length, specs);
    assert.equal(r.cases[2]!.failure!.message, 'Tom & Jerry: widget "iris2" already exists');
    assert.deepEqual(r.damage, {
      repairs: 2,
      recoveries: [
        { ...positionOf(xml, xml.indexOf('Tom & Jerry') + 4), what: 'bare & read as text' },
        { ...positionOf(xml, xml.indexOf('Tom & Jerry', xml.indexOf('[FAILED] Tom')) + 4), what: 'bare & read as text' },
      ],
      lost: 0,
      cut: false,
    });
    assert.doesNotMatch(r.warnings.join('\n'), /ends before/, 'a bare & is not a cut file');
  });
});

test('time="<<computed>>" placeholders and a bare & in a message: every case kept, the time read as 0', async () => {
  const r = await parseReport(fixture('computed-time.xml'));
  assert.deepEqual(r.cases.map((c) => [c.name, c.status, c.durationMs]), [
    ['creates a widget', 'passed', 0],
    ['rejects a duplicate', 'failed', 812],
    ['updates a widget', 'passed', 233],
    ['deletes a widget', 'passed', 101],
  ]);
  assert.equal(byName(r, 'rejects a duplicate').failure!.message, "expected 201, got 409 (Tom & Jerry's widget already exists)");
  assert.deepEqual(r.damage?.recoveries[0], { line: 2, column: 60, what: '< in an attribute value read as text' });
  assert.deepEqual(r.damage?.recoveries.at(-1), { line: 7, column: 27, what: 'bare & read as text' });
  assert.equal(r.damage?.lost, 0);
});

test('a Ginkgo JUnit report cut mid-file (killed run) keeps the case being written when its failure was read', async () => {
  const whole = await readFile(fixture('ginkgo-junit.xml'), 'utf8');
  await withTemp(async (dir) => {
    const file = join(dir, 'cut.xml');
    const failureEnd = whole.indexOf('</failure>', whole.indexOf('rejects a duplicate')) + '</failure>'.length;
    await writeFile(file, whole.slice(0, failureEnd + 20));
    const r = await parseReport(file);
    const last = r.cases.at(-1)!;
    assert.equal(last.name, 'Widget when created rejects a duplicate');
    assert.equal(last.status, 'failed');
    assert.match(last.failure!.message, /object is being deleted: widgets "iris2" already exists/);
    assert.deepEqual(last.failure!.location, { file: 'gosrc/ginkgosuite/suite_test.go', line: 39 });
    assert.equal(r.cases.length, 9);
    assert.deepEqual(r.damage, { repairs: 0, recoveries: [], lost: 0, cut: true });
    assert.match(r.warnings[0]!, /ends before the report is complete .* kept the 9 test cases read so far/);

    // Cut inside a failure's text: the outcome (status="failed" and the message) is complete, the text is marked cut.
    await writeFile(file, whole.slice(0, failureEnd - 60));
    const inText = await parseReport(file);
    assert.equal(inText.cases.at(-1)!.name, 'Widget when created rejects a duplicate');
    assert.equal(inText.cases.at(-1)!.failure!.truncated, true);

    // Cut inside the next start tag: that case is counted as lost.
    const nextTag = whole.indexOf('<testcase', failureEnd);
    await writeFile(file, whole.slice(0, nextTag + 30));
    const inTag = await parseReport(file);
    assert.equal(inTag.cases.length, 9);
    assert.equal(inTag.damage?.lost, 1);
    assert.match(inTag.warnings[0]!, /kept the 9 test cases read so far; 1 test case could not be recovered/);
  });
});

test('a plain JUnit case cut before its outcome is known is lost, and counted', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'cut.xml');
    await writeFile(file, '<testsuites><testsuite name="s"><testcase name="a" time="1"/><testcase name="b" time="1">\n<system-out>log');
    const r = await parseReport(file);
    assert.deepEqual(r.cases.map((c) => c.name), ['a']);
    assert.deepEqual(r.damage, { repairs: 0, recoveries: [], lost: 1, cut: true });
  });
});

test('a second root element right after 64 KiB (a chunk boundary) is read too, at every alignment around it', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'two-roots.xml');
    const second = '<testsuite name="second"><testcase name="x"/><testcase name="y"><failure message="boom"/></testcase></testsuite>\n';
    for (const shift of [-2, -1, 0, 1, 2]) {
      const head = '<testsuite name="first"><testcase name="a"/><testcase name="b"><system-out>';
      const tail = '</system-out></testcase></testsuite>\n';
      const first = head + '.'.repeat(64 * 1024 + shift - head.length - tail.length) + tail;
      assert.equal(first.length, 64 * 1024 + shift);
      await writeFile(file, first + second);
      const r = await parseReport(file);
      assert.deepEqual(r.cases.map((c) => c.id), ['first :: a', 'first :: b', 'second :: x', 'second :: y'], `second root at ${first.length}`);
      assert.equal(r.damage?.recoveries[0]?.what, "a second root element <testsuite> after the report's end; read it too");
      assert.deepEqual([r.damage?.recoveries[0]?.line, r.damage?.recoveries[0]?.column], [2, 1]);
    }
  });
});

test('UTF-16 without a byte order mark is recognised, little- and big-endian', async () => {
  await withTemp(async (dir) => {
    const xml = '<?xml version="1.0" encoding="UTF-16"?><testsuites><testsuite name="s"><testcase name="été"/></testsuite></testsuites>';
    const le = join(dir, 'le.xml');
    await writeFile(le, Buffer.from(xml, 'utf16le'));
    const be = join(dir, 'be.xml');
    await writeFile(be, Buffer.from(xml, 'utf16le').swap16());
    for (const file of [le, be]) {
      const r = await parseReport(file);
      assert.equal(r.cases[0]!.name, 'été');
      assert.deepEqual(r.warnings, []);
    }
  });
});

test('invalid UTF-8 names the byte where it starts', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'latin1.xml');
    const head = Buffer.from('<testsuites><testsuite name="s"><testcase name="caf');
    await writeFile(file, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('"/></testsuite></testsuites>')]));
    const r = await parseReport(file);
    assert.match(r.warnings.join('\n'), new RegExp(`not valid UTF-8 from byte ${head.length} on`));
  });
});

test('a test name cut at the text cap is reported as a name cut, not as a failure message cut', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'long-name.xml');
    await writeFile(file, `<testsuites><testsuite name="s"><testcase name="${'n'.repeat(5000)}"/></testsuite></testsuites>`);
    const r = await parseReport(file, { maxTextChars: 1024 });
    assert.equal(r.cases[0]!.name.length, 1024);
    assert.deepEqual(r.warnings, [`${file}: 1 test case names or attributes were longer than 1 KiB and were cut; raise maxTextChars to keep more`]);
  });
});

test('xunit-style file and line on <failure> become the failure location', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'xunit.xml');
    await writeFile(
      file,
      '<testsuites><testsuite name="tests.test_widget"><testcase classname="tests.test_widget" name="test_duplicate" time="0.2">' +
        '<failure file="tests/test_widget.py" line="42" message="AssertionError: 409" type="AssertionError">tests/test_widget.py:42: AssertionError</failure>' +
        '</testcase></testsuite></testsuites>',
    );
    const r = await parseReport(file);
    assert.deepEqual(r.cases[0]!.failure!.location, { file: 'tests/test_widget.py', line: 42 });
  });
});

test('recovery is for damage, not attacks: a DOCTYPE is still refused in a damaged file and in a second root', async () => {
  await withTemp(async (dir) => {
    const damaged = join(dir, 'damaged-doctype.xml');
    await writeFile(damaged, '<testsuites><testsuite name="s"><testcase name="a &amp b"/></testsuite></testsuites>\n<!DOCTYPE x [<!ENTITY a "b">]><testsuite/>');
    await assert.rejects(parseReport(damaged), (err: unknown) => err instanceof ReportError && /DOCTYPE\/ENTITY/.test(err.message));
    const nested = join(dir, 'nested-doctype.xml');
    await writeFile(nested, '<testsuites><testsuite name="s"><testcase name="a"><failure>&#27;<!DOCTYPE x SYSTEM "file:///etc/passwd"></failure></testcase></testsuite></testsuites>');
    await assert.rejects(parseReport(nested), (err: unknown) => err instanceof ReportError && /DOCTYPE\/ENTITY/.test(err.message));
  });
});

test('a tool\'s log line before the root element is read past; garbage with no report in it is still an error', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'prologue.xml');
    await writeFile(file, '<?xml version="1.0"?>\n[INFO] Tests run: 2\n<testsuite name="s"><testcase name="a"/><testcase name="b"/></testsuite>\n');
    const r = await parseReport(file);
    assert.deepEqual(r.cases.map((c) => c.name), ['a', 'b']);
    assert.equal(r.damage?.repairs, 1);
    assert.match(r.damage!.recoveries[0]!.what, /text data outside of root node/);
    const garbage = join(dir, 'garbage.xml');
    await writeFile(garbage, '<<< not a report >>>');
    await assert.rejects(parseReport(garbage), (err: unknown) => err instanceof ReportError && /is not well-formed XML \(.* at line 1, column \d+\)/.test(err.message));
  });
});

test('damage everywhere stays cheap: 100,000 repairs are counted, 20 listed; 20,000 unclosed cases are each resynced and kept', async () => {
  await withTemp(async (dir) => {
    const ansi = join(dir, 'ansi-everywhere.xml');
    const cases = Array.from({ length: 10_000 }, (_, i) => `<testcase name="t${i}"><failure message="${'&#27;[31mx'.repeat(10)}"/></testcase>`);
    await writeFile(ansi, `<testsuite name="s">${cases.join('\n')}</testsuite>`);
    const r = await parseReport(ansi);
    assert.equal(r.cases.length, 10_000);
    assert.equal(r.damage?.repairs, 100_000);
    assert.equal(r.damage?.recoveries.length, 20);
    const unclosed = join(dir, 'unclosed.xml');
    await writeFile(unclosed, `<testsuite name="s">${Array.from({ length: 20_000 }, (_, i) => `<testcase name="u${i}">`).join('\n')}</testsuite>`);
    const u = await parseReport(unclosed);
    assert.equal(u.cases.length, 20_000);
    assert.equal(u.damage?.lost, 0);
    assert.equal(u.damage?.repairs, 20_000);
  });
});
