// Which control plane a hunt provides: kubeflake never changes how a suite chooses its own
// (USE_EXISTING_CLUSTER is the user's, or set by the one switch), makes a cluster for auto only
// in the existing-cluster mode, and lets a provided cluster go when the first run shows no test
// uses it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existingClusterMode, parseSettings, SettingsError } from '../../src/settings.ts';
import { chooseCluster, dockerOnPath, idleClusterAfterFirstRun } from '../../src/cluster/provision.ts';
import type { PackageControlPlane } from '../../src/model.ts';

test('settings: no switch, no variable: the suite is left to choose (nothing set), cluster auto', () => {
  const settings = parseSettings({ command: ['go', 'test', './...'] }, {});
  assert.equal(settings.cluster, 'auto');
  assert.equal(settings.useExistingCluster, false);
  assert.deepEqual(settings.testEnv, {}, 'USE_EXISTING_CLUSTER is not set for the suite');
});

test('settings: --use-existing-cluster is the one switch: it sets USE_EXISTING_CLUSTER=true for the suite', () => {
  const settings = parseSettings({ command: ['go', 'test', './...'], 'use-existing-cluster': true }, {});
  assert.equal(settings.useExistingCluster, true);
  assert.deepEqual(settings.testEnv, { USE_EXISTING_CLUSTER: 'true' });
  assert.equal(parseSettings({ command: ['x'], 'use-existing-cluster': 'false' }, {}).useExistingCluster, false);
  assert.throws(() => parseSettings({ command: ['x'], 'use-existing-cluster': 'sometimes' }, {}), /use-existing-cluster must be true or false; got "sometimes"/);
});

test('settings: a USE_EXISTING_CLUSTER the user exported is kept as it is, and read as envtest reads it', () => {
  const off = parseSettings({ command: ['x'] }, { USE_EXISTING_CLUSTER: 'false' });
  assert.equal(off.useExistingCluster, false);
  assert.deepEqual(off.testEnv, {}, 'kubeflake sets nothing: the exported false reaches the suite unchanged');
  const on = parseSettings({ command: ['x'] }, { USE_EXISTING_CLUSTER: 'True' });
  assert.equal(on.useExistingCluster, true, 'an exported true asks for the existing-cluster mode (so auto provides a cluster)');
  assert.deepEqual(on.testEnv, {}, 'and is not rewritten');
  assert.deepEqual(existingClusterMode(true, '1'), { on: true, env: {} });
  assert.deepEqual(existingClusterMode(undefined, 'yes'), { on: false, env: {} }, 'Go\'s ParseBool does not read "yes" as true: neither do we');
  assert.throws(() => parseSettings({ command: ['x'], 'use-existing-cluster': true }, { USE_EXISTING_CLUSTER: 'false' }),
    (error: unknown) => error instanceof SettingsError && /exports USE_EXISTING_CLUSTER=false, which envtest reads as false: unset the variable/.test(error.message));
});

test('chooseCluster: auto makes a cluster only in the existing-cluster mode; kind only where Docker is', () => {
  const base = { requested: 'auto' as const, useExistingCluster: false, autoCluster: 'local' as const, docker: true };
  const none = chooseCluster(base);
  assert.equal(none.cluster, undefined);
  assert.match(none.why, /no cluster; each suite chooses its control plane as in its repository/);
  assert.equal(chooseCluster({ ...base, autoCluster: 'kind' }).cluster, undefined, 'the action makes no kind cluster an envtest suite never uses');
  assert.equal(chooseCluster({ ...base, useExistingCluster: true }).cluster, 'local', 'the CLI: the local control plane');
  assert.equal(chooseCluster({ ...base, useExistingCluster: true, autoCluster: 'kind' }).cluster, 'kind', 'the action with Docker: kind');
  const noDocker = chooseCluster({ ...base, useExistingCluster: true, autoCluster: 'kind', docker: false });
  assert.equal(noDocker.cluster, 'local');
  assert.match(noDocker.why, /no Docker here for kind/);
  for (const requested of ['local', 'kind', 'existing'] as const) {
    assert.equal(chooseCluster({ ...base, requested }).cluster, requested, `cluster: ${requested} asked by name is provided`);
  }
});

test('dockerOnPath finds an executable docker on the PATH only', () => {
  const withDocker = mkdtempSync(join(tmpdir(), 'kf-docker-'));
  const withoutDocker = mkdtempSync(join(tmpdir(), 'kf-nodocker-'));
  assert.equal(dockerOnPath(`${withoutDocker}${delimiter}${withDocker}`), false);
  writeFileSync(join(withDocker, 'docker'), '#!/bin/sh\n');
  assert.equal(dockerOnPath(`${withoutDocker}${delimiter}${withDocker}`), false, 'not executable: not Docker');
  chmodSync(join(withDocker, 'docker'), 0o755);
  assert.equal(dockerOnPath(`${withoutDocker}${delimiter}${withDocker}`), true);
  assert.equal(dockerOnPath(undefined), false);
});

const plane = (name: string, mode: PackageControlPlane['mode']): PackageControlPlane => ({ package: name, mode, runs: ['001'], instances: mode === 'envtest' ? 1 : 0 });

test('idleClusterAfterFirstRun: let go when every package started its own envtest, and say so once', () => {
  const idle = idleClusterAfterFirstRun({ cluster: 'local', run: '001', packages: [plane('./api', 'envtest'), plane('./internal/controller', 'envtest')] });
  assert.equal(idle.release, true);
  assert.match(idle.message ?? '', /^001: every package started its own envtest \(\.\/api, \.\/internal\/controller\): no test uses the local cluster, so kubeflake stops it now/);
  const existing = idleClusterAfterFirstRun({ cluster: 'existing', run: '001', packages: [plane('.', 'envtest')] });
  assert.match(existing.message ?? '', /kubeflake stops watching, snapshotting and cleaning it/, 'a cluster kubeflake did not make is left running');
});

test('idleClusterAfterFirstRun: keep the cluster when any package may have used it, or the run showed no package', () => {
  assert.deepEqual(idleClusterAfterFirstRun({ cluster: 'kind', run: '001', packages: [plane('./a', 'envtest'), plane('./b', 'cluster')] }), { release: false });
  assert.deepEqual(idleClusterAfterFirstRun({ cluster: 'local', run: '001', packages: [] }), { release: false }, 'a run that ran no test tells nothing');
});
