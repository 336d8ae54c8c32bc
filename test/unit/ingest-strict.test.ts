// The fast path for JUnit XML: on a well-formed report the strict reader gives exactly what the
// recovering reader gives; on anything else it hands the file over (undefined) and parseReport
// reads it again in recovery mode, so damage, repairs and refusals are the recovering reader's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { readWellFormedJUnit } from '../../src/ingest/junit-strict.ts';
import { collectCases, parseJUnitXml } from '../../src/ingest/junit-xml.ts';
import { parseReport } from '../../src/ingest/parse.ts';
import { ReportError } from '../../src/ingest/report-error.ts';
import { defaultLimits, type ParseLimits } from '../../src/ingest/limits.ts';
import type { ParsedReport } from '../../src/model.ts';
import { fixture, withTemp } from './ingest-support.ts';

const runs = Number(process.env.KUBEFLAKE_FUZZ_RUNS ?? 150);
const seed = Number(process.env.KUBEFLAKE_FUZZ_SEED ?? 20261207);

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** The strict reader's report, its cases collected, or undefined when it hands over. */
async function strict(chunks: AsyncIterable<string>, limits: ParseLimits): Promise<ParsedReport | undefined> {
  const report = await readWellFormedJUnit('f.xml', chunks, limits);
  return report && collectCases(report);
}

/** The recovering reader's result, or the ReportError it throws. */
async function recovering(text: string, size: number, limits: ParseLimits): Promise<ParsedReport | ReportError> {
  try {
    return await parseJUnitXml('f.xml', chunked(text, size), limits);
  } catch (err) {
    if (err instanceof ReportError) return err;
    throw err;
  }
}

/** The strict reader either hands over or agrees with the recovering reader, field by field. */
async function agree(text: string, size: number, limits: ParseLimits = defaultLimits): Promise<boolean> {
  const report = await strict(chunked(text, size), limits);
  if (report === undefined) return false;
  assert.deepEqual(report, await recovering(text, size, limits));
  return true;
}

const xmlFixtures = readdirSync(fixture('.')).filter((name) => name.endsWith('.xml'));

test('every fixture the recovering reader finds undamaged is read by the strict reader, exactly as that reader reads it, in chunks of any size', async () => {
  const strictlyRead: string[] = [];
  for (const name of xmlFixtures) {
    const text = readFileSync(fixture(name), 'utf8').replace(/^\uFEFF/, '').trimStart();
    const recovered = await recovering(text, text.length, defaultLimits);
    const clean = !(recovered instanceof ReportError) && recovered.damage === undefined;
    for (const size of [text.length, 4096, 97, 7]) assert.equal(await agree(text, size), clean, `${name} in chunks of ${size}`);
    if (clean) strictlyRead.push(name);
  }
  // The damaged fixtures (a bare & and <, Surefire's ANSI references) are the only ones handed over.
  assert.deepEqual(
    xmlFixtures.filter((name) => !strictlyRead.includes(name)),
    ['computed-time.xml', 'surefire-ansi.xml'],
  );
});

test('damage, refusals and caps are handed over: the strict reader never reads past what the guard would touch', async () => {
  const base = readFileSync(fixture('gotestsum.xml'), 'utf8');
  const at = base.indexOf('<testcase');
  const cases: [string, string][] = [
    ['a bare &', base.replace('<testcase', '<testcase x="a & b"')],
    ['an undeclared entity', base.slice(0, at) + '&nbsp;' + base.slice(at)],
    ["Surefire's &#27;", base.slice(0, at) + '&#27;' + base.slice(at)],
    ['a control character', base.slice(0, at) + '\u0001' + base.slice(at)],
    ['a DOCTYPE', base.replace('<testsuites', '<!DOCTYPE x [<!ENTITY a "b">]><testsuites')],
    ['a processing instruction', base.replace('<testcase', '<?kubeflake-cut?><testcase')],
    ['a file cut short', base.slice(0, base.lastIndexOf('</testcase>'))],
    ['a closing tag that matches nothing', base.replace('</testcase>', '</testcase></failure>')],
    ['an unclosed case before the next', base.replace('</testcase>', '')],
    ['text after the root', `${base.trimEnd()}\ntrailing words`],
    ['a second root', `${base.trimEnd()}<testsuites></testsuites>`],
    [']]> in text', base.slice(0, at) + ']]>' + base.slice(at)],
    ['a < in an attribute', base.replace('<testcase', '<testcase x="a < b"')],
    ['a duplicated attribute', base.replace('<testcase', '<testcase x="1" x="2"')],
    ['no space between attributes', base.replace('<testcase', '<testcase x="1"y="2"')],
    ['an XML 1.1 declaration', base.replace(/^<\?xml version="1.0"/, '<?xml version="1.1"')],
    ['text before the root', base.replace('<testsuites', 'words <testsuites')],
  ];
  for (const [what, text] of cases) {
    assert.equal(await strict(chunked(text, 64), defaultLimits), undefined, what);
  }
  assert.equal(await agree(base, 64), true, 'the undamaged file is read');
  const long = base.replace('<testcase', `<testcase note="${'x'.repeat(200)}"`);
  assert.equal(await strict(chunked(long, 64), { ...defaultLimits, maxTextChars: 100 }), undefined, 'an attribute past the cap');
  assert.equal(await agree(long, 64, { ...defaultLimits, maxTextChars: 300 }), true, 'an attribute within the cap');
});

test('line ends and whitespace as saxes gives them: CRLF in text, literal whitespace in attributes, references kept', async () => {
  const text =
    '<?xml version="1.0" encoding="UTF-8"?>\r\n<testsuites>\r\n<testsuite name="s">\r\n' +
    '<testcase name="a\tb\r\nc" classname="k&#10;l"><failure message="m&#13;n\r\no">line 1\r\nline 2\rline 3 &lt;x&gt; &#x41;</failure></testcase>\r\n' +
    '<testcase name="ok"><system-out><![CDATA[raw\r\n<out>]]></system-out></testcase>\r\n</testsuite>\r\n</testsuites>\r\n';
  for (const size of [text.length, 5, 1]) assert.equal(await agree(text, size), true, `chunks of ${size}`);
  const report = (await strict(chunked(text, 3), defaultLimits))!;
  assert.equal(report.cases[0]!.failure!.text, 'line 1\nline 2\nline 3 <x> A');
  assert.equal(report.cases[0]!.failure!.message, 'm\rn o');
});

test("Ginkgo's captured timeline is skimmed as the guard skims it: the spec's file:line and its attempts", async () => {
  const log = 'INFO\\treconcile\\t{&#34;name&#34;: &#34;x&#34;}&#xA;'.repeat(3000);
  const text =
    '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="S"><properties><property name="SuiteSucceeded" value="false"></property></properties>\n' +
    '<testcase name="[It] A spec [l1]" classname="S" status="failed" time="0.1"><failure message="boom" type="failed">[FAILED] boom&#xA;In [It] at: /src/a_test.go:12 @ 01/01/26</failure>\n' +
    `<system-err>&gt; Enter [It] spec - /src/a_test.go:10 @ 01/01/26&#xA;${log}Failure recorded during attempt 1:&#xA;${log}Failure recorded during attempt 2:&#xA;&lt; Exit</system-err></testcase>\n` +
    '<testcase name="[It] B" classname="S" status="passed" time="0.2"><system-out><![CDATA[> Enter [It] B - /src/b_test.go:20 @ now\n]]></system-out></testcase>\n' +
    '</testsuite></testsuites>\n';
  for (const size of [text.length, 65536, 4096, 333]) assert.equal(await agree(text, size), true, `chunks of ${size}`);
  const report = (await strict(chunked(text, 4096), defaultLimits))!;
  assert.equal(report.dialect, 'ginkgo-junit');
  assert.deepEqual([report.cases[0]!.file, report.cases[0]!.line, report.cases[0]!.retries?.length], ['/src/a_test.go', 10, 2]);
  assert.deepEqual([report.cases[1]!.file, report.cases[1]!.line], ['/src/b_test.go', 20]);
});

test('fuzzed damage: the strict reader hands over or agrees with the recovering reader', async () => {
  const corpus = ['ginkgo-junit.xml', 'gotestsum.xml', 'surefire-reruns.xml', 'jest-junit.xml', 'python-xunit-pytest.xml', 'external-java-junit4-complete.xml'].map((name) =>
    readFileSync(fixture(name), 'utf8'),
  );
  const fragments = ['&', '&#27;', '&#0;', '&amp;', '<', '>', '"', "'", '</testcase>', '<testcase name="z">', '</testsuite>', ']]>', '<![CDATA[x]]>', '<!-- c -->', '\r', '\r\n', '\t', '\u0000', '<?xml version="1.0"?>', '<b/>', ' ', 'x="1"'];
  let read = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...corpus),
      fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), text: fc.oneof(fc.constantFrom(...fragments), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))), cut: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(1, 13, 256, 1 << 20),
      async (text, mutations, size) => {
        let s = text;
        for (const m of mutations) {
          const at = Math.floor(m.at * s.length);
          s = m.cut ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + m.text + s.slice(at);
        }
        if (await agree(s, size)) read++;
      },
    ),
    { numRuns: runs, seed },
  );
  assert.ok(read > 0, 'some mutations leave a well-formed report, read by the strict reader');
});

test('parseReport: a damaged file is read again in recovery mode, with its damage and its decoding warning once', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'damaged.xml');
    const base = readFileSync(fixture('gotestsum.xml'), 'utf8');
    const damagedText = base.replace('<testcase', '<testcase x="a & b"');
    const at = damagedText.indexOf('<testcase');
    const bytes = Buffer.concat([Buffer.from(damagedText.slice(0, at)), Buffer.from([0xff, 0x0a]), Buffer.from(damagedText.slice(at))]);
    await writeFile(file, bytes);
    const report = await parseReport(file);
    assert.deepEqual(report.damage?.recoveries.map((r) => r.what), ['bare & read as text']);
    assert.equal(report.warnings.filter((w) => /not valid UTF-8/.test(w)).length, 1);
    const clean = join(dir, 'clean.xml');
    await writeFile(clean, base);
    assert.deepEqual(await parseReport(clean), await parseJUnitXml(clean, chunked(base.replace(/^\uFEFF/, '').trimStart(), 65536), defaultLimits));
  });
});
