import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailureKind, LeakReport } from '../../src/model.ts';
import { classifyFailure, clusterFailures, extractObjectRefs, failureSignature, hintFor } from '../../src/analysis/taxonomy.ts';
import { leaksByCreator, linkFailureToLeaks } from '../../src/analysis/leaks.ts';

// Messages as client-go, the API server, Gomega, Ginkgo and the go tool print them.
const GOMEGA_STATUS_ERROR = `Unexpected error:
    <*errors.StatusError | 0xc000a1c8c0>: 
    object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists
    {
        ErrStatus: {
            TypeMeta: {Kind: "", APIVersion: ""},
            ListMeta: {SelfLink: "", ResourceVersion: "", Continue: "", RemainingItemCount: nil},
            Status: "Failure",
            Message: "object is being deleted: modelcaches.cache.kubeflake.dev \\"iris2\\" already exists",
            Reason: "AlreadyExists",
            Details: {Name: "iris2", Group: "cache.kubeflake.dev", Kind: "modelcaches", UID: "", Causes: nil, RetryAfterSeconds: 0},
            Code: 409,
        },
    }
occurred`;

const CASES: [FailureKind, string][] = [
  ['BeingDeleted', 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists'],
  ['BeingDeleted', GOMEGA_STATUS_ERROR],
  ['AlreadyExists', 'configmaps "app-config" already exists'],
  ['Conflict', 'Operation cannot be fulfilled on modelcaches.cache.kubeflake.dev "iris2": the object has been modified; please apply your changes to the latest version and try again'],
  ['NotFound', 'configmaps "settings" not found'],
  ['NotFound', 'namespaces "team-a" not found'],
  ['NotFound', 'the server could not find the requested resource (get modelcaches.cache.kubeflake.dev iris2)'],
  ['Forbidden', 'configmaps is forbidden: User "system:serviceaccount:default:reader" cannot list resource "configmaps" in API group "" in the namespace "default"'],
  ['Unauthorized', 'Unauthorized'],
  ['Invalid', 'ModelCache.cache.kubeflake.dev "iris2" is invalid: spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0'],
  ['WebhookDenied', 'admission webhook "vmodelcache.kb.io" denied the request: spec.size must be positive'],
  ['NamespaceTerminating', 'configmaps "x" is forbidden: unable to create new content in namespace test-ns-x7k2p because it is being terminated'],
  ['EventuallyTimeout', 'Timed out after 10.001s.\nExpected\n    <bool>: false\nto be true'],
  ['ConsistentlyFailed', 'Failed after 2.000s.\nExpected\n    <int>: 3\nto equal\n    <int>: 2'],
  ['ContextDeadline', 'Get "https://127.0.0.1:39271/api/v1/namespaces/default/pods": context deadline exceeded'],
  ['Panic', 'Test Panicked\nruntime error: invalid memory address or nil pointer dereference'],
  ['Timeout', 'panic: test timed out after 10m0s'],
  ['Timeout', 'A spec timeout occurred'],
  ['ConnectionRefused', 'dial tcp 127.0.0.1:6443: connect: connection refused'],
  ['BuildFailure', '# github.com/example/operator/internal/controller\ninternal/controller/modelcache_controller.go:42:9: undefined: foo'],
  ['BuildFailure', 'FAIL\tgithub.com/example/operator/internal/controller [build failed]'],
  ['AssertionFailed', 'Expected\n    <string>: "a"\nto equal\n    <string>: "b"'],
  ['AssertionFailed', '    modelcache_test.go:31: got 2 replicas, want 3'],
  ['Unknown', 'something odd happened'],
];

test('real Kubernetes, Gomega, Ginkgo and go messages are classified by kind', () => {
  for (const [kind, message] of CASES) assert.equal(classifyFailure(message), kind, message);
});

test('an Eventually that gave up on an API error is classified by the API error, which says what to fix', () => {
  const message = 'Timed out after 5.000s.\nThe function passed to Eventually returned the following error:\n    <*errors.StatusError | 0xc0004e2000>: \n    object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists';
  assert.equal(classifyFailure(message), 'BeingDeleted');
});

test('the failure type and the longer text are used when the message says too little', () => {
  assert.equal(classifyFailure({ message: 'boom', type: 'panicked' }), 'Panic');
  assert.equal(classifyFailure({ message: 'boom', type: 'timedout' }), 'Timeout');
  assert.equal(classifyFailure({ message: '[FAILED] in [It]', text: 'configmaps "settings" not found' }), 'NotFound');
  assert.equal(classifyFailure({ message: 'configmaps "settings" not found', text: 'panic: runtime error' }), 'NotFound', 'the message wins when it has a kind');
});

test('every kind has a one-line hint, and the being-deleted one says to wait for NotFound or use generateName', () => {
  for (const [kind] of CASES) {
    const hint = hintFor(kind);
    assert.ok(hint.length > 20 && !hint.includes('\n'), kind);
  }
  assert.match(hintFor('BeingDeleted'), /Eventually Get -> NotFound.*generateName/);
  assert.match(hintFor('AlreadyExists'), /generateName/);
  assert.match(hintFor('Conflict'), /RetryOnConflict/);
});

test('signatures keep the resource and the reason and drop names, UIDs, durations, addresses, pointers and numbers', () => {
  assert.equal(
    failureSignature('object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists'),
    failureSignature('object is being deleted: modelcaches.cache.kubeflake.dev "iris3" already exists'),
  );
  assert.notEqual(
    failureSignature('modelcaches.cache.kubeflake.dev "iris2" already exists'),
    failureSignature('configmaps "iris2" already exists'),
    'the resource is part of the failure mode',
  );
  assert.equal(failureSignature('Timed out after 10.001s.'), failureSignature('Timed out after 3.5s.'));
  assert.equal(
    failureSignature('uid 0b1c9d4e-1111-4222-8333-944455556666 at 2026-11-25T17:01:53Z from 10.0.0.12:6443 ptr 0xc000a1c8c0'),
    'uid UID at TIME from IP ptr HEX',
  );
  assert.equal(failureSignature('pod cache-x7k2p is not ready'), failureSignature('pod cache-9qz4m is not ready'));
  assert.equal(failureSignature('modelcache_controller.go:42: expected 3 got 2'), 'FILE:LINE: expected N got N');
  assert.ok(failureSignature('x '.repeat(500)).length <= 240);
});

test('failures cluster across tests by kind and signature, biggest cluster first', () => {
  const f = (run: string, kind: FailureKind, message: string) => ({ run, kind, message, signature: failureSignature(message) });
  const clusters = clusterFailures([
    { id: 'b', failures: [f('000', 'BeingDeleted', 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists'), f('002', 'BeingDeleted', 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists')] },
    { id: 'c', failures: [f('001', 'BeingDeleted', 'object is being deleted: modelcaches.cache.kubeflake.dev "iris3" already exists')] },
    { id: 'd', failures: [f('001', 'EventuallyTimeout', 'Timed out after 10.001s.')] },
    { id: 'e', failures: [] },
  ]);
  assert.deepEqual(
    clusters.map((c) => [c.kind, c.tests, c.count]),
    [
      ['BeingDeleted', ['b', 'c'], 3],
      ['EventuallyTimeout', ['d'], 1],
    ],
  );
  assert.equal(clusters[0]?.example, 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists');
});

test('object references are extracted from the forms client-go and Gomega print', () => {
  assert.deepEqual(extractObjectRefs('object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists'), [
    { type: 'modelcaches', group: 'cache.kubeflake.dev', name: 'iris2' },
  ]);
  assert.deepEqual(extractObjectRefs('configmaps "x" not found'), [{ type: 'configmaps', group: '', name: 'x' }]);
  assert.deepEqual(extractObjectRefs('namespaces "ns" not found'), [{ type: 'namespaces', group: '', name: 'ns' }]);
  assert.deepEqual(extractObjectRefs('Operation cannot be fulfilled on deployments.apps "web": the object has been modified'), [
    { type: 'deployments', group: 'apps', name: 'web' },
  ]);
  assert.deepEqual(extractObjectRefs('ModelCache.cache.kubeflake.dev "iris2" is invalid: spec.size: Invalid value: -1'), [
    { type: 'ModelCache', group: 'cache.kubeflake.dev', name: 'iris2' },
  ]);
  assert.deepEqual(extractObjectRefs('configmaps "x" is forbidden: unable to create new content in namespace ns-1 because it is being terminated'), [
    { type: 'configmaps', group: '', name: 'x' },
    { type: 'namespaces', group: '', name: 'ns-1' },
  ]);
  assert.deepEqual(extractObjectRefs('Details: &StatusDetails{Name:iris2,Group:cache.kubeflake.dev,Kind:modelcaches,UID:,Causes:[]StatusCause{},}'), [
    { type: 'modelcaches', group: 'cache.kubeflake.dev', name: 'iris2' },
  ]);
  assert.deepEqual(extractObjectRefs('pods "web-0" is forbidden: error looking up service account default/web: serviceaccount "web" not found in the namespace "team"'), [
    { type: 'pods', group: '', name: 'web-0', namespace: 'team' },
    { type: 'serviceaccount', group: '', name: 'web', namespace: 'team' },
  ]);
  assert.deepEqual(extractObjectRefs('Expected\n    <string>: "a"\nto equal\n    <string>: "b"'), []);
  assert.deepEqual(extractObjectRefs('admission webhook "vmodelcache.kb.io" denied the request'), []);
});

const leak = (kind: string, apiVersion: string, name: string, createdBy: string | null, extra: Partial<LeakReport> = {}): LeakReport => ({
  apiVersion,
  kind,
  namespace: 'default',
  name,
  uid: `uid-${name}`,
  terminating: false,
  finalizers: [],
  createdBy,
  runs: ['000'],
  ...extra,
});

test('a failure links to the leaks it names: same name, matching kind or resource, same group', () => {
  const leaks = [
    leak('ModelCache', 'cache.kubeflake.dev/v1', 'iris2', 'A'),
    leak('ModelCache', 'cache.kubeflake.dev/v1', 'iris3', 'C'),
    leak('ConfigMap', 'v1', 'iris2', 'D'),
    leak('ModelCache', 'other.example.com/v1', 'iris2', 'E'),
    leak('Policy', 'policy.example.com/v1', 'p', 'F'),
    leak('Namespace', 'v1', 'team-a', 'G', { namespace: '' }),
  ];
  assert.deepEqual(linkFailureToLeaks('object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists', leaks), [0]);
  assert.deepEqual(linkFailureToLeaks(GOMEGA_STATUS_ERROR, leaks), [0]);
  assert.deepEqual(linkFailureToLeaks('configmaps "iris2" already exists', leaks), [2]);
  assert.deepEqual(linkFailureToLeaks('ModelCache.cache.kubeflake.dev "iris3" is invalid: spec', leaks), [1]);
  assert.deepEqual(linkFailureToLeaks('policies.policy.example.com "p" already exists', leaks), [4], 'y -> ies plural');
  assert.deepEqual(linkFailureToLeaks('namespaces "team-a" not found', leaks), [5]);
  assert.deepEqual(linkFailureToLeaks('Expected <int>: 1 to equal <int>: 2', leaks), []);
  assert.deepEqual(linkFailureToLeaks('modelcaches.cache.kubeflake.dev "iris2" already exists', [leak('ModelCache', 'cache.kubeflake.dev/v1', 'iris2', 'A', { namespace: 'x' })]), [0], 'no namespace in the message: any namespace');
  assert.deepEqual(linkFailureToLeaks('pods "web-0" not found in the namespace "team"', [leak('Pod', 'v1', 'web-0', 'A', { namespace: 'other' })]), [], 'namespaces must agree');
});

test('leaks by creator: the victim failure names the object, the leak names who created (or deleted) it', () => {
  const leaks = [
    leak('ModelCache', 'cache.kubeflake.dev/v1', 'iris2', 'A'),
    leak('ConfigMap', 'v1', 'shared', null, { deletedBy: 'B' } as Partial<LeakReport>),
    leak('ConfigMap', 'v1', 'mine', 'V'),
  ];
  const byCreator = leaksByCreator(
    'V',
    ['object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists', 'configmaps "shared" not found', 'configmaps "mine" already exists'],
    leaks,
  );
  assert.deepEqual([...byCreator.entries()], [
    ['A', [0]],
    ['B', [1]],
  ]);
});

test('huge or pathological failure texts are classified, signed and searched in linear time', () => {
  const texts = ['a'.repeat(200_000), 'Expected '.repeat(20_000), `${'x.go:'.repeat(20_000)}`, `${'foo "'.repeat(30_000)}`];
  const started = performance.now();
  for (const text of texts) {
    classifyFailure({ message: text, text });
    failureSignature(text);
    linkFailureToLeaks(text, [leak('ConfigMap', 'v1', 'x', 'A')]);
  }
  const elapsed = performance.now() - started;
  // Linear work here is milliseconds; a quadratic scan of 200,000 characters is tens of billions
  // of steps, minutes. The bound sits far from both, so a loaded machine cannot fail it.
  assert.ok(elapsed < 10_000, `took ${elapsed.toFixed(0)} ms`);
});
