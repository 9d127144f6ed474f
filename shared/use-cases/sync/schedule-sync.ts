/**
 * scheduleSyncRuns: what the EventBridge schedule does (every 15 minutes by default,
 * SCHEDULES in app-manifest.ts). For each tenant with sync enabled and a source, start a run:
 * - full when the source has no watermark yet, when the last finished run failed or was an
 *   incremental run with failed or blocked objects (they are retried by a full re-plan: the
 *   advanced change feed would not list them again), or when the last full run is older than
 *   `fullReconcileHours` (default 24: the daily reconcile that catches what a change feed
 *   cannot show: physical deletions in EKP, post moves, drift made by hand in NetEase), or
 *   when the tenant's `sync.schedule.fullCron` (default 02:00 in `sync.schedule.timezone`)
 *   fired since the last full run started (the nightly full run, so drift is found within a
 *   day, even when the tenant's own full schedule found the tenant busy and skipped);
 * - incremental otherwise.
 * A tenant whose run is still in progress (or parked for approval) is skipped, and the log
 * says why (the holding run, its last progress, when the lock frees). A run that stopped
 * making progress is taken over first (recover-runs.ts): resumed (the tenant is skipped
 * while it finishes) or abandoned (then this tick plans the tenant afresh).
 */
import type { RunMode, RunRecord } from '../../ports/run-store';
import type { SourceKind } from '../../ports/store-common';
import type { SyncDeps } from './sync-deps';
import { syncOptions } from './sync-deps';
import { SyncRunInProgressError } from './sync-errors';
import { startSyncRun } from './start-sync-run';
import { recoverStuckRuns, syncedTenants } from './recover-runs';
import { mapLimit } from '../../lib/map-limit';
import { quotaSpentReason } from '../usage/quota-guard';
import { cronOccurrences, parseCron } from '../../domain/cron';

export interface ScheduledTenantResult {
  tenantId: string;
  mode?: RunMode;
  runId?: string;
  status?: RunRecord['status'];
  /** Why no run started. */
  skipped?: string;
  error?: { code: string; message: string };
}

/** The mode the schedule picks for a tenant; see the module doc. */
export async function chooseScheduledMode(deps: SyncDeps, tenantId: string, source: SourceKind): Promise<{ mode: RunMode; why: string }> {
  const wm = await deps.stores.watermarks.getAll(tenantId, source);
  if (!wm.department || !wm.person) return { mode: 'full', why: 'no watermark yet' };
  const recent = (await deps.stores.runs.list(tenantId, { limit: 200 })).items.filter((r) => !r.dryRun);
  const lastFinished = recent.find((r) => r.status === 'success' || r.status === 'warning' || r.status === 'failed');
  // A failed run, or an incremental one with failed/blocked objects, is retried by a full
  // re-plan. A full run that ended with warnings is not repeated at once: its objects
  // failed permanently (refused by NetEase), and the daily reconcile tries them again.
  if (lastFinished && (lastFinished.status === 'failed' || (lastFinished.status === 'warning' && lastFinished.mode === 'incremental'))) {
    return { mode: 'full', why: `the last run ${lastFinished.runId} ended ${lastFinished.status}` };
  }
  const lastFull = recent.find((r) => r.mode === 'full' && (r.status === 'success' || r.status === 'warning'));
  const ageLimit = syncOptions(deps).fullReconcileHours * 3600_000;
  if (!lastFull || deps.clock.now() - lastFull.startedAt >= ageLimit) return { mode: 'full', why: 'periodic full reconcile' };
  // The tenant's nightly full run (sync.schedule.fullCron in its timezone, the cron its own
  // full schedule fires on: tenantSyncSchedules): due once the cron fired after the last full
  // run started, so a full schedule that found the tenant busy is made up by the next tick.
  const tenant = deps.tenants().find((t) => t.id === tenantId);
  if (tenant) {
    const { fullCron, timezone } = tenant.sync.schedule;
    // Minutes after the last full run's start up to now (at most fullReconcileHours of them).
    if (cronOccurrences(parseCron(fullCron), timezone, lastFull.startedAt + 1, deps.clock.now() + 1).length > 0) {
      return { mode: 'full', why: `nightly full run (${fullCron} ${timezone})` };
    }
  }
  return { mode: 'incremental', why: 'changes since the watermark' };
}

/**
 * A dead run holding the tenant is taken over first (recover-runs.ts): when it was resumed or
 * finalized, the scheduled run is skipped (the taken-over run finishes its plan first).
 */
export async function takeOverStuckRun(deps: SyncDeps, tenantId: string): Promise<ScheduledTenantResult | undefined> {
  const recovery = await recoverStuckRuns(deps, tenantId);
  if (recovery.action !== 'resumed' && recovery.action !== 'finalized') return undefined;
  const skipped = `run ${recovery.runId} was stuck and has been taken over (${recovery.action}); it finishes its plan first`;
  deps.logger.warn('scheduled sync skipped', { tenant: tenantId, runId: recovery.runId, reason: skipped });
  return { tenantId, skipped, runId: recovery.runId };
}

/** Start the scheduled run of every enabled tenant (two tenants planned at a time). */
export async function scheduleSyncRuns(deps: SyncDeps): Promise<ScheduledTenantResult[]> {
  const tenants = syncedTenants(deps.tenants());
  return mapLimit(tenants, 2, async (tenant): Promise<ScheduledTenantResult> => {
    try {
      const tookOver = await takeOverStuckRun(deps, tenant.id);
      if (tookOver) return tookOver;
      const spent = await quotaSpentReason(deps, tenant, tenant.sync.source);
      if (spent) {
        deps.logger.warn('scheduled sync skipped', { tenant: tenant.id, reason: spent, code: 'USAGE.QUOTA_SPENT' });
        return { tenantId: tenant.id, skipped: spent };
      }
      const { mode, why } = await chooseScheduledMode(deps, tenant.id, tenant.sync.source!);
      deps.logger.info('scheduled sync', { tenant: tenant.id, mode, why });
      const { run } = await startSyncRun(deps, { tenantId: tenant.id, trigger: 'schedule', mode });
      return { tenantId: tenant.id, mode: run.mode, runId: run.runId, status: run.status };
    } catch (err) {
      if (err instanceof SyncRunInProgressError) {
        // Say why: the message names the holding run, its last progress and when the lock frees.
        deps.logger.info('scheduled sync skipped', { tenant: tenant.id, runId: err.runId, reason: err.message });
        return { tenantId: tenant.id, skipped: err.message, ...(err.runId ? { runId: err.runId } : {}) };
      }
      const e = err as { code?: unknown; message?: unknown };
      deps.logger.error('scheduled sync failed to start', { tenant: tenant.id, err });
      return { tenantId: tenant.id, error: { code: typeof e.code === 'string' ? e.code : 'SYNC.FAILED', message: String(e.message ?? err) } };
    }
  }, { onError: 'finish' });
}
