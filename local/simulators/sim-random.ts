/**
 * Deterministic randomness for the simulators and the fixtures: seeded orgs must come out
 * the same for the same tenant id on every machine, and fault sequences must be
 * reproducible from a seed. Not for secrets or tokens (those use node:crypto).
 */

/** mulberry32: a tiny, fast seedable PRNG; each call returns an integer in [0, 2^32). */
export function mulberry32Uint(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** mulberry32 as a float in [0, 1), like Math.random. */
export function mulberry32(seed: number): () => number {
  const next = mulberry32Uint(seed);
  return () => next() / 4294967296;
}

/** FNV-1a of a string (32 bits): turns a tenant id into a seed. */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The draws a seeded org is built from, all from one PRNG stream. */
export interface SeededDraws {
  /** A float in [0, 1). */
  rnd: () => number;
  /** One element of a non-empty list. */
  pick: <T>(xs: readonly T[]) => T;
  /** `n` random decimal digits. */
  digits: (n: number) => string;
}

export function seededDraws(seed: number): SeededDraws {
  const rnd = mulberry32(seed);
  return {
    rnd,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T,
    digits: (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join(''),
  };
}

/** A [Chinese, pinyin] name pair. */
export type NamePart = [string, string];

/**
 * A surname and given name whose Chinese full name is not in `taken` yet (then added to it),
 * so a seeded org never has two people of the same name.
 */
export function pickUniqueName(pick: SeededDraws['pick'], surnames: readonly NamePart[], given: readonly NamePart[], taken: Set<string>): { sur: NamePart; given: NamePart } {
  let s: NamePart;
  let g: NamePart;
  let tries = 0;
  do {
    s = pick(surnames);
    g = pick(given);
  } while (taken.has(s[0] + g[0]) && ++tries < 64);
  // Orgs larger than the name lists (benchmarks: 10,000 people) number the repeats, as HR systems do.
  for (let n = 2; taken.has(s[0] + g[0]); n++) if (!taken.has(`${s[0]}${g[0]}${n}`)) g = [`${g[0]}${n}`, `${g[1]}${n}`];
  taken.add(s[0] + g[0]);
  return { sur: s, given: g };
}

/**
 * Seeded person `i`'s departments: a main one, round robin over `leafIds`; every `every`-th
 * person also belongs to the one `offset` further on (when that is another department).
 */
export function seededDepartments(leafIds: readonly number[], i: number, every: number, offset: number): number[] {
  const main = leafIds[i % leafIds.length] as number;
  const ids = [main];
  if (i % every === every - 1) {
    const other = leafIds[(i + offset) % leafIds.length] as number;
    if (other !== main) ids.push(other);
  }
  return ids;
}
