// The go test -exec shim's decisions on plain data: every argv shape the go command hands a
// test binary (its own -test.* words, the user's flags in one- and two-word forms, positional
// arguments, `--`), for Ginkgo suites, plain Go tests and `go run` programs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyBinary,
  goflagsWithShim,
  importPathOf,
  labelOf,
  modulePathOf,
  parseBinaryArgs,
  plainTestOutput,
  shimInvocation,
  shimScript,
  takeExecFlag,
  type GoExecPlan,
  type TestBinary,
} from '../../src/frameworks/go-exec.ts';

const plan: GoExecPlan = { version: 1, seed: 7, reportDir: '/results/runs/000/go-exec' };
const ginkgo: TestBinary = { path: '/tmp/go-build1/b001/controller.test', kind: 'ginkgo', importPath: 'example.com/op/internal/controller', dir: '/src/op/internal/controller', label: 'example.com_op_internal_controller' };
const plain: TestBinary = { ...ginkgo, path: '/tmp/go-build1/b002/util.test', kind: 'go', importPath: 'example.com/op/util', dir: '/src/op/util', label: 'example.com_op_util' };
const reports = (label: string) => [
  `-ginkgo.json-report=/results/runs/000/go-exec/${label}.ginkgo.json`,
  `-ginkgo.junit-report=/results/runs/000/go-exec/${label}.junit.xml`,
];
// What go test passes every binary, before the user's words.
const goTestWords = ['-test.paniconexit0', '-test.timeout=10m0s'];

test('Ginkgo suite binaries: seed, randomize-all and reports first, the user flags kept, ours replacing theirs', () => {
  const ours = (extra: string[] = []) => [ginkgo.path, '-test.v=test2json', '-ginkgo.randomize-all', '-ginkgo.seed=7', ...extra];
  const cases: { name: string; args: string[]; argv: string[]; output?: 'raw' | 'text'; plan?: Partial<GoExecPlan> }[] = [
    { name: 'go test ./... as is', args: goTestWords, argv: [...ours(reports(ginkgo.label)), ...goTestWords] },
    {
      name: 'the user seed, randomize-all and verbosity words are replaced',
      args: [...goTestWords, '-test.v=true', '-ginkgo.seed=5', '--ginkgo.randomize-all=false', '-ginkgo.seed', '9'],
      argv: [...ours(reports(ginkgo.label)), ...goTestWords],
    },
    {
      name: 'coverage, -run, label filters and verbosity stay, in both one- and two-word forms',
      args: ['-test.coverprofile=/tmp/b001/_cover_.out', '-test.run=TestAPIs', '-ginkgo.label-filter', '!slow', '-ginkgo.v', '--ginkgo.skip=flaky'],
      argv: [...ours(reports(ginkgo.label)), '-test.coverprofile=/tmp/b001/_cover_.out', '-test.run=TestAPIs', '-ginkgo.label-filter', '!slow', '-ginkgo.v', '--ginkgo.skip=flaky'],
    },
    {
      name: 'go test -json: the test2json stream passes through untouched',
      args: ['-test.v=test2json', ...goTestWords],
      argv: [...ours(reports(ginkgo.label)), ...goTestWords],
      output: 'raw',
    },
    {
      name: 'positional arguments after the flags stay where they are, flag-looking words among them too',
      args: ['-test.timeout=1m', 'fixtures/', '-ginkgo.seed=3'],
      argv: [...ours(reports(ginkgo.label)), '-test.timeout=1m', 'fixtures/', '-ginkgo.seed=3'],
    },
    {
      name: 'a `--` ends the flags: what follows is the suite own',
      args: ['-ginkgo.seed=1', '--', '-ginkgo.seed=2'],
      argv: [...ours(reports(ginkgo.label)), '--', '-ginkgo.seed=2'],
    },
    {
      name: 'a probe focuses by spec text and drops the user focus, one flag per spec',
      args: ['-ginkgo.focus', 'Widgets', '-ginkgo.label-filter=api'],
      argv: [...ours(['-ginkgo.focus=(^|\\s)Widgets victim$', '-ginkgo.focus=(^|\\s)Widgets polluter$', ...reports(ginkgo.label)]), '-ginkgo.label-filter=api'],
      plan: { focus: [{ suite: 'Op Suite', name: 'Widgets victim' }, { suite: 'Op Suite', name: 'Widgets polluter' }, { suite: 'Op Suite', name: 'Widgets victim' }] },
    },
    {
      name: "the user's -exec program still runs the binary; stress sets no flag",
      args: goTestWords,
      argv: ['sudo-run', ...ours(reports(ginkgo.label)), ...goTestWords],
      plan: { userExec: 'sudo-run', gomaxprocs: 1 },
    },
  ];
  for (const c of cases) {
    const invocation = shimInvocation({ ...plan, ...c.plan }, ginkgo, c.args);
    assert.deepEqual(invocation.argv, c.argv, c.name);
    assert.equal(invocation.output, c.output ?? 'text', c.name);
    assert.equal(invocation.skip, undefined, c.name);
    assert.deepEqual(invocation.ginkgoJson, { path: `${plan.reportDir}/${ginkgo.label}.ginkgo.json`, fromUser: false }, c.name);
    assert.equal(invocation.goTestJson, `${plan.reportDir}/${ginkgo.label}.go-test.json`, c.name);
  }
});

test("Ginkgo reports the user asked for stay theirs: written where they said, read from there", () => {
  const invocation = shimInvocation(plan, ginkgo, ['-ginkgo.json-report=out/report.json', '-ginkgo.junit-report', '/abs/junit.xml']);
  assert.deepEqual(invocation.argv, [ginkgo.path, '-test.v=test2json', '-ginkgo.randomize-all', '-ginkgo.seed=7', '-ginkgo.json-report=out/report.json', '-ginkgo.junit-report', '/abs/junit.xml']);
  assert.deepEqual(invocation.ginkgoJson, { path: '/src/op/internal/controller/out/report.json', fromUser: true });
  assert.deepEqual(invocation.junit, { path: '/abs/junit.xml', fromUser: true });
});

test('plain Go test binaries: -test.shuffle and a test2json stream, -run replaced only by a probe', () => {
  const cases: { name: string; args: string[]; argv?: string[]; skip?: boolean; output?: 'raw' | 'text'; plan?: Partial<GoExecPlan> }[] = [
    { name: 'go test ./... as is', args: goTestWords, argv: [plain.path, '-test.v=test2json', '-test.shuffle=7', ...goTestWords] },
    {
      name: 'the user shuffle and -v are replaced; coverage, -run and -count stay',
      args: ['-test.shuffle=on', '-test.v=true', '-test.coverprofile=c.out', '-test.run=^TestA', '-test.count=1', '-test.short'],
      argv: [plain.path, '-test.v=test2json', '-test.shuffle=7', '-test.coverprofile=c.out', '-test.run=^TestA', '-test.count=1', '-test.short'],
    },
    {
      name: 'a probe runs the focused tests of this package only, in one -run pattern',
      args: ['-test.run', 'TestA', '-test.v'],
      argv: [plain.path, '-test.v=test2json', '-test.shuffle=7', '-test.run=^(TestVictim|TestPolluter)$'],
      plan: { focus: [{ suite: plain.importPath, name: 'TestVictim' }, { suite: 'example.com/op/other', name: 'TestOther' }, { suite: plain.importPath, name: 'TestPolluter' }] },
    },
    {
      name: 'a focused test with no package named may be in any package',
      args: [],
      argv: [plain.path, '-test.v=test2json', '-test.shuffle=7', '-test.run=^(TestVictim)$'],
      plan: { focus: [{ suite: '', name: 'TestVictim' }] },
    },
    {
      name: 'a probe with nothing in this package does not run it at all',
      args: goTestWords,
      skip: true,
      plan: { focus: [{ suite: 'example.com/op/other', name: 'TestOther' }] },
    },
    { name: 'go test -json passes through', args: ['-test.v=test2json'], argv: [plain.path, '-test.v=test2json', '-test.shuffle=7'], output: 'raw' },
    { name: 'stress: GOMAXPROCS for the binary only', args: [], argv: [plain.path, '-test.v=test2json', '-test.shuffle=7'], plan: { gomaxprocs: 1 } },
  ];
  for (const c of cases) {
    const invocation = shimInvocation({ ...plan, ...c.plan }, plain, c.args);
    if (c.skip) {
      assert.match(invocation.skip ?? '', /no focused test is in example\.com\/op\/util/, c.name);
      assert.deepEqual(invocation.argv, [], c.name);
      continue;
    }
    assert.deepEqual(invocation.argv, c.argv, c.name);
    assert.equal(invocation.output, c.output ?? 'text', c.name);
    assert.equal(invocation.ginkgoJson, undefined, c.name);
    assert.equal(invocation.goTestJson, `${plan.reportDir}/${plain.label}.go-test.json`, c.name);
    assert.deepEqual(invocation.env, c.plan?.gomaxprocs ? { GOMAXPROCS: '1' } : {}, c.name);
  }
});

test('a plain package beside Ginkgo suites: the Ginkgo flags go test hands every binary are left out, with a note', () => {
  const invocation = shimInvocation(plan, plain, ['-test.timeout=10m0s', '-ginkgo.v', '-ginkgo.randomize-all', '-ginkgo.seed=7', '-ginkgo.focus', 'Widgets', '-test.count=1']);
  assert.deepEqual(invocation.argv, [plain.path, '-test.v=test2json', '-test.shuffle=7', '-test.timeout=10m0s', '-test.count=1']);
  assert.deepEqual(invocation.notes, ['example.com/op/util is no Ginkgo v2 suite: kubeflake left out the Ginkgo flags it would have refused (-ginkgo.v, -ginkgo.randomize-all, -ginkgo.seed, -ginkgo.focus)']);
  assert.deepEqual(shimInvocation(plan, plain, ['-test.v=true']).notes, []);
});

test('a go run program and a Ginkgo v1 suite', () => {
  const program = shimInvocation({ ...plan, gomaxprocs: 1 }, { ...plain, path: '/tmp/go-build1/b001/exe/controller-gen', kind: 'program' }, ['-x', 'y']);
  assert.deepEqual(program, { argv: ['/tmp/go-build1/b001/exe/controller-gen', '-x', 'y'], env: {}, output: 'raw', notes: [] });
  const v1 = shimInvocation(plan, { ...plain, kind: 'ginkgo-v1' }, []);
  assert.deepEqual(v1.argv, [plain.path, '-test.v=test2json', '-test.shuffle=7']);
  assert.match(v1.notes[0]!, /Ginkgo v1 suite: kubeflake orders Ginkgo v2 specs only/);
});

test('binary arguments split the way the Go flag package reads them', () => {
  const cases: [string, string[], { flags: [string, string | undefined][]; rest: string[] }][] = [
    ['one-word forms', ['-a=1', '--b=2', '-c'], { flags: [['a', '1'], ['b', '2'], ['c', undefined]], rest: [] }],
    ['two-word value', ['-ginkgo.focus', 'x y'], { flags: [['ginkgo.focus', 'x y']], rest: [] }],
    ['a known boolean never takes the next word', ['-test.v', 'pos', '-z'], { flags: [['test.v', undefined]], rest: ['pos', '-z'] }],
    ['an unknown flag before a flag is bare', ['-update', '-test.run=X'], { flags: [['update', undefined], ['test.run', 'X']], rest: [] }],
    ['values keep = and newlines', ['-ginkgo.focus=a=b\nc'], { flags: [['ginkgo.focus', 'a=b\nc']], rest: [] }],
    ['an empty value', ['-ginkgo.label-filter='], { flags: [['ginkgo.label-filter', '']], rest: [] }],
    ['`--` and a lone `-` end the flags', ['-a=1', '--', '-b'], { flags: [['a', '1']], rest: ['--', '-b'] }],
    ['a lone dash is positional', ['-', '-a=1'], { flags: [], rest: ['-', '-a=1'] }],
    ['three dashes are not a flag', ['---x'], { flags: [], rest: ['---x'] }],
  ];
  for (const [name, args, want] of cases) {
    const parsed = parseBinaryArgs(args);
    assert.deepEqual(parsed.flags.map((f) => [f.name, f.value]), want.flags, name);
    assert.deepEqual(parsed.rest, want.rest, name);
    assert.deepEqual([...parsed.flags.flatMap((f) => f.words), ...parsed.rest], args, `${name}: no word lost`);
  }
});

test("GOFLAGS keeps the user's flags and takes their -exec over into the shim", () => {
  assert.deepEqual(goflagsWithShim(undefined, '/r/shim'), { goflags: '-exec=/r/shim' });
  assert.deepEqual(goflagsWithShim('  -mod=vendor   -tags=e2e ', '/r/shim'), { goflags: '-mod=vendor -tags=e2e -exec=/r/shim' });
  assert.deepEqual(goflagsWithShim('-mod=mod -exec=/usr/bin/qemu-wrap -count=1', '/r/shim'), { goflags: '-mod=mod -count=1 -exec=/r/shim', userExec: '/usr/bin/qemu-wrap' });
  assert.deepEqual(goflagsWithShim('--exec=', '/r/shim'), { goflags: '-exec=/r/shim' });
  assert.throws(() => goflagsWithShim('', '/my results/shim'), /contains whitespace, which GOFLAGS cannot carry: use a results directory whose path has no spaces/);
});

test("a go test command's own -exec is taken out of the run and handed to the shim, in every form", () => {
  const cases: [string[], string[], string | undefined][] = [
    [['go', 'test', '-exec', 'sudo -E', './...'], ['go', 'test', './...'], 'sudo -E'],
    [['go', 'test', '--exec=/bin/wrap', '-count=1', './...'], ['go', 'test', '-count=1', './...'], '/bin/wrap'],
    [['go', 'test', './...', '-args', '-exec', 'x'], ['go', 'test', './...', '-args', '-exec', 'x'], undefined],
    [['go', 'test', '-executor=1', './...'], ['go', 'test', '-executor=1', './...'], undefined],
  ];
  for (const [argv, kept, exec] of cases) {
    const taken = takeExecFlag(argv);
    assert.deepEqual(taken.argv, kept, argv.join(' '));
    assert.equal(taken.exec, exec, argv.join(' '));
    assert.equal(taken.notes.length, exec ? 1 : 0);
  }
  const withArgs = shimInvocation({ ...plan, userExec: 'sudo -E' }, plain, []);
  assert.deepEqual(withArgs.argv.slice(0, 3), ['sudo', '-E', plain.path]);
});

test('the shim script quotes what it execs, so paths with spaces or quotes work', () => {
  const script = shimScript("/opt/node 24/bin/node", "/src/it's/go-exec-shim.ts", '/r/plan.json');
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(script, /\nexec '\/opt\/node 24\/bin\/node' '\/src\/it'\\''s\/go-exec-shim\.ts' '\/r\/plan\.json' "\$@"\n$/);
});

test('binaries are told apart by name and by the Ginkgo symbols they link', () => {
  assert.equal(classifyBinary('/b/x.test', { ginkgoV2: true, ginkgoV1: false }), 'ginkgo');
  assert.equal(classifyBinary('/b/x.test', { ginkgoV2: false, ginkgoV1: true }), 'ginkgo-v1');
  assert.equal(classifyBinary('/b/x.test', { ginkgoV2: false, ginkgoV1: false }), 'go');
  assert.equal(classifyBinary('/b/exe/controller-gen', { ginkgoV2: true, ginkgoV1: false }), 'program');
});

test('import paths and labels, as go test -json names packages', () => {
  assert.equal(modulePathOf('// c\nmodule example.com/op // the operator\n\ngo 1.25\n'), 'example.com/op');
  assert.equal(modulePathOf('module "example.com/quoted"\n'), 'example.com/quoted');
  assert.equal(modulePathOf('go 1.25\n'), undefined);
  assert.equal(importPathOf('example.com/op', '/src/op', '/src/op/internal/controller'), 'example.com/op/internal/controller');
  assert.equal(importPathOf('example.com/op', '/src/op/', '/src/op'), 'example.com/op');
  assert.equal(importPathOf('example.com/op', '/src/op', '/src/operator'), 'example.com/op');
  assert.equal(labelOf('example.com/op/internal/controller'), 'example.com_op_internal_controller');
  assert.equal(labelOf('../x y'), 'x_y');
});

test('test2json-mode output reads like go test -v: marks off, the empty NAME lines gone', () => {
  assert.equal(plainTestOutput('\x16=== RUN   TestA'), '=== RUN   TestA');
  assert.equal(plainTestOutput('\x16=== NAME  '), undefined);
  assert.equal(plainTestOutput('\x16=== NAME  TestA'), '=== NAME  TestA');
  assert.equal(plainTestOutput('    a_test.go:3: hello'), '    a_test.go:3: hello');
});
