// A run of kept test binaries, in place of `go test` (the shim's `--replay <plan.json>` mode):
// what the go command does after linking, and no more. Each package's binary runs as the shim
// runs it (in this process: no node start per binary), in the package folder, with the words and
// environment the go command gave it (go-exec-reuse.ts decided them), at most `concurrency`
// packages at once; each package's output is printed whole, in package order, followed by go
// test's `ok`/`FAIL` line, and the exit code is go test's: 1 when a package failed.

import { readFileSync } from 'node:fs';
import { packageResultLine, type ReplayPlan } from './go-exec-reuse.ts';
import { runShim } from './go-exec-shim-run.ts';

export async function replayKeptBinaries(planFile: string): Promise<number> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as ReplayPlan;
  if (plan.version !== 1) throw new Error(`replay plan version ${String(plan.version)}, this shim reads version 1`);
  const outputs: { chunks: Buffer[]; done: boolean; passed: boolean }[] = plan.packages.map(() => ({ chunks: [], done: false, passed: false }));
  let printed = 0;
  // Only the package being printed streams; the others wait their turn, whole (as go test prints them).
  const flush = (): void => {
    while (printed < outputs.length) {
      const output = outputs[printed]!;
      for (const chunk of output.chunks.splice(0)) process.stdout.write(chunk);
      if (!output.done) return;
      printed += 1;
    }
  };
  const runPackage = async (index: number): Promise<void> => {
    const pkg = plan.packages[index]!;
    const output = outputs[index]!;
    const startedAt = Date.now();
    const take = (chunk: Buffer | string): void => {
      output.chunks.push(Buffer.from(chunk));
      if (index === printed) flush();
    };
    // The shim passes signals on to the binary it runs, as it does under go test.
    const code = await runShim([plan.plan, pkg.binary, ...pkg.args], { dir: pkg.dir, env: { ...process.env, ...pkg.env }, write: take }).catch((error: unknown) => {
      take(`kubeflake: could not run the kept test binary ${pkg.binary}: ${(error as Error).message}\n`);
      return 1;
    });
    output.passed = code === 0;
    output.chunks.push(Buffer.from(`${packageResultLine(pkg.importPath, output.passed, Date.now() - startedAt)}\n`));
    output.done = true;
    flush();
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.packages.length) await runPackage(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(plan.concurrency, plan.packages.length)) }, worker));
  const failed = outputs.some((output) => !output.passed);
  if (failed) process.stdout.write('FAIL\n');
  return failed ? 1 : 0;
}
