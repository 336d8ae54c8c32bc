import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbePlan } from '../../src/model.ts';
import {
  buildInvocation,
  commandStyle,
  escapeRegex,
  ginkgoFocusPattern,
  goRunPattern,
  reproduceCommand,
  shellJoin,
  shellQuote,
} from '../../src/analysis/focus.ts';

test('regex metacharacters in spec names are escaped the way Go regexp.QuoteMeta does', () => {
  assert.equal(escapeRegex('a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o'), 'a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o');
  assert.equal(escapeRegex('plain words - and_more'), 'plain words - and_more');
});

test('a Ginkgo focus pattern matches the full spec text after the suite description, and nothing longer or shorter', () => {
  const name = 'ModelCache [slow] when size is 1.5 (GiB) creates it';
  const re = new RegExp(ginkgoFocusPattern(name));
  // Ginkgo matches focus against "<suite description> <spec text>".
  assert.ok(re.test(`Controller Suite ${name}`));
  assert.ok(re.test(` ${name}`), 'empty suite description');
  assert.ok(!re.test(`Controller Suite ${name} again`), 'a longer spec text does not match');
  assert.ok(!re.test(`Controller Suite XModelCache [slow] when size is 1.5 (GiB) creates it`), 'a spec whose text merely ends the same does not match');
  assert.ok(!re.test(`Controller Suite ModelCache [slow] when size is 1x5 (GiB) creates it`), 'the dot is literal');
});

test('go test -run patterns select exactly the named tests, or subtests of them', () => {
  assert.equal(goRunPattern(['TestA', 'TestB']), '^(TestA|TestB)$');
  assert.equal(goRunPattern(['TestA/creates_iris2', 'TestA/deletes_it']), '^(TestA)$/^(creates_iris2|deletes_it)$');
  assert.equal(goRunPattern(['TestA/sub', 'TestB']), '^(TestA|TestB)$', 'mixed depths run whole top-level tests');
  assert.equal(goRunPattern(['TestA.v2']), '^(TestA\\.v2)$');
});

test('command styles are recognized from the command and framework', () => {
  assert.equal(commandStyle('ginkgo', ['ginkgo', '-r']), 'ginkgo-cli');
  assert.equal(commandStyle('ginkgo', ['/usr/local/bin/ginkgo', 'run', './...']), 'ginkgo-cli');
  assert.equal(commandStyle('ginkgo', ['go', 'run', 'github.com/onsi/ginkgo/v2/ginkgo@v2.22.0', './...']), 'ginkgo-cli');
  assert.equal(commandStyle('ginkgo', ['go', 'test', './...']), 'ginkgo-binary');
  assert.equal(commandStyle('ginkgo', ['KUBEBUILDER_ASSETS=/x', 'go', 'test', './...']), 'ginkgo-binary');
  assert.equal(commandStyle('ginkgo', ['./controller.test']), 'ginkgo-binary');
  assert.equal(commandStyle('go', ['go', 'test', './...']), 'go-test');
  assert.equal(commandStyle('go', ['./pkg.test', '-test.v']), 'go-binary');
  assert.equal(commandStyle('ginkgo', ['make', 'test']), 'env');
  assert.equal(commandStyle('generic', ['go', 'test', './...']), 'env');
});

test('ginkgo CLI: seed, randomize-all and one focus per test go before the packages; the user\'s seed and focus are replaced', () => {
  const inv = buildInvocation('ginkgo', ['ginkgo', 'run', '--seed', '7', '--focus=old', '-v', '--randomize-all', './...', '--', '-extra'], {
    seed: 42,
    tests: [{ name: 'A creates' }, { name: 'B (x)' }],
  });
  assert.deepEqual(inv.argv, ['ginkgo', 'run', '--randomize-all', '--seed=42', '--focus=(^|\\s)A creates$', '--focus=(^|\\s)B \\(x\\)$', '-v', './...', '--', '-extra']);
  assert.equal(inv.focused, true);
  assert.deepEqual(buildInvocation('ginkgo', ['ginkgo', '-r'], { seed: 1 }).argv, ['ginkgo', '--randomize-all', '--seed=1', '-r']);
});

test('go run of the ginkgo CLI gets the flags after the ginkgo package', () => {
  const inv = buildInvocation('ginkgo', ['go', 'run', 'github.com/onsi/ginkgo/v2/ginkgo', './...'], { seed: 3 });
  assert.deepEqual(inv.argv, ['go', 'run', 'github.com/onsi/ginkgo/v2/ginkgo', '--randomize-all', '--seed=3', './...']);
});

test('go test with Ginkgo: -ginkgo.* flags after the package list (go test passes unknown flags on only there)', () => {
  const inv = buildInvocation('ginkgo', ['KUBEBUILDER_ASSETS=/assets', 'go', 'test', '-count=1', './internal/...', '-ginkgo.seed=9', '-ginkgo.v'], {
    seed: 5,
    tests: [{ name: 'A' }],
  });
  assert.deepEqual(inv.argv, ['go', 'test', '-count=1', './internal/...', '-ginkgo.v', '-ginkgo.randomize-all', '-ginkgo.seed=5', '-ginkgo.focus=(^|\\s)A$']);
  assert.deepEqual(inv.env, { KUBEBUILDER_ASSETS: '/assets' });
});

test('plain go test: -shuffle and -run right after `test`; the user\'s -run and -shuffle are replaced', () => {
  const inv = buildInvocation('go', ['go', 'test', '-run', 'TestOld', '-shuffle=on', '-v', './pkg'], { seed: 11, tests: [{ name: 'TestA' }, { name: 'TestB' }] });
  assert.deepEqual(inv.argv, ['go', 'test', '-shuffle=11', '-run=^(TestA|TestB)$', '-v', './pkg']);
  const binary = buildInvocation('go', ['./pkg.test', '-test.v'], { seed: 2, tests: [{ name: 'TestA' }] });
  assert.deepEqual(binary.argv, ['./pkg.test', '-test.shuffle=2', '-test.run=^(TestA)$', '-test.v']);
});

test('generic commands get the seed in KUBEFLAKE_SEED and cannot focus', () => {
  const inv = buildInvocation('generic', ['make', 'test'], { seed: 8, tests: [{ name: 'A' }] });
  assert.deepEqual(inv, { argv: ['make', 'test'], env: { KUBEFLAKE_SEED: '8' }, style: 'env', focused: false });
});

test('shell quoting leaves plain words alone and round-trips everything else through sh', () => {
  assert.equal(shellQuote('--seed=4'), '--seed=4');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote("it's (x)$"), `'it'\\''s (x)$'`);
  assert.equal(shellJoin(['go', 'test', '-run=^(A|B)$']), "go test '-run=^(A|B)$'");
});

test('the reproduce command of a probe plan names the tests by their spec text, with the plan seed', () => {
  const plan: ProbePlan = {
    purpose: 'polluter',
    subject: 'Controller Suite :: ModelCache creates iris2',
    tests: ['Controller Suite :: ModelCache deletes iris2', 'Controller Suite :: ModelCache creates iris2'],
    seed: 1700,
    expectedOrder: ['Controller Suite :: ModelCache deletes iris2', 'Controller Suite :: ModelCache creates iris2'],
    hypothesis: 'x',
  };
  assert.equal(
    reproduceCommand('ginkgo', ['ginkgo', '-r', './...'], plan),
    "ginkgo --randomize-all --seed=1700 '--focus=(^|\\s)ModelCache deletes iris2$' '--focus=(^|\\s)ModelCache creates iris2$' -r ./...",
  );
  const names = new Map([['Controller Suite :: ModelCache deletes iris2', { name: 'renamed in the report' }]]);
  assert.match(reproduceCommand('ginkgo', ['ginkgo'], plan, names), /renamed in the report/);
  assert.equal(reproduceCommand('go', ['go', 'test', './...'], { seed: 3, tests: [{ name: 'TestA' }] }), "go test -shuffle=3 '-run=^(TestA)$' ./...");
  assert.equal(reproduceCommand('generic', ['FOO=a b', 'make', 'test'], { seed: 3 }), "FOO='a b' KUBEFLAKE_SEED=3 make test");
});
