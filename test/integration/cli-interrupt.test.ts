// An interrupted hunt, as a cancelled job or a Ctrl-C does it: `kubeflake run` gets SIGTERM while
// a spec hangs in its first run. The process tree goes, the report of what finished is written,
// the cut run is marked interrupted and no test is judged from it, live and rebuilt alike.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, runProcess, startProcess } from '../../src/exec.ts';
import type { Report } from '../../src/model.ts';
import { fixtures, projectRoot } from '../support/paths.ts';
import { useCluster } from '../support/cluster.ts';

const runner = join(fixtures, 'runner');

test('SIGTERM during the first run: exit 143, one line says so, the report holds the cut run as interrupted and judges nothing', async () => {
  const cluster = await useCluster();
  // Built once outside the timed part: the hunt's first run starts the suite at once.
  await runProcess(['go', 'test', '-count=1', '-run=^$', './hang'], { cwd: runner, capture: true, timeoutMs: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'kf-interrupt-'));
  const results = join(dir, 'results');
  const pidFile = join(dir, 'hang.pid');
  const lines: string[] = [];
  const cli = startProcess(
    [process.execPath, join(projectRoot, 'src', 'cli.ts'), 'run', '--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--envtest', 'off', '--runs', '3', '--results', results, '--', 'go', 'test', '-count=1', './hang'],
    { cwd: runner, env: { ...process.env, KUBEFLAKE_FIXTURE_HANG: '1', KUBEFLAKE_FIXTURE_PIDFILE: pidFile }, onLine: (line) => lines.push(line), timeoutMs: 300_000 },
  );
  try {
    // The spec is hanging once its child's pid is written: the first run is in the middle.
    for (const deadline = Date.now() + 240_000; !existsSync(pidFile); ) {
      assert.ok(Date.now() < deadline, `the hanging spec never started:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    const signalled = Date.now();
    process.kill(cli.pid!, 'SIGTERM');
    const result = await cli.done;
    const output = lines.join('\n');
    assert.equal(result.exitCode, 143, output);
    assert.ok(Date.now() - signalled < 30_000, `took ${Date.now() - signalled} ms after the signal`);
    assert.equal(isAlive(sleeper), false, 'the suite\'s own child went with the tree');
    // Said once as it happens (the report's summary after it repeats it as its headline).
    assert.equal(output.match(/warning: interrupted by SIGTERM/g)?.length, 1, output);
    assert.match(output, /warning: interrupted by SIGTERM during 000 \(kept, marked interrupted, not judged\): the report holds the 0 runs that finished/);
    assert.match(output, /run 1\/3 seed \d+ - interrupted by SIGTERM, not judged/);

    const live = JSON.parse(readFileSync(join(results, 'report.json'), 'utf8')) as Report;
    assert.deepEqual(live.runs.map((run) => [run.id, run.interrupted?.signal]), [['000', 'SIGTERM']]);
    assert.deepEqual(live.tests, [], 'no test is judged from a cut run');
    assert.equal(live.verdict, 'error');
    const meta = JSON.parse(readFileSync(join(results, 'runs', '000', 'meta.json'), 'utf8')) as { interrupted?: string };
    assert.equal(meta.interrupted, 'SIGTERM');

    // Rebuilt from the folder alone: the same, and the hung spec is not called broken.
    const rebuilt = await runProcess([process.execPath, join(projectRoot, 'src', 'cli.ts'), 'report', results, '--format', 'json'], { capture: true });
    const report = JSON.parse(rebuilt.stdout) as Report;
    assert.deepEqual(report.runs.map((run) => [run.id, run.interrupted?.signal]), [['000', 'SIGTERM']]);
    assert.ok(!report.tests.some((t) => t.verdict !== 'stable' && t.verdict !== 'skipped'), JSON.stringify(report.tests));
  } finally {
    await cli.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
