// Plain Go tests: `go test` and compiled `pkg.test` binaries.
//
// `go test -shuffle=S` shuffles every test of the package and then filters by -run, so a subset
// run with a recorded seed keeps the subset's recorded relative order.

import { removeFlags } from './command-line.ts';
import { goRunPattern } from './patterns.ts';
import { takeExecFlag } from './go-exec.ts';
import type { StyleAdapter } from './adapter.ts';

function selectGo(argv: readonly string[], seed: number, names: string[], prefix: '' | 'test.', insertAt: number): string[] {
  const { kept, removedBefore } = removeFlags(argv, [{ names: ['shuffle', 'test.shuffle', 'run', 'test.run'], value: true }], insertAt);
  const flags = [`-${prefix}shuffle=${seed}`];
  if (names.length > 0) flags.push(`-${prefix}run=${goRunPattern(names)}`);
  kept.splice(insertAt - removedBefore, 0, ...flags);
  return kept;
}

export const goTest: StyleAdapter = {
  style: 'go-test',
  focusable: true,
  seedInEnv: false,
  serves: ['go'],
  select: (argv, selection) => selectGo(argv, selection.seed, (selection.tests ?? []).map((t) => t.name), '', 2),
  // The exec shim gives every test binary its own test2json stream (and a Ginkgo suite its reports).
  addReports(argv) {
    const { argv: kept, exec, notes } = takeExecFlag(argv);
    return { argv: kept, reports: { kind: 'go-exec', ...(exec ? { userExec: exec } : {}) }, notes };
  },
};

export const goBinary: StyleAdapter = {
  style: 'go-binary',
  focusable: true,
  seedInEnv: false,
  serves: ['go'],
  select: (argv, selection) => selectGo(argv, selection.seed, (selection.tests ?? []).map((t) => t.name), 'test.', 1),
  addReports: (argv) => ({
    argv: [...argv],
    reports: { kind: 'none' },
    notes: ['a compiled go test binary writes no machine-readable report: run it through `go test` to get one'],
  }),
};
