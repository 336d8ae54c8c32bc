// The envtest pieces that decide on plain data: the shim's argument handling, the envtest
// release index, the instance baseline, leaks per instance and package, package modes, and the
// empty-timeline notice.
import { shellWord as shellQuote } from '../../src/frameworks/patterns.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServerEndpoint, isInformationalCall, withKubeflakeTokenFile, withSecurePort } from '../../src/envtest/api-server-args.ts';
import { kubernetesVersionOfGoMod, pickEnvtestArchive, type EnvtestIndex } from '../../src/envtest/release.ts';
import {
  describeInstances,
  emptyTimelineNotice,
  envtestRunLeaks,
  instanceBaseline,
  packageModes,
  relativePackage,
  runOfPackage,
  type EnvtestEvidence,
  type EnvtestInstance,
} from '../../src/envtest/evidence.ts';
import { DEFAULT_NOISE_RULES } from '../../src/cluster/noise.ts';
import type { RunResult, Snapshot, SnapshotObject, TestCase, TimelineEvent } from '../../src/model.ts';

// The arguments controller-runtime v0.24 gives kube-apiserver (process.Arguments renders --key=value).
const envtestArgs = [
  '--advertise-address=127.0.0.1',
  '--allow-privileged=true',
  '--authorization-mode=RBAC',
  '--bind-address=127.0.0.1',
  '--cert-dir=/tmp/k8s_test_framework_1',
  '--client-ca-file=/tmp/k8s_test_framework_1/client-cert-auth-ca.crt',
  '--disable-admission-plugins=ServiceAccount',
  '--etcd-servers=http://127.0.0.1:40001',
  '--secure-port=40123',
  '--service-account-issuer=https://127.0.0.1:40123/',
  '--service-cluster-ip-range=10.0.0.0/24',
];

test('the shim finds the secure address envtest chose, in either flag form, the last one winning', () => {
  assert.equal(apiServerEndpoint(envtestArgs), 'https://127.0.0.1:40123');
  assert.equal(apiServerEndpoint(['--secure-port', '6443', '--bind-address', '0.0.0.0']), 'https://127.0.0.1:6443');
  assert.equal(apiServerEndpoint(['--secure-port=1', '--secure-port=2']), 'https://127.0.0.1:2');
  assert.equal(apiServerEndpoint(['--secure-port=7000', '--bind-address=::1']), 'https://[::1]:7000');
  assert.equal(apiServerEndpoint(['--help']), undefined, 'no secure port: a call that starts no server');
  assert.equal(apiServerEndpoint(['--secure-port=0']), undefined);
});

test('the shim adds kubeflake\'s token file and takes the suite\'s own out to merge it', () => {
  const plain = withKubeflakeTokenFile(envtestArgs, '/private/tokens.csv');
  assert.deepEqual(plain.args, [...envtestArgs, '--token-auth-file=/private/tokens.csv']);
  assert.equal(plain.suiteTokenFile, undefined);
  for (const suiteFlag of [['--token-auth-file=/suite/tokens.csv'], ['--token-auth-file', '/suite/tokens.csv']]) {
    const merged = withKubeflakeTokenFile(['--secure-port=1', ...suiteFlag, '--v=1'], '/private/tokens.csv');
    assert.deepEqual(merged.args, ['--secure-port=1', '--v=1', '--token-auth-file=/private/tokens.csv']);
    assert.equal(merged.suiteTokenFile, '/suite/tokens.csv');
  }
  assert.ok(envtestArgs.every((arg) => plain.args.includes(arg)), 'every argument of the suite is kept');
});

test('the real server listens on a port of the shim\'s, in the form envtest wrote; everything else is kept', () => {
  const moved = withSecurePort(envtestArgs, 45000);
  assert.deepEqual(moved, envtestArgs.map((arg) => (arg === '--secure-port=40123' ? '--secure-port=45000' : arg)));
  assert.deepEqual(withSecurePort(['--secure-port', '6443', '--v=1'], 7), ['--secure-port', '7', '--v=1']);
  assert.equal(apiServerEndpoint(moved), 'https://127.0.0.1:45000');
});

test('flag probes (envtest runs `kube-apiserver --help`) pass straight through', () => {
  assert.equal(isInformationalCall(['--help']), true);
  assert.equal(isInformationalCall(['--version=raw']), true);
  assert.equal(isInformationalCall(envtestArgs), false);
});

test('paths are quoted for the sh launcher, quotes included', () => {
  assert.equal(shellQuote('/a b/node'), `'/a b/node'`);
  assert.equal(shellQuote(`/it's/node`), `'/it'\\''s/node'`);
});

test('the envtest version matching a suite comes from its client-go (or api) requirement', () => {
  assert.equal(kubernetesVersionOfGoMod('module x\n\nrequire (\n\tk8s.io/api v0.33.2\n\tk8s.io/client-go v0.34.1\n)\n'), '1.34');
  assert.equal(kubernetesVersionOfGoMod('module x\nrequire k8s.io/apimachinery v0.31.0\n'), '1.31');
  assert.equal(kubernetesVersionOfGoMod('module x\nrequire github.com/onsi/ginkgo/v2 v2.34.0\n'), undefined);
});

const index: EnvtestIndex = {
  releases: {
    'v1.33.0': {
      'envtest-v1.33.0-linux-amd64.tar.gz': { hash: 'AA', selfLink: 'https://example.test/envtest-v1.33.0-linux-amd64.tar.gz' },
      'envtest-v1.33.0-darwin-arm64.tar.gz': { hash: 'BB', selfLink: 'https://example.test/envtest-v1.33.0-darwin-arm64.tar.gz' },
    },
    'v1.33.2': { 'envtest-v1.33.2-linux-amd64.tar.gz': { hash: 'cc', selfLink: 'https://example.test/envtest-v1.33.2-linux-amd64.tar.gz' } },
    'v1.34.1': { 'envtest-v1.34.1-linux-amd64.tar.gz': { hash: 'dd', selfLink: 'https://example.test/envtest-v1.34.1-linux-amd64.tar.gz' } },
    'v1.9.10': { 'envtest-v1.9.10-linux-amd64.tar.gz': { hash: 'ee', selfLink: 'https://example.test/old.tar.gz' } },
  },
};

test('a release is picked by minor (newest patch), exact version or latest, for this os/arch, hash lowercased', () => {
  assert.deepEqual(pickEnvtestArchive(index, '1.33', 'linux', 'amd64'), {
    version: '1.33.2', name: 'envtest-v1.33.2-linux-amd64.tar.gz', url: 'https://example.test/envtest-v1.33.2-linux-amd64.tar.gz', sha512: 'cc',
  });
  assert.equal(pickEnvtestArchive(index, '1.33.0', 'linux', 'amd64').sha512, 'aa');
  assert.equal(pickEnvtestArchive(index, 'latest', 'linux', 'amd64').version, '1.34.1', 'numeric order, not string order');
  assert.equal(pickEnvtestArchive(index, 'v1.33', 'darwin', 'arm64').version, '1.33.0');
  assert.throws(() => pickEnvtestArchive(index, '1.35', 'linux', 'amd64'), /no 1\.35 archive for linux\/amd64 .*set kubernetes-version/);
  assert.throws(() => pickEnvtestArchive(index, 'newest', 'linux', 'amd64'), /not a version/);
});

// --- leaks inside an instance -----------------------------------------------------------------

const server = 'https://127.0.0.1:40123';
function obj(p: Partial<SnapshotObject> & { kind: string; name: string }): SnapshotObject {
  const resource = p.kind === 'Namespace' ? 'namespaces' : p.kind.toLowerCase() + 's';
  return { apiVersion: 'v1', resource, namespaced: p.kind !== 'Namespace' && p.kind !== 'CustomResourceDefinition', uid: `uid-${p.namespace ?? ''}-${p.name}`, ...p };
}
function snap(objects: SnapshotObject[], takenAt = 0): Snapshot {
  return { takenAt, server, objects, errors: [], complete: true };
}
function created(o: SnapshotObject, at: number, late = false): TimelineEvent {
  const object: TimelineEvent['object'] = { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, resource: o.resource };
  if (o.namespace) object.namespace = o.namespace;
  return late ? { at, verb: 'created', object, late } : { at, verb: 'created', object };
}
function spec(id: string, startedAt: number, endedAt: number, file?: string): TestCase {
  const c: TestCase = { id, name: id, suite: 'S', status: 'passed', durationMs: endedAt - startedAt, startedAt, endedAt };
  if (file) c.file = file;
  return c;
}
function run(cases: TestCase[]): RunResult {
  return {
    id: '000', seed: 1, probe: false, command: ['go', 'test', './...'], exitCode: 0, timedOut: false,
    startedAt: 0, endedAt: 10_000, durationMs: 10_000, orderSource: 'ginkgo-json',
    order: cases.map((c) => c.id), cases, reports: [], warnings: [],
  };
}
function instance(p: Partial<EnvtestInstance> = {}): EnvtestInstance {
  return { id: '1-1', server, package: './internal/controller', startedAt: 0, timelineEvents: 0, problems: [], ...p };
}

const crd = { ...obj({ kind: 'CustomResourceDefinition', name: 'modelcaches.cache.kubeflake.dev' }), apiVersion: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions' };
const system = obj({ kind: 'Namespace', name: 'kube-system' });

test('the instance baseline leaves out what the watch saw created while it was being taken', () => {
  const early = obj({ kind: 'ConfigMap', namespace: 'default', name: 'made-during-baseline' });
  const lateSighting = obj({ kind: 'ConfigMap', namespace: 'default', name: 'listed-late' });
  const evidence: EnvtestEvidence = {
    instance: instance(),
    baseline: snap([system, early, lateSighting]),
    timeline: [created(early, 100), created(lateSighting, 120, true)],
  };
  assert.deepEqual(instanceBaseline(evidence)?.objects.map((o) => o.name), ['kube-system', 'listed-late']);
  assert.equal(instanceBaseline({ instance: instance(), timeline: [] }), undefined);
});

test('an instance\'s leaks are what the suite left when envtest stopped it, each given to the spec running then; envtest\'s CRDs and the system namespaces are not leaks', () => {
  const leftover = obj({ kind: 'ConfigMap', namespace: 'default', name: 'left' });
  const tidy = obj({ kind: 'ConfigMap', namespace: 'default', name: 'tidy' });
  const defaultNs = obj({ kind: 'Namespace', name: 'default' });
  const nodeLease = obj({ kind: 'Namespace', name: 'kube-node-lease' });
  const evidence: EnvtestEvidence = {
    instance: instance(),
    baseline: snap([system]),
    after: snap([system, defaultNs, nodeLease, crd, leftover]),
    timeline: [created(defaultNs, 50), created(nodeLease, 60), created(crd, 200), created(tidy, 1500), created(leftover, 2500)],
  };
  const r = run([spec('A', 1000, 2000), spec('B', 2000, 3000)]);
  const [leaks, deleted] = envtestRunLeaks([evidence], r, DEFAULT_NOISE_RULES);
  // How sure attribution is (exact, approximate) is attribution's own business; who made it is the point here.
  assert.deepEqual(leaks?.map((l) => [l.name, l.createdBy]), [['left', 'B']]);
  assert.deepEqual(deleted, []);
  assert.deepEqual(envtestRunLeaks([{ ...evidence, after: undefined }], r, DEFAULT_NOISE_RULES), [], 'no last snapshot: nothing is claimed');
});

test('each instance is attributed among the specs of its own package when several packages ran at once', () => {
  const a = obj({ kind: 'ConfigMap', namespace: 'default', name: 'from-a' });
  const b = obj({ kind: 'ConfigMap', namespace: 'default', name: 'from-b' });
  // Two packages' specs overlap in time; each instance only knows its own package's specs.
  const r = run([spec('pkg-a spec', 1000, 3000, '/repo/pkg/a/a_test.go'), spec('pkg-b spec', 1500, 3500, '/repo/pkg/b/b_test.go')]);
  const evidence: EnvtestEvidence[] = [
    { instance: instance({ id: 'a', package: './pkg/a' }), baseline: snap([]), after: snap([a]), timeline: [created(a, 2000)] },
    { instance: instance({ id: 'b', package: './pkg/b' }), baseline: snap([]), after: snap([b]), timeline: [created(b, 2000)] },
  ];
  const leaks = envtestRunLeaks(evidence, r, DEFAULT_NOISE_RULES, (i) => `/repo/${i.package.slice(2)}`).flat();
  assert.deepEqual(leaks.map((l) => [l.name, l.createdBy, l.attribution]), [['from-a', 'pkg-a spec', 'exact'], ['from-b', 'pkg-b spec', 'exact']]);
  assert.equal(runOfPackage(r, '/repo/pkg/c').cases.length, 2, 'a package none of whose specs is known keeps them all');
  assert.deepEqual(runOfPackage(r, '/repo/pkg/a').order, ['pkg-a spec']);
});

test('packages are named relative to the hunt\'s folder', () => {
  assert.equal(relativePackage('/repo', '/repo/internal/controller'), './internal/controller');
  assert.equal(relativePackage('/repo', '/repo'), '.');
  assert.equal(relativePackage('/repo', '/elsewhere/pkg'), '/elsewhere/pkg');
});

test('a package that started its own control plane ran in envtest mode, the others on kubeflake\'s cluster', () => {
  const modes = packageModes([
    { id: '000', packages: ['./internal/controller', './api'], instances: [instance({ package: './internal/controller' })] },
    { id: '001', packages: ['./internal/controller', './api'], instances: [instance({ package: './internal/controller' })] },
  ]);
  assert.deepEqual(modes, [
    { package: './api', mode: 'cluster', runs: ['000', '001'], instances: 0, evidence: ['watch'] },
    { package: './internal/controller', mode: 'envtest', runs: ['000', '001'], instances: 2, evidence: ['watch'] },
  ]);
});

test('each package says its evidence: the record where its envtest instance or kubeflake\'s cluster wrote one, the watch always', () => {
  const recorded = instance({ package: './internal/controller', record: { bytes: 4096, complete: true } });
  const modes = packageModes([
    { id: '000', packages: ['./internal/controller', './api'], instances: [recorded], clusterRecord: true },
    { id: '001', packages: ['./internal/controller', './api'], instances: [instance({ package: './internal/controller' })], clusterRecord: true },
  ]);
  assert.deepEqual(modes.map((mode) => [mode.package, mode.evidence]), [['./api', ['record', 'watch']], ['./internal/controller', ['record', 'watch']]]);
  const existing = packageModes([{ id: '000', packages: ['./api'], instances: [], clusterRecord: false }]);
  assert.deepEqual(existing.map((mode) => mode.evidence), [['watch']], 'an existing cluster has no record');
});

test('an empty timeline is explained: the suite did not touch what kubeflake watched', () => {
  const none = emptyTimelineNotice({ run: '000', tests: 12, clusterEvents: 0, instances: [], watched: true });
  assert.match(none ?? '', /^000: the timeline is empty: the suite did not touch the cluster kubeflake watched\. .*BinaryAssetsDirectory/);
  const quiet = emptyTimelineNotice({ run: '001', tests: 12, clusterEvents: 0, instances: [instance({ problems: ['the API server never answered /readyz'] })], watched: true });
  assert.match(quiet ?? '', /started 1 envtest control plane\(s\) but kubeflake saw nothing created in them \(the API server never answered/);
  assert.equal(emptyTimelineNotice({ run: '002', tests: 12, clusterEvents: 0, instances: [instance({ timelineEvents: 40 })], watched: true }), undefined);
  assert.equal(emptyTimelineNotice({ run: '003', tests: 12, clusterEvents: 5, instances: [], watched: true }), undefined);
  assert.equal(emptyTimelineNotice({ run: '004', tests: 0, clusterEvents: 0, instances: [], watched: true }), undefined, 'no test ran: the run line already says so');
  assert.equal(emptyTimelineNotice({ run: '005', tests: 3, clusterEvents: 0, instances: [], watched: false }), undefined, 'not watching: nothing to expect');
});

test('a probe\'s instances, kept by their record alone, are neither taken for unseen control planes nor described as empty snapshots', () => {
  const probe = instance({ observation: 'record', record: { bytes: 48_213, complete: true } });
  assert.equal(emptyTimelineNotice({ run: 'probe-000', tests: 2, clusterEvents: 0, instances: [probe], watched: true }), undefined, 'not watched on purpose');
  assert.match(emptyTimelineNotice({ run: '000', tests: 2, clusterEvents: 0, instances: [probe, instance()], watched: true }) ?? '', /started 2 envtest control plane\(s\) but kubeflake saw nothing/, 'a watched instance beside it still counts');
  assert.deepEqual(describeInstances('probe-000', [probe]), { lines: ['envtest ./internal/controller: the API server\'s record only (a probe), 48213 bytes'], warnings: [] });
  assert.match(describeInstances('probe-001', [instance({ observation: 'record' })]).lines[0] ?? '', /record only \(a probe\), none written$/);
});

test('the report says which mode each package ran in, and why a run\'s timeline stayed empty', async () => {
  const { buildReport } = await import('../../src/build-report.ts');
  const cases = [spec('S :: a', 1000, 2000, '/repo/internal/controller/a_test.go'), spec('S :: b', 2000, 3000, '/repo/pkg/plain/b_test.go')];
  const record = { command: ['go', 'test', './...'], framework: 'go' as const, cluster: 'local' as const, cwd: '/repo', baseSeed: 1, runs: 2, options: {}, startedAt: 0, errors: [], ignore: [], watch: true };
  const logged = (id: string, timeline: TimelineEvent[], instances: EnvtestInstance[]) => ({ run: { ...run(cases), id }, leaks: [], leftover: [], observed: true, timeline, envtest: instances });
  const report = buildReport({
    dir: '/results',
    record,
    errors: [],
    runs: [logged('000', [], [instance({ timelineEvents: 30 })]), logged('001', [], [])],
  });
  assert.deepEqual(report.controlPlanes, [
    { package: './internal/controller', mode: 'envtest', runs: ['000', '001'], instances: 1, evidence: ['watch'] },
    { package: './pkg/plain', mode: 'cluster', runs: ['000', '001'], instances: 0, evidence: ['watch'] },
  ]);
  assert.equal(report.runs[0]?.warnings, undefined, 'events inside envtest: nothing to explain');
  assert.match(report.runs[1]?.warnings?.[0] ?? '', /^001: the timeline is empty: the suite did not touch the cluster kubeflake watched/);
});

test('the markdown report names the packages that ran in their own envtest and shows an empty timeline once', async () => {
  const { buildReport } = await import('../../src/build-report.ts');
  const { renderMarkdown } = await import('../../src/report/markdown.ts');
  const cases = [spec('S :: a', 1000, 2000, '/repo/internal/controller/a_test.go')];
  const record = { command: ['go', 'test', './...'], framework: 'go' as const, cluster: 'local' as const, cwd: '/repo', baseSeed: 1, runs: 2, options: {}, startedAt: 0, errors: [], ignore: [], watch: true };
  const logged = (id: string, instances: EnvtestInstance[]) => ({ run: { ...run(cases), id }, leaks: [], leftover: [], observed: true, timeline: [], envtest: instances });
  const seen = renderMarkdown(buildReport({ dir: '/results', record, errors: [], runs: [logged('000', [instance({ timelineEvents: 9 })])] }));
  assert.match(seen, /own envtest in <code>\.\/internal\/controller<\/code>/);
  assert.doesNotMatch(seen, /\[!NOTE\]/);
  const blind = renderMarkdown(buildReport({ dir: '/results', record, errors: [], runs: [logged('000', []), logged('001', [])] }));
  assert.match(blind, /> \[!NOTE\]\n> 000: the timeline is empty: the suite did not touch the cluster kubeflake watched\..* \(2 runs\)/);
});

test('ground truth: a race victim that never fired, and the leak its polluter leaves only sometimes, are no mismatch; when it fired it must be confirmed', async () => {
  const { compareWithGroundTruth } = await import('../../examples/harness/ground-truth.ts');
  const victim = 'serving batches inference through the mnist cache';
  const polluter = 'lifecycle evicts the mnist cache within its drain budget';
  const mnist = { apiVersion: 'cache.kubeflake.dev/v1alpha1', kind: 'ModelCache', name: 'mnist', when: 'about one run in two' };
  const truth = {
    suite: 'S',
    specs: [
      { name: polluter, id: `S :: ${polluter}`, role: 'polluter' as const, verdict: 'stable' as const, fixedVerdict: 'stable' as const, leaks: [mnist] },
      { name: victim, id: `S :: ${victim}`, role: 'victim' as const, verdict: 'order-dependent' as const, fixedVerdict: 'stable' as const, polluters: [polluter], failsWhen: { rate: 0.5 } },
    ],
  };
  const testReport = (name: string, verdict: 'stable' | 'flaky', failed: number) => ({ id: `S :: ${name}`, name, suite: 'S', file: 'x_test.go', line: 1, verdict, passed: 6 - failed, failed, failureKinds: [], polluters: [], cleaners: [], stateSetters: [], reproduce: '' });
  const report = (failed: number, verdict: 'stable' | 'flaky') => ({
    schema: 'kubeflake/report@1' as const, command: 'ginkgo', framework: 'ginkgo' as const, cluster: 'local' as const,
    // One run placed the victim right after its polluter: the order the race needs.
    runs: [{ id: '000', seed: 1, exitCode: 0, durationMs: 1, timedOut: false, order: [`S :: ${polluter}`, `S :: ${victim}`], failed: [], probe: false }],
    tests: [testReport(polluter, 'stable', 0), testReport(victim, verdict, failed)], leaks: [], cleanup: { dryRun: false, deleted: [], finalizersRemoved: [], left: [] }, verdict: 'clean' as const,
  });
  const quiet = compareWithGroundTruth(report(0, 'stable'), truth, { fixed: false });
  assert.equal(quiet.ok, true, quiet.lines.join('\n'));
  assert.ok(quiet.lines.some((line) => /did not fire in 1 run\(s\) that placed it after its polluter \(a race: fails in about 50% of them\)/.test(line)));
  assert.ok(quiet.lines.some((line) => /^ok .*ModelCache mnist: not found among the leaks \(left about one run in two\)/.test(line)));
  const fired = compareWithGroundTruth(report(1, 'flaky'), truth, { fixed: false });
  assert.equal(fired.ok, false, 'it fired: it must be named order-dependent with its polluter confirmed');
});
