import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/aws/dynamodb-client';
import { SecretsManagerSecretStore } from '../../shared/adapters/aws/secrets-manager.secret-store';
import { SqsJobQueue } from '../../shared/adapters/aws/sqs.job-queue';
import { createTableInput } from '../../shared/adapters/aws/table-definition';
import { AppError, ConfigError, UpstreamError } from '../../shared/errors/app-error';
import { startDynalite, type RunningDynalite } from '../../local/dynamodb';
import { startQueues, type RunningQueues } from '../../local/queues';
import { startSecretsManagerStub } from '../fixtures/secrets-manager-stub';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

describe('createDocumentClient (against dynalite)', () => {
  let dyn: RunningDynalite;
  beforeAll(async () => {
    dyn = await startDynalite({ port: 0 });
    const raw = new DynamoDBClient({ endpoint: dyn.endpoint, region, credentials: creds });
    await raw.send(new CreateTableCommand(createTableInput('qiye-bridge-test')));
    raw.destroy();
  });
  afterAll(async () => dyn?.stop());

  it('writes items with undefined attributes and reads them back through the index', async () => {
    const doc = createDocumentClient({ endpoint: dyn.endpoint, region, credentials: creds });
    await doc.send(
      new PutCommand({
        TableName: 'qiye-bridge-test',
        Item: { pk: 'T#acme#MAP#user', sk: 'src#u1', gsi1pk: 'T#acme#NE#user', gsi1sk: 'zhang.san', name: '张三', title: undefined, n: 3 },
      }),
    );
    const got = await doc.send(new GetCommand({ TableName: 'qiye-bridge-test', Key: { pk: 'T#acme#MAP#user', sk: 'src#u1' } }));
    expect(got.Item).toEqual({ pk: 'T#acme#MAP#user', sk: 'src#u1', gsi1pk: 'T#acme#NE#user', gsi1sk: 'zhang.san', name: '张三', n: 3 });
    const q = await doc.send(
      new QueryCommand({ TableName: 'qiye-bridge-test', IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': 'T#acme#NE#user' } }),
    );
    expect(q.Items?.map((i) => i.sk)).toEqual(['src#u1']);
    doc.destroy();
  });

  it('takes its endpoint from AWS_ENDPOINT_URL_DYNAMODB', async () => {
    const doc = createDocumentClient({ env: { AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint }, region, credentials: creds });
    const got = await doc.send(new GetCommand({ TableName: 'qiye-bridge-test', Key: { pk: 'T#acme#MAP#user', sk: 'src#u1' } }));
    expect(got.Item?.name).toBe('张三');
    doc.destroy();
  });
});

describe('SqsJobQueue (against fauxqs)', () => {
  let sqs: RunningQueues;
  let client: SQSClient;
  const batchSizes: number[] = [];

  beforeAll(async () => {
    sqs = await startQueues({ port: 0, stage: 'adapter' });
    client = new SQSClient({ endpoint: sqs.endpoint, region, credentials: creds });
    // Observe (not replace) what goes over the wire.
    const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
    (client as unknown as { send: (c: { input: { Entries?: unknown[] } }) => Promise<unknown> }).send = (cmd) => {
      if (cmd.input.Entries) batchSizes.push(cmd.input.Entries.length);
      return send(cmd);
    };
  });
  afterAll(async () => {
    client?.destroy();
    await sqs?.stop();
  });
  beforeEach(() => {
    batchSizes.length = 0;
  });

  async function drain(url: string): Promise<Message[]> {
    const all: Message[] = [];
    for (;;) {
      const out = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
      if (!out.Messages?.length) return all;
      all.push(...out.Messages);
    }
  }

  it('sends every message as JSON in batches of at most 10, to the URL named by QUEUE_URL_SYNC', async () => {
    const jobs = new SqsJobQueue({ client, env: { QUEUE_URL_SYNC: sqs.queues.sync.url } });
    const messages = Array.from({ length: 23 }, (_, i) => ({ body: { v: 1, op: `op-${i}`, name: '李四' } }));
    await jobs.send('sync', messages);
    expect(batchSizes).toEqual([10, 10, 3]);
    const got = await drain(sqs.queues.sync.url);
    expect(got.map((m) => JSON.parse(m.Body!)).sort((a, b) => a.op.localeCompare(b.op, 'en', { numeric: true }))).toEqual(messages.map((m) => m.body));
  });

  it('splits batches that would exceed 256 KiB', async () => {
    const jobs = new SqsJobQueue({ client, queueUrls: { sync: sqs.queues.sync.url } });
    const big = 'x'.repeat(100 * 1024);
    await jobs.send('sync', Array.from({ length: 5 }, (_, i) => ({ body: { i, big } })));
    expect(batchSizes).toEqual([2, 2, 1]);
    expect(await drain(sqs.queues.sync.url)).toHaveLength(5);
  });

  it('honours delaySeconds and refuses an out-of-range delay before sending anything', async () => {
    const jobs = new SqsJobQueue({ client, queueUrls: { sync: sqs.queues.sync.url } });
    await jobs.send('sync', [{ body: { later: true }, delaySeconds: 120 }]);
    expect((await sqs.inspect('qiye-bridge-adapter-sync'))!.messages.delayed.map((m) => m.body)).toEqual(['{"later":true}']);
    await expect(jobs.send('sync', [{ body: 1 }, { body: 2, delaySeconds: 901 }])).rejects.toMatchObject({ code: 'QUEUE.INVALID_MESSAGE' });
    expect(batchSizes).toEqual([1]);
  });

  it('reports a queue the function was not wired to as a configuration error', async () => {
    const jobs = new SqsJobQueue({ client, env: {} });
    await expect(jobs.send('callback', [{ body: {} }])).rejects.toBeInstanceOf(ConfigError);
    await expect(jobs.send('callback', [{ body: {} }])).rejects.toThrow(/QUEUE_URL_CALLBACK/);
  });

  it('throws a retryable error naming how many messages failed when a batch cannot be sent', async () => {
    const jobs = new SqsJobQueue({ client, queueUrls: { notify: sqs.queues.notify.url.replace('notify', 'no-such-queue') } });
    const err = await jobs.send('notify', Array.from({ length: 12 }, (_, i) => ({ body: i }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'QUEUE.SEND_FAILED', retryable: true, details: { failed: 12, total: 12 } });
    expect((err as Error).message).toContain('12 of 12');
  });

  it('counts entries SQS refuses, and does not retry sender faults', async () => {
    const jobs = new SqsJobQueue({ client, queueUrls: { notify: sqs.queues.notify.url } });
    // U+FFFF is not allowed in an SQS message body: SQS fails that entry alone.
    const err = await jobs.send('notify', [{ body: 'fine' }, { body: 'bad\uffff' }, { body: 'also fine' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'QUEUE.SEND_FAILED', retryable: false, details: { failed: 1, total: 3 } });
    expect((err as Error).message).toContain('1 of 3');
    expect((await drain(sqs.queues.notify.url)).map((m) => JSON.parse(m.Body!))).toEqual(expect.arrayContaining(['fine', 'also fine']));
  });
});

describe('SecretsManagerSecretStore (against a Secrets Manager stub over HTTP)', () => {
  let server: Server;
  let endpoint: string;
  const secrets = new Map<string, string>();
  const calls: Array<{ op: string; id: string }> = [];
  let denyAll = false;

  beforeAll(async () => {
    // Answers the JSON 1.1 protocol the real client speaks (toolchain.md §3).
    const stub = await startSecretsManagerStub(({ op, input }) => {
      const id = input.SecretId ?? input.Name ?? '';
      calls.push({ op, id });
      if (denyAll) return [400, { __type: 'AccessDeniedException', message: 'not authorized' }];
      if (op === 'GetSecretValue') {
        if (!secrets.has(id)) return [400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }];
        return [200, { ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}`, Name: id, SecretString: secrets.get(id), VersionId: 'v1' }];
      }
      if (op === 'PutSecretValue') {
        if (!secrets.has(id)) return [400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }];
        secrets.set(id, input.SecretString ?? '');
        return [200, { Name: id, VersionId: 'v2' }];
      }
      if (op === 'CreateSecret') {
        secrets.set(id, input.SecretString ?? '');
        return [200, { Name: id, VersionId: 'v1' }];
      }
      return [400, { __type: 'InvalidRequestException', message: `unsupported ${op}` }];
    });
    server = stub.server;
    endpoint = stub.endpoint;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    secrets.clear();
    calls.length = 0;
    denyAll = false;
  });

  const client = () => new SecretsManagerClient({ endpoint, region, credentials: creds, maxAttempts: 1 });

  it('reads a JSON secret and serves it from memory until the cache expires', async () => {
    // Powertools' SecretsProvider reads Date.now(): only Date is faked (the HTTP stub keeps real timers).
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    try {
      secrets.set('qiye-bridge/prod/acme/oa', JSON.stringify({ linkSecret: 'a-very-long-link-secret' }));
      const store = new SecretsManagerSecretStore({ client: client(), cacheTtlMs: 60_000 });
      expect(await store.getJson('qiye-bridge/prod/acme/oa')).toEqual({ linkSecret: 'a-very-long-link-secret' });
      vi.setSystemTime(1_000_000 + 59_000);
      expect(await store.getJson('qiye-bridge/prod/acme/oa')).toEqual({ linkSecret: 'a-very-long-link-secret' });
      expect(calls).toHaveLength(1);
      vi.setSystemTime(1_000_000 + 61_000);
      secrets.set('qiye-bridge/prod/acme/oa', JSON.stringify({ linkSecret: 'rotated-link-secret-value' }));
      expect(await store.getJson('qiye-bridge/prod/acme/oa')).toEqual({ linkSecret: 'rotated-link-secret-value' });
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives each caller its own copy of a cached value', async () => {
    secrets.set('qiye-bridge/prod/acme/oa', JSON.stringify({ linkSecret: 'a-very-long-link-secret' }));
    const store = new SecretsManagerSecretStore({ client: client() });
    const first = await store.getJson('qiye-bridge/prod/acme/oa');
    first!.linkSecret = 'changed by a caller';
    expect(await store.getJson('qiye-bridge/prod/acme/oa')).toEqual({ linkSecret: 'a-very-long-link-secret' });
    expect(calls).toHaveLength(1);
  });

  it('caches a missing secret too, and reads every time with a zero TTL', async () => {
    const store = new SecretsManagerSecretStore({ client: client() });
    expect(await store.getJson('qiye-bridge/prod/acme/ekp')).toBeUndefined();
    expect(await store.getJson('qiye-bridge/prod/acme/ekp')).toBeUndefined();
    expect(calls.map((c) => c.op)).toEqual(['GetSecretValue']);
    const uncached = new SecretsManagerSecretStore({ client: client(), cacheTtlMs: 0 });
    secrets.set('qiye-bridge/prod/acme/ekp', '{"a":1}');
    expect(await uncached.getJson('qiye-bridge/prod/acme/ekp')).toEqual({ a: 1 });
    expect(await uncached.getJson('qiye-bridge/prod/acme/ekp')).toEqual({ a: 1 });
    expect(calls).toHaveLength(3);
  });

  it('answers undefined for a missing or empty secret', async () => {
    const store = new SecretsManagerSecretStore({ client: client() });
    expect(await store.getJson('qiye-bridge/prod/acme/netease')).toBeUndefined();
    secrets.set('qiye-bridge/prod/acme/ekp', '');
    expect(await store.getJson('qiye-bridge/prod/acme/ekp')).toBeUndefined();
  });

  it('replaces a value, creates a secret that does not exist yet, and reads its own write without a call', async () => {
    secrets.set('qiye-bridge/prod/acme/netease', '{}');
    const store = new SecretsManagerSecretStore({ client: client() });
    await store.putJson('qiye-bridge/prod/acme/netease', { privateKeyHex: 'ab'.repeat(40) });
    await store.putJson('qiye-bridge/prod/beta/netease', { privateKeyHex: 'cd'.repeat(40) });
    expect(JSON.parse(secrets.get('qiye-bridge/prod/acme/netease')!)).toEqual({ privateKeyHex: 'ab'.repeat(40) });
    expect(JSON.parse(secrets.get('qiye-bridge/prod/beta/netease')!)).toEqual({ privateKeyHex: 'cd'.repeat(40) });
    expect(calls.map((c) => c.op)).toEqual(['PutSecretValue', 'PutSecretValue', 'CreateSecret']);
    expect(await store.getJson('qiye-bridge/prod/beta/netease')).toEqual({ privateKeyHex: 'cd'.repeat(40) });
    expect(calls).toHaveLength(3);
  });

  it('never puts a value into an error', async () => {
    secrets.set('qiye-bridge/prod/acme/oa', '{"linkSecret": "s3cr3t-VALUE-here"'); // truncated JSON
    const store = new SecretsManagerSecretStore({ client: client() });
    const err = await store.getJson('qiye-bridge/prod/acme/oa').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SECRET.INVALID_JSON' });
    expect((err as Error).message).toContain('qiye-bridge/prod/acme/oa');
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('VALUE');
    expect((err as Error).cause).toBeUndefined();
  });

  it('reports access denied as a non-retryable upstream error naming the secret', async () => {
    denyAll = true;
    const store = new SecretsManagerSecretStore({ client: client() });
    const err = await store.getJson('qiye-bridge/prod/acme/oa').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ retryable: false, vendor: 'aws' });
    expect((err as Error).message).toMatch(/qiye-bridge\/prod\/acme\/oa.*AccessDeniedException/);
  });
});
