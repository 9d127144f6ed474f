/**
 * Sync worker: consumes the `sync` queue (SQS event source mapping with partial batch
 * failures, batch size and concurrency in FUNCTIONS.syncWorker) and applies each message's
 * stored batch to NetEase through the applyBatch use case.
 *
 * Records of one invocation are batches of the same run phase (only one phase is in flight
 * at a time), so they are independent. They are applied one after the other (each applies
 * `opConcurrency` operations at once, paced by the tenant's NetEase limiter), so that the
 * deadline guard can leave a record that would not finish in time for redelivery instead of
 * letting the invocation time out (which fails every record of the batch: sqs-batch.ts).
 * A retryable failure fails its record only (SQS redelivers it; on its last delivery the
 * operations still failing are recorded as failed so the run goes on: apply-batch.ts); a
 * malformed message is logged and acknowledged.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { QUEUES } from '../../../shared/contracts/app-manifest';
import { syncJobMessageSchema } from '../../../shared/contracts/sync-job';
import { lazyHandler } from '../../../shared/http/http-handler';
import { parsedSqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { applyBatch, type SyncDeps } from '../../../shared/use-cases/sync';
import { getWiring } from '../../../shared/wiring/wiring';

/**
 * A record is started only with this much of the invocation left (timeout 60 s). One record
 * is at most 25 operations (SyncOptions.batchSize); at the default per-worker NetEase share
 * (20 req/s / 5 workers = 4 req/s) it takes about 6 s at one call per operation, 13 s at two.
 * 25 s leaves room for slow answers and client retries; a tenant configured much slower is
 * what the guard is for.
 */
export const SYNC_RECORD_RESERVE_MS = 25_000;

export interface Deps {
  sync: SyncDeps;
  /** Records processed at once per invocation (default 1: see the module doc). */
  concurrency?: number;
  /** Deadline guard per record (default SYNC_RECORD_RESERVE_MS). */
  reserveMs?: number;
  /** The queue's maxReceiveCount (default QUEUES.sync.maxReceiveCount): the last delivery gives up on failing operations. */
  maxReceiveCount?: number;
}

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const maxReceiveCount = deps.maxReceiveCount ?? QUEUES.sync.maxReceiveCount;
  return parsedSqsBatchHandler(
    syncJobMessageSchema,
    async (message, record) => {
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount);
      // Without a usable count (never in SQS) no delivery is treated as the last.
      await applyBatch(deps.sync, message, Number.isInteger(receiveCount) && receiveCount > 0 ? { receiveCount, maxReceiveCount } : undefined);
    },
    { logger: deps.sync.logger, concurrency: deps.concurrency ?? 1, reserveMs: deps.reserveMs ?? SYNC_RECORD_RESERVE_MS },
  );
}

export const handler = lazyHandler(() => makeHandler({ sync: getWiring('syncWorker').syncDeps() }));
