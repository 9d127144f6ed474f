import { isMovedAwayId } from './moved-away';
import type { AccountNameCollision, UnitMapping, UnitNameSuffix } from '../sync-plan';
import { DEFAULT_UNIT_ID } from '../sync-plan';
import { assignAccountNames, type AccountNameAssignment, type NameHolder } from '../account-naming';
import { assignUnitNames, unitNameKey, type UnitNameRequest } from '../unit-naming';
import type { CurrentUnit, PersonIntent, PlanContext, UnitRole } from './context';
import type { AccountAdoption, UnitAdoption } from './adopt';
import type { PeoplePlacement } from './people';
import type { MappingIndex, SourceRead } from './read';
import type { UnitRoles } from './roles';

export interface AccountNaming {
  accountNames: AccountNameAssignment;
  collisions: AccountNameCollision[];
}

/**
 * Stage 3d, account names (account-naming.ts): decides the name of every mailbox this run
 * creates. Names held by mapped, linked or unmanaged mailboxes are taken; a collision gets a
 * suffix in source-id order; a name that cannot be made valid creates no mailbox.
 */
export function nameAccounts(ctx: PlanContext, idx: MappingIndex, src: SourceRead, people: PeoplePlacement, adoption: AccountAdoption): AccountNaming {
  const { note } = ctx;
  const held = new Map<string, NameHolder>();
  for (const a of idx.accountMappings.values()) held.set(a.accountName, { kind: 'mapped', sourceId: a.sourceId });
  for (const [id, l] of adoption.links) held.set(l.account.accountName.toLowerCase(), { kind: 'mapped', sourceId: id });
  for (const a of adoption.unmanagedAccounts) held.set(a.accountName.toLowerCase(), { kind: 'netease' });
  const nameRequests: Array<{ sourceId: string; base: string }> = [];
  for (const p of src.universe.people) {
    const placement = people.placements.get(p.id);
    if (!placement || placement.state !== 'in' || p.status !== 'active') continue;
    if (idx.accountMappings.has(p.id) || adoption.links.has(p.id) || adoption.ambiguous.has(p.id)) continue;
    const d = people.derived.get(p.id)!;
    if (d.ok) nameRequests.push({ sourceId: p.id, base: d.name });
    else note('person', p.id, d.problem, `${d.detail}; no mailbox is created`);
  }
  const accountNames = assignAccountNames(nameRequests, held);
  for (const id of accountNames.tooLong) note('person', id, 'invalidAccountName', 'the suffixed account name would exceed 64 characters; no mailbox is created');
  const collisions: AccountNameCollision[] = accountNames.collisions;
  for (const c of collisions) {
    for (const a of c.assigned) {
      if (a.accountName !== c.base) note('person', a.sourceId, 'accountNameCollision', `account name ${c.base} is taken (${c.heldBy === 'thisRun' ? 'by a lower source id' : c.heldBy === 'mapped' ? 'by a mapped person' : 'by a NetEase mailbox the bridge does not manage'}); assigned ${a.accountName}`);
    }
  }
  return { accountNames, collisions };
}

export interface UnitNaming {
  /** Department id -> the unit name it ends with. */
  names: Map<string, string>;
  unitSuffixes: UnitNameSuffix[];
  /** Desired department -> its unit before this run (mapped, linked or taken over). */
  current: Map<string, CurrentUnit>;
  /** Retiring department -> the new department that takes its unit over. */
  takenOver: Map<string, string>;
  /** Retiring department -> whether its unit can be deleted in this run. */
  deletable: Map<string, boolean>;
}

/** What the unit-naming stage reads about people: who stays in which unit. */
export interface UnitOccupancy {
  intents: Map<string, PersonIntent>;
  /** Unit id -> people whose account is in it now. */
  accountsInUnit: Map<string, string[]>;
  /** Unit id -> number of unmanaged accounts in it. */
  unmanagedAccountsInUnit: Map<string, number>;
}

/**
 * Stage 4, unit names, takeovers and deletability (unit-naming.ts), iterated until stable
 * (usually once): decides every desired unit's name (suffixed on collision), lets a new
 * department named like a retiring unit take that unit over, decides which retiring units
 * are empty enough to delete (NetEase refuses otherwise, reference §5), and reserves the name
 * of a retiring unit that must stay, then re-plans. Notes deferred deletions.
 */
export function nameUnits(ctx: PlanContext, idx: MappingIndex, src: SourceRead, roles: UnitRoles, units: UnitAdoption, occupancy: UnitOccupancy): UnitNaming {
  const { activeUnits } = idx;
  const { desired, priority, baseName } = src;
  const { roleOf, retiring } = roles;
  const reservedExtra = new Set<string>();
  let names!: Map<string, string>;
  let suffixed!: string[];
  let current!: Map<string, CurrentUnit>;
  let takenOver!: Map<string, string>;
  let deletable!: Map<string, boolean>;
  for (let iteration = 0; ; iteration++) {
    if (iteration > retiring.length + 1) throw new Error('internal: unit naming did not converge');
    const reserved = new Set(reservedExtra);
    for (const [id, role] of roleOf) if (role === 'retained') reserved.add(unitNameKey(activeUnits.get(id)!.name));
    for (const u of units.unmanagedUnits) reserved.add(unitNameKey(u.name));
    // The old unit of a legacy move keeps its name until it is deleted (after its accounts left for the new unit).
    for (const id of retiring) if (isMovedAwayId(id)) reserved.add(unitNameKey(activeUnits.get(id)!.name));
    current = new Map();
    for (const id of desired) {
      const m = activeUnits.get(id);
      const l = units.linkedUnits.get(id);
      if (m) current.set(id, { unitId: m.unitId, name: m.name, ...(m.parentUnitId !== undefined ? { parentUnitId: m.parentUnitId } : {}), origin: 'mapped' });
      else if (l) current.set(id, { unitId: l.unitId, name: l.name, ...(l.parentId !== undefined ? { parentUnitId: l.parentId } : {}), origin: 'linked' });
    }
    const requests: UnitNameRequest[] = priority.map((id) => {
      const cur = current.get(id);
      return { sourceId: id, base: baseName.get(id)!, ancestors: src.ancestorsOf(id), ...(cur ? { current: cur.name } : {}) };
    });
    ({ names, suffixed } = assignUnitNames(requests, reserved));
    // A new department named like a retiring unit takes that unit over.
    takenOver = new Map();
    for (const id of priority) {
      if (current.has(id)) continue;
      const holder = units.unitNameHolders.get(unitNameKey(names.get(id)!));
      if (holder?.kind === 'managed' && holder.sourceId !== undefined && roleOf.get(holder.sourceId) === 'retiring' && !takenOver.has(holder.sourceId) && !isMovedAwayId(holder.sourceId)) {
        const m = activeUnits.get(holder.sourceId)!;
        takenOver.set(holder.sourceId, id);
        current.set(id, { unitId: m.unitId, name: m.name, ...(m.parentUnitId !== undefined ? { parentUnitId: m.parentUnitId } : {}), origin: 'takeover', from: holder.sourceId });
      }
    }
    deletable = decideDeletability(retiring, roleOf, activeUnits, units, occupancy, current, takenOver);
    // A rename onto the name of a unit that cannot be deleted yet cannot happen: reserve it, re-plan.
    let conflict = false;
    for (const id of desired) {
      const cur = current.get(id);
      if (!cur || cur.origin === 'takeover') continue;
      const key = unitNameKey(names.get(id)!);
      const holder = units.unitNameHolders.get(key);
      if (holder?.sourceId !== undefined && holder.sourceId !== id && roleOf.get(holder.sourceId) === 'retiring' && !takenOver.has(holder.sourceId) && deletable.get(holder.sourceId) === false) {
        reservedExtra.add(key);
        conflict = true;
      }
    }
    if (!conflict) break;
  }
  const unitSuffixes: UnitNameSuffix[] = suffixed.map((id) => ({ sourceId: id, sourceName: baseName.get(id)!, name: names.get(id)! }));
  for (const id of retiring) {
    if (takenOver.has(id) || deletable.get(id)) continue;
    const m = activeUnits.get(id)!;
    ctx.note('department', id, 'unitDeleteDeferred', `unit ${m.name} is not deleted yet: it still holds accounts or units that stay (suspended leavers in grace, or objects the bridge does not manage)`);
  }
  return { names, unitSuffixes, current, takenOver, deletable };
}

/**
 * Deletability of the retiring units not taken over: a unit is deleted only when every
 * account and child unit in it leaves in this run and it holds nothing we do not manage.
 */
function decideDeletability(
  retiring: readonly string[],
  roleOf: ReadonlyMap<string, UnitRole>,
  activeUnits: ReadonlyMap<string, UnitMapping>,
  units: UnitAdoption,
  occupancy: UnitOccupancy,
  current: ReadonlyMap<string, CurrentUnit>,
  takenOver: ReadonlyMap<string, string>,
): Map<string, boolean> {
  const deletable = new Map<string, boolean>();
  const unitOfDept = (dept: string | null | undefined): string | undefined => (dept === null || dept === undefined ? DEFAULT_UNIT_ID : current.get(dept)?.unitId);
  const leaves = (personId: string, unitId: string): boolean => {
    const it = occupancy.intents.get(personId);
    if (!it) return false;
    if (it.action === 'delete') return true;
    if (it.action === 'keep' || it.action === 'create') return unitOfDept(it.dept) !== unitId;
    return false;
  };
  const isDeletable = (id: string, trail: Set<string>): boolean => {
    const known = deletable.get(id);
    if (known !== undefined) return known;
    if (trail.has(id)) return false;
    trail.add(id);
    const m = activeUnits.get(id)!;
    let ok = (units.unmanagedChildCount.get(m.unitId) ?? 0) === 0 && (occupancy.unmanagedAccountsInUnit.get(m.unitId) ?? 0) === 0;
    for (const child of units.childUnits.get(m.unitId) ?? []) {
      if (!ok) break;
      const role = roleOf.get(child);
      if (role === 'desired' || takenOver.has(child)) continue; // it moves to its new parent first
      ok = role === 'retiring' && isDeletable(child, trail);
    }
    if (ok) for (const pid of occupancy.accountsInUnit.get(m.unitId) ?? []) if (!leaves(pid, m.unitId)) ok = false;
    deletable.set(id, ok);
    return ok;
  };
  for (const id of retiring) if (!takenOver.has(id)) isDeletable(id, new Set());
  return deletable;
}
