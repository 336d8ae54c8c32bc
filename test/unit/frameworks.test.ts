// The one module that knows command lines (src/frameworks/): every argv shape the runner and the
// reproduce lines use, in one table, so a probe always runs what the printed reproduce line says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Framework } from '../../src/model.ts';
import {
  buildRunCommand,
  commandStyle,
  detectFramework,
  escapeRegex,
  ginkgoFocusPattern,
  goRunPattern,
  removeFlags,
  reproduceCommand,
  selectionOf,
  shellJoin,
  shellQuote,
  type CommandStyle,
} from '../../src/frameworks/index.ts';

const reports = { outputDir: '/r/runs/003/ginkgo-out', packageFileStem: '.kubeflake-003-ab' };
const split = (line: string): string[] => line.split(' ');

interface Shape {
  line: string;
  framework: Framework;
  style: CommandStyle;
  seed: number;
  focus?: string[];
  /** The reproduce line (seed and focus, no report flags). */
  reproduce: string;
  /** The command a run spawns (report flags added), when the shape can report. */
  run?: string[];
}

// Every shape: the ginkgo CLI (plain, `run`, `go run`, user flags replaced, passthrough), go test
// with Ginkgo flags, plain go test and compiled binaries, env words, generic commands.
const shapes: Shape[] = [
  {
    line: 'ginkgo -r', framework: 'ginkgo', style: 'ginkgo-cli', seed: 42,
    reproduce: 'ginkgo --randomize-all --seed=42 -r',
    run: ['ginkgo', '--randomize-all', '--seed=42', '--output-dir=/r/runs/003/ginkgo-out', '--junit-report=junit.xml', '--json-report=ginkgo.json', '-r'],
  },
  {
    line: 'ginkgo run -v ./pkg/...', framework: 'ginkgo', style: 'ginkgo-cli', seed: 7,
    reproduce: 'ginkgo run --randomize-all --seed=7 -v ./pkg/...',
    run: ['ginkgo', 'run', '--randomize-all', '--seed=7', '--output-dir=/r/runs/003/ginkgo-out', '--junit-report=junit.xml', '--json-report=ginkgo.json', '-v', './pkg/...'],
  },
  {
    line: 'ginkgo --seed 5 -p ./...', framework: 'ginkgo', style: 'ginkgo-cli', seed: 9,
    reproduce: 'ginkgo --randomize-all --seed=9 -p ./...',
  },
  {
    line: 'ginkgo run --seed 7 --focus=old -v --randomize-all ./... -- -extra', framework: 'ginkgo', style: 'ginkgo-cli', seed: 42, focus: ['A creates', 'B (x)'],
    reproduce: "ginkgo run --randomize-all --seed=42 '--focus=(^|\\s)A creates$' '--focus=(^|\\s)B \\(x\\)$' -v ./... -- -extra",
  },
  {
    line: 'ginkgo ./... -- -kubeconfig=/k --seed=1', framework: 'ginkgo', style: 'ginkgo-cli', seed: 3,
    reproduce: 'ginkgo --randomize-all --seed=3 ./... -- -kubeconfig=/k --seed=1',
    run: ['ginkgo', '--randomize-all', '--seed=3', '--output-dir=/r/runs/003/ginkgo-out', '--junit-report=junit.xml', '--json-report=ginkgo.json', './...', '--', '-kubeconfig=/k', '--seed=1'],
  },
  {
    line: './bin/ginkgo -r', framework: 'ginkgo', style: 'ginkgo-cli', seed: 1,
    reproduce: './bin/ginkgo --randomize-all --seed=1 -r',
  },
  {
    line: 'go run github.com/onsi/ginkgo/v2/ginkgo@v2.34.0 -r ./internal/...', framework: 'ginkgo', style: 'ginkgo-cli', seed: 8,
    reproduce: 'go run github.com/onsi/ginkgo/v2/ginkgo@v2.34.0 --randomize-all --seed=8 -r ./internal/...',
    run: ['go', 'run', 'github.com/onsi/ginkgo/v2/ginkgo@v2.34.0', '--randomize-all', '--seed=8', '--output-dir=/r/runs/003/ginkgo-out', '--junit-report=junit.xml', '--json-report=ginkgo.json', '-r', './internal/...'],
  },
  {
    line: 'go test ./... -ginkgo.v -ginkgo.seed=4 -ginkgo.junit-report=x.xml', framework: 'ginkgo', style: 'ginkgo-binary', seed: 11,
    reproduce: 'go test ./... -ginkgo.v -ginkgo.junit-report=x.xml -ginkgo.randomize-all -ginkgo.seed=11',
    // Reports come through the go test exec shim (GOFLAGS), not flags: the run is the reproduce line.
    run: ['go', 'test', './...', '-ginkgo.v', '-ginkgo.junit-report=x.xml', '-ginkgo.randomize-all', '-ginkgo.seed=11'],
  },
  {
    line: 'KUBEBUILDER_ASSETS=/assets go test -count=1 ./internal/... -ginkgo.seed=9 -ginkgo.v', framework: 'ginkgo', style: 'ginkgo-binary', seed: 5, focus: ['A'],
    reproduce: "KUBEBUILDER_ASSETS=/assets go test -count=1 ./internal/... -ginkgo.v -ginkgo.randomize-all -ginkgo.seed=5 '-ginkgo.focus=(^|\\s)A$'",
  },
  {
    line: './controller.test -ginkgo.v', framework: 'ginkgo', style: 'ginkgo-binary', seed: 2,
    reproduce: './controller.test -ginkgo.v -ginkgo.randomize-all -ginkgo.seed=2',
  },
  {
    line: 'go test -count=1 -shuffle=on ./pkg', framework: 'go', style: 'go-test', seed: 1712,
    reproduce: 'go test -shuffle=1712 -count=1 ./pkg',
    run: ['go', 'test', '-shuffle=1712', '-count=1', './pkg'],
  },
  {
    line: 'go test -run TestOld -shuffle=on -v ./pkg', framework: 'go', style: 'go-test', seed: 11, focus: ['TestA', 'TestB'],
    reproduce: "go test -shuffle=11 '-run=^(TestA|TestB)$' -v ./pkg",
  },
  {
    // The command's own -exec would replace kubeflake's shim: the run hands it to the shim instead.
    line: 'go test -exec /bin/wrap -count=1 ./pkg', framework: 'go', style: 'go-test', seed: 4,
    reproduce: 'go test -shuffle=4 -exec /bin/wrap -count=1 ./pkg',
    run: ['go', 'test', '-shuffle=4', '-count=1', './pkg'],
  },
  {
    line: 'go test ./pkg -args -kubeconfig=/k', framework: 'go', style: 'go-test', seed: 4,
    reproduce: 'go test -shuffle=4 ./pkg -args -kubeconfig=/k',
    run: ['go', 'test', '-shuffle=4', './pkg', '-args', '-kubeconfig=/k'],
  },
  {
    line: './pkg.test -test.v', framework: 'go', style: 'go-binary', seed: 2, focus: ['TestA'],
    reproduce: "./pkg.test -test.shuffle=2 '-test.run=^(TestA)$' -test.v",
  },
  {
    line: 'env CGO_ENABLED=0 go test ./...', framework: 'go', style: 'go-test', seed: 5,
    reproduce: 'CGO_ENABLED=0 go test -shuffle=5 ./...',
  },
  {
    line: 'FOO=a make test', framework: 'generic', style: 'env', seed: 3,
    reproduce: 'FOO=a KUBEFLAKE_SEED=3 make test',
  },
  // make test, scripts: the go test exec shim orders every go test inside; the reproduce line does it through GOFLAGS.
  {
    line: 'make test', framework: 'go', style: 'go-exec', seed: 3,
    reproduce: 'KUBEFLAKE_SEED=3 GOFLAGS=-shuffle=3 make test',
    run: ['make', 'test'],
  },
  {
    line: 'GOFLAGS=-mod=mod ./hack/test.sh -v', framework: 'go', style: 'go-exec', seed: 8, focus: ['TestA', 'TestB/sub'],
    reproduce: "GOFLAGS='-mod=mod -shuffle=8 -run=^(TestA|TestB)$' KUBEFLAKE_SEED=8 ./hack/test.sh -v",
  },
  {
    line: 'make test', framework: 'ginkgo', style: 'go-exec', seed: 6, focus: ['Widgets victim'],
    reproduce: 'KUBEFLAKE_SEED=6 make test',
  },
];

test('every argv shape: style, reproduce line, and the run command built from the same flags', () => {
  for (const shape of shapes) {
    const command = split(shape.line);
    assert.equal(commandStyle(shape.framework, command), shape.style, shape.line);
    const selection = { seed: shape.seed, tests: shape.focus?.map((name) => ({ name })) };
    assert.equal(reproduceCommand(shape.framework, command, selection), shape.reproduce, shape.line);
    const built = buildRunCommand(command, shape.framework, { ...selection, reports });
    if (shape.run) assert.deepEqual(built.argv, shape.run, shape.line);
    // The run command is the reproduce command plus report flags: nothing of the selection differs
    // (through the go test shim, the run's seed travels in its plan, the reproduce line's in GOFLAGS).
    const reproduced = buildRunCommand(command, shape.framework, selection);
    const expected = shape.style === 'go-exec' ? shape.line : shape.reproduce.replace(/ ?KUBEFLAKE_SEED=\d+/, '');
    assert.equal(shellJoin(reproduced.display), expected, shape.line);
    for (const word of reproduced.argv) {
      if (/(junit|json)-report|output-dir/.test(word)) continue; // the user's report flags give way to kubeflake's
      if (word === '-exec' || word === '/bin/wrap') continue; // the user's -exec runs inside kubeflake's shim
      assert.ok(built.argv.includes(word), `${shape.line}: ${word} missing from the run command`);
    }
    assert.equal(built.env.KUBEFLAKE_SEED, String(shape.seed));
  }
});

test('detectFramework reads what runs: the ginkgo CLI, go test with or without -ginkgo.* flags, else go through the shim (generic with a report glob)', () => {
  const cases: [string, Framework][] = [
    ['ginkgo -r', 'ginkgo'],
    ['ginkgo run -v ./pkg/...', 'ginkgo'],
    ['./bin/ginkgo -r', 'ginkgo'],
    ['bin/ginkgo-v2.34.0 -r', 'ginkgo'],
    ['tools/ginkgo2 run ./...', 'ginkgo'],
    ['./ginkgo-wrapper.sh', 'go'],
    ['go run github.com/onsi/ginkgo/v2/ginkgo@v2.34.0 -r', 'ginkgo'],
    ['go test ./... -ginkgo.v', 'ginkgo'],
    ['go test ./... --ginkgo.label-filter=x', 'ginkgo'],
    ['go test -count=1 ./pkg', 'go'],
    ['./controller.test -test.v', 'go'],
    ['go test ./pkg -args -ginkgo.v', 'go'],
    ['KUBECONFIG=/k USE_EXISTING_CLUSTER=true ginkgo -r', 'ginkgo'],
    ['env CGO_ENABLED=0 go test ./...', 'go'],
    ['GOFLAGS=-mod=mod go test ./... -ginkgo.v', 'ginkgo'],
    ['make test', 'go'],
    ['bash -c go test ./...', 'go'],
    ['./hack/test.sh', 'go'],
  ];
  for (const [line, framework] of cases) assert.equal(detectFramework(split(line)), framework, line);
  assert.equal(detectFramework(split('npm test'), { reportGlob: 'reports/*.xml' }), 'generic');
  assert.equal(detectFramework(split('go test ./...'), { reportGlob: 'reports/*.xml' }), 'go', 'a report glob does not change what go test is');
});

test('a forced framework that does not fit the command is an error naming the command', () => {
  assert.throws(() => buildRunCommand(split('ginkgo -r'), 'go', { seed: 1 }), /framework go needs .*ginkgo -r/);
  assert.equal(commandStyle('go', split('ginkgo -r')), 'env');
  assert.equal(commandStyle('ginkgo', split('make test')), 'go-exec', 'make test runs go test: the shim serves both');
  assert.equal(commandStyle('generic', split('go test ./...')), 'env');
});

test('report flags: the user\'s own report and output-dir flags are replaced, with a note', () => {
  const built = buildRunCommand(['ginkgo', '--seed=5', '--randomize-all', '--junit-report', 'mine.xml', '-json-report=mine.json', '--output-dir=out', './...'], 'ginkgo', { seed: 9, reports });
  assert.equal(built.argv.filter((word) => word.includes('seed')).join(' '), '--seed=9');
  assert.equal(built.argv.filter((word) => word === '--randomize-all').length, 1);
  assert.ok(!built.argv.includes('mine.xml') && !built.argv.includes('-json-report=mine.json') && !built.argv.includes('--output-dir=out'));
  assert.equal(built.argv.at(-1), './...');
  assert.match(built.notes.join('\n'), /replaced the command's --output-dir/);
  assert.deepEqual(built.reports, { kind: 'ginkgo-output-dir', dir: '/r/runs/003/ginkgo-out', junit: 'junit.xml', json: 'ginkgo.json' });
  assert.equal(buildRunCommand(split('go test ./...'), 'ginkgo', { seed: 1, reports }).reports.kind, 'go-exec');
  assert.equal(buildRunCommand(split('go test ./...'), 'go', { seed: 1, reports }).reports.kind, 'go-exec');
  assert.equal(buildRunCommand(split('./controller.test'), 'ginkgo', { seed: 1, reports }).reports.kind, 'package-files');
});

test('generic commands: untouched, the seed in KUBEFLAKE_SEED, reports by glob, no focus', () => {
  const built = buildRunCommand(split('make test'), 'generic', { seed: 77, reports: { ...reports, glob: 'out/*.xml' } });
  assert.deepEqual(built.argv, ['make', 'test']);
  assert.equal(built.env.KUBEFLAKE_SEED, '77');
  assert.deepEqual(built.reports, { kind: 'glob', pattern: 'out/*.xml' });
  assert.throws(() => buildRunCommand(split('make test'), 'generic', { seed: 1, tests: [{ name: 'a' }] }), /generic framework: it has no way to select tests, so probes are impossible/);
});

test('a compiled test binary writes no report, and says so', () => {
  const built = buildRunCommand(split('./controller.test -test.v'), 'go', { seed: 6, reports });
  assert.ok(built.argv.includes('-test.shuffle=6'), built.argv.join(' '));
  assert.equal(built.reports.kind, 'none');
  assert.match(built.notes.join('\n'), /writes no machine-readable report/);
});

test('ginkgo subcommands that do not run the suite are refused with what to use', () => {
  assert.throws(() => buildRunCommand(split('ginkgo watch ./...'), 'ginkgo', { seed: 1 }), /ginkgo watch` does not run the suite once/);
  assert.throws(() => reproduceCommand('ginkgo', split('ginkgo build ./...'), { seed: 1 }), /ginkgo build` does not run the suite once/);
});

test('env words: applied to the process, shown in the displayed command', () => {
  const built = buildRunCommand(split('KUBECONFIG=/k go test ./...'), 'go', { seed: 5, reports });
  assert.equal(built.argv[0], 'go');
  assert.equal(built.env.KUBECONFIG, '/k');
  assert.equal(built.display[0], 'KUBECONFIG=/k');
  const viaEnv = buildRunCommand(split('env CGO_ENABLED=0 ginkgo -r'), 'ginkgo', { seed: 5 });
  assert.equal(viaEnv.argv[0], 'ginkgo');
  assert.equal(viaEnv.env.CGO_ENABLED, '0');
});

test('removeFlags handles -x, --x, -x=v and -x v, and stops at the passthrough separator', () => {
  const rules = [{ names: ['seed'], value: true }, { names: ['randomize-all'], value: false }];
  assert.deepEqual(removeFlags(['-seed', '1', '--seed=2', '-randomize-all', '--randomize-all=false', './a', '--', 'b', '--seed=3'], rules).kept, ['./a', '--', 'b', '--seed=3']);
  assert.deepEqual(removeFlags(['test', '-seed', '1', 'x'], rules, 2), { kept: ['test', 'x'], removedBefore: 1 });
});

test('probe selections name tests by their reports\' names, never by splitting ids (a suite may contain " :: ")', () => {
  const tests = new Map([
    ['Odd :: Suite :: deletes iris2', { name: 'deletes iris2' }],
    ['Odd :: Suite :: creates iris2', { name: 'creates iris2' }],
  ]);
  const selection = selectionOf({ seed: 1700, tests: ['Odd :: Suite :: deletes iris2', 'Odd :: Suite :: creates iris2'] }, tests);
  assert.equal(
    reproduceCommand('ginkgo', ['ginkgo', '-r', './...'], selection),
    "ginkgo --randomize-all --seed=1700 '--focus=(^|\\s)deletes iris2$' '--focus=(^|\\s)creates iris2$' -r ./...",
  );
  assert.throws(() => selectionOf({ seed: 1, tests: ['nobody'] }, tests), /no report of this hunt contains/);
});

test('regex metacharacters in spec names are escaped the way Go regexp.QuoteMeta does', () => {
  assert.equal(escapeRegex('a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o'), 'a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o');
  assert.equal(escapeRegex('plain words - and_more'), 'plain words - and_more');
});

test('a Ginkgo focus pattern matches the full spec text after the suite description, and nothing longer or shorter', () => {
  const name = 'ModelCache [slow] when size is 1.5 (GiB) creates it';
  const re = new RegExp(ginkgoFocusPattern(name));
  assert.ok(re.test(`Controller Suite ${name}`));
  assert.ok(re.test(` ${name}`), 'empty suite description');
  assert.ok(!re.test(`Controller Suite ${name} again`), 'a longer spec text does not match');
  assert.ok(!re.test('Controller Suite XModelCache [slow] when size is 1.5 (GiB) creates it'), 'a spec whose text merely ends the same does not match');
  assert.ok(!re.test('Controller Suite ModelCache [slow] when size is 1x5 (GiB) creates it'), 'the dot is literal');
});

test('go test -run patterns select exactly the named tests, or subtests of them', () => {
  assert.equal(goRunPattern(['TestA', 'TestB']), '^(TestA|TestB)$');
  assert.equal(goRunPattern(['TestA/creates_iris2', 'TestA/deletes_it']), '^(TestA)$/^(creates_iris2|deletes_it)$');
  assert.equal(goRunPattern(['TestA/sub', 'TestB']), '^(TestA|TestB)$', 'mixed depths run whole top-level tests');
  assert.equal(goRunPattern(['TestA.v2']), '^(TestA\\.v2)$');
});

test('shell quoting leaves plain words alone and round-trips everything else through sh', () => {
  assert.equal(shellQuote('--seed=4'), '--seed=4');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote("it's (x)$"), `'it'\\''s (x)$'`);
  assert.equal(shellJoin(['go', 'test', '-run=^(A|B)$']), "go test '-run=^(A|B)$'");
});
