/**
 * SQS batch processing with partial batch failures (the event source mapping is set
 * with reportBatchItemFailures): one bad record never fails its neighbours.
 *
 * - a retryable error fails the record: SQS redelivers it after the visibility timeout,
 *   then moves it to the DLQ after maxReceiveCount;
 * - a non-retryable error is logged, counted and acknowledged (retrying cannot help);
 *   the use case records it where an operator will see it (run results).
 * - deadline guard (`reserveMs`): a record is started only while at least `reserveMs` of the
 *   invocation remain (Lambda's `context.getRemainingTimeInMillis()`); the records not
 *   started are failed as retryable. Without it, an invocation that runs past its timeout
 *   returns no partial-batch response at all, so Lambda fails EVERY record of the batch,
 *   the finished ones included, and they all come back after the visibility timeout. With
 *   it, the finished records are acknowledged and only the unstarted ones come back (a
 *   skipped record still counts as a receive towards maxReceiveCount).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AppError, isRetryable } from '../errors/app-error';
import type { Logger } from '../logging/logger';

export type RecordProcessor = (record: SQSRecord, context: Context) => Promise<void>;

export interface BatchOptions {
  logger: Logger;
  /** Records processed at once; records of one batch are independent by contract. */
  concurrency?: number;
  /**
   * Start a record only when at least this many ms of the invocation remain; fail the rest
   * as retryable without starting them. Choose it above the longest time one record can
   * take. Ignored when the context has no getRemainingTimeInMillis (direct calls in tests).
   */
  reserveMs?: number;
}

/** Why a record was not started (logged; the record is failed and comes back). */
export class DeadlineReservedError extends AppError {
  constructor(remainingMs: number, reserveMs: number) {
    super('LAMBDA.DEADLINE_RESERVED', `not started: ${remainingMs} ms left in the invocation, ${reserveMs} ms reserved per record`, { retryable: true });
  }
}

export function sqsBatchHandler(process: RecordProcessor, opts: BatchOptions) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    const records = event.Records ?? [];
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    let next = 0;
    let deferred = 0;
    let firstDeferral: DeadlineReservedError | undefined;
    const worker = async (): Promise<void> => {
      while (next < records.length) {
        const record = records[next++]!;
        const left = remaining?.();
        if (opts.reserveMs !== undefined && left !== undefined && left < opts.reserveMs) {
          // Not started: nothing of it was applied, so nothing needs undoing.
          failures.push(record.messageId);
          if (deferred++ === 0) firstDeferral = new DeadlineReservedError(left, opts.reserveMs);
          continue;
        }
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
    if (deferred > 0) opts.logger.warn('records not started near the deadline; left for redelivery', { deferred, records: records.length, code: firstDeferral?.code, reason: firstDeferral?.message });
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
