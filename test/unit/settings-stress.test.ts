// The stress input and the inherited GOFLAGS, as Settings carries them to the runner.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSettings } from '../../src/settings.ts';

test('stress: off by default, cpu when asked, anything else named as wrong', () => {
  assert.equal(parseSettings({ command: ['go', 'test', './...'] }, {}).stress, 'off');
  assert.equal(parseSettings({ command: ['go', 'test', './...'], stress: 'cpu' }, {}).stress, 'cpu');
  assert.throws(() => parseSettings({ command: ['go', 'test', './...'], stress: 'memory' }, {}), /stress must be one of off, cpu; got "memory"/);
});

test("the test command's inherited GOFLAGS are kept for the shim to extend", () => {
  assert.equal(parseSettings({ command: ['make', 'test'] }, { GOFLAGS: '-mod=vendor' }).goflags, '-mod=vendor');
  assert.equal(parseSettings({ command: ['make', 'test'] }, {}).goflags, undefined);
});

test('action.yml offers the stress input, off by default', () => {
  const action = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');
  assert.match(action, /\n {2}stress:\n {4}description: off, or cpu .*\n {4}default: 'off'\n/);
});
