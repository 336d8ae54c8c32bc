// `npm run bench`: every benchmark, each measuring kubeflake against its baseline side by side
// in this one process run, printing ratios. Timings on a shared machine are noisy: compare the
// ratios, not the absolute numbers.
//   npm run bench                 all
//   npm run bench -- parse        only benchmarks whose name contains "parse"
import { benchParse } from './parse.bench.ts';
import { benchSnapshot } from './snapshot.bench.ts';
import { benchOverhead } from './overhead.bench.ts';
import { benchAudit } from './audit.bench.ts';
import { benchParallelHunt, benchProbeReuse } from './probes.bench.ts';
import { benchGoSource } from './gosource.bench.ts';

const benches: { name: string; run: () => Promise<string[]> }[] = [
  { name: 'parse: streaming JUnit ingestion vs fast-xml-parser', run: () => benchParse({ sizeMb: 100 }) },
  { name: 'snapshot: metadata-only parallel listing vs a kubectl loop', run: () => benchSnapshot({}) },
  { name: 'overhead: kubeflake runs vs the bare test command (example suite)', run: () => benchOverhead({ runs: 3 }) },
  { name: 'audit: envtest runs with the record vs without (example suite, go test)', run: () => benchAudit({ rounds: 4 }) },
  { name: 'probes: a probe on the kept test binary vs through go test (example suite, own envtest)', run: () => benchProbeReuse({ repeats: 3 }) },
  { name: 'gosource: the Go source reader built cold vs Go\'s build cache warm vs cached', run: () => benchGoSource({ repeats: 3 }) },
  { name: 'parallel: a hunt one run at a time vs parallel 2 (example suite, own envtest)', run: () => benchParallelHunt({ runs: 6, maxProbes: 8 }) },
];

const filter = process.argv[2];
let failed = 0;
for (const bench of benches.filter((b) => !filter || b.name.includes(filter))) {
  console.log(`\n== ${bench.name}`);
  try {
    for (const line of await bench.run()) console.log(`   ${line}`);
  } catch (error) {
    failed += 1;
    console.log(`   failed: ${(error as Error).stack ?? error}`);
  }
}
process.exitCode = failed ? 1 : 0;
