/**
 * A local SQS event source mapping: what Lambda does for a function that consumes a queue
 * with `ReportBatchItemFailures`.
 *
 * - ReceiveMessage (up to batchSize, long poll 1 s, all attributes), waiting up to the
 *   batching window to fill the batch; build an SQSEvent; invoke the handler.
 * - The handler answers `{ batchItemFailures: [{ itemIdentifier: messageId }] }`. Succeeded
 *   records are deleted; failed ones are left alone and reappear after the visibility
 *   timeout, and after maxReceiveCount receives the queue's redrive policy moves them to
 *   the DLQ. A handler that throws, times out, or names an identifier that is not in the
 *   batch fails the whole batch (Lambda's rules for partial batch responses).
 * - At most `maxConcurrency` invocations at once.
 * - `visibilityTimeoutSeconds` overrides the queue's timeout on receive, so failed records
 *   come back quickly locally (QIYE_LOCAL_VISIBILITY_SECONDS).
 *
 * Delivery is at least once, as in AWS: a record can be handled again after a failure,
 * a timeout, or a restart of the local stack.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord, SQSMessageAttributes } from 'aws-lambda';
import type { Logger } from '../shared/logging/logger';
import { invokeHandler, LOCAL_REGION, type InvokeTarget, type LambdaHandler } from './lambda-invoke';

export interface PollerOptions {
  target: InvokeTarget;
  /** Called per invocation (so a handler loaded later, or replaced in tests, is used). */
  handler: () => LambdaHandler;
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maxConcurrency: number;
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait per receive (s); default 1. */
  waitTimeSeconds?: number;
  logger: Logger;
}

export interface InvocationReport {
  function: string;
  records: number;
  failures: number;
  ms: number;
  error?: string;
}

export class SqsPoller {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private abort = new AbortController();
  /** Reports of finished invocations, newest last (kept short). */
  readonly recent: InvocationReport[] = [];

  constructor(private readonly opts: PollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loopDone = this.loop();
  }

  /** Stop receiving, then wait for the invocations in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    await Promise.allSettled([...this.inFlight]);
  }

  private async loop(): Promise<void> {
    const max = Math.max(1, this.opts.maxConcurrency);
    while (this.running) {
      if (this.inFlight.size >= max) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: Message[];
      try {
        messages = await this.receiveBatch();
      } catch (err) {
        if (!this.running) break;
        this.opts.logger.warn('receive failed; retrying in 1 s', { function: this.opts.target.name, error: err });
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      const p: Promise<void> = this.process(messages).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async receive(max: number, wait: number): Promise<Message[]> {
    const out = await this.opts.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.opts.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: wait,
        VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return out.Messages ?? [];
  }

  /** One receive, then more until the batch is full or the batching window has passed. */
  private async receiveBatch(): Promise<Message[]> {
    const size = Math.max(1, this.opts.batchSize);
    const messages = await this.receive(size, this.opts.waitTimeSeconds ?? 1);
    const deadline = Date.now() + this.opts.maxBatchingWindowSeconds * 1000;
    while (messages.length > 0 && messages.length < size && this.running) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const more = await this.receive(size - messages.length, remaining >= 1000 ? 1 : 0);
      if (more.length === 0 && remaining < 1000) await sleep(Math.min(remaining, 200));
      messages.push(...more);
    }
    return messages;
  }

  private async process(messages: Message[]): Promise<void> {
    const started = Date.now();
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, this.opts.queueArn)) };
    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      const result = await invokeHandler(this.opts.target, this.opts.handler(), event, this.opts.logger);
      failedIds = parseBatchResponse(result, event.Records);
      if (!isBatchResponse(result)) {
        this.opts.logger.warn('queue handler returned no batchItemFailures field; treating every record as processed', { function: this.opts.target.name });
      }
    } catch (err) {
      failedIds = new Set(event.Records.map((r) => r.messageId));
      error = err instanceof InvalidBatchResponseError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      if (!(err instanceof InvalidBatchResponseError)) this.opts.logger.error('queue handler failed; the whole batch will be retried', { function: this.opts.target.name, error: err });
    }
    const succeeded = event.Records.filter((r) => !failedIds.has(r.messageId));
    try {
      await this.deleteRecords(succeeded);
    } catch (err) {
      // Not deleted means redelivered: at least once, never lost.
      this.opts.logger.warn('could not delete processed messages; they will be redelivered', { function: this.opts.target.name, error: err });
    }
    const report: InvocationReport = { function: this.opts.target.name, records: event.Records.length, failures: failedIds.size, ms: Date.now() - started };
    if (error) report.error = error;
    this.recent.push(report);
    if (this.recent.length > 100) this.recent.shift();
    this.opts.logger.info('invocation', { ...report });
  }

  private async deleteRecords(records: SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      const batch = records.slice(i, i + 10);
      const out = await this.opts.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: batch.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })) }),
      );
      if (out.Failed && out.Failed.length > 0) throw new Error(`${out.Failed.length} message(s) could not be deleted`);
    }
  }
}

export class InvalidBatchResponseError extends Error {}

function isBatchResponse(result: unknown): boolean {
  return result === undefined || result === null || (typeof result === 'object' && 'batchItemFailures' in result);
}

/**
 * The message ids the handler reported as failed. Lambda treats a response naming an
 * empty, non-string or unknown itemIdentifier as a failure of the whole batch.
 */
export function parseBatchResponse(result: unknown, records: readonly SQSRecord[]): Set<string> {
  const failed = new Set<string>();
  if (result === undefined || result === null || typeof result !== 'object') return failed;
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return failed;
  if (!Array.isArray(list)) throw new InvalidBatchResponseError('batchItemFailures is not an array; the whole batch failed');
  const ids = new Set(records.map((r) => r.messageId));
  for (const item of list) {
    const id = item && typeof item === 'object' ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) {
      throw new InvalidBatchResponseError(`batchItemFailures names ${JSON.stringify(id)}, which is not a message of this batch; the whole batch failed`);
    }
    failed.add(id);
  }
  return failed;
}

/** An SQS message as Lambda delivers it in an SQSEvent record. */
export function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: v.DataType ?? 'String',
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined,
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  const record: SQSRecord = {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
  if (m.MD5OfMessageAttributes) record.md5OfMessageAttributes = m.MD5OfMessageAttributes;
  return record;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
