/**
 * Reading a plan: `explain` (the decision for one source object, for `qiye-bridge explain`),
 * a text rendering for dry runs and run logs, and the split into ordered batches for the
 * fan-out. Output carries ids, account names and unit names only: never mobile numbers,
 * mail addresses or display names.
 */
import type { DirectoryObjectType } from './directory';
import type { ObjectNote, PlanOperation, SyncPlan } from './sync-plan';
import { describeParkReason } from './safety';
import { describePolicySet } from './mailbox-policies';

export interface Explanation {
  sourceId: string;
  type?: 'department' | 'person';
  /** One line: the operations planned, or why there are none. */
  decision: string;
  operations: PlanOperation[];
  notes: ObjectNote[];
  /** The plan waits for approval, so none of the operations has run. */
  parked: boolean;
}

/** The kind of source object an operation acts for: a department (its unit, its mailing list) or a person. */
export function objectTypeOf(op: Pick<PlanOperation, 'kind'>): DirectoryObjectType {
  return op.kind.startsWith('unit.') || op.kind.startsWith('maillist.') ? 'department' : 'person';
}

/**
 * The planner's decision for one source object. Department and person ids may overlap
 * (DingTalk departments and users are both numbered), so pass `type` to disambiguate.
 */
export function explain(plan: SyncPlan, sourceId: string, type?: 'department' | 'person'): Explanation {
  const operations = plan.operations.filter((op) => op.sourceId === sourceId && (type === undefined || objectTypeOf(op) === type));
  const notes = plan.report.notes.filter((n) => n.sourceId === sourceId && (type === undefined || n.type === type));
  let decision: string;
  if (operations.length > 0) decision = operations.map(describeOperation).join('; ');
  else if (notes.length > 0) decision = `no operation: ${notes.map((n) => `${n.code} (${n.detail})`).join('; ')}`;
  else decision = 'no operation: unchanged since the last applied run, or not read in this run';
  const resolvedType = type ?? operations.map(objectTypeOf)[0] ?? notes[0]?.type;
  return { sourceId, ...(resolvedType ? { type: resolvedType } : {}), decision, operations, notes, parked: plan.status === 'awaitingApproval' };
}

function unitLabel(ref: { kind: string; unitId?: string; sourceId?: string }): string {
  if (ref.kind === 'top') return 'top level';
  if (ref.kind === 'default') return 'the default unit';
  if (ref.kind === 'new') return `new unit of department ${ref.sourceId}`;
  return `unit ${ref.unitId}`;
}

/** One line describing an operation. */
export function describeOperation(op: PlanOperation): string {
  switch (op.kind) {
    case 'unit.create':
      return `create unit "${op.name}" under ${unitLabel(op.parent)}`;
    case 'unit.update':
      return op.temporary ? `rename unit "${op.previousName}" to temporary "${op.name}" (name swap)` : `rename unit "${op.previousName}" to "${op.name}"`;
    case 'unit.move':
      return `move unit ${op.unitId} under ${unitLabel(op.parent)}`;
    case 'unit.delete':
      return `delete empty unit "${op.name}" (${op.unitId})`;
    case 'unit.link':
      return op.takeoverFrom !== undefined
        ? `take over unit "${op.name}" (${op.unitId}) from vanished department ${op.takeoverFrom}`
        : `link existing unit "${op.name}" (${op.unitId})`;
    case 'account.create':
      return `${op.recreate ? 're-create' : 'create'} account ${op.accountName} in ${unitLabel(op.unit)}${op.policy ? ` with policy ${op.policy.rule} (${describePolicySet(op.policy.set)})` : ''}`;
    case 'account.update':
      return `update account ${op.accountName} (nickname, mobile, job number)`;
    case 'account.move':
      return `move account ${op.accountName} from unit ${op.previousUnitId} to ${unitLabel(op.unit)}`;
    case 'account.suspend':
      return `suspend account ${op.accountName} (${op.reason})`;
    case 'account.recover':
      return `recover ${op.from} account ${op.accountName}`;
    case 'account.delete':
      return `delete account ${op.accountName} (suspended since ${new Date(op.suspendedAt).toISOString().slice(0, 10)}; recoverable for 7 days)`;
    case 'account.link':
      return `link existing account ${op.accountName} (matched by ${op.matchedBy}${op.status !== 'active' ? `, ${op.status} in NetEase` : ''})`;
    case 'maillist.create':
      return `create mailing list ${op.name} "${op.displayName}" with ${op.members.length} members`;
    case 'maillist.update':
      return `update mailing list ${op.name}${op.previousDisplayName !== op.displayName ? ` (renamed "${op.previousDisplayName}" to "${op.displayName}")` : ''}: ${op.members.length} members`;
    case 'maillist.delete':
      return `delete mailing list ${op.name}`;
    case 'alias.add':
      return `add alias ${op.alias} to account ${op.accountName}`;
    case 'alias.remove':
      return `remove alias ${op.alias} (added by the bridge) from account ${op.accountName}`;
    default:
      return describeMailboxPolicyOperation(op);
  }
}

/** Display order, policies and forwarding (plan/rank.ts, policies.ts, forwarding.ts). */
function describeMailboxPolicyOperation(op: Extract<PlanOperation, { kind: 'unit.rank' | 'account.rank' | 'account.policy' | 'account.forward' }>): string {
  switch (op.kind) {
    case 'unit.rank':
      return `set the rank of ${unitLabel(op.unit)} to ${op.rank}${op.previousRank !== undefined ? ` (was ${op.previousRank})` : ''}`;
    case 'account.rank':
      return `set the rank of account ${op.accountName} to ${op.rank}${op.previousRank !== undefined ? ` (was ${op.previousRank})` : ''}`;
    case 'account.policy':
      return `apply policy ${op.policy.rule} to account ${op.accountName} (${describePolicySet(op.policy.set)})${op.previousRule !== undefined ? `; was ${op.previousRule}` : ''}`;
    case 'account.forward':
      return `forward the mail of account ${op.accountName} to ${op.via === 'manager' ? `the manager (${op.managerSourceId}), ` : ''}${op.to}`;
  }
}

/** A dry run's printout: summary, safety verdict, then up to `limit` operations and notes. */
export function formatPlan(plan: SyncPlan, limit = 50): string {
  const s = plan.summary;
  const lines: string[] = [];
  lines.push(`Plan ${plan.runId} (${plan.mode} run): ${plan.status}; ${s.operations} operations, ${s.apiCalls} NetEase calls, ${s.phases} phases`);
  lines.push(`  units:    create ${s.units.create}, update ${s.units.update}, move ${s.units.move}, delete ${s.units.delete}, link ${s.units.link}`);
  lines.push(`  accounts: create ${s.accounts.create}, update ${s.accounts.update}, move ${s.accounts.move}, suspend ${s.accounts.suspend}, recover ${s.accounts.recover}, delete ${s.accounts.delete}, link ${s.accounts.link}`);
  if (s.mail) lines.push(`  mail:     lists create ${s.mail.lists.create}, update ${s.mail.lists.update}, delete ${s.mail.lists.delete}; aliases add ${s.mail.aliases.add}, remove ${s.mail.aliases.remove}`);
  lines.push(`  unchanged ${s.unchanged}, skipped ${s.totals.skip}, inactive without mailbox ${plan.report.inactiveWithoutAccount}`);
  if (plan.report.deletions.mode === 'withheld') lines.push(`  deletions withheld: ${plan.report.deletions.reason}`);
  if (plan.approval) {
    lines.push(plan.approval.overridden ? '  Safety checks overridden by an operator:' : '  Awaiting approval:');
    for (const r of plan.approval.reasons) lines.push(`    - ${describeParkReason(r)}`);
  }
  if (plan.operations.length > 0) {
    lines.push('  Operations:');
    for (const op of plan.operations.slice(0, limit)) lines.push(`    [${op.phase}] ${objectTypeOf(op)} ${op.sourceId}: ${describeOperation(op)}`);
    if (plan.operations.length > limit) lines.push(`    ... ${plan.operations.length - limit} more`);
  }
  if (plan.report.notes.length > 0) {
    const byCode = new Map<string, number>();
    for (const n of plan.report.notes) byCode.set(n.code, (byCode.get(n.code) ?? 0) + 1);
    lines.push(`  Notes: ${[...byCode].map(([c, n]) => `${c} ${n}`).join(', ')}`);
    for (const n of plan.report.notes.slice(0, limit)) lines.push(`    ${n.type} ${n.sourceId}: ${n.code}: ${n.detail}`);
    if (plan.report.notes.length > limit) lines.push(`    ... ${plan.report.notes.length - limit} more`);
  }
  const unmatched = plan.report.unmatchedNetease;
  if (unmatched && (unmatched.accounts.length > 0 || unmatched.units.length > 0)) {
    lines.push(`  Unmatched in NetEase (never deleted): ${unmatched.accounts.length} accounts, ${unmatched.units.length} units`);
  }
  return lines.join('\n');
}

export interface PlanBatch {
  phase: number;
  operations: PlanOperation[];
}

/**
 * Splits the plan into batches of at most `size` operations, phase by phase: every batch
 * of phase n may start once all of phase n-1 has applied (finer-grained scheduling can use
 * each operation's dependsOn instead). Mailing-list operations carry their member lists, so a
 * batch also closes before their bytes pass MAX_BATCH_LIST_BYTES (a stored batch is one item
 * of at most 300 KB of JSON).
 */
export function planBatches(plan: SyncPlan, size: number): PlanBatch[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('batch size must be a positive integer');
  const batches: PlanBatch[] = [];
  let currentPhase = -1;
  let batch: PlanBatch | undefined;
  let listBytes = 0;
  for (const op of plan.operations) {
    const bytes = op.kind === 'maillist.create' || op.kind === 'maillist.update' ? JSON.stringify(op).length : 0;
    if (!batch || op.phase !== currentPhase || batch.operations.length >= size || (listBytes + bytes > MAX_BATCH_LIST_BYTES && batch.operations.length > 0)) {
      currentPhase = op.phase;
      batch = { phase: op.phase, operations: [] };
      batches.push(batch);
      listBytes = 0;
    }
    batch.operations.push(op);
    listBytes += bytes;
  }
  return batches;
}

/** Bytes of mailing-list operations per batch (below the store's 300 KB per batch, leaving room for the rest). */
export const MAX_BATCH_LIST_BYTES = 200_000;
