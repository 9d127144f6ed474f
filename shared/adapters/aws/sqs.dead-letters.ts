/**
 * DeadLetterQueues on SQS (fauxqs locally). URLs come from `QUEUE_URL_<Q>` and `DLQ_URL_<Q>`
 * (dlqUrlEnv()), which CDK sets only on functions whose spec has `deadLetters`.
 *
 * Redrive receives from the DLQ, sends each message to its queue, and only then deletes it
 * from the DLQ: a failure in between leaves a duplicate (the consumers are idempotent on
 * operation ids), never a loss. (SQS's StartMessageMoveTask would do the same server-side,
 * but fauxqs does not implement it and the local stack must behave like AWS.)
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dlqUrlEnv, QUEUES, queueUrlEnv, type QueueName } from '../../contracts/app-manifest';
import { AppError } from '../../errors/app-error';
import type { DeadLetterQueues, QueueDepth } from '../../ports/dead-letters';

type Urls = Record<QueueName, { url: string; dlqUrl: string }>;

export class SqsDeadLetterQueues implements DeadLetterQueues {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: Partial<Urls>,
  ) {}

  /** From the environment; undefined when this function is not wired to the DLQs. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, client?: SQSClient): SqsDeadLetterQueues | undefined {
    const urls: Partial<Urls> = {};
    for (const q of Object.keys(QUEUES) as QueueName[]) {
      const url = env[queueUrlEnv(q)];
      const dlqUrl = env[dlqUrlEnv(q)];
      if (url && dlqUrl) urls[q] = { url, dlqUrl };
    }
    if (Object.keys(urls).length === 0) return undefined;
    const endpoint = env.AWS_ENDPOINT_URL_SQS || undefined;
    return new SqsDeadLetterQueues(client ?? new SQSClient(endpoint ? { endpoint } : {}), urls);
  }

  private async count(url: string): Promise<number> {
    const out = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  async depths(): Promise<QueueDepth[]> {
    const entries = Object.entries(this.urls) as Array<[QueueName, { url: string; dlqUrl: string }]>;
    return Promise.all(entries.map(async ([queue, u]) => ({ queue, messages: await this.count(u.url), deadLetters: await this.count(u.dlqUrl) })));
  }

  async redrive(queue: QueueName, max: number): Promise<{ moved: number }> {
    const u = this.urls[queue];
    if (!u) throw new AppError('QUEUE.NOT_WIRED', `Queue "${queue}" is not wired to this function.`, { status: 400, expose: true });
    let moved = 0;
    while (moved < max) {
      const got = await this.client.send(new ReceiveMessageCommand({ QueueUrl: u.dlqUrl, MaxNumberOfMessages: Math.min(10, max - moved), WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
      const msgs = (got.Messages ?? []).filter((m) => m.Body !== undefined && m.ReceiptHandle);
      if (msgs.length === 0) break;
      const sent = await this.client.send(new SendMessageBatchCommand({ QueueUrl: u.url, Entries: msgs.map((m, i) => ({ Id: String(i), MessageBody: m.Body! })) }));
      const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
      const done = msgs.filter((_, i) => ok.has(String(i)));
      if (done.length) await this.client.send(new DeleteMessageBatchCommand({ QueueUrl: u.dlqUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      moved += done.length;
      if (done.length < msgs.length) throw new AppError('QUEUE.REDRIVE_PARTIAL', `${msgs.length - done.length} message(s) could not be sent back to "${queue}"; ${moved} moved. They stay in the DLQ.`, { status: 502, expose: false, retryable: true });
    }
    return { moved };
  }
}
