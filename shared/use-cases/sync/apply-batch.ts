/**
 * applyBatch: the sync worker's use case. Applies one stored batch of a run to NetEase,
 * idempotently, and moves the run on (next phase, or the end of the run).
 *
 * Per operation (all of one phase, so they are independent and run a few at a time):
 * 1. OnceStore.begin(tenant, 'op', op.id). `completed`: done by an earlier delivery; its
 *    stored outcome is counted again only if this batch was never counted (completeBatch
 *    dedups). `busy`: another delivery is on it; the record fails retryably (on the last
 *    delivery, while that lease is live, the batch is deferred: see deferBusy). `acquired`: go.
 *    So an operation delivered twice has one effect and makes one NetEase call; only after a
 *    crash between the call and `complete` may it be attempted again, which performOperation
 *    tolerates (a lost create is found and taken).
 * 2. If anything failed earlier in the run, check the operation's dependencies: one whose
 *    dependency failed (or was itself blocked) is not tried; it is recorded as skipped with
 *    SYNC.BLOCKED and is planned again by the next run. Only what depends on a failure waits.
 * 3. Call NetEase (apply-operation.ts). A retryable failure (throttling, 5xx, network,
 *    timeout, after the client's own retries) releases the lease and fails the SQS record:
 *    SQS redelivers it with its visibility timeout. On the LAST delivery SQS allows
 *    (`delivery.receiveCount >= delivery.maxReceiveCount`) an operation still failing is
 *    recorded as failed instead (result with its error code), so the batch completes, its
 *    phase finishes, and only the operations depending on it are blocked: one object with a
 *    persistent error must not send the batch to the DLQ and stall the whole run until its
 *    lock expires. It is planned again by the next run (an incremental run with failures
 *    keeps its watermarks: run-lifecycle.ts). Only a failure outside the operations (the
 *    state store down) still sends the record to the DLQ; such a run loses its lock and is
 *    closed as failed by the next run's sweep. A permanent failure is recorded (result with
 *    its error code) and counted at once.
 * 4. Write the mapping (mapping-updates.ts, one conditional write per object), the per-object
 *    result, then complete the OnceStore record with the outcome.
 *
 * Then completeBatch (counts added once per batch id). The completion that ends a phase
 * sends the next phase; the one that ends the run finalizes it (run-lifecycle.ts).
 */
import { mappingUpdatesFor } from '../../domain/mapping-updates';
import { objectTypeOf } from '../../domain/plan-report';
import type { PlanOperation } from '../../domain/sync-plan';
import { isAppError, NotFoundError } from '../../errors/app-error';
import type { RunCounts, RunRecord } from '../../ports/run-store';
import { ConflictError, type SourceKind } from '../../ports/store-common';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import type { Logger } from '../../logging/logger';
import type { SyncJobMessage } from '../../contracts/sync-job';
import type { SyncDeps } from './sync-deps';
import { syncOptions } from './sync-deps';
import { OperationBusyError, syncTenant } from './sync-errors';
import { writeMappingUpdates } from './mapping-codec';
import { performOperation, type OperationEffect } from './apply-operation';
import { fanOutPhase, finalizeRun, runSummaryOf, SYNC_LOCK } from './run-lifecycle';
import { mapLimit } from '../../lib/map-limit';
import { addCount, COUNT_OF_KIND, operationName } from './sync-util';

/** What the OnceStore keeps per operation (no personal data: ids and codes). */
export interface OperationRecord {
  outcome: 'applied' | 'failed' | 'blocked';
  kind: PlanOperation['kind'];
  code?: string;
  unitId?: string;
}

export interface ApplyBatchResult {
  /** The batch was not applied (run gone, not applying, or overtaken). */
  dropped?: string;
  operations: number;
  counts: Partial<RunCounts>;
  duplicate?: boolean;
  /** Not completed: sent again with this delay (seconds) because operations were still leased (see deferBusy). */
  deferredSeconds?: number;
  /** This batch's completion ended the run. */
  finalized?: boolean;
}

interface StoredBatch {
  phase: number;
  operations: PlanOperation[];
}

function isStoredBatch(v: unknown): v is StoredBatch {
  return typeof v === 'object' && v !== null && typeof (v as StoredBatch).phase === 'number' && Array.isArray((v as StoredBatch).operations);
}

/** Which delivery of the SQS message this is (from the record's attributes and the queue's redrive policy). */
export interface DeliveryInfo {
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
  /** Deliveries before SQS moves the message to the DLQ (QUEUES.sync.maxReceiveCount). */
  maxReceiveCount: number;
}

/**
 * Applies batch `msg.seq` of run `msg.runId`; see the module doc. Throws retryable errors for
 * SQS to redeliver, except on the last delivery (`delivery`), where failing operations are
 * recorded as failed. Without `delivery` every delivery may be retried.
 */
export async function applyBatch(deps: SyncDeps, msg: SyncJobMessage, delivery?: DeliveryInfo): Promise<ApplyBatchResult> {
  const { mappings } = deps.stores;
  const opts = syncOptions(deps);
  const { tenantId, runId, seq } = msg;
  const log = deps.logger.child({ tenant: tenantId, runId, seq });
  const lastDelivery = delivery !== undefined && delivery.receiveCount >= delivery.maxReceiveCount;
  const gaveUp = (err: unknown) =>
    `${operatorMessage(err)} (still failing on delivery ${delivery?.receiveCount} of ${delivery?.maxReceiveCount}; not retried in this run, planned again by the next one)`;

  const loaded = await loadBatch(deps, msg, log);
  if ('dropped' in loaded) return { dropped: loaded.dropped, operations: 0, counts: {} };
  const { run, tenant, source, body } = loaded;

  const api = await deps.netease(tenant);
  const checkDependencies = run.counts.failed > 0;
  const unitCache = new Map<string, string | undefined>();
  const resolveNewUnit = async (departmentSourceId: string): Promise<string | undefined> => {
    if (unitCache.has(departmentSourceId)) return unitCache.get(departmentSourceId);
    const m = await mappings.get({ tenantId, source, objectType: 'department', sourceId: departmentSourceId });
    const id = m && m.status !== 'deleted' ? m.neteaseId : undefined;
    unitCache.set(departmentSourceId, id);
    return id;
  };

  // An orphan (created by a run that died before saving its mapping) is taken only if no other source object holds it.
  const claimedByOther = async (objectType: 'department' | 'person', neteaseId: string, sourceId: string): Promise<boolean> =>
    (await mappings.findByNeteaseId(tenantId, objectType, neteaseId, source)).some((m) => m.sourceId !== sourceId);

  const counts: Partial<RunCounts> = {};
  const retryable: unknown[] = [];
  const leasedUntil: number[] = [];
  const mayDefer = (msg.deferrals ?? 0) < MAX_DEFERRALS;
  const heartbeat = progressHeartbeat(deps, msg, run.updatedAt, log);
  const count = (rec: OperationRecord) => {
    if (rec.outcome === 'applied') addCount(counts, COUNT_OF_KIND[rec.kind]);
    else if (rec.outcome === 'failed') addCount(counts, 'failed');
    else addCount(counts, 'skipped');
    heartbeat.counted();
  };

  const applyOne = operationApplier({ deps, msg, log, api, source, lastDelivery, mayDefer, checkDependencies, gaveUp, unitCache, resolveNewUnit, claimedByOther, count, retryable, leasedUntil });
  await mapLimit(body.operations, opts.opConcurrency, async (op) => {
    await applyOne(op);
    await heartbeat.stamp();
  }, { onError: 'finish' });

  if (retryable.length > 0) throw retryable[0];
  if (leasedUntil.length > 0) return deferBusy(deps, msg, Math.max(...leasedUntil), log);

  return completeBatch(deps, msg, body.operations.length, counts, log);
}

/** What applying one operation of a batch needs from applyBatch (its delivery, caches and tallies). */
interface BatchContext {
  deps: SyncDeps;
  msg: SyncJobMessage;
  log: Logger;
  api: NeteaseDirectory;
  source: SourceKind;
  lastDelivery: boolean;
  mayDefer: boolean;
  checkDependencies: boolean;
  gaveUp: (err: unknown) => string;
  unitCache: Map<string, string | undefined>;
  resolveNewUnit: (departmentSourceId: string) => Promise<string | undefined>;
  claimedByOther: (objectType: 'department' | 'person', neteaseId: string, sourceId: string) => Promise<boolean>;
  count: (rec: OperationRecord) => void;
  /** Errors for SQS to redeliver the batch with (the first is thrown). */
  retryable: unknown[];
  /** Lease ends of operations busy on the last delivery whose lease is still live. */
  leasedUntil: number[];
}

/** Applies one operation exactly once (OnceStore lease), recording its result and mappings. */
function operationApplier(ctx: BatchContext): (op: PlanOperation) => Promise<void> {
  const { deps, msg, log, api, source, lastDelivery, mayDefer, checkDependencies, gaveUp, unitCache, resolveNewUnit, claimedByOther, count, retryable, leasedUntil } = ctx;
  const { runs, once, mappings } = deps.stores;
  const opts = syncOptions(deps);
  const { tenantId, runId } = msg;
  const applyOne = async (op: PlanOperation): Promise<void> => {
    const olog = log.child({ opId: op.id, kind: op.kind, sourceId: op.sourceId });
    const begin = await once.begin(tenantId, 'op', op.id, { leaseSeconds: opts.opLeaseSeconds });
    if (begin.status === 'completed') {
      count(begin.result as OperationRecord);
      return;
    }
    const objectType = objectTypeOf(op);
    const operation = operationName(op);
    if (begin.status === 'busy') {
      const busy = new OperationBusyError(op.id, begin.leaseUntil);
      if (!lastDelivery) {
        retryable.push(busy);
        return;
      }
      if (mayDefer && begin.leaseUntil > deps.clock.now()) {
        leasedUntil.push(begin.leaseUntil);
        return;
      }
      try {
        count(await giveUpBusy(deps, msg, op, busy, gaveUp(busy)));
        olog.warn('sync operation given up: busy on the last delivery', { code: busy.code });
      } catch (err) {
        retryable.push(err); // the store failed: nothing else to do but let SQS have the record
      }
      return;
    }
    const finish = async (rec: OperationRecord, result: { errorCode?: string; message?: string; neteaseId?: string }) => {
      await runs.putResult(
        {
          tenantId,
          runId,
          objectType,
          sourceId: op.sourceId,
          operation,
          outcome: rec.outcome === 'applied' ? 'applied' : rec.outcome === 'failed' ? 'failed' : 'skipped',
          at: deps.clock.now(),
          ...result,
        },
        opts.resultTtlSeconds,
      );
      const done = await once.complete(tenantId, 'op', op.id, rec);
      count(done.result as OperationRecord);
    };

    try {
      if (checkDependencies && op.dependsOn.length > 0) {
        const failedDep = await firstFailedDependency(deps, tenantId, op.dependsOn);
        if (failedDep) {
          await finish({ outcome: 'blocked', kind: op.kind, code: 'SYNC.BLOCKED' }, { errorCode: 'SYNC.BLOCKED', message: `not tried: it depends on ${failedDep}, which did not apply; planned again by the next run` });
          olog.info('sync operation blocked', { dependsOn: failedDep });
          return;
        }
      }
      // A create must know whether an earlier attempt may have reached NetEase (its answer
      // lost): then "already exists" may be our own object. The lease is given back on every
      // retryable failure (so redeliveries need not wait for it), which resets the OnceStore's
      // attempt counter; this marker keeps the fact. One extra write, for creates only.
      const repeated = begin.attempt > 1 || ((op.kind === 'unit.create' || op.kind === 'account.create') && !(await once.claim(tenantId, 'op-try', op.id, opts.resultTtlSeconds)));
      let effect: OperationEffect;
      try {
        effect = await performOperation(op, {
          api,
          repeated,
          resolveNewUnit,
          claimedByOther,
          ...(deps.initialPassword ? { initialPassword: deps.initialPassword } : {}),
        });
      } catch (err) {
        if (isRetryableFailure(err) && !lastDelivery) throw err;
        const code = isAppError(err) ? err.code : 'SYNC.INTERNAL';
        await finish({ outcome: 'failed', kind: op.kind, code }, { errorCode: code, message: isRetryableFailure(err) ? gaveUp(err) : operatorMessage(err) });
        olog.warn(isRetryableFailure(err) ? 'sync operation given up on its last delivery' : 'sync operation failed', { code });
        return;
      }
      const now = deps.clock.now();
      const updates = mappingUpdatesFor(op, {
        now,
        ...(effect.createdUnitId !== undefined ? { createdUnitId: effect.createdUnitId } : {}),
        resolveNewUnit: (id) => unitCache.get(id),
      });
      const adopted = (op.kind === 'unit.link' && op.takeoverFrom === undefined) || op.kind === 'account.link' ? true : undefined;
      await writeMappingUpdates(mappings, { tenantId, source, runId }, updates, adopted ? { adopted } : {});
      await finish(
        { outcome: 'applied', kind: op.kind, ...(effect.createdUnitId !== undefined ? { unitId: effect.createdUnitId } : {}) },
        {
          ...(effect.neteaseId !== undefined ? { neteaseId: effect.neteaseId } : {}),
          ...(effect.orphan ? { message: 'linked: created by an earlier run that stopped before saving its mapping' } : effect.alreadyDone ? { message: 'already in place' } : {}),
        },
      );
      if (effect.orphan) olog.warn('sync orphan linked: created by an earlier run whose mapping was never saved', { neteaseId: effect.neteaseId });
    } catch (err) {
      if (!isRetryableFailure(err) || lastDelivery) {
        // A permanent failure after the call (e.g. an inconsistent mapping), or a retryable
        // one on the last delivery: record it once (the next run plans the object again).
        const code = isAppError(err) ? err.code : 'SYNC.INTERNAL';
        try {
          await finish({ outcome: 'failed', kind: op.kind, code }, { errorCode: code, message: isRetryableFailure(err) ? gaveUp(err) : operatorMessage(err) });
          olog.error('sync operation failed after its call', { code, err });
          return;
        } catch (recordErr) {
          err = recordErr;
        }
      }
      // Give the lease back so the redelivery need not wait for it.
      await once.release(tenantId, 'op', op.id, begin.token).catch(() => undefined);
      retryable.push(err);
      olog.warn('sync operation will be retried', { code: (err as { code?: string }).code });
    }
  };
  return applyOne;
}

/** Run, lease and stored batch of `msg`, or why the batch is dropped (run gone, not applying, overtaken, batch missing). */
async function loadBatch(
  deps: SyncDeps,
  msg: SyncJobMessage,
  log: Logger,
): Promise<{ dropped: string } | { run: RunRecord; tenant: ReturnType<typeof syncTenant>; source: ReturnType<typeof syncTenant>['sync']['source']; body: StoredBatch }> {
  const { runs, plans, locks } = deps.stores;
  const { tenantId, runId, seq } = msg;
  const run = await runs.get(tenantId, runId);
  if (!run) {
    log.warn('sync batch dropped: unknown run');
    return { dropped: 'unknown run' };
  }
  if (run.status !== 'applying') {
    // A run that failed (swept) or ended: its leftovers must not touch NetEase any more.
    log.warn('sync batch dropped: the run is not applying', { status: run.status });
    return { dropped: `run is ${run.status}` };
  }
  const tenant = syncTenant(deps, tenantId);
  const source = run.source ?? tenant.sync.source;
  // Keep the run's lease alive; if another run holds the tenant now, this run was overtaken.
  const lease = await locks.acquire(tenantId, SYNC_LOCK, runId, syncOptions(deps).lockTtlMs);
  if (!lease.acquired) {
    log.warn('sync batch dropped: another run holds the tenant', { heldBy: lease.heldBy?.owner });
    return { dropped: 'overtaken' };
  }
  const body = await plans.getBatch(tenantId, runId, seq);
  if (!isStoredBatch(body)) {
    log.error('sync batch dropped: the stored batch is missing or malformed');
    return { dropped: 'missing batch' };
  }
  return { run, tenant, source, body };
}

/**
 * Batches deferred at most this many times; after that a busy operation on the last delivery
 * is given up (giveUpBusy) as before. One deferral normally suffices: its delay outlasts the
 * longest lease it met.
 */
const MAX_DEFERRALS = 3;

/**
 * On the last delivery some operations were busy under a lease that is still live: the
 * delivery holding them may be alive (slow) or dead (its process killed; a takeover re-sent
 * this batch). Failing them would lose work a dead holder never did (issue 10: a kill late
 * in apply left creates leased for `opLeaseSeconds`, and with a short visibility timeout the
 * re-sent copies reached their last delivery first). So the batch is sent again, delayed
 * until the longest of those leases has ended (SQS allows 900 s at most), as a new message
 * with `deferrals` + 1, and this record is acknowledged without completing the batch: the
 * copy counts what this delivery finished (completed operations are counted from the
 * OnceStore) and takes over the expired leases. Completion stays once per batch id.
 */
async function deferBusy(deps: SyncDeps, msg: SyncJobMessage, leaseEnd: number, log: Logger): Promise<ApplyBatchResult> {
  const delaySeconds = Math.min(900, Math.max(1, Math.ceil((leaseEnd - deps.clock.now()) / 1000) + 1));
  const deferrals = (msg.deferrals ?? 0) + 1;
  await deps.jobs.send('sync', [{ body: { ...msg, deferrals } satisfies SyncJobMessage, delaySeconds }]);
  log.warn('sync batch deferred: operations still leased on its last delivery', { delaySeconds, deferrals });
  return { operations: 0, counts: {}, deferredSeconds: delaySeconds };
}

/**
 * Another delivery holds the operation and this is our last one. Records the failure only if
 * nobody finished first (first wins: a live holder's later result is refused and it counts
 * ours); the batch can complete either way. Returns the record to count.
 */
async function giveUpBusy(deps: SyncDeps, msg: SyncJobMessage, op: PlanOperation, busy: OperationBusyError, message: string): Promise<OperationRecord> {
  const { runs, once } = deps.stores;
  const { tenantId, runId } = msg;
  const done = await once.complete(tenantId, 'op', op.id, { outcome: 'failed', kind: op.kind, code: busy.code } satisfies OperationRecord);
  if (done.first) {
    await runs.putResult(
      { tenantId, runId, objectType: objectTypeOf(op), sourceId: op.sourceId, operation: operationName(op), outcome: 'failed', errorCode: busy.code, message, at: deps.clock.now() },
      syncOptions(deps).resultTtlSeconds,
    );
  }
  return done.result as OperationRecord;
}

/**
 * Progress while a batch is being applied. The recovery (recover-runs.ts) takes over a run
 * with no progress for `stuckAfterMs`; a completed batch is progress, but one batch can take
 * longer than that (25 operations at the tenant's NetEase rate, on a loaded machine), and a
 * phase whose batches all start together completes none until they all end. A live run was
 * then taken over and its phase re-sent: the copies found its operations busy, failed and
 * came back, and on their last delivery recorded live operations as failed (giveUpBusy).
 * So each delivery stamps the run (`updatedAt`, only while it is applying) once operations
 * have finished, at most every `stuckAfterMs / 5`: a run is stuck only when no operation of
 * it finished for `stuckAfterMs`. A delivery that only meets busy operations stamps nothing.
 * Best effort: a stamp that fails is logged, never fails the batch.
 */
function progressHeartbeat(deps: SyncDeps, msg: SyncJobMessage, lastProgressAt: number, log: Logger): { counted(): void; stamp(): Promise<void> } {
  const every = Math.max(1, Math.floor(syncOptions(deps).stuckAfterMs / 5));
  let last = lastProgressAt;
  let pending = false;
  return {
    counted: () => void (pending = true),
    stamp: async () => {
      const now = deps.clock.now();
      if (!pending || now - last < every) return;
      pending = false;
      last = now; // before the write: operations finishing together stamp once
      try {
        await deps.stores.runs.transition(msg.tenantId, msg.runId, 'applying', 'applying', {});
      } catch (err) {
        if (!(err instanceof ConflictError)) log.warn('sync progress not stamped', { err });
      }
    },
  };
}

/** Adds the batch's counts once, then sends the next phase or finalizes the run. */
async function completeBatch(deps: SyncDeps, msg: SyncJobMessage, operations: number, counts: Partial<RunCounts>, log: Logger): Promise<ApplyBatchResult> {
  const { tenantId, runId, seq } = msg;
  let completion;
  try {
    completion = await deps.stores.runs.completeBatch(tenantId, runId, `b${seq}`, counts);
  } catch (err) {
    if (err instanceof ConflictError || err instanceof NotFoundError) {
      log.warn('sync batch completion refused', { code: (err as { code?: string }).code });
      return { dropped: 'completion refused', operations, counts };
    }
    throw err;
  }
  const after = completion.run;
  let finalized = false;
  if (after.pendingBatches === 0) {
    const ended = await finalizeRun(deps, tenantId, runId);
    finalized = ended !== undefined && ended.status !== 'applying';
  } else {
    const phases = runSummaryOf(after)?.phases ?? [];
    const index = phases.findIndex((p) => seq >= p.first && seq < p.first + p.count);
    const span = phases[index];
    // Only one phase is in flight, so completedBatches reaching its end means it is done.
    if (span && after.completedBatches >= span.first + span.count) await fanOutPhase(deps, tenantId, runId, index + 1);
  }
  return { operations, counts, ...(completion.duplicate ? { duplicate: true } : {}), ...(finalized ? { finalized } : {}) };
}

async function firstFailedDependency(deps: SyncDeps, tenantId: string, dependsOn: readonly string[]): Promise<string | undefined> {
  for (const dep of dependsOn) {
    const rec = await deps.stores.once.get(tenantId, 'op', dep);
    const result = rec?.state === 'completed' ? (rec.result as OperationRecord | undefined) : undefined;
    if (result && result.outcome !== 'applied') return `${dep} (${result.kind}, ${result.outcome})`;
  }
  return undefined;
}

/** Our errors say whether a retry can help; anything else (a bug) is recorded, not retried forever. */
function isRetryableFailure(err: unknown): boolean {
  return isAppError(err) && err.retryable;
}

function operatorMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 1000 ? `${m.slice(0, 1000)}...` : m;
}
