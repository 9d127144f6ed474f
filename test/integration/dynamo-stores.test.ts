import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapDynamoError } from '../../shared/adapters/aws/dynamo-base.store';
import { DynamoMappingStore } from '../../shared/adapters/aws/dynamo-mapping.store';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { keys } from '../../shared/adapters/aws/table-keys';
import { fixedClock } from '../../shared/ports/clock';
import { newRunId } from '../../shared/ports/run-store';
import type { StateStores } from '../../shared/ports/state-stores';
import { StateStoreError } from '../../shared/ports/store-common';
import { stateStoreContract, type TestClock } from '../contracts/state-stores.contract';
import { dynaliteTable, testDocumentClient } from '../support/dynalite-table';

const TABLE = 'qiye-bridge-test';
const db = dynaliteTable(TABLE);

stateStoreContract('dynamo (dynalite)', async () => {
  const clock = fixedClock(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  return { stores: createDynamoStateStores(db.doc, TABLE, { clock }), clock };
});

describe('dynamo adapters: what the contract cannot see', () => {
  let stores: StateStores;
  let clock: TestClock;
  beforeAll(() => {
    clock = fixedClock(Date.UTC(2024, 5, 1));
    stores = createDynamoStateStores(db.doc, TABLE, { clock });
  });

  const raw = async (key: { pk: string; sk: string }) => (await db.doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;

  it('escapes # in ids inside keys and puts the reverse view in gsi1', async () => {
    await stores.mappings.put({ tenantId: 'acme#1', source: 'ekp', objectType: 'person', sourceId: 'a#b', neteaseId: 'Li.Si', contentHash: 'h', status: 'active', lastRunId: 'r' });
    const item = await raw({ pk: 'T#acme%231#MAP#ekp#person', sk: 'a%23b' });
    expect(item).toMatchObject({ gsi1pk: 'T#acme%231#NE#person', gsi1sk: 'li.si#ekp#a%23b', sourceId: 'a#b', version: 1 });
  });

  it('writes expiresAt (epoch seconds) on every item that must expire, so AWS TTL deletes it', async () => {
    const t = 'ttl-tenant';
    const runId = newRunId(clock.now());
    const nowS = Math.ceil(clock.now() / 1000);
    await stores.runs.create({ runId, tenantId: t, trigger: 'cli', mode: 'full', dryRun: true, startedAt: clock.now() });
    await stores.runs.putResult({ tenantId: t, runId, objectType: 'person', sourceId: 'p1', operation: 'createAccount', outcome: 'applied', at: clock.now() });
    await stores.once.claim(t, 'nonce', 'n1', 300);
    await stores.cache.put(t, 'unread', 'u1', { count: 1 }, 60);
    await stores.plans.putBatch(t, runId, 0, { ops: [] });
    await stores.locks.acquire(t, 'sync', runId, 60_000);

    expect((await raw(keys.result(t, runId, 'person', 'p1', 'createAccount')))?.expiresAt).toBe(nowS + 30 * 24 * 3600);
    expect((await raw(keys.once(t, 'nonce', 'n1')))?.expiresAt).toBe(nowS + 300);
    expect((await raw(keys.cache(t, 'unread', 'u1')))?.expiresAt).toBe(nowS + 60);
    expect((await raw(keys.planBatch(t, runId, 0)))?.expiresAt).toBe(nowS + 30 * 24 * 3600);
    expect((await raw(keys.lock(t, 'sync')))?.expiresAt).toBeGreaterThan(nowS + 60);
    // Runs and mappings are kept.
    expect((await raw(keys.run(t, runId)))?.expiresAt).toBeUndefined();
  });

  it('splits a large plan document into chunks committed by a header', async () => {
    const t = 'plan-tenant';
    const runId = newRunId(clock.now());
    // ~1 MB of random base64 compresses to ~0.75 MB: at least 3 chunks of 350 KB.
    const big = { rows: Array.from({ length: 4000 }, (_, i) => ({ i, noise: randomBytes(192).toString('base64') })) };
    await stores.plans.putDocument(t, runId, 'plan', big);
    const head = await raw(keys.planDocument(t, runId, 'plan'));
    expect(head?.chunks).toBeGreaterThanOrEqual(3);
    expect(await stores.plans.getDocument(t, runId, 'plan')).toEqual(big);
    // Replacing it removes the old chunks.
    await stores.plans.putDocument(t, runId, 'plan', { small: true });
    const chunks = await db.doc.send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p AND begins_with(sk, :c)', ExpressionAttributeValues: { ':p': keys.planPartition(t, runId), ':c': 'D#plan#' } }),
    );
    expect(chunks.Items).toHaveLength(1);
  });

  it('reports a missing table as a non-retryable store error', async () => {
    const store = new DynamoMappingStore(db.doc, 'no-such-table');
    const err = await store.get({ tenantId: 't', source: 'ekp', objectType: 'person', sourceId: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err).toMatchObject({ code: 'STATE.TABLE_MISSING', retryable: false });
  });

  it('reports an unreachable store as retryable', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const client = testDocumentClient(`http://127.0.0.1:${port}`, 1);
    const err = await new DynamoMappingStore(client, TABLE).get({ tenantId: 't', source: 'ekp', objectType: 'person', sourceId: 'x' }).catch((e: unknown) => e);
    client.destroy();
    expect(err).toMatchObject({ code: 'STATE.UNAVAILABLE', retryable: true });
  });

  it('maps throttling and 5xx to retryable errors and rejected requests to non-retryable ones', () => {
    const sdk = (name: string, status: number) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });
    expect(mapDynamoError(sdk('ProvisionedThroughputExceededException', 400), 'put')).toMatchObject({ retryable: true, code: 'STATE.UNAVAILABLE' });
    expect(mapDynamoError(sdk('ThrottlingException', 400), 'put').retryable).toBe(true);
    expect(mapDynamoError(sdk('InternalServerError', 500), 'put').retryable).toBe(true);
    expect(mapDynamoError(sdk('SomethingNew', 503), 'put').retryable).toBe(true);
    expect(mapDynamoError(sdk('ValidationException', 400), 'put')).toMatchObject({ retryable: false, code: 'STATE.REQUEST_REJECTED' });
    expect(mapDynamoError(sdk('AccessDeniedException', 400), 'put')).toMatchObject({ retryable: false, code: 'STATE.ACCESS_DENIED' });
  });
});
