/**
 * runPlannerEvent: what the sync planner does for each trigger that is not its `plan` queue
 * (those records are on-demand requests, handled one by one by handleSyncRequest through the
 * function's SQS batch handler). Told apart by the event's shape:
 *
 * - a tenant's schedule (tenantSyncSchedules in app-manifest.ts: EventBridge Scheduler or a
 *   rule, input `{source:'schedule', schedule:'tenantSync', tenantId, kind}`): that tenant's
 *   full or incremental run (runTenantSchedule), then its daily identity-links pull;
 * - a plain Scheduled Event (the local stack's "run every tenant now" trigger): start every
 *   enabled tenant's scheduled run (incremental, or full when due: scheduleSyncRuns), then
 *   the daily identity-links pull of every tenant;
 * - a direct invocation `{tenantId, mode?, dryRun?, adopt?, trigger?}` (the local stack's
 *   first sync, `aws lambda invoke` by an operator): start one run and answer with it; a run
 *   already in progress is answered as skipped, naming that run.
 *
 * The links pull runs once per tenant and day (pull-due-links.ts) and never fails the sync
 * trigger: its error is logged. Anything else is refused with SYNC.BAD_EVENT, naming the fields.
 */
import { z } from 'zod';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { TENANT_ID } from '../../config/tenant-config.schema';
import { ValidationError } from '../../errors/app-error';
import type { OnceStore } from '../../ports/once-store';
import type { LinksDeps } from '../links/links-deps';
import { pullDueLinks } from '../links/pull-due-links';
import { scheduleSyncRuns, type ScheduledTenantResult } from './schedule-sync';
import { startSyncRun } from './start-sync-run';
import { SyncRunInProgressError } from './sync-errors';
import { runTenantSchedule, type TenantScheduleDeps } from './tenant-schedule';

/** A direct invocation: one tenant. */
export const onDemandEventSchema = z
  .object({
    tenantId: z.string().regex(TENANT_ID),
    mode: z.enum(['full', 'incremental']).optional(),
    dryRun: z.boolean().optional(),
    adopt: z.boolean().optional(),
    trigger: z.enum(['schedule', 'manual', 'callback', 'cli']).default('manual'),
  })
  .strict();
export type OnDemandEvent = z.input<typeof onDemandEventSchema>;

/** A tenant schedule's input (TenantScheduleEvent in the manifest). */
export const tenantScheduleEventSchema = z.object({ source: z.literal('schedule'), schedule: z.literal('tenantSync'), tenantId: z.string().regex(TENANT_ID), kind: z.enum(['full', 'incremental']) }).strict();
export type TenantScheduleInput = z.input<typeof tenantScheduleEventSchema>;

/** The every-tenant tick: an EventBridge Scheduled Event (only its `detail-type` is read). */
export interface ScheduledTick {
  'detail-type': 'Scheduled Event';
}

export interface PlannerResult {
  tenants: ScheduledTenantResult[];
}

export interface PlannerDeps {
  sync: TenantScheduleDeps;
  /** The daily identity-links pull, run after a scheduled sync (pull-due-links.ts); absent, no pull. */
  links?: LinksDeps & { once: OnceStore };
}

/** Run one planner trigger (see the module doc). @throws ValidationError SYNC.BAD_EVENT for an event of no known shape. */
export async function runPlannerEvent(deps: PlannerDeps, event: unknown): Promise<PlannerResult> {
  if (isScheduledTick(event)) {
    const tenants = await scheduleSyncRuns(deps.sync);
    await pullLinksOf(deps, deps.sync.tenants());
    return { tenants };
  }
  const scheduled = tenantScheduleEventSchema.safeParse(event);
  if (scheduled.success) {
    const result = await runTenantSchedule(deps.sync, scheduled.data);
    // In AWS the tenant schedules replace the every-tenant tick: the daily links pull rides on them.
    await pullLinksOf(deps, deps.sync.tenants().filter((t) => t.id === scheduled.data.tenantId));
    return { tenants: [result] };
  }
  const parsed = onDemandEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError(`sync planner event is neither a Scheduled Event, plan-queue records, nor {tenantId, mode?, dryRun?, adopt?, trigger?}: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`, { code: 'SYNC.BAD_EVENT' });
  }
  return { tenants: [await startOnDemand(deps, parsed.data)] };
}

/** Whether `event` is the every-tenant tick. */
export function isScheduledTick(event: unknown): event is ScheduledTick {
  return typeof event === 'object' && event !== null && (event as Partial<ScheduledTick>)['detail-type'] === 'Scheduled Event';
}

/** One run on demand; a run in progress is a skip (naming it), not a failure. */
async function startOnDemand(deps: PlannerDeps, e: z.output<typeof onDemandEventSchema>): Promise<ScheduledTenantResult> {
  try {
    const { run } = await startSyncRun(deps.sync, { tenantId: e.tenantId, trigger: e.trigger, ...(e.mode ? { mode: e.mode } : {}), ...(e.dryRun !== undefined ? { dryRun: e.dryRun } : {}), ...(e.adopt !== undefined ? { adopt: e.adopt } : {}) });
    return { tenantId: e.tenantId, mode: run.mode, runId: run.runId, status: run.status };
  } catch (err) {
    if (err instanceof SyncRunInProgressError) return { tenantId: e.tenantId, skipped: err.message, ...(err.runId ? { runId: err.runId } : {}) };
    throw err;
  }
}

/** The daily links pull of `tenants`, when wired; its failure is logged, never thrown. */
async function pullLinksOf(deps: PlannerDeps, tenants: readonly TenantConfig[]): Promise<void> {
  if (deps.links) await pullDueLinks(deps.links, tenants).catch((err: unknown) => deps.sync.logger.error('daily links pull failed', { err }));
}
