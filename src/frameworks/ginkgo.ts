// Ginkgo v2, two ways: the ginkgo CLI (`ginkgo -r`, `go run .../ginkgo/v2/ginkgo`), and a suite
// binary run by `go test` (or compiled) with `-ginkgo.*` flags.
//
// The probe planner relies on how Ginkgo shuffles: `--randomize-all --seed=S` shuffles the full
// spec list and then skips specs not matching --focus, so a subset run with a recorded seed keeps
// the subset's recorded relative order.

import { baseName, hasFlag, removeFlags } from './command-line.ts';
import { ginkgoFocusPattern } from './patterns.ts';
import { takeExecFlag } from './go-exec.ts';
import type { StyleAdapter } from './adapter.ts';

const ginkgoPackage = /(^|\/)ginkgo(\/v\d+)?\/ginkgo(@\S+)?$/;
const subcommands = new Set(['watch', 'build', 'bootstrap', 'generate', 'labels', 'outline', 'unfocus', 'version', 'help']);

/** Index of the first word after the program (`ginkgo`, or `go run <ginkgo package>`), or -1 when this is no ginkgo CLI. */
export function ginkgoCliArgsAt(argv: readonly string[]): number {
  const program = baseName(argv[0] ?? '');
  // Tool folders often keep a version in the name: bin/ginkgo-v2.34.0, ginkgo2.
  if (/^ginkgo([-_.]?v?\d[\w.-]*)?$/.test(program)) return 1;
  if (program !== 'go' || argv[1] !== 'run') return -1;
  const at = argv.findIndex((word, i) => i >= 2 && ginkgoPackage.test(word));
  return at < 0 ? -1 : at + 1;
}

export const ginkgoCli: StyleAdapter = {
  style: 'ginkgo-cli',
  focusable: true,
  seedInEnv: false,
  serves: ['ginkgo'],
  select(argv, selection) {
    let insertAt = ginkgoCliArgsAt(argv);
    if (argv[insertAt] === 'run') insertAt += 1;
    else if (subcommands.has(argv[insertAt] ?? '')) {
      throw new Error(`\`ginkgo ${argv[insertAt]}\` does not run the suite once: use \`ginkgo run\` (or plain \`ginkgo\`) in the test command`);
    }
    const { kept, removedBefore } = removeFlags(argv, [{ names: ['seed', 'focus'], value: true }, { names: ['randomize-all'], value: false }], insertAt);
    const names = (selection.tests ?? []).map((t) => t.name);
    kept.splice(insertAt - removedBefore, 0, '--randomize-all', `--seed=${selection.seed}`, ...names.map((n) => `--focus=${ginkgoFocusPattern(n)}`));
    return kept;
  },
  addReports(argv, places) {
    const notes: string[] = [];
    if (hasFlag(argv, /^--?output-dir(=|$)/)) {
      notes.push(`kubeflake replaced the command's --output-dir with ${places.outputDir}: profiles the command writes land there too`);
    }
    const kept = removeFlags(argv, [{ names: ['junit-report', 'json-report', 'output-dir'], value: true }]).kept;
    // Right after our seed flags, before packages and any `--` passthrough.
    const at = kept.findIndex((word) => word.startsWith('--seed=')) + 1;
    const reports = { kind: 'ginkgo-output-dir', dir: places.outputDir, junit: 'junit.xml', json: 'ginkgo.json' } as const;
    kept.splice(at, 0, `--output-dir=${places.outputDir}`, `--junit-report=${reports.junit}`, `--json-report=${reports.json}`);
    return { argv: kept, reports, notes };
  },
};

export const ginkgoBinary: StyleAdapter = {
  style: 'ginkgo-binary',
  focusable: true,
  seedInEnv: false,
  serves: ['ginkgo'],
  select(argv, selection) {
    const { kept } = removeFlags(argv, [{ names: ['ginkgo.seed', 'ginkgo.focus'], value: true }, { names: ['ginkgo.randomize-all'], value: false }]);
    const names = (selection.tests ?? []).map((t) => t.name);
    // go test passes flags it does not know to the test binary only after the package list.
    return [...kept, '-ginkgo.randomize-all', `-ginkgo.seed=${selection.seed}`, ...names.map((n) => `-ginkgo.focus=${ginkgoFocusPattern(n)}`)];
  },
  addReports(argv, places) {
    // `go test`: the exec shim adds report flags per binary (a plain package beside the suites gets none).
    if (baseName(argv[0] ?? '') === 'go') {
      const { argv: kept, exec, notes } = takeExecFlag(argv);
      return { argv: kept, reports: { kind: 'go-exec', ...(exec ? { userExec: exec } : {}) }, notes };
    }
    // A compiled binary runs in its own directory: relative names keep one report each.
    const reports = { kind: 'package-files', junit: `${places.packageFileStem}-junit.xml`, json: `${places.packageFileStem}-ginkgo.json` } as const;
    const kept = removeFlags(argv, [{ names: ['ginkgo.junit-report', 'ginkgo.json-report'], value: true }]).kept;
    return { argv: [...kept, `-ginkgo.junit-report=${reports.junit}`, `-ginkgo.json-report=${reports.json}`], reports, notes: [] };
  },
};
