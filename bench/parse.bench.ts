// Streaming JUnit ingestion (saxes behind kubeflake's guard) vs fast-xml-parser, side by side on
// the same generated files: Ginkgo-style JUnit (10%, 50% and 100% of sizeMb), then reports of
// millions of small cases (100 MB and 250 MB, as go test suites write them) where what counts is
// memory per kept case and that `kubeflake parse` streams its output. Each parse runs in a fresh
// child process so peak memory is that parser's alone. Files go to the OS temp dir and are removed.
// Standalone: npx node bench/parse.bench.ts [sizeMb=100] [repeats=3] [smallCaseSizesMb=100,250]
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** kubeflake-cli: `kubeflake parse` writing its streamed JSON to a sink that only counts it. */
type Parser = 'kubeflake' | 'kubeflake-cli' | 'fast-xml-parser';

interface Measure {
  parser: Parser;
  cases: number;
  ms: number;
  /** Peak resident set size of the child, MiB. */
  peakRssMb: number;
  /** Peak RSS above the child's RSS before parsing, MiB. */
  rssDeltaMb: number;
  /** Heap still used after parsing, result held, above the heap before, MiB. */
  heapDeltaMb: number;
  /** Set when the child failed (out of memory...): the other fields are then zero. */
  failed?: string;
}

const self = fileURLToPath(import.meta.url);
const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * Each parser is run `repeats` times per size, alternating, each time in a fresh child process;
 * the fastest time and the highest peak memory are reported (the machine is shared: the fastest
 * run is the least disturbed one, the highest peak the honest one).
 */
export async function benchParse(opts: { sizeMb: number; repeats?: number; smallCaseSizesMb?: number[] }): Promise<string[]> {
  const lines = await benchGinkgo(opts);
  lines.push(...(await benchSmallCases(opts.smallCaseSizesMb ?? [100, 250])));
  return lines;
}

async function benchGinkgo(opts: { sizeMb: number; repeats?: number }): Promise<string[]> {
  const repeats = opts.repeats ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-bench-parse-'));
  const lines: string[] = [];
  try {
    const sizes = [...new Set([Math.max(1, Math.round(opts.sizeMb / 10)), Math.max(1, Math.round(opts.sizeMb / 2)), opts.sizeMb])];
    const ours: { size: number; m: Measure }[] = [];
    for (const sizeMb of sizes) {
      const file = join(dir, `ginkgo-${sizeMb}mb.xml`);
      const specs = await writeGinkgoJUnit(file, sizeMb * MiB);
      const bytes = (await stat(file)).size;
      const runs: Measure[] = [];
      for (let i = 0; i < repeats; i++) runs.push(await measure('kubeflake', file), await measure('fast-xml-parser', file));
      const k = best(runs.filter((m) => m.parser === 'kubeflake'));
      const f = best(runs.filter((m) => m.parser === 'fast-xml-parser'));
      if (k.cases !== specs || f.cases !== specs) throw new Error(`case counts disagree: wrote ${specs}, kubeflake ${k.cases}, fast-xml-parser ${f.cases}`);
      ours.push({ size: sizeMb, m: k });
      const mbps = (m: Measure): number => bytes / MiB / (m.ms / 1000);
      lines.push(
        `${(bytes / MiB).toFixed(0).padStart(4)} MB, ${specs} specs | kubeflake ${mbps(k).toFixed(1)} MB/s, peak RSS ${k.peakRssMb.toFixed(0)} MB (+${k.rssDeltaMb.toFixed(0)}), heap +${k.heapDeltaMb.toFixed(0)} MB` +
          ` | fast-xml-parser ${mbps(f).toFixed(1)} MB/s, peak RSS ${f.peakRssMb.toFixed(0)} MB (+${f.rssDeltaMb.toFixed(0)}), heap +${f.heapDeltaMb.toFixed(0)} MB` +
          ` | ${(f.ms / k.ms).toFixed(1)}x faster, ${(f.peakRssMb / k.peakRssMb).toFixed(1)}x less peak RSS`,
      );
    }
    lines.push(
      `kubeflake peak RSS above its start as the file grows: ${ours.map((o) => `${o.size} MB -> +${o.m.rssDeltaMb.toFixed(0)} MB`).join(', ')}` +
        ` (fastest of ${repeats} runs each; the heap kept grows only with the specs kept)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

function best(runs: Measure[]): Measure {
  const fastest = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  return {
    ...fastest,
    peakRssMb: Math.max(...runs.map((m) => m.peakRssMb)),
    rssDeltaMb: Math.max(...runs.map((m) => m.rssDeltaMb)),
    heapDeltaMb: Math.max(...runs.map((m) => m.heapDeltaMb)),
  };
}

/**
 * Millions of small cases (`<testcase classname=... name="TestX_123" time=.../>`): one run each of
 * parseReport, `kubeflake parse` (output streamed and counted) and fast-xml-parser on the same file,
 * printing memory per kept case and throughput side by side. fast-xml-parser may run out of heap
 * on the largest file; that is printed, not thrown.
 */
async function benchSmallCases(sizesMb: number[]): Promise<string[]> {
  const lines: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-bench-small-'));
  try {
    for (const sizeMb of sizesMb) {
      const file = join(dir, `small-${sizeMb}mb.xml`);
      const cases = await writeSmallCases(file, sizeMb * MiB);
      const bytes = (await stat(file)).size;
      const k = await measure('kubeflake', file);
      const c = await measure('kubeflake-cli', file);
      const f = await measure('fast-xml-parser', file);
      for (const m of [k, c, f]) if (!m.failed && m.cases !== cases) throw new Error(`${m.parser} read ${m.cases} cases of ${cases}`);
      const mbps = (m: Measure): string => (m.failed ? 'failed' : `${(bytes / MiB / (m.ms / 1000)).toFixed(1)} MB/s`);
      const perCase = (mb: number): string => `${Math.round((mb * MiB) / cases)} B`;
      const show = (m: Measure): string =>
        m.failed
          ? `${m.parser} failed: ${m.failed}`
          : `${m.parser} ${mbps(m)}, heap kept ${perCase(m.heapDeltaMb)}/case, peak RSS +${m.rssDeltaMb.toFixed(0)} MB (${perCase(m.rssDeltaMb)}/case)`;
      lines.push(`${(bytes / MiB).toFixed(0).padStart(4)} MB, ${cases} small cases | ${show(k)} | ${show(c)} | ${show(f)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

async function measure(parser: Parser, file: string): Promise<Measure> {
  try {
    const { stdout } = await run(process.execPath, ['--expose-gc', self, '--child', parser, file], { maxBuffer: MiB });
    return JSON.parse(stdout) as Measure;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    const reason = /heap out of memory|Invalid string length|Cannot create a string/.exec(stderr)?.[0] ?? (err as Error).message.split('\n')[0]!;
    return { parser, cases: 0, ms: 0, peakRssMb: 0, rssDeltaMb: 0, heapDeltaMb: 0, failed: reason };
  }
}

/** Child process: parse once, print the measurement as JSON. */
async function child(parser: Parser, file: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Load the parser's code before the baseline so only parsing is measured.
  const { parseReport } = await import('../src/ingest/parse.ts');
  const { parseCommand } = await import('../src/ingest/cli.ts');
  const { XMLParser } = await import('fast-xml-parser');
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let cases: number;
  let result: unknown;
  if (parser === 'kubeflake') {
    const report = await parseReport(file);
    cases = report.cases.length;
    result = report;
  } else if (parser === 'kubeflake-cli') {
    // One case a line in the streamed array: count lines that open a case.
    let lines = 0;
    const code = await parseCommand([file], (text: string) => {
      for (let i = text.indexOf('\n{"id"'); i >= 0; i = text.indexOf('\n{"id"', i + 1)) lines++;
    });
    if (code !== 0) throw new Error(`kubeflake parse exited ${code}`);
    cases = lines;
    result = lines;
  } else {
    const xml = await readFile(file, 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suites = [doc.testsuites.testsuite].flat();
    cases = suites.reduce((n: number, s: { testcase: unknown }) => n + [s.testcase].flat().length, 0);
    result = doc;
  }
  const ms = performance.now() - t0;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const out: Measure = {
    parser,
    cases,
    ms,
    peakRssMb: peakRss / MiB,
    rssDeltaMb: Math.max(0, peakRss - rssBefore) / MiB,
    heapDeltaMb: Math.max(0, heapAfter - heapBefore) / MiB,
  };
  if (result === undefined) throw new Error('no result');
  process.stdout.write(JSON.stringify(out));
}

/**
 * A Ginkgo v2 JUnit report of about `bytes`: nested containers, labels, 10% failures with the
 * "In [It] at:" line, and each spec's captured timeline and controller log as Ginkgo writes them.
 */
export async function writeGinkgoJUnit(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let specs = 0;
  const write = async (s: string): Promise<void> => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write('<?xml version="1.0" encoding="UTF-8"?>\n  <testsuites tests="0" disabled="0" errors="0" failures="0" time="0">\n');
  await write('      <testsuite name="Widget Operator Suite" package="example.com/widgets/internal/controller" tests="0" timestamp="2026-11-25T16:58:01">\n');
  await write('          <properties>\n              <property name="SuiteSucceeded" value="false"></property>\n              <property name="RandomSeed" value="4242"></property>\n          </properties>\n');
  const log = 'INFO\\tcontroller-runtime.reconcile\\tReconciling Widget\\t{&#34;controller&#34;: &#34;widget&#34;, &#34;namespace&#34;: &#34;test-ns&#34;, &#34;name&#34;: &#34;iris2&#34;}&#xA;';
  while (written < bytes) {
    specs++;
    const failed = specs % 10 === 0;
    const line = 20 + (specs % 400);
    const name = `[It] Widget controller when a Widget exists in namespace ${specs % 37} reconciles spec ${specs} [controller, slow]`;
    let s = `          <testcase name="${name}" classname="Widget Operator Suite" status="${failed ? 'failed' : 'passed'}" time="0.${specs % 997}">\n`;
    if (failed) {
      s +=
        `              <failure message="Expected success, but got an error:&#xA;    object is being deleted: widgets.example.com &#34;iris2&#34; already exists" type="failed">` +
        `[FAILED] Expected success, but got an error:&#xA;    object is being deleted: widgets.example.com &#34;iris2&#34; already exists&#xA;In [It] at: /src/internal/controller/widget_controller_test.go:${line} @ 11/25/26 16:58:01.378&#xA;</failure>\n`;
    }
    s +=
      `              <system-err>&gt; Enter [BeforeEach] Widget controller - /src/internal/controller/widget_controller_test.go:30 @ 11/25/26 16:58:01.38&#xA;` +
      `&lt; Exit [BeforeEach] Widget controller - /src/internal/controller/widget_controller_test.go:30 @ 11/25/26 16:58:01.38 (0s)&#xA;` +
      `&gt; Enter [It] reconciles spec ${specs} - /src/internal/controller/widget_controller_test.go:${line} @ 11/25/26 16:58:01.38&#xA;` +
      log.repeat(10 + (specs % 40)) +
      `&lt; Exit [It] reconciles spec ${specs} - /src/internal/controller/widget_controller_test.go:${line} @ 11/25/26 16:58:01.38 (2ms)&#xA;</system-err>\n` +
      '          </testcase>\n';
    await write(s);
  }
  await write('      </testsuite>\n  </testsuites>\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return specs;
}

/** A go test-style report of tiny passing cases, about `bytes` long; returns how many cases. */
export async function writeSmallCases(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let cases = 0;
  const write = async (s: string): Promise<void> => {
    written += s.length;
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="example.com/widgets" tests="0">\n');
  const batch: string[] = [];
  while (written < bytes) {
    // About 72 bytes a case: 250 MB is the 3.5 million cases that once made `kubeflake parse` fail.
    batch.push(`<testcase classname="example.com/widgets" name="TestW_${cases}" time="0.00${cases % 10}"/>\n`);
    cases++;
    if (batch.length === 1000) {
      await write(batch.join(''));
      batch.length = 0;
    }
  }
  await write(batch.join('') + '</testsuite>\n</testsuites>\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return cases;
}

if (process.argv[1] === self) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as Parser, process.argv[4]!);
  } else {
    const sizeMb = Number(process.argv[2] ?? 100);
    const repeats = process.argv[3] ? Number(process.argv[3]) : 3;
    const smallCaseSizesMb = process.argv[4] ? process.argv[4].split(',').map(Number) : undefined;
    for (const line of await benchParse({ sizeMb, repeats, ...(smallCaseSizesMb ? { smallCaseSizesMb } : {}) })) console.log(line);
  }
}
