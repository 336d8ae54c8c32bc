// The acceptance of the whole tool: the demo on the example operator, checked against the
// suite's ground truth. The planted suite must have every role named; the fixed one must be clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demo, ensureGinkgo } from '../../examples/harness/demo.ts';
import { defaultCacheDir, splitCommand } from '../../src/settings.ts';
import { runProcess } from '../../src/exec.ts';
import { projectRoot } from '../support/paths.ts';
import { startPrivateCluster } from '../support/cluster.ts';

test('demo --mode envtest --runs 6 (plain go test ./...; the suite starts its own control plane every run): every planted role is named as the ground truth says, leaks and links seen inside envtest', { timeout: 40 * 60_000 }, async () => {
  let output = '';
  const results = mkdtempSync(join(tmpdir(), 'kubeflake-demo-envtest-'));
  const { report, check } = await demo({ runs: '6', results, fixed: false, mode: 'envtest', verbose: false, seed: '2026', write: (text) => (output += text) });
  assert.ok(check.ok, `ground truth mismatches:\n${check.lines.filter((line) => line.startsWith('MISMATCH')).join('\n')}\n\n${output.slice(-4000)}`);
  assert.equal(report.command, 'go test ./...', 'run as its repository runs it');
  assert.equal(report.framework, 'ginkgo', 'the Ginkgo suite was recognised through go test');
  assert.deepEqual(report.controlPlanes?.map((plane) => [plane.package, plane.mode]), [['./internal/controller', 'envtest']]);
  const victim = report.tests.find((test) => test.name === 'ModelCache serving warms the iris2 cache for inference')!;
  const link = victim.polluters.flatMap((polluter) => polluter.via).map((index) => report.leaks[index]);
  assert.ok(link.some((leak) => leak?.kind === 'ModelCache' && leak.name === 'iris2'), JSON.stringify(link));
  assert.ok(!report.leaks.some((leak) => leak.kind === 'CustomResourceDefinition'), 'envtest installs the CRD: no leak');
});

test('demo --mode envtest --fixed --runs 5: clean, nothing leaked inside envtest', { timeout: 40 * 60_000 }, async () => {
  let output = '';
  const results = mkdtempSync(join(tmpdir(), 'kubeflake-demo-envtest-fixed-'));
  const { report, check } = await demo({ runs: '5', results, fixed: true, mode: 'envtest', verbose: false, write: (text) => (output += text) });
  assert.equal(report.verdict, 'clean', output.slice(-4000));
  assert.equal(report.leaks.length, 0, JSON.stringify(report.leaks.slice(0, 3)));
  assert.ok(check.ok, check.lines.filter((line) => line.startsWith('MISMATCH')).join('\n'));
});

test('demo --mode cluster --runs 6: every planted role is named as the ground truth says, and the victim\'s reproduce command fails it', { timeout: 40 * 60_000 }, async () => {
  let output = '';
  const results = mkdtempSync(join(tmpdir(), 'kubeflake-demo-'));
  const { report, check } = await demo({ runs: '6', results, fixed: false, mode: 'cluster', verbose: false, seed: '2026', write: (text) => (output += text) });
  assert.ok(check.ok, `ground truth mismatches:\n${check.lines.filter((line) => line.startsWith('MISMATCH')).join('\n')}\n\n${output.slice(-4000)}`);
  assert.equal(report.verdict, 'findings');

  // The iris2 victim fails every time after its polluter (the whisper and mnist races only sometimes).
  const victim = report.tests.find((test) => test.name === 'ModelCache serving warms the iris2 cache for inference')!;
  assert.equal(victim.verdict, 'order-dependent');
  assert.ok(victim.reproduce.startsWith('ginkgo --randomize-all --seed='), victim.reproduce);
  // Reproduce on a cluster of its own: the reproduction leaves iris2 stuck, as the suite does.
  const cluster = await startPrivateCluster();
  try {
    const ginkgoDir = (await ensureGinkgo(join(projectRoot, 'examples', 'modelcache'), defaultCacheDir(), () => {})).dir;
    const env = { ...process.env, PATH: `${ginkgoDir}:${process.env.PATH}`, USE_EXISTING_CLUSTER: 'true', KUBECONFIG: cluster.kubeconfigPath };
    const reproduced = await runProcess(splitCommand(victim.reproduce), { cwd: join(projectRoot, 'examples', 'modelcache'), env, capture: true });
    assert.notEqual(reproduced.exitCode, 0, `the reproduce command passed: ${victim.reproduce}`);
    assert.match(reproduced.stdout, /object is being deleted/);
  } finally {
    await cluster.stop({ remove: true });
  }
});

test('demo --mode cluster --fixed --runs 20: verdict clean, zero findings, nothing left in the cluster', { timeout: 40 * 60_000 }, async () => {
  let output = '';
  const results = mkdtempSync(join(tmpdir(), 'kubeflake-demo-fixed-'));
  const { report, check } = await demo({ runs: '20', results, fixed: true, mode: 'cluster', verbose: false, write: (text) => (output += text) });
  assert.equal(report.verdict, 'clean', output.slice(-4000));
  assert.deepEqual(report.tests.filter((test) => test.verdict !== 'stable' && test.verdict !== 'skipped').map((test) => test.name), []);
  assert.equal(report.leaks.length, 0);
  assert.ok(check.ok, check.lines.filter((line) => line.startsWith('MISMATCH')).join('\n'));
  assert.equal(new Set(report.runs.map((run) => run.seed)).size, 20, '20 different seeds');
});
