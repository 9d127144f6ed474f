/**
 * SQS batch processing with partial batch failures (the event source mapping is set
 * with reportBatchItemFailures): one bad record never fails its neighbours. Built on
 * Powertools batch (`BatchProcessor(EventType.SQS)` + `processPartialResponse`), which
 * collects the failed message ids into the `{batchItemFailures}` answer.
 *
 * - a retryable error fails the record: SQS redelivers it after the visibility timeout,
 *   then moves it to the DLQ after maxReceiveCount;
 * - a non-retryable error is logged, counted and acknowledged (retrying cannot help);
 *   the use case records it where an operator will see it (run results).
 * - parsedSqsBatchHandler (Powertools batch parser style; every queue worker uses it, or
 *   parsedSqsBatchGroupHandler for records handled together): each record's body is JSON-parsed and checked
 *   with a zod schema before the processor sees it, so workers parse one way. A body that
 *   does not parse is a non-retryable ValidationError (QUEUE.BAD_MESSAGE): logged and
 *   acknowledged, as a message we cannot read will not read better on retry. (Powertools'
 *   own parser integration fails such records instead, sending them round to the DLQ.)
 * - deadline guard (`reserveMs`): a record is started only while at least `reserveMs` of the
 *   invocation remain (Lambda's `context.getRemainingTimeInMillis()`); the records not
 *   started are failed as retryable. Without it, an invocation that runs past its timeout
 *   returns no partial-batch response at all, so Lambda fails EVERY record of the batch,
 *   the finished ones included, and they all come back after the visibility timeout. With
 *   it, the finished records are acknowledged and only the unstarted ones come back (a
 *   skipped record still counts as a receive towards maxReceiveCount).
 * - a batch whose every record failed is answered with every id as a failure, not thrown
 *   (`throwOnFullBatchFailure: false`): the same outcome for SQS, and no error log per batch.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, isRetryable, ValidationError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import { flushMetrics, metrics } from '../observability/metrics';

export type RecordProcessor = (record: SQSRecord, context: Context) => Promise<void>;
/** A processor of records whose body has been parsed with the batch's schema. */
export type ParsedRecordProcessor<T> = (body: T, record: SQSRecord, context: Context) => Promise<void>;

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

/** A record's body parsed as JSON and checked with `schema`; problems name paths, never values. */
export function parseRecordBody<S extends z.ZodType>(schema: S, record: SQSRecord): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    throw new ValidationError('queue message is not JSON', { code: 'QUEUE.BAD_MESSAGE' });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ');
    throw new ValidationError(`queue message refused: ${where}`, { code: 'QUEUE.BAD_MESSAGE' });
  }
  return parsed.data;
}

/**
 * The batch handler for a queue of our own messages: each body is checked with `schema`
 * (shared/contracts/) and the processor gets the parsed body.
 */
export function parsedSqsBatchHandler<S extends z.ZodType>(schema: S, process: ParsedRecordProcessor<z.output<S>>, opts: BatchOptions): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler((record, context) => process(parseRecordBody(schema, record), record, context), opts);
}

/** Whether `event` is a batch of SQS records (a function with other triggers too tells them apart by this). */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

/** One record of a batch handled as a whole: its id and its parsed body. */
export interface ParsedRecord<T> {
  messageId: string;
  body: T;
}

/**
 * A processor of a whole batch's parsed records, for a worker that handles records together
 * (the callback worker groups them per tenant). It answers the message ids to fail (retryable:
 * SQS redelivers them); every other record is acknowledged.
 */
export type ParsedBatchProcessor<T> = (records: Array<ParsedRecord<T>>, context: Context) => Promise<{ failures: readonly string[] }>;

/**
 * The batch handler for a queue whose records are handled together: each body is checked with
 * `schema` as in {@link parsedSqsBatchHandler} (a body that does not parse is logged, counted
 * and acknowledged), then the parsed records go to `process` in one call. If `process` throws,
 * its records fail when the error is retryable and are acknowledged otherwise, as for one
 * record in {@link sqsBatchHandler}.
 *
 * Hand-written because Powertools' BatchProcessor hands records over one at a time, and the
 * callback worker must see the whole batch at once (the contact events of one tenant are
 * coalesced into one sync run). No deadline guard: there is one unit of work, not records to
 * start or hold back. If it outlives the invocation, every record comes back after the
 * visibility timeout, and the run it makes is safe to repeat (dedup records, the tenant's lock).
 */
export function parsedSqsBatchGroupHandler<S extends z.ZodType>(schema: S, process: ParsedBatchProcessor<z.output<S>>, opts: Pick<BatchOptions, 'logger'>): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const parsed: Array<ParsedRecord<z.output<S>>> = [];
    try {
      for (const record of event.Records ?? []) {
        try {
          parsed.push({ messageId: record.messageId, body: parseRecordBody(schema, record) });
        } catch (err) {
          recordDropped(opts.logger, record, err);
        }
      }
      let failures: readonly string[];
      try {
        ({ failures } = await process(parsed, context));
      } catch (err) {
        const retry = isRetryable(err);
        opts.logger[retry ? 'warn' : 'error']('batch failed', { records: parsed.length, retryable: retry, err });
        if (!retry) metrics().count('QueueRecordsFailed', parsed.length, { status: 'dropped', code: errorCode(err) });
        failures = retry ? parsed.map((r) => r.messageId) : [];
      }
      if (failures.length > 0) metrics().count('QueueRecordsFailed', failures.length, { status: 'retry' });
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    } finally {
      flushMetrics();
    }
  };
}

/** A record acknowledged although it failed (retrying cannot help): logged and counted. */
function recordDropped(logger: Logger, record: SQSRecord, err: unknown): void {
  logger.error('record failed', { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, retryable: false, err });
  metrics().count('QueueRecordsFailed', 1, { status: 'dropped', code: errorCode(err) });
}

export function sqsBatchHandler(run: RecordProcessor, opts: BatchOptions): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const records = event.Records ?? [];
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const slots = semaphore(Math.max(1, opts.concurrency ?? 1));
    let deferred = 0;
    let firstDeferral: DeadlineReservedError | undefined;

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const release = await slots.acquire();
      try {
        const left = remaining?.();
        if (opts.reserveMs !== undefined && left !== undefined && left < opts.reserveMs) {
          // Not started: nothing of it was applied, so nothing needs undoing.
          const err = new DeadlineReservedError(left, opts.reserveMs);
          if (deferred++ === 0) firstDeferral = err;
          throw err;
        }
        try {
          await run(record, context);
        } catch (err) {
          if (!isRetryable(err)) return recordDropped(opts.logger, record, err);
          opts.logger.warn('record failed', { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, retryable: true, err });
          throw err; // the processor reports it in batchItemFailures
        }
      } finally {
        release();
      }
    };

    const processor = new BatchProcessor(EventType.SQS);
    try {
      const response = await processPartialResponse({ Records: records }, handleRecord, processor, { context, throwOnFullBatchFailure: false });
      if (deferred > 0) opts.logger.warn('records not started near the deadline; left for redelivery', { deferred, records: records.length, code: firstDeferral?.code, reason: firstDeferral?.message });
      if (deferred > 0) metrics().count('QueueRecordsDeferred', deferred);
      if (response.batchItemFailures.length > deferred) metrics().count('QueueRecordsFailed', response.batchItemFailures.length - deferred, { status: 'retry' });
      return { batchItemFailures: response.batchItemFailures };
    } finally {
      // The invocation ends here: what this batch counted is written now (Lambda may freeze after).
      flushMetrics();
    }
  };
}

/** An AppError's code (bounded: our own catalogue), else "UNEXPECTED": a metric dimension. */
function errorCode(err: unknown): string {
  return err instanceof AppError ? err.code : 'UNEXPECTED';
}

/** First come, first served: records start in batch order, at most `limit` at once. */
function semaphore(limit: number): { acquire(): Promise<() => void> } {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    acquire: () => {
      if (active < limit) {
        active++;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => waiting.push(() => resolve(release)));
    },
  };
}
