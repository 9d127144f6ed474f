/**
 * Quarantine of bad department data: a department that is its own parent, or takes part in
 * a parent cycle (A -> B -> A), cannot be placed in a tree. Refusing the whole run for it
 * (what the planner did before) blocked every other change of the tenant, leavers
 * included, until someone fixed the source. Instead the cycle and every department below
 * it are quarantined: the planner treats them like departments it cannot place (their units
 * and people are left exactly as they are, see source-view.ts `unknown`), lists each in the
 * run's notes (`departmentQuarantined`), and the run ends as `warning`; the rest of the
 * tenant syncs. Pure.
 */

export interface QuarantineNode {
  parentId?: string;
}

/**
 * Departments to quarantine, with why: `selfParent`, `cycle` (a member of a parent cycle),
 * or `belowCycle` (a descendant of a quarantined department, `via` the nearest quarantined
 * ancestor). Departments whose walk up ends at a root or at an unknown parent are fine.
 */
export type QuarantineReason = { why: 'selfParent' } | { why: 'cycle'; members: string[] } | { why: 'belowCycle'; via: string };

export function findQuarantined(departments: ReadonlyMap<string, QuarantineNode>): Map<string, QuarantineReason> {
  const out = new Map<string, QuarantineReason>();
  /** Settled departments: true = quarantined, false = fine. */
  const settled = new Map<string, boolean>();
  for (const start of departments.keys()) {
    if (settled.has(start)) continue;
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let id: string | undefined = start;
    let bad = false;
    // Walk up until a root, an unknown parent, a settled department, or a repeat (a cycle).
    while (id !== undefined && departments.has(id)) {
      if (settled.has(id)) {
        bad = settled.get(id)!;
        break;
      }
      const at = onPath.get(id);
      if (at !== undefined) {
        const members = path.slice(at);
        for (const m of members) out.set(m, members.length === 1 ? { why: 'selfParent' } : { why: 'cycle', members: [...members].sort() });
        bad = true;
        break;
      }
      onPath.set(id, path.length);
      path.push(id);
      id = departments.get(id)!.parentId;
    }
    // Everything on the path below the cycle (or below a quarantined ancestor) is quarantined too.
    for (let i = path.length - 1; i >= 0; i--) {
      const d = path[i]!;
      settled.set(d, bad);
      if (bad && !out.has(d)) out.set(d, { why: 'belowCycle', via: departments.get(d)!.parentId! });
    }
  }
  return out;
}

/** An operator-readable sentence for the run's notes. */
export function describeQuarantine(id: string, r: QuarantineReason): string {
  const tail = 'its unit and people are left as they are until the source is fixed';
  switch (r.why) {
    case 'selfParent':
      return `department ${id} is its own parent: quarantined; ${tail}`;
    case 'cycle':
      return `department ${id} is part of a parent cycle (${r.members.join(' -> ')}): quarantined; ${tail}`;
    case 'belowCycle':
      return `department ${id} lies below quarantined department ${r.via}: quarantined; ${tail}`;
  }
}
