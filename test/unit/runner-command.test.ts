import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRunCommand, detectFramework, removeFlags } from '../../src/runner/command.ts';

const reports = { outputDir: '/r/runs/003/ginkgo-out', packageFileStem: '.kubeflake-003-ab' };
const split = (line: string) => line.split(' ');

test('detectFramework: ginkgo CLI shapes are ginkgo', () => {
  for (const line of ['ginkgo -r', 'ginkgo run -v ./pkg/...', 'ginkgo --seed=5 --randomize-all ./...', './bin/ginkgo -r', 'go run github.com/onsi/ginkgo/v2/ginkgo@v2.34.0 -r']) {
    assert.equal(detectFramework(split(line)), 'ginkgo', line);
  }
});

test('detectFramework: go test with -ginkgo.* flags is ginkgo, without is go', () => {
  assert.equal(detectFramework(split('go test ./... -ginkgo.v')), 'ginkgo');
  assert.equal(detectFramework(split('go test ./... --ginkgo.label-filter=x')), 'ginkgo');
  assert.equal(detectFramework(split('go test -count=1 ./pkg')), 'go');
  assert.equal(detectFramework(split('./controller.test -test.v')), 'go');
});

test('detectFramework: env-prefixed commands are seen through', () => {
  assert.equal(detectFramework(split('KUBECONFIG=/k USE_EXISTING_CLUSTER=true ginkgo -r')), 'ginkgo');
  assert.equal(detectFramework(split('env CGO_ENABLED=0 go test ./...')), 'go');
  assert.equal(detectFramework(split('GOFLAGS=-mod=mod go test ./... -ginkgo.v')), 'ginkgo');
});

test('detectFramework: make, scripts and shells are generic', () => {
  for (const line of ['make test', 'bash -c go test ./...', './hack/test.sh', 'npm test']) {
    assert.equal(detectFramework(split(line)), 'generic', line);
  }
});

test('ginkgo -r: seed, randomize and report flags go before the package flags', () => {
  const built = buildRunCommand(split('ginkgo -r'), 'ginkgo', { seed: 42, reports });
  assert.deepEqual(built.argv, ['ginkgo', '--randomize-all', '--seed=42', '--output-dir=/r/runs/003/ginkgo-out', '--junit-report=junit.xml', '--json-report=ginkgo.json', '-r']);
  assert.deepEqual(built.reports, { kind: 'ginkgo-output-dir', dir: '/r/runs/003/ginkgo-out', junit: 'junit.xml', json: 'ginkgo.json' });
  assert.equal(built.env.KUBEFLAKE_SEED, '42');
});

test('ginkgo run -v ./pkg/...: flags go after the run subcommand, packages stay last', () => {
  const built = buildRunCommand(split('ginkgo run -v ./pkg/...'), 'ginkgo', { seed: 7, reports });
  assert.deepEqual(built.argv.slice(0, 4), ['ginkgo', 'run', '--randomize-all', '--seed=7']);
  assert.deepEqual(built.argv.slice(-2), ['-v', './pkg/...']);
});

test("the user's seed, randomize and report flags are replaced, not doubled", () => {
  const built = buildRunCommand(
    ['ginkgo', '--seed=5', '--randomize-all', '--junit-report', 'mine.xml', '-json-report=mine.json', '--output-dir=out', './...'],
    'ginkgo',
    { seed: 9, reports },
  );
  assert.equal(built.argv.filter((word) => word.includes('seed')).join(' '), '--seed=9');
  assert.equal(built.argv.filter((word) => word === '--randomize-all').length, 1);
  assert.ok(!built.argv.includes('mine.xml') && !built.argv.includes('-json-report=mine.json') && !built.argv.includes('--output-dir=out'));
  assert.equal(built.argv.at(-1), './...');
  assert.match(built.notes.join('\n'), /replaced the command's --output-dir/);
});

test('a separate-value seed (--seed 5) is removed with its value', () => {
  const built = buildRunCommand(split('ginkgo --seed 5 -p ./...'), 'ginkgo', { seed: 9 });
  assert.deepEqual(built.argv, ['ginkgo', '--randomize-all', '--seed=9', '-p', './...']);
});

test('ginkgo with -- passthrough: our flags stay before the packages, binary args untouched', () => {
  const built = buildRunCommand(split('ginkgo ./... -- -kubeconfig=/k --seed=1'), 'ginkgo', { seed: 3, reports });
  const sep = built.argv.indexOf('--');
  assert.deepEqual(built.argv.slice(sep), ['--', '-kubeconfig=/k', '--seed=1']);
  assert.ok(built.argv.indexOf('--seed=3') < built.argv.indexOf('./...'));
});

test('ginkgo focus: one anchored --focus per test, the user focus replaced', () => {
  const built = buildRunCommand(split('ginkgo --focus=old ./...'), 'ginkgo', {
    seed: 3,
    focus: [
      { id: 'Order Suite :: Shared state polluter', suite: 'Order Suite', name: 'Shared state polluter' },
      { id: 'Order Suite :: Shared state victim (v2)', suite: 'Order Suite', name: 'Shared state victim (v2)' },
    ],
  });
  const focus = built.argv.filter((word) => word.startsWith('--focus'));
  assert.equal(focus.length, 2);
  assert.ok(!focus.includes('--focus=old'));
  const victim = new RegExp(focus[1]!.slice('--focus='.length));
  assert.ok(victim.test('Order Suite Shared state victim (v2)'));
  assert.ok(!victim.test('Order Suite Shared state victim (v2) again'));
});

test('ginkgo watch/build are refused with a clear message', () => {
  assert.throws(() => buildRunCommand(split('ginkgo watch ./...'), 'ginkgo', { seed: 1 }), /ginkgo watch` does not run the suite once/);
});

test('go test ./... -ginkgo.v: -ginkgo.* flags appended after the packages, per-package report names', () => {
  const built = buildRunCommand(split('go test ./... -ginkgo.v -ginkgo.seed=4 -ginkgo.junit-report=x.xml'), 'ginkgo', { seed: 11, reports });
  assert.deepEqual(built.argv, [
    'go', 'test', './...', '-ginkgo.v',
    '-ginkgo.randomize-all', '-ginkgo.seed=11',
    '-ginkgo.junit-report=.kubeflake-003-ab-junit.xml', '-ginkgo.json-report=.kubeflake-003-ab-ginkgo.json',
  ]);
  assert.equal(built.reports.kind, 'package-files');
});

test('go test forced to ginkgo gets -ginkgo.* flags even without any', () => {
  const built = buildRunCommand(split('go test -count=1 ./internal/controller'), 'ginkgo', { seed: 2 });
  assert.ok(built.argv.indexOf('-ginkgo.seed=2') > built.argv.indexOf('./internal/controller'));
});

test('plain go test: -shuffle and -json added, a user -shuffle replaced', () => {
  const built = buildRunCommand(split('go test -count=1 -shuffle=on ./pkg'), 'go', { seed: 1712, reports });
  assert.equal(built.argv.filter((word) => word.includes('shuffle')).join(' '), '-shuffle=1712');
  assert.equal(built.argv.filter((word) => word === '-json').length, 1);
  assert.deepEqual(built.argv.slice(0, 2), ['go', 'test']);
  assert.equal(built.argv.at(-1), './pkg');
  assert.equal(built.reports.kind, 'go-test-json');
});

test('plain go test focus: -run selects exactly the tests, subtests by level', () => {
  const built = buildRunCommand(split('go test -run Old ./pkg'), 'go', {
    seed: 1,
    focus: [
      { id: 'pkg :: TestA', suite: 'pkg', name: 'TestA' },
      { id: 'pkg :: TestB', suite: 'pkg', name: 'TestB' },
    ],
  });
  const run = built.argv.filter((word) => word.startsWith('-run'));
  assert.deepEqual(run, ['-run=^(TestA|TestB)$']);
  assert.ok(!built.argv.includes('Old'));
  const sub = buildRunCommand(split('go test ./pkg'), 'go', { seed: 1, focus: [{ id: 'pkg :: TestTable/first', suite: 'pkg', name: 'TestTable/first' }] });
  assert.ok(sub.argv.includes('-run=^(TestTable)$/^(first)$'), sub.argv.join(' '));
});

test('env-prefixed commands: env words go to the env, kept in the displayed command', () => {
  const built = buildRunCommand(split('KUBECONFIG=/k go test ./...'), 'go', { seed: 5, reports });
  assert.equal(built.argv[0], 'go');
  assert.equal(built.env.KUBECONFIG, '/k');
  assert.equal(built.display[0], 'KUBECONFIG=/k');
  const viaEnv = buildRunCommand(split('env CGO_ENABLED=0 ginkgo -r'), 'ginkgo', { seed: 5 });
  assert.equal(viaEnv.argv[0], 'ginkgo');
  assert.equal(viaEnv.env.CGO_ENABLED, '0');
});

test('generic: the command is untouched, the seed goes in KUBEFLAKE_SEED, reports by glob', () => {
  const built = buildRunCommand(split('make test'), 'generic', { seed: 77, reports: { ...reports, glob: 'out/*.xml' } });
  assert.deepEqual(built.argv, ['make', 'test']);
  assert.equal(built.env.KUBEFLAKE_SEED, '77');
  assert.deepEqual(built.reports, { kind: 'glob', pattern: 'out/*.xml' });
});

test('generic cannot focus: probes are refused with the reason', () => {
  assert.throws(
    () => buildRunCommand(split('make test'), 'generic', { seed: 1, focus: [{ id: 'a', suite: '', name: 'a' }] }),
    /generic framework: it has no way to select tests, so probes are impossible/,
  );
});

test('a framework that does not fit the command is an error naming the command', () => {
  assert.throws(() => buildRunCommand(split('make test'), 'ginkgo', { seed: 1 }), /framework ginkgo needs .*make test/);
  assert.throws(() => buildRunCommand(split('make test'), 'go', { seed: 1 }), /framework go needs .*make test/);
});

test('without report paths (reproduce), no report flags are added', () => {
  const built = buildRunCommand(split('ginkgo -r'), 'ginkgo', { seed: 1 });
  assert.deepEqual(built.argv, ['ginkgo', '--randomize-all', '--seed=1', '-r']);
});

test('removeFlags handles -x, --x, -x=v and -x v', () => {
  const rules = [{ names: ['seed'], value: true }, { names: ['randomize-all'], value: false }];
  assert.deepEqual(removeFlags(['-seed', '1', '--seed=2', '-randomize-all', '--randomize-all=false', './a', '--', 'b'], rules), ['./a', '--', 'b']);
});

test('go run .../ginkgo: flags go after the ginkgo package, before the suite packages', () => {
  const built = buildRunCommand(split('go run github.com/onsi/ginkgo/v2/ginkgo@v2.34.0 -r ./internal/...'), 'ginkgo', { seed: 8, reports });
  assert.deepEqual(built.argv.slice(0, 5), ['go', 'run', 'github.com/onsi/ginkgo/v2/ginkgo@v2.34.0', '--randomize-all', '--seed=8']);
  assert.deepEqual(built.argv.slice(-2), ['-r', './internal/...']);
  assert.equal(built.reports.kind, 'ginkgo-output-dir');
});

test('go test with -args: -shuffle and -json stay go test flags, binary args stay last', () => {
  const built = buildRunCommand(split('go test ./pkg -args -kubeconfig=/k'), 'go', { seed: 4, reports });
  assert.deepEqual(built.argv, ['go', 'test', '-json', '-shuffle=4', './pkg', '-args', '-kubeconfig=/k']);
});

test('a compiled test binary: -test.shuffle for go, and a note that it writes no report', () => {
  const built = buildRunCommand(split('./controller.test -test.v'), 'go', { seed: 6, reports });
  assert.ok(built.argv.includes('-test.shuffle=6'), built.argv.join(' '));
  assert.equal(built.reports.kind, 'none');
  assert.match(built.notes.join('\n'), /writes no machine-readable report/);
});
