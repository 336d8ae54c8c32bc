// A single self-contained HTML page: verdict header, findings, a run x test matrix that
// shows order dependence at a glance, a card a finding, leaks, cleanup and runs. Inline CSS,
// no scripts, no external assets; every string from the suite or cluster is escaped.

import type { LeakReport, Report, RunReport, TestId, TestReport, Verdict } from '../model.ts';
import {
  aloneProbe,
  countVerdicts,
  findingTests,
  headline,
  indexTests,
  leakName,
  location,
  plannedRuns,
  probeRuns,
  provingProbe,
  viaLeaks,
  type TestIndex,
} from './findings.ts';
import { escapeHtml, formatDuration, oneLine, plural, truncate, visibleControls } from './text.ts';

/** Rows in the matrix: every finding and related test, then stable tests up to this many rows. */
const MATRIX_ROWS = 400;
/** Cards beyond this are counted, not drawn. */
const MAX_CARDS = 200;

/** Escaped single-line text. */
function t(text: string): string {
  return escapeHtml(oneLine(text));
}

/** Escaped multi-line text for <pre>. */
function pre(text: string): string {
  return escapeHtml(visibleControls(text.replace(/\r\n|\r/g, '\n')));
}

export function renderHtml(report: Report): string {
  const tests = indexTests(report);
  const findings = findingTests(report);
  const title = `kubeflake: ${headline(report)}`;
  const body = [
    header(report),
    stats(report),
    report.errors?.length ? errorsSection(report.errors) : '',
    findings.length ? findingsSection(report, tests, findings) : cleanSection(report),
    matrixSection(report, tests, findings),
    findings.length ? cardsSection(report, tests, findings) : '',
    report.leaks.length ? leaksSection(report, tests) : '',
    cleanupSection(report),
    runsSection(report, tests),
    footer(report),
  ]
    .filter(Boolean)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t(truncate(title, 200))}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function header(report: Report): string {
  const cls = report.verdict === 'clean' ? 'clean' : report.verdict === 'error' ? 'error' : 'findings';
  const label = report.verdict === 'clean' ? 'Clean' : report.verdict === 'error' ? 'Error' : 'Findings';
  return `<header class="banner ${cls}">
<div class="brand">kubeflake report <span class="badge ${cls}">${label}</span></div>
<h1>${t(headline(report))}</h1>
<p class="meta"><code>${t(report.command)}</code> · ${t(report.framework)} · ${t(report.cluster)} cluster${report.generatedAt ? ` · ${t(report.generatedAt)}` : ''}</p>
</header>`;
}

function stats(report: Report): string {
  const counts = countVerdicts(report);
  const tiles: [string, number, string][] = [
    ['Runs', plannedRuns(report).length, ''],
    ['Probes', probeRuns(report).length, ''],
    ['Tests', report.tests.length, ''],
    ['Order-dependent', counts['order-dependent'], 'order-dependent'],
    ['Brittle', counts.brittle, 'brittle'],
    ['Broken', counts.broken, 'broken'],
    ['Flaky', counts.flaky, 'flaky'],
    ['Leaked objects', report.leaks.length, 'leak'],
  ];
  return `<section class="stats">${tiles
    .map(([label, n, cls]) => `<div class="stat ${n && cls ? cls : 'zero'}"><b>${n.toLocaleString('en-US')}</b><span>${label}</span></div>`)
    .join('')}</section>`;
}

function errorsSection(errors: string[]): string {
  return `<section class="errors"><h2>Errors</h2><ul>${errors.map((e) => `<li>${t(e)}</li>`).join('')}</ul></section>`;
}

function cleanSection(report: Report): string {
  const counts = countVerdicts(report);
  return `<section><h2>Findings</h2><p class="ok">No order-dependent, brittle, flaky or broken tests: ${plural(counts.stable, 'test')} passed in every one of ${plural(plannedRuns(report).length, 'run')}.</p></section>`;
}

function pill(verdict: Verdict): string {
  return `<span class="pill ${verdict}">${verdict}</span>`;
}

function testName(tests: TestIndex, id: TestId, max = 120): string {
  const name = tests.name(id);
  return `<span class="name" title="${t(name)}">${t(truncate(name, max))}</span>`;
}

function findingsSection(report: Report, tests: TestIndex, findings: TestReport[]): string {
  const rows = findings.map((test) => {
    const causes = [
      ...test.polluters.map((p) => `${testName(tests, p.test, 80)} <span class="tag ${p.confirmed ? 'confirmed' : 'suspected'}">${p.confirmed ? 'confirmed' : 'suspected'}</span>`),
      ...test.stateSetters.map((s) => `${testName(tests, s, 80)} <span class="tag setter">sets state</span>`),
    ];
    const leaks = [...new Set(test.polluters.flatMap((p) => viaLeaks(report, p.via)))];
    return `<tr>
<td>${pill(test.verdict)}</td>
<td><a href="#${anchor(test.id)}">${testName(tests, test.id)}</a><div class="loc">${t(location(test))}</div></td>
<td>${causes.length ? causes.slice(0, 5).join('<br>') : `<span class="muted">${test.verdict === 'broken' ? 'fails alone too' : test.verdict === 'flaky' ? 'no order explains it' : '—'}</span>`}</td>
<td>${leaks.length ? leaks.slice(0, 5).map(leakChip).join('<br>') : '<span class="muted">—</span>'}</td>
<td>${test.hint ? t(test.hint) : t(test.failureKinds.join(', '))}</td>
</tr>`;
  });
  return `<section><h2>Findings</h2>
<table class="grid findings"><thead><tr><th>Verdict</th><th>Test</th><th>Polluter / state-setter</th><th>Leaked object</th><th>Fix hint</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></section>`;
}

function leakChip(leak: LeakReport): string {
  return `<code class="obj">${t(leakName(leak))}</code>${leak.terminating ? ' <span class="tag warn">terminating</span>' : ''}`;
}

/** A DOM id from a test id: readable prefix plus a hash, so distinct ids never collide. */
function anchor(id: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return `t-${(h >>> 0).toString(36)}`;
}

type Cell = 'pass' | 'fail' | 'skip' | 'absent';

function cellOf(run: RunReport, id: TestId, skippedVerdict: boolean): { cell: Cell; position: number } {
  const position = run.order.indexOf(id);
  if (run.failed.includes(id)) return { cell: 'fail', position };
  if (position >= 0) return { cell: 'pass', position };
  if (run.skipped?.includes(id) || (skippedVerdict && !run.probe)) return { cell: 'skip', position };
  return { cell: 'absent', position };
}

function matrixSection(report: Report, tests: TestIndex, findings: TestReport[]): string {
  if (!report.runs.length || !report.tests.length) return '';
  const roles = new Map<TestId, string>();
  for (const f of findings) {
    for (const p of f.polluters) if (!roles.has(p.test)) roles.set(p.test, 'polluter');
    for (const s of f.stateSetters) if (!roles.has(s)) roles.set(s, 'state-setter');
    for (const c of f.cleaners) if (!roles.has(c)) roles.set(c, 'cleaner');
  }
  for (const leak of report.leaks) if (leak.createdBy && !roles.has(leak.createdBy)) roles.set(leak.createdBy, 'leaker');
  const findingIds = new Set(findings.map((f) => f.id));
  const related = report.tests.filter((x) => !findingIds.has(x.id) && roles.has(x.id));
  const rest = report.tests.filter((x) => !findingIds.has(x.id) && !roles.has(x.id));
  const all = [...findings, ...related, ...rest];
  const rows = all.slice(0, MATRIX_ROWS);
  const runs = report.runs;
  const head = runs
    .map((run) => `<th class="run${run.probe ? ' probe' : ''}" title="${t(runTitle(run, tests))}"><span>${t(run.id)}</span></th>`)
    .join('');
  const body = rows.map((test) => {
    const role = findingIds.has(test.id) ? pill(test.verdict) : roles.has(test.id) ? `<span class="tag role">${t(roles.get(test.id)!)}</span>` : '';
    const cells = runs
      .map((run) => {
        const { cell, position } = cellOf(run, test.id, test.verdict === 'skipped');
        const where = position >= 0 ? `position ${position + 1} of ${run.order.length}` : cell === 'skip' ? 'skipped' : 'not run';
        const text = cell === 'absent' ? '' : cell === 'skip' ? 's' : String(position + 1);
        return `<td class="c ${cell}${run.probe ? ' probe' : ''}" title="${t(`${run.id}: ${where}${cell === 'fail' ? ', failed' : cell === 'pass' ? ', passed' : ''}`)}">${text}</td>`;
      })
      .join('');
    return `<tr${findingIds.has(test.id) ? ' class="finding"' : ''}><th class="label"><div>${testName(tests, test.id, 70)}</div><div class="roles">${role}</div></th>${cells}</tr>`;
  });
  const hidden = all.length - rows.length;
  return `<section><h2>Run × test matrix</h2>
<p class="muted">Each column is a run (probes hatched), each row a test. The number is the test's position in that run's order: a victim fails in the columns where its polluter ran earlier.</p>
<div class="legend"><span class="c pass">3</span> passed <span class="c fail">7</span> failed <span class="c skip">s</span> skipped <span class="c absent"></span> not run <span class="c pass probe">2</span> probe</div>
<div class="matrix-wrap"><table class="matrix"><thead><tr><th class="label">Test</th>${head}</tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>${hidden > 0 ? `<p class="muted">…and ${plural(hidden, 'more stable test')} not drawn.</p>` : ''}</section>`;
}

function runTitle(run: RunReport, tests: TestIndex): string {
  const parts = [`${run.id} seed ${run.seed}`, `${run.failed.length} failed`, formatDuration(run.durationMs)];
  if (run.probe) parts.push(`probe${run.purpose ? ` (${run.purpose})` : ''}${run.subject ? ` for ${tests.name(run.subject)}` : ''}`);
  if (run.timedOut) parts.push('timed out');
  return parts.join(', ');
}

function cardsSection(report: Report, tests: TestIndex, findings: TestReport[]): string {
  const cards = findings.slice(0, MAX_CARDS).map((test) => card(report, tests, test));
  const hidden = findings.length - cards.length;
  return `<section><h2>Findings in detail</h2><div class="cards">${cards.join('\n')}</div>${hidden > 0 ? `<p class="muted">…and ${plural(hidden, 'more finding')}; see report.json.</p>` : ''}</section>`;
}

function card(report: Report, tests: TestIndex, test: TestReport): string {
  const rows: [string, string][] = [];
  for (const p of test.polluters) {
    const probe = provingProbe(report, test.id, p.test, 'polluter');
    const proof = probe ? ` — probe <code>${t(probe.id)}</code> (seed ${probe.seed}) ran it first, then this test ${probe.failed.includes(test.id) ? 'failed' : 'passed'}` : '';
    rows.push(['Polluter', `${testName(tests, p.test)} <span class="tag ${p.confirmed ? 'confirmed' : 'suspected'}">${p.confirmed ? 'confirmed' : 'suspected'}</span>${proof}`]);
    for (const leak of viaLeaks(report, p.via)) rows.push(['Leaked object', leakDetail(leak)]);
  }
  for (const s of test.stateSetters) {
    const probe = provingProbe(report, test.id, s, 'state-setter');
    rows.push(['State-setter', `${testName(tests, s)}${probe ? ` — probe <code>${t(probe.id)}</code> ran it first, then this test ${probe.failed.includes(test.id) ? 'failed' : 'passed'}` : ''}`]);
  }
  for (const c of test.cleaners) {
    const probe = provingProbe(report, test.id, c, 'cleaner');
    const proof = probe
      ? ` — probe <code>${t(probe.id)}</code> ran it between the polluter and this test, which then ${probe.failed.includes(test.id) ? 'failed' : 'passed'}`
      : ' <span class="muted">— running it in between makes this test pass</span>';
    rows.push(['Cleaner', `${testName(tests, c)}${proof}`]);
  }
  const alone = aloneProbe(report, test.id);
  if (alone) rows.push(['Alone', `${alone.failed.includes(test.id) ? 'fails' : 'passes'} <span class="muted">(probe <code>${t(alone.id)}</code>)</span>`]);
  const failure = test.failures?.[0];
  if (failure) rows.push(['Failure', `<span class="muted">run <code>${t(failure.run)}</code> · ${t(failure.kind)}</span><pre>${pre(truncate(failure.message, 2000))}</pre>`]);
  else if (test.failureKinds.length) rows.push(['Failure', t(test.failureKinds.join(', '))]);
  if (test.hint) rows.push(['Fix', `<strong>${t(test.hint)}</strong>`]);
  if (test.reproduce) rows.push(['Reproduce', `<pre class="cmd">${pre(test.reproduce)}</pre>`]);
  return `<article class="card ${test.verdict}" id="${anchor(test.id)}">
<div class="card-head">${pill(test.verdict)} <h3>${t(test.name)}</h3></div>
<div class="loc">${t(location(test))}${test.suite ? ` · ${t(test.suite)}` : ''} · failed ${test.failed} of ${plural(test.passed + test.failed, 'run')}</div>
${test.why ? `<p class="why">${t(test.why)}</p>` : ''}
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
</article>`;
}

function leakDetail(leak: LeakReport): string {
  const fins = leak.finalizers.length ? `finalizers ${leak.finalizers.map((f) => `<code>${t(f)}</code>`).join(' ')}` : 'no finalizers';
  return `${leakChip(leak)} <span class="muted">${t(leak.apiVersion)} · ${fins}</span>`;
}

function leaksSection(report: Report, tests: TestIndex): string {
  const rows = report.leaks.map((leak) => {
    const origin = leak.createdBy
      ? `${testName(tests, leak.createdBy, 80)}${leak.attribution && leak.attribution !== 'exact' ? ` <span class="muted">(${t(leak.attribution)})</span>` : ''}`
      : leak.deletedBy
        ? `<span class="muted">deleted by</span> ${testName(tests, leak.deletedBy, 80)}`
        : '<span class="muted">unknown</span>';
    const state = `${leak.terminating ? '<span class="tag warn">terminating</span>' : '<span class="tag">live</span>'} ${leak.finalizers.map((f) => `<code>${t(f)}</code>`).join(' ')}`;
    return `<tr><td><code class="obj">${t(leakName(leak))}</code><div class="loc">${t(leak.apiVersion)}</div></td><td>${origin}</td><td>${leak.runs.map((r) => `<code>${t(r)}</code>`).join(' ')}</td><td>${state}</td></tr>`;
  });
  return `<section><h2>Leaked objects</h2>
<table class="grid"><thead><tr><th>Object</th><th>Created by</th><th>Runs</th><th>Terminating / finalizers</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`;
}

function cleanupSection(report: Report): string {
  const { cleanup } = report;
  const acts = [
    ...cleanup.deleted.map((a) => ({ what: cleanup.dryRun ? 'would delete' : 'deleted', object: a.object, run: a.run, note: a.reason ?? '' })),
    ...cleanup.finalizersRemoved.map((a) => ({ what: cleanup.dryRun ? 'would remove finalizers' : 'finalizers removed', object: a.object, run: a.run, note: a.reason ?? '' })),
    ...cleanup.left.map((a) => ({ what: 'left', object: a.object, run: a.run, note: a.why })),
  ];
  const errors = cleanup.errors ?? [];
  if (!acts.length && !errors.length && !cleanup.dryRun) return '';
  const summary = `${cleanup.dryRun ? '<span class="tag warn">dry run: nothing was changed</span> ' : ''}${cleanup.deleted.length} deleted · ${cleanup.finalizersRemoved.length} with finalizers removed · ${cleanup.left.length} left`;
  const rows = acts.map(
    (a) =>
      `<tr class="act-${a.what === 'left' ? 'left' : a.what.includes('finalizer') ? 'fin' : 'del'}"><td>${t(a.what)}</td><td><code class="obj">${t(leakName({ kind: a.object.kind, namespace: a.object.namespace ?? '', name: a.object.name }))}</code></td><td><code>${t(a.run)}</code></td><td>${t(a.note)}</td></tr>`,
  );
  return `<section><h2>Cleanup</h2><p>${summary}</p>${errors.map((e) => `<p class="error-text">${t(e)}</p>`).join('')}
${rows.length ? `<table class="grid"><thead><tr><th>Action</th><th>Object</th><th>After run</th><th>Why</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>` : ''}</section>`;
}

function runsSection(report: Report, tests: TestIndex): string {
  if (!report.runs.length) return '';
  const rows = report.runs.map(
    (run) =>
      `<tr${run.probe ? ' class="probe-row"' : ''}><td><code>${t(run.id)}</code></td><td class="num">${run.seed}</td><td class="num">${run.exitCode ?? '—'}</td><td class="num">${run.failed.length}${run.timedOut ? ' <span class="tag warn">timed out</span>' : ''}</td><td class="num">${formatDuration(run.durationMs)}</td><td>${run.orderSource ? t(run.orderSource) : ''}</td><td>${run.probe ? `${t(run.purpose ?? 'probe')}${run.subject ? ` for ${testName(tests, run.subject, 60)}` : ''}` : ''}</td></tr>`,
  );
  return `<section><h2>Runs</h2><table class="grid"><thead><tr><th>Run</th><th>Seed</th><th>Exit</th><th>Failed</th><th>Duration</th><th>Order from</th><th>Probe</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`;
}

function footer(report: Report): string {
  return `<footer>kubeflake${report.version ? ` ${t(report.version)}` : ''} · ${t(report.schema)}</footer>`;
}

const CSS = `
:root{--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--pass:#2da44e;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;--od:#8250df;--od-bg:#fbefff;--skip:#818b98;--skip-bg:#eff2f5}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace}
code{background:rgba(175,184,193,.2);padding:.1em .35em;border-radius:4px;word-break:break-word}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 10px;white-space:pre-wrap;word-break:break-word;margin:4px 0}
pre.cmd{background:#0d1117;color:#e6edf3;border-color:#0d1117}
h2{font-size:18px;margin:28px 0 10px}
section{margin-bottom:8px}
.banner{border-radius:10px;padding:20px 24px;color:#fff;background:linear-gradient(135deg,#6639ba,#8250df)}
.banner.clean{background:linear-gradient(135deg,#1a7f37,#2da44e)}
.banner.error{background:linear-gradient(135deg,#a40e26,#cf222e)}
.banner h1{margin:6px 0 4px;font-size:22px;line-height:1.3}
.banner .meta{margin:0;opacity:.9}
.banner code{background:rgba(255,255,255,.18);color:#fff}
.brand{font-weight:600;letter-spacing:.02em;opacity:.95}
.badge{display:inline-block;margin-left:8px;padding:1px 8px;border-radius:10px;background:rgba(255,255,255,.25);font-size:12px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:10px;margin:16px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;border-top:3px solid var(--line)}
.stat b{display:block;font-size:22px}
.stat span{color:var(--muted);font-size:12px}
.stat.order-dependent{border-top-color:var(--od)}.stat.brittle,.stat.flaky{border-top-color:var(--warn)}.stat.broken{border-top-color:var(--fail)}.stat.leak{border-top-color:var(--skip)}
.stat.zero b{color:var(--muted)}
table.grid{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
table.grid th,table.grid td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.grid th{background:#f6f8fa;font-size:12px;color:var(--muted);font-weight:600}
table.grid tr:last-child td{border-bottom:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.loc,.muted{color:var(--muted);font-size:12px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.pill.order-dependent{background:var(--od-bg);color:var(--od)}.pill.brittle,.pill.flaky{background:var(--warn-bg);color:var(--warn)}.pill.broken{background:var(--fail-bg);color:var(--fail)}.pill.stable{background:var(--pass-bg);color:var(--pass)}.pill.skipped{background:var(--skip-bg);color:var(--skip)}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;border:1px solid var(--line);color:var(--muted);white-space:nowrap}
.tag.confirmed{border-color:var(--pass);color:var(--pass)}.tag.suspected{border-color:var(--warn);color:var(--warn)}.tag.warn{border-color:var(--warn);color:var(--warn);background:var(--warn-bg)}.tag.setter{border-color:var(--warn);color:var(--warn)}.tag.role{color:var(--od);border-color:var(--od)}
code.obj{background:var(--skip-bg)}
table.findings td:nth-child(4){min-width:190px}
table.findings td:nth-child(2){min-width:240px}
.ok{background:var(--pass-bg);border:1px solid var(--pass);border-radius:8px;padding:10px 14px}
.errors{background:var(--fail-bg);border:1px solid var(--fail);border-radius:8px;padding:4px 16px;margin-top:16px}
.error-text{color:var(--fail)}
.legend{display:flex;gap:6px;align-items:center;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:6px 0 10px}
.legend .c{display:inline-block;width:22px;height:18px;line-height:18px;text-align:center;border-radius:3px;margin-left:8px}
.matrix-wrap{overflow:auto;max-height:720px;background:var(--card);border:1px solid var(--line);border-radius:8px}
table.matrix{border-collapse:separate;border-spacing:2px;font-size:11px}
table.matrix th.label{position:sticky;left:0;background:var(--card);text-align:left;font-weight:400;min-width:260px;max-width:360px;padding:2px 8px;z-index:1}
table.matrix thead th{position:sticky;top:0;background:var(--card);z-index:2}
table.matrix thead th.label{z-index:3}
table.matrix th.run{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;color:var(--muted);padding:4px 0;height:72px}
table.matrix th.run.probe{color:var(--od)}
table.matrix tr.finding th.label .name{font-weight:600}
.roles{line-height:1}
.c{width:24px;min-width:24px;height:20px;text-align:center;border-radius:3px;font-variant-numeric:tabular-nums;color:#fff;font-weight:600}
.c.pass{background:var(--pass)}
.c.fail{background:var(--fail);box-shadow:0 0 0 1px #82071e inset}
.c.skip{background:var(--skip-bg);color:var(--skip)}
.c.absent{background:#fff;border:1px dashed var(--line)}
.c.probe{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.28) 0 3px,transparent 3px 6px)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
.card.order-dependent{border-left-color:var(--od)}.card.brittle,.card.flaky{border-left-color:var(--warn)}.card.broken{border-left-color:var(--fail)}
.card-head{display:flex;gap:8px;align-items:baseline}
.card h3{margin:0;font-size:15px;word-break:break-word}
.why{margin:8px 0}
dl{display:grid;grid-template-columns:110px 1fr;gap:6px 12px;margin:10px 0 0}
dt{color:var(--muted);font-size:12px;font-weight:600;padding-top:2px}
dd{margin:0;min-width:0;word-break:break-word}
tr.probe-row td{background:#fbf8ff}
footer{color:var(--muted);font-size:12px;margin:28px 0 8px;text-align:center}
`;
