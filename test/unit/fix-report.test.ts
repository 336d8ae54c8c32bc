// A fix in the results directory and the Report: kept as fixes/<n>.json with its patch beside it,
// read back by HuntLog.load, attached to its victim by buildReport, checked by validateReport, and
// shown by the markdown and HTML reports as a sentence and a diff block (or the reason for none).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { buildReport } from '../../src/build-report.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { validateReport } from '../../src/report/validate.ts';
import { offeredPatches } from '../../src/fix/kept.ts';
import type { FixReport } from '../../src/model.ts';
import { SUITE, id, simulate } from './analysis-sim.ts';

const P = id('lifecycle evicts the iris2 cache on delete');
const V = id('serving warms the iris2 cache for inference');
const PATCH = `diff --git a/internal/controller/lifecycle_test.go b/internal/controller/lifecycle_test.go
--- a/internal/controller/lifecycle_test.go
+++ b/internal/controller/lifecycle_test.go
@@ -38,3 +38,6 @@
 		Expect(k8sClient.Delete(ctx, mc)).To(Succeed())
 		Eventually(cacheStatus(mc)).Should(HaveField("Phase", cachev1alpha1.PhaseDraining))
+		Eventually(func() bool {
+			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), mc))
+		}).WithTimeout(60 * time.Second).Should(BeTrue())
 	})
`;
const offered: FixReport = {
  kind: 'wait-after-delete', polluter: P, object: { type: 'modelcaches', name: 'iris2' }, file: 'internal/controller/lifecycle_test.go', lines: { start: 38, end: 38 },
  patch: PATCH, before: { failed: 4, runs: 6, source: 'hunt' }, after: { failed: 0, runs: 10 }, runs: [{ id: 'after-1', patched: true, victim: 'passed', polluter: 'passed' }], offered: true,
};

test('fixes are kept in the results directory, read back, attached to their victim and rendered with a diff block', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-fix-report-'));
  try {
    const log = await HuntLog.start(dir, { command: ['go', 'test', './...'], framework: 'ginkgo', cluster: 'local', cwd: dir, baseSeed: 1, runs: 1, options: {}, startedAt: 0, ignore: [], watch: true });
    const kept = await log.addFix(V, offered);
    assert.equal(kept.patchFile, 'fixes/1.patch');
    await log.addFix(id('status reports ready'), { kind: 'wait-after-delete', polluter: P, object: { type: 'modelcaches', name: 'bloom' }, offered: false, noFix: 'the patched pair still failed (after the fix: 1 of 1 failed; before: 2 of 2): the fix does not cure it' });
    assert.equal(await readFile(join(dir, 'fixes', '1.patch'), 'utf8'), PATCH);

    const loaded = await HuntLog.load(dir);
    assert.deepEqual(loaded.fixes.map((f) => [f.victim, f.fix.offered]), [[V, true], [id('status reports ready'), false]]);
    assert.deepEqual((await offeredPatches(dir)).map((p) => [p.victim, p.patch]), [[V, PATCH]]);

    const run = simulate([P, V, id('status reports ready')], () => undefined, { id: '000', seed: 1 });
    const report = buildReport({ ...loaded, runs: [{ run, leaks: [], leftover: [], observed: true, timeline: [] }] });
    const victim = report.tests.find((t) => t.id === V);
    assert.deepEqual(victim?.fix, kept);
    assert.equal(validateReport(JSON.parse(JSON.stringify(report))).ok, true);

    // Renderers show a fix where the test is shown: a finding's card. Here the victim is made one.
    const shown = { ...report, verdict: 'findings' as const, tests: report.tests.map((t) => (t.id === V ? { ...t, verdict: 'order-dependent' as const, failed: 1 } : t.id === id('status reports ready') ? { ...t, verdict: 'order-dependent' as const, failed: 1 } : t)) };
    const md = renderMarkdown(shown);
    assert.match(md, /- \*\*Patch:\*\* a proven patch at internal\/controller\/lifecycle(_|&#95;)test\.go:38: after the fix 0 of 10 failed after .*lifecycle evicts the iris2 cache on delete.*; before: 4 of 6/);
    assert.ok(md.includes('```diff\n' + PATCH.trimEnd()), 'the diff block holds the patch');
    assert.match(md, /- \*\*Patch:\*\* no patch: the patched pair still failed/);
    const html = renderHtml(shown);
    assert.match(html, /<dt>Patch<\/dt><dd>a proven patch at internal\/controller\/lifecycle_test\.go:38/);
    assert.ok(html.includes('<pre class="diff">diff --git a/internal/controller/lifecycle_test.go'), 'the HTML shows the diff');
    assert.ok(html.includes('IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), mc))'));
    const terminal = renderTerminal(shown, { width: 160 });
    assert.match(terminal, /patch {2}a proven patch at internal\/controller\/lifecycle_test\.go:38: after the fix 0 of 10 failed/);
    assert.ok(terminal.includes('+            return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), mc))'), 'the terminal shows the added lines');
    assert.ok(!terminal.includes('+++ b/internal'), 'without the diff headers');
    assert.match(terminal, /patch {2}no patch: the patched pair still failed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a report.json whose fix is malformed is refused before rendering', () => {
  const report = { schema: 'kubeflake/report@1', command: '', framework: 'ginkgo', cluster: 'local', runs: [], leaks: [], verdict: 'clean', cleanup: { dryRun: false, deleted: [], finalizersRemoved: [], left: [] },
    tests: [{ id: V, name: 'v', suite: SUITE, file: '', line: 0, verdict: 'stable', passed: 1, failed: 0, failureKinds: [], polluters: [], cleaners: [], stateSetters: [], reproduce: '', fix: { kind: 'wait-after-delete', polluter: P, offered: 'yes' } }] };
  const checked = validateReport(report);
  assert.equal(checked.ok, false);
});
