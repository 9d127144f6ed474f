/**
 * Sync worker: consumes the `sync` queue (SQS event source mapping with partial batch
 * failures, batch size and concurrency in FUNCTIONS.syncWorker) and applies each message's
 * stored batch to NetEase through the applyBatch use case.
 *
 * Records of one invocation are batches of the same run phase (only one phase is in flight
 * at a time), so they are independent and processed concurrently; the tenant's NetEase
 * limiter paces the calls. A retryable failure fails its record only (SQS redelivers it,
 * then moves it to the DLQ); a malformed message is logged and acknowledged.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildSyncDeps } from '../../../shared/adapters/sources';
import { parseSyncJobMessage } from '../../../shared/contracts/sync-job';
import { lazyHandler } from '../../../shared/http/http-handler';
import { sqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { getRuntime } from '../../../shared/runtime/runtime';
import { applyBatch, type SyncDeps } from '../../../shared/use-cases/sync';

export interface Deps {
  sync: SyncDeps;
  /** Records processed at once per invocation (default 10 = the mapping's batch size). */
  concurrency?: number;
}

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler(
    async (record) => {
      const message = parseSyncJobMessage(record.body);
      await applyBatch(deps.sync, message);
    },
    { logger: deps.sync.logger, concurrency: deps.concurrency ?? 10 },
  );
}

export const handler = lazyHandler(() => makeHandler({ sync: buildSyncDeps(getRuntime('syncWorker'), 'syncWorker') }));
