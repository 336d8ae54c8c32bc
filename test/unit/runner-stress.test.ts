// The stress option: what it means per machine size, and a load that really runs and always ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCpuLoad, stressEnv, stressPlan, stressedReproduce } from '../../src/runner/stress.ts';

test('stress cpu: tests on one core, every other core busy, at most four threads; off changes nothing', () => {
  assert.deepEqual(stressPlan('off', 8), { stress: 'off', loadThreads: 0 });
  assert.deepEqual(stressPlan('cpu', 1), { stress: 'cpu', gomaxprocs: 1, loadThreads: 1 });
  assert.deepEqual(stressPlan('cpu', 2), { stress: 'cpu', gomaxprocs: 1, loadThreads: 1 });
  assert.deepEqual(stressPlan('cpu', 4), { stress: 'cpu', gomaxprocs: 1, loadThreads: 3 });
  assert.deepEqual(stressPlan('cpu', 64), { stress: 'cpu', gomaxprocs: 1, loadThreads: 4 });
  assert.deepEqual(stressEnv(stressPlan('cpu', 2)), { GOMAXPROCS: '1' });
  assert.deepEqual(stressEnv(stressPlan('off', 2)), {});
});

test('the CPU load burns CPU while it runs and ends when stopped', async () => {
  const load = startCpuLoad(1, 60_000);
  const before = process.cpuUsage();
  // Poll rather than sleep a fixed time: on a loaded machine the thread may get little CPU at first.
  let used = 0;
  for (let i = 0; i < 100 && used < 50_000; i++) {
    await new Promise((wait) => setTimeout(wait, 50));
    used = process.cpuUsage(before).user;
  }
  assert.ok(used >= 50_000, `the busy thread used only ${used} µs of CPU`);
  await load.stop();
  await load.done;
});

test('the CPU load ends at its deadline even if nobody stops it', async () => {
  const load = startCpuLoad(2, 100);
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error('the load was still running 30 s after its 100 ms deadline')), 30_000)));
  await Promise.race([load.done, stuck]);
  clearTimeout(timer);
});

test('a reproduce line found under stress carries GOMAXPROCS and says what the line cannot', () => {
  assert.equal(
    stressedReproduce("go test -shuffle=5 '-run=^(TestA)$' ./pkg", 'cpu'),
    "GOMAXPROCS=1 go test -shuffle=5 '-run=^(TestA)$' ./pkg  # found under stress cpu: keep the other cores busy, and it may take several tries",
  );
  assert.equal(stressedReproduce('go test ./pkg', 'off'), 'go test ./pkg');
});
