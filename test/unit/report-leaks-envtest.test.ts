// Leaks in every renderer, as issue 15 asks: a leak the API server's record attributed is exact
// evidence, worded as the record's (never a guess, never "approximate"); what the specs left in
// envtest's deleted namespaces reads as one line a kind, with its hint once, while report.json
// keeps one entry per object.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DELETED_NAMESPACE_HINT, type LeakReport, type Report } from '../../src/model.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { describeCreator, leakRows, objectsIn } from '../../src/report/findings.ts';
import { escapeHtml } from '../../src/report/text.ts';
import { loadReport } from '../fixtures/reports/load.ts';

const MAKER = 'Controller Suite :: ModelCache provisioning creates iris2 and reports it Ready';
const MAKER_NAME = 'ModelCache provisioning creates iris2 and reports it Ready';
const OTHER = 'Controller Suite :: Tenant quota creates the default ResourceQuota';
const OTHER_NAME = 'Tenant quota creates the default ResourceQuota';
const RECORD = "the API server's record";

/** The fixture report, its first leak (ModelCache default/iris2) attributed by its create in the record. */
function recordAttributed(placement: 'window' | 'gap' = 'window'): Report {
  const report = structuredClone(loadReport('findings'));
  const leak = report.leaks[0]!;
  leak.evidence = 'audit';
  // A create just after the spec's end is placed in it without certainty: attribution says so, the words say why.
  leak.attribution = placement === 'gap' ? 'approximate' : 'exact';
  leak.recordCreate = { at: Date.UTC(2026, 11, 7, 5), match: 'name', placement };
  return report;
}

/** `count` objects of `kind`, each in its own namespace the suite deleted under envtest. */
function leftInDeletedNamespaces(kind: string, apiVersion: string, count: number, createdBy: (i: number) => string): LeakReport[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion, kind, namespace: `webhook-${i}`, name: `${kind.toLowerCase()}-${i}`, uid: `${kind}-${i}`,
    terminating: false, finalizers: [], createdBy: createdBy(i), runs: ['000', '001'], attribution: 'exact' as const, evidence: 'audit' as const,
    recordCreate: { at: 1_000 + i, match: 'name' as const, placement: 'window' as const }, inDeletedNamespace: true,
  }));
}

/** The fixture report with 48 CertificateRequests and 48 Leases left in envtest's deleted namespaces by one spec. */
function withDeletedNamespaces(): Report {
  const report = structuredClone(loadReport('findings'));
  report.leaks.push(
    ...leftInDeletedNamespaces('CertificateRequest', 'cert-manager.io/v1', 48, () => MAKER),
    ...leftInDeletedNamespaces('Lease', 'coordination.k8s.io/v1', 48, () => MAKER),
  );
  return report;
}

function section(html: string, id: string): string {
  const at = html.indexOf(`<section id="${id}">`);
  assert.ok(at >= 0, `no section #${id}`);
  return html.slice(at, html.indexOf('</section>', at));
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

test('a leak the record attributed names its creator with the record, as exact evidence, in every renderer', () => {
  const report = recordAttributed();
  const leak = report.leaks[0]!;
  const creator = report.tests.find((t) => t.id === leak.createdBy)!.name;
  assert.equal(describeCreator(leak, (id) => report.tests.find((t) => t.id === id)?.name ?? id), `${creator} (${RECORD})`);

  const md = renderMarkdown(report);
  const row = md.split('\n').find((l) => l.startsWith('| <code>ModelCache default/iris2</code>'));
  assert.ok(row, 'the leak has its row');
  assert.ok(row.includes(`| ${creator} (the API server's record) |`), row);
  assert.doesNotMatch(row, /probably|approximate|guess/);

  const html = section(renderHtml(report), 'leaks');
  const htmlRow = html.split('<tr>').find((r) => r.includes('<code class="obj">ModelCache default/iris2</code>'))!;
  assert.match(htmlRow, /<span class="muted">\(the API server&#39;s record\)<\/span>/);
  assert.doesNotMatch(htmlRow, /a guess|approximate/);

  const terminal = renderTerminal(report, { width: 300 }).split('\n').find((l) => l.startsWith('  ModelCache default/iris2'));
  assert.ok(terminal?.endsWith(`by ${creator} (${RECORD})`), terminal);
});

test('a create the record places just after its spec ended says so, never "approximate"', () => {
  const report = recordAttributed('gap');
  const creator = report.tests.find((t) => t.id === report.leaks[0]!.createdBy)!.name;
  const md = renderMarkdown(report);
  const row = md.split('\n').find((l) => l.startsWith('| <code>ModelCache default/iris2</code>'))!;
  assert.ok(row.includes(`${creator} (the API server's record: created just after the spec ended) |`), row);
  assert.doesNotMatch(row, /approximate|probably/);
  const htmlRow = section(renderHtml(report), 'leaks').split('<tr>').find((r) => r.includes('ModelCache default/iris2'))!;
  assert.match(htmlRow, /\(the API server&#39;s record: created just after the spec ended\)/);
  assert.doesNotMatch(htmlRow, /approximate/);
});

test('the watch\'s own approximate windows still say "approximate": only the record\'s words replace it', () => {
  const report = structuredClone(loadReport('findings'));
  report.leaks[0]!.evidence = 'watch';
  report.leaks[0]!.attribution = 'approximate';
  const row = renderMarkdown(report).split('\n').find((l) => l.startsWith('| <code>ModelCache default/iris2</code>'))!;
  assert.match(row, /<sub>\(approximate\)<\/sub>/);
  assert.doesNotMatch(row, /record/);
});

test('where specs ran in parallel the record\'s creator stays a guess, with its candidates and the record named', () => {
  const report = recordAttributed();
  const leak = report.leaks[0]!;
  leak.attribution = 'approximate';
  leak.candidates = [leak.createdBy!, OTHER];
  leak.recordCreate!.placement = 'parallel';
  const creator = report.tests.find((t) => t.id === leak.createdBy)!.name;
  assert.ok(renderMarkdown(report).includes(`probably ${creator} (or ${OTHER_NAME}, the API server's record)`));
  assert.match(section(renderHtml(report), 'leaks'), /\(a guess: <span class="name"[^>]*>Tenant quota creates the default ResourceQuota<\/span> possible too; the API server&#39;s record\)/);
});

test('markdown: 48 objects of a kind in deleted namespaces are one row, created by their spec, with the hint once', () => {
  const report = withDeletedNamespaces();
  const md = renderMarkdown(report);
  assert.match(md, /\*\*Leaked objects\*\* \(100\)/, 'the count is of objects');
  const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Object') && md.indexOf(l) > md.indexOf('**Leaked objects**'));
  const certificateRows = rows.filter((l) => l.includes('CertificateRequest'));
  assert.equal(certificateRows.length, 1, certificateRows.join('\n'));
  assert.ok(certificateRows[0]!.startsWith(`| 48 CertificateRequest in 48 deleted namespaces<br><sub>cert-manager.io/v1: <code>webhook-0/certificaterequest-0</code>`), certificateRows[0]);
  assert.ok(certificateRows[0]!.includes(`| ${MAKER_NAME} (the API server's record) |`), certificateRows[0]);
  assert.ok(certificateRows[0]!.includes('and 45 more'));
  assert.match(certificateRows[0]!, /\| 48 live \|$/);
  assert.equal(rows.filter((l) => l.includes('Lease in 48 deleted namespaces')).length, 1);
  assert.equal(occurrences(md, 'envtest runs no namespace controller'), 1, 'the hint is said once');
  assert.ok(md.includes(`**In namespaces the suite deleted (envtest):** envtest runs no namespace controller`));
  assert.doesNotMatch(md, /webhook-47\/certificaterequest-47/, 'each object is not listed in the comment');
});

test('markdown: a report without objects in deleted namespaces has no hint', () => {
  assert.doesNotMatch(renderMarkdown(loadReport('findings')), /namespace controller/);
});

test('several specs leaving one kind still read as one line, each creator with its count, most first', () => {
  const report = structuredClone(loadReport('findings'));
  report.leaks.push(...leftInDeletedNamespaces('CertificateRequest', 'cert-manager.io/v1', 48, (i) => (i < 30 ? MAKER : OTHER)));
  const md = renderMarkdown(report);
  const rows = md.split('\n').filter((l) => l.includes('CertificateRequest in 48 deleted namespaces'));
  assert.equal(rows.length, 1);
  assert.ok(rows[0]!.includes(`| ${MAKER_NAME} (the API server's record) ×30, ${OTHER_NAME} (the API server's record) ×18 |`), rows[0]);
});

test('html: one row a kind under its own heading, the hint once, every object behind a fold', () => {
  const report = withDeletedNamespaces();
  const html = section(renderHtml(report), 'leaks');
  assert.match(html, /<tr class="group"><th colspan="3">96 objects left in namespaces the suite deleted \(envtest\)<\/th><\/tr>/);
  assert.equal(occurrences(html, escapeHtml(DELETED_NAMESPACE_HINT)), 1, 'the hint is said once');
  const rows = html.split('<tr>').filter((r) => r.startsWith('<td data-label="Object">48 '));
  assert.equal(rows.length, 2, 'one row for the CertificateRequests, one for the Leases');
  assert.match(rows[0]!, /^<td data-label="Object">48 CertificateRequest in 48 deleted namespaces<div class="loc">cert-manager\.io\/v1 · created by ModelCache provisioning creates iris2 and reports it Ready \(the API server&#39;s record\)<\/div><details><summary>48 objects<\/summary>/);
  for (const leak of report.leaks) assert.ok(html.includes(`<code class="obj">${leak.kind} ${leak.namespace}/${leak.name}</code>`), `${leak.name} is listed`);
  // Not also under its creator: the spec's own group holds only what it left elsewhere.
  assert.doesNotMatch(html, new RegExp(`<th colspan="3">\\d+ objects? created by <span class="name" title="${MAKER_NAME}">`));
});

test('terminal: one line a kind instead of 48, the hint once, lines within the width', () => {
  const report = withDeletedNamespaces();
  const out = renderTerminal(report, { width: 200 });
  const lines = out.split('\n');
  const start = lines.indexOf('Leaked objects (100)');
  assert.ok(start >= 0, out);
  const rows = lines.slice(start + 1).filter((l) => /CertificateRequest|Lease webhook|Lease in/.test(l));
  assert.deepEqual(rows.map((l) => l.trim().split(/\s{2,}/)[0]), ['48 CertificateRequest in 48 deleted namespaces', '48 Lease in 48 deleted namespaces']);
  assert.ok(rows[0]!.endsWith(`by ${MAKER_NAME} (${RECORD})`), rows[0]);
  assert.equal(occurrences(out.replace(/\n\s+/g, ' '), 'envtest runs no namespace controller'), 1);
  assert.doesNotMatch(out, /more leaked object/, 'every object is in a shown line');
  for (const line of renderTerminal(report, { width: 80 }).split('\n').slice(1)) {
    if (/^ +run {4}/.test(line)) continue;
    assert.ok(Array.from(line).length <= 80, line);
  }
});

test('rows keep the report\'s order, a group at its first object\'s place; a destroyed baseline object is never grouped', () => {
  const leaks = withDeletedNamespaces().leaks;
  const deleted: LeakReport = { ...leaks[4]!, name: 'gone', uid: 'gone', inDeletedNamespace: true, createdBy: null, deletedBy: OTHER };
  const rows = leakRows([leaks[0]!, leaks[4]!, leaks[1]!, leaks[5]!, deleted]);
  assert.deepEqual(rows.map((r) => ('group' in r ? `group ${r.group.kind} ${r.group.leaks.length}` : r.leak.name)), ['iris2', 'group CertificateRequest 2', 'sync-marker', 'gone']);
  assert.equal(objectsIn(rows), 5);
});

test('rendering leaves report.json as it was: one entry per object', () => {
  const report = withDeletedNamespaces();
  const before = JSON.stringify(report);
  renderMarkdown(report);
  renderHtml(report);
  renderTerminal(report);
  assert.equal(JSON.stringify(report), before);
  assert.equal(report.leaks.filter((l) => l.inDeletedNamespace).length, 96);
});

test('a comment cut to fit counts the objects the hidden rows hold', () => {
  const report = withDeletedNamespaces();
  // Many single leaks before the groups, so the shrinking comment hides the groups' rows.
  report.leaks.unshift(...Array.from({ length: 200 }, (_, i): LeakReport => ({ ...report.leaks[1]!, name: `marker-${i}`, uid: `m-${i}` })));
  const md = renderMarkdown(report, { maxLength: 20_000 });
  const hidden = /_…and ([\d,]+) more leaked objects/.exec(md);
  assert.ok(hidden, 'the hidden leaks are counted');
  const shownRows = md.split('\n').filter((l) => l.startsWith('| <code>ConfigMap default/') || l.startsWith('| 48 '));
  const shownObjects = shownRows.reduce((n, l) => n + (l.startsWith('| 48 ') ? 48 : 1), 0);
  // The 4 fixture leaks are listed too; whatever is shown plus the hidden count is every object.
  const otherRows = md.split('\n').filter((l) => /^\| <code>(ModelCache|ResourceQuota|Lease kube-system)/.test(l)).length;
  assert.equal(shownObjects + otherRows + Number(hidden[1]!.replace(/,/g, '')), report.leaks.length);
});
