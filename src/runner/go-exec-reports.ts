// After a run through the go test shim: what it left in the run's go-exec/ folder (one set of
// files per test binary) becomes the run's reports, and the records say what really ran. Nothing
// is converted: a plain test binary's test2json stream is its report, read as it is (ingest/).

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestBinaryRecord } from '../frameworks/go-exec.ts';

/** What the shim left for one run: the reports it gathered and what ran. */
export interface GoExecCollected {
  /** Ginkgo JUnit files placed in `junitDir`, by name. */
  junit: string[];
  /** go test -json streams that are a binary's report, by name in the go-exec folder. */
  goTestJson: string[];
  /** Ginkgo JSON reports (absolute), one per Ginkgo suite that wrote one. */
  ginkgoJson: string[];
  /** One per test binary the go command ran, in the order they started. */
  binaries: TestBinaryRecord[];
  warnings: string[];
}

/**
 * Waits (at most `ms`) until every shim that claimed a record has written it: after a timeout the
 * go command is gone at once while a suite still writes its interrupted report.
 */
export async function settleGoExecShims(reportDir: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const names = existsSync(reportDir) ? (await readdir(reportDir)).filter((name) => name.endsWith('.exec.json')) : [];
    const sizes = await Promise.all(names.map((name) => stat(join(reportDir, name)).then((info) => info.size, () => 1)));
    if (sizes.every((size) => size > 0) || Date.now() >= deadline) return;
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

/**
 * Gathers the shim's files: a Ginkgo suite's JUnit goes to `junitDir` and its JSON report is
 * listed; a plain test binary's test2json stream (or a Ginkgo suite's, when the suite died
 * before writing its report) is listed as the binary's report, where the shim wrote it.
 */
export async function collectGoExecReports(reportDir: string, junitDir: string): Promise<GoExecCollected> {
  const collected: GoExecCollected = { junit: [], goTestJson: [], ginkgoJson: [], binaries: [], warnings: [] };
  const names = existsSync(reportDir) ? await readdir(reportDir) : [];
  for (const name of names.filter((file) => file.endsWith('.exec.json'))) {
    try {
      collected.binaries.push(JSON.parse(await readFile(join(reportDir, name), 'utf8')) as TestBinaryRecord);
    } catch {
      // Claimed but never written: the shim was killed before the binary ended. Its stream still counts below.
      const label = name.slice(0, -'.exec.json'.length);
      collected.warnings.push(`the test binary of ${label} left no record (the shim was stopped before it ended): its report may be partial`);
    }
  }
  collected.binaries.sort((a, b) => a.startedAt - b.startedAt || a.label.localeCompare(b.label));
  const labels = new Set(names.filter((file) => file.endsWith('.exec.json')).map((file) => file.slice(0, -'.exec.json'.length)));
  await mkdir(junitDir, { recursive: true });
  for (const label of [...labels].sort()) {
    const files = { ginkgoJson: `${label}.ginkgo.json`, junit: `${label}.junit.xml`, goTestJson: `${label}.go-test.json` };
    const hasGinkgo = names.includes(files.ginkgoJson);
    if (hasGinkgo) collected.ginkgoJson.push(join(reportDir, files.ginkgoJson));
    if (hasGinkgo && names.includes(files.junit)) {
      await rename(join(reportDir, files.junit), join(junitDir, `${label}.xml`));
      collected.junit.push(`${label}.xml`);
      continue;
    }
    if (hasGinkgo || !names.includes(files.goTestJson)) continue;
    // An empty stream: the binary never started (test2json writes a start event first).
    if ((await stat(join(reportDir, files.goTestJson))).size === 0) continue;
    collected.goTestJson.push(files.goTestJson);
  }
  return collected;
}
