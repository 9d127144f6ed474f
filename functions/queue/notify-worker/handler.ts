/**
 * Consumes the `notify` queue: each record is a batch of mailboxes to check for new mail
 * (shared/contracts/notify-job.ts); new mail becomes a DingTalk work notification or a
 * WeCom textcard. Partial batch failures: a retryable failure fails its record only.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { notifyJobFromJson } from '../../../shared/contracts/notify-job';
import { ValidationError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { sqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { checkNewMail, type CheckNewMailDeps } from '../../../shared/use-cases/notify/check-new-mail';
import { getWiring } from '../../../shared/wiring/wiring';

export interface Deps extends CheckNewMailDeps {
  /** Records handled at once (each is one NetEase call plus its sends). */
  recordConcurrency?: number;
}

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler(
    async (record, context) => {
      const parsed = notifyJobFromJson(record.body);
      // A message we cannot read will not read better on retry: logged and acknowledged.
      if (!parsed.ok) throw new ValidationError(`notify message refused: ${parsed.problems.join('; ')}`, { code: 'NOTIFY.BAD_MESSAGE' });
      const timeLeftMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
      await checkNewMail(deps, parsed.job, { timeLeftMs });
    },
    { logger: deps.logger, concurrency: deps.recordConcurrency ?? 2 },
  );
}

export const handler = lazyHandler(() => makeHandler(getWiring('notifyWorker').checkNewMailDeps()));
