// Property tests over the JUnit reader: real reports mutated the way files get damaged (characters
// flipped, cut short, entities and markup inserted) never make it throw anything but a
// ReportError, never hang, never keep more text than the caps allow; well-formed reports (real
// ones, and generated ones) give exactly their own test cases, whatever the chunking.
// KUBEFLAKE_FUZZ_RUNS=5000 npm test -- test/unit/junit-fuzz.test.ts runs longer; the default stays fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { parseJUnitXml } from '../../src/ingest/junit-xml.ts';
import { ReportError } from '../../src/ingest/report-error.ts';
import { defaultLimits, type ParseLimits } from '../../src/ingest/limits.ts';
import { listedRecoveries } from '../../src/ingest/recovery.ts';
import type { ParsedReport } from '../../src/model.ts';

const runs = Number(process.env.KUBEFLAKE_FUZZ_RUNS ?? 150);
const seed = Number(process.env.KUBEFLAKE_FUZZ_SEED ?? 20261126);
const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url)), 'utf8');

const corpus = [
  'ginkgo-junit.xml',
  'gotestsum.xml',
  'gotestsum-rerun.xml',
  'go-junit-report.xml',
  'surefire-reruns.xml',
  'jest-junit.xml',
  'python-xunit-pytest.xml',
  'python-xunit-unittest.xml',
  'junit-with-message.xml',
  'external-java-junit4-complete.xml',
  'external-phpunit-phpcheckstyle-phpunit.xml',
].map((name) => ({ name, text: fixture(name) }));

/** What damage looks like: stray references, markup pieces, control characters, a second declaration. */
const fragments = ['&', '&#27;', '&#0;', '&foo;', '&amp', '<', '>', '"', "'", '</testcase>', '<testcase name="z">', '</testsuite>', '<failure>', ']]>', '<![CDATA[', '<!--', '-->', '\u0000', '\u001b[31m', '<?xml version="1.0"?>', '<testsuites>', '\uFFFE', '\uD800'];

type Mutation = { kind: 'flip'; at: number; code: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; text: string } | { kind: 'delete'; at: number; length: number };

const where = fc.double({ min: 0, max: 1, noNaN: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: where, code: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('cut' as const), at: where }),
  fc.record({ kind: fc.constant('insert' as const), at: where, text: fc.constantFrom(...fragments) }),
  fc.record({ kind: fc.constant('delete' as const), at: where, length: fc.integer({ min: 1, max: 40 }) }),
);

/** Applies mutations at relative positions (0..1), so one mutation list fits any report. */
function mutate(text: string, mutations: Mutation[]): string {
  let s = text;
  for (const m of mutations) {
    const at = Math.min(s.length, Math.floor(m.at * s.length));
    if (m.kind === 'flip') s = s.slice(0, at) + String.fromCharCode(m.code) + s.slice(at + 1);
    else if (m.kind === 'cut') s = s.slice(0, at);
    else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else s = s.slice(0, at) + s.slice(at + m.length);
  }
  return s;
}

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function read(text: string, size: number, limits: ParseLimits = defaultLimits): Promise<ParsedReport> {
  return parseJUnitXml('fuzz.xml', chunked(text, size), limits);
}

/** Test cases in a well-formed report, counted by another parser. */
function countCases(xml: string): number {
  const doc = new XMLParser({ ignoreAttributes: true, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(xml) as Record<string, unknown>;
  const walk = (suites: unknown): number =>
    ((suites as { testcase?: unknown[]; testsuite?: unknown[] }[] | undefined) ?? []).reduce(
      (n: number, s) => n + (s.testcase?.length ?? 0) + walk(s.testsuite),
      0,
    );
  const root = doc.testsuites as { testsuite?: unknown[] } | undefined;
  return root ? walk(root.testsuite) : walk(doc.testsuite);
}

test('mutated real reports: only ReportError is thrown, every input finishes, kept text stays within the caps', { timeout: 300_000 }, async () => {
  const limits: ParseLimits = { ...defaultLimits, maxTextChars: 200, maxOutputChars: 4096 };
  await fc.assert(
    fc.asyncProperty(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4096 }), async (which, mutations, size) => {
      const input = mutate(corpus[which]!.text, mutations);
      const started = performance.now();
      let report: ParsedReport | undefined;
      try {
        report = await read(input, size, limits);
      } catch (err) {
        assert.ok(err instanceof ReportError, `${corpus[which]!.name}: threw ${String(err)}`);
      }
      // Generous: a hang, not a slow machine, is what this catches (inputs are under 50 KB).
      assert.ok(performance.now() - started < 10_000, 'parsing took more than 10 s');
      if (!report) return;
      for (const c of report.cases) {
        assert.ok(c.name.length <= limits.maxTextChars);
        assert.ok((c.failure?.message.length ?? 0) <= limits.maxTextChars * 2, 'message within the cap (entities decode shorter)');
        assert.ok((c.failure?.text?.length ?? 0) <= limits.maxTextChars);
      }
      if (report.damage) {
        assert.ok(report.damage.recoveries.length <= Math.min(listedRecoveries, report.damage.repairs));
        assert.ok(report.damage.lost >= 0);
      }
    }),
    { numRuns: runs, seed },
  );
});

test('real well-formed reports give exactly the cases another parser counts, whatever the chunk size, with no damage', async () => {
  for (const { name, text } of corpus) {
    const expected = countCases(text);
    for (const size of [1, 7, 64, 4096, 1 << 20]) {
      const r = await read(text, size);
      assert.equal(r.damage, undefined, `${name} in chunks of ${size}`);
      // Repeated attempts of one test are merged: count them back through their retries.
      const merged = name === 'gotestsum-rerun.xml' ? 1 : 0;
      assert.equal(r.cases.length + merged, expected, `${name} in chunks of ${size}`);
    }
  }
});

const text = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '&', '<', '>', '"', "'", 'é', '\t', '\n', ']', '[', '/', '€', '🎲'), maxLength: 30 });
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

test('generated well-formed reports: every case back, names intact, no damage', { timeout: 300_000 }, async () => {
  const suite = fc.record({
    name: text,
    cases: fc.array(fc.record({ name: text, outcome: fc.constantFrom('passed', 'failed', 'skipped'), message: text, output: text }), { maxLength: 12 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(suite, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 300 }), async (suites, size) => {
      // Distinct names, so retries merging never applies: this is about counts.
      let n = 0;
      const named = suites.map((s) => ({ ...s, cases: s.cases.map((c) => ({ ...c, name: `${c.name} #${n++}` })) }));
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' +
        named
          .map(
            (s) =>
              `<testsuite name="${escape(s.name)}">\n` +
              s.cases
                .map((c) => {
                  const body = c.outcome === 'failed' ? `<failure message="${escape(c.message)}">${escape(c.output)}</failure>` : c.outcome === 'skipped' ? '<skipped/>' : '';
                  return `  <testcase name="${escape(c.name)}" time="0.5">${body}<system-out><![CDATA[${c.output.replace(/]]>/g, '')}]]></system-out></testcase>\n`;
                })
                .join('') +
              '</testsuite>\n',
          )
          .join('') +
        '</testsuites>\n';
      const r = await read(xml, size);
      assert.equal(r.damage, undefined, xml);
      const want = named.flatMap((s) => s.cases.map((c) => [c.name.replace(/[\t\n]/g, ' ').replace(/\r/g, ''), c.outcome]));
      // XML normalises tab and newline in attribute values to spaces.
      assert.deepEqual(r.cases.map((c) => [c.name, c.status]), want.map(([name, outcome]) => [name, outcome]));
    }),
    { numRuns: runs, seed },
  );
});
