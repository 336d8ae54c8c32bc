import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { escapeXml, goTestJUnit, packageFailureMessage, parseGoTestEvents, testFailureMessage, type GoTestEvent } from '../../src/ingest/gotest-json.ts';

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

// Real `go test -json` streams of test/fixtures/gosrc/goexec (regenerate: in that folder,
// `go test -count=1 -json -shuffle=1 ./plainorder`, `go test -count=1 -json ./testdata/mainfails`,
// `go test -count=1 -json ./testdata/panics` with the checkout and GOROOT paths replaced).
const goexecFixture = (name: string) => readFileSync(new URL(`../fixtures/gosrc/goexec/testdata/${name}`, import.meta.url), 'utf8');

/** Failure message attributes by testcase name, read with a real XML parser. */
function failureMessages(xml: string): Record<string, string> {
  const parser = new SaxesParser();
  const messages: Record<string, string> = {};
  let name = '';
  parser.on('opentag', (tag) => {
    const attributes = tag.attributes as Record<string, string>;
    if (tag.name === 'testcase') name = attributes.name!;
    if (tag.name === 'failure') messages[name] = attributes.message!;
  });
  parser.write(xml).close();
  return messages;
}

test("a plain test's t.Fatalf text is its failure message, continuation lines included, not 'Failed'", () => {
  const { events } = parseGoTestEvents(goexecFixture('plain-victim-fails.json'));
  assert.deepEqual(failureMessages(goTestJUnit(events)), {
    TestVictim: 'creating secret: secrets "db-password" already exists\nleft by an earlier test',
  });
});

test('a TestMain that exits before any test: the package failure carries what it printed', () => {
  const { events } = parseGoTestEvents(goexecFixture('testmain-fails.json'));
  assert.deepEqual(failureMessages(goTestJUnit(events)), {
    TestMain: 'unable to start the control plane: fork/exec /usr/local/kubebuilder/bin/etcd: no such file or directory',
  });
});

test('a panicking test: the panic is the message, not the t.Log line before it', () => {
  const { events } = parseGoTestEvents(goexecFixture('panics.json'));
  assert.equal(failureMessages(goTestJUnit(events)).TestPanics, 'panic: assignment to entry in nil map');
});

test('a build failure: the first compiler error is the message', () => {
  const { events } = parseGoTestEvents(fixture('build-failed.json'));
  assert.match(failureMessages(goTestJUnit(events)).TestMain!, /^\S+\.go:\d+:\d+: undefined: undefined$/);
});

test('failure messages from output shapes: last log entry wins, markers and summaries are skipped', () => {
  const cases: [string, string, string][] = [
    ['t.Errorf then t.Fatalf', '    a_test.go:3: first\n    a_test.go:4: second\n--- FAIL: TestX (0.00s)\n', 'second'],
    ['t.Log before t.Fatalf', '=== RUN   TestX\n    a_test.go:3: creating\n    a_test.go:9: boom\n        detail\n--- FAIL: TestX (0.00s)\n', 'boom\ndetail'],
    ['an indented line after a non-entry line is not a continuation', '    a_test.go:3: one\nother\n        stray\n', 'one'],
    ['nothing said', '=== RUN   TestX\n--- FAIL: TestX (0.00s)\n', 'Failed'],
    ['killed', '=== RUN   TestX\n\n[kubeflake: TestX did not finish: the run was killed at its timeout]\n', 'TestX did not finish: the run was killed at its timeout'],
  ];
  for (const [what, output, message] of cases) assert.equal(testFailureMessage(output), message, what);
  assert.equal(packageFailureMessage('setting up\nreal error here\nFAIL\tp\t0.1s\nexit status 1\n'), 'real error here', 'package summary lines skipped');
  assert.equal(packageFailureMessage('\n[kubeflake: package did not finish: stopped]\n'), 'package did not finish: stopped');
  assert.equal(packageFailureMessage('etcd: not found\n[kubeflake: the test binary exited with code 1]\n'), 'etcd: not found', 'the package own words first');
  assert.equal(testFailureMessage(`    a_test.go:1: ${'x'.repeat(3000)}`).length, 2001);
});
