/**
 * The local SQS: fauxqs 1.9.2 with every queue of the manifest and its DLQ.
 *
 * fauxqs' own `startFauxqs()` always listens on 0.0.0.0; we build its app with
 * `buildApp()` and listen on loopback only. Queues are created through the SQS API with
 * the manifest's visibility timeout, retention and redrive policy, exactly as CDK does.
 *
 * fauxqs keeps messages in memory only. On a clean stop `snapshotQueues()` writes every
 * message (ready, delayed and in flight) of every queue to a JSON file, and the next
 * start re-sends them, so a restart loses no queued work. Consequences, all within SQS's
 * own at-least-once contract: a message that was in flight is delivered again, messages
 * get new ids, and receive counts start again from zero. A crash (no clean stop) loses
 * what was queued in memory.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { buildApp } from 'fauxqs';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { QUEUES, queueName, type QueueName, type QueueSpec } from '../shared/contracts/app-manifest';
import { AppError } from '../shared/errors/app-error';
import type { Logger } from '../shared/logging/logger';
import { listenError } from './dynamodb';
import { LOCAL_REGION } from './lambda-invoke';

export interface LocalQueue {
  name: QueueName;
  spec: QueueSpec;
  /** qiye-bridge-<stage>-<name> */
  physicalName: string;
  url: string;
  arn: string;
  dlqName: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface RunningQueues {
  endpoint: string;
  port: number;
  client: SQSClient;
  queues: Record<QueueName, LocalQueue>;
  /** Every physical queue name (main queues and DLQs). */
  allNames(): string[];
  /** Non-destructive view of a queue's messages, by physical name. */
  inspect(name: string): Promise<InspectedQueue | undefined>;
  stop(): Promise<void>;
}

/** fauxqs' GET /_fauxqs/queues/:name answer (the parts we use). */
export interface InspectedQueue {
  name: string;
  url: string;
  attributes: Record<string, string>;
  messages: {
    ready: FauxqsMessage[];
    delayed: FauxqsMessage[];
    inflight: Array<{ message: FauxqsMessage; visibilityDeadline: number }>;
  };
}

interface FauxqsMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  sentTimestamp: number;
  approximateReceiveCount: number;
  delayUntil?: number;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export async function startQueues(options: { port: number; host?: string; stage: string; logger?: Logger }): Promise<RunningQueues> {
  const host = options.host ?? '127.0.0.1';
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  let address: string;
  try {
    address = await app.listen({ port: options.port, host });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw listenError('fauxqs (local SQS)', host, options.port, 'QIYE_SQS_PORT', err);
  }
  const port = Number(new URL(address).port);
  const endpoint = `http://${host}:${port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

  const queues = {} as Record<QueueName, LocalQueue>;
  try {
    for (const spec of Object.values(QUEUES)) {
      const dlqName = queueName(options.stage, spec.name, true);
      const dlq = await client.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: { MessageRetentionPeriod: String(spec.dlqRetentionSeconds) } }));
      const dlqArn = await queueArn(client, dlq.QueueUrl!);
      const name = queueName(options.stage, spec.name);
      const q = await client.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
            MessageRetentionPeriod: String(spec.retentionSeconds),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
          },
        }),
      );
      queues[spec.name] = { name: spec.name, spec, physicalName: name, url: q.QueueUrl!, arn: await queueArn(client, q.QueueUrl!), dlqName, dlqUrl: dlq.QueueUrl!, dlqArn };
    }
  } catch (err) {
    client.destroy();
    await app.close();
    throw err;
  }

  return {
    endpoint,
    port,
    client,
    queues,
    allNames: () => Object.values(queues).flatMap((q) => [q.physicalName, q.dlqName]),
    inspect: async (name) => {
      const res = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new AppError('LOCAL.SQS_INSPECT_FAILED', `fauxqs answered ${res.status} when inspecting ${name}`);
      return (await res.json()) as InspectedQueue;
    },
    stop: async () => {
      client.destroy();
      await app.close();
    },
  };
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new AppError('LOCAL.SQS_NO_ARN', `fauxqs returned no QueueArn for ${url}`);
  return arn;
}

// ---------------------------------------------------------------------------------------
// Snapshot and restore

interface SnapshotMessage {
  body: string;
  messageAttributes?: FauxqsMessage['messageAttributes'];
  /** Seconds still to wait, for messages that were delayed. */
  delaySeconds?: number;
  state: 'ready' | 'delayed' | 'inflight';
  receiveCount: number;
  sentTimestamp: number;
}

interface SnapshotFile {
  version: 1;
  savedAt: string;
  queues: Record<string, SnapshotMessage[]>;
}

/**
 * Write every message of every queue to `file` (atomically). Call it after the pollers
 * have stopped and their invocations have finished.
 * @returns how many messages were saved.
 */
export async function snapshotQueues(q: RunningQueues, file: string, now = Date.now()): Promise<number> {
  const snap: SnapshotFile = { version: 1, savedAt: new Date(now).toISOString(), queues: {} };
  let count = 0;
  for (const name of q.allNames()) {
    const view = await q.inspect(name);
    if (!view) continue;
    const msgs: SnapshotMessage[] = [
      ...view.messages.ready.map((m) => toSnapshot(m, 'ready', now)),
      ...view.messages.delayed.map((m) => toSnapshot(m, 'delayed', now)),
      ...view.messages.inflight.map((e) => toSnapshot(e.message, 'inflight', now)),
    ];
    if (msgs.length > 0) snap.queues[name] = msgs;
    count += msgs.length;
  }
  if (count === 0) {
    await rm(file, { force: true });
    return 0;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(snap, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return count;
}

function toSnapshot(m: FauxqsMessage, state: SnapshotMessage['state'], now: number): SnapshotMessage {
  const s: SnapshotMessage = { body: m.body, state, receiveCount: m.approximateReceiveCount, sentTimestamp: m.sentTimestamp };
  if (m.messageAttributes && Object.keys(m.messageAttributes).length > 0) s.messageAttributes = m.messageAttributes;
  if (state === 'delayed' && m.delayUntil) s.delaySeconds = Math.max(0, Math.ceil((m.delayUntil - now) / 1000));
  return s;
}

/**
 * Re-send the messages saved by `snapshotQueues()` and remove the file.
 * @returns per-queue counts of restored messages.
 */
export async function restoreQueues(q: RunningQueues, file: string, logger?: Logger): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let snap: SnapshotFile;
  try {
    snap = JSON.parse(text) as SnapshotFile;
    if (snap.version !== 1 || typeof snap.queues !== 'object') throw new Error('unknown format');
  } catch (err) {
    throw new AppError('LOCAL.QUEUE_SNAPSHOT_INVALID', `${file} is not a queue snapshot this version can read (${(err as Error).message}); move it away to start with empty queues`, { cause: err });
  }
  const urls = new Map<string, string>();
  for (const lq of Object.values(q.queues)) {
    urls.set(lq.physicalName, lq.url);
    urls.set(lq.dlqName, lq.dlqUrl);
  }
  const restored: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  for (const [name, msgs] of Object.entries(snap.queues)) {
    const url = urls.get(name);
    if (!url) {
      dropped[name] = msgs.length;
      continue;
    }
    for (let i = 0; i < msgs.length; i += 10) {
      const entries: SendMessageBatchRequestEntry[] = msgs.slice(i, i + 10).map((m, j) => {
        const e: SendMessageBatchRequestEntry = { Id: String(j), MessageBody: m.body };
        if (m.delaySeconds) e.DelaySeconds = Math.min(900, m.delaySeconds);
        if (m.messageAttributes) e.MessageAttributes = toSdkAttributes(m.messageAttributes);
        return e;
      });
      const out = await q.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      if (out.Failed && out.Failed.length > 0) {
        // Keep the file so nothing is lost; the operator can retry or move it away.
        throw new AppError('LOCAL.QUEUE_RESTORE_FAILED', `${out.Failed.length} saved message(s) could not be re-sent to ${name}; ${file} was kept`);
      }
    }
    restored[name] = msgs.length;
  }
  if (Object.keys(dropped).length > 0) {
    // Queues removed from the manifest: keep their messages aside rather than lose them silently.
    const aside = `${file}.orphaned-${Date.now()}.json`;
    await writeFile(aside, JSON.stringify({ ...snap, queues: Object.fromEntries(Object.keys(dropped).map((n) => [n, snap.queues[n]])) }, null, 2), { mode: 0o600 });
    logger?.warn('saved messages for queues that no longer exist were set aside', { queues: dropped, file: aside });
  }
  await rm(file, { force: true });
  return restored;
}

function toSdkAttributes(attrs: NonNullable<SnapshotMessage['messageAttributes']>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const a: MessageAttributeValue = { DataType: v.DataType };
    if (v.StringValue !== undefined) a.StringValue = v.StringValue;
    if (v.BinaryValue !== undefined) a.BinaryValue = Buffer.from(v.BinaryValue, 'base64');
    out[k] = a;
  }
  return out;
}
