/**
 * approveRun / rejectRun: an operator's decision on a run parked by the safety checks
 * (awaiting_approval: more suspensions/deletions than the tenant's threshold, or a source
 * that suddenly shrank to nothing or to half).
 *
 * Approve applies exactly the stored plan the operator reviewed (its batches were stored
 * when it parked): no re-plan, so nothing the operator did not see is applied. That is only
 * safe while the plan is current, so approval is refused when a newer run has started since
 * (the parked run's lock expired and another run re-planned) or the run's lock is gone.
 *
 * Reject ends the run as `rejected` and frees the tenant. With `replan`, a new full run is
 * started at once with deletions withheld, so the rest of the changes (new hires, renames,
 * moves) still apply while nobody is suspended or deleted. Without it, the next scheduled
 * run plans again and parks again if the source still looks wrong. `replan` plans in the
 * caller's process; the admin route (29 s) rejects without it and queues the re-plan for the
 * sync planner instead (requestSyncRun with withholdDeletions, request-sync-run.ts).
 */
import type { RunRecord } from '../../ports/run-store';
import { ConflictError } from '../../ports/store-common';
import { NotFoundError, ValidationError } from '../../errors/app-error';
import type { SyncDeps } from './sync-deps';
import { syncOptions } from './sync-deps';
import { SyncRunStateError, syncTenant } from './sync-errors';
import { fanOutPhase, releaseRun, runSummaryOf, SYNC_LOCK } from './run-lifecycle';
import { startSyncRun, type StartSyncResult } from './start-sync-run';

export interface DecisionInput {
  tenantId: string;
  runId: string;
  /** Who decided (CLI user, admin principal). */
  by: string;
  note?: string;
}

async function parkedRun(deps: SyncDeps, input: DecisionInput): Promise<RunRecord> {
  syncTenant(deps, input.tenantId);
  if (typeof input.by !== 'string' || input.by.trim() === '') throw new ValidationError('who decides (by) is required', { code: 'SYNC.NO_DECIDER' });
  if (input.note !== undefined && (typeof input.note !== 'string' || input.note.length > 500)) throw new ValidationError('note must be a string of at most 500 characters');
  const run = await deps.stores.runs.get(input.tenantId, input.runId);
  if (!run) throw new NotFoundError(`run ${input.runId} not found for tenant ${input.tenantId}`, { code: 'SYNC.RUN_NOT_FOUND' });
  if (run.status !== 'awaiting_approval') throw new SyncRunStateError(`run ${input.runId} is ${run.status}, not awaiting approval`, { status: run.status });
  return run;
}

/** Apply a parked run's stored plan. @throws SyncRunStateError when it is not (or no longer) approvable. */
export async function approveRun(deps: SyncDeps, input: DecisionInput): Promise<RunRecord> {
  const run = await parkedRun(deps, input);
  const { runs, locks } = deps.stores;
  const opts = syncOptions(deps);
  const newer = (await runs.list(input.tenantId, { limit: 20 })).items.find((r) => r.runId > run.runId && !r.dryRun);
  if (newer) throw new SyncRunStateError(`run ${newer.runId} started after ${run.runId}, so its plan is out of date; start a new run instead`, { newer: newer.runId });
  const lock = await locks.acquire(input.tenantId, SYNC_LOCK, run.runId, opts.lockTtlMs);
  if (!lock.acquired) throw new SyncRunStateError(`another run holds the tenant (${lock.heldBy?.owner ?? 'unknown'}); start a new run once it ends`, { heldBy: lock.heldBy?.owner });
  const summary = runSummaryOf(run);
  if (!summary) throw new SyncRunStateError(`run ${run.runId} has no stored plan summary`);
  let applying: RunRecord;
  try {
    applying = await runs.transition(input.tenantId, run.runId, 'awaiting_approval', 'applying', {
      totalBatches: summary.totalBatches,
      decision: { decision: 'approved', by: input.by, at: deps.clock.now(), ...(input.note ? { note: input.note } : {}) },
    });
  } catch (err) {
    if (err instanceof ConflictError) throw new SyncRunStateError(`run ${run.runId} was decided meanwhile`);
    throw err;
  }
  deps.logger.warn('parked sync run approved', { tenant: input.tenantId, runId: run.runId, by: input.by, destructive: summary.approval?.destructiveCount });
  await fanOutPhase(deps, input.tenantId, run.runId, 0);
  return (await runs.get(input.tenantId, run.runId)) ?? applying;
}

export interface RejectResult {
  run: RunRecord;
  /** The follow-up run with deletions withheld, when `replan` was asked. */
  replan?: StartSyncResult;
}

/** Reject a parked run (nothing of it is applied); optionally re-plan without deletions. */
export async function rejectRun(deps: SyncDeps, input: DecisionInput & { replan?: boolean }): Promise<RejectResult> {
  const run = await parkedRun(deps, input);
  let rejected: RunRecord;
  try {
    rejected = await deps.stores.runs.transition(input.tenantId, run.runId, 'awaiting_approval', 'rejected', {
      endedAt: deps.clock.now(),
      decision: { decision: 'rejected', by: input.by, at: deps.clock.now(), ...(input.note ? { note: input.note } : {}) },
    });
  } catch (err) {
    if (err instanceof ConflictError) throw new SyncRunStateError(`run ${run.runId} was decided meanwhile`);
    throw err;
  }
  await releaseRun(deps, input.tenantId, run.runId);
  deps.logger.warn('parked sync run rejected', { tenant: input.tenantId, runId: run.runId, by: input.by });
  if (!input.replan) return { run: rejected };
  const replan = await startSyncRun(deps, { tenantId: input.tenantId, trigger: 'manual', mode: 'full', withholdDeletions: true });
  return { run: rejected, replan };
}
