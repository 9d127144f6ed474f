import type { DriftItem, PlanOperation, PlanReport, SyncPlan, UnresolvedItem } from '../sync-plan';
import { compareIds } from '../account-naming';
import { summarizeOperations } from '../plan-summary';
import type { PeopleCounters, PlanContext } from './context';
import type { AccountAdoption, UnitAdoption } from './adopt';
import type { AccountNaming, UnitNaming } from './name';
import type { SourceRead } from './read';
import type { SafetyVerdict } from './safety';

/** What the final stage assembles. */
export interface PlanOutcome {
  src: SourceRead;
  units: UnitAdoption;
  adoption: AccountAdoption;
  accountNaming: AccountNaming;
  unitNaming: UnitNaming;
  counters: PeopleCounters;
  unchangedDepartments: number;
  skippedDepartments: number;
  operations: PlanOperation[];
  safety: SafetyVerdict;
  drift: DriftItem[];
  unresolved: UnresolvedItem[];
}

/**
 * Stage 8, report: decides the plan's status (empty, ready, or awaitingApproval unless the
 * caller overrides safety) and assembles the summary and the report (notes, collisions,
 * suffixes, what stayed unmatched in NetEase).
 */
export function buildPlan(ctx: PlanContext, o: PlanOutcome): SyncPlan {
  const { input } = ctx;
  const report: PlanReport = {
    unchanged: { departments: o.unchangedDepartments, people: o.counters.unchangedPeople },
    inactiveWithoutAccount: o.counters.inactiveWithoutAccount,
    notes: ctx.notes,
    accountNameCollisions: o.accountNaming.collisions,
    unitNameSuffixes: o.unitNaming.unitSuffixes,
    deletions: o.src.deletionMode,
  };
  if (o.drift.length > 0) report.drift = o.drift;
  if (o.unresolved.length > 0) report.unresolved = o.unresolved;
  if (input.netease) {
    report.unmatchedNetease = {
      units: o.units.unmanagedUnits.map((u) => ({ unitId: u.unitId, name: u.name })).sort((a, b) => compareIds(a.unitId, b.unitId)),
      accounts: o.adoption.unmanagedAccounts.map((a) => a.accountName.toLowerCase()).sort(),
    };
  }
  const { operations } = o;
  const { reasons, destructive } = o.safety;
  const summary = summarizeOperations(operations, o.unchangedDepartments + o.counters.unchangedPeople, o.counters.skipped + o.skippedDepartments);
  const plan: SyncPlan = {
    runId: input.runId,
    createdAt: ctx.now,
    mode: o.src.universe.mode,
    status: operations.length === 0 ? 'empty' : reasons.length > 0 && !input.safetyOverride ? 'awaitingApproval' : 'ready',
    operations,
    summary,
    report,
  };
  if (reasons.length > 0) plan.approval = { reasons, overridden: !!input.safetyOverride, destructive };
  return plan;
}
