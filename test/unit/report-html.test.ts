import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { renderHtml } from '../../src/report/html.ts';
import { escapeHtml } from '../../src/report/text.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { HOSTILE, hostileReport } from '../fixtures/reports/hostile.ts';
import type { Report } from '../../src/model.ts';

const findings = loadReport('findings');
const clean = loadReport('clean');
const hostile = hostileReport();

const OUR_TAGS = new Set('html head meta title style script body main header nav section div span h1 h2 h3 p code pre strong b table thead tbody tr th td a br ul ol li article dl dt dd footer button details summary'.split(' '));

const OUR_ATTRIBUTES = new Set(['class', 'title', 'id', 'href', 'lang', 'charset', 'name', 'content', 'http-equiv', 'colspan',
  'data-label', 'data-copy', 'type', 'tabindex', 'role', 'aria-label']);

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Every tag is one of ours with quoted attributes we use, so no text became markup; nothing loads
 * from outside; the one style and the one script are the ones the Content-Security-Policy pins.
 */
function assertSelfContainedAndSafe(html: string): void {
  const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  assert.ok(!/url\(|@import|[<>]/.test(css), 'CSS loads something or holds markup');
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 1, 'exactly one script, the copy buttons');
  assert.ok(!/fetch|XMLHttpRequest|import\(|src|innerHTML|eval/.test(scripts[0]!), 'the script loads or injects nothing');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none'; /);
  assert.ok(csp.includes(`style-src ${sha256(css)};`) && csp.includes(`script-src ${sha256(scripts[0]!)};`), 'the policy pins the page\'s own style and script');
  let rest = html.replace(css, '').replace(scripts[0]!, '').replace(/^<!doctype html>/, '');
  rest = rest.replace(/<([a-zA-Z][a-zA-Z0-9]*)((?:\s[a-z-]+="[^"<>]*")*)>|<\/([a-zA-Z][a-zA-Z0-9]*)>/g, (_, open: string, attrs: string, close: string) => {
    const tag = (open ?? close).toLowerCase();
    assert.ok(OUR_TAGS.has(tag), `unexpected tag <${tag}>`);
    for (const a of (attrs ?? '').matchAll(/\s([a-z-]+)="([^"]*)"/g)) {
      assert.ok(OUR_ATTRIBUTES.has(a[1]!), `unexpected attribute ${a[1]} on <${tag}>`);
      if (a[1] === 'href') assert.match(a[2]!, /^#/, 'a link to something outside the page');
    }
    return '';
  });
  assert.ok(!/[<>]/.test(rest), `markup outside our tags: ${rest.slice(Math.max(0, rest.search(/[<>]/) - 80), rest.search(/[<>]/) + 80)}`);
}

/** The matrix row of one test: its cells' classes and texts, in column order. */
function matrixRow(html: string, name: string): { cls: string; text: string }[] {
  const matrix = html.slice(html.indexOf('<table class="matrix">'), html.indexOf('</table>', html.indexOf('<table class="matrix">')));
  const row = matrix.split('\n').find((line) => line.includes(`title="${escapeHtml(name)}"`));
  assert.ok(row, `no matrix row for ${name}`);
  return [...row.matchAll(/<td class="c ([a-z ]+)"[^>]*>([^<]*)<\/td>/g)].map((m) => ({ cls: m[1]!, text: m[2]! }));
}

test('the page is one self-contained document led by the verdict', () => {
  const html = renderHtml(findings);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.match(html, /<h1>1 order-dependent test, 1 brittle, 1 broken, 1 flaky, 4 leaked objects in 6 runs \(\+6 probes\)<\/h1>/);
  assert.match(html, /<style>[\s\S]+<\/style>/);
  assertSelfContainedAndSafe(html);
});

test('the matrix shows each run\'s outcome and position for the victim and its polluter', () => {
  const html = renderHtml(findings);
  const victim = findings.tests.find((t) => t.verdict === 'order-dependent')!;
  const polluter = findings.tests.find((t) => t.id === victim.polluters[0]!.test)!;
  const v = matrixRow(html, victim.name);
  const p = matrixRow(html, polluter.name);
  assert.equal(v.length, findings.runs.length);
  findings.runs.forEach((run, i) => {
    const position = run.order.indexOf(victim.id);
    const expected = run.failed.includes(victim.id) ? 'fail' : position >= 0 ? 'pass' : 'absent';
    assert.equal(v[i]!.cls.split(' ')[0], expected, `run ${run.id}`);
    assert.equal(v[i]!.cls.includes('probe'), run.probe, `run ${run.id} probe marking`);
    assert.equal(v[i]!.text, position >= 0 ? String(position + 1) : '', `run ${run.id} position`);
    const pp = run.order.indexOf(polluter.id);
    assert.equal(p[i]!.text, pp >= 0 ? String(pp + 1) : '', `run ${run.id} polluter position`);
  });
  assert.equal(v.filter((c) => c.cls === 'fail').length, victim.failed, 'planned-run failures');
  assert.match(html, /<span class="tag role">polluter<\/span>/);
  assert.match(html, /<span class="tag role">state-setter<\/span>/);
});

test('skipped cells come from the run\'s skipped list', () => {
  const target = findings.tests.find((t) => t.verdict === 'stable')!;
  const report: Report = {
    ...findings,
    runs: findings.runs.map((r, i) => (i === 0 ? { ...r, order: r.order.filter((id) => id !== target.id), skipped: [target.id] } : r)),
  };
  const row = matrixRow(renderHtml(report), target.name);
  assert.deepEqual(row[0], { cls: 'skip', text: 's' });
  assert.equal(row[1]!.cls, 'pass');
});

test('each finding has a card with polluter, probe, leaked object, fix and the reproduce command', () => {
  const html = renderHtml(findings);
  const victim = findings.tests.find((t) => t.verdict === 'order-dependent')!;
  const start = html.indexOf('<article class="card order-dependent"');
  const card = html.slice(start, html.indexOf('</article>', start));
  assert.ok(card.includes(`<h3>${escapeHtml(victim.name)}</h3>`));
  assert.match(card, /<dt>Polluter<\/dt><dd><span class="name"[^>]*>ModelCache lifecycle evicts the iris2 cache on delete<\/span> <span class="tag confirmed">confirmed<\/span> — probe <code>probe-001<\/code>/);
  assert.match(card, /<dt>Leaked object<\/dt><dd><code class="obj">ModelCache default\/iris2<\/code> <span class="tag warn">terminating<\/span>.*<code>cache\.kubeflake\.dev\/evict<\/code>/);
  assert.match(card, new RegExp(`<pre class="cmd" id="(cmd-t-[a-z0-9]+)">${escapeHtml(victim.reproduce).replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')}</pre><button type="button" class="copy" data-copy="\\1"`));
  assert.ok(card.includes(`<strong>${escapeHtml(victim.hint!)}</strong>`));
  assert.equal((html.match(/<article class="card /g) ?? []).length, 4);
});

test('leaks and cleanup tables list every object and action', () => {
  const html = renderHtml(findings);
  for (const leak of findings.leaks) assert.ok(html.includes(`<code class="obj">${leak.kind} ${leak.namespace}/${leak.name}</code>`), leak.name);
  assert.match(html, /15 deleted · 1 with finalizers removed · 1 left/);
  assert.match(html, /<tr class="act-fin"><td data-label="Action">finalizers removed<\/td><td data-label="Object"><code class="obj">ModelCache default\/iris2<\/code><\/td>/);
  assert.match(html, /<tr class="act-left"><td data-label="Action">left<\/td>.*in protected namespace kube-system/);
});

test('hostile names are text, never markup', () => {
  const html = renderHtml(hostile);
  assertSelfContainedAndSafe(html);
  assert.ok(html.includes(escapeHtml(HOSTILE.pipeScript)));
  assert.ok(html.includes('Tom &#38;amp; Jerry'), 'an entity in a name is shown as typed');
  assert.ok(!html.includes('\u001b') && !html.includes('\u202e'), 'control characters reached the page');
});

test('a clean report says so and has no finding cards', () => {
  const html = renderHtml(clean);
  assert.match(html, /<h1>clean: 42 tests stable in 20 runs<\/h1>/);
  assert.match(html, /No order-dependent, brittle, broken or flaky tests: 42 tests passed in every one of 20 runs\./);
  assert.ok(!html.includes('<article'));
  assert.equal((html.match(/<td class="c pass"/g) ?? []).length, 42 * 20);
  assertSelfContainedAndSafe(html);
});

test('each victim\'s failing orders show the polluter with the object it left, then the victim; the rest is folded', () => {
  const html = renderHtml(findings);
  const section = html.slice(html.indexOf('<section id="timelines">'), html.indexOf('</section>', html.indexOf('<section id="timelines">')));
  const orders = section.split('<div class="order">').slice(1);
  const victim = findings.tests.find((t) => t.verdict === 'order-dependent')!;
  const failing = findings.runs.filter((r) => r.failed.includes(victim.id));
  assert.deepEqual(orders.map((o) => /<b>(?:run|probe) ([\w-]+)/.exec(o)?.[1]), [...failing.filter((r) => !r.probe), ...failing.filter((r) => r.probe)].map((r) => r.id));
  // run 000: the polluter ran 4th, the victim 6th of 12.
  const first = orders[0]!.replace(/<[^>]+>/g, '');
  assert.match(first, /run 000 seed 1733 · failed at position 6 of 12/);
  assert.match(first, /3 other tests#4 ModelCache lifecycle evicts the iris2 cache on delete polluter, confirmedleft ModelCache default\/iris2 terminating1 other test#6 ModelCache provisioning creates iris2 and reports it Ready failed: BeingDeleted/);
  assert.match(orders[0]!, /<span class="step fold" title="[^"]+\n[^"]+\n[^"]+">3 other tests<\/span>/, 'the folded tests are named on hover, one a line');
  assert.equal((section.match(/<article class="victim">/g) ?? []).length, 1, 'only the victim has a timeline, not the brittle test');
});

test('leaks are grouped by the test that created them, and every section is in the navigation', () => {
  const html = renderHtml(findings);
  assert.match(html, /<tr class="group"><th colspan="3">1 object created by <span class="name"[^>]*>ModelCache lifecycle evicts the iris2 cache on delete<\/span><\/th><\/tr>/);
  assert.match(html, /<tr class="group"><th colspan="3">1 object not attributed to a test<\/th><\/tr><tr><td data-label="Object"><code class="obj">Lease kube-system\/modelcache-operator-leader<\/code>/);
  const nav = /<nav class="toc" aria-label="Sections">(.*?)<\/nav>/.exec(html)![1]!;
  const targets = [...nav.matchAll(/href="#([a-z]+)"/g)].map((m) => m[1]!);
  assert.deepEqual(targets, ['findings', 'heatmap', 'timelines', 'details', 'leaks', 'cleanup', 'runs']);
  for (const id of targets) assert.equal(html.split(`<section id="${id}">`).length, 2, `one section #${id}`);
  const cleanNav = /<nav class="toc" aria-label="Sections">(.*?)<\/nav>/.exec(renderHtml(clean))![1]!;
  assert.ok(!cleanNav.includes('#timelines') && !cleanNav.includes('#details'), 'no links to sections a clean report does not have');
});
