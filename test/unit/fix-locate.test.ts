// Locating the polluter's line: on the example operator's own source (the iris2 polluter), on a
// package whose Delete hides in an AfterEach or a helper, and the refusals of locateDelete.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goSourceTool, readGoSource } from '../../src/changed/gosource.ts';
import { defaultCacheDir, findProjectRoot } from '../../src/settings.ts';
import { readDeletes } from '../../src/fix/source.ts';
import { locateDelete, polluterCode, type DeleteCall, type PolluterCode } from '../../src/fix/locate.ts';

const root = findProjectRoot();
const tool = () => goSourceTool({ projectRoot: root, cacheDir: defaultCacheDir() });

async function locate(dir: string, file: string, line: number, name: string) {
  const t = await tool();
  const code = polluterCode(await readGoSource(t, [dir]), { file: join(dir, file), line });
  assert.ok(code, `no spec at ${file}:${line}`);
  return { code, located: locateDelete(code, await readDeletes(t, [dir]), { name }) };
}

test('the example\'s iris2 polluter: the Delete in its own It, the one naming iris2', async () => {
  const dir = join(root, 'examples', 'modelcache', 'internal', 'controller');
  const { located } = await locate(dir, 'lifecycle_test.go', 34, 'iris2');
  assert.ok(located.found, located.found ? '' : located.reason);
  assert.equal(located.call.file, join(dir, 'lifecycle_test.go'));
  assert.equal(located.call.line, 38);
  assert.equal(located.call.client, 'k8sClient');
  assert.equal(located.call.object, 'mc');
  assert.equal(located.where.what, 'its It');
});

test('the example\'s t5 spec waits (expectGone) after its Delete: no line to fix', async () => {
  const dir = join(root, 'examples', 'modelcache', 'internal', 'controller');
  const { located } = await locate(dir, 'lifecycle_test.go', 61, 't5-');
  assert.equal(located.found, false);
  assert.match(located.found ? '' : located.reason, /already waits for the object to be gone/);
});

const AROUND = `package tenancy

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var k8sClient client.Client

func dropQuota(q *corev1.ResourceQuota) {
	Expect(k8sClient.Delete(ctx, q)).To(Succeed())
}

func resetQuota(q *corev1.ResourceQuota) {
	dropQuota(q)
}

var _ = Describe("Tenants", func() {
	var ns *corev1.Namespace
	BeforeEach(func() {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a"}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	})
	AfterEach(func() {
		Expect(k8sClient.Delete(ctx, ns)).To(Succeed())
	})
	It("admits a tenant", func() {
		q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "gold", Namespace: "tenant-a"}}
		Expect(k8sClient.Create(ctx, q)).To(Succeed())
		resetQuota(q)
	})
})

var _ = Describe("Other", func() {
	AfterEach(func() {
		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a"}})).To(Succeed())
	})
	It("runs elsewhere", func() {})
})
`;

test('a Delete in the container\'s AfterEach and one in a helper the spec calls through another are the spec\'s own, another Describe\'s AfterEach is not; a BeforeEach\'s assignment names the object', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-fix-locate-'));
  try {
    await writeFile(join(dir, 'tenancy_test.go'), AROUND);
    const { code, located } = await locate(dir, 'tenancy_test.go', 30, 'tenant-a');
    assert.deepEqual(code.map((part) => [part.what, part.start, part.end]), [
      ['its It', 30, 34],
      ['the BeforeEach of "Tenants"', 23, 26],
      ['the AfterEach of "Tenants"', 27, 29],
      ['the helper resetQuota', 17, 19],
      ['the helper dropQuota', 13, 15],
    ]);
    assert.ok(located.found, located.found ? '' : located.reason);
    assert.equal(located.call.line, 28);
    assert.equal(located.where.what, 'the AfterEach of "Tenants"');

    // The helper deletes its parameter: no literal names "gold" there, and the spec has two unwaited Deletes.
    const quota = await locate(dir, 'tenancy_test.go', 30, 'gold');
    assert.equal(quota.located.found, false);
    assert.match(quota.located.found ? '' : quota.located.reason, /in 2 places \(lines 14, 28\) and none names "gold"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function call(line: number, names: string[], waited = false): DeleteCall {
  return { file: '/r/x_test.go', line, end: line, stmt: { start: line, end: line }, waitAfter: line, client: 'c', ctx: 'ctx', object: 'o', objectFixable: true, names, types: [], waited, func: '', timeout: '', interval: '' };
}
const code: PolluterCode[] = [{ file: '/r/x_test.go', start: 10, end: 30, what: 'its It' }];

test('locateDelete: the only unwaited Delete when none names the object; refuses two unnamed ones, and code with no Delete', () => {
  const single = locateDelete(code, [call(12, []), call(40, ['a'])], { name: 'a' });
  assert.ok(single.found);
  assert.equal(single.call.line, 12);
  const two = locateDelete(code, [call(12, []), call(14, [])], { name: 'a' });
  assert.equal(two.found, false);
  assert.match(two.found ? '' : two.reason, /deletes without waiting in 2 places \(lines 12, 14\) and none names "a"/);
  const none = locateDelete(code, [call(40, ['a'])], { name: 'a' });
  assert.equal(none.found, false);
  assert.match(none.found ? '' : none.reason, /holds no Delete call/);
  const named = locateDelete(code, [call(12, ['b']), call(14, ['a'])], { name: 'a' });
  assert.ok(named.found);
  assert.equal(named.call.line, 14);
});
