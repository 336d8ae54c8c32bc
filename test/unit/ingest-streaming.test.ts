import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { XmlGuard, XmlGuardError } from '../../src/ingest/xml-guard.ts';
import { JsonTokenizer, JsonSyntaxError, type JsonEvents, type JsonScalar } from '../../src/ingest/json-tokenizer.ts';
import { parseJUnitXml } from '../../src/ingest/junit-xml.ts';
import { parseGinkgoJson } from '../../src/ingest/ginkgo-json.ts';
import { defaultLimits } from '../../src/ingest/limits.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url));

function split(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function guardAll(text: string, size: number, maxRun: number): string {
  const guard = new XmlGuard(maxRun, 1 << 20);
  return split(text, size).map((p) => guard.filter(p)).join('');
}

async function* chunks(parts: string[]): AsyncGenerator<string> {
  yield* parts;
}

const sample = `<?xml version="1.0"?>
<!-- a comment with <tags> and -- dashes -->
<testsuites name="t"><testsuite name="s &amp; co">
<testcase name="a &lt;b&gt;" classname='q"uote'><failure message="x &#x41; y">text &amp; more]]&gt;</failure></testcase>
<testcase name="c"><system-out><![CDATA[raw <xml> ]] ]> ]]></system-out><?pi body?></testcase>
</testsuite></testsuites>`;

test('XmlGuard: output does not depend on how the input is chunked, with and without cuts', () => {
  for (const maxRun of [1 << 20, 5, 3]) {
    const whole = guardAll(sample, sample.length, maxRun);
    for (let size = 1; size <= 12; size++) assert.equal(guardAll(sample, size, maxRun), whole, `chunks of ${size}, cap ${maxRun}`);
  }
  // Without cuts the only change is that comments are dropped.
  assert.equal(guardAll(sample, 7, 1 << 20), sample.replace(/<!--[\s\S]*?-->/, ''));
});

test('XmlGuard: a cut never splits an entity reference, at any cap', async () => {
  const xml = '<testsuites><testsuite name="s"><testcase name="c"><failure message="a&amp;b&#233;c&lt;d">e&amp;f&#x41;g&gt;h&quot;i</failure></testcase></testsuite></testsuites>';
  for (let cap = 1; cap < 30; cap++) {
    for (const size of [1, 3, 1000]) {
      const r = await parseJUnitXml('mem.xml', chunks(split(xml, size)), { ...defaultLimits, maxTextChars: cap });
      assert.deepEqual(r.warnings.filter((w) => /XML error/.test(w)), [], `cap ${cap}, chunks of ${size}`);
      const f = r.cases[0]!.failure!;
      assert.ok('a&béc<d'.startsWith(f.message), `cap ${cap}: ${f.message}`);
      assert.ok('e&fAg>h"i'.startsWith(f.text ?? ''), `cap ${cap}: ${f.text}`);
    }
  }
});

test('XmlGuard: DOCTYPE is refused even when split across chunks; CDATA and comments are not mistaken for it', () => {
  const doc = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>';
  for (let size = 1; size < 12; size++) {
    assert.throws(() => guardAll(doc, size, 100), (e: unknown) => e instanceof XmlGuardError && e.kind === 'doctype');
  }
  assert.doesNotThrow(() => guardAll('<a><![CDATA[<!DOCTYPE x>]]><!-- <!DOCTYPE y> --></a>', 2, 100));
});

test('the JUnit reader gives the same cases whatever the chunk size', async () => {
  const text = await readFile(fixture('ginkgo-junit.xml'), 'utf8');
  const whole = await parseJUnitXml('f.xml', chunks([text]), defaultLimits);
  for (const size of [1, 2, 7, 64, 1000]) {
    const r = await parseJUnitXml('f.xml', chunks(split(text, size)), defaultLimits);
    assert.deepEqual(r, whole, `chunks of ${size}`);
  }
});

class Recorder implements JsonEvents {
  readonly events: unknown[] = [];
  openObject(): void {
    this.events.push({ mark: '{' });
  }
  closeObject(): void {
    this.events.push({ mark: '}' });
  }
  openArray(): void {
    this.events.push({ mark: '[' });
  }
  closeArray(): void {
    this.events.push({ mark: ']' });
  }
  key(name: string): void {
    this.events.push({ key: name });
  }
  value(value: JsonScalar, cut: boolean): void {
    this.events.push(cut ? { cut: value } : value);
  }
}

function tokenize(text: string, size: number, maxString = 1000): unknown[] {
  const r = new Recorder();
  const t = new JsonTokenizer(r, maxString, 64);
  for (const part of split(text, size)) t.write(part);
  t.end();
  return r.events;
}

test('JsonTokenizer: escapes, numbers and literals across every chunk boundary agree with JSON.parse', () => {
  const value = { a: 'x\\"y\n\u00e9\ud83d\ude00/', b: [1, -2.5e3, 0, true, false, null, {}, []], 'k\\ey': { n: 123456789012 } };
  const text = JSON.stringify(value, null, 1).replace('\\/', '\\u002F');
  const whole = tokenize(text, text.length);
  for (let size = 1; size < 9; size++) assert.deepEqual(tokenize(text, size), whole, `chunks of ${size}`);
  const strings = whole.filter((e): e is string => typeof e === 'string');
  assert.equal(strings[0], value.a);
  assert.ok(whole.some((e) => typeof e === 'object' && e !== null && 'key' in e && (e as { key: string }).key === 'k\\ey'));
  assert.ok(whole.includes(-2500) && whole.includes(123456789012));
});

test('JsonTokenizer: long strings are cut and flagged, bad input is a syntax error with an offset', () => {
  assert.deepEqual(tokenize(JSON.stringify(['abcdefgh']), 3, 4), [{ mark: '[' }, { cut: 'abcd' }, { mark: ']' }]);
  for (const bad of ['[1,]', '{"a" 1}', '[01]', '[tru]', '{"a":1}}', '["\\x"]', '[1 2]']) {
    assert.throws(() => tokenize(bad, 2), JsonSyntaxError, bad);
  }
  assert.throws(() => tokenize('[1, [2', 100), /unexpected end of input/);
});

test('the Ginkgo JSON reader gives the same cases whatever the chunk size', async () => {
  const text = await readFile(fixture('ginkgo.json'), 'utf8');
  const whole = await parseGinkgoJson('g.json', chunks([text]), defaultLimits);
  for (const size of [1, 5, 333]) {
    assert.deepEqual(await parseGinkgoJson('g.json', chunks(split(text, size)), defaultLimits), whole, `chunks of ${size}`);
  }
});

test('captured output is only skimmed: Ginkgo timeline lines are found deep in it, and skipping it is not a warning', async () => {
  const noise = 'INFO reconciling widget &lt;iris2&gt; &amp; friends&#xA;'.repeat(20_000); // ~1 MiB
  const xml =
    '<testsuites><testsuite name="S"><properties><property name="SuiteSucceeded" value="false"/></properties>' +
    '<testcase name="[It] A b [l]" classname="S" status="passed" time="0.1"><system-err>' +
    noise.slice(0, 500_000) +
    '&gt; Enter [It] b - x/a_test.go:42 @ 11/25/26 16:58:01.38&#xA;' +
    '[FAILED] Failure recorded during attempt 1:&#xA;' +
    noise +
    '&gt; Enter [It] b - x/a_test.go:99 @ 11/25/26 16:58:01.38&#xA;' +
    '</system-err><system-out><![CDATA[' +
    noise +
    ']]></system-out></testcase></testsuite></testsuites>';
  for (const size of [4096, 65536]) {
    const r = await parseJUnitXml('out.xml', chunks(split(xml, size)), defaultLimits);
    assert.deepEqual(r.warnings, [], `chunks of ${size}`);
    const c = r.cases[0]!;
    assert.deepEqual([c.name, c.file, c.line], ['A b', 'x/a_test.go', 42]);
    assert.equal(c.retries?.length, 1);
  }
  // Past the scan budget nothing more is read.
  const r = await parseJUnitXml('out.xml', chunks([xml]), { ...defaultLimits, maxOutputChars: 100_000 });
  assert.equal(r.cases[0]!.file, undefined);
});
