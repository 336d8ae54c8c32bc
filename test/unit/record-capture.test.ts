// Capturing the record: the audit policy's shape and what it keeps and drops, the API server
// flags, the kind config that carries kind's audit setup, slicing a server's log per run across
// a rotation, and kubeflake's own user agent on every request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, renameSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AUDIT_LOG_BOUNDS, AUDIT_POLICY, auditLogFlags, hasOwnAuditConfig } from '../../src/record/policy.ts';
import { kindConfigWithRecord, KIND_AUDIT } from '../../src/cluster/kind.ts';
import { collectAuditLog, markAuditLogs, sliceAuditLogs } from '../../src/cluster/audit-log.ts';
import { connectKube, KUBEFLAKE_VERSION, USER_AGENT } from '../../src/cluster/kube.ts';
import { projectRoot } from '../support/paths.ts';

interface PolicyRule {
  level: string;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: { group: string; resources?: string[] }[];
  nonResourceURLs?: string[];
}
interface Policy {
  apiVersion: string;
  kind: string;
  omitStages?: string[];
  rules: PolicyRule[];
}

const policy = parseYaml(AUDIT_POLICY) as Policy;

interface Request {
  user: string;
  groups?: string[];
  verb: string;
  group?: string;
  resource?: string;
  path?: string;
}

// The API server's policy evaluation (k8s.io/apiserver/pkg/audit/policy/checker.go): the first
// rule whose every given field matches decides; resource rules never match a non-resource URL.
function levelOf(request: Request): string {
  for (const rule of policy.rules) {
    if (rule.users && !rule.users.includes(request.user)) continue;
    if (rule.userGroups && !rule.userGroups.some((group) => request.groups?.includes(group))) continue;
    if (rule.verbs && !rule.verbs.includes(request.verb)) continue;
    if (request.resource === undefined) {
      if (rule.resources) continue;
      if (rule.nonResourceURLs && !rule.nonResourceURLs.some((url) => (url.endsWith('*') ? request.path!.startsWith(url.slice(0, -1)) : url === request.path))) continue;
      return rule.level;
    }
    if (rule.nonResourceURLs) continue;
    if (rule.resources) {
      const [resource, subresource] = request.resource.split('/');
      const matched = rule.resources.some((gr) => gr.group === (request.group ?? '') && (!gr.resources || gr.resources.some((r) =>
        r === request.resource || r === '*' || (subresource !== undefined && r === `*/${subresource}`) || (r === `${resource}/*` && subresource !== undefined))));
      if (!matched) continue;
    }
    return rule.level;
  }
  return 'None';
}

const suite = { user: 'system:admin', groups: ['system:masters', 'system:authenticated'] };

test('the policy is an audit.k8s.io/v1 Policy at Metadata level at most, with one event a request, ending in a keep-all rule', () => {
  assert.equal(policy.apiVersion, 'audit.k8s.io/v1');
  assert.equal(policy.kind, 'Policy');
  assert.deepEqual(policy.omitStages, ['RequestReceived', 'ResponseStarted']);
  const levels = new Set(policy.rules.map((rule) => rule.level));
  assert.deepEqual([...levels].sort(), ['Metadata', 'None'], 'never Request or RequestResponse: no bodies, so no Secret data');
  const last = policy.rules.at(-1)!;
  assert.deepEqual(last, { level: 'Metadata' });
  assert.equal(policy.rules[0]?.users?.[0], 'kubeflake', 'kubeflake\'s own requests are dropped first');
  // Every rule says why in a comment right above it.
  const lines = AUDIT_POLICY.split('\n');
  for (const [index, line] of lines.entries()) {
    if (/^ {2}- level:/.test(line)) assert.match(lines[index - 1] ?? '', /^ {2}#/, `rule at line ${index + 1} has no comment saying why`);
  }
});

test('the policy keeps the suite\'s writes and GETs, and drops kubeflake, reads of collections, leases renewals, events, health and status churn', () => {
  for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection', 'get']) {
    assert.equal(levelOf({ ...suite, verb, group: 'cache.kubeflake.dev', resource: 'modelcaches' }), 'Metadata', verb);
  }
  assert.equal(levelOf({ ...suite, verb: 'create', resource: 'secrets' }), 'Metadata');
  assert.equal(levelOf({ ...suite, verb: 'update', group: 'cache.kubeflake.dev', resource: 'modelcaches/status' }), 'Metadata', 'the suite\'s own status writes are evidence');
  assert.equal(levelOf({ user: 'kubeflake', groups: ['system:masters'], verb: 'delete', resource: 'configmaps' }), 'None');
  for (const verb of ['list', 'watch']) assert.equal(levelOf({ ...suite, verb, resource: 'pods' }), 'None', verb);
  assert.equal(levelOf({ ...suite, verb: 'update', group: 'coordination.k8s.io', resource: 'leases' }), 'None');
  assert.equal(levelOf({ ...suite, verb: 'create', group: 'coordination.k8s.io', resource: 'leases' }), 'Metadata', 'a Lease left behind is a leak');
  assert.equal(levelOf({ ...suite, verb: 'create', resource: 'events' }), 'None');
  assert.equal(levelOf({ ...suite, verb: 'create', group: 'events.k8s.io', resource: 'events' }), 'None');
  for (const path of ['/healthz', '/readyz', '/livez', '/version', '/api', '/apis/apps/v1', '/openapi/v3']) {
    assert.equal(levelOf({ ...suite, verb: 'get', path }), 'None', path);
  }
  assert.equal(levelOf({ user: 'system:apiserver', groups: ['system:masters'], verb: 'create', resource: 'namespaces' }), 'None');
  assert.equal(levelOf({ user: 'system:node:kind-control-plane', groups: ['system:nodes'], verb: 'patch', resource: 'nodes/status' }), 'None');
  assert.equal(levelOf({ user: 'system:serviceaccount:kube-system:deployment-controller', groups: ['system:serviceaccounts:kube-system'], verb: 'update', group: 'apps', resource: 'deployments/status' }), 'None');
  assert.equal(levelOf({ user: 'system:kube-controller-manager', verb: 'update', group: 'apps', resource: 'replicasets/status' }), 'None');
  assert.equal(levelOf({ user: 'system:kube-controller-manager', verb: 'get', resource: 'configmaps' }), 'None');
  // A controller's deletes and creates stay: a namespace emptied, garbage collected, a default service account.
  assert.equal(levelOf({ user: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts:kube-system'], verb: 'delete', group: 'cache.kubeflake.dev', resource: 'modelcaches' }), 'Metadata');
  assert.equal(levelOf({ user: 'system:kube-controller-manager', verb: 'delete', resource: 'namespaces' }), 'Metadata');
});

test('the server\'s flags: the policy, a JSON log written in the request, bounded by size with a kept rotation; a suite\'s own audit is left alone', () => {
  assert.deepEqual(auditLogFlags('/p/policy.yaml', '/l/audit.jsonl'), [
    '--audit-policy-file=/p/policy.yaml',
    '--audit-log-path=/l/audit.jsonl',
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    `--audit-log-maxsize=${AUDIT_LOG_BOUNDS.maxSizeMb}`,
    `--audit-log-maxbackup=${AUDIT_LOG_BOUNDS.maxBackups}`,
    '--audit-log-maxage=0',
  ]);
  assert.ok(AUDIT_LOG_BOUNDS.maxBackups >= 1, 'maxbackup 0 would keep every rotated file: unbounded');
  assert.equal(hasOwnAuditConfig(['--secure-port=1', '--audit-policy-file=/x']), true);
  assert.equal(hasOwnAuditConfig(['--audit-webhook-config-file', '/x']), true);
  assert.equal(hasOwnAuditConfig(['--secure-port=1', '--audit-log-maxsize=3']), false);
});

const host = { policyFile: '/host/audit/audit-policy.yaml', logDir: (node: number) => `/host/audit/node-${node}` };

test('kind: the default config gets one control-plane node with the policy and log mounts, and the audit patch for both kubeadm versions', () => {
  const made = kindConfigWithRecord(undefined, host);
  assert.deepEqual(made.logs, [`/host/audit/node-0/${KIND_AUDIT.logFile}`]);
  const config = parseYaml(made.config) as { kind: string; apiVersion: string; nodes: { role: string; extraMounts: unknown[] }[]; kubeadmConfigPatches: string[] };
  assert.equal(config.kind, 'Cluster');
  assert.equal(config.apiVersion, 'kind.x-k8s.io/v1alpha4');
  assert.deepEqual(config.nodes, [{
    role: 'control-plane',
    extraMounts: [
      { hostPath: host.policyFile, containerPath: KIND_AUDIT.policy, readOnly: true },
      { hostPath: '/host/audit/node-0', containerPath: KIND_AUDIT.logDir },
    ],
  }]);
  const [v3, v4] = config.kubeadmConfigPatches.map((text) => parseYaml(text) as { apiVersion: string; kind: string; apiServer: { extraArgs: unknown; extraVolumes: { name: string; hostPath: string; mountPath: string; readOnly: boolean }[] } });
  assert.equal(v3?.apiVersion, 'kubeadm.k8s.io/v1beta3');
  assert.equal(v3?.kind, 'ClusterConfiguration');
  const args = v3?.apiServer.extraArgs as Record<string, string>;
  assert.equal(args['audit-policy-file'], KIND_AUDIT.policy);
  assert.equal(args['audit-log-path'], `${KIND_AUDIT.logDir}/${KIND_AUDIT.logFile}`);
  assert.equal(args['audit-log-maxsize'], String(AUDIT_LOG_BOUNDS.maxSizeMb), 'a string: kubeadm extraArgs are strings');
  assert.equal(v4?.apiVersion, 'kubeadm.k8s.io/v1beta4');
  assert.deepEqual(v4?.apiServer.extraArgs, Object.entries(args).map(([name, value]) => ({ name, value })), 'v1beta4 takes the same flags as a list');
  for (const patch of [v3, v4]) {
    assert.deepEqual(patch?.apiServer.extraVolumes.map((v) => [v.hostPath, v.mountPath, v.readOnly]), [[KIND_AUDIT.policy, KIND_AUDIT.policy, true], [KIND_AUDIT.logDir, KIND_AUDIT.logDir, false]]);
  }
});

test('kind: a user\'s config keeps its nodes, mounts and patches; every control-plane node gets its own log folder; workers get nothing', () => {
  const user = [
    'kind: Cluster',
    'apiVersion: kind.x-k8s.io/v1alpha4',
    'networking:',
    '  disableDefaultCNI: true',
    'nodes:',
    '- role: control-plane',
    '  extraMounts:',
    '  - hostPath: /data',
    '    containerPath: /data',
    '- role: control-plane',
    '- role: worker',
    'kubeadmConfigPatches:',
    '- |',
    '  kind: InitConfiguration',
    '  nodeRegistration:',
    '    kubeletExtraArgs:',
    '      node-labels: "ingress-ready=true"',
    '',
  ].join('\n');
  const made = kindConfigWithRecord(user, host);
  const config = parseYaml(made.config) as { networking: unknown; nodes: { role: string; extraMounts?: { hostPath: string }[] }[]; kubeadmConfigPatches: string[] };
  assert.deepEqual(config.networking, { disableDefaultCNI: true });
  assert.deepEqual(config.nodes.map((node) => node.extraMounts?.map((m) => m.hostPath)), [
    ['/data', host.policyFile, '/host/audit/node-0'],
    [host.policyFile, '/host/audit/node-1'],
    undefined,
  ]);
  assert.deepEqual(made.logs, ['/host/audit/node-0/audit.jsonl', '/host/audit/node-1/audit.jsonl']);
  assert.equal(config.kubeadmConfigPatches.length, 3);
  assert.match(config.kubeadmConfigPatches[0]!, /node-labels: "ingress-ready=true"/);
});

test('kind: a user patch with apiServer volumes gets ours appended (a merge patch would replace the list); a config that audits itself is left alone', () => {
  const user = [
    'kind: Cluster',
    'apiVersion: kind.x-k8s.io/v1alpha4',
    'kubeadmConfigPatches:',
    '- |',
    '  kind: ClusterConfiguration',
    '  apiServer:',
    '    extraArgs:',
    '      oidc-issuer-url: https://issuer',
    '    extraVolumes:',
    '    - name: oidc',
    '      hostPath: /etc/oidc',
    '      mountPath: /etc/oidc',
    '',
  ].join('\n');
  const made = kindConfigWithRecord(user, host);
  const config = parseYaml(made.config) as { kubeadmConfigPatches: string[] };
  assert.equal(config.kubeadmConfigPatches.length, 1, 'merged into the user\'s patch, none of ours beside it');
  const patch = parseYaml(config.kubeadmConfigPatches[0]!) as { apiServer: { extraArgs: Record<string, string>; extraVolumes: { name: string }[] } };
  assert.equal(patch.apiServer.extraArgs['oidc-issuer-url'], 'https://issuer');
  assert.equal(patch.apiServer.extraArgs['audit-policy-file'], KIND_AUDIT.policy);
  assert.deepEqual(patch.apiServer.extraVolumes.map((v) => v.name), ['oidc', 'kubeflake-audit-policy', 'kubeflake-audit-log']);

  const audited = kindConfigWithRecord(user.replace('oidc-issuer-url: https://issuer', 'audit-policy-file: /mine.yaml'), host);
  assert.deepEqual(audited.logs, []);
  assert.match(audited.note ?? '', /sets up auditing itself/);
  assert.doesNotMatch(audited.config, /kubeflake-audit/);
});

const line = (at: string, name: string) => `{"kind":"Event","stage":"ResponseComplete","verb":"create","objectRef":{"name":"${name}"},"stageTimestamp":"${at}"}\n`;

test('a run\'s slice is what the server wrote since the mark, and follows the file across a rotation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-audit-'));
  const log = join(dir, 'audit.jsonl');
  writeFileSync(log, line('2026-01-01T00:00:00.000001Z', 'before'));
  const [mark] = await markAuditLogs([log]);
  appendFileSync(log, line('2026-01-01T00:00:01.000001Z', 'one'));
  const first = await sliceAuditLogs([mark!], join(dir, 'run-0.jsonl'));
  assert.equal(readFileSync(join(dir, 'run-0.jsonl'), 'utf8'), line('2026-01-01T00:00:01.000001Z', 'one'));
  assert.deepEqual(first.notes, []);

  const [second] = await markAuditLogs([log]);
  appendFileSync(log, line('2026-01-01T00:00:02.000001Z', 'two'));
  // The server rotates as lumberjack does: renames the file aside, starts a new one.
  renameSync(log, join(dir, 'audit-2026-01-01T00-00-02.500.jsonl'));
  writeFileSync(log, line('2026-01-01T00:00:03.000001Z', 'three'));
  const rotated = await sliceAuditLogs([second!], join(dir, 'run-1.jsonl'));
  assert.equal(readFileSync(join(dir, 'run-1.jsonl'), 'utf8'), line('2026-01-01T00:00:02.000001Z', 'two') + line('2026-01-01T00:00:03.000001Z', 'three'));
  assert.match(rotated.notes.join(), /rotated during the run/);
  assert.equal(rotated.bytes, statSync(join(dir, 'run-1.jsonl')).size);
});

test('a slice says when the file the run began in was deleted at the bound; several servers\' lines merge by server time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-audit-'));
  const a = join(dir, 'a', 'audit.jsonl');
  const b = join(dir, 'b', 'audit.jsonl');
  for (const file of [a, b]) {
    await import('node:fs/promises').then((fs) => fs.mkdir(join(file, '..'), { recursive: true }));
    writeFileSync(file, '');
  }
  const marks = await markAuditLogs([a, b]);
  appendFileSync(a, line('2026-01-01T00:00:01.000001Z', 'a1') + line('2026-01-01T00:00:03.000001Z', 'a3'));
  appendFileSync(b, line('2026-01-01T00:00:02.000001Z', 'b2'));
  await sliceAuditLogs(marks, join(dir, 'merged.jsonl'));
  assert.deepEqual(readFileSync(join(dir, 'merged.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { objectRef: { name: string } }).objectRef.name), ['a1', 'b2', 'a3']);

  const [mark] = await markAuditLogs([a]);
  renameSync(a, join(dir, 'gone.jsonl')); // the rotated file is no longer where the server keeps them
  writeFileSync(a, line('2026-01-01T00:00:04.000001Z', 'a4'));
  const lost = await sliceAuditLogs([mark!], join(dir, 'lost.jsonl'));
  assert.match(lost.notes.join(), /first lines are lost/);
  assert.equal(readFileSync(join(dir, 'lost.jsonl'), 'utf8'), line('2026-01-01T00:00:04.000001Z', 'a4'));
});

test('an instance\'s whole log is copied with its rotated file first, and the rotation is said', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-audit-'));
  const log = join(dir, '1-2.audit.jsonl');
  assert.equal(await collectAuditLog(log, join(dir, 'none.jsonl')), undefined, 'no log, no copy');
  writeFileSync(join(dir, '1-2.audit-2026-01-01T00-00-01.000.jsonl'), line('2026-01-01T00:00:00.000001Z', 'old'));
  writeFileSync(log, line('2026-01-01T00:00:02.000001Z', 'new'));
  const copy = await collectAuditLog(log, join(dir, 'audit.jsonl'));
  assert.equal(readFileSync(join(dir, 'audit.jsonl'), 'utf8'), line('2026-01-01T00:00:00.000001Z', 'old') + line('2026-01-01T00:00:02.000001Z', 'new'));
  assert.equal(copy?.bytes, statSync(join(dir, 'audit.jsonl')).size);
  assert.match(copy?.notes.join() ?? '', /rotated at least once/);
});

test('every request kubeflake sends, watches too, names it in its user agent; the version is package.json\'s', async () => {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(KUBEFLAKE_VERSION, pkg.version);
  assert.equal(USER_AGENT, `kubeflake/${pkg.version}`);
  const agents: string[] = [];
  const server = createServer((request, response) => {
    agents.push(request.headers['user-agent'] ?? '');
    response.setHeader('content-type', 'application/json');
    response.end(request.url?.includes('watch') ? '' : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-ua-'));
  writeFileSync(join(dir, 'kubeconfig'), JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
  const api = await connectKube(join(dir, 'kubeconfig'));
  try {
    await api.request('GET', '/api/v1/namespaces');
    await api.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'x' } } });
    await api.watch('/api/v1/namespaces?watch=1', { signal: AbortSignal.timeout(5_000), onEvent: () => {} });
  } finally {
    api.close();
    server.close();
  }
  assert.deepEqual(agents, [USER_AGENT, USER_AGENT, USER_AGENT]);
});
