/**
 * A run's life after planning: fan-out phase by phase, finalization, and the sweep of runs
 * that stopped making progress. Shared by startSyncRun, approveRun and applyBatch.
 *
 * Fan-out scheme. The plan's batches are stored in phase order (a batch holds operations
 * of ONE phase), and `summary.phases` records which seqs each phase owns. Only one phase is
 * in flight at a time: phase 0 is sent when the run starts applying; the worker whose
 * `completeBatch` brings `completedBatches` to the end of phase n sends phase n+1. Because
 * every dependency of an operation lies in a lower phase, everything an operation depends on
 * has applied (or failed, and is known to have) before its batch is even sent. Sending a
 * phase is guarded by a OnceStore record (`fanout`, `<runId>:<phase>`), so a worker that
 * crashed between completing the last batch of a phase and sending the next one is
 * replaced by the redelivery of that batch, which sends it exactly once.
 *
 * Follow-ups. Whoever finds the tenant's lock held and needs the tenant right after the
 * holder (the callback worker, with contact events waiting) records one message on the
 * holding owner with `requestFollowUp`; every place that releases the lock does so through
 * `releaseRun`, which sends that message right after the release (also a run closed by the
 * sweep: `sweepStaleRuns` sends its follow-up). The order makes the hand-over race-free:
 * the requester writes the request and then re-reads the lock; the releaser releases and
 * then reads the request. If the requester still sees the same owner, that owner's release
 * comes later and will see the request; if not, the requester takes the tenant itself.
 */
import type { DestructiveItem, PlanReport, PlanSummary, SyncPlan } from '../../domain/sync-plan';
import type { RunError, RunPatch, RunRecord, RunStatus } from '../../ports/run-store';
import { ConflictError, type SourceKind } from '../../ports/store-common';
import { QUEUES, type QueueName } from '../../contracts/app-manifest';
import { syncJobMessage } from '../../contracts/sync-job';
import type { SyncDeps } from './sync-deps';
import { syncOptions } from './sync-deps';
import { OperationBusyError } from './sync-errors';
import { appliedTotal } from './sync-util';
import { repairedObjects, type RunDrift } from './drift-summary';
import type { DirectoryObjectType } from '../../domain/directory';
import { noMetrics } from '../../ports/metrics';

/** The lock every run of a tenant takes (LockStore name). */
export const SYNC_LOCK = 'sync';

/** OnceStore namespace of follow-up requests: key = the lock owner (a run id), result = FollowUpMessage. */
export const FOLLOW_UP_NAMESPACE = 'followup';
/** Longer than any lease of the sync lock (a parked run keeps it up to 24 h). */
export const FOLLOW_UP_TTL_SECONDS = 2 * 24 * 3600;

/** A message to send when a lock owner releases the tenant (see the module doc). */
export interface FollowUpMessage {
  queue: QueueName;
  /** Our versioned contract object (shared/contracts). */
  body: unknown;
}

/** Plan documents of a run (PlanStore.putDocument names). */
export const PLAN_DOC = 'plan';
export const WATERMARKS_DOC = 'watermarks';

export interface PhaseSpan {
  phase: number;
  /** First batch seq of the phase. */
  first: number;
  /** Batches in the phase. */
  count: number;
}

/** What a run record's `summary` holds (small: ≤ 64 KB; the full plan is the `plan` document). */
export interface RunSummary {
  plan: PlanSummary;
  planMode: SyncPlan['mode'];
  planStatus: SyncPlan['status'];
  deletions: PlanReport['deletions'];
  /** Planner notes by code. */
  notes: Record<string, number>;
  unmatchedNetease?: { accounts: number; units: number };
  fetched: { departments: number; people: number };
  neteaseReads?: number;
  planMs: number;
  adopt: boolean;
  withholdDeletions?: boolean;
  batchSize: number;
  totalBatches: number;
  phases: PhaseSpan[];
  /** Parked: why, and the first destructive operations (the plan document lists all). */
  approval?: { reasons: string[]; destructiveCount: number; destructive: DestructiveItem[] };
  /** Drift found by a full run and the problems it leaves in place (drift-summary.ts RunDrift). */
  drift?: RunDrift['drift'];
  unresolved?: RunDrift['unresolved'];
  /** Set when the run ends. */
  outcome?: { status: RunStatus; applied: number; failed: number; blocked: number; durationMs: number; watermarksAdvanced: boolean };
}

/** Planner notes that make a run end as `warning` even when every operation applied. */
export const WARNING_NOTES = ['departmentQuarantined'] as const;

/**
 * The warnings of a plan summary, with their counts: its warning notes, and `unresolved` for
 * the known problems the run leaves in place (report-mode drift, misplaced units).
 */
export function planWarnings(summary: Pick<RunSummary, 'notes' | 'unresolved'>): Array<{ code: string; count: number }> {
  const warnings: Array<{ code: string; count: number }> = WARNING_NOTES.filter((c) => (summary.notes[c] ?? 0) > 0).map((code) => ({ code, count: summary.notes[code]! }));
  if ((summary.unresolved?.count ?? 0) > 0) warnings.push({ code: 'unresolved', count: summary.unresolved!.count });
  return warnings;
}

export function runSummaryOf(run: RunRecord): RunSummary | undefined {
  const s = run.summary as RunSummary | undefined;
  return s && typeof s === 'object' && Array.isArray(s.phases) ? s : undefined;
}

/**
 * Send the batches of phase number `index` (position in summary.phases) to the sync queue,
 * once. A run that is no longer applying sends nothing.
 */
export async function fanOutPhase(deps: SyncDeps, tenantId: string, runId: string, index: number): Promise<void> {
  const { runs, once, locks } = deps.stores;
  const opts = syncOptions(deps);
  const run = await runs.get(tenantId, runId);
  if (!run || run.status !== 'applying') return;
  const span = runSummaryOf(run)?.phases[index];
  if (!span) return;
  const key = `${runId}:${index}`;
  const begin = await once.begin(tenantId, 'fanout', key, { leaseSeconds: 60 });
  if (begin.status === 'completed') return;
  if (begin.status === 'busy') throw new OperationBusyError(`fanout ${key}`, begin.leaseUntil);
  try {
    await locks.renew(tenantId, SYNC_LOCK, runId, opts.lockTtlMs);
    const messages = Array.from({ length: span.count }, (_, i) => ({ body: syncJobMessage(tenantId, runId, span.first + i) }));
    await deps.jobs.send('sync', messages);
  } catch (err) {
    await once.release(tenantId, 'fanout', key, begin.token).catch(() => undefined);
    throw err;
  }
  await once.complete(tenantId, 'fanout', key, { sent: span.count });
  deps.logger.info('sync phase sent', { tenant: tenantId, runId, phase: span.phase, batches: span.count });
}

/**
 * End an applying run whose batches have all completed: success (nothing failed) or
 * warning (some objects failed permanently or were blocked; see the run's results). Run
 * level failures (planning failed, batches stuck in the DLQ) are `failed`, set elsewhere.
 *
 * Watermarks. A retryable failure never completes a batch before its last delivery (it goes
 * back to SQS; on the last one it is recorded as failed: apply-batch.ts), and a run that
 * cannot finish is failed by the sweep without advancing. Of the runs that end here:
 * - success: advance. Everything up to the watermarks has applied.
 * - incremental with failed or blocked objects: do NOT advance. The failed objects came from
 *   the feed since the stored watermarks; moving past them would hide them from every later
 *   incremental run until the periodic full reconcile. The next incremental run (on demand,
 *   or a callback-triggered one) re-reads the same window and retries them; what did apply is
 *   unchanged by then (content hashes), so re-reading it makes no NetEase call. (The schedule
 *   follows such a run with a full one anyway: chooseScheduledMode.) The window stops growing
 *   at the next full run, which advances.
 * - full with failed or blocked objects: advance. A full run read the whole source, so its
 *   failures do not depend on the feed window: the planner compares the complete snapshot
 *   with the mappings, and a failed object keeps its old mapping (or none), so the next full
 *   run plans it again whatever the watermark says. Holding the watermark back would not help
 *   incremental runs either: most failures of a full run are of objects that did not change
 *   since the old watermark, which an incremental read never returns. (The scheduled full
 *   reconcile, `fullReconcileHours`, is what retries them.)
 * A watermark that cannot be stored (the store refuses or fails) does not undo what applied:
 * the run ends as a warning naming the problem (`error`), and the next run re-reads from the
 * old watermark. Whatever happens, the lock is released last.
 */
export async function finalizeRun(deps: SyncDeps, tenantId: string, runId: string): Promise<RunRecord | undefined> {
  const { runs } = deps.stores;
  const run = await runs.get(tenantId, runId);
  if (!run || run.status !== 'applying' || run.pendingBatches > 0) return run;
  const applied = appliedTotal(run.counts);
  const blocked = Math.max(0, run.counts.skipped - (runSummaryOf(run)?.plan.totals.skip ?? 0));
  const incomplete = run.counts.failed > 0 || blocked > 0;
  const summary = runSummaryOf(run);
  // Quarantined source data (a department cycle) applied nothing for that subtree, and a known
  // problem left in place (report-mode drift, a misplaced unit) stays: a warning, though every batch applied.
  const status: RunStatus = incomplete || (summary && planWarnings(summary).length > 0) ? 'warning' : 'success';
  const now = deps.clock.now();
  if (summary?.drift && summary.drift.repair === 'planned' && run.counts.repaired === 0) {
    await runs.increment(tenantId, runId, { repaired: await repairedObjects(deps, tenantId, runId, summary) });
  }
  const advance = run.source !== undefined && !(incomplete && run.mode === 'incremental');
  const outcome = (watermarksAdvanced: boolean, s: RunStatus) =>
    summary ? { summary: { ...summary, outcome: { status: s, applied, failed: run.counts.failed, blocked, durationMs: now - run.startedAt, watermarksAdvanced } } } : {};
  let ended: RunRecord;
  try {
    ended = await runs.transition(tenantId, runId, 'applying', status, { endedAt: now, ...outcome(advance, status) });
  } catch (err) {
    if (err instanceof ConflictError) return runs.get(tenantId, runId); // finalized by a duplicate delivery
    throw err;
  }
  try {
    if (advance) {
      const problem = await storeWatermarks(deps, tenantId, run.source!, runId);
      if (problem) ended = await recordWatermarkProblem(deps, ended, problem, () => outcome(false, 'warning'));
    } else deps.logger.info('sync watermarks kept: objects of this incremental run failed and are re-read by the next one', { tenant: tenantId, runId });
  } finally {
    await releaseRun(deps, tenantId, runId);
  }
  deps.logger.info('sync run finished', { tenant: tenantId, runId, status: ended.status, counts: run.counts, ms: now - run.startedAt });
  countRun(deps, tenantId, ended.status, run.counts);
  return ended;
}

/** Store the watermarks the run's source read returned (only ever forward: WatermarkStore.advance). */
export async function advanceWatermarks(deps: SyncDeps, tenantId: string, source: SourceKind, runId: string): Promise<void> {
  const doc = (await deps.stores.plans.getDocument(tenantId, runId, WATERMARKS_DOC)) as Partial<Record<DirectoryObjectType, string>> | undefined;
  if (!doc) return;
  for (const type of ['department', 'person'] as const) {
    const value = doc[type];
    if (typeof value === 'string' && value !== '') await deps.stores.watermarks.advance(tenantId, source, type, value, runId);
  }
}

/** advanceWatermarks, answering a failure instead of throwing it (the run's changes have applied regardless). */
export async function storeWatermarks(deps: SyncDeps, tenantId: string, source: SourceKind, runId: string): Promise<RunError | undefined> {
  try {
    await advanceWatermarks(deps, tenantId, source, runId);
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    deps.logger.error('sync watermarks not stored', { tenant: tenantId, runId, code });
    return {
      code: 'SYNC.WATERMARK_NOT_SAVED',
      message: `the run applied, but its watermarks could not be stored (${typeof code === 'string' ? code : 'error'}: ${message.slice(0, 300)}); the next run re-reads from the previous watermark`,
    };
  }
}

/** Mark an ended run as a warning carrying `problem` (status success or warning before). */
export async function recordWatermarkProblem(deps: SyncDeps, run: RunRecord, problem: RunError, patch: () => RunPatch): Promise<RunRecord> {
  try {
    return await deps.stores.runs.transition(run.tenantId, run.runId, ['success', 'warning'], 'warning', { error: problem, ...patch() });
  } catch (err) {
    // The run stays as it ended; the problem is in the log. Never keep the tenant's lock for it.
    deps.logger.error('could not record the watermark problem on the run', { tenant: run.tenantId, runId: run.runId, err });
    return run;
  }
}

/**
 * Runs of the tenant that are still planning or applying although `owner` now holds the
 * tenant's lock lost their lease: they stopped making progress (a crashed planner, batches
 * stuck in the DLQ). Mark them failed (their watermarks never advance) and expire parked
 * runs whose approval window passed. Called right after taking the lock.
 */
export async function sweepStaleRuns(deps: SyncDeps, tenantId: string, owner: string): Promise<string[]> {
  const { runs } = deps.stores;
  const swept: string[] = [];
  const page = await runs.list(tenantId, { limit: 50 });
  const now = deps.clock.now();
  for (const r of page.items) {
    if (r.runId === owner) continue;
    try {
      if (r.status === 'planning' || r.status === 'applying') {
        await runs.transition(tenantId, r.runId, r.status, 'failed', {
          endedAt: now,
          error: {
            code: 'SYNC.RUN_ABANDONED',
            message: `the run stopped making progress and lost its lock (${r.completedBatches} of ${r.totalBatches} batches completed); batches may be in the sync DLQ. Its objects are planned again by the next run`,
          },
        });
        swept.push(r.runId);
      } else if (r.status === 'awaiting_approval') {
        await runs.transition(tenantId, r.runId, 'awaiting_approval', 'rejected', {
          endedAt: now,
          error: { code: 'SYNC.APPROVAL_EXPIRED', message: 'nobody approved the run within the approval window; a newer run re-planned the tenant' },
        });
        swept.push(r.runId);
      }
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  if (swept.length > 0) deps.logger.warn('stale sync runs closed', { tenant: tenantId, runIds: swept });
  // Their releases never came: send what was asked of them (it finds the tenant held by `owner`, and asks again).
  for (const runId of swept) await sendFollowUp(deps, tenantId, runId);
  return swept;
}

/**
 * Ask `owner` (the holder of the tenant's sync lock) to send `message` when it releases the
 * tenant. The first request per owner wins (callers ask for the same thing: "look at the
 * tenant's waiting work"). Re-read the lock afterwards: see the module doc.
 */
export async function requestFollowUp(deps: Pick<SyncDeps, 'stores'>, tenantId: string, owner: string, message: FollowUpMessage): Promise<void> {
  if (!(message.queue in QUEUES)) throw new RangeError(`unknown queue ${String(message.queue)}`);
  await deps.stores.once.complete(tenantId, FOLLOW_UP_NAMESPACE, owner, message, { ttlSeconds: FOLLOW_UP_TTL_SECONDS });
}

/**
 * Send the follow-up requested of `owner`, if any. Best effort: a failure is logged, never
 * thrown (the release it follows has happened; the waiting work stays recorded and the
 * next event or scheduled run picks it up). Sending twice is harmless by contract.
 * @returns true when a message was sent.
 */
export async function sendFollowUp(deps: SyncDeps, tenantId: string, owner: string): Promise<boolean> {
  try {
    const rec = await deps.stores.once.get(tenantId, FOLLOW_UP_NAMESPACE, owner);
    if (!rec || rec.state !== 'completed') return false;
    const m = rec.result as Partial<FollowUpMessage> | undefined;
    if (!m || typeof m.queue !== 'string' || !(m.queue in QUEUES) || m.body === undefined) {
      deps.logger.warn('follow-up request malformed; not sent', { tenant: tenantId, owner });
      return false;
    }
    await deps.jobs.send(m.queue as QueueName, [{ body: m.body }]);
    deps.logger.info('follow-up sent', { tenant: tenantId, owner, queue: m.queue });
    return true;
  } catch (err) {
    deps.logger.warn('follow-up not sent', { tenant: tenantId, owner, err });
    return false;
  }
}

/** Release the tenant's sync lock held by `owner`, then send its follow-up (module doc). @returns whether we held the lock. */
export async function releaseRun(deps: SyncDeps, tenantId: string, owner: string): Promise<boolean> {
  const released = await deps.stores.locks.release(tenantId, SYNC_LOCK, owner);
  await sendFollowUp(deps, tenantId, owner);
  return released;
}

/** Runs by status, and the run's operations by kind (created, updated, failed...), as EMF counts. */
function countRun(deps: Pick<SyncDeps, 'metrics'>, tenant: string, status: string, counts: Readonly<Record<string, number>>): void {
  const m = deps.metrics ?? noMetrics;
  m.count('SyncRuns', 1, { status, tenant });
  for (const [kind, n] of Object.entries(counts)) if (n > 0) m.count(kind === 'failed' ? 'SyncOperationFailures' : 'SyncOperations', n, { ...(kind === 'failed' ? {} : { kind }), tenant });
}
