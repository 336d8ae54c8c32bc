import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTerminal } from '../../src/report/terminal.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { HOSTILE, hostileReport } from '../fixtures/reports/hostile.ts';

const findings = loadReport('findings');
const clean = loadReport('clean');
const hostile = hostileReport();

const SGR = /\u001b\[[0-9;]*m/g;

test('the summary opens with the verdict line and lists the victim with polluter, leak, fix and reproduce', () => {
  const out = renderTerminal(findings);
  const lines = out.split('\n');
  assert.equal(lines[0], 'kubeflake  findings: 1 order-dependent test, 1 brittle, 1 broken, 1 flaky, 4 leaked objects in 6 runs (+6 probes)');
  const at = lines.findIndex((l) => l.includes('ModelCache provisioning creates iris2 and reports it Ready'));
  assert.match(lines[at]!, /^ {2}order-dependent {2}ModelCache provisioning/);
  const block = lines.slice(at, at + 12).join('\n');
  assert.match(block, /after {2}ModelCache lifecycle evicts the iris2 cache on delete \(confirmed by probe-001\)/);
  assert.match(block, /via {4}ModelCache default\/iris2 \(terminating, finalizers cache\.kubeflake\.dev\/evict\)/);
  const victim = findings.tests.find((t) => t.name.startsWith('ModelCache provisioning creates iris2'))!;
  assert.ok(out.includes(`run    ${victim.reproduce}\n`), 'reproduce command not printed whole');
  assert.match(out, /Cleanup: deleted 15, finalizers removed from 1, left 1/);
  assert.match(out, /Runs: 6 \+ 6 probes, 6 with failures, /);
});

test('columns line up: test names start in one column, leak rows align', () => {
  const lines = renderTerminal(findings).split('\n');
  const nameCols = lines.filter((l) => /^ {2}(order-dependent|brittle|broken|flaky) /.test(l)).map((l) => l.search(/[A-Z]/));
  assert.equal(nameCols.length, 4);
  assert.equal(new Set(nameCols).size, 1, `names start at columns ${nameCols}`);
  const leakRows = lines.slice(lines.indexOf('Leaked objects (4)') + 1, lines.indexOf('Leaked objects (4)') + 5);
  assert.equal(new Set(leakRows.map((l) => l.search(/(live|terminating) /))).size, 1, leakRows.join('\n'));
});

test('lines fit the width except the verdict line and the reproduce commands', () => {
  for (const width of [60, 100, 160]) {
    for (const line of renderTerminal(findings, { width }).split('\n').slice(1)) {
      if (/^ +run {4}/.test(line)) continue;
      assert.ok(Array.from(line).length <= width, `width ${width}: ${line}`);
    }
  }
});

test('no colour codes unless asked; with colour, only our SGR codes', () => {
  assert.ok(!renderTerminal(findings).includes('\u001b'));
  const colored = renderTerminal(findings, { color: true });
  assert.ok(colored.includes('\u001b[35morder-dependent'));
  assert.equal(colored.replace(SGR, ''), renderTerminal(findings));
});

test('escape sequences and bidi overrides in test names are shown, not obeyed', () => {
  const out = renderTerminal(hostile, { color: true }).replace(SGR, '');
  assert.ok(!out.includes('\u001b'), 'a raw ESC from a test name reached the terminal');
  assert.ok(!out.includes('\u202e'), 'a raw right-to-left override reached the terminal');
  assert.ok(out.includes('\\x1b[31mred\\x1b[0m and \\u202eright-to-left'));
  assert.match(out, /…and [\d,]+ more findings \(see report\.json\)/);
});

test('a newline in a test name cannot start a line of its own', () => {
  const renamed = { ...findings, tests: findings.tests.map((t) => (t.verdict === 'order-dependent' ? { ...t, name: HOSTILE.newlines } : t)) };
  const out = renderTerminal(renamed, { width: 200 });
  assert.ok(!out.split('\n').some((l) => l.startsWith('## injected') || l.startsWith('| x')), out);
  assert.ok(out.includes('line one ⏎ line two ⏎ ## injected heading'));
});

test('a clean report is one verdict line and the runs', () => {
  const out = renderTerminal(clean);
  assert.equal(out, `kubeflake  clean: 42 tests stable in 20 runs\n\nRuns: 20, 0 with failures, ${out.split('0 with failures, ')[1]!.trim()}\n`);
});
