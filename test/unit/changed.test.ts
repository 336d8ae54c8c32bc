// The changed-spec hunt on plain data: a diff's hunks, the structure gosource prints for a file,
// the specs each hunk reaches (its own lines, a BeforeEach of its container, a helper it calls),
// new versus changed, the focus of the extra runs and the directed pairs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeakReport, TestCase } from '../../src/model.ts';
import { parseUnifiedDiff } from '../../src/changed/diff.ts';
import { changedSpecs, specKeys, type GoSourceFile, type GoSourceNode } from '../../src/changed/specs.ts';
import { changedRunFocus, directedPairs, effortSentence } from '../../src/changed/plan.ts';
import { run } from './analysis-sim.ts';

test('a unified diff gives each file\'s changed lines on the new side; a deletion marks where it happened', () => {
  const diff = [
    'diff --git a/internal/controller/a_test.go b/internal/controller/a_test.go',
    'index 1..2 100644',
    '--- a/internal/controller/a_test.go',
    '+++ b/internal/controller/a_test.go',
    '@@ -10,2 +10,3 @@ var _ = Describe("A", func() {',
    '-x',
    '+y',
    '@@ -40,3 +41,0 @@',
    '@@ -50 +50 @@',
    'diff --git a/new_test.go b/new_test.go',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/new_test.go',
    '@@ -0,0 +1,12 @@',
    'diff --git a/gone_test.go b/gone_test.go',
    '--- a/gone_test.go',
    '+++ /dev/null',
    '@@ -1,5 +0,0 @@',
  ].join('\n');
  assert.deepEqual(parseUnifiedDiff(diff), [
    { path: 'internal/controller/a_test.go', added: false, ranges: [{ start: 10, end: 12 }, { start: 41, end: 41 }, { start: 50, end: 50 }] },
    { path: 'new_test.go', added: true, ranges: [{ start: 1, end: 12 }] },
  ]);
});

// widgets_test.go as gosource prints it: Describe (1-40) { BeforeEach (3-5), It "creates" (7-12), It "deletes" (14-20), Context "fast" (22-39) { var (23), It "skips" (24-30) } }
const node = (kind: string, text: string, start: number, end: number, containers: number[], calls: string[] = [], own: { start: number; end: number }[] = []): GoSourceNode => ({ kind, text, start, end, containers, calls, func: '', own });
const FILE = '/repo/widgets/widgets_test.go';
const HELPERS = '/repo/widgets/helpers_test.go';
const source: GoSourceFile = {
  file: FILE,
  package: 'widgets',
  funcs: [{ name: 'TestPlain', receiver: '', start: 50, end: 60, calls: ['makeWidget'] }],
  nodes: [
    node('Describe', 'Widgets', 1, 40, []),
    node('BeforeEach', '', 3, 5, [0]),
    node('It', 'creates', 7, 12, [0], ['makeWidget']),
    node('It', 'deletes', 14, 20, [0]),
    node('Context', 'fast', 22, 39, [0], [], [{ start: 23, end: 23 }]),
    node('It', 'skips', 24, 30, [0, 4]),
  ],
};
const helpers: GoSourceFile = { file: HELPERS, package: 'widgets', funcs: [{ name: 'makeWidget', receiver: '', start: 3, end: 9, calls: ['name'] }, { name: 'name', receiver: '', start: 11, end: 13, calls: [] }], nodes: [] };
const spec = (name: string, line: number): TestCase => ({ id: `Widgets Suite :: ${name}`, name, suite: 'Widgets Suite', file: FILE, line, status: 'passed', durationMs: 1 });
const tests = [spec('Widgets creates', 7), spec('Widgets deletes', 14), spec('Widgets fast skips', 24), { id: 'example.com/w :: TestPlain', name: 'TestPlain', suite: 'example.com/w', status: 'passed', durationMs: 1 } as TestCase];
const baseKeys = new Map([[FILE, specKeys({ ...source, nodes: source.nodes!.filter((n) => n.text !== 'skips') })]]);
const mapped = (ranges: Record<string, { start: number; end: number }[]>) =>
  changedSpecs({ sources: [source, helpers], changed: Object.entries(ranges).map(([path, r]) => ({ path, added: false, ranges: r })), baseKeys, tests, importPaths: new Map([['/repo/widgets', 'example.com/w']]) })
    .map((s) => `${s.test.replace(/^.* :: /, '')} ${s.change}: ${s.why}`);

test('a hunk in a spec\'s own lines changes that spec only; a spec the base did not have is new', () => {
  assert.deepEqual(mapped({ [FILE]: [{ start: 9, end: 9 }] }), ['Widgets creates changed: its It (lines 7-12) changed']);
  assert.deepEqual(mapped({ [FILE]: [{ start: 24, end: 30 }] }), ['Widgets fast skips new: its It (lines 24-30) changed']);
});

test('a BeforeEach or a line of the container outside its specs reaches every spec inside it', () => {
  assert.deepEqual(mapped({ [FILE]: [{ start: 4, end: 4 }] }), [
    'Widgets creates changed: the BeforeEach of Describe "Widgets" (lines 3-5) changed',
    'Widgets deletes changed: the BeforeEach of Describe "Widgets" (lines 3-5) changed',
    'Widgets fast skips new: the BeforeEach of Describe "Widgets" (lines 3-5) changed',
  ]);
  assert.deepEqual(mapped({ [FILE]: [{ start: 23, end: 23 }] }), ['Widgets fast skips new: Context "fast" changed outside its specs']);
  assert.deepEqual(mapped({ [FILE]: [{ start: 13, end: 13 }, { start: 31, end: 33 }] }), [], 'a blank line or comment between specs is no statement: it reaches no spec');
});

test('a helper changed reaches the specs and Go tests that call it, through other helpers too', () => {
  assert.deepEqual(mapped({ [HELPERS]: [{ start: 12, end: 12 }] }), ['Widgets creates changed: it calls makeWidget, which changed', 'TestPlain changed: it calls makeWidget, which changed']);
  assert.deepEqual(mapped({ '/repo/other/x_test.go': [{ start: 1, end: 100 }] }), [], 'a file of another package reaches nothing here');
});

test('extra runs focus on the changed specs\' packages; pairs go both ways with the specs that touch the same names, on seeds that ran them so', () => {
  const all = new Map([...tests, { id: 'Other :: x', name: 'x', suite: 'Other', status: 'passed', durationMs: 1 } as TestCase].map((t) => [t.id, t] as const));
  const changed = [{ test: 'Widgets Suite :: Widgets creates', change: 'new' as const, why: '' }];
  assert.deepEqual(changedRunFocus(changed, all), ['Widgets Suite :: Widgets creates', 'Widgets Suite :: Widgets deletes', 'Widgets Suite :: Widgets fast skips']);
  const runs = [
    { ...run('000', 11, []), order: ['Widgets Suite :: Widgets deletes', 'Widgets Suite :: Widgets creates'], cases: [{ ...spec('Widgets creates', 7), status: 'failed' as const, failure: { message: 'widgets "iris2" already exists' } }] },
    { ...run('001', 12, []), order: ['Widgets Suite :: Widgets creates', 'Widgets Suite :: Widgets deletes'] },
  ];
  const leak = { apiVersion: 'v1', kind: 'Widget', namespace: 'default', name: 'iris2', uid: 'u', terminating: true, finalizers: [], createdBy: 'Widgets Suite :: Widgets deletes', runs: ['000'] } satisfies LeakReport;
  const { pairs, unordered } = directedPairs({ changed, runs, leaks: [leak], tests: all });
  assert.deepEqual(pairs.map((p) => [p.first.replace(/^.* :: /, ''), p.second.replace(/^.* :: /, ''), p.seed, p.names]), [
    ['Widgets deletes', 'Widgets creates', 11, ['iris2']],
    ['Widgets creates', 'Widgets deletes', 12, ['iris2']],
  ]);
  assert.equal(unordered, 0);
  assert.equal(directedPairs({ changed, runs: [runs[0]!], leaks: [leak], tests: all }).unordered, 1, 'no run put the changed spec first: that direction has no seed');
  assert.equal(effortSentence({ since: 'b', specs: [...changed, ...changed, ...changed], runs: 10, notes: [] }, { runs: 10, pairs: 6, failing: 0 }), '3 changed specs: 10 runs each, 6 directed pairs, all passed');
});

test('with the API server\'s record, a spec touches every object its requests named, placed in the spec running then', () => {
  const all = new Map(tests.map((t) => [t.id, t] as const));
  const changed = [{ test: 'Widgets Suite :: Widgets creates', change: 'changed' as const, why: '' }];
  const timed = (name: string, line: number, start: number): TestCase => ({ ...spec(name, line), startedAt: start, endedAt: start + 100 });
  const recorded = { ...run('000', 21, []), cases: [timed('Widgets deletes', 14, 1000), timed('Widgets creates', 7, 2000)], order: ['Widgets Suite :: Widgets deletes', 'Widgets Suite :: Widgets creates'] };
  const request = (at: number, verb: string, name: string, actor: 'test' | 'controller' = 'test') =>
    ({ auditID: `${at}`, requestReceivedTimestamp: at, stageTimestamp: at + 1, verb, user: 'admin', userAgent: 'widgets.test/v0.0.0', actor, object: { apiGroup: '', apiVersion: 'v1', resource: 'configmaps', namespace: 'default', name }, requestURI: '/' });
  const entries = [request(1050, 'delete', 'settings'), request(2050, 'get', 'settings'), request(2060, 'update', 'other', 'controller'), request(2070, 'list', 'everything')];
  const { pairs } = directedPairs({ changed, runs: [recorded], leaks: [], tests: all, recorded: [{ run: recorded, entries }] });
  assert.deepEqual(pairs.map((p) => [p.first.replace(/^.* :: /, ''), p.second.replace(/^.* :: /, ''), p.names]), [['Widgets deletes', 'Widgets creates', ['settings']]]);
  assert.equal(directedPairs({ changed, runs: [recorded], leaks: [], tests: all }).pairs.length, 0, 'without the record nothing links them');
});
