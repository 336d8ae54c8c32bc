// The record's parser on a real audit log (test/fixtures/record/, README there): every event
// read with its server times to the microsecond, who sent it, what a delete did; a bad line and a
// cut last line counted and named, never fatal; the same entries however the text is chunked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { actorOf, serverTime, type RecordEntry } from '../../src/record/entry.ts';
import { parseRecord, RecordParser } from '../../src/record/parse.ts';
import { readRecord, readRecordIn, readRunRecord } from '../../src/record/read.ts';
import { fixtures } from '../support/paths.ts';

const runFolder = join(fixtures, 'record', 'envtest', 'runs', '000');
const instanceId = readdirSync(join(runFolder, 'envtest')).find((name) => !name.endsWith('.json')) as string;
const recordFile = join(runFolder, 'envtest', instanceId, 'audit.jsonl');
const text = readFileSync(recordFile, 'utf8');
const lines = text.split('\n').filter((line) => line.trim());

test('every line of a real audit log is one entry, none skipped, in the order the server wrote them', () => {
  const record = parseRecord(text);
  assert.equal(record.lines, lines.length);
  assert.equal(record.entries.length, lines.length);
  assert.deepEqual([record.skipped, record.cut, record.problems], [0, false, []]);
  assert.deepEqual(record.entries.map((e) => e.auditID), lines.map((line) => (JSON.parse(line) as { auditID: string }).auditID));
});

test('server times keep their microseconds: epoch ms with the microseconds as the fraction', () => {
  assert.equal(serverTime('2026-12-07T05:51:13.373833Z'), Date.parse('2026-12-07T05:51:13Z') + 373.833);
  assert.equal(serverTime('2026-12-07T05:51:13Z'), Date.parse('2026-12-07T05:51:13Z'));
  assert.ok(Number.isNaN(serverTime('yesterday')));
  const first = JSON.parse(lines[0] as string) as { requestReceivedTimestamp: string; stageTimestamp: string };
  const entry = parseRecord(lines[0] as string).entries[0] as RecordEntry;
  const micros = (t: string) => Number(/\.(\d{6})Z$/.exec(t)?.[1]);
  assert.equal(Math.round((entry.requestReceivedTimestamp % 1000) * 1000), micros(first.requestReceivedTimestamp));
  assert.ok(entry.stageTimestamp >= entry.requestReceivedTimestamp);
});

test('who sent each request: the test binary, the API server itself, kubeflake, the cluster\'s controllers', () => {
  const entries = parseRecord(text).entries;
  const agents = new Map(entries.map((e) => [e.actor, e.userAgent]));
  assert.match(agents.get('test') ?? '', /^controller\.test\//, 'the suite\'s binary is controller.test: its specs and its in-process manager');
  assert.match(agents.get('apiserver') ?? '', /^kube-apiserver\//);
  assert.ok(entries.filter((e) => e.actor === 'test').every((e) => e.user === 'admin'), 'envtest\'s admin user');
  assert.equal(actorOf('kubeflake/0.1.0 (linux/amd64)', 'kubeflake'), 'kubeflake');
  assert.equal(actorOf('kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:namespace-controller', 'system:serviceaccount:kube-system:namespace-controller'), 'controller');
  assert.equal(actorOf('', 'system:kube-controller-manager'), 'controller');
  assert.equal(actorOf('kubectl/v1.36.0 (linux/amd64)', 'kubernetes-admin'), 'other');
});

test('objects as the record names them: a generateName create names none, later requests name it; a failed request keeps its code, reason and message', () => {
  const entries = parseRecord(text).entries;
  const probeCreate = entries.find((e) => e.verb === 'create' && e.object?.resource === 'modelcaches' && e.actor === 'test');
  assert.deepEqual(probeCreate?.object, { apiGroup: 'cache.kubeflake.dev', apiVersion: 'v1alpha1', resource: 'modelcaches' }, 'the suite\'s first cache has a generated name: its create names nothing');
  assert.equal(probeCreate?.code, 201);
  const invalid = entries.find((e) => e.verb === 'create' && e.code === 422 && e.object?.name === 'standby');
  assert.equal(invalid?.reason, 'Invalid');
  assert.match(invalid?.message ?? '', /spec\.shards/);
  const status = entries.find((e) => e.object?.subresource === 'status');
  assert.equal(status?.verb, 'patch');
});

test('a delete says whether the object went at once (a Status with its uid) or stayed (a finalizer held it)', () => {
  const entries = parseRecord(text).entries;
  const deletes = entries.filter((e) => e.verb === 'delete' && e.code === 200);
  const heldCache = deletes.find((e) => e.object?.resource === 'modelcaches' && e.object.name?.startsWith('suite-probe-'));
  assert.equal(heldCache?.deleted, 'stayed', 'the drain finalizer keeps the cache terminating');
  const role = deletes.find((e) => e.object?.resource === 'clusterroles');
  assert.equal(role?.deleted, 'gone');
  const after = JSON.parse(readFileSync(join(runFolder, 'envtest', instanceId, 'timeline.jsonl'), 'utf8').split('\n').find((line) => line.includes(`"name":"${role?.object?.name}"`)) ?? '{}') as { object?: { uid: string } };
  assert.equal(role?.responseUid, after.object?.uid, 'the Status names the uid of what it removed');
  assert.ok(deletes.filter((e) => e.object?.resource === 'namespaces').every((e) => e.deleted === 'stayed'), 'envtest never finishes deleting a namespace');
  assert.ok(entries.filter((e) => e.verb === 'delete' && e.code === 404).every((e) => e.deleted === undefined), 'a refused delete did nothing');
});

test('a bad line and a cut last line are counted and named, the rest read', () => {
  const middle = Math.floor(lines.length / 2);
  const last = lines.at(-1) as string;
  const damaged = [...lines.slice(0, middle), 'not json at all', ...lines.slice(middle, -1), last.slice(0, Math.floor(last.length / 2))].join('\n');
  const record = parseRecord(damaged, { source: 'runs/000/audit.jsonl' });
  assert.equal(record.entries.length, lines.length - 1);
  assert.equal(record.skipped, 1);
  assert.equal(record.cut, true);
  assert.deepEqual(record.problems, [
    `runs/000/audit.jsonl: line ${middle + 1} skipped: not JSON`,
    `runs/000/audit.jsonl: line ${lines.length + 1} is cut short (the file ends mid-event: the run was killed or the server was still writing)`,
  ]);
  const other = parseRecord('{"kind":"Status","apiVersion":"v1"}\n' + lines[0] + '\n');
  assert.deepEqual([other.entries.length, other.skipped, other.cut], [1, 1, false]);
  assert.match(other.problems[0] ?? '', /line 1 skipped: not an audit event \(kind "Status"/);
});

test('streaming: the same entries however the text is cut into chunks, a last line without newline read', () => {
  const whole = parseRecord(text).entries;
  for (const size of [1, 7, 333, 65536]) {
    const parser = new RecordParser();
    for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
    const record = parser.end();
    assert.equal(record.entries.length, whole.length, `chunks of ${size}`);
    assert.deepEqual(record.entries.at(-1), whole.at(-1));
  }
  assert.equal(parseRecord(text.trimEnd()).entries.length, whole.length, 'no final newline: the last event is whole, not cut');
});

test('a keep filter holds only what a reader needs and counts the rest', () => {
  const record = parseRecord(text, { keep: (e) => e.actor === 'test' });
  assert.ok(record.entries.length > 0 && record.entries.every((e) => e.actor === 'test'));
  assert.equal(record.entries.length + record.dropped, lines.length);
});

test('reading from disk: a run folder\'s records, none where no control plane kept one', async () => {
  const fromDisk = await readRecord(recordFile);
  assert.equal(fromDisk?.entries.length, lines.length);
  assert.equal(await readRecordIn(runFolder), undefined, 'this run used envtest only: no cluster record');
  const run = await readRunRecord(runFolder, [instanceId]);
  assert.equal(run?.cluster, undefined);
  assert.equal(run?.envtest[instanceId]?.entries.length, lines.length);
  assert.equal(await readRunRecord(runFolder, []), undefined);
});
