// The Go source reader (tools/gosource): what building it costs the first hunt that needs it,
// against what later hunts pay once it is cached (a hash lookup). Side by side, each `repeats`
// times: a cold build (empty kubeflake cache and empty Go build cache: a fresh CI runner), a
// build with Go's own build cache warm (a machine that has built Go before), and the cached binary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goSourceTool } from '../src/changed/gosource.ts';
import { findProjectRoot } from '../src/settings.ts';

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchGoSource(opts: { repeats: number }): Promise<string[]> {
  const projectRoot = findProjectRoot();
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-bench-gosource-'));
  const cold: number[] = [];
  const goWarm: number[] = [];
  const cached: number[] = [];
  const savedGoCache = process.env.GOCACHE;
  try {
    for (let i = 0; i < opts.repeats; i++) {
      // A Go build cache of its own, empty: the helper and the standard library it uses are compiled.
      process.env.GOCACHE = join(work, `gocache-${i}`);
      cold.push(await timed(() => goSourceTool({ projectRoot, cacheDir: join(work, `cold-${i}`) })));
      if (savedGoCache === undefined) delete process.env.GOCACHE;
      else process.env.GOCACHE = savedGoCache;
      const cacheDir = join(work, `warm-${i}`);
      goWarm.push(await timed(() => goSourceTool({ projectRoot, cacheDir })));
      cached.push(await timed(() => goSourceTool({ projectRoot, cacheDir })));
    }
  } finally {
    if (savedGoCache === undefined) delete process.env.GOCACHE;
    else process.env.GOCACHE = savedGoCache;
    rmSync(work, { recursive: true, force: true });
  }
  const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
  return [
    `tools/gosource, median of ${opts.repeats} (a hunt builds it only when it has a fix to prove or changed specs to read)`,
    `cold build (empty Go build cache): ${ms(median(cold))}`,
    `build, Go build cache warm:        ${ms(median(goWarm))}`,
    `cached binary (every later hunt):  ${ms(median(cached))}  ratio cold/cached ${(median(cold) / median(cached)).toFixed(0)}x`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchGoSource({ repeats: Number(process.argv[2] ?? 3) })) console.log(line);
}
