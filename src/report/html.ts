// A single self-contained HTML page: verdict header, findings, a run x test heatmap that shows
// order dependence at a glance, each victim's failing orders on a timeline, a card a finding,
// leaks by test, cleanup and runs. Inline CSS and one small fixed script (the copy buttons),
// both pinned by hash in a Content-Security-Policy that also forbids every network load; every
// string from the suite or cluster is escaped. Readable at 400 px, usable by keyboard, dark mode.

import { createHash } from 'node:crypto';
import { DELETED_NAMESPACE_HINT, type LeakReport, type Report, type RunReport, type TestId, type TestReport, type Verdict } from '../model.ts';
import { ALL_VERDICTS, FINDING_VERDICTS, VERDICTS } from '../verdict-table.ts';
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
  probeOutcome,
  probesAbout,
  viaLeaks,
  fixSentence,
  creatorEvidence,
  leakRows,
  deletedNamespaceCreators,
  deletedNamespaceTitle,
  type DeletedNamespaceGroup,
  type TestIndex,
} from './findings.ts';
import { escapeHtml, formatDuration, oneLine, plural, truncate, visibleControls } from './text.ts';
import { chainText, decidedText, hazardCounts, hazardGroupCounts, hazardGroups, hazardGroupText } from './record-text.ts';

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

/** Latent hazards from the record: one row per object and first spec (its victims listed), fired first, counts before names. */
function hazardsSection(report: Report, tests: TestIndex): string {
  const hazards = report.hazards ?? [];
  if (!hazards.length) return '';
  const name = (id: string): string => tests.name(id);
  const groups = hazardGroups(hazards);
  const fired = hazards.filter((h) => h.outcome === 'fired').length;
  const rows = groups.map((g) => {
    const outcome = g.hazards[0]?.outcome;
    const tag = g.fired ? '<span class="tag fail">fired</span>' : `<span class="tag suspected">${outcome === 'held-off' ? 'never fired' : 'never met'}</span>`;
    const counts = hazardGroupCounts(g);
    const victims = g.hazards.map((h) => testName(tests, h.second, 80)).join(', ');
    return `<li>${tag} <b>${t(counts)}</b> · ${testName(tests, g.first, 80)} → ${victims}<br><span class="muted">${t(hazardGroupText(g, name))}</span></li>`;
  });
  return `<section><h2>Hazards</h2>
<p class="muted">${t(hazardCounts(hazards.length, groups.length, fired))}. Pairs of specs that meet on one object name, found in the API server's record of the runs: one leaves the object held (terminating) past its own end, or creates what the other reads. A hazard that never fired is a warning, with its measured window and margins; one that fired is a finding. One line per object and the spec that leaves it.</p>
<ul class="hazards">${rows.join('\n')}</ul></section>`;
}

export function renderHtml(report: Report): string {
  const tests = indexTests(report);
  const findings = findingTests(report);
  const title = `kubeflake: ${headline(report)}`;
  const sections: [id: string, label: string, html: string][] = [
    ['errors', 'Errors', report.errors?.length ? errorsSection(report.errors) : ''],
    ['findings', 'Findings', findings.length ? findingsSection(report, tests, findings) : cleanSection(report)],
    ['heatmap', 'Heatmap', matrixSection(report, tests, findings)],
    ['timelines', 'Failing orders', timelinesSection(report, tests, findings)],
    ['details', 'Details', findings.length ? cardsSection(report, tests, findings) : ''],
    ['hazards', 'Hazards', hazardsSection(report, tests)],
    ['leaks', 'Leaks', report.leaks.length ? leaksSection(report, tests) : ''],
    ['cleanup', 'Cleanup', cleanupSection(report)],
    ['runs', 'Runs', runsSection(report, tests)],
  ];
  const present = sections.filter(([, , html]) => html);
  const nav = `<nav class="toc" aria-label="Sections">${present.map(([id, label]) => `<a href="#${id}">${label}</a>`).join('')}</nav>`;
  const body = [
    header(report),
    nav,
    stats(report),
    ...present.map(([id, , html]) => html.replace(/^<section/, `<section id="${id}"`)),
    footer(report),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${t(truncate(title, 200))}</title>
<style>${CSS}</style>
</head>
<body>
<a class="skip" href="#findings">Skip to the findings</a>
<main>
${body}
</main>
<script>${SCRIPT}</script>
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
<p class="meta"><code>${t(report.command)}</code> · ${t(report.framework)} · ${report.cluster === 'none' ? 'no shared cluster' : `${t(report.cluster)} cluster`}${report.generatedAt ? ` · ${t(report.generatedAt)}` : ''}</p>
</header>`;
}

function stats(report: Report): string {
  const counts = countVerdicts(report);
  const tiles: [string, number, string][] = [
    ['Runs', plannedRuns(report).length, ''],
    ['Probes', probeRuns(report).length, ''],
    ['Tests', report.tests.length, ''],
    ...FINDING_VERDICTS.map((verdict): [string, number, string] => [VERDICTS[verdict].label, counts[verdict], verdict]),
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
  return `<section><h2>Findings</h2><p class="ok">No ${FINDING_NAMES} tests: ${plural(counts.stable, 'test')} passed in every one of ${plural(plannedRuns(report).length, 'run')}.</p></section>`;
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
<td data-label="Verdict">${pill(test.verdict)}</td>
<td data-label="Test"><a href="#${anchor(test.id)}">${testName(tests, test.id)}</a><div class="loc">${t(location(test))}</div></td>
<td data-label="Polluter / state-setter">${causes.length ? causes.slice(0, 5).join('<br>') : `<span class="muted">${t(VERDICTS[test.verdict].noCause)}</span>`}</td>
<td data-label="Leaked object">${leaks.length ? leaks.slice(0, 5).map(leakChip).join('<br>') : '<span class="muted">—</span>'}</td>
<td data-label="Fix hint">${test.hint ? t(test.hint) : t(test.failureKinds.join(', '))}</td>
</tr>`;
  });
  return `<section><h2>Findings</h2>
<table class="grid findings stack"><thead><tr><th>Verdict</th><th>Test</th><th>Polluter / state-setter</th><th>Leaked object</th><th>Fix hint</th></tr></thead>
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
  return `<section><h2>Run × test heatmap</h2>
<p class="muted">Each column is a run (probes hatched), each row a test. The number is the test's position in that run's order (hover a cell for details): a victim fails in the columns where its polluter ran earlier.</p>
<div class="legend"><span class="c pass">3</span> passed <span class="c fail">7</span> failed <span class="c skip">s</span> skipped <span class="c absent"></span> not run <span class="c pass probe">2</span> probe</div>
<div class="matrix-wrap" tabindex="0" role="region" aria-label="Run by test heatmap, scrollable"><table class="matrix"><thead><tr><th class="label">Test</th>${head}</tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>${hidden > 0 ? `<p class="muted">…and ${plural(hidden, 'more stable test')} not drawn.</p>` : ''}</section>`;
}

function runTitle(run: RunReport, tests: TestIndex): string {
  const parts = [`${run.id} seed ${run.seed}`, `${run.failed.length} failed`, formatDuration(run.durationMs)];
  if (run.probe) parts.push(`probe${run.purpose ? ` (${run.purpose})` : ''}${run.subject ? ` for ${tests.name(run.subject)}` : ''}`);
  if (run.timedOut) parts.push('timed out');
  return parts.join(', ');
}

/** Failing orders drawn per victim, at most this many each. */
const MAX_TIMELINES = 6;

/**
 * For each victim, the runs it failed in, as the order they ran: the polluter, the object it
 * left behind and the victim highlighted, the tests in between folded into counts.
 */
function timelinesSection(report: Report, tests: TestIndex, findings: TestReport[]): string {
  const victims = findings.filter((test) => test.verdict === 'order-dependent' && test.polluters.length > 0);
  if (!victims.length) return '';
  const blocks = victims.map((victim) => {
    const failing = report.runs.filter((run) => run.failed.includes(victim.id) && run.order.includes(victim.id));
    const shown = [...failing.filter((run) => !run.probe), ...failing.filter((run) => run.probe)].slice(0, MAX_TIMELINES);
    const drawn = shown.map((run) => timeline(report, tests, victim, run)).join('\n');
    const more = failing.length - shown.length;
    return `<article class="victim"><h3>${testName(tests, victim.id, 160)}</h3>
<p class="muted">failed in ${plural(failing.length, 'order')}${failing.length ? ', each with its polluter earlier in the run' : ''}</p>
${drawn || '<p class="muted">No failing order recorded its position.</p>'}${more > 0 ? `<p class="muted">…and ${plural(more, 'more failing order')}.</p>` : ''}</article>`;
  });
  return `<section><h2>Failing orders</h2>
<p class="muted">Each line is one run in which a victim failed, in the order its tests ran. The polluter, what it left in the cluster, and the victim are highlighted; the tests between them are folded.</p>
${blocks.join('\n')}</section>`;
}

function timeline(report: Report, tests: TestIndex, victim: TestReport, run: RunReport): string {
  const at = run.order.indexOf(victim.id);
  const polluters = new Map(victim.polluters.map((p) => [p.test, p] as const));
  const cleaners = new Set(victim.cleaners);
  const items: string[] = [];
  let folded: TestId[] = [];
  const fold = () => {
    if (!folded.length) return;
    const names = folded.slice(0, 12).map((id) => tests.name(id)).join('\n') + (folded.length > 12 ? '\n…' : '');
    items.push(`<li><span class="step fold" title="${pre(names)}">${plural(folded.length, 'other test')}</span></li>`);
    folded = [];
  };
  run.order.slice(0, at + 1).forEach((id, index) => {
    const polluter = polluters.get(id);
    if (id === victim.id) {
      fold();
      const kind = victim.failures?.find((f) => f.run === run.id)?.kind ?? victim.failureKinds[0];
      items.push(`<li><div class="step victim"><div><span class="pos">#${index + 1}</span> ${testName(tests, id, 90)} <span class="tag fail">failed${kind ? `: ${t(kind)}` : ''}</span></div></div></li>`);
    } else if (polluter) {
      fold();
      const left = viaLeaks(report, polluter.via)
        .map((leak) => `<div class="leaked">left ${leakChip(leak)}${leak.runs.includes(run.id) ? ' <span class="muted">still there after this run</span>' : ''}</div>`)
        .join('');
      // The run whose record proved the link shows the chain under the polluter.
      const chain = polluter.link?.run === run.id ? `<div class="leaked"><span class="muted">the record:</span> ${t(chainText(polluter.link))}</div>` : '';
      items.push(`<li><div class="step polluter"><div><span class="pos">#${index + 1}</span> ${testName(tests, id, 90)} <span class="tag ${polluter.confirmed ? 'confirmed' : 'suspected'}">polluter${polluter.confirmed ? ', confirmed' : ''}</span></div>${left}${chain}</div></li>`);
    } else if (cleaners.has(id)) {
      fold();
      items.push(`<li><div class="step cleaner"><div><span class="pos">#${index + 1}</span> ${testName(tests, id, 90)} <span class="tag">cleaner</span></div></div></li>`);
    } else {
      folded.push(id);
    }
  });
  fold();
  const label = run.probe ? `probe ${t(run.id)}${run.purpose ? ` (${t(run.purpose)})` : ''}` : `run ${t(run.id)}`;
  return `<div class="order"><div class="order-head"><b>${label}</b> <span class="muted">seed ${run.seed} · failed at position ${at + 1} of ${run.order.length}</span></div>
<ol class="timeline">${items.join('')}</ol></div>`;
}

/** A command in a box, with a button that copies it (the page's one script). */
function copyable(id: string, command: string): string {
  return `<div class="copyable"><pre class="cmd" id="${id}">${pre(command)}</pre><button type="button" class="copy" data-copy="${id}" aria-label="Copy the reproduce command">Copy</button></div>`;
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
    rows.push(['Polluter', `${testName(tests, p.test)} <span class="tag ${p.confirmed ? 'confirmed' : 'suspected'}">${p.confirmed ? 'confirmed' : 'suspected'}</span>${p.decidedBy === 'record' || p.after ? ` <span class="muted">${t(decidedText(p))}</span>` : ''}${p.decidedBy === 'record' ? '' : proof}`]);
    if (p.link) rows.push(['Chain', `<span class="muted">record of run <code>${t(p.link.run)}</code>:</span> ${testName(tests, p.test, 80)} ${t(chainText(p.link))}`]);
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
  const probes = probesAbout(report, test.id);
  if (probes.length) rows.push(['Probes', probesFold(tests, test, probes)]);
  const alone = aloneProbe(report, test.id);
  if (alone) rows.push(['Alone', `${alone.failed.includes(test.id) ? 'fails' : 'passes'} <span class="muted">(probe <code>${t(alone.id)}</code>)</span>`]);
  const failure = test.failures?.[0];
  if (failure) rows.push(['Failure', `<span class="muted">run <code>${t(failure.run)}</code> · ${t(failure.kind)}</span><pre>${pre(truncate(failure.message, 2000))}</pre>`]);
  else if (test.failureKinds.length) rows.push(['Failure', t(test.failureKinds.join(', '))]);
  if (test.hint) rows.push(['Fix', `<strong>${t(test.hint)}</strong>`]);
  if (test.fix) rows.push(['Patch', `${t(fixSentence(test.fix, (id) => tests.name(id)))}${test.fix.patch ? `<pre class="diff">${pre(test.fix.patch)}</pre>` : ''}`]);
  if (test.reproduce) rows.push(['Reproduce', copyable(`cmd-${anchor(test.id)}`, test.reproduce)]);
  return `<article class="card ${test.verdict}" id="${anchor(test.id)}">
<div class="card-head">${pill(test.verdict)} <h3>${t(test.name)}</h3></div>
<div class="loc">${t(location(test))}${test.suite ? ` · ${t(test.suite)}` : ''} · failed ${test.failed} of ${plural(test.passed + test.failed, 'run')}</div>
${test.why ? `<p class="why">${t(test.why)}</p>` : ''}
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
</article>`;
}

/** Probes listed behind a fold: the `why` sentence counts them, this names them. */
const MAX_PROBES_LISTED = 20;

function probesFold(tests: TestIndex, test: TestReport, probes: RunReport[]): string {
  const items = probes.slice(0, MAX_PROBES_LISTED).map((run) => {
    const { before, outcome } = probeOutcome(run, test.id);
    const names = before.slice(0, 3).map((id) => testName(tests, id, 60)).join(', ') + (before.length > 3 ? ` and ${before.length - 3} more` : '');
    return `<li><code>${t(run.id)}</code> ${t(run.purpose ?? 'probe')}, seed ${run.seed}${before.length ? `, after ${names}` : run.purpose === 'alone' ? '' : ', first'}: <span class="tag${outcome === 'failed' ? ' fail' : ''}">${outcome}</span></li>`;
  });
  const more = probes.length - items.length;
  return `<details class="probes"><summary>${plural(probes.length, 'probe')}</summary><ul>${items.join('')}${more > 0 ? `<li class="muted">…and ${plural(more, 'more probe')} (report.json runs)</li>` : ''}</ul></details>`;
}

function leakDetail(leak: LeakReport): string {
  const fins = leak.finalizers.length ? `finalizers ${leak.finalizers.map((f) => `<code>${t(f)}</code>`).join(' ')}` : 'no finalizers';
  return `${leakChip(leak)} <span class="muted">${t(leak.apiVersion)} · ${fins}</span>`;
}

function leaksSection(report: Report, tests: TestIndex): string {
  // Grouped by the test that created them: the fix lives in that test. What the specs left in
  // envtest's deleted namespaces is one row a kind, under its own hint, said once.
  const groups = new Map<string, LeakReport[]>();
  const deletedNamespaces: DeletedNamespaceGroup[] = [];
  for (const row of leakRows(report.leaks)) {
    if ('group' in row) {
      deletedNamespaces.push(row.group);
      continue;
    }
    const { leak } = row;
    const key = leak.createdBy ? `c:${leak.createdBy}` : leak.deletedBy ? `d:${leak.deletedBy}` : 'u:';
    groups.set(key, [...(groups.get(key) ?? []), leak]);
  }
  const body = [...groups].map(([key, leaks]) => {
    const id = key.slice(2);
    const heading = key.startsWith('c:') ? `created by ${testName(tests, id, 100)}`
      : key.startsWith('d:') ? `deleted from the baseline by ${testName(tests, id, 100)}`
      : 'not attributed to a test';
    const rows = leaks.map((leak) => {
      const others = (leak.candidates ?? []).filter((c) => c !== leak.createdBy);
      const evidence = creatorEvidence(leak);
      const how = others.length > 0
        ? ` <span class="muted">(a guess: ${others.map((c) => testName(tests, c, 60)).join(', ')} possible too${evidence ? `; ${t(evidence)}` : ''})</span>`
        : evidence ? ` <span class="muted">(${t(evidence)})</span>`
        : leak.attribution && leak.attribution !== 'exact' ? ` <span class="muted">(${t(leak.attribution)} attribution)</span>` : '';
      const state = `${leak.terminating ? '<span class="tag warn">terminating</span>' : '<span class="tag">live</span>'} ${leak.finalizers.map((f) => `<code>${t(f)}</code>`).join(' ')}`;
      return `<tr><td data-label="Object"><code class="obj">${t(leakName(leak))}</code><div class="loc">${t(leak.apiVersion)}${how}</div></td><td data-label="After runs">${leak.runs.map((r) => `<code>${t(r)}</code>`).join(' ')}</td><td data-label="State">${state}</td></tr>`;
    });
    return `<tbody><tr class="group"><th colspan="3">${plural(leaks.length, 'object')} ${heading}</th></tr>${rows.join('\n')}</tbody>`;
  });
  if (deletedNamespaces.length) body.push(deletedNamespacesBody(deletedNamespaces, tests));
  return `<section><h2>Leaks by test</h2>
<table class="grid leaks stack"><thead><tr><th>Object</th><th>After runs</th><th>Terminating / finalizers</th></tr></thead>${body.join('\n')}</table></section>`;
}

/** The objects left in envtest's deleted namespaces: the hint once, then one row a kind, each object listed behind a fold. */
function deletedNamespacesBody(groups: DeletedNamespaceGroup[], tests: TestIndex): string {
  const label = (id: TestId): string => tests.name(id);
  const objects = groups.reduce((n, g) => n + g.leaks.length, 0);
  const rows = groups.map((group) => {
    const terminating = group.leaks.filter((l) => l.terminating).length;
    const live = group.leaks.length - terminating;
    const finalizers = [...new Set(group.leaks.flatMap((l) => l.finalizers))];
    const state = `${terminating ? `<span class="tag warn">${terminating.toLocaleString('en-US')} terminating</span> ` : ''}${live ? `<span class="tag">${live.toLocaleString('en-US')} live</span> ` : ''}${finalizers.map((f) => `<code>${t(f)}</code>`).join(' ')}`;
    const runs = [...new Set(group.leaks.flatMap((l) => l.runs))].sort();
    const list = group.leaks.map((l) => `<code class="obj">${t(leakName(l))}</code>`).join(' ');
    return `<tr><td data-label="Object">${t(deletedNamespaceTitle(group))}<div class="loc">${t(group.apiVersion)} · created by ${t(deletedNamespaceCreators(group, label))}</div><details><summary>${plural(group.leaks.length, 'object')}</summary>${list}</details></td><td data-label="After runs">${runs.map((r) => `<code>${t(r)}</code>`).join(' ')}</td><td data-label="State">${state}</td></tr>`;
  });
  return `<tbody><tr class="group"><th colspan="3">${plural(objects, 'object')} left in namespaces the suite deleted (envtest)</th></tr><tr><td colspan="3" class="muted">${t(DELETED_NAMESPACE_HINT)}</td></tr>${rows.join('\n')}</tbody>`;
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
      `<tr class="act-${a.what === 'left' ? 'left' : a.what.includes('finalizer') ? 'fin' : 'del'}"><td data-label="Action">${t(a.what)}</td><td data-label="Object"><code class="obj">${t(leakName({ kind: a.object.kind, namespace: a.object.namespace ?? '', name: a.object.name }))}</code></td><td data-label="After run"><code>${t(a.run)}</code></td><td data-label="Why">${t(a.note)}</td></tr>`,
  );
  return `<section><h2>Cleanup</h2><p>${summary}</p>${errors.map((e) => `<p class="error-text">${t(e)}</p>`).join('')}
${rows.length ? `<table class="grid stack"><thead><tr><th>Action</th><th>Object</th><th>After run</th><th>Why</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>` : ''}</section>`;
}

/** A run no verdict was built on, and why: an infrastructure run's cause, or the signal that cut it. */
function notJudged(run: Report['runs'][number]): string {
  if (run.interrupted) return ` <span class="tag warn">interrupted by ${t(run.interrupted.signal)}: not judged</span>`;
  if (run.infrastructure) return ` <span class="tag warn" title="${t(run.infrastructure.cause)}">infrastructure: not judged</span> ${t(truncate(run.infrastructure.cause, 200))}`;
  return '';
}

function runsSection(report: Report, tests: TestIndex): string {
  if (!report.runs.length) return '';
  const rows = report.runs.map((run) => {
    const probe = run.probe ? `${t(run.purpose ?? 'probe')}${run.subject ? ` for ${testName(tests, run.subject, 60)}` : ''}` : '';
    return `<tr${run.probe ? ' class="probe-row"' : ''}><td data-label="Run"><code class="id">${t(run.id)}</code></td><td class="num" data-label="Seed">${run.seed}</td>` +
      `<td class="num" data-label="Exit">${run.exitCode ?? '—'}</td><td class="num" data-label="Failed">${run.failed.length}${run.timedOut ? ' <span class="tag warn">timed out</span>' : ''}${notJudged(run)}</td>` +
      `<td class="num" data-label="Duration">${formatDuration(run.durationMs)}</td><td data-label="Order from">${run.orderSource ? t(run.orderSource) : ''}</td>` +
      `<td${probe ? ' data-label="Probe"' : ''}>${probe}</td></tr>`;
  });
  return `<section><h2>Runs</h2><table class="grid runs stack"><thead><tr><th>Run</th><th>Seed</th><th>Exit</th><th>Failed</th><th>Duration</th><th>Order from</th><th>Probe</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`;
}

function footer(report: Report): string {
  return `<footer>kubeflake${report.version ? ` ${t(report.version)}` : ''} · ${t(report.schema)}</footer>`;
}

// Copies the text of the element a button names. navigator.clipboard where the page may use it,
// else select the text and execCommand (file:// pages in some browsers); says what happened.
const SCRIPT = `
document.addEventListener('click', function (event) {
  var button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  var source = document.getElementById(button.getAttribute('data-copy'));
  if (!source) return;
  var text = source.textContent || '';
  var say = function (label) {
    button.textContent = label;
    setTimeout(function () { button.textContent = 'Copy'; }, 2000);
  };
  var fallback = function () {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
    say(copied ? 'Copied' : 'Selected: press Ctrl+C');
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(function () { say('Copied'); }, fallback);
  else fallback();
});
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const BASE_CSS = `
:root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--code:rgba(175,184,193,.2);--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;--od:#8250df;--od-bg:#fbefff;--skip:#6e7781;--skip-bg:#eff2f5;--focus:#0969da;--cell-fg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--head:#1b222c;--code:rgba(101,108,118,.3);--pass:#3fb950;--pass-bg:#12261e;--fail:#f85149;--fail-bg:#2d1418;--warn:#d29922;--warn-bg:#2b2111;--od:#ab7df8;--od-bg:#231c33;--skip:#8b949e;--skip-bg:#212830;--focus:#4493f8;--cell-fg:#0d1117}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
a{color:var(--focus)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:8px;top:-48px;background:var(--card);color:var(--fg);padding:8px 12px;border:2px solid var(--focus);border-radius:6px;z-index:10}
.skip:focus{top:8px}
code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace}
code{background:var(--code);padding:.1em .35em;border-radius:4px;word-break:break-word}
pre{background:var(--head);border:1px solid var(--line);border-radius:6px;padding:8px 10px;white-space:pre-wrap;word-break:break-word;margin:4px 0}
pre.cmd{background:#0d1117;color:#e6edf3;border-color:#3d444d;margin:0}
h2{font-size:18px;margin:28px 0 10px}
section{margin-bottom:8px;scroll-margin-top:12px}
.banner{border-radius:10px;padding:20px 24px;color:#fff;background:linear-gradient(135deg,#6639ba,#8250df)}
.banner.clean{background:linear-gradient(135deg,#1a7f37,#2da44e)}
.banner.error{background:linear-gradient(135deg,#a40e26,#cf222e)}
.banner h1{margin:6px 0 4px;font-size:22px;line-height:1.3;word-break:break-word}
.banner .meta{margin:0;opacity:.95;word-break:break-word}
.banner code{background:rgba(255,255,255,.18);color:#fff}
.brand{font-weight:600;letter-spacing:.02em}
.badge{display:inline-block;margin-left:8px;padding:1px 8px;border-radius:10px;background:rgba(255,255,255,.25);font-size:12px}
.toc{display:flex;flex-wrap:wrap;gap:6px;margin:12px 0 0}
.toc a{padding:4px 10px;border:1px solid var(--line);border-radius:14px;background:var(--card);text-decoration:none;font-size:13px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(110px,1fr));gap:10px;margin:16px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;border-top:3px solid var(--line)}
.stat b{display:block;font-size:22px}
.stat span{color:var(--muted);font-size:12px}
.stat.leak{border-top-color:var(--skip)}
.stat.zero b{color:var(--muted)}
table.grid{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
table.grid th,table.grid td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.grid th{background:var(--head);font-size:12px;color:var(--muted);font-weight:600}
table.grid tr:last-child td{border-bottom:0}
table.grid tr.group th{background:var(--card);color:var(--fg);font-size:13px;border-top:2px solid var(--line)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code.id{white-space:nowrap}
.loc,.muted{color:var(--muted);font-size:12px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;border:1px solid var(--line);color:var(--muted);white-space:nowrap}
.tag.confirmed{border-color:var(--pass);color:var(--pass)}.tag.suspected{border-color:var(--warn);color:var(--warn)}.tag.warn{border-color:var(--warn);color:var(--warn);background:var(--warn-bg)}.tag.setter{border-color:var(--warn);color:var(--warn)}.tag.role{color:var(--od);border-color:var(--od)}.tag.fail{border-color:var(--fail);color:var(--fail);background:var(--fail-bg)}
code.obj{background:var(--skip-bg)}
table.findings td:nth-child(4){min-width:190px}
table.findings td:nth-child(2){min-width:220px}
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
.c{width:24px;min-width:24px;height:20px;text-align:center;border-radius:3px;font-variant-numeric:tabular-nums;color:var(--cell-fg);font-weight:600}
.c.pass{background:var(--pass)}
.c.fail{background:var(--fail);box-shadow:0 0 0 2px var(--fg) inset}
.c.skip{background:var(--skip-bg);color:var(--skip);border:1px solid var(--line)}
.c.absent{background:transparent;border:1px dashed var(--line)}
.c.probe{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.35) 0 3px,transparent 3px 6px)}
.c.absent.probe{background-image:none}
.victim{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--od);border-radius:8px;padding:12px 16px;margin-bottom:12px}
.victim h3{margin:0;font-size:15px;word-break:break-word}
.order{margin:10px 0 0}
.order-head{font-size:13px;margin-bottom:4px}
ol.timeline{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;align-items:stretch;gap:6px}
ol.timeline li{display:flex;align-items:center;gap:6px;min-width:0;max-width:100%}
ol.timeline li+li::before{content:"\\2192";color:var(--muted);font-weight:700}
.step{min-width:0;word-break:break-word}
.step.fold{color:var(--muted);font-size:12px;font-style:italic;padding:0 2px}
.step.polluter,.step.victim,.step.cleaner{border:1px solid var(--line);border-radius:6px;padding:4px 8px}
.step.polluter{border:2px solid var(--od);background:var(--od-bg)}
.step.victim{border:2px solid var(--fail);background:var(--fail-bg)}
.step .pos{font-weight:700;font-variant-numeric:tabular-nums;color:var(--muted)}
.leaked{font-size:12px;color:var(--warn);margin-top:4px}
.leaked code.obj{background:var(--warn-bg);outline:1px solid var(--warn)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(520px,100%),1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
.card-head{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.card h3{margin:0;font-size:15px;word-break:break-word}
.why{margin:8px 0}
dl{display:grid;grid-template-columns:110px minmax(0,1fr);gap:6px 12px;margin:10px 0 0}
dt{color:var(--muted);font-size:12px;font-weight:600;padding-top:2px}
dd{margin:0;min-width:0;word-break:break-word}
.copyable{display:flex;gap:6px;align-items:flex-start}
.copyable pre{flex:1;min-width:0}
button.copy{font:inherit;font-size:12px;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--head);color:var(--fg);cursor:pointer;white-space:nowrap}
button.copy:hover{border-color:var(--focus)}
details.probes summary{cursor:pointer;color:var(--muted);font-size:12px}
details.probes ul{margin:4px 0 0;padding-left:18px;font-size:12px}
tr.probe-row td{background:var(--od-bg)}
footer{color:var(--muted);font-size:12px;margin:28px 0 8px;text-align:center}
@media (max-width:640px){
main{padding:12px}
.banner{padding:14px 16px}
.banner h1{font-size:18px}
table.stack,table.stack tbody,table.stack tr,table.stack td,table.stack th{display:block;width:100%}
table.stack thead{display:none}
table.stack tr{border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{border:0;padding:4px 10px;min-width:0!important}
table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:11px;font-weight:600;color:var(--muted)}
table.stack tr.group{padding:0}
table.runs.stack td.num{text-align:left}
table.runs.stack tr{display:grid;grid-template-columns:repeat(3,minmax(0,1fr))}
table.runs.stack td:last-child{grid-column:1/-1}
table.runs.stack td:empty{display:none}
table.matrix th.label{min-width:150px;max-width:180px}
dl{grid-template-columns:1fr}
dt{padding-top:6px}
.copyable{flex-direction:column;align-items:stretch}
}
`;

/** Each verdict's stat card, pill and card border, in its colour from the table of verdicts. */
const VERDICT_CSS = ALL_VERDICTS.map((verdict) => {
  const c = VERDICTS[verdict].colour;
  return `.stat.${verdict}{border-top-color:var(--${c})}.pill.${verdict}{background:var(--${c}-bg);color:var(--${c})}.card.${verdict}{border-left-color:var(--${c})}`;
}).join('\n');

const CSS = `${BASE_CSS}${VERDICT_CSS}\n`;

/** "order-dependent, brittle, broken or flaky": every finding verdict, for the clean report's sentence. */
const FINDING_NAMES = `${FINDING_VERDICTS.slice(0, -1).join(', ')} or ${FINDING_VERDICTS.at(-1)}`;

const CSP = `default-src 'none'; style-src ${sha256(CSS)}; script-src ${sha256(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;

