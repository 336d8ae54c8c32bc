// The runner when things go wrong: a command that is not there, a command that writes no
// report, a hung command tree, a generic command found by glob. meta.json is always written.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun, type RunSpec } from '../../src/runner/execute.ts';
import { isAlive } from '../../src/exec.ts';
import type { RunMeta } from '../../src/model.ts';

const results = mkdtempSync(join(tmpdir(), 'kf-runner-fail-'));
let runs = 0;
after(() => rmSync(results, { recursive: true, force: true }));

async function run(spec: Partial<RunSpec> & Pick<RunSpec, 'command' | 'framework'>): Promise<{ meta: RunMeta; dir: string }> {
  const id = String(runs++).padStart(3, '0');
  const dir = join(results, 'runs', id);
  const meta = await executeRun({ id, seed: 1712, runDir: dir, cwd: results, timeoutMs: 30_000, ...spec });
  const stored = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RunMeta;
  assert.deepEqual(stored, meta, 'meta.json differs from the returned RunMeta');
  return { meta, dir };
}

test('a command that is not found: meta.json names it and says what to do', async () => {
  const { meta, dir } = await run({ command: ['kubeflake-no-such-ginkgo', '-r'], framework: 'generic' });
  assert.equal(meta.exitCode, null);
  assert.equal(meta.timedOut, false);
  assert.match(meta.warnings[0]!, /command not found: kubeflake-no-such-ginkgo .*put it on PATH/);
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /command not found/);
});

test('a working directory that does not exist is named as such, not as a missing command', async () => {
  const { meta } = await run({ command: ['true'], framework: 'generic', cwd: join(results, 'nowhere') });
  assert.match(meta.warnings.join('\n'), /working directory .*nowhere does not exist/);
});

test('a command that writes no report: the warning says where kubeflake looked', async () => {
  const { meta } = await run({ command: ['true'], framework: 'generic' });
  assert.equal(meta.exitCode, 0);
  assert.deepEqual(meta.reports, []);
  assert.match(meta.warnings.join('\n'), /no JUnit report found at .*runs\/\d+\/junit: the generic framework needs report-glob/);
  // A ginkgo-shaped command that ignores the report flags.
  const fake = join(results, 'ginkgo');
  writeFileSync(fake, '#!/bin/sh\necho "a ginkgo that writes nothing: $*"\n', { mode: 0o755 });
  const ginkgo = await run({ command: [fake, './...'], framework: 'ginkgo' });
  assert.match(ginkgo.meta.warnings.join('\n'), /no JUnit report found at .*junit: did the test command accept --junit-report/);
});

test('a hung command tree is killed at the timeout, grandchildren included', async () => {
  const pidFile = join(results, 'sleeper.pid');
  const started = Date.now();
  const { meta } = await run({
    command: ['bash', '-c', `bash -c 'trap "" TERM; echo $$ > ${pidFile}; sleep 60' & wait`],
    framework: 'generic',
    timeoutMs: 1_000,
    killGraceMs: 500,
  });
  assert.ok(Date.now() - started < 5_000);
  assert.equal(meta.timedOut, true);
  assert.match(meta.warnings.join('\n'), /killed after the 1 s run timeout/);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(isAlive(Number(readFileSync(pidFile, 'utf8'))), false);
});

test('generic: KUBEFLAKE_SEED and the extra env reach the command; fresh reports by glob are copied, stale ones ignored', async () => {
  const work = mkdtempSync(join(tmpdir(), 'kf-runner-generic-'));
  writeFileSync(join(work, 'stale.xml'), '<testsuites/>');
  utimesSync(join(work, 'stale.xml'), new Date(2020, 0, 1), new Date(2020, 0, 1));
  const script = 'mkdir -p out && printf "<testsuites><testsuite name=\\"s\\"><testcase name=\\"seed-%s-%s\\"/></testsuite></testsuites>" "$KUBEFLAKE_SEED" "$KUBECONFIG" > out/report.xml';
  const { meta, dir } = await run({ command: ['bash', '-c', script], framework: 'generic', cwd: work, reportGlob: '{out/*.xml,stale.xml}', env: { KUBECONFIG: '/k' } });
  assert.deepEqual(meta.reports, ['junit/report.xml']);
  assert.match(readFileSync(join(dir, 'junit', 'report.xml'), 'utf8'), /seed-1712-\/k/);
  assert.match(meta.warnings.join('\n'), /ignored stale\.xml: it is older than this run/);
  assert.ok(existsSync(join(work, 'out', 'report.xml')), 'the user report was moved, not copied');
});

test('generic cannot run a probe: meta.json says why and nothing is spawned', async () => {
  const { meta, dir } = await run({ command: ['make', 'test'], framework: 'generic', focus: [{ name: 'a' }] });
  assert.equal(meta.exitCode, null);
  assert.match(meta.warnings[0]!, /probes are impossible/);
  assert.deepEqual(readdirSync(dir).sort(), ['junit', 'meta.json']);
});

test('a command killed from outside (OOM killer, cancelled job): the signal is recorded with a warning', async () => {
  const { meta } = await run({ command: ['bash', '-c', 'kill -KILL $$'], framework: 'generic' });
  assert.equal(meta.signal, 'SIGKILL');
  assert.equal(meta.timedOut, false);
  assert.match(meta.warnings.join('\n'), /ended by SIGKILL from outside kubeflake/);
});
