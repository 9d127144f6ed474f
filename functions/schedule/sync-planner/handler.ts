/**
 * Sync planner. Four triggers, told apart by the event's shape:
 * - a tenant's schedule (tenantSyncSchedules in app-manifest.ts: EventBridge Scheduler or a
 *   rule, input `{source:'schedule', schedule:'tenantSync', tenantId, kind}`): that tenant's
 *   full or incremental run (runTenantSchedule);
 * - a plain Scheduled Event (the local stack's "run every tenant now" trigger): start every
 *   enabled tenant's scheduled run (incremental, or full when due: scheduleSyncRuns);
 * - the `plan` queue (FUNCTIONS.syncPlanner.consumes, one record per invocation): an
 *   on-demand request from the admin API or the CLI (shared/contracts/sync-request.ts),
 *   handled once by handleSyncRequest. A run already in progress is not a failure: the
 *   record is acknowledged, and the request is logged and recorded as skipped. Partial batch
 *   failures: a retryable error fails the record (SQS redelivers it once, then the DLQ);
 *   a malformed message is logged and acknowledged;
 * - a direct invocation `{tenantId, mode?, dryRun?, adopt?, trigger?}` (the local stack's
 *   first sync, `aws lambda invoke` by an operator): start one run and answer with it.
 */
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { TENANT_ID } from '../../../shared/config/tenant-config.schema';
import { syncRequestMessageSchema } from '../../../shared/contracts/sync-request';
import { ValidationError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { parsedSqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { handleSyncRequest, runTenantSchedule, scheduleSyncRuns, startSyncRun, SyncRunInProgressError, type ScheduledTenantResult, type TenantScheduleDeps } from '../../../shared/use-cases/sync';
import { pullDueLinks } from '../../../shared/use-cases/links/pull-due-links';
import { getWiring } from '../../../shared/wiring/wiring';

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
export type PlannerEvent = ScheduledEvent | SQSEvent | OnDemandEvent | TenantScheduleInput;

export interface PlannerResult {
  tenants: ScheduledTenantResult[];
}

export interface Deps {
  sync: TenantScheduleDeps;
  /** The daily identity-links pull, run after the scheduled sync tick (pull-due-links.ts). */
  links?: Parameters<typeof pullDueLinks>[0];
}

/** The handler, typed per trigger: SQS records get a partial batch response. */
export interface PlannerHandler {
  (event: ScheduledEvent | OnDemandEvent | TenantScheduleInput, context?: Context): Promise<PlannerResult>;
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
}

function isScheduled(event: unknown): event is ScheduledEvent {
  return typeof event === 'object' && event !== null && (event as ScheduledEvent)['detail-type'] === 'Scheduled Event';
}

function isSqs(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

export function makeHandler(deps: Deps): PlannerHandler {
  const onRecords = parsedSqsBatchHandler(
    syncRequestMessageSchema,
    async (request) => {
      // Outcomes (started, skipped, duplicate) are logged by the use case; errors fail or
      // acknowledge the record by their `retryable` flag, a malformed body is acknowledged (sqs-batch.ts).
      await handleSyncRequest(deps.sync, request);
    },
    // batchSize 1 in the manifest; if a mapping ever delivers more, one at a time: each may plan for minutes.
    { logger: deps.sync.logger, concurrency: 1 },
  );

  const handle = async (event: PlannerEvent, context?: Context): Promise<PlannerResult | SQSBatchResponse> => {
    if (isScheduled(event)) {
      const tenants = await scheduleSyncRuns(deps.sync);
      // Once per tenant and day; never fails the sync tick.
      if (deps.links) await pullDueLinks(deps.links, deps.sync.tenants()).catch((err) => deps.sync.logger.error('daily links pull failed', { err }));
      return { tenants };
    }
    const scheduled = tenantScheduleEventSchema.safeParse(event);
    if (scheduled.success) {
      const result = await runTenantSchedule(deps.sync, scheduled.data);
      // In AWS the tenant schedules replace the every-tenant tick: the daily links pull rides on them
      // (once per tenant and day, pull-due-links.ts); never fails the schedule.
      const tenant = deps.sync.tenants().filter((t) => t.id === scheduled.data.tenantId);
      if (deps.links) await pullDueLinks(deps.links, tenant).catch((err) => deps.sync.logger.error('daily links pull failed', { err }));
      return { tenants: [result] };
    }
    if (isSqs(event)) return onRecords(event, context ?? ({} as Context));
    const parsed = onDemandEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new ValidationError(`sync planner event is neither a Scheduled Event, plan-queue records, nor {tenantId, mode?, dryRun?, adopt?, trigger?}: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`, { code: 'SYNC.BAD_EVENT' });
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
  return handle as PlannerHandler;
}

export const handler = lazyHandler(() => {
  const w = getWiring('syncPlanner');
  return w.flushing(makeHandler({ sync: w.syncDeps(), links: { ...w.linksDeps(), once: w.stores.once } }) as (event: PlannerEvent, context: Context) => Promise<PlannerResult | SQSBatchResponse>);
});
