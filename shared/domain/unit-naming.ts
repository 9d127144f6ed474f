/**
 * NetEase unit names: unique within a mail domain (a second unit with the same name is
 * refused with UNIT.EXIST, reference netease-qiye-api.md §5), while source organisations
 * routinely have 销售部 under both 华东 and 华南. This module picks one NetEase name per
 * department, deterministically and stably.
 *
 * Candidates for a department named B whose in-scope ancestors are P1 (parent), P2, P3:
 *   B, B(P1), B(P2-P1), B(P3-P2-P1), then B(2), B(3)...
 * Assignment (assignUnitNames):
 * 1. a mapped department keeps its current NetEase name while that name is still one of
 *    its candidates, so names never flip between two departments from run to run, and a
 *    suffix disappears only when the department itself (or an ancestor) is renamed;
 * 2. the others take, round by round, their first free candidate, in priority order
 *    (shallower first, then tree order): every plain name is handed out before any suffix,
 *    so a department literally named "销售部(华南)" is not displaced by a suffixed one.
 *
 * Names are compared by unitNameKey (NFKC, case- and space-insensitive): whether NetEase
 * compares names case-sensitively is not documented, so we assume it does not.
 */

/** Ancestor names used in a suffix; deeper trees fall back to numbers. */
export const MAX_SUFFIX_ANCESTORS = 3;

/** The comparison key of a unit name. */
export function unitNameKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The finite candidates, plain name first. `ancestors` are base names, nearest first. */
export function unitNameCandidates(base: string, ancestors: readonly string[]): string[] {
  const out = [base];
  const seen = new Set([unitNameKey(base)]);
  for (let k = 1; k <= Math.min(ancestors.length, MAX_SUFFIX_ANCESTORS); k++) {
    const candidate = `${base}(${ancestors.slice(0, k).reverse().join('-')})`;
    const key = unitNameKey(candidate);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(candidate);
    }
  }
  return out;
}

/** The numeric fallback candidate B(n), n >= 2. */
export function numberedUnitName(base: string, n: number): string {
  return `${base}(${n})`;
}

/**
 * If `name` is (by key) one of the department's candidates, that candidate spelled as we
 * would spell it now (so a case-only source rename is still applied); else undefined.
 */
export function matchUnitNameCandidate(name: string, base: string, ancestors: readonly string[]): string | undefined {
  const key = unitNameKey(name);
  for (const c of unitNameCandidates(base, ancestors)) if (unitNameKey(c) === key) return c;
  const prefix = `${unitNameKey(base)}(`;
  if (key.startsWith(prefix) && key.endsWith(')')) {
    const digits = key.slice(prefix.length, -1);
    if (/^[1-9]\d{0,5}$/.test(digits) && Number(digits) >= 2) return numberedUnitName(base, Number(digits));
  }
  return undefined;
}

export interface UnitNameRequest {
  sourceId: string;
  /** Cleaned source name. */
  base: string;
  /** In-scope ancestors' base names, nearest first. */
  ancestors: readonly string[];
  /** The NetEase name the department's unit has now, if it has one. */
  current?: string;
}

export interface UnitNameAssignment {
  names: Map<string, string>;
  /** Departments whose name differs from their plain base name. */
  suffixed: string[];
}

/**
 * Assigns unique names. `requests` must be in priority order (see module doc); `reserved`
 * holds keys (unitNameKey) that must not be given out at all (units we do not manage, or
 * units that keep their names through this run).
 */
export function assignUnitNames(requests: readonly UnitNameRequest[], reserved: ReadonlySet<string>): UnitNameAssignment {
  const taken = new Set(reserved);
  const names = new Map<string, string>();
  const candidates = new Map<string, string[]>();
  // 1. Claims: a mapped department keeps a still-valid current name.
  for (const r of requests) {
    if (r.current === undefined) continue;
    const exact = matchUnitNameCandidate(r.current, r.base, r.ancestors);
    if (exact === undefined) continue;
    const key = unitNameKey(exact);
    if (taken.has(key)) continue;
    taken.add(key);
    names.set(r.sourceId, exact);
  }
  // 2. Rounds: plain names for everyone first, then the first ancestor suffix, and so on.
  let pending = requests.filter((r) => !names.has(r.sourceId));
  for (let round = 0; pending.length > 0 && round <= MAX_SUFFIX_ANCESTORS; round++) {
    const next: UnitNameRequest[] = [];
    for (const r of pending) {
      let list = candidates.get(r.sourceId);
      if (!list) candidates.set(r.sourceId, (list = unitNameCandidates(r.base, r.ancestors)));
      const c = list[round];
      if (c !== undefined && !taken.has(unitNameKey(c))) {
        taken.add(unitNameKey(c));
        names.set(r.sourceId, c);
      } else next.push(r);
    }
    pending = next;
  }
  // 3. Numbers, in priority order.
  for (const r of pending) {
    let n = 2;
    while (taken.has(unitNameKey(numberedUnitName(r.base, n)))) n++;
    const c = numberedUnitName(r.base, n);
    taken.add(unitNameKey(c));
    names.set(r.sourceId, c);
  }
  const suffixed = requests.filter((r) => unitNameKey(names.get(r.sourceId) ?? r.base) !== unitNameKey(r.base)).map((r) => r.sourceId);
  return { names, suffixed };
}
