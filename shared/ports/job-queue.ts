import type { QueueName } from '../contracts/app-manifest';

export interface OutgoingMessage {
  /** Our versioned contract object (see shared/contracts); serialized as JSON. */
  body: unknown;
  /** Seconds before the message becomes visible (0-900). */
  delaySeconds?: number;
}

/** Sends our messages to one of the application's queues (SQS in AWS and locally). */
export interface JobQueue {
  /** Sends all messages (batched by 10); throws if any could not be sent, naming how many. */
  send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void>;
}
