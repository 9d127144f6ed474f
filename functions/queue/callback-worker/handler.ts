/**
 * Callback worker: consumes the `callback` queue (SQS event source mapping with partial batch
 * failures; batch size 10, no batching window, concurrency 5: FUNCTIONS.callbackWorker) and
 * applies contact events through the sync engine: the ids are recorded as dirty, then one
 * callback run per tenant re-reads them from DingTalk / WeCom and plans them; the sync worker
 * applies the batches (shared/use-cases/callbacks/apply-contact-events.ts).
 *
 * Records of one invocation are handled together (all ids recorded first, then one run
 * attempt per tenant), so a burst costs one lock attempt per invocation, not per event.
 * Retryable failures fail their records (SQS retries, then the DLQ); malformed messages and
 * refusals are logged and acknowledged.
 *
 * The worker only reads the source and plans; NetEase is written by the sync worker. Its sync
 * dependencies are the planner's (full NetEase rate share: a callback run reads NetEase only
 * if it had to plan a full run, which it never does).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { callbackQueueMessageSchema } from '../../../shared/contracts/callback-queue';
import { lazyHandler } from '../../../shared/http/http-handler';
import { parsedSqsBatchGroupHandler } from '../../../shared/lambda/sqs-batch';
import { processCallbackRecords, type ApplyContactEventsDeps } from '../../../shared/use-cases/callbacks/apply-contact-events';
import { getWiring } from '../../../shared/wiring/wiring';

export type Deps = ApplyContactEventsDeps;

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return parsedSqsBatchGroupHandler(callbackQueueMessageSchema, (records) => processCallbackRecords(deps, records), { logger: deps.sync.logger });
}

export const handler = lazyHandler(() => {
  const w = getWiring('callbackWorker');
  return w.flushing(makeHandler(w.contactEventsDeps()));
});
