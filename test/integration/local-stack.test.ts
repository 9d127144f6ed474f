import { execFile } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort } from '../support/free-port';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createTableInput } from '../../shared/adapters/aws/table-definition';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { newRunId } from '../../shared/ports/run-store';
import { ConfigError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { FUNCTIONS, QUEUES, type FunctionName } from '../../shared/contracts/app-manifest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { startDynalite } from '../../local/dynamodb';
import type { LambdaHandler } from '../../local/lambda-invoke';
import type { SimulatorModule, SimulatorStartOptions } from '../../local/simulators/simulator';
import { tempDirs } from '../support/temp-dirs';

const RANDOM_PORTS = { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 };
// config/tenants.local.json points at fixed simulator ports (3101-3104); tests must not take them.
const NO_SIMULATORS: SimulatorModule[] = [];
let running: LocalStack | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const mkdtemp = tempDirs();

async function healthWithin(url: string, ms: number): Promise<{ status: number; body: any }> {
  const end = Date.now() + ms;
  let last: { status: number; body: any } = { status: 0, body: undefined };
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      last = { status: res.status, body: await res.json() };
      if (res.status === 200) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

describe('the local stack', () => {
  it('reports a sync run stuck with no progress as degraded on /health', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    running = await startLocalStack({ dataDir, env: { QIYE_SYNC_STUCK_SECONDS: '1' }, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: NO_SIMULATORS, logger: createMemoryLogger('warn') });
    expect((await healthWithin(running.urls.health, 20_000)).status).toBe(200);
    const stores = createDynamoStateStores(running.clients.documents, running.tableName);
    const runId = newRunId(Date.now());
    await stores.locks.acquire('sandbox', 'sync', runId, 30 * 60_000);
    await stores.runs.create({ runId, tenantId: 'sandbox', source: 'ekp', trigger: 'schedule', mode: 'full', dryRun: false, startedAt: Date.now() });
    expect((await fetch(running.urls.health)).status).toBe(200); // not stuck yet
    await new Promise((r) => setTimeout(r, 1200));
    const res = await fetch(running.urls.health);
    const body = (await res.json()) as any;
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.checks.runs).toMatchObject({ ok: false, stuck: [{ tenant: 'sandbox', runId, status: 'planning', progress: expect.stringMatching(/STUCK/) }] });
  });

  it('starts healthy, and a second start keeps the table contents and the queued messages', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    // Real handler modules (whatever their state): this test relies only on /health.
    running = await startLocalStack({ dataDir, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: NO_SIMULATORS, logger: createMemoryLogger('warn') });
    const health = await healthWithin(running.urls.health, 20_000);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(running.table).toBe('created');

    const desc = await running.clients.dynamodb.send(new DescribeTableCommand({ TableName: 'qiye-bridge-local' }));
    expect(desc.Table?.KeySchema).toEqual(createTableInput('x').KeySchema);
    expect(desc.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['gsi1']);
    const listed = await running.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'qiye-bridge-local-' }));
    const names = (listed.QueueUrls ?? []).map((u) => u.split('/').pop()).sort();
    expect(names).toEqual(Object.keys(QUEUES).flatMap((q) => [`qiye-bridge-local-${q}`, `qiye-bridge-local-${q}-dlq`]).sort());
    for (const q of Object.keys(QUEUES)) expect(Object.keys(health.body.checks.queues)).toContain(`qiye-bridge-local-${q}-dlq`);

    // Handlers see the environment the stack set up.
    expect(process.env.TABLE_NAME).toBe('qiye-bridge-local');
    expect(process.env.QUEUE_URL_SYNC).toBe(running.queues.sync.url);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(running.urls.dynamodb);
    expect(process.env.QIYE_SECRETS_FILE).toBe(join(dataDir, 'secrets.json'));
    expect(process.env.QIYE_STAGE).toBe('local');

    await running.clients.documents.send(new PutCommand({ TableName: 'qiye-bridge-local', Item: { pk: 'T#sandbox#TEST', sk: 'kept', v: 42 } }));
    // Pollers are off here, and DLQs are never polled: both queues keep their messages.
    await running.clients.sqs.send(new SendMessageCommand({ QueueUrl: running.queues.notify.url, MessageBody: '{"v":1,"left":"in notify"}' }));
    await running.clients.sqs.send(new SendMessageCommand({ QueueUrl: running.queues.sync.dlqUrl, MessageBody: '{"v":1,"left":"in the dlq"}' }));
    await running.clients.secrets.putJson('qiye-bridge/local/sandbox/oa', { linkSecret: 'sixteen-characters!' });
    await running.stop();
    running = undefined;
    expect((await stat(join(dataDir, 'queues.json'))).isFile()).toBe(true);

    running = await startLocalStack({ dataDir, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: NO_SIMULATORS, logger: createMemoryLogger('warn') });
    expect(running.table).toBe('exists');
    expect((await healthWithin(running.urls.health, 20_000)).status).toBe(200);
    const item = await running.clients.documents.send(new GetCommand({ TableName: 'qiye-bridge-local', Key: { pk: 'T#sandbox#TEST', sk: 'kept' } }));
    expect(item.Item?.v).toBe(42);
    expect(running.restoredMessages).toEqual({ 'qiye-bridge-local-notify': 1, 'qiye-bridge-local-sync-dlq': 1 });
    expect((await running.clients.sqs.send(new ListQueuesCommand({}))).QueueUrls).toContain(running.queues.notify.url);
    const notify = await fetch(`${running.urls.sqs}/_fauxqs/queues/qiye-bridge-local-notify`).then((r) => r.json() as Promise<any>);
    expect(notify.messages.ready.map((m: { body: string }) => m.body)).toEqual(['{"v":1,"left":"in notify"}']);
    const dlq = await fetch(`${running.urls.sqs}/_fauxqs/queues/qiye-bridge-local-sync-dlq`).then((r) => r.json() as Promise<any>);
    expect(dlq.messages.ready.map((m: { body: string }) => m.body)).toEqual(['{"v":1,"left":"in the dlq"}']);
    expect(await running.clients.secrets.getJson('qiye-bridge/local/sandbox/oa')).toEqual({ linkSecret: 'sixteen-characters!' });
  });

  it('wires routes, queue consumers and schedules to the injected handlers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const calls: Array<{ fn: FunctionName; event: any }> = [];
    const record = (fn: FunctionName): LambdaHandler => async (event) => {
      calls.push({ fn, event });
      return fn === 'sso' ? { statusCode: 302, headers: { location: 'http://127.0.0.1:3101/x' } } : { batchItemFailures: [] };
    };
    const handlersOverride = Object.fromEntries(Object.keys(FUNCTIONS).map((fn) => [fn, record(fn as FunctionName)]));
    running = await startLocalStack({ dataDir, ports: RANDOM_PORTS, schedule: false, simulators: NO_SIMULATORS, handlersOverride, logger: createMemoryLogger('warn') });

    const viaGateway = await fetch(`${running.urls.gateway}/sso/sandbox?x=1`, { redirect: 'manual' });
    expect(viaGateway.status).toBe(302);
    expect(calls.at(-1)).toMatchObject({ fn: 'sso', event: { routeKey: 'GET /sso/{tenant}', pathParameters: { tenant: 'sandbox' } } });
    const viaUrl = await fetch(`${running.urls.functionUrl}/sso/sandbox`, { redirect: 'manual' });
    expect(viaUrl.status).toBe(302);
    expect(calls.at(-1)).toMatchObject({ fn: 'sso', event: { routeKey: '$default', rawPath: '/sso/sandbox' } });

    await running.clients.sqs.send(new SendMessageCommand({ QueueUrl: running.queues.callback.url, MessageBody: '{"v":1}' }));
    const end = Date.now() + 15_000;
    while (!calls.some((c) => c.fn === 'callbackWorker') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const worker = calls.find((c) => c.fn === 'callbackWorker');
    expect(worker?.event.Records[0]).toMatchObject({ body: '{"v":1}', eventSource: 'aws:sqs', eventSourceARN: running.queues.callback.arn });

    const res = await fetch(`${running.urls.gateway}/_local/trigger/syncPlanner`, { method: 'POST' });
    expect(res.status).toBe(200);
    const scheduled = calls.find((c) => c.fn === 'syncPlanner')?.event as ScheduledEvent;
    expect(scheduled).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}, version: '0' });
    expect(scheduled.resources[0]).toMatch(/^arn:aws:events:us-east-1:000000000000:rule\//);
    expect(scheduled.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await expect(running.trigger('syncPlanner')).resolves.toEqual({ batchItemFailures: [] });
  });

  it('starts the simulators that tenants point at, on the port of their URL', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const port = await freePort();
    const tenantsFile = join(dataDir, 'tenants.json');
    await writeFile(
      tenantsFile,
      JSON.stringify({
        tenants: [
          { id: 'one', netease: { domain: 'one.example.com', product: 'p1', region: 'hz', apiBaseUrl: `http://127.0.0.1:${port}/qiyeservice/api` } },
          { id: 'two', netease: { domain: 'two.example.com', product: 'p2', region: 'hz', apiBaseUrl: `http://127.0.0.1:${port}/qiyeservice/api` } },
          { id: 'real', netease: { domain: 'real.example.com', product: 'p3', region: 'hz' } },
        ],
      }),
    );
    const started: SimulatorStartOptions[] = [];
    let stopped = 0;
    const fake: SimulatorModule = {
      vendor: 'netease',
      start: async (opts) => {
        started.push(opts);
        return { vendor: 'netease', url: `http://${opts.host}:${opts.port}`, port: opts.port, stop: async () => void (stopped += 1) };
      },
    };
    const unused: SimulatorModule = { vendor: 'wecom', start: async () => Promise.reject(new Error('no tenant uses wecom')) };
    running = await startLocalStack({ dataDir, tenantsFile, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: [fake, unused], logger: createMemoryLogger('warn') });
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ host: '127.0.0.1', port, stage: 'local' });
    expect(started[0]!.tenants.map((t) => t.id)).toEqual(['one', 'two']);
    expect(started[0]!.secrets).toBe(running.clients.secrets);
    expect(running.urls.simulators).toEqual([{ vendor: 'netease', url: `http://127.0.0.1:${port}`, tenants: ['one', 'two'] }]);
    await running.stop();
    running = undefined;
    expect(stopped).toBe(1);
  });

  it('reports a taken port by its variable, undoes what it started, and can start right after', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const err = await startLocalStack({ dataDir, ports: { ...RANDOM_PORTS, functionUrl: taken }, simulators: NO_SIMULATORS, logger: createMemoryLogger('error') }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'LOCAL.LISTEN_FAILED' });
      expect((err as Error).message).toContain(`port ${taken} is already in use`);
      expect((err as Error).message).toContain('QIYE_SSO_PORT');
    } finally {
      blocker.close();
    }
    // dynalite released its LevelDB lock and the queues were closed: the same data folder starts.
    running = await startLocalStack({ dataDir, ports: RANDOM_PORTS, schedule: false, simulators: NO_SIMULATORS, logger: createMemoryLogger('warn') });
    expect((await healthWithin(running.urls.health, 20_000)).status).toBe(200);
  });

  it('refuses a stored table whose keys or indexes differ from the definition', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const dyn = await startDynalite({ path: join(dataDir, 'dynamodb'), port: 0 });
    const raw = new DynamoDBClient({ endpoint: dyn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await raw.send(
      new CreateTableCommand({
        TableName: 'qiye-bridge-local',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    raw.destroy();
    await dyn.stop();
    const err = await startLocalStack({ dataDir, ports: RANDOM_PORTS, logger: createMemoryLogger('error') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCAL.TABLE_MISMATCH' });
    expect((err as Error).message).toContain('key schema is pk:HASH, expected pk:HASH,sk:RANGE');
    expect((err as Error).message).toContain('index gsi1 is missing');
    expect((err as Error).message).toContain(join(dataDir, 'dynamodb'));
  });

  it('refuses to start with an invalid tenants file, listing every problem, and starts nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const bad = join(dir, 'bad-tenants.json');
    await writeFile(bad, JSON.stringify({ tenants: [{ id: 'X', netease: { domain: 'not a domain', region: 'mars' } }] }));
    const dataDir = join(dir, 'data');
    const err = await startLocalStack({ dataDir, tenantsFile: bad, ports: RANDOM_PORTS, logger: createMemoryLogger('warn') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => p.path);
    expect(problems).toEqual(expect.arrayContaining(['tenants[0].id', 'tenants[0].netease.domain', 'tenants[0].netease.product', 'tenants[0].netease.region']));
    await expect(stat(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('`npm start` (local/start.ts) exits 1 and prints every problem of a bad tenants file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qiye-stack-'));
    const bad = join(dir, 'bad-tenants.json');
    await writeFile(bad, JSON.stringify({ tenants: [{ id: 'ok-id', netease: { domain: 'acme.com', product: '', region: 'hz' }, sync: { source: 'ekp' } }] }));
    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(
        resolve('node_modules/.bin/tsx'),
        ['local/start.ts'],
        { env: { ...process.env, QIYE_TENANTS_FILE: bad, QIYE_DATA_DIR: join(dir, 'data'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, timeout: 30_000 },
        (error, _stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The local stack did not start');
    expect(result.stderr).toContain(`${bad}: tenants[0].netease.product:`);
    expect(result.stderr).toContain(`${bad}: tenants[0].sync.source:`);
  });
});
