import type { UnitRole, PlanContext } from './context';
import type { MappingIndex, SourceRead } from './read';
import { describeQuarantine } from '../department-quarantine';

export interface UnitRoles {
  /** Role of every mapped department (desired, retiring or retained). */
  roleOf: Map<string, UnitRole>;
  /** Mapped departments that retire (their unit is deleted once empty). */
  retiring: string[];
  /** Departments this run leaves alone (retained, out of scope, or unknown). */
  skippedDepartments: number;
}

/**
 * Stage 2, unit roles: decides, for every mapped unit, whether its department is desired,
 * retiring (gone or out of scope, deleted once empty) or retained (this run cannot judge it,
 * or deletions are withheld), and notes departments that are skipped.
 */
export function assignUnitRoles(ctx: PlanContext, idx: MappingIndex, src: SourceRead): UnitRoles {
  const { note } = ctx;
  const { activeUnits } = idx;
  const { universe, scope, desiredSet, desired } = src;
  const roleOf = new Map<string, UnitRole>();
  for (const [id, m] of activeUnits) {
    if (desiredSet.has(id)) {
      roleOf.set(id, 'desired');
      continue;
    }
    const state = scope.state.get(id);
    const gone = universe.goneDepartments.has(id) || state === 'out' || (universe.authoritative && !universe.departments.has(id));
    if (gone && ctx.deletionsAllowed) roleOf.set(id, 'retiring');
    else {
      roleOf.set(id, 'retained');
      if (gone) note('department', id, 'deletionWithheld', `unit ${m.name} is kept: deletions are withheld in this run`);
      else if (scope.quarantined.has(id)) note('department', id, 'departmentQuarantined', `${describeQuarantine(id, scope.quarantined.get(id)!)} (unit ${m.name})`);
      else if (state === 'unknown') note('department', id, 'scopeUnknown', `this run cannot place the department (its parent is unknown); unit ${m.name} is left as is`);
    }
  }
  for (const id of desired) if (!activeUnits.has(id)) roleOf.delete(id);
  let skippedDepartments = 0;
  for (const role of roleOf.values()) if (role === 'retained') skippedDepartments++;
  for (const [id, state] of scope.state) {
    if (activeUnits.has(id) || state === 'in') continue;
    skippedDepartments++;
    if (state === 'out') note('department', id, 'outOfScope', 'out of scope (department filter)');
    else if (scope.quarantined.has(id)) note('department', id, 'departmentQuarantined', describeQuarantine(id, scope.quarantined.get(id)!));
    else note('department', id, 'scopeUnknown', 'this run cannot place the department (its parent is unknown)');
  }
  const retiring = [...roleOf].filter(([, r]) => r === 'retiring').map(([id]) => id);
  return { roleOf, retiring, skippedDepartments };
}
