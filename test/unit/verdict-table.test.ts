// The table of verdicts against every place a verdict is shown: for each entry, a report with one
// test of that verdict goes through markdown, HTML, the terminal summary, annotations, the JSON
// validator and the action's outputs, and each must show what the table says. A verdict added to
// the table (the compiler asks for it) and missed by any of them fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Report, Verdict } from '../../src/model.ts';
import { ALL_VERDICTS, FINDING_VERDICTS, VERDICTS } from '../../src/verdict-table.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { renderAnnotations } from '../../src/report/annotations.ts';
import { validateReport } from '../../src/report/validate.ts';
import { countVerdicts, findingTests, headline } from '../../src/report/findings.ts';
import { renderReportAs } from '../../src/pipeline.ts';
import { deliverReport, type ActionsStep } from '../../src/github/deliver.ts';
import { reportVerdict } from '../../src/analysis/verdicts.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { projectRoot } from '../support/paths.ts';

/** The clean fixture with its first test given `verdict` (failing once, as a finding would). */
function reportWith(verdict: Verdict): Report {
  const base = loadReport('clean');
  const [first, ...rest] = base.tests;
  const subject = { ...first!, verdict, passed: 19, failed: 1, failureKinds: ['Unknown' as const], why: `the ${verdict} test's evidence` };
  const tests = [subject, ...rest];
  return { ...base, tests, verdict: reportVerdict(tests) };
}

/** What deliverReport told the step, recorded. */
async function delivered(report: Report): Promise<{ outputs: Map<string, string>; failed: string[] }> {
  const outputs = new Map<string, string>();
  const failed: string[] = [];
  const step: ActionsStep = {
    info: () => undefined,
    warning: () => undefined,
    annotate: () => undefined,
    appendSummary: async () => undefined,
    setOutput: (name, value) => void outputs.set(name, value),
    setFailed: (message) => void failed.push(message),
  };
  const context = { event: { name: 'push' }, sha: '', runId: 0, runAttempt: 1, workflow: '', job: '', apiUrl: 'https://api.github.com', serverUrl: 'https://github.com', workspace: projectRoot };
  await deliverReport(
    { outputDir: 'out', failOn: 'findings', quarantine: [], publish: { token: '', context, target: 'summary', comment: 'always', commentKey: '', trackingLabel: 'kubeflake', cleanNightsToClose: 7 } },
    { report, dirs: ['results'], now: '2026-12-07T00:00:00Z' },
    step,
  );
  return { outputs, failed };
}

const actionOutputs = Object.keys((parse(readFileSync(join(projectRoot, 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> }).outputs);

test('the table is in rank order, with distinct ranks, and the findings are its finding entries', () => {
  assert.deepEqual([...ALL_VERDICTS].sort(), (Object.keys(VERDICTS) as Verdict[]).sort());
  assert.equal(new Set(ALL_VERDICTS.map((v) => VERDICTS[v].rank)).size, ALL_VERDICTS.length, 'two verdicts share a rank');
  assert.deepEqual(FINDING_VERDICTS, ALL_VERDICTS.filter((v) => VERDICTS[v].finding));
  assert.equal(new Set(ALL_VERDICTS.map((v) => VERDICTS[v].emoji)).size, ALL_VERDICTS.length, 'two verdicts share an emoji');
});

for (const verdict of ALL_VERDICTS) {
  const traits = VERDICTS[verdict];
  test(`${verdict}: every renderer shows it as the table says`, async () => {
    const report = reportWith(verdict);
    const name = report.tests[0]!.name;

    // The analysis' overall verdict and the shared views.
    assert.equal(report.verdict, traits.finding ? 'findings' : 'clean');
    assert.equal(countVerdicts(report)[verdict], verdict === 'stable' ? report.tests.length : 1);
    assert.equal(findingTests(report).some((t) => t.name === name), traits.finding);
    if (traits.finding) assert.match(headline(report), new RegExp(`^1 ${verdict} test in `));

    // JSON: the validator accepts it.
    const checked = validateReport(JSON.parse(JSON.stringify(report)));
    assert.ok(checked.ok, checked.ok ? '' : checked.errors.join('\n'));

    // HTML: a pill in its colour everywhere; a finding gets its stat card and its card.
    const html = renderHtml(report);
    assert.ok(html.includes(`.pill.${verdict}{background:var(--${traits.colour}-bg);color:var(--${traits.colour})}`), 'the pill colour');
    assert.ok(html.includes(`.stat.${verdict}{border-top-color:var(--${traits.colour})}`), 'the stat card colour');
    assert.ok(html.includes(`.card.${verdict}{border-left-color:var(--${traits.colour})}`), 'the card colour');
    assert.equal(html.includes(`<div class="stat ${verdict}"><b>1</b><span>${traits.label}</span></div>`), traits.finding, 'the stat card');
    assert.equal(html.includes(`<article class="card ${verdict}"`), traits.finding, 'the finding card');

    // Markdown: the findings row and the section open with the table's emoji and sentence.
    const markdown = renderMarkdown(report);
    assert.equal(markdown.includes(`| ${traits.emoji} ${verdict} | `), traits.finding, 'the findings row');
    assert.equal(markdown.includes(`**${traits.sentence}**`), traits.finding, 'the section sentence');

    // Terminal (and `kubeflake report --format text`): the verdict in its colour before the name.
    const painted = renderTerminal(report, { color: true });
    const ansi = { magenta: '\u001b[35m', yellow: '\u001b[33m', red: '\u001b[31m', green: '\u001b[32m', dim: '\u001b[2m' }[traits.terminal];
    assert.equal(painted.includes(`  ${ansi}${verdict.padEnd(17)}\u001b[0m`), traits.finding);
    assert.equal(renderReportAs(report, 'text').includes(`  ${verdict.padEnd(17)}${name}`), traits.finding);

    // Annotations: a finding at its level and title; anything else none.
    const annotations = renderAnnotations(report).filter((a) => a.title.endsWith(name));
    if (traits.finding) assert.deepEqual(annotations.map((a) => [a.level, a.title]), [[traits.annotation.level, `${traits.annotation.title}: ${name}`]]);
    else assert.deepEqual(annotations, []);

    // The action: a finding verdict has an output named after it in action.yml, set to its count.
    const { outputs, failed } = await delivered(report);
    assert.equal(outputs.get('findings'), traits.finding ? '1' : '0');
    if (traits.finding) {
      assert.ok(actionOutputs.includes(verdict), `action.yml declares no output "${verdict}"`);
      assert.equal(outputs.get(verdict), '1');
      assert.equal(failed.length, 1, 'fail-on: findings fails the step');
    } else {
      assert.equal(outputs.has(verdict), false);
      assert.deepEqual(failed, []);
    }
  });
}
