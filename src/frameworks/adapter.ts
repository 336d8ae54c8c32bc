// What every command style provides: seed and focus flags (the command a person reruns), and
// report flags on top (the command kubeflake runs). One adapter per style, chosen in index.ts.

import type { Framework } from '../model.ts';

/** How flags are added to a command. */
export type CommandStyle =
  | 'ginkgo-cli' // ginkgo [run] [flags] [packages], also `go run .../ginkgo/v2/ginkgo`
  | 'ginkgo-binary' // go test ... -ginkgo.seed=S, or a compiled pkg.test binary with -ginkgo.* flags
  | 'go-test' // go test -shuffle=S -run=...
  | 'go-binary' // pkg.test -test.shuffle=S -test.run=...
  | 'go-exec' // make test, scripts: every go test they start is ordered through the -exec shim (go-exec.ts)
  | 'env'; // anything else with framework generic: the seed is passed as KUBEFLAKE_SEED

/** A test to select, by the full name its reports gave (Ginkgo: containers and leaf text). */
export interface FocusTest {
  name: string;
  /** The suite its reports gave (a plain Go test's package): the go test shim runs a package only when it holds a focused test. */
  suite?: string;
}

/** Which seed to run with and, optionally, which tests only. */
export interface Selection {
  seed: number;
  tests?: readonly FocusTest[];
}

/** Where kubeflake wants reports: absolute paths in the run's folder. */
export interface ReportPlaces {
  /** The ginkgo CLI's --output-dir. */
  outputDir: string;
  /** A unique file stem for per-package Ginkgo reports, written in each package's directory. */
  packageFileStem: string;
  /** Generic commands: where the command writes its JUnit files. */
  glob?: string;
}

/** Where the command will write its reports. */
export type ReportTarget =
  /** ginkgo CLI: `--output-dir` so nothing lands in the user's packages; names are relative. */
  | { kind: 'ginkgo-output-dir'; dir: string; junit: string; json: string }
  /** `go test -ginkgo.*`: each test binary writes these names in its own package directory. */
  | { kind: 'package-files'; junit: string; json: string }
  /** anything that runs `go test`: GOFLAGS=-exec puts kubeflake's shim before every test binary, which reports per package. */
  | { kind: 'go-exec'; userExec?: string }
  /** generic: files the user's command writes, found by a glob. */
  | { kind: 'glob'; pattern: string }
  | { kind: 'none' };

export interface WithReports {
  argv: string[];
  reports: ReportTarget;
  /** What the user should know about how the command was changed. */
  notes: string[];
}

export interface StyleAdapter {
  style: CommandStyle;
  /** Can run single tests: probes are possible. */
  focusable: boolean;
  /** The seed travels in KUBEFLAKE_SEED only (the reproduce line must set it). */
  seedInEnv: boolean;
  /** The frameworks this style serves; another is an error naming the command. */
  serves: readonly Framework[];
  /** Seed, order and focus flags added (or replacing the user's own); everything else kept in place. */
  select(argv: readonly string[], selection: Selection): string[];
  /** Report flags on top of a selected argv. */
  addReports(argv: readonly string[], places: ReportPlaces): WithReports;
  /** Variables the reproduce line sets for the selection, when flags cannot carry it (GOFLAGS for `make test`). */
  reproduceEnv?(selection: Selection, env: Readonly<Record<string, string>>): Record<string, string>;
}
