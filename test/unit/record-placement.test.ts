// Placing the test process's requests in the spec running when the API server received them, on
// a real run (test/fixtures/record/envtest: the example's suite in its own envtest, its Ginkgo
// JSON and the instance's audit log): serial specs leave no guess; requests before the first spec
// are the suite setup's, never unknown; overlapping windows make a guess with its candidates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { requestPlacer, suiteSetupId, GAP_MS } from '../../src/record/placement.ts';
import { isMutating, type RecordEntry } from '../../src/record/entry.ts';
import type { RunResult, TestCase } from '../../src/model.ts';
import { fixtures } from '../support/paths.ts';

const suite = 'ModelCache Controller Suite';
const log = await HuntLog.load(join(fixtures, 'record', 'envtest'));
const entry = log.runs[0];
assert.ok(entry, 'the fixture holds one run');
const run = entry.run;
const requests: RecordEntry[] = Object.values(entry.record?.envtest ?? {})[0]?.entries.filter((e) => e.actor === 'test') ?? [];
const specs = run.cases.filter((c) => c.node !== 'suite-setup' && c.startedAt !== undefined).sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
const firstSpec = specs[0] as TestCase;
const beforeSuite = `${suite} :: [BeforeSuite]`;

test('serial specs: every request of the test process is placed in one window, none guessed', () => {
  const placer = requestPlacer(run);
  assert.ok(placer && requests.length > 300);
  assert.equal(placer.parallel, false);
  assert.equal(placer.exact, true, 'Ginkgo JSON gives every spec its start and end');
  const placements = requests.map((e) => placer.entry(e));
  assert.ok(placements.every((p) => p.certain && !p.candidates), 'no guess among serial specs');
  // Each placement's window really holds the request's receive time.
  const byId = new Map(run.cases.map((c) => [c.id, c]));
  requests.forEach((e, i) => {
    const c = byId.get((placements[i] as { test: string }).test);
    assert.ok(c && (c.startedAt as number) <= e.requestReceivedTimestamp && e.requestReceivedTimestamp <= (c.endedAt as number), `${e.verb} ${e.object?.name ?? ''} lies in ${c?.id}`);
  });
});

test('the requests before the first spec are the suite setup\'s: its [BeforeSuite] node, which installs the CRD', () => {
  const placer = requestPlacer(run);
  const early = requests.filter((e) => e.requestReceivedTimestamp < (firstSpec.startedAt as number));
  assert.ok(early.some((e) => e.verb === 'create' && e.object?.resource === 'customresourcedefinitions'), 'envtest installs the CRD in BeforeSuite');
  assert.deepEqual([...new Set(early.map((e) => placer?.entry(e).test))], [beforeSuite]);
  assert.deepEqual([...new Set(early.map((e) => placer?.entry(e).basis))], ['setup']);
});

test('without a setup node in the report, those requests go to the run\'s "suite setup", never unknown', () => {
  const bare: RunResult = { ...run, cases: run.cases.filter((c) => c.node !== 'suite-setup') };
  const placer = requestPlacer(bare);
  const early = requests.filter((e) => e.requestReceivedTimestamp < (firstSpec.startedAt as number));
  assert.ok(early.length > 10);
  assert.equal(suiteSetupId(bare), `${suite} :: suite setup`);
  assert.deepEqual([...new Set(early.map((e) => placer?.entry(e).test))], [`${suite} :: suite setup`]);
});

test('a parent window around the specs (a `Test_` function under go test -json) is the setup, not a parallel spec', () => {
  const parent: TestCase = { id: 'TestModelCache', name: 'TestModelCache', suite: '', status: 'passed', durationMs: 1, startedAt: (run.startedAt as number), endedAt: run.endedAt };
  const nested: RunResult = { ...run, cases: [parent, ...run.cases.filter((c) => c.node !== 'suite-setup')] };
  const placer = requestPlacer(nested);
  assert.equal(placer?.parallel, false);
  const early = requests.find((e) => e.requestReceivedTimestamp < (firstSpec.startedAt as number)) as RecordEntry;
  assert.deepEqual(placer?.entry(early), { test: 'TestModelCache', basis: 'setup', certain: true });
  const inSpec = requests.find((e) => e.requestReceivedTimestamp > (firstSpec.startedAt as number) && e.requestReceivedTimestamp < (firstSpec.endedAt as number)) as RecordEntry;
  assert.equal(placer?.entry(inSpec).test, firstSpec.id);
});

test('parallel specs (overlapping windows): the latest to start is the guess, every spec running then a candidate', () => {
  const [a, b] = specs as [TestCase, TestCase];
  // b starts while a runs: as if the two ran on two Ginkgo processes.
  const overlapped: RunResult = { ...run, cases: run.cases.map((c) => (c.id === b.id ? { ...c, startedAt: (a.startedAt as number) + 1 } : c)) };
  const placer = requestPlacer(overlapped);
  assert.equal(placer?.parallel, true);
  const inA = requests.find((e) => isMutating(e) && e.requestReceivedTimestamp > (a.startedAt as number) + 1 && e.requestReceivedTimestamp < (a.endedAt as number)) as RecordEntry;
  assert.ok(inA, 'the first spec sent a mutating request');
  assert.deepEqual(placer?.entry(inA), { test: b.id, basis: 'parallel', certain: false, candidates: [b.id, a.id] });
  // A long spec holding a short one entirely is still a parallel spec, not a parent test.
  const held: RunResult = { ...run, cases: run.cases.map((c) => (c.id === b.id ? { ...c, startedAt: (a.startedAt as number) + 1, endedAt: (a.endedAt as number) - 1 } : c)) };
  const heldPlacer = requestPlacer(held);
  assert.equal(heldPlacer?.parallel, true);
  assert.equal(heldPlacer?.entry(inA).basis, 'parallel');
});

test('a request just after a spec ended (its in-process manager still at work) is that spec\'s, approximate; long after the last, the teardown\'s', () => {
  const placer = requestPlacer(run);
  const last = specs.at(-1) as TestCase;
  const serial: RunResult = { ...run, cases: run.cases.filter((c) => c.id !== `${suite} :: [AfterSuite]`) };
  const noTeardown = requestPlacer(serial);
  assert.deepEqual(noTeardown?.at((last.endedAt as number) + 5), { test: last.id, basis: 'gap', certain: false });
  assert.deepEqual(noTeardown?.at((last.endedAt as number) + GAP_MS + 5), { test: `${suite} :: suite setup`, basis: 'setup', certain: false });
  assert.equal(placer?.at((last.endedAt as number) + GAP_MS + 5).test, `${suite} :: [AfterSuite]`, 'the AfterSuite node, where the report has it');
});
