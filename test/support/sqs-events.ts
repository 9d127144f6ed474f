/** SQS events as the Lambda event source mapping delivers them, for handlers driven by tests. */
import type { SQSEvent, SQSRecord } from 'aws-lambda';

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
