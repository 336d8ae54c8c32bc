// A scaffold-shaped suite (envtest.Environment{} with UseExistingCluster unset) that calls
// envtest's AddUser, run by plain `go test ./...` under `kubeflake run` with no flag: kubeflake
// leaves the suite to start its own envtest (where AddUser works), makes no cluster beside it,
// and still sees inside the suite's control plane.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/model.ts';
import { runProcess } from '../../src/exec.ts';
import { fixtures, projectRoot } from '../support/paths.ts';

const suite = join(fixtures, 'gosrc', 'adduser');

/** A user's shell with no cluster in it: nothing tells the suite where a control plane is. */
function shellWithoutCluster(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(KUBECONFIG|USE_EXISTING_CLUSTER|KUBEBUILDER_ASSETS)$/.test(key)) env[key] = value;
  return env;
}

test('kubeflake run -- go test ./... on a suite calling envtest.AddUser: its own envtest, AddUser works, the specs pass, no cluster started', { timeout: 20 * 60_000 }, async () => {
  const results = mkdtempSync(join(tmpdir(), 'kf-adduser-'));
  try {
    const run = await runProcess(
      [process.execPath, join(projectRoot, 'src', 'cli.ts'), 'run', '--runs', '2', '--max-probes', '0', '--seed', '11', '--results', results, '--', 'go', 'test', './...'],
      { cwd: suite, env: shellWithoutCluster(), capture: true },
    );
    const output = run.stdout + run.stderr;
    assert.equal(run.exitCode, 0, output);
    const report = JSON.parse(readFileSync(join(results, 'report.json'), 'utf8')) as Report;

    assert.equal(report.cluster, 'none', 'no cluster was made: the report says so');
    assert.deepEqual(report.controlPlanes?.map((plane) => [plane.package, plane.mode, plane.instances]), [['./controller', 'envtest', 2]], 'one envtest a run, started by the suite');
    assert.match(output, /cluster: auto without the existing-cluster mode: no cluster/);
    assert.doesNotMatch(output, /baseline:|local control plane at/, 'no baseline of a cluster nobody uses');
    assert.doesNotMatch(output, /failed to create user|no API server authentication is configured/);

    assert.equal(report.verdict, 'clean', JSON.stringify(report.tests.map((t) => [t.name, t.verdict])));
    assert.equal(report.runs.length, 2);
    for (const runReport of report.runs) assert.equal(runReport.exitCode, 0);
    // BeforeSuite is where AddUser runs: it passed in both runs.
    assert.deepEqual(report.tests.map((t) => [t.name, t.passed, t.failed]).sort(), [
      ['[AfterSuite]', 2, 0],
      ['[BeforeSuite]', 2, 0],
      ['a user added with AddUser is allowed what the admin grants it', 2, 0],
      ['a user added with AddUser is refused what RBAC does not grant it', 2, 0],
    ]);
    assert.deepEqual(report.leaks, [], 'what the spec created in its envtest it deleted');
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

test('kubeflake run --cluster local on the same suite: the first run shows no test uses the cluster, which is stopped, said once, and named in the report', { timeout: 20 * 60_000 }, async () => {
  const results = mkdtempSync(join(tmpdir(), 'kf-adduser-local-'));
  try {
    const run = await runProcess(
      [process.execPath, join(projectRoot, 'src', 'cli.ts'), 'run', '--cluster', 'local', '--runs', '2', '--max-probes', '0', '--seed', '11', '--results', results, '--', 'go', 'test', './...'],
      { cwd: suite, env: shellWithoutCluster(), capture: true },
    );
    const output = run.stdout + run.stderr;
    assert.equal(run.exitCode, 0, output);
    const report = JSON.parse(readFileSync(join(results, 'report.json'), 'utf8')) as Report;
    assert.equal(report.cluster, 'local');
    assert.equal(report.clusterReleasedAfter, '000');
    assert.equal(output.match(/every package started its own envtest/g)?.length, 1, output);
    assert.match(output, /000: every package started its own envtest \(\.\/controller\): no test uses the local cluster, so kubeflake stops it now/);
    assert.equal(report.verdict, 'clean', JSON.stringify(report.tests.map((t) => [t.name, t.verdict])));
    assert.deepEqual(report.runs.flatMap((r) => (r.notices ?? []).filter((notice) => notice.kind === 'empty-timeline')), [], 'no run says its (absent) cluster timeline stayed empty');
    assert.ok(existsSync(join(results, 'runs', '000', 'after.json')), 'the first run was snapshotted on the cluster');
    assert.ok(!existsSync(join(results, 'runs', '001', 'after.json')), 'the second had no cluster to snapshot');
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});
