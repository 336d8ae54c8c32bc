// Damage carried as data from a run folder to every face: the run's warnings and `damage`, the
// Report's `damage`, the terminal and the markdown comment/summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRun } from '../../src/ingest/run.ts';
import { damageSentence, summarizeDamage } from '../../src/ingest/damage.ts';
import { rebuildReport } from '../../src/pipeline.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import type { RunResult } from '../../src/model.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { hostileReport } from '../fixtures/reports/hostile.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/junit/${name}`, import.meta.url));

/** A results directory with one run whose junit/ holds a Surefire ANSI report and a Ginkgo report cut inside a start tag. */
async function damagedResults(fn: (results: string) => Promise<void>): Promise<void> {
  const results = await mkdtemp(join(tmpdir(), 'kubeflake-damage-report-'));
  try {
    const run = join(results, 'runs', '000');
    await mkdir(join(run, 'junit'), { recursive: true });
    await writeFile(join(results, 'hunt.json'), JSON.stringify({ command: ['mvn', 'verify'], framework: 'generic', cluster: 'existing', cwd: '.', baseSeed: 1, runs: 1, startedAt: 0, errors: [], ignore: [] }));
    await writeFile(join(run, 'meta.json'), JSON.stringify({ id: '000', seed: 1, probe: false, framework: 'generic', command: ['mvn', 'verify'], exitCode: 1, signal: null, timedOut: false, startedAt: 0, endedAt: 1, durationMs: 1, reports: [], warnings: [] }));
    await copyFile(fixture('surefire-ansi.xml'), join(run, 'junit', 'TEST-WidgetReconcilerIT.xml'));
    const ginkgo = await readFile(fixture('ginkgo-junit.xml'), 'utf8');
    await writeFile(join(run, 'junit', 'ginkgo.xml'), ginkgo.slice(0, ginkgo.indexOf('<testcase name="[It] Gadget panics"') + 25));
    await fn(results);
  } finally {
    await rm(results, { recursive: true, force: true });
  }
}

test('loadRun: each damaged report is in the run\'s damage and warnings, by path in the run folder', async () => {
  await damagedResults(async (results) => {
    const run = await loadRun(join(results, 'runs', '000'));
    assert.deepEqual(run.damage?.map((d) => [d.file, d.repairs, d.lost, d.cut]), [
      ['junit/TEST-WidgetReconcilerIT.xml', 8, 0, false],
      ['junit/ginkgo.xml', 0, 1, true],
    ]);
    assert.equal(run.cases.length, 6 + 6);
    assert.match(run.warnings.join('\n'), /TEST-WidgetReconcilerIT\.xml: is not well-formed XML; read in recovery mode with 8 repairs/);
    assert.match(run.warnings.join('\n'), /ginkgo\.xml: ends before the report is complete .*; 1 test case could not be recovered/);
  });
});

test('summarizeDamage and damageSentence: "3 reports were damaged; 2 test cases could not be recovered"', () => {
  const run = (id: string, damage: RunResult['damage']): RunResult => ({
    id, seed: 0, probe: false, command: [], exitCode: 1, timedOut: false, startedAt: 0, endedAt: 0, durationMs: 0,
    orderSource: 'junit-document', order: [], cases: [], reports: [], warnings: [], ...(damage ? { damage } : {}),
  });
  const runs = [
    run('000', [{ file: 'junit/a.xml', repairs: 2, recoveries: [{ line: 3, column: 9, what: 'bare & read as text' }], lost: 1, cut: false }]),
    run('001', undefined),
    run('002', [
      { file: 'junit/a.xml', repairs: 1, recoveries: [], lost: 1, cut: false },
      { file: 'junit/b.xml', repairs: 0, recoveries: [], lost: 0, cut: false },
    ]),
  ];
  const damage = summarizeDamage(runs)!;
  assert.equal(damageSentence(damage), '3 reports were damaged; 2 test cases could not be recovered');
  assert.deepEqual(damage.files[0], { run: '000', file: 'junit/a.xml', repairs: 2, lost: 1, cut: false, first: 'line 3, column 9: bare & read as text' });
  assert.equal(summarizeDamage([run('000', undefined)]), undefined);
  assert.equal(
    damageSentence({ reports: 1, lost: 0, cut: 1, files: [] }),
    '1 report was damaged; every test case was recovered; 1 ends early (a killed run?), its later tests are unknown',
  );
});

test('kubeflake report: the Report carries damage, and the terminal and the markdown comment say it in one line', async () => {
  await damagedResults(async (results) => {
    const report = await rebuildReport([results]);
    assert.equal(report.damage?.reports, 2);
    assert.equal(report.damage?.lost, 1);
    const sentence = '2 reports were damaged; 1 test case could not be recovered; 1 ends early (a killed run?), its later tests are unknown';
    assert.match(renderTerminal(report, { width: 200 }), new RegExp(`damaged ${sentence.replace(/[()?]/g, '\\$&')}`));
    assert.match(renderMarkdown(report), new RegExp(`> \\[!WARNING\\]\\n> ${sentence.replace(/[()?]/g, '\\$&')}: see report.json`));
  });
  // No damage, no line.
  const clean = loadReport('clean');
  assert.doesNotMatch(renderTerminal(clean) + renderMarkdown(clean), /damaged/);
});

test('the damage line fits the comment when everything else is shrunk, and shows no path or repair text a renderer would have to escape', () => {
  const hostile = hostileReport();
  const sentence = '2 reports were damaged; 7 test cases could not be recovered; 1 ends early (a killed run?), its later tests are unknown';
  const md = renderMarkdown(hostile);
  assert.ok(md.length <= 65_536);
  assert.ok(md.includes(sentence));
  assert.ok(renderTerminal(hostile).includes(sentence.slice(0, 60)));
  for (const file of hostile.damage!.files) assert.ok(!md.includes(file.file));
});
