// The watch's pieces on a fake API server: the lag meter's pairing of probes and events, a type's
// watch loop restarting after 410 Gone without losing what was created in the gap, types that
// appear mid-run, the settle wait before stopping, and the injected clock on every timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiError } from '../../src/cluster/kube.ts';
import { followType, LagMeter, NewTypeFinder, newWatchContext, settle, startType, watchCluster } from '../../src/cluster/watch.ts';
import type { TimelineEvent, WatchLagSample } from '../../src/model.ts';
import { FakeCluster, types } from './cluster-fake.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const added = (name: string, uid: string, rv: string) => ({ type: 'ADDED', object: { metadata: { name, namespace: 'd', uid, resourceVersion: rv, creationTimestamp: iso(T0) } } });
const events = (entries: readonly { verb: string }[]) => entries.filter((e): e is TimelineEvent => e.verb !== 'lag');

test('lag meter: a probe answered before its event measures the lag between the answer and the request', () => {
  const m = new LagMeter();
  assert.equal(m.probed('100', 1000, 1004), undefined);
  assert.equal(m.delivered('99', 1005), undefined);
  assert.deepEqual(m.delivered('100', 1030), { at: 1030, verb: 'lag', resourceVersion: '100', minMs: 26, maxMs: 30 });
  // Delivered a moment before the probe's answer came back: the lag was under the round trip.
  m.delivered('120', 2003);
  assert.deepEqual(m.probed('120', 2000, 2005), { at: 2003, verb: 'lag', resourceVersion: '120', minMs: 0, maxMs: 3 });
  // Delivered before the probe was sent: the watch was caught up, the probe measures nothing.
  assert.equal(m.probed('120', 2100, 2104), undefined);
});

test('lag meter: a change is bounded below by the last probe that still saw an older version; probes of unwatched changes expire', () => {
  const m = new LagMeter(1000);
  m.probed('10', 500, 502);
  m.probed('20', 600, 603);
  assert.equal(m.notBefore('15'), 500);
  assert.equal(m.notBefore('25'), 600);
  assert.equal(m.notBefore('5'), undefined);
  assert.equal(m.notBefore('not-a-number'), undefined);
  // The change of '10' was never delivered (a type not watched); after the keep time it is given up.
  m.delivered('30', 2000);
  assert.equal(m.delivered('10', 2001), undefined);
  assert.equal(m.hasDelivered('30'), true);
});

test('a watch that gets 410 Gone relists its type: what was created in the gap is recorded (late), old objects are not, and it resumes from the list', async () => {
  const api = new FakeCluster([types.configmaps]);
  let clock = T0 + 5000;
  const abort = new AbortController();
  const ctx = newWatchContext(api, { signal: abort.signal, now: () => clock });
  ctx.startedAt = T0;
  api.add(types.configmaps, { name: 'seen', namespace: 'd', uid: 'u-seen', creationTimestamp: iso(T0) });
  api.add(types.configmaps, { name: 'gap', namespace: 'd', uid: 'u-gap', creationTimestamp: iso(T0 + 2000) });
  api.add(types.configmaps, { name: 'old', namespace: 'd', uid: 'u-old', creationTimestamp: iso(T0 - 60_000) });
  api.resourceVersion = '77';
  api.watches.push(
    { events: [added('seen', 'u-seen', '5'), { type: 'ERROR', object: { code: 410, message: 'too old resource version' } }] },
    { error: new KubeApiError(410, 'Expired', '/api/v1/configmaps', 'too old resource version') },
    { hold: true },
  );
  const loop = followType(ctx, types.configmaps, '4');
  while (api.watchRequests.length < 3) await new Promise((r) => setTimeout(r, 5));
  clock += 1;
  abort.abort();
  await loop;
  assert.deepEqual(events(ctx.log.entries).map((e) => [e.object.name, e.late ?? false, e.at - T0]), [['seen', false, 5000], ['gap', true, 5000]]);
  // Resumed from the list's resource version each time, never from "now".
  assert.deepEqual(api.watchRequests.map((p) => /resourceVersion=(\d+)/.exec(p)?.[1]), ['4', '77', '77']);
  assert.equal(ctx.problems.filter((p) => /410 Gone\): relisted/.test(p)).length, 2);
});

test('a watch stream that ends is resumed from the last resource version seen; a failing one retries; a type that goes away stops', async () => {
  const api = new FakeCluster([types.widgets]);
  const abort = new AbortController();
  const ctx = newWatchContext(api, { signal: abort.signal, now: () => T0 });
  api.watches.push(
    { events: [added('a', 'u-a', '11'), { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } }] },
    { error: new Error('socket hang up') },
    { error: new KubeApiError(404, 'NotFound', '/apis/example.com/v1/widgets', 'the server could not find the requested resource') },
  );
  ctx.watched.add('widgets.example.com');
  await followType(ctx, types.widgets, '10');
  assert.deepEqual(api.watchRequests.map((p) => /resourceVersion=(\d+)/.exec(p)?.[1]), ['10', '15', '15']);
  assert.equal(ctx.watched.has('widgets.example.com'), false);
  assert.ok(ctx.problems.some((p) => /widgets.example.com failed, retrying: socket hang up/.test(p)), ctx.problems.join('\n'));
  assert.deepEqual(events(ctx.log.entries).map((e) => [e.object.name, e.resourceVersion]), [['a', '11']]);
});

test('a type that appears mid-run is listed (its objects recorded late) and followed; a CRD change makes the finder look every 100 ms for 3 s of the injected clock', async () => {
  const api = new FakeCluster([types.namespaces]);
  let clock = T0;
  const abort = new AbortController();
  const ctx = newWatchContext(api, { signal: abort.signal, now: () => clock });
  const finder = new NewTypeFinder(ctx, (t) => startType(ctx, t, true), 60_000);
  await finder.look();
  api.types.push(types.widgets);
  api.add(types.widgets, { name: 'w', namespace: 'd', uid: 'u-w', creationTimestamp: iso(T0) });
  const looks = () => api.requests.filter((r) => r.path === '/apis').length;
  const before = looks();
  finder.crdChanged();
  await new Promise((r) => setTimeout(r, 350));
  assert.ok(looks() - before >= 2, `looked ${looks() - before} times in 350 ms`);
  assert.ok(ctx.watched.has('widgets.example.com'));
  assert.deepEqual(events(ctx.log.entries).map((e) => [e.object.name, e.late]), [['w', true]]);
  // Past 3 s on the injected clock, the burst ends.
  clock += 3001;
  await new Promise((r) => setTimeout(r, 150));
  const settled = looks();
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(looks(), settled);
  abort.abort();
  await finder.stop();
  await Promise.all(ctx.loops);
});

test('settle waits for the watch to deliver the latest change, no longer than its limit', async () => {
  const api = new FakeCluster([types.namespaces]);
  api.resourceVersion = '500';
  const abort = new AbortController();
  let clock = T0;
  const ctx = newWatchContext(api, { signal: abort.signal, now: () => clock });
  ctx.meter.delivered('500', T0);
  const t = Date.now();
  await settle(ctx, 60_000);
  assert.ok(Date.now() - t < 1000, 'the latest change was already delivered');
  api.resourceVersion = '501';
  setTimeout(() => ctx.meter.delivered('501', (clock += 40)), 40);
  await settle(ctx, 60_000);
  assert.ok(ctx.meter.hasDelivered('501'));
  api.resourceVersion = '502';
  const ticking = setInterval(() => (clock += 100), 10);
  await settle(ctx, 500);
  clearInterval(ticking);
  assert.ok(clock - T0 >= 500, 'gave up after its limit on the injected clock');
});

test('watchCluster: every event and lag sample carries the injected clock and goes to the timeline in order', async () => {
  // The probe asks for the current resource version with a one-namespace list.
  const api = new FakeCluster([types.configmaps, types.namespaces]);
  api.resourceVersion = '42';
  api.watches.push({ path: /configmaps/, events: [added('a', 'u-a', '42')], hold: true });
  let clock = T0;
  const watch = await watchCluster(api, { types: [types.configmaps], now: () => (clock += 1), lagProbeMs: 20, settleMs: 200 });
  await new Promise((r) => setTimeout(r, 100));
  const timeline = await watch.stop();
  const created = events(timeline);
  assert.deepEqual(created.map((e) => e.object.name), ['a']);
  assert.ok(created[0]!.at > T0 && created[0]!.at < T0 + 1000, 'the event carries the injected clock');
  const lag = timeline.filter((e): e is WatchLagSample => e.verb === 'lag');
  assert.ok(lag.length >= 1, 'the probe paired with the event carrying its resource version');
  assert.equal(lag[0]!.resourceVersion, '42');
  assert.ok(lag.every((s) => s.at > T0 && s.at < T0 + 100_000));
  assert.deepEqual(watch.problems, []);
});

test('lag meter: a change seen late is bounded above by a probe answered before it arrived', () => {
  const m = new LagMeter();
  m.probed('50', 100, 110);
  m.probed('60', 120, 130);
  assert.equal(m.notAfter('55'), 130);
  assert.equal(m.notAfter('50'), 110);
  assert.equal(m.notAfter('61'), undefined);
  // Probes answered out of order (several in flight): the earliest answer that saw the change counts.
  m.probed('70', 140, 200);
  m.probed('71', 150, 160);
  assert.equal(m.notAfter('65'), 160);
  assert.equal(m.notBefore('71'), 140);
});
