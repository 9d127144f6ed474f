import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../../shared/contracts/app-manifest';
import { createMemoryLogger } from '../../shared/logging/logger';
import { restoreQueues, snapshotQueues, startQueues, type RunningQueues } from '../../local/queues';
import { SqsPoller } from '../../local/sqs-poller';
import type { LambdaHandler } from '../../local/lambda-invoke';
import { tempDirs } from '../support/temp-dirs';
import { waitFor } from '../support/wait-for';

const mkdtemp = tempDirs();

let sqs: RunningQueues;
let poller: SqsPoller | undefined;

beforeEach(async () => {
  sqs = await startQueues({ port: 0, stage: 'test' });
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await sqs.stop();
});

/** A poller on the notify queue (maxReceiveCount 3) with a 1 s local visibility timeout. */
function pollNotify(handler: LambdaHandler, logger = createMemoryLogger()) {
  const q = sqs.queues.notify;
  poller = new SqsPoller({
    target: { name: 'testWorker', timeoutSeconds: 5, memoryMb: 128, stage: 'test' },
    handler: () => handler,
    client: sqs.client,
    queueUrl: q.url,
    queueArn: q.arn,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    maxConcurrency: 1,
    visibilityTimeoutSeconds: 1,
    logger,
  });
  poller.start();
  return logger;
}

async function sendBodies(url: string, bodies: string[]) {
  await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) }));
}

describe('local SQS queues', () => {
  it('are created from the manifest with their DLQ, redrive policy, visibility and retention', async () => {
    for (const spec of Object.values(QUEUES)) {
      const view = await sqs.inspect(`qiye-bridge-test-${spec.name}`);
      expect(view?.attributes.VisibilityTimeout).toBe(String(spec.visibilityTimeoutSeconds));
      expect(view?.attributes.MessageRetentionPeriod).toBe(String(spec.retentionSeconds));
      expect(JSON.parse(view!.attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: sqs.queues[spec.name].dlqArn, maxReceiveCount: spec.maxReceiveCount });
      const dlq = await sqs.inspect(`qiye-bridge-test-${spec.name}-dlq`);
      expect(dlq?.attributes.MessageRetentionPeriod).toBe(String(spec.dlqRetentionSeconds));
    }
  });
});

describe('SqsPoller (local event source mapping)', () => {
  it('delivers an SQSEvent, deletes what succeeded and redelivers only the failed record', async () => {
    const deliveries: SQSRecord[] = [];
    const logger = pollNotify(async (event: SQSEvent) => {
      deliveries.push(...event.Records);
      const failures = event.Records.filter((r) => r.body === '"fail-once"' && r.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await sendBodies(sqs.queues.notify.url, ['"a"', '"fail-once"', '"b"']);

    await waitFor(() => deliveries.filter((r) => r.body === '"fail-once"').length === 2);
    const byBody = (b: string) => deliveries.filter((r) => r.body === b);
    expect(byBody('"a"')).toHaveLength(1);
    expect(byBody('"b"')).toHaveLength(1);
    expect(byBody('"fail-once"').map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);

    const rec = byBody('"a"')[0]!;
    expect(rec).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: sqs.queues.notify.arn, awsRegion: 'us-east-1', md5OfBody: expect.any(String) });
    expect(rec.receiptHandle).toBeTruthy();
    expect(rec.attributes.SentTimestamp).toMatch(/^\d+$/);

    // Everything processed: the queue is empty (nothing ready, nothing in flight).
    await waitFor(async () => {
      const v = await sqs.inspect('qiye-bridge-test-notify');
      return v && v.messages.ready.length + v.messages.inflight.length === 0;
    });
    const report = logger.lines.find((l) => l.msg === 'invocation' && l.failures === 1);
    expect(report).toMatchObject({ function: 'testWorker', records: 3, failures: 1, ms: expect.any(Number) });
  });

  it('gives the handler a Lambda context whose remaining time counts down from the function timeout (the workers\' deadline guard relies on it)', async () => {
    const seen: number[] = [];
    pollNotify(async (_event: SQSEvent, context: Context) => {
      seen.push(context.getRemainingTimeInMillis());
      await new Promise((r) => setTimeout(r, 300));
      seen.push(context.getRemainingTimeInMillis());
      return { batchItemFailures: [] };
    });
    await sendBodies(sqs.queues.notify.url, ['"x"']);
    await waitFor(() => seen.length === 2);
    const [start, later] = seen as [number, number];
    expect(start).toBeLessThanOrEqual(5000); // timeoutSeconds 5
    expect(start).toBeGreaterThan(3000);
    expect(later).toBeLessThanOrEqual(start - 250);
  });

  it('moves a record that keeps failing to the DLQ after maxReceiveCount deliveries', async () => {
    let attempts = 0;
    pollNotify(async (event: SQSEvent) => {
      attempts += event.Records.length;
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await sendBodies(sqs.queues.notify.url, ['"poison"']);
    const dead = await waitFor(async () => {
      const v = await sqs.inspect('qiye-bridge-test-notify-dlq');
      return v && v.messages.ready.length > 0 ? v.messages.ready : undefined;
    }, 20_000);
    expect(dead.map((m) => m.body)).toEqual(['"poison"']);
    expect(attempts).toBe(QUEUES.notify.maxReceiveCount);
  });

  it('fails the whole batch when the handler throws or names a record that is not in the batch', async () => {
    let calls = 0;
    const seen: string[][] = [];
    pollNotify(async (event: SQSEvent) => {
      calls += 1;
      seen.push(event.Records.map((r) => r.body));
      if (calls === 1) throw new Error('worker crashed');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] };
      return { batchItemFailures: [] };
    });
    await sendBodies(sqs.queues.notify.url, ['"x"', '"y"']);
    await waitFor(() => calls >= 3);
    // The same two records came back each time: nothing was deleted until the third call succeeded.
    expect(seen.slice(0, 3).map((s) => [...s].sort())).toEqual([
      ['"x"', '"y"'],
      ['"x"', '"y"'],
      ['"x"', '"y"'],
    ]);
    await waitFor(async () => {
      const v = await sqs.inspect('qiye-bridge-test-notify');
      return v && v.messages.ready.length + v.messages.inflight.length === 0;
    });
  });

  it('waits for an invocation in progress when stopped', async () => {
    let finished = false;
    pollNotify(async () => {
      await new Promise((r) => setTimeout(r, 500));
      finished = true;
    });
    await sendBodies(sqs.queues.notify.url, ['"slow"']);
    await waitFor(async () => (await sqs.inspect('qiye-bridge-test-notify'))?.messages.inflight.length === 1);
    await poller!.stop();
    expect(finished).toBe(true);
    expect((await sqs.inspect('qiye-bridge-test-notify'))?.messages.inflight).toHaveLength(0);
  });
});

describe('queue snapshot', () => {
  it('saves ready, delayed and in-flight messages and re-sends them into fresh queues', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qiye-snap-'));
    const file = join(dir, 'queues.json');
    const sync = sqs.queues.sync;
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: sync.url, MessageBody: '{"op":"ready"}', MessageAttributes: { kind: { DataType: 'String', StringValue: 'k1' } } }),
    );
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sync.url, MessageBody: '{"op":"delayed"}', DelaySeconds: 600 }));
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sync.url, MessageBody: '{"op":"inflight"}' }));
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sync.dlqUrl, MessageBody: '{"op":"dead"}' }));
    // Take the in-flight one (and maybe the ready one) off the queue without deleting it.
    await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sync.url, MaxNumberOfMessages: 10 }));

    expect(await snapshotQueues(sqs, file)).toBe(4);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).queues['qiye-bridge-test-sync']).toHaveLength(3);
    await sqs.stop();

    sqs = await startQueues({ port: 0, stage: 'test' });
    const restored = await restoreQueues(sqs, file);
    expect(restored).toEqual({ 'qiye-bridge-test-sync': 3, 'qiye-bridge-test-sync-dlq': 1 });
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    const view = (await sqs.inspect('qiye-bridge-test-sync'))!;
    expect(view.messages.ready.map((m) => m.body).sort()).toEqual(['{"op":"inflight"}', '{"op":"ready"}']);
    expect(view.messages.ready.find((m) => m.body === '{"op":"ready"}')?.messageAttributes.kind?.StringValue).toBe('k1');
    expect(view.messages.delayed.map((m) => m.body)).toEqual(['{"op":"delayed"}']);
    // The delay continues rather than restarting from zero or being dropped.
    const until = view.messages.delayed[0]!.delayUntil! - Date.now();
    expect(until).toBeGreaterThan(500_000);
    expect(until).toBeLessThanOrEqual(601_000);
    expect((await sqs.inspect('qiye-bridge-test-sync-dlq'))!.messages.ready.map((m) => m.body)).toEqual(['{"op":"dead"}']);
  });

  it('writes no file when every queue is empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qiye-snap-'));
    expect(await snapshotQueues(sqs, join(dir, 'queues.json'))).toBe(0);
    await expect(stat(join(dir, 'queues.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await restoreQueues(sqs, join(dir, 'queues.json'))).toEqual({});
  });
});
