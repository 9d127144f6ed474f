/** SQS events as the Lambda event source mapping delivers them, for handlers driven by tests. */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

export interface TestMessage {
  messageId: string;
  body: string;
  /** How many times SQS has handed the message out, this delivery included. */
  receiveCount: number;
}

/** One record of `queue` (the queue's short name ends its ARN). */
export function sqsRecord(m: TestMessage, queue: string): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle: `${m.messageId}-${m.receiveCount}`,
    body: m.body,
    attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queue}`,
    awsRegion: 'local',
  };
}

/** A batch of records of `queue`. */
export function sqsEvent(messages: TestMessage[], queue: string): SQSEvent {
  return { Records: messages.map((m) => sqsRecord(m, queue)) };
}

/** A queue worker as the harnesses drive it: SQS batch in, partial batch failures out. */
export type SqsWorker = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

/**
 * Delivers `batch` to `worker` in one invocation and returns the ids SQS would keep: the
 * reported failures, or the whole batch when the invocation itself failed.
 */
export async function deliverBatch(worker: SqsWorker, batch: TestMessage[], queue: string, context = {} as Context): Promise<Set<string>> {
  try {
    const res = await worker(sqsEvent(batch, queue), context);
    return new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
  } catch {
    return new Set(batch.map((m) => m.messageId));
  }
}
