/**
 * JobQueue on Amazon SQS (and on fauxqs locally: same wire protocol).
 *
 * Queue URLs come from `QUEUE_URL_<QUEUE>` (queueUrlEnv()), set by CDK only for the
 * queues a function is allowed to send to, so a missing URL means "this function was
 * not wired to that queue" and is reported as a configuration error, not retried.
 */
import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { queueUrlEnv, type QueueName } from '../../contracts/app-manifest';
import { AppError, ConfigError } from '../../errors/app-error';
import type { JobQueue, OutgoingMessage } from '../../ports/job-queue';

/** SendMessageBatch takes at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;
/**
 * Keep each batch under the classic 256 KiB total payload limit (SQS raised the per-message
 * maximum to 1 MiB in 2025, fauxqs accepts 1 MiB); a larger batch is refused as a whole
 * with BatchRequestTooLong, so split by size as well as by count.
 */
const MAX_BATCH_BYTES = 256 * 1024;

export interface SqsJobQueueOptions {
  client?: SQSClient;
  /** Explicit URLs; otherwise read from `env[QUEUE_URL_<Q>]`. */
  queueUrls?: Partial<Record<QueueName, string>>;
  env?: NodeJS.ProcessEnv;
  /** Used only when no client is given. Defaults to AWS_ENDPOINT_URL_SQS, then the SDK default. */
  endpoint?: string;
  region?: string;
  credentials?: SQSClientConfig['credentials'];
}

export class SqsJobQueue implements JobQueue {
  private readonly client: SQSClient;
  private readonly queueUrls: Partial<Record<QueueName, string>>;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: SqsJobQueueOptions = {}) {
    this.env = options.env ?? process.env;
    this.queueUrls = options.queueUrls ?? {};
    this.client = options.client ?? sqsClientOf(options, this.env);
  }

  /**
   * A queue for a process without `QUEUE_URL_*` variables (the CLI on a deployed stage): the
   * URL of each of `queues` is looked up by its name (`nameOf`, GetQueueUrl) before the first send.
   */
  static async byName(queues: readonly QueueName[], nameOf: (queue: QueueName) => string, options: Omit<SqsJobQueueOptions, 'queueUrls'> = {}): Promise<SqsJobQueue> {
    const client = options.client ?? sqsClientOf(options, options.env ?? process.env);
    const urls = await Promise.all(queues.map(async (q) => [q, (await client.send(new GetQueueUrlCommand({ QueueName: nameOf(q) }))).QueueUrl] as const));
    return new SqsJobQueue({ ...options, client, queueUrls: Object.fromEntries(urls) });
  }

  /** The URL of a queue this function may send to; ConfigError when it was not wired. */
  queueUrl(queue: QueueName): string {
    const url = this.queueUrls[queue] ?? this.env[queueUrlEnv(queue)];
    if (!url) {
      throw new ConfigError(`Queue "${queue}" is not configured for this function:`, [
        { file: 'env', path: queueUrlEnv(queue), reason: 'is not set (the function is not wired to send to this queue)' },
      ]);
    }
    return url;
  }

  /**
   * Sends every message, in batches of up to 10 (and 256 KiB). All batches are attempted
   * even when one fails; then, if any entry failed, throws `QUEUE.SEND_FAILED` naming how
   * many. Messages that did go out stay sent: consumers are idempotent on operation ids,
   * so a retry of the whole send is safe.
   */
  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const url = this.queueUrl(queue);
    const entries = messages.map((m, i) => toEntry(queue, m, i));

    let failed = 0;
    let senderFaultsOnly = true;
    const codes = new Set<string>();
    let firstCause: unknown;
    for (const batch of chunk(entries)) {
      try {
        const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: batch }));
        for (const f of out.Failed ?? []) {
          failed += 1;
          if (f.Code) codes.add(f.Code);
          if (!f.SenderFault) senderFaultsOnly = false;
        }
      } catch (err) {
        // The whole call failed (network, throttling, missing queue): none of this batch went out.
        failed += batch.length;
        senderFaultsOnly = false;
        codes.add((err as Error).name);
        firstCause ??= err;
      }
    }
    if (failed > 0) {
      throw new AppError('QUEUE.SEND_FAILED', `${failed} of ${messages.length} message(s) could not be sent to queue "${queue}"`, {
        // A sender fault (malformed entry) fails again on retry; anything else may pass.
        retryable: !senderFaultsOnly,
        cause: firstCause,
        details: { queue, failed, total: messages.length, codes: [...codes] },
      });
    }
  }
}

function toEntry(queue: QueueName, m: OutgoingMessage, index: number): SendMessageBatchRequestEntry {
  const delay = m.delaySeconds;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > 900)) {
    throw new AppError('QUEUE.INVALID_MESSAGE', `Message ${index} for queue "${queue}" has delaySeconds ${delay}; it must be an integer 0-900`);
  }
  const body = JSON.stringify(m.body);
  if (body === undefined) throw new AppError('QUEUE.INVALID_MESSAGE', `Message ${index} for queue "${queue}" has no JSON body`);
  const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: body };
  if (delay !== undefined) entry.DelaySeconds = delay;
  return entry;
}

function sqsClientOf(options: Pick<SqsJobQueueOptions, 'endpoint' | 'region' | 'credentials'>, env: NodeJS.ProcessEnv): SQSClient {
  const config: SQSClientConfig = {};
  const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_SQS || undefined);
  if (endpoint) config.endpoint = endpoint;
  if (options.region) config.region = options.region;
  if (options.credentials) config.credentials = options.credentials;
  return new SQSClient(config);
}

function* chunk(entries: readonly SendMessageBatchRequestEntry[]): Generator<SendMessageBatchRequestEntry[]> {
  let batch: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.MessageBody ?? '', 'utf8');
    if (batch.length > 0 && (batch.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
