// Infrastructure runs on a real Ginkgo suite run by `go test` through the shim
// (test/fixtures/runner/setupfail): a BeforeSuite that fails in one run of six makes that run an
// infrastructure run and the other five are judged; a Test_ function that fails before RunSpecs
// in every run means the suite never ran, and its own error (not its teardown line) says why.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { headline } from '../../src/report/findings.ts';
import { useCluster } from '../support/cluster.ts';
import { runnerFixture } from '../support/ginkgo.ts';

before(async () => {
  await runProcess(['go', 'test', '-count=1', '-run=^$', './setupfail'], { cwd: runnerFixture, capture: true, timeoutMs: 600_000 });
});

async function huntSetup(runs: number, env: Record<string, string>) {
  const cluster = await useCluster();
  const dir = mkdtempSync(join(tmpdir(), 'kf-infra-'));
  const settings = parseSettings({ command: ['go', 'test', '-count=1', './setupfail'], 'working-directory': runnerFixture, cluster: 'existing', kubeconfig: cluster.kubeconfigPath, envtest: 'off', results: join(dir, 'results'), runs: String(runs), seed: '3' }, {});
  settings.testEnv = { ...settings.testEnv, ...env };
  try {
    return await hunt(settings, recordingPresenter());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a BeforeSuite that fails in one run of six: that run is infrastructure, with its cause; the five others are judged and nothing is flaky', async () => {
  const counter = join(mkdtempSync(join(tmpdir(), 'kf-infra-counter-')), 'starts');
  const report = await huntSetup(6, { KUBEFLAKE_FIXTURE_COUNTER: counter });
  const infrastructure = report.runs.filter((run) => run.infrastructure);
  assert.deepEqual(infrastructure.map((run) => run.id), ['002']);
  assert.match(infrastructure[0]!.infrastructure!.cause, /^the suite setup failed \(\[BeforeSuite\] in Setup Suite\): .*unable to start control plane itself: failed to start the controlplane\. retried 5 times/);
  assert.equal(report.verdict, 'clean', JSON.stringify(report.tests.map((t) => [t.name, t.verdict, t.why])));
  assert.deepEqual(report.tests.filter((t) => !t.name.startsWith('[')).map((t) => [t.name, t.verdict, t.passed, t.failed]).sort(), [
    ['Setup reconciles a gadget', 'stable', 5, 0],
    ['Setup reconciles a gizmo', 'stable', 5, 0],
    ['Setup reconciles a widget', 'stable', 5, 0],
  ]);
  assert.equal(report.runs.filter((run) => run.probe).length, 0, 'no probe is spent on an infrastructure run');
});

test('a Test_ function that fails before any spec in every run: the suite never ran, its own first error says why, nothing is judged', async () => {
  const report = await huntSetup(3, { KUBEFLAKE_FIXTURE_SETUP: 'wrapper' });
  assert.equal(report.verdict, 'error');
  assert.equal(report.neverRan, 'the suite setup failed before any spec (Test_Setup in kubeflake.test/runner/setupfail): failed to create user: no API server authentication is configured yet');
  assert.equal(headline(report), `the suite never ran: ${report.neverRan}; nothing was judged`);
  assert.ok(!report.tests.some((t) => t.verdict === 'broken' || t.verdict === 'flaky'), JSON.stringify(report.tests));
  assert.equal(report.runs.filter((run) => run.infrastructure).length, 3);
  assert.equal(report.runs.filter((run) => run.probe).length, 0);
});
