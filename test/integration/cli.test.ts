// The CLI as a person types it (README.md "CLI"), on the shared control plane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { runProcess } from '../../src/exec.ts';
import { projectRoot, fixtures } from '../support/paths.ts';
import { useCluster } from '../support/cluster.ts';

const cli = (args: string[], env: Record<string, string> = {}) =>
  runProcess([process.execPath, join(projectRoot, 'src', 'cli.ts'), ...args], { capture: true, env: { ...process.env, ...env } });

test('snapshot and diff: a ConfigMap created between two snapshots is listed as leaked', async () => {
  const cluster = await useCluster();
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-cli-'));
  const before = await cli(['snapshot', '--kubeconfig', cluster.kubeconfigPath, '--out', join(dir, 'a.json')]);
  assert.equal(before.exitCode, 0, before.stderr);
  assert.match(before.stderr, /^\d+ objects/);
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kf-cli-diff' }, data: { a: 'b' } } });
  try {
    const after = await cli(['snapshot', '--out', join(dir, 'b.json')], { KUBECONFIG: cluster.kubeconfigPath });
    assert.equal(after.exitCode, 0, after.stderr);
    const diff = await cli(['diff', join(dir, 'a.json'), join(dir, 'b.json')]);
    assert.equal(diff.exitCode, 0, diff.stderr);
    const parsed = JSON.parse(diff.stdout) as { leaked: { kind: string; name: string }[] };
    assert.deepEqual(parsed.leaked.map((o) => `${o.kind}/${o.name}`), ['ConfigMap/kf-cli-diff']);
  } finally {
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'kf-cli-diff' });
  }
});

test('parse prints normalized JSON for a real Ginkgo report and names a broken file', async () => {
  const ok = await cli(['parse', join(fixtures, 'junit', 'ginkgo-junit.xml')]);
  assert.equal(ok.exitCode, 0, ok.stderr);
  const [report] = JSON.parse(ok.stdout) as { dialect: string; cases: unknown[] }[];
  assert.equal(report?.dialect, 'ginkgo-junit');
  assert.ok((report?.cases.length ?? 0) > 0);
  const dir = mkdtempSync(join(tmpdir(), 'kubeflake-cli-'));
  const broken = join(dir, 'broken.xml');
  await import('node:fs/promises').then((fs) => fs.writeFile(broken, '<!DOCTYPE x [<!ENTITY a "b">]><testsuite/>'));
  const bad = await cli(['parse', broken]);
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stdout, new RegExp(broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
});

test('bad arguments exit 2 with a message that says what to do', async () => {
  const noCommand = await cli(['run', '--runs', '3']);
  assert.equal(noCommand.exitCode, 2);
  assert.match(noCommand.stderr, /no test command given: put it after `--`/);
  const badRuns = await cli(['run', '--runs', 'lots', '--', 'ginkgo']);
  assert.equal(badRuns.exitCode, 2);
  assert.match(badRuns.stderr, /runs must be a whole number/);
  const unknown = await cli(['frobnicate']);
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const noDir = await cli(['report', join(tmpdir(), 'kubeflake-no-such-results')]);
  assert.notEqual(noDir.exitCode, 0);
  assert.match(noDir.stdout + noDir.stderr, /hunt\.json is missing: is .* a kubeflake results directory\?/);
});

test('report renders markdown from a results directory with no runs, and exits 2: no tests is no clean bill', async () => {
  const results = mkdtempSync(join(tmpdir(), 'kubeflake-cli-report-'));
  await import('node:fs/promises').then((fs) => fs.writeFile(join(results, 'hunt.json'), JSON.stringify({ command: ['ginkgo', './...'], framework: 'ginkgo', cluster: 'local', cwd: '.', baseSeed: 1, runs: 0, startedAt: 0, errors: [], ignore: [] })));
  const md = await cli(['report', results, '--format', 'md']);
  assert.match(md.stdout, /<!-- kubeflake:report -->/);
  assert.equal(md.exitCode, 2, 'no runs at all is an error, not a clean bill');
});
