/**
 * Dead runs recover by themselves. A run whose process died (a planner killed mid-plan, a
 * worker killed mid-batch, a queue that lost its messages: fauxqs keeps them in memory, and
 * an SQS message can reach the DLQ) used to hold the tenant for the whole lock lease
 * (`lockTtlMs`, 30 min) with nothing saying so.
 *
 * Progress. Every write to a run is progress and stamps `updatedAt`: created, each
 * planning stage (touchRun), each completed batch (`lastBatch`), operations finishing inside
 * a batch (apply-batch.ts stamps at most every stuckAfterMs / 5 while a batch is applied, as
 * one batch may take longer than the threshold), a takeover. A run that is
 * still `planning` or `applying` and holds the tenant's lock, with no progress for
 * `stuckAfterMs` (SyncOptions: minutes in production, seconds in tests), is stuck.
 *
 * recoverStuckRuns (called by the scheduled planner for each tenant, by an on-demand request
 * that finds the tenant held, and by the local stack's schedule) takes a stuck run over:
 * - applying, its plan stored: the batches of the phase in flight are sent again (apply is
 *   idempotent: an operation already applied is counted from its OnceStore record, a batch
 *   already counted is a duplicate completion), the lease is renewed, and the run records
 *   the takeover (`recovery`). The run then finishes as it would have. All batches counted
 *   but never finalized: it is finalized now.
 * - planning, or applying with a plan that cannot be resumed (summary or batches gone): it
 *   is marked abandoned (failed, SYNC.RUN_ABANDONED; its watermarks never advance), the
 *   tenant is released, and a fresh full run is queued for the planner (a fresh plan).
 * Each takeover logs one structured line, `run.stuck` then `run.taken_over` or
 * `run.abandoned` (event, tenant, runId, idleMs, ...), for alerting to pick up.
 *
 * Why re-sending cannot duplicate: apply-batch.ts performs each operation under its
 * OnceStore record (a completed one is never called again; a live delivery's lease makes a
 * re-sent copy wait), and a create whose answer was lost is found and taken
 * (apply-operation.ts). A live run taken over by mistake (slow, not dead) only receives
 * duplicate messages.
 *
 * abandonRun is the operator's way (`sync abandon --run <id>`): it checks the run and the
 * lock's stored owner, ends the run as abandoned, and releases the tenant only if that run
 * owns it.
 */
import type { Lease } from '../../ports/lock-store';
import type { RunRecord } from '../../ports/run-store';
import { ConflictError } from '../../ports/store-common';
import { NotFoundError, ValidationError } from '../../errors/app-error';
import { syncJobMessage } from '../../contracts/sync-job';
import type { SyncDeps } from './sync-deps';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { syncOptions } from './sync-deps';
import { SyncRunInProgressError, SyncRunStateError, syncTenant } from './sync-errors';
import { finalizeRun, releaseRun, runSummaryOf, SYNC_LOCK } from './run-lifecycle';
import { syncRequestMessage } from '../../contracts/sync-request';
import { randomUUID } from 'node:crypto';

/** Statuses of a run that should be making progress. */
const ACTIVE = new Set<RunRecord['status']>(['planning', 'applying']);

/** Where a run stands: what `runs show`, the 409 and /health report. */
export interface RunProgress {
  status: RunRecord['status'];
  /** The last write to the run (ms). */
  lastProgressAt: number;
  idleMs: number;
  completedBatches: number;
  totalBatches: number;
  lastBatch?: string;
  /** The phase in flight (position in the plan's phases), with its batches done / total. */
  phase?: { index: number; of: number; completed: number; batches: number };
  /** Planning or applying with no progress for stuckAfterMs. */
  stuck: boolean;
  /** When the recovery may take it over (an active run only). */
  takeoverAfter?: number;
  /** When the tenant's lock frees at the latest if nothing renews it (the run holds it). */
  lockFreesAt?: number;
  recovery?: RunRecord['recovery'];
}

/** The progress of `run`, given the tenant's current lease (if any). */
export function runProgress(run: RunRecord, lease: Lease | undefined, now: number, stuckAfterMs: number): RunProgress {
  const active = ACTIVE.has(run.status);
  const idleMs = Math.max(0, now - run.updatedAt);
  const out: RunProgress = {
    status: run.status,
    lastProgressAt: run.updatedAt,
    idleMs,
    completedBatches: run.completedBatches,
    totalBatches: run.totalBatches,
    stuck: active && idleMs >= stuckAfterMs,
  };
  if (run.lastBatch) out.lastBatch = run.lastBatch;
  const phases = runSummaryOf(run)?.phases ?? [];
  const index = phases.findIndex((p) => run.completedBatches < p.first + p.count);
  if (run.status === 'applying' && index >= 0) {
    const p = phases[index]!;
    out.phase = { index, of: phases.length, completed: Math.max(0, run.completedBatches - p.first), batches: p.count };
  }
  if (active) out.takeoverAfter = run.updatedAt + stuckAfterMs;
  if (lease && lease.owner === run.runId) out.lockFreesAt = lease.leaseUntil;
  if (run.recovery) out.recovery = run.recovery;
  return out;
}

/** One line for operators: "applying 30/120 batches (phase 2 of 4: 5/40), last progress 12:01:02Z (3 min ago)...". */
export function describeProgress(p: RunProgress): string {
  const parts = [`${p.status} ${p.completedBatches}/${p.totalBatches} batches`];
  if (p.phase) parts[0] += ` (phase ${p.phase.index + 1} of ${p.phase.of}: ${p.phase.completed}/${p.phase.batches})`;
  parts.push(`last progress ${iso(p.lastProgressAt)} (${Math.round(p.idleMs / 1000)} s ago)`);
  if (p.stuck) parts.push('STUCK: the recovery takes it over at the next check');
  else if (p.takeoverAfter !== undefined) parts.push(`taken over if idle until ${iso(p.takeoverAfter)}`);
  if (p.lockFreesAt !== undefined) parts.push(`the lock frees at ${iso(p.lockFreesAt)} at the latest`);
  return parts.join('; ');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The run holding the tenant's sync lock, with its lease, or undefined (free, or held by a non-run such as a link import). */
export async function lockHolder(deps: Pick<SyncDeps, 'stores'>, tenantId: string): Promise<{ lease: Lease; run?: RunRecord } | undefined> {
  const lease = await deps.stores.locks.get(tenantId, SYNC_LOCK);
  if (!lease) return undefined;
  const run = await deps.stores.runs.get(tenantId, lease.owner).catch(() => undefined);
  return run ? { lease, run } : { lease };
}

/** The 409 for a tenant held by a run, saying where that run stands and when the lock frees. */
export async function inProgressError(deps: SyncDeps, tenantId: string, fallbackOwner?: string): Promise<SyncRunInProgressError> {
  const held = await lockHolder(deps, tenantId).catch(() => undefined);
  if (!held) return new SyncRunInProgressError(tenantId, fallbackOwner);
  if (!held.run) return new SyncRunInProgressError(tenantId, held.lease.owner, { text: `the lock frees at ${iso(held.lease.leaseUntil)} at the latest`, details: { lockFreesAt: held.lease.leaseUntil } });
  const p = runProgress(held.run, held.lease, deps.clock.now(), syncOptions(deps).stuckAfterMs);
  return new SyncRunInProgressError(tenantId, held.run.runId, { text: describeProgress(p), details: { ...p } });
}

export type RecoveryOutcome =
  | { action: 'none'; reason: string; runId?: string }
  | { action: 'resumed'; runId: string; resent: number; idleMs: number }
  | { action: 'finalized'; runId: string; idleMs: number }
  | { action: 'abandoned'; runId: string; idleMs: number; why: string; replanRequestId?: string };

/** Find the tenant's stuck run, if any, and take it over (module doc). Never throws for a run that moved on meanwhile. */
export async function recoverStuckRuns(deps: SyncDeps, tenantId: string): Promise<RecoveryOutcome> {
  const opts = syncOptions(deps);
  const held = await lockHolder(deps, tenantId);
  if (!held) return { action: 'none', reason: 'the tenant is free' };
  const { lease, run } = held;
  if (!run) return { action: 'none', reason: `the lock is held by ${lease.owner}, not a run` };
  const now = deps.clock.now();
  const progress = runProgress(run, lease, now, opts.stuckAfterMs);
  if (!progress.stuck) return { action: 'none', reason: `run ${run.runId} is ${run.status}, not stuck`, runId: run.runId };
  const log = deps.logger.child({ tenant: tenantId, runId: run.runId });
  log.warn('run.stuck', { event: 'run.stuck', status: run.status, idleMs: progress.idleMs, completedBatches: run.completedBatches, totalBatches: run.totalBatches, lastBatch: run.lastBatch, lockFreesAt: progress.lockFreesAt });

  const summary = runSummaryOf(run);
  if (run.status === 'applying' && summary) {
    if (run.pendingBatches === 0) {
      await finalizeRun(deps, tenantId, run.runId);
      log.warn('run.taken_over', { event: 'run.taken_over', action: 'finalized', idleMs: progress.idleMs });
      return { action: 'finalized', runId: run.runId, idleMs: progress.idleMs };
    }
    const span = summary.phases[progress.phase?.index ?? -1];
    const stored = span ? await deps.stores.plans.getBatch(tenantId, run.runId, span.first) : undefined;
    if (span && stored !== undefined) {
      // Keep the tenant first: a lease that ran out and went to another run means this run was overtaken.
      if (!(await deps.stores.locks.renew(tenantId, SYNC_LOCK, run.runId, opts.lockTtlMs))) return { action: 'none', reason: `run ${run.runId} lost its lock meanwhile`, runId: run.runId };
      const recovery = { takeovers: (run.recovery?.takeovers ?? 0) + 1, at: now, action: 'resent' as const, resent: span.count };
      // Record first: the takeover is progress, so a second check does not take it over again at once.
      await deps.stores.runs.update(tenantId, run.runId, { recovery });
      await deps.jobs.send('sync', Array.from({ length: span.count }, (_, i) => ({ body: syncJobMessage(tenantId, run.runId, span.first + i) })));
      log.warn('run.taken_over', { event: 'run.taken_over', action: 'resent', phase: span.phase, batches: span.count, takeovers: recovery.takeovers, idleMs: progress.idleMs });
      return { action: 'resumed', runId: run.runId, resent: span.count, idleMs: progress.idleMs };
    }
  }
  const why = run.status === 'planning' ? 'it stopped while planning; its plan was never stored' : 'its stored plan cannot be resumed';
  const ended = await endAsAbandoned(deps, run, `no progress for ${Math.round(progress.idleMs / 1000)} s: ${why}. A fresh full run is planned`, 'recovery');
  if (!ended) return { action: 'none', reason: `run ${run.runId} moved on meanwhile`, runId: run.runId };
  let replanRequestId: string | undefined;
  try {
    // What requestSyncRun sends (request-sync-run.ts), without its "is the tenant held" check: we just freed it.
    const message = syncRequestMessage({ requestId: randomUUID(), tenantId, mode: 'full', dryRun: false, trigger: 'schedule', requestedAt: deps.clock.now() });
    await deps.jobs.send('plan', [{ body: message }]);
    replanRequestId = message.requestId;
  } catch (err) {
    // The tenant is free: the next scheduled run plans it anyway.
    log.error('fresh plan after an abandoned run not queued', { err });
  }
  log.warn('run.abandoned', { event: 'run.abandoned', by: 'recovery', idleMs: progress.idleMs, why, ...(replanRequestId ? { replanRequestId } : {}) });
  return { action: 'abandoned', runId: run.runId, idleMs: progress.idleMs, why, ...(replanRequestId ? { replanRequestId } : {}) };
}

/** End `run` as abandoned (failed, SYNC.RUN_ABANDONED) and release its lock if it holds it. @returns false when it was no longer active. */
async function endAsAbandoned(deps: SyncDeps, run: RunRecord, message: string, by: string): Promise<boolean> {
  try {
    await deps.stores.runs.transition(run.tenantId, run.runId, ['planning', 'applying'], 'failed', {
      endedAt: deps.clock.now(),
      error: { code: 'SYNC.RUN_ABANDONED', message: `abandoned by ${by}: ${message}`.slice(0, 900) },
    });
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
  // Only ours: releaseRun releases a lease whose stored owner is this run, never another's.
  await releaseRun(deps, run.tenantId, run.runId);
  return true;
}

export interface AbandonInput {
  tenantId: string;
  runId: string;
  /** Who abandons it (CLI user, admin principal). */
  by: string;
}

export interface AbandonResult {
  run: RunRecord;
  /** The run held the tenant's lock, and it was released. */
  released: boolean;
  /** Who holds the tenant now (when not this run). */
  heldBy?: string;
}

/**
 * An operator ends a planning or applying run (`sync abandon`). Its leftover batches are
 * dropped by the workers (the run is no longer applying); nothing it applied is undone.
 * The lock is released only when its stored owner is this run.
 * @throws NotFoundError for an unknown run; SyncRunStateError when it is not planning or applying.
 */
export async function abandonRun(deps: SyncDeps, input: AbandonInput): Promise<AbandonResult> {
  syncTenant(deps, input.tenantId);
  if (typeof input.by !== 'string' || input.by.trim() === '') throw new ValidationError('who abandons the run (by) is required', { code: 'SYNC.NO_DECIDER' });
  const run = await deps.stores.runs.get(input.tenantId, input.runId);
  if (!run) throw new NotFoundError(`run ${input.runId} not found for tenant ${input.tenantId}`, { code: 'SYNC.RUN_NOT_FOUND' });
  if (!ACTIVE.has(run.status)) {
    throw new SyncRunStateError(`run ${run.runId} is ${run.status}; only a planning or applying run can be abandoned${run.status === 'awaiting_approval' ? ' (reject a parked run instead)' : ''}`, { status: run.status });
  }
  const lease = await deps.stores.locks.get(input.tenantId, SYNC_LOCK);
  const progress = runProgress(run, lease, deps.clock.now(), syncOptions(deps).stuckAfterMs);
  if (!(await endAsAbandoned(deps, run, `${describeProgress(progress)}`, `operator ${input.by}`))) throw new SyncRunStateError(`run ${run.runId} ended meanwhile`);
  const released = lease?.owner === run.runId;
  deps.logger.warn('run.abandoned', { event: 'run.abandoned', tenant: input.tenantId, runId: run.runId, by: input.by, idleMs: progress.idleMs, lockReleased: released });
  const after = (await deps.stores.runs.get(input.tenantId, run.runId)) ?? run;
  return { run: after, released, ...(lease && !released ? { heldBy: lease.owner } : {}) };
}

/** A tenant whose lock is held by a stuck run (/health). */
export interface StuckRun {
  tenantId: string;
  runId: string;
  progress: RunProgress;
}

/** The tenants the bridge syncs: enabled, with a directory source (what the schedule plans and /health watches). */
export function syncedTenants(tenants: readonly TenantConfig[]): TenantConfig[] {
  return tenants.filter((t) => t.sync.enabled && t.sync.source !== undefined);
}

/** Stuck runs of the given tenants (what /health reports as degraded). */
export async function findStuckRuns(deps: Pick<SyncDeps, 'stores' | 'clock' | 'options'>, tenantIds: readonly string[]): Promise<StuckRun[]> {
  const stuckAfterMs = syncOptions(deps).stuckAfterMs;
  const out: StuckRun[] = [];
  for (const tenantId of tenantIds) {
    const held = await lockHolder(deps, tenantId);
    if (!held?.run) continue;
    const progress = runProgress(held.run, held.lease, deps.clock.now(), stuckAfterMs);
    if (progress.stuck) out.push({ tenantId, runId: held.run.runId, progress });
  }
  return out;
}
