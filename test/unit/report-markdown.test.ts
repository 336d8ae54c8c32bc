import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GITHUB_COMMENT_LIMIT, REPORT_MARKER, renderMarkdown } from '../../src/report/markdown.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { HOSTILE, hostileReport } from '../fixtures/reports/hostile.ts';
import type { Report } from '../../src/model.ts';

const findings = loadReport('findings');
const clean = loadReport('clean');
const hostile = hostileReport();

const VICTIM = 'Controller Suite :: ModelCache provisioning creates iris2 and reports it Ready';
const POLLUTER_NAME = 'ModelCache lifecycle evicts the iris2 cache on delete';

/** The markdown with fenced code blocks (whose content GitHub shows verbatim) removed. */
function outsideFences(md: string): string {
  const kept: string[] = [];
  let fence = '';
  for (const line of md.split('\n')) {
    const m = /^(`{3,})/.exec(line);
    if (!fence && m) fence = m[1]!;
    else if (fence && line.trim() === fence) fence = '';
    else if (!fence) kept.push(line);
  }
  assert.equal(fence, '', 'a fenced code block was left open');
  return kept.join('\n');
}

/** Contents of every fenced block with the given info string. */
function fences(md: string, info: string): string[] {
  const blocks: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(`{3,})(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.findIndex((l, j) => j > i && l === m[1]);
    if (m[2] === info) blocks.push(lines.slice(i + 1, end).join('\n'));
    i = end;
  }
  return blocks;
}

/** Table rows (lines starting with |) grouped by table, each with its count of cell separators. */
function tables(md: string): string[][] {
  const out: string[][] = [];
  let current: string[] | undefined;
  for (const line of outsideFences(md).split('\n')) {
    if (line.startsWith('|')) (current ??= (out.push([]), out[out.length - 1]!)).push(line);
    else current = undefined;
  }
  return out;
}

const ALLOWED_TAGS = new Set(['code', 'br', 'sub', 'details', 'summary']);

function assertOnlyOurHtml(md: string): void {
  const prose = outsideFences(md);
  for (const m of prose.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/g)) {
    assert.ok(ALLOWED_TAGS.has(m[2]!.toLowerCase()), `unexpected tag <${m[1]}${m[2]}> outside code blocks`);
  }
  assert.equal((prose.match(/<details>/g) ?? []).length, (prose.match(/<\/details>/g) ?? []).length, '<details> not balanced');
  assert.equal(prose.split(REPORT_MARKER).length - 1, 1, 'the marker must appear exactly once outside code blocks');
}

test('the findings comment starts with the marker and the one-line verdict', () => {
  const md = renderMarkdown(findings);
  const [marker, first] = md.split('\n');
  assert.equal(marker, REPORT_MARKER);
  assert.match(first!, /^### .* 1 order-dependent test, 1 brittle, 1 broken, 1 flaky, 4 leaked objects in 6 runs \(\+6 probes\)$/);
});

test('the findings table has the victim row with its confirmed polluter and the leaked iris2', () => {
  const md = renderMarkdown(findings);
  const [table] = tables(md);
  assert.ok(table, 'no findings table');
  assert.equal(table[0], '| Verdict | Test | Polluter / state-setter | Leaked object | Fix hint |');
  const victimRow = table.find((row) => row.includes('ModelCache provisioning creates iris2'));
  assert.ok(victimRow, 'victim row missing');
  assert.match(victimRow, /order-dependent/);
  assert.ok(victimRow.includes(`<code>${POLLUTER_NAME}</code> (confirmed)`), victimRow);
  assert.ok(victimRow.includes('<code>ModelCache default/iris2</code> terminating'), victimRow);
  const brittle = table.find((row) => row.includes('Tenant quota admits workloads'));
  assert.ok(brittle?.includes('<code>Tenant quota creates the default ResourceQuota</code> (sets state)'));
  assert.equal(table.length, 2 + 4, 'header, separator and one row per finding');
});

test('each victim section names the probe, the leaked object with its finalizer, and reproduces verbatim', () => {
  const md = renderMarkdown(findings);
  const victim = findings.tests.find((t) => t.id === VICTIM)!;
  assert.ok(md.includes('```sh\n' + victim.reproduce + '\n```'), 'reproduce command not verbatim in a sh block');
  assert.match(md, /\*\*Polluter\*\* \(confirmed\): <code>ModelCache lifecycle evicts the iris2 cache on delete<\/code> — probe <code>probe-001<\/code> \(seed 1733\)[^\n]*which then failed/);
  assert.match(md, /\*\*Leaked object:\*\* <code>ModelCache default\/iris2<\/code> \(<code>cache\.kubeflake\.dev\/v1alpha1<\/code>\), terminating, finalizers <code>cache\.kubeflake\.dev\/evict<\/code>/);
  assert.ok(md.includes('```text\nobject is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists\n```'));
  assert.match(md, /\*\*Alone:\*\* passes \(probe <code>probe-000<\/code>/);
  assert.ok(md.includes('- **Cleaner:** <code>ModelCache garbage collection waits for orphaned caches to disappear</code> — probe <code>probe-005</code> (seed 1733) ran it between the polluter and this test, which then passed'));
  for (const t of findings.tests.filter((x) => x.verdict !== 'stable')) {
    assert.ok(md.includes('```sh\n' + t.reproduce + '\n```'), `no reproduce block for ${t.name}`);
  }
});

test('the mermaid diagram links polluter -> iris2 -> victim and the state-setter and cleaner', () => {
  const [diagram] = fences(renderMarkdown(findings), 'mermaid');
  assert.ok(diagram, 'no mermaid block');
  assert.match(diagram, /^flowchart LR/);
  const label = new Map<string, string>();
  for (const m of diagram.matchAll(/^\s+(n\d+)\[\(?"([^"]*)"\)?\]$/gm)) label.set(m[1]!, m[2]!);
  const edges = [...diagram.matchAll(/^\s+(n\d+) (-->|-\.->)\|([^|]*)\| (n\d+)$/gm)].map((m) => `${label.get(m[1]!)} ${m[2]} ${m[3]} ${label.get(m[4]!)}`);
  assert.ok(edges.includes(`${POLLUTER_NAME} --> leaves terminating ModelCache default/iris2`), edges.join('\n'));
  assert.ok(edges.includes('ModelCache default/iris2 --> BeingDeleted ModelCache provisioning creates iris2 and reports it Ready'), edges.join('\n'));
  assert.ok(edges.includes('Tenant quota creates the default ResourceQuota --> sets state for Tenant quota admits workloads once the default quota exists'));
  assert.ok(edges.some((e) => e.startsWith('ModelCache garbage collection waits for orphaned caches') && e.includes('-.-> cleans up for ModelCache provisioning')));
});

test('leaks, cleanup and runs are all there, runs folded in <details>', () => {
  const md = renderMarkdown(findings);
  assert.match(md, /\| <code>Lease kube-system\/modelcache-operator-leader<\/code><br><sub>coordination\.k8s\.io\/v1<\/sub> \| unknown \|/);
  assert.match(md, /\*\*Cleanup:\*\* deleted 15, finalizers removed from 1, left 1/);
  assert.match(md, /left: <code>Lease kube-system\/modelcache-operator-leader<\/code> — in protected namespace kube-system/);
  assert.match(md, /<details><summary>Runs: 6 \+ 6 probes, [^<]+<\/summary>\n\n\| Run \| Seed \| Failed \| Duration \| Probe \|/);
  assert.match(md, /\| <code>probe-001<\/code> \| 1733 \| 1 \| 12s \| polluter for <code>ModelCache provisioning creates iris2 and reports it Ready<\/code> \|/);
  assertOnlyOurHtml(md);
});

test('a clean report says clean and has no findings table or diagram', () => {
  const md = renderMarkdown(clean);
  assert.match(md.split('\n')[1]!, /clean: 42 tests stable in 20 runs$/);
  assert.ok(!md.includes('| Verdict |'));
  assert.ok(!md.includes('```mermaid'));
  assert.ok(!md.includes('**Cleanup'));
  assert.ok(md.startsWith(REPORT_MARKER));
});

test('the hostile report stays under GitHub\'s limit, keeps the marker, and says what it left out', () => {
  const md = renderMarkdown(hostile);
  assert.ok(md.length <= GITHUB_COMMENT_LIMIT, `length ${md.length}`);
  assert.ok(md.startsWith(REPORT_MARKER + '\n'));
  assert.match(md, /_…and [\d,]+ more findings; see report\.json\._/);
  assert.match(md.split('\n')[1]!, /62 order-dependent tests, 3 brittle, 3 broken, 422 flaky, 300 leaked objects in 5 runs \(\+1 probe\)/);
});

test('hostile names cannot add table columns, open tags, or break out of code blocks', () => {
  const md = renderMarkdown(hostile);
  for (const table of tables(md)) {
    const cells = table[0]!.split('|').length;
    for (const row of table) assert.equal(row.split('|').length, cells, `row changes the column count: ${row.slice(0, 200)}`);
  }
  assertOnlyOurHtml(md);
  const prose = outsideFences(md);
  assert.ok(!prose.includes('<script'));
  assert.ok(prose.includes('<code>a&#124;b &#60;script&#62;alert(1)&#60;/script&#62;</code>'), 'the pipe-and-script name is shown escaped');
  assert.ok(!/\n#+ injected/.test(prose), 'a newline in a name started a heading');
  assert.ok(!/!\[img\]\(/.test(prose) && !/\[click\]\(/.test(prose), 'a link or image in a name stayed live');
  for (const block of fences(md, 'mermaid')) {
    assert.ok(!block.includes('`'), 'backtick inside the mermaid block');
    for (const line of block.split('\n').slice(1)) assert.match(line, /^(flowchart LR|\s+n\d+(\["[^"]*"\]|\[\("[^"]*"\)\])|\s+n\d+ -\.?->\|[^|"]*\| n\d+|\s+classDef .*|\s+class [n\d,]+ \w+)$/);
  }
});

test('@mentions and issue references in names do not ping anyone', () => {
  const md = renderMarkdown(hostile);
  const prose = outsideFences(md);
  assert.ok(!/@[A-Za-z0-9]/.test(prose), 'a raw @mention survived outside code blocks');
  assert.ok(!/#\d/.test(prose.replace(/&#\d+;/g, '')), 'a raw #123 issue reference survived');
  assert.ok(prose.includes(`<code>&#64;${HOSTILE.mention.slice(1)}</code>`), 'names in code keep their @ as an entity');
  assert.ok(prose.includes('@\u200borg/team'), 'prose keeps the name readable with a zero-width break after @');
});

test('maxLength is honoured at every size, always with the marker first', () => {
  for (const max of [60_000, 20_000, 8_000, 3_000, 1_000, 400]) {
    for (const report of [hostile, findings]) {
      const md = renderMarkdown(report, { maxLength: max });
      assert.ok(md.length <= max, `maxLength ${max}: got ${md.length}`);
      assert.ok(md.startsWith(REPORT_MARKER), `maxLength ${max}: marker missing`);
      outsideFences(md);
    }
  }
  const full = renderMarkdown(findings);
  const squeezed = renderMarkdown(findings, { maxLength: Math.floor(full.length / 2) });
  assert.ok(squeezed.length < full.length && squeezed.includes('ModelCache provisioning creates iris2'), 'a squeezed comment still names the victim');
});

test('the artifact link is used when it is an http(s) URL and dropped otherwise', () => {
  const url = 'https://github.com/acme/op/actions/runs/42/artifacts/7';
  assert.ok(renderMarkdown(findings, { artifactUrl: url }).includes(`[full report](${url})`));
  const md = renderMarkdown(findings, { artifactUrl: 'javascript:alert(1)' });
  assert.ok(!md.includes('javascript:'));
  assert.ok(renderMarkdown(findings, { artifactUrl: 'https://x.example/a b)c' }).includes('[full report](https://x.example/a%20b%29c)'));
});

test('the title is escaped and shown before the verdict', () => {
  const md = renderMarkdown(findings, { title: 'kubeflake <b>@ops</b>' });
  assert.match(md.split('\n')[1]!, /^### ❌ kubeflake &#60;b&#62;@\u200bops&#60;\/b&#62; · 1 order-dependent test/);
});

test('an error report leads with the error', () => {
  const report: Report = { ...findings, verdict: 'error', errors: ['run 003 timed out after 10m: the suite hung in BeforeSuite'] };
  const md = renderMarkdown(report);
  assert.match(md.split('\n')[1]!, /^### ⚠️ kubeflake · error: run 003 timed out after 10m: the suite hung in BeforeSuite \(/);
  assert.match(md, /\*\*Errors\*\*\n\n- run 003 timed out/);
});

test('a leak the watch could only guess names its creator as "probably", with the other candidates', () => {
  const report = structuredClone(findings) as Report;
  const leak = report.leaks.find((l) => l.createdBy)!;
  const other = report.tests.find((t) => t.id !== leak.createdBy)!;
  leak.candidates = [leak.createdBy!, other.id];
  leak.evidence = 'watch';
  const md = renderMarkdown(report);
  const creator = report.tests.find((t) => t.id === leak.createdBy)!.name;
  assert.ok(md.includes(`probably ${creator} (or ${other.name})`), 'the guess and its alternative are both named');
});
