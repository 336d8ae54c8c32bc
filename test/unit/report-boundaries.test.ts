// Renderers read only the Report: no module under src/report/ reaches into the code that runs
// tests, watches clusters or talks to GitHub. Run notices are data on the Report, found by kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../support/paths.ts';
import { buildReport } from '../../src/build-report.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { validateReport } from '../../src/report/validate.ts';
import type { HuntData, LoggedRun } from '../../src/hunt-log.ts';
import type { Report, RunResult, TestCase, TimelineEvent } from '../../src/model.ts';
import type { EnvtestInstance } from '../../src/envtest/evidence.ts';
import { loadReport } from '../fixtures/reports/load.ts';

const FORBIDDEN = ['cluster', 'runner', 'github', 'envtest'];

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

test('the import reader sees static, type-only, re-exported and dynamic imports', () => {
  const source = "import { a } from '../cluster/x.ts';\nimport type { B } from \"../runner/y.ts\";\nexport { c } from '../github/z.ts';\nconst d = await import('../envtest/w.ts');\nimport './side.ts';";
  assert.deepEqual(specifiers(source).sort(), ['../cluster/x.ts', '../envtest/w.ts', '../github/z.ts', '../runner/y.ts', './side.ts']);
});

test('no module under src/report/ imports from cluster/, runner/, github/ or envtest/', () => {
  const src = join(projectRoot, 'src');
  const reportDir = join(src, 'report');
  const modules = readdirSync(reportDir).filter((name) => name.endsWith('.ts'));
  assert.ok(modules.length >= 8, `found only ${modules.join(', ')} in src/report/`);
  const crossings: string[] = [];
  for (const name of modules) {
    for (const spec of specifiers(readFileSync(join(reportDir, name), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const top = relative(src, resolve(dirname(join(reportDir, name)), spec)).split(/[\\/]/)[0]!;
      if (FORBIDDEN.includes(top)) crossings.push(`src/report/${name} imports ${spec}`);
    }
  }
  assert.deepEqual(crossings, []);
});

// --- run notices

const tests: TestCase[] = [{ id: 'S :: a', name: 'a', suite: 'S', status: 'passed', durationMs: 5 }];
function logged(id: string, timeline: TimelineEvent[], envtest: EnvtestInstance[] = []): LoggedRun {
  const run: RunResult = {
    id, seed: 1, probe: false, command: ['go', 'test', './...'], exitCode: 0, timedOut: false, startedAt: 0, endedAt: 10, durationMs: 10,
    orderSource: 'ginkgo-json', order: tests.map((t) => t.id), cases: tests, reports: [], warnings: ['the runner\'s own warning'],
  };
  return { run, leaks: [], leftover: [], observed: true, timeline, envtest } as LoggedRun;
}
function instance(p: Partial<EnvtestInstance>): EnvtestInstance {
  return { id: '1-1', server: 'https://127.0.0.1:1', package: './internal/controller', startedAt: 0, timelineEvents: 0, problems: [], ...p };
}
const hunt = (runs: LoggedRun[]): HuntData => ({
  dir: '/results', errors: [], runs,
  record: { command: ['go', 'test', './...'], framework: 'go', cluster: 'local', cwd: '/repo', baseSeed: 1, runs: runs.length, options: {}, startedAt: 0, errors: [], ignore: [], watch: true },
} as unknown as HuntData);
const created: TimelineEvent = { at: 1, verb: 'created', object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'x', uid: 'u1' } };

test('buildReport gives each run its notices by kind, and keeps their messages in warnings', () => {
  const report = buildReport(hunt([
    logged('000', []),
    logged('001', [], [instance({ problems: ['the API server never answered /readyz'] })]),
    logged('002', [created]),
  ]));
  const [blind, unseen, fine] = report.runs;
  assert.deepEqual(blind?.notices?.map((n) => n.kind), ['empty-timeline']);
  assert.deepEqual(unseen?.notices?.map((n) => n.kind), ['envtest-unseen', 'envtest-problem']);
  assert.match(unseen?.notices?.[1]?.message ?? '', /^001: envtest \.\/internal\/controller: the API server never answered \/readyz$/);
  assert.equal(fine?.notices, undefined, 'a run that touched the watched cluster has nothing to explain');
  assert.deepEqual(blind?.warnings, ['the runner\'s own warning', blind?.notices?.[0]?.message], 'warnings keep every message, as earlier reports had them');
  const checked = validateReport(JSON.parse(JSON.stringify(report)));
  assert.ok(checked.ok, checked.ok ? '' : checked.errors.join('\n'));
});

test('the markdown report finds the empty-timeline notice by its kind, never by its words', () => {
  const base = loadReport('clean');
  const withNotices = (notices: NonNullable<Report['runs'][number]['notices']>, warnings: string[] = []): Report => ({
    ...base,
    runs: base.runs.map((run, i) => (i < 2 ? { ...run, notices, warnings } : run)),
  });
  const reworded = renderMarkdown(withNotices([{ kind: 'empty-timeline', message: 'kubeflake watched a cluster nobody used' }]));
  assert.match(reworded, /> \[!NOTE\]\n> kubeflake watched a cluster nobody used \(2 runs\)/);
  const wordsOnly = renderMarkdown(withNotices([], ['000: the timeline is empty: the suite did not touch the cluster kubeflake watched']));
  assert.doesNotMatch(wordsOnly, /\[!NOTE\]/, 'a warning is not a notice because of what it says');
  const otherKind = renderMarkdown(withNotices([{ kind: 'envtest-problem', message: '000: envtest ./x: the watch failed' }]));
  assert.doesNotMatch(otherKind, /\[!NOTE\]/);
});
