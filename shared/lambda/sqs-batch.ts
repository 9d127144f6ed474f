/**
 * SQS batch processing with partial batch failures (the event source mapping is set
 * with reportBatchItemFailures): one bad record never fails its neighbours.
 *
 * - a retryable error fails the record: SQS redelivers it after the visibility timeout,
 *   then moves it to the DLQ after maxReceiveCount;
 * - a non-retryable error is logged, counted and acknowledged (retrying cannot help);
 *   the use case records it where an operator will see it (run results).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isRetryable } from '../errors/app-error';
import type { Logger } from '../logging/logger';

export type RecordProcessor = (record: SQSRecord, context: Context) => Promise<void>;

export interface BatchOptions {
  logger: Logger;
  /** Records processed at once; records of one batch are independent by contract. */
  concurrency?: number;
}

export function sqsBatchHandler(process: RecordProcessor, opts: BatchOptions) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    const records = event.Records ?? [];
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < records.length) {
        const record = records[next++]!;
        try {
          await process(record, context);
        } catch (err) {
          const retry = isRetryable(err);
          opts.logger[retry ? 'warn' : 'error']('record failed', {
            messageId: record.messageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            retryable: retry,
            err,
          });
          if (retry) failures.push(record.messageId);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
