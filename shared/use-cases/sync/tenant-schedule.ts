/**
 * runTenantSchedule: what one tenant's schedule does when it fires (the schedules are built
 * per tenant from its config: tenantSyncSchedules in shared/contracts/app-manifest.ts).
 *
 * - `full`: the reconcile run (nightly by default, in the tenant's time zone): a full
 *   snapshot of the source. For DingTalk and WeCom this is the only scheduled run: changes
 *   arrive through contact callbacks, coalesced per object (apply-contact-events.ts).
 * - `incremental` (EKP only): changes since the watermark; full instead when the schedule
 *   rules say a full run is due (chooseScheduledMode: no watermark yet, the last run failed).
 *
 * Budget first: a tenant whose source's monthly API quota is spent (DingTalk 90020, recorded
 * by the meter) is skipped, saying so (use-cases/usage/quota-guard.ts), and the projection
 * warnings are checked (80 % / 100 % of the quota: log line and alarm metric).
 * A dead run holding the tenant is taken over first (recover-runs.ts, as scheduleSyncRuns does);
 * a tenant whose run is still in progress (or parked for approval) is skipped as well.
 */
import { ValidationError } from '../../errors/app-error';
import { checkBudgets } from '../usage/usage-report';
import { quotaSpentReason } from '../usage/quota-guard';
import { chooseScheduledMode, takeOverStuckRun, type ScheduledTenantResult } from './schedule-sync';
import { startSyncRun } from './start-sync-run';
import type { SyncDeps } from './sync-deps';
import { SyncRunInProgressError } from './sync-errors';

export interface TenantScheduleDeps extends SyncDeps {
  /** One metric point for the budget alarm (EMF in AWS); optional. */
  metric?(name: string, value: number, dimensions: Record<string, string>): void;
}

/** Run one tenant's scheduled sync of `kind`; see the module doc. */
export async function runTenantSchedule(deps: TenantScheduleDeps, input: { tenantId: string; kind: 'full' | 'incremental' }): Promise<ScheduledTenantResult> {
  const tenant = deps.tenants().find((t) => t.id === input.tenantId);
  if (!tenant) throw new ValidationError(`the schedule names tenant "${input.tenantId}", which is not configured`, { code: 'SYNC.UNKNOWN_TENANT' });
  const source = tenant.sync.source;
  const log = deps.logger.child({ tenant: tenant.id, schedule: input.kind });
  if (!tenant.sync.enabled || !source) {
    log.info('scheduled sync skipped: sync is off or has no source');
    return { tenantId: tenant.id, skipped: 'sync is disabled or has no source' };
  }
  if (deps.usage) {
    await checkBudgets({ usage: deps.usage, clock: deps.clock, logger: log, tenant: (id) => deps.tenants().find((t) => t.id === id), ...(deps.metric ? { metric: deps.metric } : {}) }, tenant.id).catch((err: unknown) =>
      log.warn('usage check failed; the run goes ahead', { err }),
    );
  }
  // As in scheduleSyncRuns: a dead run holding the tenant is taken over first.
  const tookOver = await takeOverStuckRun(deps, tenant.id);
  if (tookOver) return tookOver;
  const spent = await quotaSpentReason(deps, tenant, source);
  if (spent) {
    log.warn('scheduled sync skipped', { reason: spent, code: 'USAGE.QUOTA_SPENT' });
    return { tenantId: tenant.id, skipped: spent };
  }
  // Callback sources have no change feed: their only scheduled run is the full one.
  if (input.kind === 'incremental' && source !== 'ekp') {
    log.warn('incremental schedule ignored for a callback source (changes come from callbacks)', { source });
    return { tenantId: tenant.id, skipped: `${source} has no incremental runs; changes arrive through callbacks` };
  }
  try {
    const { mode, why } = input.kind === 'full' ? { mode: 'full' as const, why: 'scheduled full reconcile' } : await chooseScheduledMode(deps, tenant.id, source);
    log.info('scheduled sync', { mode, why });
    const { run } = await startSyncRun(deps, { tenantId: tenant.id, trigger: 'schedule', mode });
    return { tenantId: tenant.id, mode: run.mode, runId: run.runId, status: run.status };
  } catch (err) {
    if (err instanceof SyncRunInProgressError) return { tenantId: tenant.id, skipped: err.message, ...(err.runId ? { runId: err.runId } : {}) };
    throw err;
  }
}
