/**
 * One planned operation -> the NetEase legacy API call that performs it (reference
 * netease-qiye-api.md §2). "Already done" answers count as success where that is safe:
 *
 * - unit.create / account.create answering `duplicate`: when an earlier attempt of THIS
 *   operation may have created the object (a lost answer: the client retried, or an earlier
 *   delivery held the operation's lease and died), the object is looked up and taken if it
 *   is what we asked for (same name and parent / same nickname). Otherwise the name belongs
 *   to someone else and the operation fails (reported; a later full run sees the object and
 *   the planner picks another name, or an admin links it with `mappings import`).
 * - the same answer on a FIRST attempt may be an orphan: an earlier run's create reached
 *   NetEase and its process died before the mapping was saved (a `kill -9` between the two).
 *   The next run, incremental or full, plans the create again (new operation id). The object
 *   is taken when it is exactly what we would create (same name and parent / same nickname
 *   and unit, not deleted) AND no mapping of any other source object holds it
 *   (`claimedByOther`). That is stricter than full-run adoption, which links by account name
 *   alone, so it links nothing adoption would not. Otherwise the operation fails as before.
 * - unit.delete / account.suspend / account.delete answering `notFound`: the goal (gone,
 *   cannot sign in) already holds.
 *
 * unit.move: the legacy API documents no way to change a unit's parent (unit/updateUnit
 * takes unit_id, unit_name, unit_desc only, §2 Units; our client and simulator follow it).
 * The applier first checks with unit/getUnit whether the unit already sits under the target
 * (moved by an admin in the NetEase console, or by an earlier attempt of this operation:
 * then it records the move). Otherwise, when the tenant's API offers `reparentUnit` (the
 * open platform's unit/moveUnit, §4, configured per tenant), it moves the unit there, same
 * unit id, accounts and sub-units untouched; if that call fails after a retry or on a
 * redelivery, getUnit decides whether a lost attempt already applied it. Without the
 * capability it fails the operation with SYNC.UNIT_MOVE_UNSUPPORTED, telling the operator
 * what to move where. Units are never deleted and re-created to fake a move: that would
 * take the unit's mailboxes with it. Everything that depends on a failed move is blocked,
 * and the move is planned again on the next run.
 *
 * New mailboxes get a random 24-character initial password with passchange_req=1 (change
 * at first web login). Nobody ever needs it: people sign in through the bridge's SSO from
 * the OA, and can set a password later through NetEase's own reset (mobile). The password
 * exists only in this function's memory and the signed request: it is never logged, stored,
 * returned or put in an error (the NetEase client logs no parameters, §1).
 */
import { randomBytes } from 'node:crypto';
import { isNeteaseError } from '../../errors/netease-failure';
import type { AccountUnitRef, ParentRef, PlanOperation } from '../../domain/sync-plan';
import type { PolicySet } from '../../domain/mailbox-policies';
import { isDefaultUnitId } from '../../domain/plan-sync';
import { AppError } from '../../errors/app-error';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import { performMailOperation } from './apply-mail-operation';

export interface OperationContext {
  api: NeteaseDirectory;
  /** An earlier attempt of this same operation may have reached NetEase. */
  repeated: boolean;
  /** The unit id of a department created earlier in the plan (mapping lookup). */
  resolveNewUnit(departmentSourceId: string): Promise<string | undefined>;
  initialPassword?: () => string;
  /**
   * Whether a mapping of another source object (any status) holds this NetEase unit id /
   * account name. Without it, orphans of earlier runs are never taken (module doc).
   */
  claimedByOther?(objectType: 'department' | 'person', neteaseId: string, sourceId: string): Promise<boolean>;
}

export interface OperationEffect {
  /** unit.create: the unit id (created now, or found after a lost answer). */
  createdUnitId?: string;
  /** The NetEase object touched (unit id or account name), for the result record. */
  neteaseId?: string;
  /** The call was answered "already so" (taken after a lost answer, or already gone). */
  alreadyDone?: boolean;
  /** Taken: created by an earlier run whose mapping was never saved (module doc). */
  orphan?: boolean;
}

/** May a duplicate answer be taken as our own object? A retry of this operation, or an orphan nobody else holds. */
async function mayTake(err: { afterRetry?: boolean }, ctx: OperationContext, objectType: 'department' | 'person', neteaseId: string, sourceId: string): Promise<'retry' | 'orphan' | false> {
  if (ctx.repeated || err.afterRetry) return 'retry';
  if (ctx.claimedByOther && !(await ctx.claimedByOther(objectType, neteaseId, sourceId))) return 'orphan';
  return false;
}

/** A permanent refusal decided by the applier itself (not by NetEase). */
export class OperationRefusedError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: false, status: 422 });
  }
}

/** A password NetEase accepts (letters and digits of both cases plus a symbol), never logged. */
export function randomInitialPassword(): string {
  const raw = randomBytes(18).toString('base64').replace(/[+/=]/g, '');
  return `${raw.slice(0, 20)}a9Z!`;
}

async function unitIdOf(ref: ParentRef | AccountUnitRef, ctx: OperationContext): Promise<string | undefined> {
  switch (ref.kind) {
    case 'top':
      return undefined;
    case 'default':
      return 'default';
    case 'unit':
      return ref.unitId;
    case 'new': {
      const id = await ctx.resolveNewUnit(ref.sourceId);
      // dependsOn holds the create; its failure blocks this op before we get here.
      if (id === undefined) throw new OperationRefusedError('SYNC.PARENT_MISSING', `the unit of department ${ref.sourceId} does not exist (its creation did not apply)`);
      return id;
    }
  }
}

/** Perform `op` against NetEase. Throws NeteaseApiError (retryable or not) or OperationRefusedError. */
export async function performOperation(op: PlanOperation, ctx: OperationContext): Promise<OperationEffect> {
  const { api } = ctx;
  switch (op.kind) {
    case 'unit.link':
      return { neteaseId: op.unitId };
    case 'account.link':
      return { neteaseId: op.accountName };

    case 'unit.create': {
      const parentId = await unitIdOf(op.parent, ctx);
      try {
        const unit = await api.createUnit({ unitName: op.name, ...(parentId !== undefined ? { parentId } : {}) });
        return { createdUnitId: unit.unitId, neteaseId: unit.unitId };
      } catch (err) {
        if (!isNeteaseError(err, 'duplicate')) throw err;
        const mine = (await api.getUnitList()).find((u) => u.unitName === op.name && (u.parentId || undefined) === parentId);
        const how = mine ? await mayTake(err, ctx, 'department', mine.unitId, op.sourceId) : false;
        if (!mine || !how) throw err;
        return { createdUnitId: mine.unitId, neteaseId: mine.unitId, alreadyDone: true, ...(how === 'orphan' ? { orphan: true } : {}) };
      }
    }
    case 'unit.update':
      await api.updateUnit(op.unitId, { unitName: op.name });
      return { neteaseId: op.unitId };
    case 'unit.move': {
      const target = await unitIdOf(op.parent, ctx);
      const unit = await api.getUnit(op.unitId);
      if ((unit.parentId || undefined) === target) return { neteaseId: op.unitId, alreadyDone: true };
      const where = target === undefined ? 'the top level' : `unit ${target}`;
      if (!api.reparentUnit) {
        throw new OperationRefusedError(
          'SYNC.UNIT_MOVE_UNSUPPORTED',
          `the NetEase API cannot move unit ${op.unitId} under ${where}; move it in the NetEase console (the next run records it), or configure netease.openPlatform and its authCode so the bridge can`,
        );
      }
      try {
        await api.reparentUnit(op.unitId, target, { unitName: unit.unitName });
        return { neteaseId: op.unitId };
      } catch (err) {
        // A refusal after a lost attempt (client retry, or an earlier delivery of this
        // operation) may be NetEase answering a move it already made: look before failing.
        if (!isNeteaseError(err) || err.retryable || !(ctx.repeated || err.afterRetry)) throw err;
        const now = await api.getUnit(op.unitId);
        if ((now.parentId || undefined) === target) return { neteaseId: op.unitId, alreadyDone: true };
        throw err;
      }
    }
    case 'unit.delete':
      try {
        await api.deleteUnit(op.unitId);
        return { neteaseId: op.unitId };
      } catch (err) {
        if (isNeteaseError(err, 'notFound')) return { neteaseId: op.unitId, alreadyDone: true };
        throw err;
      }

    case 'account.create': {
      const unitId = await unitIdOf(op.unit, ctx);
      const password = (ctx.initialPassword ?? randomInitialPassword)();
      try {
        await api.createAccount({
          accountName: op.accountName,
          password,
          nickname: op.profile.nickname,
          ...(unitId !== undefined ? { unitId } : {}),
          passChangeRequired: 1,
          ...(op.profile.mobile !== undefined ? { mobile: op.profile.mobile } : {}),
          ...(op.profile.jobNo !== undefined ? { jobNo: op.profile.jobNo } : {}),
          ...(op.policy ? policyFields(op.policy.set) : {}),
        });
        return { neteaseId: op.accountName };
      } catch (err) {
        if (!isNeteaseError(err, 'duplicate')) throw err;
        const existing = await api.getAccount(op.accountName);
        const sameUnit = unitId === undefined || unitId === 'default' ? isDefaultUnitId(existing.unitId) : existing.unitId === unitId;
        if (existing.nickname !== op.profile.nickname || !sameUnit || existing.status === 'deleted') throw err;
        const how = await mayTake(err, ctx, 'person', op.accountName, op.sourceId);
        if (!how) throw err;
        return { neteaseId: op.accountName, alreadyDone: true, ...(how === 'orphan' ? { orphan: true } : {}) };
      }
    }
    case 'account.update':
      await api.updateAccount(op.accountName, {
        nickname: op.profile.nickname,
        // The client drops empty values, so a cleared mobile or job number is left as NetEase has it.
        ...(op.profile.mobile !== undefined ? { mobile: op.profile.mobile } : {}),
        ...(op.profile.jobNo !== undefined ? { jobNo: op.profile.jobNo } : {}),
      });
      return { neteaseId: op.accountName };
    case 'account.move': {
      const unitId = (await unitIdOf(op.unit, ctx)) ?? 'default';
      await api.moveUnit(op.accountName, unitId);
      return { neteaseId: op.accountName };
    }
    case 'account.suspend':
      try {
        await api.suspendAccount(op.accountName);
        return { neteaseId: op.accountName };
      } catch (err) {
        if (isNeteaseError(err, 'notFound')) return { neteaseId: op.accountName, alreadyDone: true };
        throw err;
      }
    case 'account.recover':
      await api.recoverAccount(op.accountName);
      return { neteaseId: op.accountName };
    case 'account.delete':
      try {
        await api.deleteAccountSim(op.accountName);
        return { neteaseId: op.accountName };
      } catch (err) {
        if (isNeteaseError(err, 'notFound')) return { neteaseId: op.accountName, alreadyDone: true };
        throw err;
      }
    case 'maillist.create':
    case 'maillist.update':
    case 'maillist.delete':
    case 'alias.add':
    case 'alias.remove':
      return performMailOperation(op, ctx);
    default:
      return performMailboxPolicyOperation(op, ctx);
  }
}

/**
 * Display order, policies and leaver forwarding (plan/rank.ts, policies.ts, forwarding.ts).
 * Ranks go through the legacy unit/updateUnitRank and address/updateAccountRank (§2);
 * policies and forwarding through updateAccount's optional fields (§2: `quota`,
 * `addr_visible`, `addr_right`, `fwd`). Unconfirmed: the `fwd` format; we send one full
 * address (S1-S8 show none), and never `fwdauth`, whose meaning no source gives.
 */
async function performMailboxPolicyOperation(op: Extract<PlanOperation, { kind: 'unit.rank' | 'account.rank' | 'account.policy' | 'account.forward' }>, ctx: OperationContext): Promise<OperationEffect> {
  const { api } = ctx;
  switch (op.kind) {
    case 'unit.rank': {
      const unitId = await unitIdOf(op.unit, ctx);
      if (!api.updateUnitRank || unitId === undefined) throw new OperationRefusedError('SYNC.RANK_UNSUPPORTED', 'this NetEase API offers no unit/updateUnitRank');
      await api.updateUnitRank(unitId, op.rank);
      return { neteaseId: unitId };
    }
    case 'account.rank':
      if (!api.updateAccountRank) throw new OperationRefusedError('SYNC.RANK_UNSUPPORTED', 'this NetEase API offers no address/updateAccountRank');
      await api.updateAccountRank(op.accountName, op.rank);
      return { neteaseId: op.accountName };
    case 'account.policy':
      await api.updateAccount(op.accountName, policyFields(op.policy.set));
      return { neteaseId: op.accountName };
    case 'account.forward':
      await api.updateAccount(op.accountName, { extra: { fwd: op.to } });
      return { neteaseId: op.accountName };
  }
}

/** A policy's values as createAccount/updateAccount fields (mailbox-policies.ts says what is known of each). */
function policyFields(set: PolicySet): { quota?: number; extra?: Record<string, number> } {
  const extra: Record<string, number> = {};
  if (set.addrVisible !== undefined) extra.addr_visible = set.addrVisible;
  if (set.addrRight !== undefined) extra.addr_right = set.addrRight;
  return { ...(set.quota !== undefined ? { quota: set.quota } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}
