// Pollution that is not in the cluster, hunted end to end on a real Ginkgo v2 suite
// (test/fixtures/sharedvar, no envtest, no cluster): the shouting spec's BeforeEach reassigns a
// variable of the enclosing Describe and the whispering spec reads it later. `kubeflake run`
// confirms the polluter, names the variable with both lines (report.json, the hint of every
// report), and offers a patch proven in a scratch copy (patched pair 0 of N, unpatched k of M);
// `kubeflake fix --apply` puts it in the tree, after which no order fails the victim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { fixtures, projectRoot } from '../support/paths.ts';
import type { Report } from '../../src/model.ts';

const SUITE = 'Greeter Suite';
const polluter = `${SUITE} :: Greeter shouting shouts the greeting`;
const victim = `${SUITE} :: Greeter whispering whispers the greeting`;

const cli = (args: string[], cwd: string) =>
  runProcess([process.execPath, join(projectRoot, 'src', 'cli.ts'), ...args], { cwd, capture: true, timeoutMs: 600_000 });

test('a Describe variable the polluter reassigns: named with both lines, and a verified patch offered and applied', { timeout: 900_000 }, async () => {
  // A copy: the fixture is never written, and the copy is not a git repository (the proof copies it again).
  const work = await mkdtemp(join(tmpdir(), 'kubeflake-fix-sharedvar-'));
  const suite = join(work, 'suite');
  const results = join(work, 'results');
  await cp(join(fixtures, 'sharedvar'), suite, { recursive: true });
  const spec = join(suite, 'greeter_test.go');
  const original = await readFile(spec, 'utf8');
  try {
    const hunt = await cli(['run', '--runs', '6', '--seed', '11', '--results', results, '--', 'go', 'test', './...'], suite);
    assert.equal(hunt.exitCode, 1, `${hunt.stdout}\n${hunt.stderr}`);
    const report = JSON.parse(await readFile(join(results, 'report.json'), 'utf8')) as Report;
    const found = report.tests.find((t) => t.id === victim);
    assert.equal(found?.verdict, 'order-dependent', hunt.stderr);
    assert.deepEqual(found.polluters.filter((p) => p.confirmed).map((p) => [p.test, p.via]), [[polluter, []]]);
    assert.equal(report.leaks.length, 0, 'nothing links the pair in a cluster');

    const fix = found.fix;
    assert.equal(fix?.kind, 'reset-shared-variable');
    assert.deepEqual(fix.sharedVariable, {
      name: 'greeting', scope: 'container',
      declared: { file: 'greeter_test.go', line: 15 },
      assigned: { file: 'greeter_test.go', line: 19, what: 'the BeforeEach of "shouting"' },
      read: { file: 'greeter_test.go', line: 29, what: 'its It' },
    });
    assert.equal(fix.offered, true, fix.noFix);
    assert.equal(fix.after?.failed, 0);
    assert.ok((fix.after?.runs ?? 0) > 0);
    assert.ok((fix.before?.failed ?? 0) > 0, JSON.stringify(fix.before));
    assert.match(fix.patch ?? '', /^\+\t\tBeforeEach\(func\(\) \{\n\+\t\t\tgreeting = "hello"\n\+\t\t\}\)$/m);
    assert.match(found.hint ?? '', /assigns greeting at greeter_test\.go:19 \(the BeforeEach of "shouting"\); this spec reads it at greeter_test\.go:29 \(its It\) before setting it: set greeting \(a variable of an enclosing container, greeter_test\.go:15\) in this spec's own BeforeEach/);
    assert.match(hunt.stdout + hunt.stderr, /fix: a proven patch for .*whispers the greeting in fixes\/1\.patch/);
    // The report rebuilt from the results directory alone says the same.
    const md = await cli(['report', results, '--format', 'md'], work);
    assert.match(md.stdout, /assigns greeting .*greeter(_|&#95;|\\_)test\.go:19.*reads it at greeter(_|&#95;|\\_)test\.go:29/);
    assert.equal(await readFile(spec, 'utf8'), original, 'the hunt never writes the user\'s tree');

    const applied = await cli(['fix', results, '--apply', '--repo', suite], suite);
    assert.equal(applied.exitCode, 0, applied.stderr);
    // Every failing run's order, rerun on the patched tree: the victim passes in each.
    const failingSeeds = report.runs.filter((run) => !run.probe && run.failed.includes(victim)).map((run) => run.seed);
    assert.ok(failingSeeds.length > 0);
    for (const seed of failingSeeds) {
      const rerun = await runProcess(['go', 'test', './...', '-ginkgo.randomize-all', `-ginkgo.seed=${seed}`], { cwd: suite, capture: true, timeoutMs: 300_000 });
      assert.equal(rerun.exitCode, 0, `seed ${seed}: ${rerun.stdout}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
