// The record's evidence in every renderer: a polluter proven from the record shows its chain with
// the timings and says which evidence decided it; latent hazards get their own section (warnings
// with window and margins, fired ones as findings); the JSON contract accepts both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HazardReport, RecordLink, Report } from '../../src/model.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { validateReport } from '../../src/report/validate.ts';
import { loadReport } from '../fixtures/reports/load.ts';

const VICTIM = 'Controller Suite :: ModelCache provisioning creates iris2 and reports it Ready';
const POLLUTER = 'Controller Suite :: ModelCache lifecycle evicts the iris2 cache on delete';
const CLEANER = 'Controller Suite :: ModelCache garbage collection waits for orphaned caches to disappear';
const QUOTA = 'Controller Suite :: Tenant quota creates the default ResourceQuota';
const T = Date.UTC(2026, 11, 7, 5, 0, 0);

const link: RecordLink = {
  run: '001',
  victim: VICTIM,
  polluter: POLLUTER,
  object: { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'iris2' },
  state: 'terminating',
  failure: 'BeingDeleted',
  createdBy: POLLUTER,
  createdAt: T - 50,
  deletedAt: T,
  refusedAt: T + 40,
  refusal: { verb: 'create', code: 409, reason: 'AlreadyExists', message: 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists' },
  refusals: 2,
  goneAt: T + 180,
  goneBy: 'finalizer-removed',
  margins: { deletedToRefusedMs: 40, refusedToGoneMs: 140 },
};

const heldOff: HazardReport = {
  first: CLEANER,
  second: QUOTA,
  object: { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'mnist' },
  kind: 'terminating',
  access: 'create',
  windowMs: 140,
  meetings: [
    { run: '001', probe: false, windowMs: 120, marginMs: 80, fired: false },
    { run: '004', probe: false, windowMs: 140, marginMs: 35, fired: false },
  ],
  probes: { runs: ['probe-006', 'probe-007', 'probe-008'], failed: [], stress: true },
  outcome: 'held-off',
};

const fired: HazardReport = {
  ...heldOff,
  first: QUOTA,
  second: CLEANER,
  object: { ...heldOff.object, name: 'resnet' },
  meetings: [{ run: 'probe-009', probe: true, windowMs: 300, marginMs: -25, fired: true }],
  probes: { runs: ['probe-009'], failed: ['probe-009'], stress: true },
  outcome: 'fired',
};

function withRecordEvidence(): Report {
  const report = loadReport('findings');
  const victim = report.tests.find((t) => t.id === VICTIM);
  assert.ok(victim);
  victim.polluters = [{ test: POLLUTER, confirmed: true, via: [0], after: { failed: 4, runs: 6 }, decidedBy: 'record', link }];
  report.hazards = [fired, heldOff];
  return report;
}

test('the JSON contract accepts the record extensions', () => {
  const result = validateReport(JSON.parse(JSON.stringify(withRecordEvidence())));
  assert.equal(result.ok, true, JSON.stringify(result));
  // And checks them: a hazard without its outcome, a link with a state it does not know.
  const broken = JSON.parse(JSON.stringify(withRecordEvidence())) as Report;
  delete (broken.hazards?.[0] as Partial<HazardReport>).outcome;
  const victim = broken.tests.find((t) => t.id === VICTIM);
  if (victim?.polluters[0]?.link) (victim.polluters[0].link as { state: string }).state = 'vanished';
  const checked = validateReport(broken);
  const errors: string[] = checked.ok ? [] : checked.errors;
  assert.ok(errors.some((e) => e.startsWith('report.hazards[0].outcome: missing')), errors.join('\n'));
  assert.ok(errors.some((e) => /report\.tests\[\d+\]\.polluters\[0\]\.link\.state/.test(e)), errors.join('\n'));
});

test('markdown: the polluter says the record decided it, the chain has its timings, the diagram carries them, hazards have their section', () => {
  const md = renderMarkdown(withRecordEvidence());
  assert.match(md, /\*\*Polluter\*\* \(proven from the record of run 001; probes: fails 4 of 6 after it\): <code>ModelCache lifecycle evicts the iris2 cache on delete<\/code>/);
  assert.match(md, /\*\*Chain\*\* \(record of run <code>001<\/code>\): <code>ModelCache lifecycle evicts the iris2 cache on delete<\/code> deleted modelcaches\.cache\.kubeflake\.dev default\/iris2 at \+0 ms; the victim's create was refused at \+40 ms \(409 AlreadyExists, 2 refusals\) while it was terminating; gone at \+180 ms \(its finalizer removed\)/);
  const diagram = /```mermaid\n([\s\S]*?)```/.exec(md)?.[1] ?? '';
  assert.match(diagram, /\|deletes, held 180 ms\|/);
  assert.doesNotMatch(diagram, /ModelCache default\/iris2/, 'the leaked iris2 is the record object: drawn once');
  assert.match(diagram, /\|AlreadyExists \+40 ms\|/);
  assert.match(diagram, /\[\("modelcaches default\/iris2"\)\]/);
  assert.match(md, /\*\*Hazards\*\* \(2, 1 fired\)/);
  assert.match(md, /- ⚠️ met twice, 3 probes · <code>ModelCache garbage collection waits for orphaned caches to disappear<\/code> → <code>Tenant quota creates the default ResourceQuota<\/code>: mnist \(modelcaches\.cache\.kubeflake\.dev default\/mnist\) stayed terminating 140 ms after ModelCache garbage collection waits for orphaned caches to disappear ended; Tenant quota creates the default ResourceQuota created mnist 35 ms after it was gone \(run 004, closest of 2 meetings\); probes: 3 back to back under stress cpu, none fired/);
  assert.match(md, /- ❌ \*\*fired\*\* met once, hit once, 1 probe \(1 failed\) · <code>Tenant quota creates the default ResourceQuota<\/code> → <code>ModelCache garbage collection waits for orphaned caches to disappear<\/code>: .*hit it while it was held in run probe-009 \(25 ms before it was gone\); probes: 1 back to back under stress cpu, failed in probe-009/);
});

test('html: a Chain row with the timings, the deciding evidence, and a Hazards section in the navigation', () => {
  const html = renderHtml(withRecordEvidence());
  assert.match(html, /<span class="muted">proven from the record of run 001; probes: fails 4 of 6 after it<\/span>/);
  assert.match(html, /<dt>Chain<\/dt><dd><span class="muted">record of run <code>001<\/code>:<\/span> <span class="name"[^>]*>ModelCache lifecycle evicts the iris2 cache on delete<\/span> deleted modelcaches\.cache\.kubeflake\.dev default\/iris2 at \+0 ms; the victim&#39;s create was refused at \+40 ms/);
  assert.match(html, /<a href="#hazards">Hazards<\/a>/);
  assert.match(html, /<section id="hazards"><h2>Hazards<\/h2>/);
  assert.match(html, /<span class="tag fail">fired<\/span>/);
  assert.match(html, /<span class="tag suspected">never fired<\/span>/);
  // The failing order of run 001 shows the chain under its polluter.
  assert.match(html, /<b>run 001<\/b>[\s\S]*?<div class="leaked"><span class="muted">the record:<\/span> deleted modelcaches\.cache\.kubeflake\.dev default\/iris2 at \+0 ms/);
});

test('terminal: one chain line under the polluter, and the hazards', () => {
  const text = renderTerminal(withRecordEvidence(), { color: false, width: 400 });
  assert.match(text, /after {2}ModelCache lifecycle evicts the iris2 cache on delete \(proven from the record of run 001; probes: fails 4 of 6 after it\)/);
  const chain = text.split('\n').filter((l) => /^\s+chain {2}/.test(l));
  assert.equal(chain.length, 1);
  assert.match(chain[0] ?? '', /deleted modelcaches\.cache\.kubeflake\.dev default\/iris2 at \+0 ms; the victim's create was refused at \+40 ms/);
  assert.match(text, /Hazards \(2, 1 fired\)/);
  assert.match(text, /warn {2}met twice, 3 probes: mnist \(modelcaches\.cache\.kubeflake\.dev default\/mnist\) stayed terminating 140 ms/);
});

/** One spec leaves bloom held; three specs touch the name (one fired in a probe, one met it, one never did); mnist is another line. */
function withGroupedHazards(): Report {
  const report = loadReport('findings');
  const bloom = { group: 'cache.kubeflake.dev', resource: 'modelcaches', namespace: 'default', name: 'bloom', plane: '1737-1796656083417' };
  const pair = (second: string, extra: Partial<HazardReport>): HazardReport => ({
    first: POLLUTER,
    second,
    object: bloom,
    kind: 'terminating',
    access: 'create',
    windowMs: 120,
    meetings: [],
    probes: { runs: [], failed: [], stress: false },
    outcome: 'unmet',
    ...extra,
  });
  // The report's order is closest call first; the fired pair is not the first of its group there.
  report.hazards = [
    heldOff,
    pair(CLEANER, { windowMs: 170, meetings: [{ run: '001', probe: false, windowMs: 170, marginMs: 30, fired: false }, { run: '003', probe: false, windowMs: 90, marginMs: 60, fired: false }], outcome: 'held-off' }),
    pair(VICTIM, { object: { ...bloom, plane: '1802-1796656112004' }, meetings: [{ run: 'probe-004', probe: true, windowMs: 140, marginMs: -20, fired: true }], probes: { runs: ['probe-004'], failed: ['probe-004'], stress: true }, outcome: 'fired' }),
    pair(QUOTA, {}),
  ];
  return report;
}

test('hazards are grouped by object and first spec: one line each, fired first, counts before names, the victims listed (markdown)', () => {
  const md = renderMarkdown(withGroupedHazards());
  assert.match(md, /\*\*Hazards\*\* \(4 pairs on 2 lines, 1 fired\)/);
  const lines = md.split('\n').filter((l) => /^- (❌|⚠️) /.test(l) && /bloom|mnist/.test(l));
  assert.equal(lines.length, 2, lines.join('\n'));
  const [bloom, mnist] = lines;
  assert.match(bloom ?? '', /^- ❌ \*\*fired\*\* 3 specs, met 3 times, hit once, 1 probe \(1 failed\) · <code>ModelCache lifecycle evicts the iris2 cache on delete<\/code> → <code>ModelCache provisioning creates iris2 and reports it Ready<\/code>, <code>ModelCache garbage collection waits for orphaned caches to disappear<\/code>, <code>Tenant quota creates the default ResourceQuota<\/code>: /);
  assert.match(bloom ?? '', /: bloom \(modelcaches\.cache\.kubeflake\.dev default\/bloom\) stayed terminating up to 170 ms after ModelCache lifecycle evicts the iris2 cache on delete ended; ModelCache provisioning creates iris2 and reports it Ready hit it while it was held in run probe-004 \(20 ms before it was gone\); probes with ModelCache provisioning creates iris2 and reports it Ready: 1 back to back under stress cpu, failed in probe-004; ModelCache garbage collection waits for orphaned caches to disappear created bloom 30 ms after it was gone \(run 001, closest of 2 meetings\); Tenant quota creates the default ResourceQuota created bloom in other runs; the two never met/);
  assert.match(mnist ?? '', /^- ⚠️ met twice, 3 probes · <code>ModelCache garbage collection/);
});

test('hazards are grouped in the terminal and the HTML too, fired first', () => {
  const text = renderTerminal(withGroupedHazards(), { color: false, width: 400 });
  assert.match(text, /Hazards \(4 pairs on 2 lines, 1 fired\)\n {2}fired 3 specs, met 3 times, hit once, 1 probe \(1 failed\): bloom \(modelcaches\.cache\.kubeflake\.dev default\/bloom\) stayed terminating up to 170 ms\b.*\n {2}warn {2}met twice, 3 probes: mnist /);
  const html = renderHtml(withGroupedHazards());
  const rows = /<ul class="hazards">([\s\S]*?)<\/ul>/.exec(html)?.[1]?.split('\n') ?? [];
  assert.equal(rows.length, 2);
  assert.match(rows[0] ?? '', /^<li><span class="tag fail">fired<\/span> <b>3 specs, met 3 times, hit once, 1 probe \(1 failed\)<\/b> · /);
  assert.match(rows[1] ?? '', /^<li><span class="tag suspected">never fired<\/span> <b>met twice, 3 probes<\/b> · /);
  assert.match(html, /4 pairs on 2 lines, 1 fired\. Pairs of specs/);
});
