// The catalogue's wait-after-delete entry on real-shaped Go packages, table-driven: the package
// before, the Delete's line, and the file after (exactly, as gofmt prints it) or why no patch.
// Go's own parser and printer do the work (tools/gosource, built with this machine's Go, cached).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goSourceTool } from '../../src/changed/gosource.ts';
import { defaultCacheDir, findProjectRoot } from '../../src/settings.ts';
import { patchSource, readDeletes } from '../../src/fix/source.ts';
import { catalogueEntryFor } from '../../src/fix/catalogue.ts';

const tool = () => goSourceTool({ projectRoot: findProjectRoot(), cacheDir: defaultCacheDir() });

/** A kubebuilder scaffold: the suite declares timeout and interval; the spec file imports neither apierrors nor client. */
const SCAFFOLD_SUITE = `package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	timeout  = time.Second * 10
	interval = time.Millisecond * 250
)

var (
	ctx       context.Context
	k8sClient client.Client
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}
`;

const SCAFFOLD_SPEC = `package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var _ = Describe("Memcached controller", func() {
	It("removes the config map", func() {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "memcached-config", Namespace: "default"}}
		Expect(k8sClient.Create(ctx, cm)).To(Succeed())

		By("deleting it")
		Expect(k8sClient.Delete(ctx, cm)).To(Succeed())
	})
})
`;

/** Named imports, a spec context, timeout and interval declared in the Describe, the object read after its Delete. */
const NAMED_IMPORTS = `package widgets_test

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crclient "sigs.k8s.io/controller-runtime/pkg/client"

	widgetsv1 "example.com/widgets/api/v1"
)

var cl crclient.Client

var _ = ginkgo.Describe("Widget", func() {
	const (
		timeout  = 5e9
		interval = 1e8
	)
	ginkgo.It("recycles a widget", func(ctx context.Context) {
		var w widgetsv1.Widget
		w.Name = "gear"
		gomega.Expect(cl.Create(ctx, &w)).To(gomega.Succeed())
		err := cl.Delete(ctx, &w)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(w.Name).To(gomega.Equal("gear"))
	})
	ginkgo.It("deletes a literal", func(ctx context.Context) {
		gomega.Expect(cl.Delete(ctx, &widgetsv1.Widget{ObjectMeta: metav1.ObjectMeta{Name: "bolt"}})).To(gomega.Succeed())
	})
	ginkgo.It("deletes and waits", func(ctx context.Context) {
		w := &widgetsv1.Widget{ObjectMeta: metav1.ObjectMeta{Name: "nut"}}
		gomega.Expect(cl.Delete(ctx, w)).To(gomega.Succeed())
		gomega.Eventually(func() bool { return k8serrors.IsNotFound(cl.Get(ctx, crclient.ObjectKeyFromObject(w), w)) }).Should(gomega.BeTrue())
	})
})
`;

/** A helper in a file of its own: no gomega, apierrors or time import, no timeout variable anywhere. */
const HELPER = `package e2e

import "sigs.k8s.io/controller-runtime/pkg/client"

var k8sClient client.Client

func removeTenant(t client.Object) {
	_ = k8sClient.Delete(ctx, t)
}
`;

interface Case {
  name: string;
  files: Record<string, string>;
  file: string;
  line: number;
  bound?: number;
  after?: string;
  refused?: RegExp;
}

const cases: Case[] = [
  {
    name: 'scaffold: the suite\'s timeout and interval, apierrors and client imported in their group',
    files: { 'suite_test.go': SCAFFOLD_SUITE, 'memcached_test.go': SCAFFOLD_SPEC },
    file: 'memcached_test.go',
    line: 16,
    after: SCAFFOLD_SPEC.replace(
      '\tcorev1 "k8s.io/api/core/v1"\n',
      '\tcorev1 "k8s.io/api/core/v1"\n\tapierrors "k8s.io/apimachinery/pkg/api/errors"\n',
    ).replace(
      '\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"\n',
      '\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"\n\t"sigs.k8s.io/controller-runtime/pkg/client"\n',
    ).replace(
      '\t\tExpect(k8sClient.Delete(ctx, cm)).To(Succeed())\n',
      '\t\tExpect(k8sClient.Delete(ctx, cm)).To(Succeed())\n' +
        '\t\tEventually(func() bool {\n' +
        '\t\t\treturn apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(cm), cm))\n' +
        '\t\t}, timeout, interval).Should(BeTrue())\n',
    ),
  },
  {
    name: 'named imports: their names, the spec\'s ctx, the Describe\'s constants, the wait after the last use of the object',
    files: { 'widget_test.go': NAMED_IMPORTS },
    file: 'widget_test.go',
    line: 26,
    after: NAMED_IMPORTS.replace(
      '\t\tgomega.Expect(w.Name).To(gomega.Equal("gear"))\n',
      '\t\tgomega.Expect(w.Name).To(gomega.Equal("gear"))\n' +
        '\t\tgomega.Eventually(func() bool {\n' +
        '\t\t\treturn k8serrors.IsNotFound(cl.Get(ctx, crclient.ObjectKeyFromObject(&w), &w))\n' +
        '\t\t}, timeout, interval).Should(gomega.BeTrue())\n',
    ),
  },
  {
    name: 'no timeout variable: the wait is bounded by the catalogue\'s seconds, gomega, apierrors and time imported into a block with the file\'s one import',
    files: { 'helpers_test.go': HELPER },
    file: 'helpers_test.go',
    line: 8,
    bound: 60,
    after: `package e2e

import (
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"time"
)

var k8sClient client.Client

func removeTenant(t client.Object) {
	_ = k8sClient.Delete(ctx, t)
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(t), t))
	}).WithTimeout(60 * time.Second).Should(BeTrue())
}
`,
  },
  {
    name: 'an object deleted as a literal cannot be waited for: no patch, with the reason',
    files: { 'widget_test.go': NAMED_IMPORTS },
    file: 'widget_test.go',
    line: 31,
    refused: /cannot be named again to wait for it: bind it to a variable first/,
  },
  {
    name: 'a Delete already followed by a wait for NotFound is no line to fix',
    files: { 'widget_test.go': NAMED_IMPORTS },
    file: 'widget_test.go',
    line: 35,
    refused: /already waits for NotFound/,
  },
  {
    name: 'a line without a Delete is refused',
    files: { 'widget_test.go': NAMED_IMPORTS },
    file: 'widget_test.go',
    line: 24,
    refused: /no Delete call on line 24/,
  },
];

async function writePackage(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-fix-catalogue-'));
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

test('the catalogue cures BeingDeleted and AlreadyExists with wait-after-delete, and has no entry for other classes', () => {
  assert.equal(catalogueEntryFor(['BeingDeleted'])?.kind, 'wait-after-delete');
  assert.equal(catalogueEntryFor(['EventuallyTimeout', 'AlreadyExists'])?.kind, 'wait-after-delete');
  assert.equal(catalogueEntryFor(['Conflict', 'NotFound']), undefined);
});

for (const c of cases) {
  test(`wait-after-delete: ${c.name}`, async () => {
    const dir = await writePackage(c.files);
    try {
      const patched = await patchSource(await tool(), 'wait-after-delete', join(dir, c.file), c.line, c.bound);
      if (c.after !== undefined) {
        assert.ok(patched.patched, patched.patched ? '' : patched.reason);
        assert.equal(patched.source, c.after);
      } else {
        assert.equal(patched.patched, false);
        assert.match(patched.patched ? '' : patched.reason, c.refused!);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('deletes: each Delete with its client, context, object, the names defining it, and whether a wait follows', async () => {
  const dir = await writePackage({ 'widget_test.go': NAMED_IMPORTS });
  try {
    const deletes = await readDeletes(await tool(), [dir]);
    const brief = deletes.map((d) => ({ line: d.line, client: d.client, ctx: d.ctx, object: d.object, names: d.names, fixable: d.objectFixable, waited: d.waited, waitAfter: d.waitAfter, timeout: d.timeout, interval: d.interval }));
    assert.deepEqual(brief, [
      { line: 26, client: 'cl', ctx: 'ctx', object: '&w', names: ['gear'], fixable: true, waited: false, waitAfter: 28, timeout: 'timeout', interval: 'interval' },
      { line: 31, client: 'cl', ctx: 'ctx', object: '&widgetsv1.Widget{ObjectMeta: metav1.ObjectMeta{Name: "bolt"}}', names: ['bolt'], fixable: false, waited: false, waitAfter: 31, timeout: 'timeout', interval: 'interval' },
      { line: 35, client: 'cl', ctx: 'ctx', object: 'w', names: ['nut'], fixable: true, waited: true, waitAfter: 36, timeout: 'timeout', interval: 'interval' },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
