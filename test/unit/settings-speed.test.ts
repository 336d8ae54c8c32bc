// The speed inputs as Settings carries them to the pipeline: parallel, probe-time, reuse-binaries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../src/settings.ts';

const command = ['go', 'test', './...'];

test('parallel: auto by default, a number when given, anything else named as wrong', () => {
  assert.equal(parseSettings({ command }, {}).parallel, 'auto');
  assert.equal(parseSettings({ command, parallel: 'auto' }, {}).parallel, 'auto');
  assert.equal(parseSettings({ command, parallel: '3' }, {}).parallel, 3);
  assert.throws(() => parseSettings({ command, parallel: '0' }, {}), /parallel must be a whole number from 1 to 64; got "0"/);
  assert.throws(() => parseSettings({ command, parallel: 'many' }, {}), /parallel must be a whole number/);
});

test('probe-time: unset by default (only max-probes bounds probing), a duration when given', () => {
  assert.equal(parseSettings({ command }, {}).probeTimeMs, undefined);
  assert.equal(parseSettings({ command, 'probe-time': '30m' }, {}).probeTimeMs, 30 * 60_000);
  assert.equal(parseSettings({ command, 'probe-time': '90' }, {}).probeTimeMs, 90_000);
  assert.throws(() => parseSettings({ command, 'probe-time': 'soon' }, {}), /probe-time must be a duration like 90s, 15m or 1h; got "soon"/);
});

test('reuse-binaries: on by default, off when asked', () => {
  assert.equal(parseSettings({ command }, {}).reuseBinaries, true);
  assert.equal(parseSettings({ command, 'reuse-binaries': 'false' }, {}).reuseBinaries, false);
  assert.equal(parseSettings({ command, 'reuse-binaries': 'true' }, {}).reuseBinaries, true);
  assert.throws(() => parseSettings({ command, 'reuse-binaries': 'sometimes' }, {}), /reuse-binaries must be true or false/);
});
