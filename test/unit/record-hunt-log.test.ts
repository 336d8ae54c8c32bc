// The record in the hunt log: `HuntLog.load` reads each run's records back (the cluster's and each
// envtest instance's), a damaged record costs a warning and its bad lines, never the run; a run
// without a record (an existing cluster) keeps the watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuntLog } from '../../src/hunt-log.ts';
import { fixtures } from '../support/paths.ts';

function copyOf(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kf-record-log-')), name);
  cpSync(join(fixtures, 'record', name), dir, { recursive: true });
  return dir;
}

test('a loaded run holds its records: the cluster\'s for a provisioned cluster, each instance\'s for envtest', async () => {
  const cluster = await HuntLog.load(join(fixtures, 'record', 'cluster'));
  assert.ok((cluster.runs[0]?.record?.cluster?.entries.length ?? 0) > 100);
  assert.deepEqual(Object.keys(cluster.runs[0]?.record?.envtest ?? {}), []);
  const envtest = await HuntLog.load(join(fixtures, 'record', 'envtest'));
  const instances = Object.keys(envtest.runs[0]?.record?.envtest ?? {});
  assert.deepEqual(instances, (envtest.runs[0]?.envtest ?? []).map((instance) => instance.id));
  assert.equal(envtest.runs[0]?.record?.cluster, undefined);
});

test('a record cut short (the run was killed mid-write) is read up to the cut and said once in the run\'s warnings', async () => {
  const dir = copyOf('cluster');
  try {
    const file = join(dir, 'runs', '000', 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    appendFileSync(file, 'garbage\n' + (lines[0] ?? '').slice(0, 80));
    const log = await HuntLog.load(dir);
    const entry = log.runs[0];
    assert.equal(entry?.record?.cluster?.entries.length, lines.length);
    const warnings = entry?.run.warnings.filter((w) => w.includes('the API server\'s record')) ?? [];
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^runs\/000: the API server's record: 1 unreadable line\(s\) skipped, its last line was cut short \(.*line \d+ skipped: not JSON\)$/);
    assert.ok(entry?.leaks.every((l) => l.evidence === 'audit'), 'what was read still decides');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a record (an existing cluster keeps none) the same run is attributed by the watch', async () => {
  const dir = copyOf('cluster');
  try {
    rmSync(join(dir, 'runs', '000', 'audit.jsonl'));
    const entry = (await HuntLog.load(dir)).runs[0];
    assert.equal(entry?.record, undefined);
    assert.ok(entry && entry.leaks.length > 0 && entry.leaks.every((l) => l.evidence !== 'audit' && l.recordCreate === undefined));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
