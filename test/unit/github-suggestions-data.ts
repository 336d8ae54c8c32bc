// A Ginkgo spec file at a PR's head commit, the PR's diff of it (as the pull request files API gives
// it), and a proven wait-after-delete patch of it (as `git diff` in the scratch copy wrote it).

import type { FixReport, Report } from '../../src/model.ts';
import { testId } from '../../src/model.ts';
import { makeReport, SUITE } from './github-fixtures.ts';

export const SPEC_FILE = 'internal/controller/lifecycle_test.go';

/** The file at the head commit, lines 27..41. */
export const HEAD: Record<number, string> = {
  27: 'var _ = Describe("lifecycle", func() {',
  28: '\tctx := context.Background()',
  29: '',
  30: '\tIt("evicts the iris2 cache on delete", func() {',
  31: '\t\tmc := &cachev1alpha1.ModelCache{',
  32: '\t\t\tObjectMeta: metav1.ObjectMeta{Name: "iris2", Namespace: "default"},',
  33: '\t\t}',
  34: '\t\tExpect(k8sClient.Create(ctx, mc)).To(Succeed())',
  35: '\t\tEventually(cacheStatus(mc)).Should(HaveField("Phase", cachev1alpha1.PhaseReady))',
  36: '',
  37: '\t\tBy("deleting it")',
  38: '\t\tExpect(k8sClient.Delete(ctx, mc)).To(Succeed())',
  39: '\t\tEventually(cacheStatus(mc)).Should(HaveField("Phase", cachev1alpha1.PhaseDraining))',
  40: '\t})',
  41: '})',
};

const lines = (from: number, to: number, mark: string) => Array.from({ length: to - from + 1 }, (_, i) => mark + HEAD[from + i]).join('\n');

/** The PR adds the spec (head lines 30..40). */
export const PR_ADDS_SPEC = `@@ -27,4 +27,15 @@ import (\n${lines(27, 29, ' ')}\n${lines(30, 40, '+')}\n${lines(41, 41, ' ')}`;

/** The PR touches only the spec's first lines (head 30..33 in its diff, 38..39 not). */
export const PR_TOUCHES_TOP = `@@ -30,4 +30,4 @@ var _ = Describe("lifecycle", func() {\n-\tIt("evicts the cache on delete", func() {\n${lines(30, 30, '+')}\n${lines(31, 33, ' ')}`;

export const WAIT = [
  '\t\tEventually(func() bool {',
  '\t\t\treturn apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), mc))',
  '\t\t}).WithTimeout(60 * time.Second).Should(BeTrue())',
];

/** The proven patch: the wait goes after the last statement that uses the object (line 39). */
export const WAIT_PATCH = `diff --git a/${SPEC_FILE} b/${SPEC_FILE}
index 3b18e51..a1c2d3f 100644
--- a/${SPEC_FILE}
+++ b/${SPEC_FILE}
@@ -38,3 +38,6 @@ var _ = Describe("lifecycle", func() {
${lines(38, 39, ' ')}
${WAIT.map((l) => '+' + l).join('\n')}
${lines(40, 40, ' ')}
`;

/** The same patch with the apierrors import it needs, a hunk at the file's top (outside any PR diff here). */
export const WAIT_PATCH_WITH_IMPORT = `diff --git a/${SPEC_FILE} b/${SPEC_FILE}
index 3b18e51..a1c2d3f 100644
--- a/${SPEC_FILE}
+++ b/${SPEC_FILE}
@@ -5,3 +5,4 @@ import (
 \t. "github.com/onsi/gomega"
+\tapierrors "k8s.io/apimachinery/pkg/api/errors"
 \tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
 \t"sigs.k8s.io/controller-runtime/pkg/client"
@@ -38,3 +39,6 @@ var _ = Describe("lifecycle", func() {
${lines(38, 39, ' ')}
${WAIT.map((l) => '+' + l).join('\n')}
${lines(40, 40, ' ')}
`;

export const POLLUTER = 'lifecycle evicts the iris2 cache on delete';

export function offeredFix(patch = WAIT_PATCH): FixReport {
  return {
    kind: 'wait-after-delete', polluter: testId(SUITE, POLLUTER), object: { type: 'modelcaches', name: 'iris2' }, file: SPEC_FILE, lines: { start: 38, end: 38 },
    patch, patchFile: 'fixes/1.patch', before: { failed: 4, runs: 6, source: 'hunt' }, after: { failed: 0, runs: 10 }, offered: true,
  };
}

/** A PR run's report: `creates iris2` is order-dependent on the polluter, with `fix` (if any) attached. */
export function reportWithFix(fix: FixReport | undefined, victims = ['creates iris2']): Report {
  const report = makeReport([...victims.map((name) => ({ name, verdict: 'order-dependent' as const, polluter: POLLUTER })), { name: POLLUTER }]);
  for (const test of report.tests) if (fix && victims.includes(test.name)) test.fix = fix;
  return report;
}
