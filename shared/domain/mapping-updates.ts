/**
 * What the applier writes to the mapping state after an operation succeeds. Each update
 * touches one item (one department or one person), so the DynamoDB adapter can write it
 * with a single conditional put/update (the embedded store may lack transactions).
 *
 * Keeping this next to the planner is what makes "apply, then re-plan yields nothing"
 * hold: the planner compares exactly the fields written here.
 */
import type { AccountMapping, PlanOperation, UnitMapping, UnitRef } from './sync-plan';
import { DEFAULT_UNIT_ID } from './sync-plan';
import { isMovedAwayId } from './plan/moved-away';

export type MappingUpdate =
  | { type: 'unit'; sourceId: string; put: UnitMapping }
  | { type: 'unit'; sourceId: string; set: Partial<UnitMapping>; unset?: Array<'parentUnitId' | 'parentSourceId' | 'mailList'> }
  | { type: 'account'; sourceId: string; put: AccountMapping }
  | { type: 'account'; sourceId: string; set: Partial<AccountMapping>; unset?: Array<'suspendedAt' | 'deletedAt' | 'forwardHash' | 'aliases'> };

export interface OperationOutcome {
  /** Completion time (ms): starts a grace period or a recovery window. */
  now: number;
  /** unit.create: the unit id NetEase returned. */
  createdUnitId?: string;
  /** The unit id of a department created earlier in the plan (`{ kind: 'new' }` references). */
  resolveNewUnit: (departmentSourceId: string) => string | undefined;
}

function resolve(ref: UnitRef, outcome: OperationOutcome): string {
  if (ref.kind === 'unit') return ref.unitId;
  const unitId = outcome.resolveNewUnit(ref.sourceId);
  // The op's dependsOn holds the create; reaching here without its mapping is an applier bug.
  if (unitId === undefined) throw new Error(`unit of department ${ref.sourceId} is not created yet`);
  return unitId;
}

/** The mapping updates that record `op` as applied. */
export function mappingUpdatesFor(op: PlanOperation, outcome: OperationOutcome): MappingUpdate[] {
  switch (op.kind) {
    case 'unit.create': {
      if (outcome.createdUnitId === undefined) throw new Error('unit.create needs the created unit id');
      const put: UnitMapping = { sourceId: op.sourceId, unitId: outcome.createdUnitId, name: op.name, sourceName: op.sourceName, status: 'active' };
      if (op.parent.kind !== 'top') put.parentUnitId = resolve(op.parent, outcome);
      if (op.parentSourceId !== undefined) put.parentSourceId = op.parentSourceId;
      return [{ type: 'unit', sourceId: op.sourceId, put }];
    }
    case 'unit.update':
      return [{ type: 'unit', sourceId: op.sourceId, set: op.temporary ? { name: op.name } : { name: op.name, sourceName: op.sourceName } }];
    case 'unit.move': {
      const unset: Array<'parentUnitId' | 'parentSourceId'> = [];
      const set: Partial<UnitMapping> = {};
      if (op.parent.kind === 'top') unset.push('parentUnitId');
      else set.parentUnitId = resolve(op.parent, outcome);
      if (op.parentSourceId !== undefined) set.parentSourceId = op.parentSourceId;
      else unset.push('parentSourceId');
      return [{ type: 'unit', sourceId: op.sourceId, set, ...(unset.length ? { unset } : {}) }];
    }
    case 'unit.delete':
      return [{ type: 'unit', sourceId: op.sourceId, set: { status: 'deleted' } }];
    case 'unit.link': {
      const put: UnitMapping = { sourceId: op.sourceId, unitId: op.unitId, name: op.name, sourceName: op.sourceName, status: 'active' };
      if (op.parentUnitId !== undefined) put.parentUnitId = op.parentUnitId;
      if (op.parentSourceId !== undefined) put.parentSourceId = op.parentSourceId;
      const updates: MappingUpdate[] = [];
      const release: MappingUpdate[] = op.takeoverFrom !== undefined ? [{ type: 'unit', sourceId: op.takeoverFrom, set: { status: 'deleted' } }] : [];
      // The department that disappeared gives its unit up first, so one unit never has two
      // owners. A legacy move's pseudo department is recorded first instead: cut off between
      // the two writes, the old unit stays known (the planner lets the pseudo win).
      if (isMovedAwayId(op.sourceId)) updates.push({ type: 'unit', sourceId: op.sourceId, put }, ...release);
      else updates.push(...release, { type: 'unit', sourceId: op.sourceId, put });
      return updates;
    }
    case 'account.create': {
      const put: AccountMapping = { sourceId: op.sourceId, accountName: op.accountName, profileHash: op.profileHash, unitId: op.unit.kind === 'default' ? DEFAULT_UNIT_ID : resolve(op.unit, outcome), status: 'active' };
      if (op.policy) Object.assign(put, { policyHash: op.policy.hash, policyRule: op.policy.rule });
      return [{ type: 'account', sourceId: op.sourceId, put }];
    }
    case 'unit.rank':
      return [{ type: 'unit', sourceId: op.sourceId, set: { rank: op.rank } }];
    case 'account.rank':
      return [{ type: 'account', sourceId: op.sourceId, set: { rank: op.rank } }];
    case 'account.policy':
      return [{ type: 'account', sourceId: op.sourceId, set: { policyHash: op.policy.hash, policyRule: op.policy.rule } }];
    case 'account.forward':
      return [{ type: 'account', sourceId: op.sourceId, set: { forwardHash: op.toHash } }];
    case 'account.update':
      return [{ type: 'account', sourceId: op.sourceId, set: { profileHash: op.profileHash } }];
    case 'account.move':
      return [{ type: 'account', sourceId: op.sourceId, set: { unitId: op.unit.kind === 'default' ? DEFAULT_UNIT_ID : resolve(op.unit, outcome) } }];
    case 'account.suspend':
      return [{ type: 'account', sourceId: op.sourceId, set: { status: 'suspended', suspendedAt: outcome.now } }];
    case 'account.recover':
      // The forwarding hash goes too: the plan reported once that the forwarding stays on (plan/forwarding.ts).
      return [{ type: 'account', sourceId: op.sourceId, set: { status: 'active' }, unset: ['suspendedAt', 'deletedAt', 'forwardHash'] }];
    case 'account.delete':
      // The account's aliases go with it.
      return [{ type: 'account', sourceId: op.sourceId, set: { status: 'deleted', deletedAt: outcome.now }, unset: ['aliases'] }];
    case 'account.link': {
      const put: AccountMapping = { sourceId: op.sourceId, accountName: op.accountName, profileHash: op.profileHash, unitId: op.unitId, status: op.status };
      if (op.status === 'suspended') put.suspendedAt = outcome.now;
      return [{ type: 'account', sourceId: op.sourceId, put }];
    }
    case 'maillist.create':
    case 'maillist.update':
      return [{ type: 'unit', sourceId: op.sourceId, set: { mailList: { name: op.name, displayName: op.displayName, membersHash: op.membersHash } } }];
    case 'maillist.delete':
      return [{ type: 'unit', sourceId: op.sourceId, set: {}, unset: ['mailList'] }];
    case 'alias.add':
    case 'alias.remove':
      return op.aliases.length > 0 ? [{ type: 'account', sourceId: op.sourceId, set: { aliases: [...op.aliases] } }] : [{ type: 'account', sourceId: op.sourceId, set: {}, unset: ['aliases'] }];
  }
}

/** Applies updates to an in-memory mapping state (tests, the local stack, dry runs). */
export function applyMappingUpdates(state: { units: Map<string, UnitMapping>; accounts: Map<string, AccountMapping> }, updates: readonly MappingUpdate[]): void {
  for (const u of updates) {
    if (u.type === 'unit') {
      // A put (create, link) keeps the department's list: it is not part of what the put knows.
      if ('put' in u) state.units.set(u.sourceId, { ...carriedMailList(state.units.get(u.sourceId)), ...u.put });
      else {
        const row = state.units.get(u.sourceId);
        if (!row) throw new Error(`no unit mapping for department ${u.sourceId}`);
        Object.assign(row, u.set);
        for (const k of u.unset ?? []) delete row[k];
      }
    } else if ('put' in u) state.accounts.set(u.sourceId, { ...carriedAliases(state.accounts.get(u.sourceId)), ...u.put });
    else {
      const row = state.accounts.get(u.sourceId);
      if (!row) throw new Error(`no account mapping for person ${u.sourceId}`);
      Object.assign(row, u.set);
      for (const k of u.unset ?? []) delete row[k];
    }
  }
}

/** What a put of a unit mapping keeps from the record it replaces: the department's mailing list. */
export function carriedMailList(prev: UnitMapping | undefined): Pick<UnitMapping, 'mailList'> {
  return prev?.mailList ? { mailList: prev.mailList } : {};
}

/** What a put of an account mapping keeps from the record it replaces: the aliases the bridge added. */
export function carriedAliases(prev: AccountMapping | undefined): Pick<AccountMapping, 'aliases'> {
  return prev?.aliases && prev.aliases.length > 0 ? { aliases: prev.aliases } : {};
}
