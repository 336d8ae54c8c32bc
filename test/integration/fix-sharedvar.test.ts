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
import { executeRun } from '../../src/runner/execute.ts';
import { loadRun } from '../../src/ingest/run.ts';
import { goSourceTool } from '../../src/changed/gosource.ts';
import { defaultCacheDir } from '../../src/settings.ts';
import { sharedVariableEntry } from '../../src/fix/catalogue.ts';
import { proveSharedVariableFix } from '../../src/fix/sharedvar.ts';
import type { PairOutcome } from '../../src/fix/prove.ts';
import type { ProbePlan, Report } from '../../src/model.ts';

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

test('without the hunt\'s rate the proof measures the unpatched pair itself (2 of 2 fail), then the patched one (0 of 2), in a scratch copy', { timeout: 600_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'kubeflake-fix-sharedvar-prove-'));
  const suite = join(work, 'suite');
  await cp(join(fixtures, 'sharedvar'), suite, { recursive: true });
  const spec = join(suite, 'greeter_test.go');
  const original = await readFile(spec, 'utf8');
  // Seed 1 runs the shouting spec first under this focus.
  const plan: ProbePlan = { purpose: 'polluter', subject: victim, tests: [polluter, victim], seed: 1, expectedOrder: [polluter, victim], hypothesis: 'greeting was shouted' };
  const names = new Map([[polluter, 'Greeter shouting shouts the greeting'], [victim, 'Greeter whispering whispers the greeting']]);
  const cwds: string[] = [];
  try {
    const fix = await proveSharedVariableFix(
      { victim, polluter, polluterFile: spec, polluterLine: 22, victimFile: spec, victimLine: 28, entry: sharedVariableEntry, plan, confirmation: 2 },
      {
        tool: () => goSourceTool({ projectRoot, cacheDir: defaultCacheDir() }),
        root: suite,
        cwd: suite,
        fixDir: join(work, 'results', 'fixes', '1'),
        budget: { left: 6 },
        log: () => {},
        runPair: async ({ id, cwd, runDir }): Promise<PairOutcome> => {
          cwds.push(cwd);
          await executeRun({
            id, seed: plan.seed, probe: true, plan, command: ['go', 'test', './...'], framework: 'ginkgo', runDir, cwd, timeoutMs: 300_000, env: {},
            focus: plan.tests.map((t) => ({ name: names.get(t)!, suite: SUITE })),
          });
          const run = await loadRun(runDir);
          const status = (t: string) => run.cases.find((c) => c.id === t)?.status ?? 'missing';
          return { victim: status(victim), polluter: status(polluter) };
        },
      },
    );
    assert.equal(fix.offered, true, fix.noFix);
    assert.deepEqual(fix.before, { failed: 2, runs: 2, source: 'fix-runs' });
    assert.deepEqual(fix.after, { failed: 0, runs: 2 });
    assert.deepEqual(fix.runs?.map((r) => [r.id, r.patched, r.victim, r.polluter]), [
      ['before-1', false, 'failed', 'passed'], ['before-2', false, 'failed', 'passed'],
      ['after-1', true, 'passed', 'passed'], ['after-2', true, 'passed', 'passed'],
    ]);
    assert.deepEqual({ file: fix.file, lines: fix.lines, name: fix.sharedVariable?.name }, { file: 'greeter_test.go', lines: { start: 28, end: 28 }, name: 'greeting' });
    assert.ok(cwds.every((cwd) => !cwd.startsWith(suite)), cwds.join(', '));
    assert.equal(await readFile(spec, 'utf8'), original);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
