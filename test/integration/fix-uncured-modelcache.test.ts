// A fix that does not cure is not offered. In a scratch copy of examples/modelcache (the example
// stays as it is: its ground truth depends on it), the iris2 polluter also records the eviction
// in a ConfigMap it leaves behind, and the iris2 victim also asserts that no eviction is on
// record: after the polluter it fails for two reasons. The hunt confirms the polluter (the
// victim's first failure is the BeingDeleted refusal), the wait-after-delete patch is written
// and vetted, and the patched pair still fails (on the ConfigMap the patch does not touch), so
// the report keeps no patch and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { testBinaries } from '../support/cluster.ts';
import { projectRoot } from '../support/paths.ts';

const SUITE = 'ModelCache Controller Suite';
const polluter = `${SUITE} :: ModelCache lifecycle evicts the iris2 cache on delete`;
const victim = `${SUITE} :: ModelCache serving warms the iris2 cache for inference`;

/** Replaces `from` (which must be there once) in a file of the copy. */
async function edit(file: string, from: string, to: string): Promise<void> {
  const source = await readFile(file, 'utf8');
  assert.equal(source.split(from).length, 2, `${file} holds "${from}" once`);
  await writeFile(file, source.replace(from, to));
}

test('a polluter whose patch does not cure the pair (the victim also fails on a second object) is confirmed and gets no patch: the patched pair still failed', { timeout: 30 * 60_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'kubeflake-fix-uncured-'));
  const example = join(work, 'modelcache');
  const controller = join(example, 'internal', 'controller');
  try {
    await cp(join(projectRoot, 'examples', 'modelcache'), example, { recursive: true, filter: (source) => !/[\\/](bin|cover\.out)$/.test(source) });
    // Only the lifecycle and serving specs: the other planted findings would only cost probes here.
    for (const name of ['defaults_test.go', 'inventory_test.go', 'status_test.go', 'tenancy_test.go', 'validation_test.go']) await rm(join(controller, name));
    const lifecycle = join(controller, 'lifecycle_test.go');
    await edit(lifecycle, '\t"sigs.k8s.io/controller-runtime/pkg/client"\n', '\tcorev1 "k8s.io/api/core/v1"\n\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"\n\t"sigs.k8s.io/controller-runtime/pkg/client"\n');
    await edit(lifecycle, '\t\tmc := createReadyToEvict("iris2", "iris", 200)\n',
      '\t\tmc := createReadyToEvict("iris2", "iris", 200)\n\t\tExpect(k8sClient.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "iris2-eviction"}})).To(Succeed())\n');
    const serving = join(controller, 'serving_test.go');
    await edit(serving, '\t"sigs.k8s.io/controller-runtime/pkg/client"\n', '\tcorev1 "k8s.io/api/core/v1"\n\tapierrors "k8s.io/apimachinery/pkg/api/errors"\n\t"sigs.k8s.io/controller-runtime/pkg/client"\n');
    await edit(serving, '\t\tmc := namedCache("iris2", "iris", 2)\n\t\tcreateCache(mc)\n\t\twaitReady(mc)\n\t\tExpect(mc.Status.ReadyShards).To(Equal(int32(2)))\n',
      '\t\tmc := namedCache("iris2", "iris", 2)\n\t\tcreateCache(mc)\n\t\twaitReady(mc)\n\t\tExpect(mc.Status.ReadyShards).To(Equal(int32(2)))\n'
      + '\t\tExpect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: "default", Name: "iris2-eviction"}, &corev1.ConfigMap{}))).To(BeTrue(), "a fresh iris2 has no eviction on record")\n');
    const edited = { lifecycle: await readFile(lifecycle, 'utf8'), serving: await readFile(serving, 'utf8') };

    const settings = parseSettings({
      // The other polluters of those files are skipped: this pair is the one under test.
      command: ['go', 'test', './...', '-ginkgo.skip=mnist|whisper|bloom'],
      'working-directory': example,
      runs: '4',
      seed: '2026',
      results: join(work, 'results'),
      'remove-finalizers': true,
      'finalizer-grace': '5s',
      'max-probes': '12',
      'fix-probes': '6',
    }, { KUBEBUILDER_ASSETS: await testBinaries(), KUBECONFIG: '' });
    settings.testEnv = { ...settings.testEnv, MODELCACHE_FIXED: 'false' };
    const presenter = recordingPresenter();
    const report = await hunt(settings, presenter);
    const log = presenter.lines.filter((line) => /fix|probe/.test(line)).join('\n');

    const found = report.tests.find((t) => t.id === victim)!;
    assert.equal(found.verdict, 'order-dependent', log);
    assert.ok(found.failureKinds.includes('BeingDeleted'), found.failureKinds.join(', '));
    assert.deepEqual(found.polluters.filter((p) => p.confirmed).map((p) => p.test), [polluter], log);
    const fix = found.fix;
    assert.ok(fix, `no fix was tried:\n${log}`);
    assert.equal(fix.offered, false, 'a patch that does not cure is not offered');
    assert.equal(fix.patch, undefined);
    assert.equal(fix.patchFile, undefined);
    // The patch was written and ran: the patched pair failed, the victim on its second reason.
    assert.equal(fix.file, 'internal/controller/lifecycle_test.go');
    const patched = fix.runs?.filter((run) => run.patched) ?? [];
    assert.ok(patched.length > 0 && patched.every((run) => run.victim === 'failed'), JSON.stringify(fix.runs));
    assert.ok(fix.after && fix.after.failed > 0);
    assert.match(fix.noFix ?? '', new RegExp(`^the patched pair still failed \\(after the fix: ${fix.after.failed} of ${fix.after.runs} failed; before: ${fix.before?.failed} of ${fix.before?.runs}\\): the fix does not cure it$`));
    // The patched victim got past the create (the wait cured that) and failed on the eviction record.
    const patchedLog = await readFile(join(settings.resultsDir, 'fixes', '1', 'runs', patched[0]!.id, 'log.txt'), 'utf8');
    assert.match(patchedLog, /a fresh iris2 has no eviction on record/);
    assert.doesNotMatch(patchedLog, /object is being deleted/);
    assert.equal(existsSync(join(settings.resultsDir, 'fixes', '1.patch')), false, 'no patch file is kept');
    // The copy the hunt read is as it was.
    assert.equal(await readFile(lifecycle, 'utf8'), edited.lifecycle);
    assert.equal(await readFile(serving, 'utf8'), edited.serving);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
