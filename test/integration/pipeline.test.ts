// The whole hunt on a real (shared) control plane, with the runner's small order-dependent
// Ginkgo suite: what the pipeline writes, what the report says, and that nothing is lost when
// a run hangs or the cluster goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/model.ts';
import { hunt, rebuildReport } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings, splitCommand } from '../../src/settings.ts';
import { runProcess } from '../../src/exec.ts';
import { useCluster, startPrivateCluster } from '../support/cluster.ts';
import { ginkgoCli, runnerFixture } from '../support/ginkgo.ts';

const suite = join(runnerFixture, 'ginkgo', 'ordersuite');

async function settingsFor(overrides: Record<string, string>, kubeconfig: string) {
  const ginkgo = await ginkgoCli();
  const settings = parseSettings({
    command: ['ginkgo', './...'],
    'working-directory': suite,
    cluster: 'existing',
    kubeconfig,
    results: mkdtempSync(join(tmpdir(), 'kubeflake-pipeline-')),
    ...overrides,
  }, {});
  settings.testEnv = { PATH: ginkgo.env.PATH! };
  return settings;
}

test('a hunt names the order-dependent victim, confirms its polluter by probe, and its reproduce command fails the victim', async () => {
  const cluster = await useCluster();
  // Seed 7 gives five runs with the polluter before the victim and one without.
  const settings = await settingsFor({ runs: '6', seed: '7' }, cluster.kubeconfigPath);
  const presenter = recordingPresenter();
  const report = await hunt(settings, presenter);

  assert.equal(report.verdict, 'findings');
  const victim = report.tests.find((t) => t.name === 'Shared state victim')!;
  assert.equal(victim.verdict, 'order-dependent');
  assert.deepEqual(victim.polluters.map((p) => [p.test, p.confirmed]), [['Order Suite :: Shared state polluter', true]]);
  for (const other of report.tests.filter((t) => t !== victim)) assert.equal(other.verdict, 'stable', other.name);
  assert.ok(report.runs.some((run) => run.probe && run.purpose === 'polluter' && run.failed.includes(victim.id)), 'a polluter probe failed the victim');
  assert.equal(report.runs.filter((run) => !run.probe).length, 6);
  assert.equal(presenter.lines.filter((line) => /^run \d\/6 seed \d+ - \d+ failed - /.test(line)).length, 6, 'one progress line per run');

  // Everything is on disk, and the report rebuilds from the directory alone.
  for (const file of ['hunt.json', 'baseline.json', 'report.json', 'report.md', 'report.html', 'runs/000/meta.json', 'runs/000/ginkgo.json', 'runs/000/log.txt', 'runs/000/after.json', 'runs/000/cleanup.json', 'runs/000/timeline.jsonl']) {
    assert.ok(existsSync(join(settings.resultsDir, file)), `${file} is kept`);
  }
  const rebuilt = await rebuildReport([settings.resultsDir]);
  assert.deepEqual(strip(rebuilt), strip(JSON.parse(readFileSync(join(settings.resultsDir, 'report.json'), 'utf8'))));

  // The reproduce line really reproduces.
  const reproduced = await runProcess(['bash', '-c', victim.reproduce], { cwd: suite, env: { ...process.env, ...settings.testEnv }, capture: true });
  assert.notEqual(reproduced.exitCode, 0, `reproduce passed: ${victim.reproduce}`);
  assert.match(reproduced.stdout, /polluter ran earlier and left state behind/);
  assert.deepEqual(splitCommand(victim.reproduce).slice(0, 2), ['ginkgo', '--randomize-all']);
});

test('a hung test command is killed at the run timeout and the report still says what happened', async () => {
  const cluster = await useCluster();
  const settings = await settingsFor({ runs: '1', 'run-timeout': '3s', 'max-probes': '0' }, cluster.kubeconfigPath);
  settings.command = ['bash', '-c', 'sleep 60'];
  settings.framework = 'generic';
  const report = await hunt(settings, recordingPresenter());
  assert.equal(report.runs[0]?.timedOut, true);
  assert.ok(report.runs[0]?.warnings?.some((w) => /timed out|killed/i.test(w)), JSON.stringify(report.runs[0]?.warnings));
  assert.equal(report.verdict, 'error', 'no tests ran, so the hunt cannot call the suite clean');
  assert.ok(existsSync(join(settings.resultsDir, 'runs', '000', 'log.txt')));
});

test('when the API server goes away mid-hunt, the runs so far stay on disk and the report names the failure', async () => {
  const cluster = await startPrivateCluster();
  const settings = await settingsFor({ runs: '3', seed: '7', 'max-probes': '0' }, cluster.kubeconfigPath);
  // The cluster goes away as the first run ends, before kubeflake looks at what it left.
  const presenter = recordingPresenter();
  const group = presenter.group;
  presenter.group = async (title, work) => {
    const result = await group(title, work);
    if (title.startsWith('run 1/3')) await cluster.stop();
    return result;
  };
  let report: Report | undefined;
  try {
    report = await hunt(settings, presenter);
  } finally {
    await cluster.stop({ remove: true });
  }
  assert.notEqual(report.verdict, 'clean');
  assert.ok((report.errors ?? []).some((error) => /cluster stopped answering after 000/.test(error)), JSON.stringify(report.errors));
  assert.ok(existsSync(join(settings.resultsDir, 'runs', '000', 'ginkgo.json')), 'the first run\'s raw report is kept');
  assert.ok(existsSync(join(settings.resultsDir, 'report.json')));
  assert.ok(report.runs.length >= 1);
});

function strip(report: Report) {
  const { generatedAt: _, ...rest } = report;
  return rest;
}

test('on the local control plane it provisions, every run keeps its slice of the API server\'s record, and the report says the packages had it', async () => {
  const settings = await settingsFor({ runs: '2', seed: '7', cluster: 'local', 'max-probes': '0' }, '');
  const report = await hunt(settings, recordingPresenter());
  assert.equal(report.cluster, 'local');
  for (const id of ['000', '001']) {
    const events = readFileSync(join(settings.resultsDir, 'runs', id, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { kind: string; stage: string; user: { username: string } });
    assert.ok(events.every((event) => event.kind === 'Event' && event.stage === 'ResponseComplete'), id);
    assert.deepEqual(events.filter((event) => event.user.username === 'kubeflake'), [], `${id}: kubeflake's own snapshots, watch and cleanup are not in the record`);
  }
  assert.equal((JSON.parse(readFileSync(join(settings.resultsDir, 'hunt.json'), 'utf8')) as { auditRecord?: boolean }).auditRecord, true);
  assert.ok((report.controlPlanes ?? []).length > 0, JSON.stringify(report.controlPlanes));
  for (const plane of report.controlPlanes ?? []) assert.deepEqual(plane.evidence, ['record', 'watch'], plane.package);
  assert.deepEqual((await rebuildReport([settings.resultsDir])).controlPlanes, report.controlPlanes, 'a rebuilt report says the same');
});
