import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, parseSettings, splitCommand, SettingsError } from '../../src/settings.ts';

test('splitCommand splits like a shell: quotes, escapes, no expansion', () => {
  assert.deepEqual(splitCommand(`ginkgo --focus='a b' -v "./pkg/..."  x\\ y $HOME`), ['ginkgo', '--focus=a b', '-v', './pkg/...', 'x y', '$HOME']);
  assert.deepEqual(splitCommand(`go test -run "Test\\"Quoted\\"" ''`), ['go', 'test', '-run', 'Test"Quoted"', '']);
  assert.deepEqual(splitCommand('  \n make\ttest \n'), ['make', 'test']);
  assert.throws(() => splitCommand(`ginkgo --focus='open`), /unclosed ' quote/);
});

test('durations accept units and plain seconds, and reject the rest naming the input', () => {
  assert.equal(duration('run-timeout', '90s', 1), 90_000);
  assert.equal(duration('run-timeout', '15m', 1), 900_000);
  assert.equal(duration('run-timeout', '500ms', 1), 500);
  assert.equal(duration('run-timeout', '2', 1), 2_000);
  assert.equal(duration('run-timeout', '', 7), 7);
  assert.throws(() => duration('run-timeout', 'soon', 1), /run-timeout must be a duration/);
});

test('settings: defaults, and each bad input is named with what it accepts', () => {
  const settings = parseSettings({ command: ['ginkgo', './...'] }, {});
  assert.equal(settings.runs, 5);
  assert.equal(settings.cluster, 'auto');
  assert.equal(settings.autoCluster, 'local', 'the CLI makes the local control plane when auto needs a cluster');
  assert.equal(settings.useExistingCluster, false);
  assert.equal(settings.cleanup, 'leaked');
  assert.equal(settings.removeFinalizersAfterMs, undefined, 'finalizers are never removed unless asked');
  assert.equal(settings.dryRun, false);
  assert.throws(() => parseSettings({ command: [] }, {}), /no test command given/);
  assert.throws(() => parseSettings({ command: ['x'], runs: 'many' }, {}), /runs must be a whole number/);
  assert.throws(() => parseSettings({ command: ['x'], cluster: 'minikube' }, {}), /cluster must be one of auto, local, kind, existing; got "minikube"/);
  assert.throws(() => parseSettings({ command: ['x'], cluster: 'existing' }, {}), (error: unknown) => error instanceof SettingsError && /needs a kubeconfig/.test(error.message));
  assert.throws(() => parseSettings({ command: ['x'], 'dry-run': 'maybe' }, {}), /dry-run must be true or false/);
  const withFinalizers = parseSettings({ command: ['x'], 'remove-finalizers': 'true', 'finalizer-grace': '3s' }, {});
  assert.equal(withFinalizers.removeFinalizersAfterMs, 3_000);
});
