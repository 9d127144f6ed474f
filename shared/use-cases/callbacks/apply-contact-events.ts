/**
 * applyContactEvents: the callback worker's use case. Contact events (ids only, accepted and
 * queued by the callback routes, accept-callback.ts) become sync runs that re-read each named
 * object from the source and apply its current state through the same plan / apply path as
 * the scheduled sync (startSyncRun with a `changes` view -> stored batches -> the sync worker).
 *
 * Coalescing. A burst (a department of 100 people edited, an HR import) sends many events
 * for few objects; applying each event on its own would re-read and re-plan the same people
 * over and over while runs of the tenant queue up behind its lock. Instead:
 * 1. Every event's ids are recorded as dirty objects of the tenant (DirtyStore: one item per
 *    object; marking it again bumps its version). The queue record is acknowledged only
 *    after that, so an accepted event is never lost.
 * 2. Then the worker tries to start a `callback` run: take the tenant's sync lock, read ALL
 *    the tenant's dirty objects (at most `maxObjectsPerRun`, oldest first), re-read them
 *    from the source (re-read-changes.ts), plan and fan out as usual.
 * 3. After the run has started (planned, stored and sent, or parked for approval), exactly
 *    the entries it consumed are cleared: a conditional delete on the version it read, so
 *    an object named again meanwhile stays dirty for the next run.
 * 4. If another run holds the tenant (a scheduled sync, or the previous callback run), the
 *    ids simply stay dirty and the record is acknowledged: the worker asks the holder for a
 *    follow-up (requestFollowUp: one `drain` message on the `callback` queue when it releases
 *    the tenant, sent by run-lifecycle.ts's releaseRun), then re-reads the lock. If the holder
 *    still holds it, its release will send the drain; otherwise the worker tries again
 *    itself. A run that left part of a large backlog asks the same of itself.
 * So two runs of a tenant never overlap, a burst folds into a few runs (one running, one
 * waiting), and every object is re-read after its last event. Nothing depends on the
 * drain arriving: the next event of the tenant, and the scheduled full sync, pick up
 * whatever is still dirty.
 *
 * Filters. Only tenants whose `sync.source` is the event's vendor and whose sync is enabled
 * are applied (the routes filter at accept too; a config change in between is caught here).
 * A tenant never synced (no mapping at all) does not get callback runs: without the first
 * full sync's adoption, a callback could create mailboxes next to ones NetEase already
 * holds. Its waiting ids are dropped: the first full sync reads everything anyway.
 *
 * Failures. Retryable (the source or the store unavailable, rate limited; a run that failed
 * to plan because NetEase or the source failed) -> the tenant's records of this invocation
 * fail: SQS delivers them again (the ids are already dirty, re-marking is harmless) and
 * after maxReceiveCount moves them to the DLQ. Non-retryable (a refused config, an invalid
 * id) -> logged and acknowledged; the ids stay dirty for the next run or the scheduled full
 * sync, which repairs anything missed.
 */
import { callbackDrainMessage, type CallbackDrainMessage } from '../../contracts/callback-drain';
import { isDrainMessage, type CallbackQueueMessage } from '../../contracts/callback-queue';
import type { ContactEventMessage, ContactEventVendor } from '../../contracts/contact-event';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AppError, isRetryable } from '../../errors/app-error';
import { DEFAULT_DIRTY_TTL_SECONDS, type DirtyEntry, type DirtyMark, type DirtyStore } from '../../ports/dirty-store';
import type { RunRecord } from '../../ports/run-store';
import { requestFollowUp, startSyncRun, SYNC_LOCK, SyncRunInProgressError, type SyncDeps } from '../sync';
import { reReadChanges, type ReReadStats } from './re-read-changes';
import { quotaSpentReason } from '../usage/quota-guard';
import type { LinksDeps } from '../links/links-deps';
import { linksFromContactEvents } from '../links/links-from-events';

export interface CallbackWorkerOptions {
  /**
   * Objects one run re-reads at most. DingTalk allows 20 user/get calls per second per app
   * (dingtalk.md §4) and the client paces at 15/s by default, so 200 objects take ~13 s,
   * inside the worker's 30 s timeout; a larger backlog continues in the next run (a drain
   * follow-up), oldest objects first.
   */
  maxObjectsPerRun: number;
  /** Life of a dirty entry nobody consumed (the scheduled full sync has long covered it). */
  dirtyTtlSeconds: number;
  /** Source reads in flight at once. */
  readConcurrency: number;
  /** Extra department reads per run to place new objects (re-read-changes.ts). */
  maxAncestorReads: number;
  /** Times the worker tries to take the tenant before failing the records retryably (a lock changing hands fast). */
  lockAttempts: number;
}

export const DEFAULT_CALLBACK_WORKER_OPTIONS: CallbackWorkerOptions = {
  maxObjectsPerRun: 200,
  dirtyTtlSeconds: DEFAULT_DIRTY_TTL_SECONDS,
  readConcurrency: 4,
  maxAncestorReads: 50,
  lockAttempts: 4,
};

export interface ApplyContactEventsDeps {
  /** The sync engine's dependencies (stores, sync queue, sources, NetEase, clock, logger, tenants). */
  sync: SyncDeps;
  dirty: DirtyStore;
  options?: Partial<CallbackWorkerOptions>;
  /** Identity links: events of a channel apart from the source re-link people (links-from-events.ts). */
  links?: LinksDeps;
}

/** One queue record, its body checked with callbackQueueMessageSchema by the batch handler. */
export interface CallbackRecord {
  messageId: string;
  body: CallbackQueueMessage;
}

/** What happened for one tenant of an invocation. */
export interface TenantOutcome {
  tenantId: string;
  /** started: a run was started; deferred: another run holds the tenant (a drain follows); idle: nothing waiting; ignored: not applied (see reason); failed. */
  outcome: 'started' | 'deferred' | 'idle' | 'ignored' | 'failed';
  runId?: string;
  heldBy?: string;
  /** Dirty entries the run consumed (cleared, unless marked again meanwhile). */
  consumed?: number;
  reason?: string;
  error?: { code: string; retryable: boolean };
}

export interface CallbackBatchResult {
  /** Message ids to report as batch item failures (SQS retries them). */
  failures: string[];
  tenants: TenantOutcome[];
}

type Parsed = { record: CallbackRecord; message: ContactEventMessage } | { record: CallbackRecord; drain: CallbackDrainMessage };

const SOURCES_WITH_CALLBACKS: ReadonlySet<string> = new Set<ContactEventVendor>(['dingtalk', 'wecom']);

/**
 * Process one invocation's records (bodies already checked by the batch handler; a malformed
 * one never gets here): record every event's ids, then try one run per tenant.
 * Never throws for a record's sake: failures come back as `failures` (retryable ones only).
 */
export async function processCallbackRecords(deps: ApplyContactEventsDeps, records: readonly CallbackRecord[]): Promise<CallbackBatchResult> {
  const failures: string[] = [];
  const byTenant = new Map<string, Parsed[]>();
  for (const record of records) {
    const parsed: Parsed = isDrainMessage(record.body) ? { record, drain: record.body } : { record, message: record.body };
    const tenantId = 'message' in parsed ? parsed.message.tenantId : parsed.drain.tenantId;
    const list = byTenant.get(tenantId);
    if (list) list.push(parsed);
    else byTenant.set(tenantId, [parsed]);
  }
  const tenants: TenantOutcome[] = [];
  for (const [tenantId, items] of byTenant) {
    const r = await processTenant(deps, tenantId, items);
    tenants.push(r.outcome);
    failures.push(...r.failures);
  }
  return { failures, tenants };
}

async function processTenant(deps: ApplyContactEventsDeps, tenantId: string, items: Parsed[]): Promise<{ outcome: TenantOutcome; failures: string[] }> {
  const log = deps.sync.logger.child({ tenant: tenantId });
  const opts = { ...DEFAULT_CALLBACK_WORKER_OPTIONS, ...deps.options };
  const tenant = deps.sync.tenants().find((t) => t.id === tenantId);
  const ignore = (reason: string) => {
    log.info('contact events ignored', { reason, records: items.length });
    return { outcome: { tenantId, outcome: 'ignored' as const, reason }, failures: [] };
  };
  if (!tenant) return ignore('unknown tenant');
  // Events of a channel apart from the source (another vendor, or an extra channel's own
  // route) re-link people; they never reach the sync.
  const forLinks = items.filter((i): i is Extract<Parsed, { message: ContactEventMessage }> => 'message' in i && (i.message.vendor !== tenant.sync.source || i.message.channelId !== undefined));
  if (forLinks.length > 0 && deps.links) {
    const failures: string[] = [];
    let refreshed = 0;
    try {
      refreshed = (await linksFromContactEvents(deps.links, tenant, forLinks.map((i) => i.message))).length;
    } catch (err) {
      const retry = retryableOf(err);
      log[retry ? 'warn' : 'error']('identity links not refreshed', { retryable: retry, err });
      if (retry) failures.push(...forLinks.map((i) => i.record.messageId));
    }
    const rest = items.filter((i) => !forLinks.includes(i as never));
    if (rest.length === 0) {
      if (failures.length === 0 && refreshed === 0) return ignore('the vendor is neither the sync source nor a linked channel of the tenant');
      return { outcome: { tenantId, outcome: failures.length > 0 ? 'failed' : 'idle', reason: 'identity links refreshed' }, failures };
    }
    const synced = await processTenant(deps, tenantId, rest); // no link events left: no recursion
    return { outcome: synced.outcome, failures: [...failures, ...synced.failures] };
  }
  if (!tenant.sync.enabled) return ignore('sync is disabled for the tenant');
  const source = tenant.sync.source;
  if (source === undefined || !SOURCES_WITH_CALLBACKS.has(source)) return ignore('the tenant does not sync from dingtalk or wecom');

  // ---- 1. record the ids (the record is acknowledged only once they are stored) ------------
  const live: Parsed[] = [];
  const failures: string[] = [];
  for (const item of items) {
    if ('drain' in item) {
      live.push(item);
      continue;
    }
    const m = item.message;
    if (m.vendor !== source) {
      log.info('contact event ignored', { reason: `the tenant syncs from ${source}`, vendor: m.vendor, eventType: m.eventType, messageId: item.record.messageId });
      continue;
    }
    try {
      await deps.dirty.mark(tenant.id, source, marksOf(m), { ttlSeconds: opts.dirtyTtlSeconds });
      live.push(item);
      log.info('contact event recorded', { vendor: m.vendor, eventType: m.eventType, eventId: m.eventId, ids: m.changes.length, ageMs: deps.sync.clock.now() - m.receivedAt });
    } catch (err) {
      const retry = retryableOf(err);
      log[retry ? 'warn' : 'error']('contact event not recorded', { eventType: m.eventType, messageId: item.record.messageId, retryable: retry, err });
      if (retry) failures.push(item.record.messageId);
    }
  }
  if (live.length === 0) return { outcome: { tenantId, outcome: failures.length > 0 ? 'failed' : 'ignored', reason: 'nothing recorded' }, failures };

  // ---- 2. apply what waits ------------------------------------------------------------------
  try {
    const outcome = await applyWaiting(deps, tenant);
    const events = live.flatMap((i) => ('message' in i ? [i.message] : []));
    if (outcome.outcome === 'started' && events.length > 0) {
      const now = deps.sync.clock.now();
      // Event-to-run latency (the run's apply follows through the sync queue).
      log.info('contact events in a run', { runId: outcome.runId, events: events.length, maxAgeMs: Math.max(...events.map((e) => now - e.receivedAt)) });
    }
    return { outcome, failures };
  } catch (err) {
    const retry = retryableOf(err);
    const code = err instanceof AppError ? err.code : typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'CALLBACK.APPLY_FAILED';
    log[retry ? 'warn' : 'error']('contact events not applied', { retryable: retry, code, records: live.length, err });
    if (retry) failures.push(...live.map((i) => i.record.messageId));
    return { outcome: { tenantId, outcome: 'failed', error: { code, retryable: retry } }, failures };
  }
}

/**
 * Whether retrying can help: our AppErrors say so; errors that are not AppErrors but carry a
 * boolean `retryable` (the planner's SyncPlanInputError: inconsistent mappings) are believed;
 * anything else (network resets, SDK errors) is retried.
 */
function retryableOf(err: unknown): boolean {
  const flag = (err as { retryable?: unknown } | null)?.retryable;
  return err instanceof AppError || typeof flag !== 'boolean' ? isRetryable(err) : flag;
}

/** The dirty marks of one event: each named object; a rename marks the old id (with the new one) and the new id. */
export function marksOf(m: ContactEventMessage): DirtyMark[] {
  const out = new Map<string, DirtyMark>();
  const add = (mark: DirtyMark) => {
    const k = `${mark.kind}\u0000${mark.id}`;
    const prev = out.get(k);
    out.set(k, prev?.newId !== undefined && mark.newId === undefined ? prev : mark);
  };
  for (const c of m.changes) {
    add({ kind: c.kind, id: c.id, ...(c.newId !== undefined ? { newId: c.newId } : {}) });
    if (c.newId !== undefined) add({ kind: 'person', id: c.newId });
  }
  return [...out.values()];
}

/**
 * Start a callback run for everything the tenant has waiting, or hand the work to the run
 * that holds the tenant (module doc, steps 2-4).
 * @throws retryable AppError CALLBACK.TENANT_BUSY when the lock changed hands on every attempt;
 *         whatever startSyncRun throws (source or NetEase failures keep their `retryable`).
 */
export async function applyWaiting(deps: ApplyContactEventsDeps, tenant: TenantConfig): Promise<TenantOutcome> {
  const { sync, dirty } = deps;
  const opts = { ...DEFAULT_CALLBACK_WORKER_OPTIONS, ...deps.options };
  const tenantId = tenant.id;
  const source = tenant.sync.source as ContactEventVendor;
  const log = sync.logger.child({ tenant: tenantId });
  const drain = { queue: 'callback' as const, body: callbackDrainMessage(tenantId) };
  // The source's monthly quota is spent: re-reads would only be refused. The ids stay dirty
  // for the first run after the quota resumes (use-cases/usage/quota-guard.ts).
  const spent = await quotaSpentReason(sync, tenant, source);
  if (spent) {
    log.warn('contact events wait: the source API quota is spent', { reason: spent, code: 'USAGE.QUOTA_SPENT' });
    return { tenantId, outcome: 'ignored', reason: spent };
  }

  for (let attempt = 1; attempt <= opts.lockAttempts; attempt++) {
    // A cheap look first: nothing waiting, no lock taken, no run recorded.
    const waiting = await dirty.list(tenantId, source, { limit: 1 });
    if (waiting.length === 0) return { tenantId, outcome: 'idle' };

    let consumed: DirtyEntry[] = [];
    let stats: ReReadStats | undefined;
    let run: RunRecord;
    try {
      ({ run } = await startSyncRun(sync, {
        tenantId,
        trigger: 'callback',
        // Read under the lock, once the run exists: every object marked before this point is re-read after it.
        changes: async (ctx) => {
          const all = await dirty.list(tenantId, source);
          if (await neverSynced(sync, tenantId, source)) {
            consumed = all;
            log.warn('contact events left to the first full sync: the tenant has no mapping yet', { runId: ctx.runId, objects: all.length });
            return { departments: [], people: [], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} };
          }
          // Oldest first, so a backlog larger than one run cannot starve anyone.
          const picked = [...all].sort((a, b) => a.dirtiedAt - b.dirtiedAt || (a.id < b.id ? -1 : 1)).slice(0, opts.maxObjectsPerRun);
          consumed = picked;
          if (all.length > picked.length) await requestFollowUp(sync, tenantId, ctx.runId, drain);
          const result = await reReadChanges({
            tenantId,
            source: ctx.source,
            entries: picked,
            mappings: sync.stores.mappings,
            runs: sync.stores.runs,
            runId: ctx.runId,
            clock: sync.clock,
            logger: log.child({ runId: ctx.runId }),
            readConcurrency: opts.readConcurrency,
            maxAncestorReads: opts.maxAncestorReads,
          });
          stats = result.stats;
          const now = sync.clock.now();
          log.info('contact events re-read', { runId: ctx.runId, objects: picked.length, left: all.length - picked.length, oldestAgeMs: now - Math.min(...picked.map((e) => e.dirtiedAt)), ...result.stats });
          return result.changes;
        },
      }));
    } catch (err) {
      if (!(err instanceof SyncRunInProgressError)) throw err;
      const holder = err.runId;
      if (holder !== undefined) {
        await requestFollowUp(sync, tenantId, holder, drain);
        // Re-read the lock AFTER the request (run-lifecycle.ts module doc): a holder that still
        // holds it releases later and sees the request.
        const lease = await sync.stores.locks.get(tenantId, SYNC_LOCK);
        if (lease?.owner === holder) {
          log.info('contact events wait for the run holding the tenant', { heldBy: holder });
          return { tenantId, outcome: 'deferred', heldBy: holder };
        }
      }
      continue; // released meanwhile: try to take it ourselves
    }
    // The run has read them (planned and sent, parked, or found nothing to do): clear exactly those versions.
    let cleared = 0;
    for (const e of consumed) if (await dirty.clear(tenantId, source, e)) cleared++;
    log.info('callback run started', { runId: run.runId, status: run.status, consumed: consumed.length, cleared, ...(stats ? { found: stats.people.found + stats.departments.found } : {}) });
    return { tenantId, outcome: 'started', runId: run.runId, consumed: consumed.length };
  }
  throw new AppError('CALLBACK.TENANT_BUSY', `tenant ${tenantId}: the sync lock changed hands on each of ${opts.lockAttempts} attempts`, { retryable: true, status: 503 });
}

/** True when the tenant has no mapping of either type for this source: its first full sync has not run. */
async function neverSynced(sync: SyncDeps, tenantId: string, source: ContactEventVendor): Promise<boolean> {
  for (const type of ['department', 'person'] as const) {
    if ((await sync.stores.mappings.listPage(tenantId, source, type, { limit: 1 })).items.length > 0) return false;
  }
  return true;
}

