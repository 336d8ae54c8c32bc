// The PR comment / job summary: verdict line, findings table, a section a victim, the
// polluter -> leaked object -> victim diagram, leaks, cleanup and runs. Fits GitHub's comment
// limit by showing less (fewer rows, collapsed sections), never by cutting markup in half.

import { DELETED_NAMESPACE_HINT, type LeakReport, type Report, type RunReport, type TestId, type TestReport } from '../model.ts';
import { VERDICTS } from '../verdict-table.ts';
import {
  findingTests,
  headline,
  indexTests,
  leakName,
  location,
  plannedRuns,
  probeRuns,
  provingProbe,
  aloneProbe,
  viaLeaks,
  describeCreator,
  probeOutcome,
  probesAbout,
  fixSentence,
  leakRows,
  objectsIn,
  deletedNamespaceCreators,
  deletedNamespaceTitle,
  type DeletedNamespaceGroup,
  type TestIndex,
} from './findings.ts';
import { formatDuration, mdCode, mdFence, mdText, mermaidLabel, plural, safeUrl, truncate } from './text.ts';
import { damageSentence } from '../ingest/damage.ts';
import { chainEdges, chainText, decidedText, hazardCounts, hazardGroupCounts, hazardGroups, hazardGroupText } from './record-text.ts';

/** GitHub rejects issue and PR comment bodies longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** Hidden in the rendered comment; the sticky-comment updater finds its own comment by it. */
export const REPORT_MARKER = '<!-- kubeflake:report -->';

/** GitHub's job summary limit: 1 MiB of UTF-8 a step; a little is kept for the publishing notes. */
export const GITHUB_SUMMARY_BYTES = 1024 * 1024;

/** The job summary: the same markdown, shrunk until its UTF-8 fits the step's limit. */
export function renderSummary(report: Report, opts: MarkdownOptions = {}): string {
  for (let max = GITHUB_SUMMARY_BYTES; ; max = Math.floor(max / 2)) {
    const text = renderMarkdown(report, { ...opts, maxLength: max });
    if (Buffer.byteLength(text) <= GITHUB_SUMMARY_BYTES - 8192 || max < 1024) return text;
  }
}

export interface MarkdownOptions {
  /** Longest body to return, in UTF-16 code units (never more than GitHub counts). Default 65,536. */
  maxLength?: number;
  /** Where the full report (HTML, report.json, raw runs) can be downloaded. */
  artifactUrl?: string;
  /** Shown before the verdict line; default "kubeflake". */
  title?: string;
  /** Links each test's file:line to the file at the run's commit (paths must be repository-relative). */
  source?: SourceLinks;
  /** Plain text shown under a finding's name, e.g. what the nightly history knows of it. */
  notes?: ReadonlyMap<TestId, string>;
  /** Findings a quarantine entry covers, with its reason: shown in their own section. */
  quarantined?: ReadonlyMap<TestId, string>;
  /** Markdown blocks (already escaped) shown before the footer, e.g. "earlier on this PR". */
  blocks?: string[];
}

export interface SourceLinks {
  /** GITHUB_SERVER_URL, e.g. https://github.com */
  serverUrl: string;
  /** owner/repo */
  repository: string;
  sha: string;
}

/** How much of each list to show; renderMarkdown tries these from the first until one fits. */
interface Limits {
  findings: number;
  victims: number;
  /** Victim sections shown open; the rest go inside one <details>. */
  openVictims: number;
  leaks: number;
  cleanup: number;
  runs: number;
  edges: number;
  /** Longest failure message quoted in a victim section. */
  message: number;
}

const ALL = Number.POSITIVE_INFINITY;
const STEPS: Limits[] = [
  { findings: ALL, victims: ALL, openVictims: 5, leaks: ALL, cleanup: ALL, runs: ALL, edges: 80, message: 1200 },
  { findings: 200, victims: 40, openVictims: 5, leaks: 100, cleanup: 50, runs: 60, edges: 60, message: 600 },
  { findings: 100, victims: 20, openVictims: 5, leaks: 50, cleanup: 25, runs: 30, edges: 40, message: 400 },
  { findings: 50, victims: 10, openVictims: 3, leaks: 25, cleanup: 10, runs: 15, edges: 25, message: 300 },
  { findings: 25, victims: 5, openVictims: 3, leaks: 10, cleanup: 5, runs: 0, edges: 15, message: 200 },
  { findings: 10, victims: 2, openVictims: 2, leaks: 5, cleanup: 0, runs: 0, edges: 0, message: 200 },
  { findings: 5, victims: 0, openVictims: 0, leaks: 0, cleanup: 0, runs: 0, edges: 0, message: 0 },
];

/** Test names longer than this are cut in tables; the full name is in report.json. */
const NAME_MAX = 140;

export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const max = opts.maxLength ?? GITHUB_COMMENT_LIMIT;
  const view = prepare(report, opts);
  for (const limits of STEPS) {
    const body = compose(view, limits);
    if (body.length <= max) return body;
  }
  const minimal = composeMinimal(view);
  if (minimal.length <= max) return minimal;
  // Only a maxLength far below any real limit gets here: keep the marker, cut the headline.
  const head = `${REPORT_MARKER}\n`;
  return head + truncate(mdText(view.headline), Math.max(0, max - head.length)).slice(0, Math.max(0, max - head.length));
}

interface View {
  report: Report;
  tests: TestIndex;
  findings: TestReport[];
  headline: string;
  title: string;
  artifactUrl: string | undefined;
  source: SourceLinks | undefined;
  notes: ReadonlyMap<TestId, string>;
  quarantined: ReadonlyMap<TestId, string>;
  blocks: string[];
}

function prepare(report: Report, opts: MarkdownOptions): View {
  return {
    report,
    tests: indexTests(report),
    findings: findingTests(report),
    headline: headline(report),
    title: opts.title ?? 'kubeflake',
    artifactUrl: opts.artifactUrl === undefined ? undefined : safeUrl(opts.artifactUrl),
    source: opts.source,
    notes: opts.notes ?? new Map(),
    quarantined: opts.quarantined ?? new Map(),
    blocks: opts.blocks ?? [],
  };
}

function compose(view: View, limits: Limits): string {
  const { report } = view;
  const blocks: string[] = [REPORT_MARKER + '\n' + heading(view), context(view)];
  if (report.errors?.length) blocks.push(errors(report.errors));
  for (const note of report.notes ?? []) blocks.push(`> [!NOTE]\n> ${mdText(truncate(note, 500))}`);
  if (report.changed) blocks.push(changedLine(report.changed));
  const blind = report.runs.flatMap((run) => run.notices ?? []).filter((notice) => notice.kind === 'empty-timeline');
  if (blind.length) blocks.push(`> [!NOTE]\n> ${mdText(truncate(blind[0]!.message, 500))}${blind.length > 1 ? ` (${blind.length} runs)` : ''}`);
  if (report.damage) blocks.push(`> [!WARNING]\n> ${mdText(damageSentence(report.damage))}: ${fullReport(view)} (\`damage\`).`);
  if (view.findings.length) {
    blocks.push(findingsTable(view, limits));
    if (limits.edges > 0) {
      const diagram = mermaid(view, limits.edges);
      if (diagram) blocks.push(diagram);
    }
    if (limits.victims > 0) blocks.push(...victimSections(view, limits));
  }
  const hazards = hazardsSection(view, limits.victims);
  if (hazards) blocks.push(hazards);
  if (report.leaks.length && limits.leaks > 0) blocks.push(leaksTable(view, limits.leaks));
  else if (report.leaks.length) blocks.push(`**Leaked objects:** ${report.leaks.length.toLocaleString('en-US')}; ${fullReport(view)}.`);
  const quarantine = quarantineSection(view, limits.findings);
  if (quarantine) blocks.push(quarantine);
  const cleanup = cleanupSummary(view, limits.cleanup);
  if (cleanup) blocks.push(cleanup);
  if (report.runs.length) blocks.push(runsTable(view, limits.runs));
  blocks.push(...view.blocks);
  blocks.push(footer(view));
  return blocks.join('\n\n') + '\n';
}

function composeMinimal(view: View): string {
  const lines = [REPORT_MARKER + '\n' + heading(view)];
  if (view.findings.length) lines.push(`${plural(view.findings.length, 'finding')} are too many to list here; ${fullReport(view)}.`);
  lines.push(footer(view));
  return lines.join('\n\n') + '\n';
}

function heading(view: View): string {
  const icon = view.report.verdict === 'clean' ? '✅' : view.report.verdict === 'error' ? '⚠️' : '❌';
  return `### ${icon} ${mdText(truncate(view.title, 80))} · ${mdText(truncate(view.headline, 300))}`;
}

function context(view: View): string {
  const { report } = view;
  const parts = [mdCode(truncate(report.command, 200)), mdText(report.framework), report.cluster === 'none' ? 'no shared cluster' : `${mdText(report.cluster)} cluster`];
  const envtest = (report.controlPlanes ?? []).filter((plane) => plane.mode === 'envtest').map((plane) => mdCode(truncate(plane.package, 80)));
  if (envtest.length) parts.push(`own envtest in ${envtest.slice(0, 3).join(', ')}${envtest.length > 3 ? ` and ${envtest.length - 3} more` : ''}`);
  if (view.artifactUrl) parts.push(`[full report](${view.artifactUrl})`);
  return `<sub>${parts.join(' · ')}</sub>`;
}

/** How hard the change's own specs were tried: "3 changed specs: 10 runs each, 6 directed pairs, all passed". */
function changedLine(changed: NonNullable<Report['changed']>): string {
  const since = mdCode((changed.base ?? changed.since).slice(0, 12));
  if (!changed.specs.length) return `**Changed specs:** none of the specs that ran changed since ${since}.`;
  const added = changed.specs.filter((spec) => spec.change === 'new').length;
  const notes = (changed.notes ?? []).slice(0, 3).map((note) => `<br><sub>${mdText(truncate(note, 300))}</sub>`).join('');
  return `**Changed specs** (since ${since}, ${added} new): ${mdText(changed.summary)}.${notes}`;
}

function errors(list: string[]): string {
  const shown = list.slice(0, 10).map((e) => `- ${mdText(truncate(e, 300))}`);
  if (list.length > shown.length) shown.push(`- …and ${(list.length - shown.length).toLocaleString('en-US')} more errors`);
  return ['**Errors**', '', ...shown].join('\n');
}

function fullReport(view: View): string {
  return view.artifactUrl ? `see the [full report](${view.artifactUrl})` : 'see report.json';
}

/** "…and 12 more findings; see the full report." with the link when there is one. */
function more(view: View, hidden: number, what: string): string {
  return `_…and ${hidden.toLocaleString('en-US')} more ${what}; ${fullReport(view)}._`;
}

function testCell(view: View, test: TestReport): string {
  const loc = locationLink(view, test, 120);
  // The change under test marks its own specs; the nightly history's note says which are known.
  const note = test.change ? `${test.change} in this PR` : view.notes.get(test.id);
  const quarantined = view.quarantined.has(test.id) ? ' <sub>(quarantined)</sub>' : '';
  return mdCode(truncate(test.name, NAME_MAX)) + quarantined + (loc ? `<br><sub>${loc}</sub>` : '') + (note ? `<br><sub>${mdText(truncate(note, 200))}</sub>` : '');
}

/** "path:line", linked to the file at the run's commit when the path is repository-relative. */
function locationLink(view: View, test: TestReport, max: number): string {
  const loc = location(test);
  if (!loc) return '';
  const text = mdText(truncate(loc, max));
  const url = view.source && isRepositoryPath(test.file) ? sourceUrl(view.source, test.file, test.line) : undefined;
  return url ? `[${text}](${url})` : text;
}

function isRepositoryPath(file: string): boolean {
  return !file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file) && !file.split(/[\\/]/).includes('..');
}

/** https://github.com/owner/repo/blob/SHA/path#L12, each path segment percent-encoded. */
export function sourceUrl(source: SourceLinks, file: string, line: number): string | undefined {
  const path = file.split(/[\\/]/).filter(Boolean).map(encodeURIComponent).join('/');
  const base = safeUrl(`${source.serverUrl}/${source.repository}/blob/${encodeURIComponent(source.sha)}/`);
  return base ? `${base}${path}${line > 0 ? `#L${line}` : ''}` : undefined;
}

/** The tests that explain a finding: polluters for a victim, state-setters for a brittle test. */
function causeCell(view: View, test: TestReport): string {
  const causes: string[] = [];
  for (const p of test.polluters) causes.push(`${mdCode(truncate(view.tests.name(p.test), NAME_MAX))} ${p.confirmed ? '(confirmed)' : '(suspected)'}`);
  for (const s of test.stateSetters) causes.push(`${mdCode(truncate(view.tests.name(s), NAME_MAX))} (sets state)`);
  if (!causes.length) return VERDICTS[test.verdict].noCause;
  return capped(causes, 3).join('<br>');
}

function leakCell(view: View, test: TestReport): string {
  const leaks = uniqueLeaks(test.polluters.flatMap((p) => viaLeaks(view.report, p.via)));
  if (!leaks.length) return '—';
  return capped(
    leaks.map((l) => mdCode(truncate(leakName(l), NAME_MAX)) + (l.terminating ? ' terminating' : '')),
    3,
  ).join('<br>');
}

function capped(items: string[], max: number): string[] {
  return items.length <= max ? items : [...items.slice(0, max), `and ${items.length - max} more`];
}

function uniqueLeaks(leaks: LeakReport[]): LeakReport[] {
  return [...new Set(leaks)];
}

function findingsTable(view: View, limits: Limits): string {
  const rows = view.findings.slice(0, limits.findings).map((t) =>
    [
      `${VERDICTS[t.verdict].emoji} ${t.verdict}`,
      testCell(view, t),
      causeCell(view, t),
      leakCell(view, t),
      t.hint ? mdText(truncate(t.hint, 240)) : t.failureKinds.length ? mdText(t.failureKinds.join(', ')) : '—',
    ].join(' | '),
  );
  const lines = ['| Verdict | Test | Polluter / state-setter | Leaked object | Fix hint |', '|---|---|---|---|---|'];
  lines.push(...rows.map((r) => `| ${r} |`));
  const hidden = view.findings.length - rows.length;
  if (hidden > 0) lines.push('', more(view, hidden, 'findings'));
  return lines.join('\n');
}

interface DiagramNode {
  key: string;
  label: string;
  shape: 'box' | 'object';
  role: 'victim' | 'polluter' | 'leak' | 'helper';
}

interface DiagramEdge {
  from: DiagramNode;
  to: DiagramNode;
  arrow: '-->' | '-.->';
  label: string;
}

/** polluter -> leaked object -> victim, plus state-setter and cleaner edges; solid when confirmed. */
function mermaid(view: View, maxEdges: number): string | undefined {
  const testNode = (id: string, role: DiagramNode['role']): DiagramNode => ({ key: `t:${id}`, label: view.tests.name(id), shape: 'box', role });
  const edges = new Map<string, DiagramEdge>();
  const add = (edge: DiagramEdge) => {
    const key = `${edge.from.key}\u0000${edge.to.key}\u0000${edge.label}`;
    if (!edges.has(key)) edges.set(key, edge);
  };
  for (const victim of view.findings) {
    const v = testNode(victim.id, 'victim');
    for (const p of victim.polluters) {
      const arrow = p.confirmed ? '-->' : '-.->';
      // A leak that is the record's own object is drawn once, as the record's (with its timings).
      const leaks = viaLeaks(view.report, p.via).filter((l) => !p.link || l.name !== p.link.object.name || (l.namespace || '') !== (p.link.object.namespace ?? ''));
      // The record's transient object, with its timings: polluter -> object -> victim.
      if (p.link) {
        const o = p.link.object;
        const node: DiagramNode = { key: `r:${o.plane ?? ''}/${o.resource}/${o.namespace ?? ''}/${o.name}`, label: `${o.resource} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`, shape: 'object', role: 'leak' };
        const timing = chainEdges(p.link);
        add({ from: testNode(p.test, 'polluter'), to: node, arrow, label: timing.fromPolluter });
        add({ from: node, to: v, arrow, label: timing.toVictim });
      }
      if (!leaks.length && !p.link) add({ from: testNode(p.test, 'polluter'), to: v, arrow, label: 'pollutes' });
      for (const leak of leaks) {
        const l: DiagramNode = { key: `l:${view.report.leaks.indexOf(leak)}`, label: leakName(leak), shape: 'object', role: 'leak' };
        add({ from: testNode(p.test, 'polluter'), to: l, arrow, label: leak.terminating ? 'leaves terminating' : 'leaves' });
        add({ from: l, to: v, arrow, label: victim.failureKinds[0] ?? 'breaks' });
      }
    }
    for (const s of victim.stateSetters) add({ from: testNode(s, 'helper'), to: v, arrow: '-->', label: 'sets state for' });
    for (const c of victim.cleaners) add({ from: testNode(c, 'helper'), to: v, arrow: '-.->', label: 'cleans up for' });
  }
  if (!edges.size) return undefined;
  const shown = [...edges.values()].slice(0, maxEdges);
  const ids = new Map<string, string>();
  const declarations: string[] = [];
  const members: Record<DiagramNode['role'], string[]> = { victim: [], polluter: [], leak: [], helper: [] };
  const id = (n: DiagramNode): string => {
    let nodeId = ids.get(n.key);
    if (!nodeId) {
      nodeId = `n${ids.size}`;
      ids.set(n.key, nodeId);
      const text = mermaidLabel(truncate(n.label, 60));
      declarations.push(n.shape === 'object' ? `  ${nodeId}[("${text}")]` : `  ${nodeId}["${text}"]`);
      members[n.role].push(nodeId);
    }
    return nodeId;
  };
  const lines = shown.map((e) => `  ${id(e.from)} ${e.arrow}|${mermaidLabel(e.label)}| ${id(e.to)}`);
  const out = ['```mermaid', 'flowchart LR', ...declarations, ...lines];
  out.push('  classDef victim fill:#fde2e1,stroke:#cf222e,color:#1f2328');
  out.push('  classDef polluter fill:#fff1c2,stroke:#9a6700,color:#1f2328');
  out.push('  classDef leak fill:#eef1f4,stroke:#57606a,color:#1f2328');
  out.push('  classDef helper fill:#dafbe1,stroke:#1a7f37,color:#1f2328');
  for (const [role, list] of Object.entries(members)) if (list.length) out.push(`  class ${list.join(',')} ${role}`);
  out.push('```');
  const hidden = edges.size - shown.length;
  return hidden > 0 ? `${out.join('\n')}\n\n_The diagram shows ${shown.length} of ${edges.size.toLocaleString('en-US')} links._` : out.join('\n');
}

/**
 * Latent hazards from the record: warnings while they never fired, findings once they did. One
 * line per object and first spec (its victims listed), fired first, counts before names.
 */
function hazardsSection(view: View, max: number): string | undefined {
  const hazards = view.report.hazards ?? [];
  if (!hazards.length) return undefined;
  const groups = hazardGroups(hazards);
  const fired = hazards.filter((h) => h.outcome === 'fired').length;
  const head = `**Hazards** (${hazardCounts(hazards.length, groups.length, fired)}): pairs of specs that meet on one object name, from the API server's record`;
  if (max <= 0) return `${head}; ${fullReport(view)}.`;
  const name = (id: string): string => view.tests.name(id);
  const lines = [head, ''];
  for (const g of groups.slice(0, max)) {
    const mark = g.fired ? '❌ **fired**' : '⚠️';
    const counts = hazardGroupCounts(g);
    const victims = g.hazards.map((h) => mdCode(truncate(name(h.second), 120)));
    const shown = victims.length > 3 ? [...victims.slice(0, 3), `${victims.length - 3} more`] : victims;
    lines.push(`- ${mark} ${mdText(counts)} · ${mdCode(truncate(name(g.first), 120))} → ${shown.join(', ')}: ${mdText(truncate(hazardGroupText(g, name), 600 * Math.min(g.hazards.length, 2)))}`);
  }
  if (groups.length > max) lines.push('', more(view, groups.length - max, 'hazard lines'));
  return lines.join('\n');
}

function victimSections(view: View, limits: Limits): string[] {
  const shown = view.findings.slice(0, limits.victims);
  const sections = shown.map((t) => victimSection(view, t, limits.message));
  const open = sections.slice(0, limits.openVictims);
  const folded = sections.slice(limits.openVictims);
  const out = [...open];
  if (folded.length) {
    out.push(`<details><summary>${plural(folded.length, 'more finding')}</summary>\n\n${folded.join('\n\n')}\n\n</details>`);
  }
  const hidden = view.findings.length - shown.length;
  if (hidden > 0) out.push(more(view, hidden, 'findings not detailed here'));
  return out;
}

function victimSection(view: View, test: TestReport, messageMax: number): string {
  const { report } = view;
  const loc = location(test);
  const runs = test.passed + test.failed;
  const facts = [`**${VERDICTS[test.verdict].sentence}**`, `failed ${test.failed} of ${plural(runs, 'run')}`];
  if (loc) facts.push(locationLink(view, test, 160));
  if (test.failureKinds.length) facts.push(test.failureKinds.map((k) => mdCode(k)).join(' '));
  const lines = [`#### ${VERDICTS[test.verdict].emoji} ${mdCode(truncate(test.name, 200))}`, '', facts.join(' · ')];
  const note = view.notes.get(test.id);
  if (note) lines.push('', `_${mdText(truncate(note, 200))}_`);
  const quarantine = view.quarantined.get(test.id);
  if (quarantine !== undefined) lines.push('', `Quarantined${quarantine ? `: ${mdText(truncate(quarantine, 200))}` : ''}; its failures do not fail the step.`);
  if (test.why) lines.push('', mdText(truncate(test.why, 400)));
  const items: string[] = [];
  for (const p of test.polluters.slice(0, 5)) {
    const probe = provingProbe(report, test.id, p.test, 'polluter');
    items.push(`- **Polluter** (${mdText(decidedText(p))}): ${mdCode(truncate(view.tests.name(p.test), 200))}${probe && p.decidedBy !== 'record' ? ` — ${probeProof(probe, test, 'before')}` : ''}`);
    if (p.link) items.push(`  - **Chain** (record of run ${mdCode(p.link.run)}): ${mdCode(truncate(view.tests.name(p.test), 120))} ${mdText(truncate(chainText(p.link), 400))}`);
    for (const leak of viaLeaks(report, p.via)) items.push(`  - **Leaked object:** ${leakDescription(leak)}`);
  }
  for (const s of test.stateSetters.slice(0, 5)) {
    const probe = provingProbe(report, test.id, s, 'state-setter');
    items.push(`- **State-setter:** ${mdCode(truncate(view.tests.name(s), 200))}${probe ? ` — ${probeProof(probe, test, 'before')}` : ''}`);
  }
  for (const c of test.cleaners.slice(0, 5)) {
    const probe = provingProbe(report, test.id, c, 'cleaner');
    const proof = probe ? probeProof(probe, test, 'between') : 'running it in between makes this test pass';
    items.push(`- **Cleaner:** ${mdCode(truncate(view.tests.name(c), 200))} — ${proof}`);
  }
  const alone = aloneProbe(report, test.id);
  if (alone) {
    const outcome = alone.failed.includes(test.id) ? 'fails' : 'passes';
    items.push(`- **Alone:** ${outcome} (probe ${mdCode(alone.id)}, seed ${alone.seed})`);
  }
  if (test.hint) items.push(`- **Fix:** ${mdText(truncate(test.hint, 400))}`);
  if (test.fix) items.push(`- **Patch:** ${mdText(truncate(fixSentence(test.fix, (id) => view.tests.name(id)), 600))}`);
  if (items.length) lines.push('', ...items);
  if (test.fix?.patch) lines.push('', mdFence(truncate(test.fix.patch, PATCH_MAX), 'diff'));
  const probes = probesAbout(report, test.id);
  if (probes.length) lines.push('', probesFold(view, test, probes));
  const failure = test.failures?.[0];
  if (failure && messageMax > 0) {
    lines.push('', `Failure in run ${mdCode(failure.run)}:`, '', mdFence(truncate(apiErrorFirst(failure.message), messageMax), 'text'));
  }
  if (test.reproduce) lines.push('', 'Reproduce:', '', mdFence(test.reproduce, 'sh'));
  return lines.join('\n');
}

/** A patch longer than this is cut in the comment; the patch file keeps it whole. */
const PATCH_MAX = 4000;

/** Probes listed one a line behind a fold: the sentence above counts them, this names them. */
const MAX_PROBES_LISTED = 20;

function probesFold(view: View, test: TestReport, probes: RunReport[]): string {
  const lines = [`<details><summary>${plural(probes.length, 'probe')}</summary>`, ''];
  for (const run of probes.slice(0, MAX_PROBES_LISTED)) {
    const { before, outcome } = probeOutcome(run, test.id);
    const names = before.slice(0, 3).map((id) => mdCode(truncate(view.tests.name(id), 80))).join(', ') + (before.length > 3 ? ` and ${before.length - 3} more` : '');
    const where = before.length ? `, after ${names}` : run.purpose === 'alone' ? '' : ', first';
    lines.push(`- ${mdCode(run.id)} ${mdText(run.purpose ?? 'probe')}, seed ${run.seed}${where}: ${outcome}`);
  }
  if (probes.length > MAX_PROBES_LISTED) lines.push(`- …and ${(probes.length - MAX_PROBES_LISTED).toLocaleString('en-US')} more (report.json \`runs\`)`);
  lines.push('', '</details>');
  return lines.join('\n');
}

/** "probe `probe-001` (seed 4242) ran it before this test, which then failed". */
function probeProof(probe: RunReport, subject: TestReport, where: 'before' | 'between'): string {
  const outcome = probe.failed.includes(subject.id) ? 'which then failed' : 'which then passed';
  const others = probe.order.length - 2;
  const placed = where === 'between' ? 'between the polluter and this test' : `before this test${others > 0 ? ` with ${plural(others, 'other test')}` : ''}`;
  return `probe ${mdCode(probe.id)} (seed ${probe.seed}) ran it ${placed}, ${outcome}`;
}

function leakDescription(leak: LeakReport): string {
  const parts = [`${mdCode(truncate(leakName(leak), 200))} (${mdCode(truncate(leak.apiVersion, 80))})`];
  if (leak.terminating) parts.push('terminating');
  if (leak.finalizers.length) parts.push(`finalizers ${leak.finalizers.slice(0, 5).map((f) => mdCode(truncate(f, 120))).join(', ')}`);
  else parts.push('no finalizers');
  return parts.join(', ');
}

function runList(runs: string[]): string {
  const shown = runs.slice(0, 6).map((r) => mdCode(r));
  return shown.join(', ') + (runs.length > shown.length ? ` +${runs.length - shown.length}` : '');
}

function leaksTable(view: View, max: number): string {
  const { report } = view;
  const rows = leakRows(report.leaks);
  const shown = rows.slice(0, max);
  const grouped = rows.some((row) => 'group' in row);
  const lines = [`**Leaked objects** (${report.leaks.length.toLocaleString('en-US')})`, '', '| Object | Created by | Runs | Terminating / finalizers |', '|---|---|---|---|'];
  for (const row of shown) lines.push('group' in row ? deletedNamespaceRow(view, row.group) : leakRow(view, row.leak));
  const hidden = report.leaks.length - objectsIn(shown);
  if (hidden > 0) lines.push('', more(view, hidden, 'leaked objects'));
  // Said once for every group: what envtest does with a deleted namespace, and what to do.
  if (grouped) lines.push('', `**In namespaces the suite deleted (envtest):** ${mdText(DELETED_NAMESPACE_HINT)}`);
  return lines.join('\n');
}

function leakRow(view: View, leak: LeakReport): string {
  const state = [leak.terminating ? 'terminating' : 'live', ...leak.finalizers.slice(0, 3).map((f) => mdCode(truncate(f, 100)))];
  if (leak.finalizers.length > 3) state.push(`and ${leak.finalizers.length - 3} more`);
  const creator = leak.createdBy
    ? mdText(truncate(describeCreator(leak, (id) => view.tests.name(id)), NAME_MAX * 2))
    : leak.deletedBy
      ? `deleted by ${mdCode(truncate(view.tests.name(leak.deletedBy), NAME_MAX))}`
      : 'unknown';
  // The creator's words already say how it was named (a guess, the record, the owner...): only the watch's approximate windows need the mark.
  const described = (leak.candidates?.length ?? 0) > 1 || leak.evidence !== undefined && leak.evidence !== 'watch';
  const attribution = !described && leak.attribution && leak.attribution !== 'exact' && leak.createdBy ? ` <sub>(${mdText(leak.attribution)})</sub>` : '';
  return `| ${mdCode(truncate(leakName(leak), NAME_MAX))}<br><sub>${mdText(truncate(leak.apiVersion, 80))}</sub> | ${creator}${attribution} | ${runList(leak.runs)} | ${state.join('<br>')} |`;
}

/** One row for every object of a kind left in envtest's deleted namespaces (report.json lists each). */
function deletedNamespaceRow(view: View, group: DeletedNamespaceGroup): string {
  const names = group.leaks.slice(0, 3).map((l) => mdCode(truncate(`${l.namespace}/${l.name}`, 100)));
  if (group.leaks.length > names.length) names.push(`and ${(group.leaks.length - names.length).toLocaleString('en-US')} more`);
  const terminating = group.leaks.filter((l) => l.terminating).length;
  const live = group.leaks.length - terminating;
  const finalizers = [...new Set(group.leaks.flatMap((l) => l.finalizers))];
  const state = [[terminating ? `${terminating.toLocaleString('en-US')} terminating` : '', live ? `${live.toLocaleString('en-US')} live` : ''].filter(Boolean).join(', '), ...finalizers.slice(0, 3).map((f) => mdCode(truncate(f, 100)))];
  if (finalizers.length > 3) state.push(`and ${finalizers.length - 3} more`);
  const runs = [...new Set(group.leaks.flatMap((l) => l.runs))].sort();
  const creators = mdText(truncate(deletedNamespaceCreators(group, (id) => view.tests.name(id)), NAME_MAX * 2));
  return `| ${mdText(truncate(deletedNamespaceTitle(group), NAME_MAX))}<br><sub>${mdText(truncate(group.apiVersion, 80))}: ${names.join(', ')}</sub> | ${creators} | ${runList(runs)} | ${state.join('<br>')} |`;
}

function cleanupSummary(view: View, max: number): string | undefined {
  const { cleanup } = view.report;
  const total = cleanup.deleted.length + cleanup.finalizersRemoved.length + cleanup.left.length;
  const errors = cleanup.errors ?? [];
  if (!total && !cleanup.dryRun && !errors.length) return undefined;
  const verb = cleanup.dryRun ? 'would delete' : 'deleted';
  const head = `**Cleanup${cleanup.dryRun ? ' (dry run: nothing was changed)' : ''}:** ${verb} ${cleanup.deleted.length}, ${cleanup.dryRun ? 'would remove finalizers from' : 'finalizers removed from'} ${cleanup.finalizersRemoved.length}, left ${cleanup.left.length}`;
  const lines = [head];
  for (const error of errors.slice(0, 3)) lines.push('', `Cleanup stopped: ${mdText(truncate(error, 300))}`);
  const acts = [
    ...cleanup.finalizersRemoved.map((a) => `- finalizers ${cleanup.dryRun ? 'would be ' : ''}removed: ${mdCode(truncate(leakName({ ...a.object, namespace: a.object.namespace ?? '' }), NAME_MAX))} after run ${mdCode(a.run)}${a.reason ? ` — ${mdText(truncate(a.reason, 200))}` : ''}`),
    ...cleanup.left.map((a) => `- left: ${mdCode(truncate(leakName({ ...a.object, namespace: a.object.namespace ?? '' }), NAME_MAX))} — ${mdText(truncate(a.why, 200))}`),
  ];
  if (max > 0 && acts.length) {
    lines.push('', ...acts.slice(0, max));
    if (acts.length > max) lines.push(`- …and ${(acts.length - max).toLocaleString('en-US')} more`);
  }
  return lines.join('\n');
}

function runsTable(view: View, max: number): string {
  const { report } = view;
  const planned = plannedRuns(report).length;
  const probes = probeRuns(report).length;
  const summary = `Runs: ${planned}${probes ? ` + ${plural(probes, 'probe')}` : ''}, ${formatDuration(report.runs.reduce((s, r) => s + r.durationMs, 0))} in total`;
  if (max <= 0) return `<sub>${summary}</sub>`;
  const lines = ['<details><summary>' + summary + '</summary>', '', '| Run | Seed | Failed | Duration | Probe |', '|---|---:|---:|---:|---|'];
  for (const run of report.runs.slice(0, max)) {
    const failed = run.interrupted ? `interrupted (${mdText(run.interrupted.signal)}): not judged`
      : run.infrastructure ? `${run.failed.length}, infrastructure: ${mdText(truncate(run.infrastructure.cause, 200))} (not judged)`
      : `${run.failed.length}${run.timedOut ? ' (timed out)' : ''}`;
    const probe = run.probe ? `${mdText(run.purpose ?? 'probe')}${run.subject ? ` for ${mdCode(truncate(view.tests.name(run.subject), 80))}` : ''}` : '';
    lines.push(`| ${mdCode(run.id)} | ${run.seed} | ${failed} | ${formatDuration(run.durationMs)} | ${probe} |`);
  }
  if (report.runs.length > max) lines.push('', more(view, report.runs.length - max, 'runs'));
  lines.push('', '</details>');
  return lines.join('\n');
}

function quarantineSection(view: View, max: number): string | undefined {
  const tests = view.findings.filter((t) => view.quarantined.has(t.id));
  if (!tests.length) return undefined;
  const lines = [`**Quarantined** (${tests.length.toLocaleString('en-US')}): reported, but their failures do not fail the step`, ''];
  for (const test of tests.slice(0, Math.max(1, Math.min(max, 50)))) {
    const reason = view.quarantined.get(test.id);
    lines.push(`- ${VERDICTS[test.verdict].emoji} ${mdCode(truncate(test.name, NAME_MAX))}${reason ? ` — ${mdText(truncate(reason, 200))}` : ''}`);
  }
  const hidden = tests.length - Math.max(1, Math.min(max, 50));
  if (hidden > 0) lines.push(`- …and ${hidden.toLocaleString('en-US')} more`);
  return lines.join('\n');
}

/** "Known from the nightly runs": each finding with what the history says of it, for the job summary. */
export function historyNotesSection(report: Report, notes: ReadonlyMap<TestId, string>, max = 30): string | undefined {
  const tests = findingTests(report).filter((t) => notes.has(t.id));
  if (!tests.length) return undefined;
  const lines = ['**Nightly history** (from the tracking issue)', ''];
  for (const test of tests.slice(0, max)) lines.push(`- ${VERDICTS[test.verdict].emoji} ${mdCode(truncate(test.name, NAME_MAX))}: ${mdText(truncate(notes.get(test.id)!, 200))}`);
  if (tests.length > max) lines.push(`- …and ${(tests.length - max).toLocaleString('en-US')} more`);
  return lines.join('\n');
}

/**
 * The Kubernetes API error a Go failure wraps, moved to the front: Gomega prints the whole
 * StatusError struct ("<*errors.StatusError | 0xc...>: { ErrStatus: { ... Message: \"...\"") and
 * the sentence a person needs is its Message field, pages down.
 */
export function apiErrorFirst(message: string): string {
  if (!/StatusError|ErrStatus/.test(message)) return message;
  const found = /Message:\s*"((?:[^"\\]|\\.)*)"/.exec(message) ?? /"message":\s*"((?:[^"\\]|\\.)*)"/.exec(message);
  if (!found) return message;
  const said = found[1]!.replace(/\\(.)/g, '$1');
  return message.startsWith(said) ? message : `${said}\n\n${message}`;
}

function footer(view: View): string {
  const { report } = view;
  const bits = [`kubeflake${report.version ? ` ${mdText(report.version)}` : ''}`];
  if (report.generatedAt) bits.push(mdText(report.generatedAt));
  if (view.artifactUrl) bits.push(`[full report](${view.artifactUrl})`);
  return `<sub>${bits.join(' · ')}</sub>`;
}
