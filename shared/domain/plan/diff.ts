import type { AccountUnitRef, ParentRef } from '../sync-plan';
import { isDefaultUnitId } from '../sync-plan';
import { compareIds, sortByIds } from '../account-naming';
import { fnv1a64 } from '../content-hash';
import { unitNameKey } from '../unit-naming';
import type { OpDraft, PeopleCounters, PersonIntent, PlanContext } from './context';
import type { UnitAdoption } from './adopt';
import type { UnitNaming } from './name';
import type { MappingIndex, SourceRead } from './read';
import type { UnitRoles } from './roles';

/** The operations drafted so far, addressable by key (kind:sourceId[:step]) to wire dependencies. */
export interface OpDrafts {
  drafts: Array<{ draft: OpDraft; deps: number[] }>;
  add(draft: OpDraft, key?: string): number;
  opAt(key: string): number | undefined;
  /** Makes the draft at `at` wait for the drafts under `keys` (a key nothing was drafted under is skipped). */
  after(at: number, keys: readonly string[]): void;
}

export function createOpDrafts(): OpDrafts {
  const drafts: Array<{ draft: OpDraft; deps: number[] }> = [];
  const opIndex = new Map<string, number>();
  return {
    drafts,
    add: (draft, key = `${draft.kind}:${draft.sourceId}`) => {
      drafts.push({ draft, deps: [] });
      opIndex.set(key, drafts.length - 1);
      return drafts.length - 1;
    },
    opAt: (key) => opIndex.get(key),
    after: (at, keys) => {
      for (const k of keys) {
        const dep = opIndex.get(k);
        if (dep !== undefined) drafts[at]!.deps.push(dep);
      }
    },
  };
}

type UnitRefOf = (dept: string) => { kind: 'unit'; unitId: string; sourceId: string } | { kind: 'new'; sourceId: string };

/** The unit a department's operations refer to: its current unit, or the one this run creates. */
export function unitRefOf(naming: UnitNaming): UnitRefOf {
  return (dept) => {
    const cur = naming.current.get(dept);
    return cur ? { kind: 'unit', unitId: cur.unitId, sourceId: dept } : { kind: 'new', sourceId: dept };
  };
}

/**
 * Stage 5a, unit diff: decides the unit operations. A desired department without a unit is
 * created; a linked or taken-over one is linked; a changed name is an update, a changed
 * parent a move; an unchanged unit gets no operation. Retiring units that may go are deleted.
 * Returns the number of unchanged departments.
 */
export function diffUnits(ctx: PlanContext, idx: MappingIndex, src: SourceRead, roles: UnitRoles, naming: UnitNaming, ops: OpDrafts): number {
  const { add, opAt } = ops;
  const { current, names } = naming;
  const refOf = unitRefOf(naming);
  const parentRefOf = (id: string): ParentRef => {
    const p = src.scope.unitParent.get(id);
    return p === undefined ? { kind: 'top' } : refOf(p);
  };
  const sameParent = (ref: ParentRef, parentUnitId: string | undefined) => (ref.kind === 'top' ? parentUnitId === undefined : ref.kind === 'unit' && ref.unitId === parentUnitId);

  let unchangedDepartments = 0;
  for (const id of src.priority) {
    const name = names.get(id)!;
    const sourceName = src.baseName.get(id)!;
    const parent = parentRefOf(id);
    const cur = current.get(id);
    const parentSourceId = src.nodeOf(id).parentId;
    if (!cur) {
      add({ kind: 'unit.create', sourceId: id, name, sourceName, parent, ...(parentSourceId !== undefined ? { parentSourceId } : {}) });
      continue;
    }
    let changed = false;
    if (cur.origin !== 'mapped') {
      add({
        kind: 'unit.link',
        sourceId: id,
        unitId: cur.unitId,
        name: cur.name,
        sourceName,
        ...(cur.parentUnitId !== undefined ? { parentUnitId: cur.parentUnitId } : {}),
        ...(parentSourceId !== undefined ? { parentSourceId } : {}),
        ...(cur.from !== undefined ? { takeoverFrom: cur.from } : {}),
      });
      changed = true;
    }
    if (cur.name !== name) {
      add({ kind: 'unit.update', sourceId: id, unitId: cur.unitId, name, previousName: cur.name, sourceName });
      changed = true;
    }
    if (!sameParent(parent, cur.parentUnitId)) {
      add({
        kind: 'unit.move',
        sourceId: id,
        unitId: cur.unitId,
        parent,
        ...(cur.parentUnitId !== undefined ? { previousParentUnitId: cur.parentUnitId } : {}),
        ...(parentSourceId !== undefined ? { parentSourceId } : {}),
      });
      changed = true;
    }
    if (!changed) unchangedDepartments++;
  }
  for (const id of roles.retiring) {
    if (naming.takenOver.has(id) || !naming.deletable.get(id)) continue;
    const m = idx.activeUnits.get(id)!;
    add({ kind: 'unit.delete', sourceId: id, unitId: m.unitId, name: m.name });
  }

  // Suffixes are noted where a name is given out in this run; report.unitNameSuffixes lists them all.
  for (const x of naming.unitSuffixes) {
    if (opAt(`unit.create:${x.sourceId}`) !== undefined || opAt(`unit.update:${x.sourceId}`) !== undefined) {
      ctx.note('department', x.sourceId, 'unitNameSuffixed', `another department is already named ${x.sourceName}; this unit is named ${x.name}`);
    }
  }
  return unchangedDepartments;
}

/**
 * Stage 5b, name swaps: a rename whose target name is held by a unit that (transitively)
 * waits for this one's current name. Decides to break each such cycle with a temporary name
 * on its smallest id (an extra `unit.update` with `temporary: true`).
 */
export function planNameSwaps(src: SourceRead, units: UnitAdoption, naming: UnitNaming, ops: OpDrafts): void {
  const { opAt, add } = ops;
  const { names, current } = naming;
  const renameTargetHolder = (id: string): string | undefined => {
    const holder = units.unitNameHolders.get(unitNameKey(names.get(id)!));
    return holder?.sourceId !== undefined && holder.sourceId !== id && holder.sourceId !== current.get(id)?.from ? holder.sourceId : undefined;
  };
  const tempRenamed = new Set<string>();
  const state = new Map<string, 1 | 2>();
  for (const start of src.priority) {
    if (opAt(`unit.update:${start}`) === undefined || state.has(start)) continue;
    const path: string[] = [];
    let id: string | undefined = start;
    while (id !== undefined && opAt(`unit.update:${id}`) !== undefined && !state.has(id)) {
      state.set(id, 1);
      path.push(id);
      id = renameTargetHolder(id);
    }
    if (id !== undefined && state.get(id) === 1) {
      const cycle = path.slice(path.indexOf(id));
      const pick = [...cycle].sort(compareIds)[0]!;
      tempRenamed.add(pick);
    }
    for (const p of path) state.set(p, 2);
  }
  const takenKeys = new Set<string>([...names.values()].map(unitNameKey));
  for (const k of units.unitNameHolders.keys()) takenKeys.add(k);
  for (const id of [...tempRenamed].sort(compareIds)) {
    const cur = current.get(id)!;
    let temp = `${cur.name}-${fnv1a64(`temp:${id}`).slice(0, 6)}`;
    while (takenKeys.has(unitNameKey(temp))) temp = `${temp}-`;
    takenKeys.add(unitNameKey(temp));
    add({ kind: 'unit.update', sourceId: id, unitId: cur.unitId, name: temp, previousName: cur.name, sourceName: src.baseName.get(id)!, temporary: true }, `unit.update:${id}:temporary`);
  }
}

/**
 * Stage 5c, account diff: decides the account operations from the intents (link, create,
 * recover, update when the profile hash changed, move when the unit changed, suspend,
 * delete). Counts people whose account needs nothing into `counters.unchangedPeople`.
 */
export function diffAccounts(intents: ReadonlyMap<string, PersonIntent>, naming: UnitNaming, ops: OpDrafts, counters: PeopleCounters): void {
  const { add } = ops;
  const refOf = unitRefOf(naming);
  for (const it of sortByIds(intents.values(), (i) => i.sourceId)) {
    const id = it.sourceId;
    const list: number[] = [];
    if (it.linked) {
      const m = it.mapping!;
      list.push(add({ kind: 'account.link', sourceId: id, accountName: m.accountName, matchedBy: it.linked.matchedBy, profileHash: m.profileHash, unitId: m.unitId, status: m.status }));
    }
    const unitRef = (): AccountUnitRef => (it.dept === null || it.dept === undefined ? { kind: 'default' } : refOf(it.dept));
    switch (it.action) {
      case 'create':
        list.push(add({ kind: 'account.create', sourceId: id, accountName: it.accountName, profile: it.profile!, profileHash: it.profileHash!, unit: unitRef(), ...(it.recreate ? { recreate: true } : {}) }));
        break;
      case 'keep': {
        const m = it.mapping!;
        if (it.recover) list.push(add({ kind: 'account.recover', sourceId: id, accountName: m.accountName, from: it.recover }));
        if (it.profileHash !== m.profileHash) list.push(add({ kind: 'account.update', sourceId: id, accountName: m.accountName, profile: it.profile!, profileHash: it.profileHash! }));
        const target = unitRef();
        const same = target.kind === 'default' ? isDefaultUnitId(m.unitId) : target.kind === 'unit' && target.unitId === m.unitId;
        if (!same) list.push(add({ kind: 'account.move', sourceId: id, accountName: m.accountName, unit: target, previousUnitId: m.unitId }));
        break;
      }
      case 'suspend':
        list.push(add({ kind: 'account.suspend', sourceId: id, accountName: it.accountName, reason: it.suspendReason! }));
        break;
      case 'delete':
        list.push(add({ kind: 'account.delete', sourceId: id, accountName: it.accountName, suspendedAt: it.mapping!.suspendedAt! }));
        break;
      case 'none':
        break;
    }
    if (list.length === 0 || (list.length === 1 && it.linked)) counters.unchangedPeople++;
  }
}
