// A finding's probes: its `why` counts them; the markdown and HTML reports name each one behind
// a fold (<details>), with what it ran before the subject and how the subject came out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { probeOutcome, probesAbout } from '../../src/report/findings.ts';
import { loadReport } from '../fixtures/reports/load.ts';

const report = loadReport('findings');
const victim = report.tests.find((t) => t.verdict === 'order-dependent')!;
const polluter = victim.polluters[0]!.test;
const name = (id: string) => report.tests.find((t) => t.id === id)!.name;

test('the probes about a test are those whose subject it is, each with what ran before it and its outcome', () => {
  const probes = probesAbout(report, victim.id);
  assert.deepEqual(probes.map((r) => r.id), ['probe-000', 'probe-001', 'probe-005']);
  assert.deepEqual(probeOutcome(probes[0]!, victim.id), { before: [], outcome: 'passed' });
  assert.deepEqual(probeOutcome(probes[1]!, victim.id), { before: [polluter], outcome: 'failed' });
  assert.deepEqual(probeOutcome({ ...probes[1]!, order: [polluter], failed: [] }, victim.id), { before: [], outcome: 'no result' });
});

test('markdown: the victim section names its probes once, behind a fold', () => {
  const md = renderMarkdown(report);
  const fold = [
    '<details><summary>3 probes</summary>',
    '',
    '- <code>probe-000</code> alone, seed 1: passed',
    `- <code>probe-001</code> polluter, seed 1733, after <code>${name(polluter)}</code>: failed`,
  ].join('\n');
  assert.ok(md.includes(fold), md);
  assert.equal(md.split('<code>probe-001</code> polluter, seed').length, 2, 'each probe is listed once');
});

test('HTML: the finding card names its probes behind a fold, the failing one marked', () => {
  const html = renderHtml(report);
  const card = html.slice(html.indexOf('<article class="card order-dependent"'), html.indexOf('</article>', html.indexOf('<article class="card order-dependent"')));
  assert.match(card, /<dt>Probes<\/dt><dd><details class="probes"><summary>3 probes<\/summary><ul><li><code>probe-000<\/code> alone, seed 1: <span class="tag">passed<\/span><\/li>/);
  assert.match(card, /<li><code>probe-001<\/code> polluter, seed 1733, after <span class="name"[^>]*>[^<]*<\/span>: <span class="tag fail">failed<\/span><\/li>/);
});
