// The hunt log and the report built from it: one owner for the results directory, merges that
// keep every reference pointing at a run, and a second hunt that never mixes with the first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleanupReport, LeakReport, RunResult } from '../../src/model.ts';
import { HuntLog, type HuntData, type HuntRecord } from '../../src/hunt-log.ts';
import { buildReport, mergeRuns } from '../../src/build-report.ts';

const record: HuntRecord = {
  command: ['ginkgo', './...'], framework: 'ginkgo', cluster: 'local', cwd: '/repo/sub', root: '/repo',
  baseSeed: 1, runs: 1, options: { maxProbes: 7 }, startedAt: 0, errors: [], ignore: [],
};

function run(id: string, failed = false): RunResult {
  return {
    id, seed: 5, probe: false, command: ['ginkgo'], exitCode: failed ? 1 : 0, timedOut: false, startedAt: 0, endedAt: 1, durationMs: 1,
    orderSource: 'ginkgo-json', order: ['S :: a'], reports: ['ginkgo.json'], warnings: [],
    cases: [{ id: 'S :: a', name: 'a', suite: 'S', file: '/repo/sub/a_test.go', line: 3, status: failed ? 'failed' : 'passed', durationMs: 1 }],
  };
}

function leak(runId: string): LeakReport {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'x', uid: `u-${runId}`, terminating: false, finalizers: [], createdBy: 'S :: a', runs: [runId] };
}

function cleanup(runId: string, errors?: string[]): CleanupReport {
  return { dryRun: false, deleted: [{ object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'x' }, run: runId }], finalizersRemoved: [], left: [], ...(errors ? { errors } : {}) };
}

function data(dir: string, errors: string[] = []): HuntData {
  return { dir, record, errors, runs: [{ run: run('000'), leaks: [leak('000')], leftover: ['u-000'], observed: true, timeline: [], cleanup: cleanup('000', errors.length ? ['API server gone'] : undefined) }] };
}

test('merging two results directories whose run ids collide renames the runs everywhere they are referenced', () => {
  const merged = mergeRuns([data('/tmp/shard-a'), data('/tmp/shard-b')]);
  assert.deepEqual(merged.map((entry) => entry.run.id), ['shard-a/000', 'shard-b/000']);
  const report = buildReport([data('/tmp/shard-a'), data('/tmp/shard-b')]);
  const runIds = new Set(report.runs.map((r) => r.id));
  for (const l of report.leaks) for (const r of l.runs) assert.ok(runIds.has(r), `leak names run ${r}, which the report does not have`);
  for (const act of report.cleanup.deleted) assert.ok(runIds.has(act.run), `cleanup names run ${act.run}`);
  // Two folders with the same name still get distinct prefixes.
  assert.deepEqual(mergeRuns([data('/a/results'), data('/b/results')]).map((entry) => entry.run.id), ['results/000', 'results-2/000']);
});

test('directories whose runs do not collide (shards of one hunt) keep their run ids', () => {
  const other: HuntData = { ...data('/tmp/b'), runs: [{ ...data('/tmp/b').runs[0]!, run: run('001') }] };
  assert.deepEqual(mergeRuns([data('/tmp/a'), other]).map((entry) => entry.run.id), ['000', '001']);
});

test('cleanup errors of every run reach report.json', () => {
  const report = buildReport(data('/tmp/r', ['x']));
  assert.deepEqual(report.cleanup.errors, ['API server gone']);
});

test('report paths are relative to the repository root, never the machine\'s absolute ones', () => {
  const report = buildReport(data('/tmp/r'));
  assert.equal(report.tests[0]?.file, 'sub/a_test.go');
});

test('a second hunt into a used folder moves the first aside, names it, and the new folder holds only the new hunt', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'kubeflake-huntlog-'));
  const dir = join(parent, 'results');
  mkdirSync(join(dir, 'runs', '000'), { recursive: true });
  writeFileSync(join(dir, 'hunt.json'), JSON.stringify({ ...record, command: ['old'] }));
  const log = await HuntLog.start(dir, { ...record, startedAt: Date.UTC(2026, 10, 26, 4, 15, 30) });
  assert.equal(log.record.movedAside, join(parent, 'results.previous-2026-11-26T04-15-30Z'));
  assert.ok(existsSync(join(log.record.movedAside!, 'runs', '000')), 'the first hunt is kept whole');
  assert.deepEqual(JSON.parse(readFileSync(join(log.record.movedAside!, 'hunt.json'), 'utf8')).command, ['old']);
  assert.ok(!existsSync(join(dir, 'runs', '000')), 'no old run left to mix with the new ones');
  const saved = JSON.parse(readFileSync(join(dir, 'hunt.json'), 'utf8')) as HuntRecord;
  assert.equal(saved.movedAside, log.record.movedAside);
  assert.deepEqual(saved.options, { maxProbes: 7 }, 'hunt.json keeps the options the hunt ran under');
  // A fresh folder moves nothing.
  const fresh = await HuntLog.start(join(parent, 'fresh'), record);
  assert.equal(fresh.record.movedAside, undefined);
});

test('a results directory loads back into the same log data the hunt wrote', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kubeflake-huntlog-')), 'results');
  const log = await HuntLog.start(dir, record);
  await log.setBaseline({ takenAt: 0, server: 's', objects: [], errors: [], complete: true });
  await log.fail('probes impossible');
  await log.finish(9);
  const loaded = await HuntLog.load(dir);
  assert.deepEqual(loaded.record, { ...record, errors: ['probes impossible'], endedAt: 9 });
  assert.deepEqual(loaded.errors, ['probes impossible']);
  assert.deepEqual(loaded.baseline?.server, 's');
  assert.deepEqual(buildReport(loaded, new Date(0)), buildReport(log, new Date(0)));
});
