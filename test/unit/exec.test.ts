import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandNotFoundError, isAlive, runProcess, startProcess } from '../../src/exec.ts';

test('a timeout kills the whole process group, grandchildren included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-exec-'));
  const pidFile = join(dir, 'pid');
  // The grandchild ignores SIGTERM, so only the SIGKILL escalation can end it.
  const script = `bash -c 'trap "" TERM; echo $$ > ${pidFile}; sleep 60' & wait`;
  const result = await runProcess(['bash', '-c', script], { timeoutMs: 500, killGraceMs: 300 });
  assert.equal(result.timedOut, true);
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(isAlive(grandchild), false, `grandchild ${grandchild} survived the timeout`);
});

test('output reaches the log file and the line callback, exit code is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kf-exec-'));
  const lines: string[] = [];
  const result = await runProcess(['bash', '-c', 'echo one; echo two >&2; printf three; exit 3'], {
    logFile: join(dir, 'log.txt'),
    onLine: (line) => lines.push(line),
    capture: true,
  });
  assert.equal(result.exitCode, 3);
  assert.equal(result.timedOut, false);
  assert.deepEqual(lines.sort(), ['one', 'three', 'two']);
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /one/);
  assert.equal(result.stdout, 'one\nthree');
});

test('a missing command is a CommandNotFoundError naming it', async () => {
  await assert.rejects(runProcess(['kubeflake-no-such-command']), (error: unknown) => {
    assert.ok(error instanceof CommandNotFoundError);
    assert.match(error.message, /kubeflake-no-such-command/);
    return true;
  });
});

test('stop() ends a running process and resolves after it exited', async () => {
  const running = startProcess(['sleep', '30'], { killGraceMs: 200 });
  const pid = running.pid!;
  assert.equal(isAlive(pid), true);
  await running.stop();
  assert.equal(isAlive(pid), false);
  const result = await running.done;
  assert.equal(result.signal, 'SIGTERM');
});

test('importing exec.ts installs no signal handler; stopChildrenOnExit installs them once', async () => {
  // A fresh process: this test file imported exec.ts already.
  const module = JSON.stringify(new URL('../../src/exec.ts', import.meta.url).pathname);
  const script = `
    const exec = await import(${module});
    const counts = () => ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((e) => process.listenerCount(e)).join(',');
    const onImport = counts();
    exec.stopChildrenOnExit();
    exec.stopChildrenOnExit();
    console.log(onImport + ' ' + counts());
  `;
  const result = await runProcess([process.execPath, '--input-type=module', '-e', script], { capture: true });
  assert.equal(result.stdout.trim(), '0,0,0,0 1,1,1,1');
});

test('winding down on SIGTERM: the child is stopped and says it was interrupted; the face finishes its work and exits 143', async () => {
  const module = JSON.stringify(new URL('../../src/exec.ts', import.meta.url).pathname);
  // The face's work: a long child; when it ends, the face writes what it has, then returns.
  const script = `
    const exec = await import(${module});
    exec.stopChildrenOnExit({ windDownMs: 20000 });
    const running = exec.startProcess(['sleep', '30'], { killGraceMs: 200 });
    console.log('started');
    const result = await running.done;
    console.log('child ' + result.signal + ' interrupted=' + result.interrupted + ' face sees ' + exec.interruption());
  `;
  const lines: string[] = [];
  const face = startProcess([process.execPath, '--input-type=module', '-e', script], { onLine: (line) => lines.push(line) });
  while (!lines.includes('started')) await new Promise((resolve) => setTimeout(resolve, 20));
  process.kill(face.pid!, 'SIGTERM');
  const result = await face.done;
  assert.equal(result.exitCode, 143);
  assert.deepEqual(lines, ['started', 'child SIGTERM interrupted=SIGTERM face sees SIGTERM']);
});
