/**
 * Stage 2b, department moves on the legacy API (`unitMoves: 'recreate'`). The legacy API
 * cannot change a unit's parent (unit/updateUnit takes unit_id, unit_name, unit_desc only,
 * reference netease-qiye-api.md §2), so a department whose unit must change parent:
 *
 * 1. hands its old unit to a "moved-away" pseudo department (`~moved~<unitId>~<dept>`), with
 *    a `unit.link` that records the pseudo mapping (no API call) before anything else;
 * 2. gets a NEW unit under its new parent (`unit.create`; the old unit still holds the name,
 *    so the new one gets a unique, suffixed name as any name collision does today);
 * 3. its accounts follow (`account.move`, account/moveUnit, §2): the intents place people in
 *    their department's current unit, which is now the new one;
 * 4. its sub-units follow: a child's parent changed (its parent's unit is new), so the child
 *    is recreated the same way, recursively;
 * 5. the old unit retires: the pseudo department is in no source, so the ordinary retire
 *    rules delete it once every account and child unit has left (never before: NetEase
 *    refuses to delete a non-empty unit, §5, and the planner never plans it).
 *
 * Crash safety. Every step is recorded in the mapping as it applies, and nothing is ever
 * outside a unit: accounts move unit to unit. A run interrupted after step 1 leaves the
 * pseudo mapping (the old unit) and the department's mapping (pointing at the old unit, or
 * at the new one after step 2); the next full run treats the department as moving (its
 * unit is held by a pseudo), creates the new unit if needed, moves what is left and deletes
 * the old unit. A run that cannot delete the old unit yet (something stays in it) reports
 * it as unresolved every time until it is gone. Runs are forced full while a moved-away
 * unit exists (start-sync-run.ts), because a change feed does not list the people to move;
 * an incremental run that starts a move asks for that full run as it releases the tenant.
 */
import type { UnitMapping, UnresolvedItem } from '../sync-plan';
import type { PlanContext } from './context';
import type { OpDrafts } from './diff';
import type { UnitNaming } from './name';
import type { MappingIndex, SourceRead } from './read';
import type { UnitRoles } from './roles';
import { isMovedAwayId, movedAwayFrom, movedAwayId } from './moved-away';

export interface LegacyMoves {
  /** Departments that hand their unit over in this run: department -> pseudo mapping. */
  started: Map<string, UnitMapping>;
}

/**
 * Decides which desired departments must change parent and, with `unitMoves: 'recreate'`,
 * rewrites the mapping index so they have no unit (they get a new one) and a pseudo
 * department holds the old unit. Shallower departments first, so a child of a moving
 * department is seen as moving too. Mutates `idx`.
 */
export function planLegacyMoves(ctx: PlanContext, idx: MappingIndex, src: SourceRead): LegacyMoves {
  const started = new Map<string, UnitMapping>();
  if (ctx.input.unitMoves !== 'recreate') return { started };
  // Moves interrupted in an earlier run: the old unit is already held by a pseudo department.
  const heldByPseudo = new Set<string>();
  for (const m of idx.activeUnits.values()) if (isMovedAwayId(m.sourceId)) heldByPseudo.add(m.unitId);
  const moving = new Set<string>();
  for (const id of src.priority) {
    const m = idx.activeUnits.get(id);
    if (!m) continue;
    const parent = src.scope.unitParent.get(id);
    const parentUnit = parent === undefined ? undefined : idx.activeUnits.get(parent)?.unitId;
    const inPlace = !heldByPseudo.has(m.unitId) && (parent === undefined ? m.parentUnitId === undefined : !moving.has(parent) && parentUnit !== undefined && parentUnit === m.parentUnitId);
    if (inPlace) continue;
    moving.add(id);
    idx.activeUnits.delete(id);
    if (heldByPseudo.has(m.unitId)) continue;
    const pseudo: UnitMapping = { ...m, sourceId: movedAwayId(id, m.unitId) };
    idx.activeUnits.set(pseudo.sourceId, pseudo);
    idx.unitsByUnitId.set(m.unitId, pseudo);
    started.set(id, pseudo);
    ctx.note('department', id, 'unitRecreatedForMove', `the legacy API cannot move unit ${m.name}: a new unit is created under the new parent, its accounts and sub-units follow, and unit ${m.name} is deleted once empty`);
  }
  // A department whose old unit is already held by a pseudo keeps no second mapping to it.
  for (const u of heldByPseudo) {
    const holder = [...idx.activeUnits.values()].find((m) => m.unitId === u && isMovedAwayId(m.sourceId));
    if (holder) idx.unitsByUnitId.set(u, holder);
  }
  return { started };
}

/**
 * Adds the `unit.link` that records each pseudo department (taking the unit over from the
 * moving department, so one unit never has two owners), and makes the new unit's creation
 * and the old unit's deletion wait for it. Call after the unit diff, before dependencies.
 */
export function linkMovedAwayUnits(moves: LegacyMoves, ops: OpDrafts): Array<[string, number]> {
  const links: Array<[string, number]> = [];
  for (const [dept, m] of moves.started) {
    const i = ops.add({
      kind: 'unit.link',
      sourceId: m.sourceId,
      unitId: m.unitId,
      name: m.name,
      sourceName: m.sourceName,
      ...(m.parentUnitId !== undefined ? { parentUnitId: m.parentUnitId } : {}),
      ...(m.parentSourceId !== undefined ? { parentSourceId: m.parentSourceId } : {}),
      takeoverFrom: dept,
    });
    links.push([dept, i]);
  }
  return links;
}

/** After dependencies are wired: the department's new unit and the old unit's deletion wait for the pseudo link. */
export function wireMovedAwayLinks(moves: LegacyMoves, links: Array<[string, number]>, ops: OpDrafts): void {
  for (const [dept, i] of links) {
    const pseudo = moves.started.get(dept)!.sourceId;
    for (const key of [`unit.create:${dept}`, `unit.delete:${pseudo}`]) {
      const j = ops.opAt(key);
      if (j !== undefined) ops.drafts[j]!.deps.push(i);
    }
  }
}

/** Old units of moved departments that this plan does not delete: still misplaced, reported every run. */
export function unresolvedMoves(idx: MappingIndex, roles: UnitRoles, naming: UnitNaming): UnresolvedItem[] {
  const out: UnresolvedItem[] = [];
  for (const [id, m] of idx.activeUnits) {
    if (!isMovedAwayId(id)) continue;
    if (roles.roleOf.get(id) === 'retiring' && naming.deletable.get(id)) continue;
    out.push({ type: 'department', sourceId: movedAwayFrom(id), name: m.name, why: `moved department: its old unit ${m.name} (${m.unitId}) still holds accounts or units and is not deleted yet` });
  }
  return out;
}
