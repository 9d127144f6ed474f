/**
 * Mailing-list and alias operations (plan/maillists.ts, plan/aliases.ts) -> NetEase calls
 * (ports/netease-maillists.ts). "Already done" answers count as success where that is safe:
 *
 * - maillist.create answering `duplicate`: after a lost answer (a retry of this operation)
 *   the list is ours: it is set to the planned name and members with updateMaillist. A
 *   first attempt's duplicate is someone else's list (an incremental run does not read
 *   NetEase's lists): the operation fails and the next full run reports the collision.
 * - maillist.update answering `notFound`: the list was deleted by hand; it is created again.
 * - maillist.delete / alias.remove answering `notFound`: gone already.
 * - alias.add answering `duplicate`: done when the account already has the alias (a lost
 *   answer); otherwise the address belongs to someone else and the operation fails.
 *
 * A tenant whose NetEase API lacks the capability (no open platform for lists) never gets
 * these operations planned (the planner reports it); reaching here without it is refused.
 */
import { isNeteaseError } from '../../errors/netease-failure';
import type { PlanOperation } from '../../domain/sync-plan';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import type { NeteaseAliases, NeteaseMailLists } from '../../ports/netease-maillists';
import { AppError } from '../../errors/app-error';

export type MailOperation = Extract<PlanOperation, { kind: 'maillist.create' | 'maillist.update' | 'maillist.delete' | 'alias.add' | 'alias.remove' }>;

/** What the applier's OperationContext gives a mail operation. */
export interface MailOperationContext {
  api: NeteaseDirectory;
  /** An earlier attempt of this same operation may have reached NetEase. */
  repeated: boolean;
}

/** The applier's OperationEffect, as far as mail operations fill it. */
export interface MailOperationEffect {
  neteaseId?: string;
  alreadyDone?: boolean;
}

/** A permanent refusal by the applier (same shape as apply-operation.ts's OperationRefusedError). */
class MailOperationRefusedError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: false, status: 422 });
  }
}

function listsOf(api: NeteaseDirectory): NeteaseMailLists {
  if (!api.mailLists) throw new MailOperationRefusedError('SYNC.MAILLISTS_UNAVAILABLE', 'the tenant\'s NetEase API has no mailing-list calls: configure netease.openPlatform and the authCode in its netease secret');
  return api.mailLists;
}

function aliasesOf(api: NeteaseDirectory): NeteaseAliases {
  if (!api.aliases) throw new MailOperationRefusedError('SYNC.ALIASES_UNAVAILABLE', 'the NetEase client has no alias calls');
  return api.aliases;
}

/** Perform a mail operation against NetEase. Throws NeteaseApiError or OperationRefusedError. */
export async function performMailOperation(op: MailOperation, ctx: MailOperationContext): Promise<MailOperationEffect> {
  const { api } = ctx;
  switch (op.kind) {
    case 'maillist.create': {
      const lists = listsOf(api);
      try {
        await lists.createMailList({ name: op.name, displayName: op.displayName, members: op.members });
        return { neteaseId: op.name };
      } catch (err) {
        if (!isNeteaseError(err, 'duplicate') || !(ctx.repeated || err.afterRetry)) throw err;
        await lists.updateMailList(op.name, { displayName: op.displayName, members: op.members });
        return { neteaseId: op.name, alreadyDone: true };
      }
    }
    case 'maillist.update': {
      const lists = listsOf(api);
      try {
        await lists.updateMailList(op.name, { displayName: op.displayName, members: op.members });
      } catch (err) {
        if (!isNeteaseError(err, 'notFound')) throw err;
        await lists.createMailList({ name: op.name, displayName: op.displayName, members: op.members });
      }
      return { neteaseId: op.name };
    }
    case 'maillist.delete':
      try {
        await listsOf(api).deleteMailList(op.name);
        return { neteaseId: op.name };
      } catch (err) {
        if (isNeteaseError(err, 'notFound')) return { neteaseId: op.name, alreadyDone: true };
        throw err;
      }
    case 'alias.add': {
      const aliases = aliasesOf(api);
      try {
        await aliases.addAccountAlias(op.accountName, op.alias);
        return { neteaseId: op.accountName };
      } catch (err) {
        if (!isNeteaseError(err, 'duplicate')) throw err;
        if (!(await aliases.getAccountAliases(op.accountName)).includes(op.alias)) throw err;
        return { neteaseId: op.accountName, alreadyDone: true };
      }
    }
    case 'alias.remove':
      try {
        await aliasesOf(api).deleteAccountAlias(op.accountName, op.alias);
        return { neteaseId: op.accountName };
      } catch (err) {
        if (isNeteaseError(err, 'notFound')) return { neteaseId: op.accountName, alreadyDone: true };
        throw err;
      }
  }
}
