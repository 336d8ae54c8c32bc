// Build once, run many, on the example operator (a real Ginkgo suite starting its own envtest,
// run by plain `go test ./...`, in a copy of examples/modelcache so editing it is safe): a hunt
// with reuse on gives the report the go command gives, field by field; a probe on a kept binary
// gives the run the go command's probe gives; a changed source file between runs rebuilds.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun, type RunSpec } from '../../src/runner/execute.ts';
import { loadRun } from '../../src/ingest/run.ts';
import { runProcess } from '../../src/exec.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import type { Report, RunMeta, RunResult } from '../../src/model.ts';
import { testBinaries } from '../support/cluster.ts';
import { projectRoot } from '../support/paths.ts';

const work = mkdtempSync(join(tmpdir(), 'kf-go-exec-reuse-'));
const example = join(work, 'modelcache');
after(() => rmSync(work, { recursive: true, force: true }));

let assets: string;
before(async () => {
  cpSync(join(projectRoot, 'examples', 'modelcache'), example, { recursive: true, filter: (source) => !/\/(bin|cover\.out)$/.test(source) });
  assets = await testBinaries();
  // Compile the copy's packages once (dependencies come from the build cache), outside any timed part.
  await runProcess(['go', 'test', '-count=1', '-run=^$', './...'], { cwd: example, capture: true, timeoutMs: 1_200_000 });
});

/** What the suite needs to start its own envtest, and the fixed variant: every spec passes in every order, so outcomes compare exactly. */
const suiteEnv = () => ({ KUBEBUILDER_ASSETS: assets, USE_EXISTING_CLUSTER: 'false', KUBECONFIG: '', MODELCACHE_FIXED: 'true' });

/** Times differ from run to run; everything else must not. Keys ending in At or Ms, and durations, are dropped. */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (/(At|Ms)$|^(duration|time|timestamp|generatedAt)$/i.test(key)) continue;
    out[key] = withoutTimes(inner);
  }
  return out;
}

/**
 * A report without what depends on how fast kubeflake observed each envtest instance (a loaded
 * machine delays its baseline past the shim's bound, and an object the suite made first then
 * counts as a leak): that differs between two hunts through the go command too. Everything the
 * runs themselves decide stays: orders, outcomes, verdicts, reproduce lines, control planes.
 */
function withoutObservation(report: Report): unknown {
  const observed = withoutTimes({ ...report, leaks: undefined, attribution: undefined, cleanup: undefined }) as { runs: Record<string, unknown>[] };
  for (const run of observed.runs) {
    delete run.attribution;
    if (Array.isArray(run.warnings)) run.warnings = run.warnings.filter((warning) => !/envtest .*(baseline|bound)/.test(String(warning)));
  }
  return observed;
}

let runs = 0;
async function run(extra: Partial<RunSpec>): Promise<{ meta: RunMeta; result: RunResult }> {
  const id = String(runs++).padStart(3, '0');
  const runDir = join(work, 'runs', id);
  const meta = await executeRun({ id, seed: 5, command: ['go', 'test', './...'], framework: 'ginkgo', runDir, cwd: example, timeoutMs: 900_000, env: suiteEnv(), ...extra });
  return { meta, result: await loadRun(runDir) };
}

/** A run's outcome without what is its own: the id, the folder, the times. */
const outcomeOf = (result: RunResult) => withoutTimes({ ...result, id: undefined, dir: undefined });

test('a probe on the kept binary: the same run as the go command\'s probe, field by field, without the go command', { timeout: 1_800_000 }, async () => {
  const kept = mkdtempSync(join(work, 'kept-'));
  const first = await run({ keptBinaries: kept, seed: 5 });
  assert.deepEqual(first.meta.binaryReuse, { reused: false, why: 'no run went through go test yet' });
  assert.ok(first.result.cases.length >= 10, `the suite ran: ${first.result.cases.length} specs`);
  const [victim, other] = first.result.cases.map((c) => c.name).filter((name) => /iris2|status|annotations/.test(name));
  assert.ok(victim && other, 'two specs to focus on');
  const focus = first.result.cases.filter((c) => c.name === victim || c.name === other).map((c) => ({ name: c.name, suite: c.suite }));

  const reused = await run({ keptBinaries: kept, seed: 9, focus, probe: true });
  const viaGo = await run({ seed: 9, focus, probe: true });
  assert.deepEqual(reused.meta.binaryReuse, { reused: true });
  assert.equal(viaGo.meta.binaryReuse, undefined, 'reuse off: the go command, as before');
  const ran = reused.result.cases.filter((c) => c.status !== 'skipped' && c.node !== 'suite-setup').map((c) => c.name);
  assert.deepEqual(ran.sort(), [victim, other].sort(), 'only the focused specs ran (beside the suite nodes)');
  assert.deepEqual(outcomeOf(reused.result), outcomeOf(viaGo.result));
  assert.deepEqual(withoutTimes({ ...reused.meta, id: 0, binaryReuse: 0 }), withoutTimes({ ...viaGo.meta, id: 0, binaryReuse: 0 }));
  // The kept binary ran with the go command's own words, in the package folder.
  const record = JSON.parse(readFileSync(join(work, 'runs', String(runs - 2).padStart(3, '0'), 'go-exec', 'github.com_kubeflake_kubeflake_examples_modelcache_internal_controller.exec.json'), 'utf8')) as { argv: string[]; dir: string; reused?: boolean };
  assert.equal(record.reused, true);
  assert.equal(record.dir, join(example, 'internal', 'controller'));
  for (const word of ['-test.paniconexit0', '-test.timeout=10m0s', '-ginkgo.seed=9']) assert.ok(record.argv.includes(word), `${word} in ${record.argv.join(' ')}`);
});

test('a changed source file between runs: the next run builds again (and runs the new spec), the one after reuses the new binary', { timeout: 1_800_000 }, async () => {
  const kept = mkdtempSync(join(work, 'kept-'));
  const first = await run({ keptBinaries: kept });
  const second = await run({ keptBinaries: kept });
  assert.deepEqual(second.meta.binaryReuse, { reused: true });
  assert.deepEqual(outcomeOf(second.result), outcomeOf(first.result), 'same seed, same run');

  writeFileSync(join(example, 'internal', 'controller', 'rebuild_test.go'), 'package controller\n\nimport . "github.com/onsi/ginkgo/v2"\n\nvar _ = Describe("Rebuild check", func() {\n\tIt("runs only in a binary built after this file was added", func() {})\n})\n');
  try {
    const third = await run({ keptBinaries: kept });
    assert.equal(third.meta.binaryReuse?.reused, false);
    assert.match(third.meta.binaryReuse?.why ?? '', /source of github.com\/kubeflake\/kubeflake\/examples\/modelcache\/internal\/controller changed/);
    assert.ok(third.result.cases.some((c) => c.name.includes('runs only in a binary built after this file was added')), 'the new spec ran');
    const fourth = await run({ keptBinaries: kept });
    assert.deepEqual(fourth.meta.binaryReuse, { reused: true });
    assert.deepEqual(outcomeOf(fourth.result), outcomeOf(third.result));
  } finally {
    rmSync(join(example, 'internal', 'controller', 'rebuild_test.go'), { force: true });
  }
});

test('a hunt with reuse on, and side by side, gives the report the go command gives one run at a time, field by field (envtest observation timing aside)', { timeout: 2_400_000 }, async () => {
  const huntWith = async (reuse: boolean, parallel: number): Promise<{ report: Report; results: string; lines: string[] }> => {
    const results = join(work, `hunt-${reuse ? 'reuse' : 'go'}-${parallel}`);
    const settings = parseSettings({ command: ['go', 'test', './...'], 'working-directory': example, runs: '3', cluster: 'local', results, seed: '2026', 'reuse-binaries': String(reuse), parallel: String(parallel), 'max-probes': '4' }, { ...process.env, KUBECONFIG: '' });
    settings.testEnv = { USE_EXISTING_CLUSTER: 'false', MODELCACHE_FIXED: 'true' };
    delete settings.kubebuilderAssets;
    const presenter = recordingPresenter();
    return { report: await hunt(settings, presenter), results, lines: presenter.lines };
  };
  const viaGo = await huntWith(false, 1);
  const reused = await huntWith(true, 1);
  assert.equal(reused.report.runs.length, 3);
  assert.deepEqual(reused.report.errors, undefined);
  assert.deepEqual(withoutObservation(reused.report), withoutObservation(viaGo.report));
  const reuseOf = (results: string, id: string) => (JSON.parse(readFileSync(join(results, 'runs', id, 'meta.json'), 'utf8')) as RunMeta).binaryReuse;
  assert.deepEqual(['000', '001', '002'].map((id) => reuseOf(reused.results, id)?.reused), [false, true, true]);
  assert.deepEqual(['000', '001', '002'].map((id) => reuseOf(viaGo.results, id)), [undefined, undefined, undefined]);

  // Side by side: the suite starts its own envtest, so runs 2 and 3 run at once; the report is the serial one.
  const sideBySide = await huntWith(true, 2);
  assert.ok(sideBySide.lines.some((line) => /parallel: 2 runs side by side/.test(line)), sideBySide.lines.filter((line) => /parallel/.test(line)).join('\n'));
  assert.deepEqual(withoutObservation(sideBySide.report), withoutObservation(viaGo.report));
  const times = ['001', '002'].map((id) => JSON.parse(readFileSync(join(sideBySide.results, 'runs', id, 'meta.json'), 'utf8')) as RunMeta);
  assert.ok(times[1]!.startedAt < times[0]!.endedAt, 'the two runs overlapped');
});

test('probe-time: a hunt stops probing at its time budget with what it knows, and says so once in the report', { timeout: 1_800_000 }, async () => {
  const results = join(work, 'hunt-probe-time');
  const settings = parseSettings({ command: ['go', 'test', './...'], 'working-directory': example, runs: '2', cluster: 'local', results, seed: '2026', 'probe-time': '1s', 'max-probes': '10' }, { ...process.env, KUBECONFIG: '' });
  // The planted suite: its victims fail, so there is something to probe.
  settings.testEnv = { USE_EXISTING_CLUSTER: 'false', MODELCACHE_FIXED: 'false' };
  delete settings.kubebuilderAssets;
  const presenter = recordingPresenter();
  const report = await hunt(settings, presenter);
  assert.ok(report.tests.some((t) => t.failed > 0), 'a planted spec failed in the runs');
  // The budget is checked before each batch of probes: the first starts at once, none after it (a probe takes longer than 1 s).
  assert.equal(report.runs.filter((run) => run.probe).length, 1);
  assert.equal(report.notes?.length, 1);
  assert.match(report.notes![0]!, /probing stopped at the probe-time budget \(1\.0s\) after 1 probe\(s\)/);
  assert.equal(presenter.lines.filter((line) => line.includes('probe-time budget')).length, 1, 'said once in the log');
  assert.deepEqual(report.errors, undefined, 'a budget is no error');
});
