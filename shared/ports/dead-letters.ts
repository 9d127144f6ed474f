import type { QueueName } from '../contracts/app-manifest';

export interface QueueDepth {
  queue: QueueName;
  /** Messages waiting in the queue itself. */
  messages: number;
  /** Messages in its dead-letter queue (work that failed maxReceiveCount times). */
  deadLetters: number;
}

/** The application's queues as operators see them: depths, and moving dead letters back. */
export interface DeadLetterQueues {
  /** Depth of every queue and its DLQ (approximate, as SQS reports it). */
  depths(): Promise<QueueDepth[]>;
  /**
   * Move up to `max` messages from the queue's DLQ back to the queue (each sent before it is
   * deleted from the DLQ, so a failure midway duplicates at worst, never loses: consumers are
   * idempotent). @returns how many were moved.
   */
  redrive(queue: QueueName, max: number): Promise<{ moved: number }>;
}
