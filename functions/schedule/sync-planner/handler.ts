/**
 * Sync planner: invoked by the EventBridge schedule (SCHEDULES in app-manifest.ts) to start
 * every enabled tenant's scheduled run (incremental, or full when due: scheduleSyncRuns),
 * and on demand with `{tenantId, mode?, dryRun?, adopt?, trigger?}` (the local stack's first
 * sync, operators) to start one run.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { buildSyncDeps } from '../../../shared/adapters/sources';
import { TENANT_ID } from '../../../shared/config/tenant-config.schema';
import { ValidationError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { getRuntime } from '../../../shared/runtime/runtime';
import { scheduleSyncRuns, startSyncRun, SyncRunInProgressError, type ScheduledTenantResult, type SyncDeps } from '../../../shared/use-cases/sync';

/** An on-demand invocation: one tenant. */
export const onDemandEventSchema = z
  .object({
    tenantId: z.string().regex(TENANT_ID),
    mode: z.enum(['full', 'incremental']).optional(),
    dryRun: z.boolean().optional(),
    adopt: z.boolean().optional(),
    trigger: z.enum(['schedule', 'manual', 'callback', 'cli']).default('manual'),
  })
  .strict();

export type PlannerEvent = ScheduledEvent | z.input<typeof onDemandEventSchema>;

export interface PlannerResult {
  tenants: ScheduledTenantResult[];
}

export interface Deps {
  sync: SyncDeps;
}

function isScheduled(event: unknown): event is ScheduledEvent {
  return typeof event === 'object' && event !== null && (event as ScheduledEvent)['detail-type'] === 'Scheduled Event';
}

export function makeHandler(deps: Deps) {
  return async (event: PlannerEvent, _context?: Context): Promise<PlannerResult> => {
    if (isScheduled(event)) return { tenants: await scheduleSyncRuns(deps.sync) };
    const parsed = onDemandEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new ValidationError(`sync planner event is neither a Scheduled Event nor {tenantId, mode?, dryRun?, adopt?, trigger?}: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`, { code: 'SYNC.BAD_EVENT' });
    }
    const e = parsed.data;
    try {
      const { run } = await startSyncRun(deps.sync, { tenantId: e.tenantId, trigger: e.trigger, ...(e.mode ? { mode: e.mode } : {}), ...(e.dryRun !== undefined ? { dryRun: e.dryRun } : {}), ...(e.adopt !== undefined ? { adopt: e.adopt } : {}) });
      return { tenants: [{ tenantId: e.tenantId, mode: run.mode, runId: run.runId, status: run.status }] };
    } catch (err) {
      if (err instanceof SyncRunInProgressError) return { tenants: [{ tenantId: e.tenantId, skipped: err.message, ...(err.runId ? { runId: err.runId } : {}) }] };
      throw err;
    }
  };
}

export const handler = lazyHandler(() => makeHandler({ sync: buildSyncDeps(getRuntime('syncPlanner'), 'syncPlanner') }));
