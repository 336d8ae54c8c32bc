// The record's cost: the example suite (fixed variant, so every run does the same work) run by
// plain `go test ./...` in its own envtest, observed by kubeflake as in a hunt (baseline, watch,
// last snapshot), with the real server writing the audit record and without it, alternating
// (ABBA) so a machine that gets busier or quieter weighs on both alike. Prints the run times side
// by side, the overhead, and the size of the record per run. Goal: under 5% and under 10 MB.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneBinaries } from '../src/cluster/local.ts';
import { runProcess } from '../src/exec.ts';
import { wrapEnvtestAssets, type WrappedAssets } from '../src/envtest/assets.ts';
import { observeEnvtest } from '../src/envtest/observe.ts';
import { files } from '../src/results.ts';
import { findProjectRoot } from '../src/settings.ts';

interface Measured {
  ms: number;
  /** CPU time of the run's real kube-apiservers: what the record costs the server, whatever else loads the machine. */
  serverCpuMs: number;
  recordBytes: number;
  recordLines: number;
}

export async function benchAudit(opts: { rounds: number }): Promise<string[]> {
  const root = findProjectRoot();
  const example = join(root, 'examples', 'modelcache');
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-audit-'));
  const binDir = await controlPlaneBinaries({ buildScript: join(root, 'tools', 'build.sh') });
  const withRecord = await wrapEnvtestAssets({ realDir: binDir, workDir: join(work, 'with'), nodePath: process.execPath, record: true });
  const without = await wrapEnvtestAssets({ realDir: binDir, workDir: join(work, 'without'), nodePath: process.execPath, record: false });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(KUBECONFIG|USE_EXISTING_CLUSTER|KUBEBUILDER_ASSETS|KUBEFLAKE_)/.test(key)) env[key] = value;
  let runs = 0;
  const once = async (wrapped: WrappedAssets): Promise<Measured> => {
    const runDir = join(work, 'runs', String(runs++));
    const observation = await observeEnvtest({ instancesDir: wrapped.instancesDir, token: wrapped.token, runDir, cwd: example });
    const cpu = new Map<number, number>();
    const sampler = setInterval(() => sampleServerCpu(wrapped.instancesDir, cpu), 100);
    const started = performance.now();
    // -count=1: go test would otherwise replay a cached pass without starting anything.
    const result = await runProcess(['go', 'test', '-count=1', './...'], { cwd: example, env: { ...env, ...wrapped.env, MODELCACHE_FIXED: 'true', USE_EXISTING_CLUSTER: 'false' }, capture: true })
      .finally(() => clearInterval(sampler));
    const instances = await observation.finish();
    const ms = performance.now() - started;
    const serverCpuMs = [...cpu.values()].reduce((sum, value) => sum + value, 0);
    if (result.exitCode !== 0) throw new Error(`the fixed example failed under go test: ${(result.stdout + result.stderr).slice(-2000)}`);
    let recordLines = 0;
    for (const instance of instances) {
      if (!instance.record) continue;
      const text = await readFile(join(runDir, files.envtestDir, instance.id, files.audit), 'utf8');
      recordLines += text.split('\n').filter(Boolean).length;
    }
    return { ms, serverCpuMs, recordBytes: instances.reduce((sum, instance) => sum + (instance.record?.bytes ?? 0), 0), recordLines };
  };
  try {
    await once(without); // compiles the suite once, for both
    const off: Measured[] = [];
    const on: Measured[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      if (round % 2 === 0) {
        off.push(await once(without));
        on.push(await once(withRecord));
      } else {
        on.push(await once(withRecord));
        off.push(await once(without));
      }
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const offMs = mean(off.map((m) => m.ms));
    const onMs = mean(on.map((m) => m.ms));
    const bytes = on.map((m) => m.recordBytes);
    return [
      `${opts.rounds} runs each of the fixed example suite by \`go test ./...\` in its own envtest, observed by kubeflake, alternating`,
      `without the record: ${(offMs / 1000).toFixed(1)} s a run (${off.map((m) => (m.ms / 1000).toFixed(1)).join(', ')})`,
      `with the record:    ${(onMs / 1000).toFixed(1)} s a run (${on.map((m) => (m.ms / 1000).toFixed(1)).join(', ')})`,
      `overhead:           ${((onMs / offMs - 1) * 100).toFixed(1)}% of the run time (goal: under 5%; on a busy machine the runs themselves vary more than that)`,
      `kube-apiserver CPU: ${(mean(off.map((m) => m.serverCpuMs)) / 1000).toFixed(2)} s without, ${(mean(on.map((m) => m.serverCpuMs)) / 1000).toFixed(2)} s with the record a run (${((mean(on.map((m) => m.serverCpuMs)) / mean(off.map((m) => m.serverCpuMs)) - 1) * 100).toFixed(1)}%)`,
      `record per run:     ${(mean(bytes) / 1024).toFixed(0)} KiB, ${Math.round(mean(on.map((m) => m.recordLines)))} events (largest ${(Math.max(...bytes) / 1024).toFixed(0)} KiB; goal: under 10 MB)`,
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The CPU time so far of every real kube-apiserver announced in the instances folder (utime + stime, at 100 ticks a second). */
function sampleServerCpu(instancesDir: string, cpu: Map<number, number>): void {
  for (const name of readdirSync(instancesDir)) {
    if (!/^\d+-\d+\.json$/.test(name)) continue;
    try {
      const { pid } = JSON.parse(readFileSync(join(instancesDir, name), 'utf8')) as { pid: number };
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // announced and gone between two samples: its last sample stands
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchAudit({ rounds: Number(process.argv[2] ?? 4) })) console.log(line);
}
