import type { DestructiveItem, NeteaseAccountRecord, ParkReason, PlanOperation } from '../sync-plan';
import { DESTRUCTIVE_KINDS } from '../sync-plan';
import { evaluateSafety } from '../safety';
import type { PlanContext } from './context';
import type { AccountAdoption, UnitAdoption } from './adopt';
import type { PeoplePlacement } from './people';
import type { MappingIndex, SourceRead } from './read';

export interface SafetyVerdict {
  /** Why the plan must wait for approval; empty when it may run. */
  reasons: ParkReason[];
  destructive: DestructiveItem[];
}

/**
 * Stage 7, safety (../safety.ts): decides whether the plan is parked for approval. It counts
 * the destructive operations (suspensions, deletions) against the threshold and compares the
 * source with what we manage, so a source that shrank to nothing or to half parks the plan.
 */
export function assessSafety(ctx: PlanContext, idx: MappingIndex, src: SourceRead, units: UnitAdoption, people: PeoplePlacement, adoption: AccountAdoption, operations: readonly PlanOperation[]): SafetyVerdict {
  let destructiveAccounts = 0;
  let destructiveUnits = 0;
  const destructive: DestructiveItem[] = [];
  for (const op of operations) {
    if (!DESTRUCTIVE_KINDS.has(op.kind)) continue;
    if (op.kind === 'unit.delete') {
      destructiveUnits++;
      destructive.push({ kind: op.kind, sourceId: op.sourceId, name: op.name });
    } else if (op.kind === 'account.suspend') {
      destructiveAccounts++;
      destructive.push({ kind: op.kind, sourceId: op.sourceId, name: op.accountName, reason: op.reason });
    } else if (op.kind === 'account.delete') {
      destructiveAccounts++;
      destructive.push({ kind: op.kind, sourceId: op.sourceId, name: op.accountName });
    }
  }
  let activeAccounts = 0;
  for (const m of idx.accountMappings.values()) if (m.status === 'active') activeAccounts++;
  for (const l of adoption.links.values()) if ((l.account as NeteaseAccountRecord).status === 'active') activeAccounts++;
  let sourceAccounts: number | undefined;
  if (src.universe.authoritative) {
    sourceAccounts = 0;
    for (const p of src.universe.people) if (p.status === 'active' && people.placements.get(p.id)?.state === 'in') sourceAccounts++;
  }
  const reasons = evaluateSafety(
    ctx.settings.deleteThreshold,
    { accounts: destructiveAccounts, units: destructiveUnits },
    {
      activeAccounts,
      activeUnits: idx.activeUnits.size + units.linkedUnits.size,
      ...(sourceAccounts !== undefined ? { sourceAccounts, sourceUnits: src.desired.length } : {}),
    },
  );
  return { reasons, destructive };
}
