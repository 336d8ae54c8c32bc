// The runner's side of the `go test -exec` shim: before a run, write the plan and the shim
// script into the run folder and give the GOFLAGS that point the go command at it; after the
// run, turn what the shim left (one set of files per test binary) into the run's reports.
//
// Why a generated sh script that execs node on the shim entry: GOFLAGS cannot quote, so -exec
// needs one path without spaces, and the script is that path whatever the node or checkout
// paths look like; node (not a Go program) keeps every command-line decision in go-exec.ts,
// the one implementation the unit tests check, and needs no build step on the user's machine.

import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goflagsWithShim, shimScript, type GoExecFocus, type GoExecPlan, type TestBinaryRecord } from './go-exec.ts';
import { GoTestJUnitBuilder, parseGoTestEvent } from '../runner/gotest-json.ts';

/** Files of the shim in a run folder. */
export const goExecFiles = { dir: 'go-exec', plan: 'plan.json', script: 'shim' } as const;

export interface GoExecSetup {
  /** Set on the test command: GOFLAGS with kubeflake's -exec (and the user's own flags kept). */
  env: Record<string, string>;
  /** Absolute: where each test binary's files land. */
  reportDir: string;
}

/**
 * Writes the plan and the shim script into `<runDir>/go-exec/` and returns the env the test
 * command needs. `goflags` is the GOFLAGS the command would otherwise run with.
 */
export async function installGoExecShim(
  runDir: string,
  options: { seed: number; focus?: GoExecFocus[]; gomaxprocs?: number; goflags?: string; node?: string; entry?: string },
): Promise<GoExecSetup> {
  const reportDir = join(runDir, goExecFiles.dir);
  await mkdir(reportDir, { recursive: true });
  const script = join(reportDir, goExecFiles.script);
  const planFile = join(reportDir, goExecFiles.plan);
  const { goflags, userExec } = goflagsWithShim(options.goflags, script);
  const plan: GoExecPlan = {
    version: 1,
    seed: options.seed,
    reportDir,
    ...(options.focus?.length ? { focus: options.focus } : {}),
    ...(options.gomaxprocs !== undefined ? { gomaxprocs: options.gomaxprocs } : {}),
    ...(userExec ? { userExec } : {}),
  };
  await writeFile(planFile, `${JSON.stringify(plan, null, 1)}\n`);
  await writeFile(script, shimScript(options.node ?? process.execPath, options.entry ?? goExecShimEntry(), planFile));
  await chmod(script, 0o755);
  return { env: { GOFLAGS: goflags }, reportDir };
}

/**
 * The shim's entry: the TypeScript source next to this file when kubeflake runs from source,
 * the compiled file when it runs from lib/, the bundle's own copy when it runs from dist/.
 */
export function goExecShimEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'go-exec-shim.ts'), join(here, 'go-exec-shim.js'), join(here, 'go-exec-shim', 'index.js')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`kubeflake's go test shim is missing (looked for ${candidates.join(', ')}): the installation is incomplete; reinstall kubeflake`);
  return found;
}

/** What the shim left for one run: the reports it gathered and what ran. */
export interface GoExecCollected {
  /** JUnit files placed in `junitDir`, by name. */
  junit: string[];
  /** Ginkgo JSON reports (absolute), one per Ginkgo suite that wrote one. */
  ginkgoJson: string[];
  /** One per test binary the go command ran, in the order they started. */
  binaries: TestBinaryRecord[];
  warnings: string[];
}

/**
 * Gathers the shim's files: a Ginkgo suite's JUnit goes to `junitDir` and its JSON report is
 * listed; a plain test binary's test2json stream (or a Ginkgo suite's, when the suite died
 * before writing its report) is converted to JUnit. The raw files stay in go-exec/.
 */
export async function collectGoExecReports(reportDir: string, junitDir: string, interrupted?: string): Promise<GoExecCollected> {
  const collected: GoExecCollected = { junit: [], ginkgoJson: [], binaries: [], warnings: [] };
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
    const builder = new GoTestJUnitBuilder();
    for (const line of (await readFile(join(reportDir, files.goTestJson), 'utf8')).split('\n')) {
      const event = parseGoTestEvent(line);
      if (event) builder.add(event);
    }
    if (builder.events === 0) continue;
    await writeFile(join(junitDir, `${label}.xml`), builder.toXml(interrupted));
    collected.junit.push(`${label}.xml`);
  }
  return collected;
}
