// kubeflake's `go test -exec` shim, the program the generated script hands over to:
//   node go-exec-shim.ts <plan.json> <binary> [arguments the go command passed...]
//   node go-exec-shim.ts --replay <replay.json>     (kept binaries in place of go test)
// What it does for a binary is in go-exec-shim-run.ts; the replay in go-exec-replay.ts.

import { runShim } from './go-exec-shim-run.ts';
import { replayKeptBinaries } from './go-exec-replay.ts';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--replay' && argv[1]) return replayKeptBinaries(argv[1]);
  return runShim(argv, { dir: process.cwd(), env: process.env, write: (chunk) => process.stdout.write(chunk) });
}

// The go command may be gone (killed at a timeout) while the binary still prints: never crash on a closed pipe.
process.stdout.on('error', () => undefined);
process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`kubeflake go-exec shim failed: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
});
