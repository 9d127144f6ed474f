/**
 * Consumes the `notify` queue: each record is a batch of mailboxes to check for new mail
 * (shared/contracts/notify-job.ts); new mail becomes a DingTalk work notification or a
 * WeCom textcard. Partial batch failures: a retryable failure fails its record only.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { notifyJobSchema } from '../../../shared/contracts/notify-job';
import { lazyHandler } from '../../../shared/http/http-handler';
import { parsedSqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { checkNewMail, type CheckNewMailDeps } from '../../../shared/use-cases/notify/check-new-mail';
import { getWiring } from '../../../shared/wiring/wiring';

export interface Deps extends CheckNewMailDeps {
  /** Records handled at once (each is one NetEase call plus its sends). */
  recordConcurrency?: number;
}

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  // A message we cannot read is logged and acknowledged by the batch handler (QUEUE.BAD_MESSAGE).
  return parsedSqsBatchHandler(
    notifyJobSchema,
    async (job, _record, context) => {
      const timeLeftMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
      await checkNewMail(deps, job, { timeLeftMs });
    },
    { logger: deps.logger, concurrency: deps.recordConcurrency ?? 2 },
  );
}

export const handler = lazyHandler(() => {
  const w = getWiring('notifyWorker');
  return w.flushing(makeHandler(w.checkNewMailDeps()));
});
