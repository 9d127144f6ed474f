/**
 * On-demand runs, asynchronously: the admin API (and the CLI through it) asks for a run,
 * the sync planner starts it.
 *
 * Why: planning a full run (the whole source, NetEase's account list, the plan) takes
 * minutes for a large organisation; the admin function lives 29 s behind API Gateway. A run
 * planned inside it would be killed mid-`planning` with the tenant's lock held for 30 min.
 *
 * 1. `requestSyncRun` (admin API): checks the tenant and that no run holds it (a parked run
 *    holds it until decided: 409 at once, as before), then sends a SyncRequestMessage to the
 *    `plan` queue and answers `{requestId, status: 'queued'}`.
 * 2. `handleSyncRequest` (sync planner, one `plan` record per invocation, 300 s): runs
 *    startSyncRun with the request id, which is recorded on the run. Each request is handled
 *    once (OnceStore, namespace `sync-request`): a duplicate SQS delivery changes nothing. A
 *    run already in progress is not an error: the request is acknowledged, logged and
 *    recorded as `skipped` with the other run's id.
 * 3. `syncRequestStatus` (GET .../sync/requests/:id): queued, starting, started (with the
 *    run), skipped or failed. The CLI's `sync run --wait` polls it, then the run.
 */
import { randomUUID } from 'node:crypto';
import { syncRequestMessage, SYNC_REQUEST_ID, type SyncRequestMessage } from '../../contracts/sync-request';
import { formatPlan } from '../../domain/plan-report';
import type { SyncPlan } from '../../domain/sync-plan';
import { isRetryable, NotFoundError, ValidationError } from '../../errors/app-error';
import type { RunMode, RunRecord, RunStatus } from '../../ports/run-store';
import type { SyncDeps } from './sync-deps';
import { SyncRunInProgressError, syncTenant } from './sync-errors';
import { PLAN_DOC, SYNC_LOCK } from './run-lifecycle';
import { startSyncRun, type StartSyncInput } from './start-sync-run';
import { inProgressError, recoverStuckRuns } from './recover-runs';

/** OnceStore namespace of handled requests. */
export const SYNC_REQUEST_NAMESPACE = 'sync-request';
/**
 * Lease of a request being planned: longer than the planner's timeout (300 s,
 * FUNCTIONS.syncPlanner), so a live planner is never overtaken by a duplicate delivery;
 * after a planner was killed the lease has long run out when SQS redelivers (QUEUES.plan).
 */
export const SYNC_REQUEST_LEASE_SECONDS = 6 * 60;
/** How long a handled request's outcome is kept (duplicates, status queries). */
export const SYNC_REQUEST_TTL_SECONDS = 7 * 24 * 3600;
/** Newest runs searched for a request's run while its outcome is not recorded yet. */
const RECENT_RUNS = 50;

/** A run to start later: the options of startSyncRun that travel in a request message. */
export type SyncRequestInput = Pick<StartSyncInput, 'tenantId' | 'trigger' | 'mode' | 'dryRun' | 'adopt' | 'withholdDeletions'>;

/** The 202 answer. */
export interface SyncRequestAccepted {
  requestId: string;
  status: 'queued';
  tenantId: string;
  mode: RunMode;
  dryRun: boolean;
}

/**
 * Queue a run of one tenant for the sync planner.
 * @param options.requestId default a random UUID.
 * @param options.refuseWhileRunning default true: refuse (409) while a run holds the tenant.
 *   False where the caller has just freed the tenant and must not fail after that step
 *   (reject with replan): the planner then reports the request as skipped if it is taken.
 * @throws NotFoundError / ValidationError for an unknown tenant or one without a sync
 *   source; SyncRunInProgressError (409) while a run holds the tenant. Nothing is sent then.
 */
export async function requestSyncRun(deps: SyncDeps, input: SyncRequestInput, options: { requestId?: string; refuseWhileRunning?: boolean } = {}): Promise<SyncRequestAccepted> {
  const tenant = syncTenant(deps, input.tenantId);
  // Refuse at once what the planner would skip: the common case (a run applying, a parked
  // run awaiting its decision) gets the same 409 as before. A run that takes the tenant
  // between this check and the planner is handled there (the request is `skipped`).
  if (options.refuseWhileRunning !== false) {
    let held = await deps.stores.locks.get(tenant.id, SYNC_LOCK);
    // A dead holder is taken over here too (recover-runs.ts): abandoned, it frees the tenant
    // (and queues its own fresh plan, so this request is then usually skipped by the planner).
    if (held && (await recoverStuckRuns(deps, tenant.id)).action === 'abandoned') held = await deps.stores.locks.get(tenant.id, SYNC_LOCK);
    if (held) throw await inProgressError(deps, tenant.id);
  }
  const message: SyncRequestMessage = syncRequestMessage({
    requestId: options.requestId ?? randomUUID(),
    tenantId: tenant.id,
    mode: input.mode ?? 'incremental',
    dryRun: input.dryRun === true,
    trigger: input.trigger,
    requestedAt: deps.clock.now(),
    ...(input.adopt !== undefined ? { adopt: input.adopt } : {}),
    ...(input.withholdDeletions ? { withholdDeletions: true } : {}),
  });
  await deps.jobs.send('plan', [{ body: message }]);
  deps.logger.info('sync run requested', { tenant: tenant.id, requestId: message.requestId, mode: message.mode, dryRun: message.dryRun, trigger: message.trigger });
  return { requestId: message.requestId, status: 'queued', tenantId: tenant.id, mode: message.mode, dryRun: message.dryRun };
}

/** What the planner did with a request (also what the OnceStore keeps, minus `duplicate`). */
export type SyncRequestOutcome =
  | { status: 'started'; requestId: string; runId: string; runStatus: RunStatus }
  | { status: 'skipped'; requestId: string; reason: string; runId?: string }
  | { status: 'failed'; requestId: string; error: { code: string; message: string } }
  /** Handled before (a duplicate delivery, or another delivery is planning it right now). */
  | { status: 'duplicate'; requestId: string; first?: unknown };

/**
 * The planner's side of a request: start the run, once.
 * - Returns `started`, `skipped` (a run holds the tenant: acknowledged, not retried) or
 *   `duplicate`.
 * - Throws what startSyncRun throws. A non-retryable error is recorded as `failed` first
 *   (the request is done: the caller sees why); a retryable one releases the request so
 *   SQS's redelivery plans it again (then the DLQ).
 */
export async function handleSyncRequest(deps: SyncDeps, message: SyncRequestMessage): Promise<SyncRequestOutcome> {
  const { tenantId, requestId } = message;
  const { once } = deps.stores;
  const log = deps.logger.child({ tenant: tenantId, requestId });
  const begin = await once.begin(tenantId, SYNC_REQUEST_NAMESPACE, requestId, { leaseSeconds: SYNC_REQUEST_LEASE_SECONDS, ttlSeconds: SYNC_REQUEST_TTL_SECONDS });
  if (begin.status === 'completed') {
    log.info('sync request handled before: duplicate delivery acknowledged', { first: begin.result });
    return { status: 'duplicate', requestId, first: begin.result };
  }
  if (begin.status === 'busy') {
    // Another delivery of the same message is planning it. Acknowledging (not failing) this
    // one: failing it would count a receive, and with maxReceiveCount 2 send a request that
    // is being served to the DLQ. Deleting the message does not stop the other delivery.
    log.warn('sync request is being planned by another delivery: duplicate acknowledged', { leaseUntil: begin.leaseUntil });
    return { status: 'duplicate', requestId };
  }
  log.info('sync request received', { mode: message.mode, dryRun: message.dryRun, trigger: message.trigger, queuedMs: Math.max(0, deps.clock.now() - message.requestedAt) });
  try {
    const { run } = await startSyncRun(deps, {
      tenantId,
      trigger: message.trigger,
      mode: message.mode,
      dryRun: message.dryRun,
      requestId,
      ...(message.adopt !== undefined ? { adopt: message.adopt } : {}),
      ...(message.withholdDeletions ? { withholdDeletions: true } : {}),
    });
    await once.complete(tenantId, SYNC_REQUEST_NAMESPACE, requestId, { status: 'started', runId: run.runId }, { ttlSeconds: SYNC_REQUEST_TTL_SECONDS });
    log.info('sync request started its run', { runId: run.runId, runStatus: run.status });
    return { status: 'started', requestId, runId: run.runId, runStatus: run.status };
  } catch (err) {
    if (err instanceof SyncRunInProgressError) {
      const skipped = { status: 'skipped' as const, reason: err.message, ...(err.runId ? { runId: err.runId } : {}) };
      await once.complete(tenantId, SYNC_REQUEST_NAMESPACE, requestId, skipped, { ttlSeconds: SYNC_REQUEST_TTL_SECONDS });
      log.warn('sync request skipped: a run is in progress', { runId: err.runId });
      return { requestId, ...skipped };
    }
    if (isRetryable(err)) {
      await once.release(tenantId, SYNC_REQUEST_NAMESPACE, requestId, begin.token).catch(() => undefined);
      throw err;
    }
    const code = (err as { code?: unknown }).code;
    const error = { code: typeof code === 'string' ? code : 'SYNC.REQUEST_FAILED', message: safeMessage(err) };
    await once.complete(tenantId, SYNC_REQUEST_NAMESPACE, requestId, { status: 'failed', error }, { ttlSeconds: SYNC_REQUEST_TTL_SECONDS }).catch(() => undefined);
    throw err;
  }
}

export interface SyncRequestStatus {
  requestId: string;
  /**
   * - queued: not picked up yet (or lost: requests live a day in the queue);
   * - starting: the planner took it and is checking the tenant;
   * - started: its run exists (`runId`, `run`): follow the run;
   * - skipped: another run held the tenant (`runId`: that run);
   * - failed: refused before a run existed (`error`).
   */
  status: 'queued' | 'starting' | 'started' | 'skipped' | 'failed';
  runId?: string;
  run?: RunRecord;
  reason?: string;
  error?: { code: string; message: string };
}

/** Where a request stands (see SyncRequestStatus). @throws ValidationError for a malformed id. */
export async function syncRequestStatus(deps: SyncDeps, tenantId: string, requestId: string): Promise<SyncRequestStatus> {
  syncTenant(deps, tenantId);
  if (typeof requestId !== 'string' || !SYNC_REQUEST_ID.test(requestId)) throw new ValidationError('request id must be 8-64 characters of A-Z a-z 0-9 _ . : -', { code: 'SYNC.BAD_REQUEST_ID' });
  const { once, runs } = deps.stores;
  const record = await once.get(tenantId, SYNC_REQUEST_NAMESPACE, requestId);
  const result = record?.state === 'completed' ? (record.result as { status?: string; runId?: string; reason?: string; error?: { code: string; message: string } } | undefined) : undefined;
  if (result?.status === 'started' && result.runId) {
    const run = await runs.get(tenantId, result.runId);
    return { requestId, status: 'started', runId: result.runId, ...(run ? { run } : {}) };
  }
  if (result?.status === 'skipped') return { requestId, status: 'skipped', ...(result.reason ? { reason: result.reason } : {}), ...(result.runId ? { runId: result.runId } : {}) };
  if (result?.status === 'failed') return { requestId, status: 'failed', ...(result.error ? { error: result.error } : {}) };
  // Not finished yet: its run, once created, carries the request id (newest first: a
  // redelivery after a failed attempt makes a second run, and that one is current).
  const recent = await runs.list(tenantId, { limit: RECENT_RUNS });
  const run = recent.items.find((r) => r.requestId === requestId);
  if (run) return { requestId, status: 'started', runId: run.runId, run };
  return { requestId, status: record ? 'starting' : 'queued' };
}

/**
 * A run's stored plan as text (summary, safety verdict, first operations): what a dry run
 * prints, and what a parked run would do.
 * @throws NotFoundError when the run or its plan is unknown (or expired with the run's results).
 */
export async function runPlanText(deps: SyncDeps, tenantId: string, runId: string, options: { limit?: number } = {}): Promise<string> {
  syncTenant(deps, tenantId);
  const run = await deps.stores.runs.get(tenantId, runId);
  if (!run) throw new NotFoundError(`run ${runId} not found for tenant ${tenantId}`, { code: 'SYNC.RUN_NOT_FOUND' });
  const plan = (await deps.stores.plans.getDocument(tenantId, runId, PLAN_DOC)) as SyncPlan | undefined;
  if (!plan) throw new NotFoundError(`run ${runId} has no stored plan (still planning, failed before planning, or expired)`, { code: 'SYNC.PLAN_NOT_FOUND' });
  return formatPlan(plan, options.limit);
}

/** Error messages of our adapters name operations and codes only; cap the length anyway. */
function safeMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 500 ? `${m.slice(0, 500)}...` : m;
}
