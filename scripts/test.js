#!/usr/bin/env node
// `npm test`: unit tests (in parallel), then integration tests (one file at a time) against one
// shared local control plane, then a plain "N passed, N failed" line.
//   npm test                 everything
//   npm test -- --unit       unit tests only (no Go, no cluster)
//   npm test -- FILE...      just these test files (a cluster is started if one is integration)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const chosen = args.filter((arg) => !arg.startsWith('--'));
const list = (dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(dir, f));
const pick = (files, dir) => (chosen.length ? chosen.filter((f) => f.startsWith(dir)) : files);

const phases = [
  { name: 'unit', files: pick(list('test/unit'), 'test/unit'), concurrency: 2 },
  { name: 'integration', files: unitOnly ? [] : pick(list('test/integration'), 'test/integration'), concurrency: 1 },
].filter((phase) => phase.files.length > 0);

const work = mkdtempSync(join(tmpdir(), 'kubeflake-test-'));
const totals = { passed: 0, failed: 0, skipped: 0, failures: [] };

// Type and lint checks come first and count as tests: every file (src, tests, bench, scripts)
// type-checks and lints clean, or the run fails. Skipped when single test files are chosen.
if (chosen.length === 0) {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  for (const [name, argv] of [['typecheck (tsc over src, test, bench, scripts)', [bin('tsc'), '-p', 'tsconfig.json']], ['lint (eslint .)', [bin('eslint'), '.']]]) {
    console.log(`== ${name}`);
    const started = Date.now();
    const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env: process.env });
    const ok = result.status === 0;
    console.log(`${ok ? '✔' : '✖'} ${name} (${Date.now() - started} ms)`);
    if (ok) totals.passed += 1;
    else {
      totals.failed += 1;
      totals.failures.push(name);
    }
  }
}
let cluster;
try {
  if (phases.some((phase) => phase.name === 'integration')) {
    const { controlPlaneBinaries, startLocalCluster } = await import('../src/cluster/local.ts');
    (await import('../src/exec.ts')).stopChildrenOnExit();
    console.log('== building (or finding cached) control-plane binaries: tools/build.sh');
    const binDir = await controlPlaneBinaries({ buildScript: join(root, 'tools', 'build.sh'), log: (line) => console.log(`   ${line}`) });
    cluster = await startLocalCluster({ binDir, stateDir: join(work, 'cluster') });
    console.log(`== shared control plane ready in ${cluster.readyMs} ms at ${cluster.server}`);
    process.env.KUBEFLAKE_TEST_KUBECONFIG = cluster.kubeconfigPath;
    process.env.KUBEFLAKE_TEST_SERVER = cluster.server;
    process.env.KUBEFLAKE_TEST_BIN_DIR = binDir;
  }
  for (const phase of phases) {
    console.log(`== ${phase.name} tests: ${phase.files.length} files`);
    const countFile = join(work, `${phase.name}.json`);
    spawnSync(process.execPath, [
      '--test', `--test-concurrency=${phase.concurrency}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts', 'count-reporter.js')}`, `--test-reporter-destination=${countFile}`,
      ...phase.files,
    ], { cwd: root, stdio: 'inherit', env: process.env });
    let counts = { passed: 0, failed: 1, skipped: 0, failures: [`${phase.name}: the test runner crashed`] };
    try {
      counts = JSON.parse(readFileSync(countFile, 'utf8'));
    } catch {
      // No counts: the runner crashed before writing them, and the default above says so.
    }
    for (const key of ['passed', 'failed', 'skipped']) totals[key] += counts[key];
    totals.failures.push(...counts.failures);
  }
} catch (error) {
  totals.failed += 1;
  totals.failures.push(`setup: ${error.message}`);
  console.error(error);
} finally {
  await cluster?.stop({ remove: true });
  rmSync(work, { recursive: true, force: true });
}
if (totals.failures.length) console.log(`\nfailed:\n${totals.failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = totals.failed > 0 ? 1 : 0;
