// Build once, run many: the pure decisions. What the cache key holds (and what it leaves out),
// which commands and flags must go through the go command, what a kept run records, and that a
// kept binary gets the very argv the go command's run would have given it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binaryKey,
  buildKey,
  embedPatterns,
  goCommandReasons,
  isBuildInput,
  isIgnoredDir,
  keptRunFits,
  keptRunOf,
  localReplacements,
  packageConcurrency,
  packageResultLine,
  recordedCoverage,
  replayPlan,
  sourceDigestOf,
  type GoRunOutcome,
  type GoRunShape,
  type KeptTestBinary,
} from '../../src/frameworks/go-exec-reuse.ts';
import { shimInvocation, test2jsonCommand, type GoExecPlan, type TestBinary } from '../../src/frameworks/go-exec.ts';

test('the build key: the command, GOFLAGS and build variables are in it; kubeflake\'s -exec, seed and the rest of the environment are not', () => {
  const command = ['go', 'test', './...'];
  const base = buildKey(command, '-mod=mod', { GOOS: 'linux', KUBECONFIG: '/a' });
  assert.equal(buildKey(command, '-mod=mod -exec=/results/runs/001/go-exec/shim', { GOOS: 'linux', KUBECONFIG: '/b', KUBEFLAKE_SEED: '9' }), base);
  assert.notEqual(buildKey(['go', 'test', '-race', './...'], '-mod=mod', { GOOS: 'linux' }), base, '-race builds another binary');
  assert.notEqual(buildKey(command, '-mod=mod -tags=e2e', { GOOS: 'linux' }), base, 'tags in GOFLAGS build another binary');
  assert.notEqual(buildKey(command, '-mod=mod', { GOOS: 'linux', CGO_ENABLED: '0' }), base, 'CGO_ENABLED builds another binary');
  assert.notEqual(buildKey(command, '-mod=mod', { GOOS: 'linux', PATH: '/other/go/bin' }), base, 'another go on PATH may build another binary');
});

test('the binary key changes with the package, the build and the source state; the source state with any file\'s size or time, not with the order found', () => {
  const files = [
    { path: 'internal/controller/suite_test.go', size: 100, mtimeNs: 1n },
    { path: 'go.mod', size: 50, mtimeNs: 2n },
  ];
  const digest = sourceDigestOf(files);
  assert.equal(sourceDigestOf([...files].reverse()), digest);
  assert.notEqual(sourceDigestOf([files[0]!, { ...files[1]!, mtimeNs: 3n }]), digest, 'go.mod touched');
  assert.notEqual(sourceDigestOf([{ ...files[0]!, size: 101 }, files[1]!]), digest, 'a test file edited');
  assert.notEqual(sourceDigestOf(files.slice(0, 1)), digest, 'a file removed');
  const key = binaryKey('example.com/op/internal/controller', 'b1', digest);
  assert.match(key, /^[0-9a-f]{32}$/);
  assert.notEqual(binaryKey('example.com/op/internal/webhook', 'b1', digest), key);
  assert.notEqual(binaryKey('example.com/op/internal/controller', 'b2', digest), key);
  assert.notEqual(binaryKey('example.com/op/internal/controller', 'b1', sourceDigestOf(files.slice(1))), key);
});

test('build inputs are what the go command compiles or embeds; the folders it never builds are skipped', () => {
  for (const name of ['a.go', 'a_test.go', 'asm_amd64.s', 'x.c', 'x.h', 'rsrc.syso', 'go.mod', 'go.sum']) assert.ok(isBuildInput(name), name);
  for (const name of ['cover.out', 'report.json', 'README.md', 'Makefile', 'junit.xml']) assert.ok(!isBuildInput(name), name);
  for (const name of ['testdata', '.git', '_output', 'node_modules']) assert.ok(isIgnoredDir(name), name);
  for (const name of ['internal', 'vendor', 'api']) assert.ok(!isIgnoredDir(name), name);
  assert.deepEqual(embedPatterns('package x\n\n//go:embed templates/*.tmpl "a b.txt" all:static\nvar fs embed.FS\n'), ['templates/*.tmpl', 'a b.txt', 'static']);
  assert.deepEqual(localReplacements('module x\n\nreplace example.com/lib => ../lib\nreplace (\n\texample.com/y v1.0.0 => ./third_party/y\n\texample.com/z => example.com/z2 v1.2.0\n)\n'), ['../lib', './third_party/y']);
});

test('coverage, -json, -c/-o/-n and any command but go test itself go through the go command; build flags and test flags do not', () => {
  assert.deepEqual(goCommandReasons(['go', 'test', './...'], undefined), []);
  assert.deepEqual(goCommandReasons(['go', 'test', '-race', '-tags=e2e', '-v', '-count=1', '-timeout', '20m', './...', '-ginkgo.v'], '-mod=mod'), []);
  assert.deepEqual(goCommandReasons(['/usr/local/go/bin/go', 'test', './...'], undefined), []);
  for (const [argv, goflags, pattern] of [
    [['go', 'test', './...', '-coverprofile', 'cover.out'], undefined, /coverage \(-coverprofile\)/],
    [['go', 'test', '-cover', './...'], undefined, /coverage \(-cover\)/],
    [['go', 'test', '-covermode=atomic', './...'], undefined, /coverage/],
    [['go', 'test', './...'], '-coverpkg=./...', /coverage \(-coverpkg\)/],
    [['go', 'test', '-json', './...'], undefined, /-json output/],
    [['go', 'test', '-c', '-o', 'x.test', '.'], undefined, /-c compiles/],
    [['make', 'test'], undefined, /not `go test` itself/],
    [['go', 'run', './cmd'], undefined, /not `go test` itself/],
  ] as const) {
    assert.match(goCommandReasons(argv, goflags).join('; '), pattern, argv.join(' '));
  }
  // After -args everything is the test binary's: its own -json flag is no go test flag.
  assert.deepEqual(goCommandReasons(['go', 'test', './...', '-args', '-json'], undefined), []);
  assert.ok(recordedCoverage(['-test.paniconexit0', '-test.gocoverdir=/tmp/x'], {}));
  assert.ok(recordedCoverage([], { GOCOVERDIR: '/tmp/x' }));
  assert.ok(!recordedCoverage(['-test.paniconexit0', '-test.timeout=10m0s'], { PATH: '/usr/bin' }));
});

test('packages at once: go test -p, else one a core as the go command does', () => {
  assert.equal(packageConcurrency(['go', 'test', './...'], undefined, 2), 2);
  assert.equal(packageConcurrency(['go', 'test', '-p', '1', './...'], undefined, 8), 1);
  assert.equal(packageConcurrency(['go', 'test', './...'], '-p=3', 8), 3);
  assert.equal(packageConcurrency(['go', 'test', './...'], undefined, 0), 1);
});

const shape: GoRunShape = { buildKey: 'b1', argv: ['go', 'test', './...'], focused: false, cores: 2 };
const controllerArgs = ['-test.paniconexit0', '-test.timeout=10m0s', '-ginkgo.randomize-all', '-ginkgo.seed=1'];
const passed: GoRunOutcome = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  unbuilt: 0,
  binaries: [
    { importPath: 'example.com/op/internal/controller', args: controllerArgs, exitCode: 0, kept: 'k1' },
    { importPath: 'example.com/op/util', args: ['-test.paniconexit0', '-test.timeout=10m0s'], exitCode: 0, kept: 'k2' },
  ],
};

test('a go test run is kept only when it shows every package it builds ran: no build failure, not cut short, a failing exit only with a failing binary', () => {
  assert.deepEqual(keptRunOf(shape, passed), {
    version: 1,
    buildKey: 'b1',
    focused: false,
    concurrency: 2,
    packages: [
      { importPath: 'example.com/op/internal/controller', key: 'k1', args: controllerArgs },
      { importPath: 'example.com/op/util', key: 'k2', args: ['-test.paniconexit0', '-test.timeout=10m0s'] },
    ],
  });
  const failedSuite = { ...passed, exitCode: 1, binaries: [{ ...passed.binaries[0]!, exitCode: 1 }, passed.binaries[1]!] };
  assert.ok(keptRunOf(shape, failedSuite), 'a failing suite is a normal run');
  assert.equal(keptRunOf(shape, { ...passed, exitCode: 1 }), undefined, 'go test failed with every binary passing: vet or setup failed, a package ran no binary');
  assert.equal(keptRunOf(shape, { ...passed, exitCode: 2, unbuilt: 1 }), undefined, 'a package did not build');
  assert.equal(keptRunOf(shape, { ...passed, exitCode: null, timedOut: true }), undefined, 'cut short at the timeout');
  assert.equal(keptRunOf(shape, { ...passed, signal: 'SIGKILL', exitCode: null }), undefined, 'killed from outside');
  assert.equal(keptRunOf(shape, { ...passed, binaries: [{ ...passed.binaries[0]!, kept: undefined }] }), undefined, 'a binary could not be kept');
  assert.equal(keptRunOf(shape, { ...passed, binaries: [] }), undefined, 'no test binary reached the shim');
  assert.equal(keptRunOf({ ...shape, argv: ['go', 'test', '-coverprofile=c.out', './...'] }, passed), undefined, 'coverage always goes through go');
});

test('a kept run fits the same build; a probe\'s (its words carry its focus) fits only probes', () => {
  const run = keptRunOf(shape, passed)!;
  assert.equal(keptRunFits(run, 'b1', false), undefined);
  assert.equal(keptRunFits(run, 'b1', true), undefined);
  assert.match(keptRunFits(run, 'b2', false) ?? '', /build .* changed/);
  const probe = keptRunOf({ ...shape, focused: true }, passed)!;
  assert.equal(keptRunFits(probe, 'b1', true), undefined);
  assert.match(keptRunFits(probe, 'b1', false) ?? '', /only a probe/);
});

test('the argv a kept binary gets is the one the go command\'s run would give it: seed, focus and reports replaced by the shim, the go command\'s words kept', () => {
  const plan: GoExecPlan = { version: 1, seed: 42, reportDir: '/results/runs/003/go-exec', focus: [{ suite: 'Controller Suite', name: 'deletes iris2' }] };
  const kept: KeptTestBinary = {
    version: 1,
    importPath: 'example.com/op/internal/controller',
    kind: 'ginkgo',
    dir: '/src/op/internal/controller',
    binary: '/tmp/kubeflake-test-binaries-x/k1/controller.test',
    env: { PATH: '/usr/local/go/bin:/usr/bin' },
    buildKey: 'b1',
    sourceDigest: 'd',
    key: 'k1',
  };
  // The first run (seed 1, no focus) recorded these words; this probe's go test would pass seed 42 and its focus.
  const replay = replayPlan('/results/runs/003/go-exec/plan.json', 2, [{ ...kept, args: controllerArgs }]);
  assert.deepEqual(replay.packages, [{
    importPath: kept.importPath,
    dir: kept.dir,
    binary: kept.binary,
    args: controllerArgs,
    env: { PATH: '/usr/local/go/bin:/usr/bin', PWD: '/src/op/internal/controller' },
  }]);
  const viaGo: TestBinary = { path: '/tmp/go-build9/b001/controller.test', kind: 'ginkgo', importPath: kept.importPath, dir: kept.dir, label: 'example.com_op_internal_controller' };
  const goWords = ['-test.paniconexit0', '-test.timeout=10m0s', '-ginkgo.randomize-all', '-ginkgo.seed=42', '-ginkgo.focus=deletes'];
  const throughGo = shimInvocation(plan, viaGo, goWords);
  const reused = shimInvocation(plan, { ...viaGo, path: kept.binary }, replay.packages[0]!.args);
  assert.deepEqual(reused.argv.slice(1), throughGo.argv.slice(1));
  assert.equal(reused.argv[0], kept.binary);
  assert.ok(reused.argv.includes('-test.paniconexit0') && reused.argv.includes('-test.timeout=10m0s'), 'the go command\'s own words stay');
  assert.ok(reused.argv.includes('-ginkgo.seed=42') && !reused.argv.includes('-ginkgo.seed=1'), 'this run\'s seed, not the recorded one');
});

test('the package line is go test\'s', () => {
  assert.equal(packageResultLine('example.com/op/internal/controller', true, 12_345), 'ok  \texample.com/op/internal/controller\t12.345s');
  assert.equal(packageResultLine('example.com/op/util', false, 500), 'FAIL\texample.com/op/util\t0.500s');
});

test('test2json is started directly from the GOROOT the go command put first on PATH, else through go tool', () => {
  const here = new Set(['/usr/local/go/pkg/tool/linux_amd64/test2json']);
  assert.deepEqual(test2jsonCommand('/usr/local/go/bin:/usr/bin', 'linux', 'x64', (file) => here.has(file)), ['/usr/local/go/pkg/tool/linux_amd64/test2json']);
  assert.deepEqual(test2jsonCommand('/usr/local/go/bin:/usr/bin', 'linux', 'arm64', (file) => here.has(file)), ['go', 'tool', 'test2json'], 'no tool for this platform there');
  assert.deepEqual(test2jsonCommand('/usr/bin:/usr/local/go/bin', 'linux', 'x64', (file) => here.has(file)), ['go', 'tool', 'test2json'], 'not run by the go command');
  assert.deepEqual(test2jsonCommand(undefined, 'linux', 'x64', () => true), ['go', 'tool', 'test2json']);
});
