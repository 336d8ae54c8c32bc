import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { escapeXml, goTestJUnit, parseGoTestEvents, type GoTestEvent } from '../../src/runner/gotest-json.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/runner/go-test-json/${name}`, import.meta.url), 'utf8');

interface Case {
  classname: string;
  name: string;
  time: string;
  timestamp?: string;
  failure?: string;
  skipped?: string;
}

/** Parses the JUnit with a real XML parser: a malformed document fails the test here. */
function junitCases(xml: string): { cases: Case[]; suites: Record<string, string>[] } {
  const parser = new SaxesParser();
  const cases: Case[] = [];
  const suites: Record<string, string>[] = [];
  let current: Case | undefined;
  let inFailure = false;
  parser.on('opentag', (tag) => {
    const attributes = tag.attributes as Record<string, string>;
    if (tag.name === 'testsuite') suites.push(attributes);
    if (tag.name === 'testcase') {
      current = { classname: attributes.classname!, name: attributes.name!, time: attributes.time!, timestamp: attributes.timestamp };
      cases.push(current);
    }
    if (tag.name === 'failure') {
      inFailure = true;
      current!.failure = '';
    }
    if (tag.name === 'skipped') current!.skipped = attributes.message;
  });
  parser.on('text', (text) => {
    if (inFailure) current!.failure += text;
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'failure') inFailure = false;
  });
  parser.write(xml).close();
  return { cases, suites };
}

test('a real shuffled run: testcases in execution order, the victim failed with its output', () => {
  const { events, other } = parseGoTestEvents(fixture('shuffled-victim-fails.json'));
  assert.deepEqual(other, []);
  const { cases, suites } = junitCases(goTestJUnit(events));
  assert.deepEqual(
    cases.map((c) => c.name),
    ['TestDelta', 'TestPolluter', 'TestCharlie', 'TestTable', 'TestTable/first', 'TestTable/second', 'TestTable/third', 'TestSkipped', 'TestBravo', 'TestVictim', 'TestEcho', 'TestAlpha'],
  );
  const victim = cases.find((c) => c.name === 'TestVictim')!;
  assert.match(victim.failure!, /TestPolluter ran earlier and left state behind/);
  assert.equal(victim.classname, 'kubeflake.test/runner/plain/order');
  assert.match(victim.timestamp!, /^2026-11-25T17:06:48\./);
  assert.equal(cases.filter((c) => c.failure !== undefined).length, 1);
  assert.match(cases.find((c) => c.name === 'TestSkipped')!.skipped!, /skipped on purpose/);
  assert.equal(suites[0]!.name, 'kubeflake.test/runner/plain/order');
  assert.equal(suites[0]!.tests, '12');
  assert.equal(suites[0]!.failures, '1');
  assert.equal(suites[0]!.skipped, '1');
});

test('a build failure becomes a failed TestMain carrying the compiler output', () => {
  const { events } = parseGoTestEvents(fixture('build-failed.json'));
  const { cases, suites } = junitCases(goTestJUnit(events));
  assert.equal(cases.length, 1);
  assert.equal(cases[0]!.name, 'TestMain');
  assert.match(cases[0]!.failure!, /undefined: undefined/);
  assert.equal(suites[0]!.failures, '1');
});

test('a stream cut mid-test (killed run): the running test fails with the reason', () => {
  const lines = fixture('shuffled-victim-fails.json').split('\n');
  const cut = lines.findIndex((line) => line.includes('"Action":"run"') && line.includes('"TestBravo"'));
  const { events } = parseGoTestEvents(lines.slice(0, cut + 2).join('\n'));
  const { cases } = junitCases(goTestJUnit(events, { interrupted: 'the run was killed at its timeout' }));
  const bravo = cases.find((c) => c.name === 'TestBravo')!;
  assert.match(bravo.failure!, /TestBravo did not finish: the run was killed at its timeout/);
  assert.equal(cases.find((c) => c.name === 'TestDelta')!.failure, undefined);
});

test('a package killed before any test: one failed TestMain says why', () => {
  const events: GoTestEvent[] = [
    { Time: '2026-01-01T00:00:00Z', Action: 'start', Package: 'p' },
    { Action: 'output', Package: 'p', Output: 'init...\n' },
  ];
  const { cases } = junitCases(goTestJUnit(events, { interrupted: 'stopped' }));
  assert.equal(cases.length, 1);
  assert.match(cases[0]!.failure!, /package did not finish: stopped/);
});

test('non-event lines are kept apart from events', () => {
  const { events, other } = parseGoTestEvents('{"Action":"start","Package":"p"}\n# p\n{not json\n\n');
  assert.equal(events.length, 1);
  assert.deepEqual(other, ['# p', '{not json']);
});

test('output with markup, ANSI colours and control characters stays well-formed XML', () => {
  const events: GoTestEvent[] = [
    { Action: 'run', Package: 'p', Test: 'TestX' },
    { Action: 'output', Package: 'p', Test: 'TestX', Output: '\x1b[31m<b>&"x"</b>\x1b[0m\x00\x07 done\n' },
    { Action: 'fail', Package: 'p', Test: 'TestX', Elapsed: 0.5 },
    { Action: 'fail', Package: 'p', Elapsed: 0.6 },
  ];
  const { cases } = junitCases(goTestJUnit(events));
  assert.equal(cases[0]!.failure, '<b>&"x"</b>\uFFFD\uFFFD done\n');
  assert.equal(cases[0]!.time, '0.500000');
  assert.equal(escapeXml('a<b'), 'a&lt;b');
});

test('output beyond the cap is cut and marked', () => {
  const events: GoTestEvent[] = [
    { Action: 'run', Package: 'p', Test: 'TestBig' },
    ...Array.from({ length: 10 }, () => ({ Action: 'output', Package: 'p', Test: 'TestBig', Output: 'x'.repeat(100) })),
    { Action: 'fail', Package: 'p', Test: 'TestBig' },
  ];
  const { cases } = junitCases(goTestJUnit(events, { maxOutput: 250 }));
  assert.equal(cases[0]!.failure!.replace(/\n.*$/s, '').length, 250);
  assert.match(cases[0]!.failure!, /output truncated/);
});
