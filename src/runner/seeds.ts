// Seeds for a hunt: derived from one recorded base seed, so the whole hunt can be replayed.

const maxSeed = 0x7fffffff;

/**
 * `count` distinct, positive, 31-bit seeds (valid for `ginkgo --seed` and `go test -shuffle`),
 * the same ones for the same base seed.
 */
export function seedsFor(count: number, baseSeed: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`the number of runs must be a whole number >= 0, got ${count}`);
  if (!Number.isSafeInteger(baseSeed) || baseSeed < 0) throw new Error(`the base seed must be a whole number >= 0, got ${baseSeed}`);
  const next = splitmix32(baseSeed);
  const seeds: number[] = [];
  const seen = new Set<number>();
  while (seeds.length < count) {
    const seed = (next() % maxSeed) + 1;
    if (seen.has(seed)) continue;
    seen.add(seed);
    seeds.push(seed);
  }
  return seeds;
}

// A small, well-mixed generator: the same base always yields the same sequence.
function splitmix32(seed: number): () => number {
  let state = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
