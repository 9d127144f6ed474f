/**
 * OnceStore on the single table: one item per tenant, namespace and key
 * (`T#{t}#ONCE#{namespace}` / `{key}`), with `expiresAt` (TTL).
 *
 * Every step is one conditional write, and every condition re-checks expiry with our clock
 * (`expiresAt <= :nowSec` counts as absent), because dynalite never deletes expired items
 * and AWS TTL deletes them up to days late. When a condition fails we read the item
 * (strongly consistent) to tell "completed" from "busy"; if it vanished in between (expired,
 * released) we try again, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type GetCommandOutput, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { OnceBegin, OnceRecord, OnceStore } from '../../ports/once-store';
import { DEFAULT_ONCE_TTL_SECONDS, MAX_ITEM_KEY_BYTES, StateStoreError } from '../../ports/store-common';
import { assertKeyPart, assertName, assertPositiveInt, assertTenant, assertTtlSeconds, expiresAtFor, isExpired, nowSeconds, toJson } from '../../ports/store-validation';
import { DynamoStore, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

const ATTEMPTS = 3;

export class DynamoOnceStore extends DynamoStore implements OnceStore {
  async claim(tenantId: string, namespace: string, key: string, ttlSeconds: number): Promise<boolean> {
    check(tenantId, namespace, key);
    assertTtlSeconds(ttlSeconds);
    const now = this.table.clock.now();
    const res = await this.table.write(
      'once claim',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.once(tenantId, namespace, key), tenantId, namespace, key, state: 'claimed', claimedAt: now, attempts: 1, expiresAt: expiresAtFor(now, ttlSeconds) },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :nowSec',
        ExpressionAttributeValues: { ':nowSec': nowSeconds(now) },
      }),
    );
    return res.ok;
  }

  async begin(tenantId: string, namespace: string, key: string, options: { leaseSeconds: number; ttlSeconds?: number }): Promise<OnceBegin> {
    check(tenantId, namespace, key);
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_ONCE_TTL_SECONDS;
    assertTtlSeconds(ttlSeconds);
    assertPositiveInt('leaseSeconds', options.leaseSeconds, ttlSeconds);
    const k = keys.once(tenantId, namespace, key);
    for (let i = 0; i < ATTEMPTS; i++) {
      const now = this.table.clock.now();
      const token = randomUUID();
      const leaseUntil = now + options.leaseSeconds * 1000;
      // 1. Nobody has it (or the old record expired): a fresh pending record.
      const fresh = await this.table.write(
        'once begin',
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...k, tenantId, namespace, key, state: 'pending', token, leaseUntil, claimedAt: now, attempts: 1, expiresAt: expiresAtFor(now, ttlSeconds) },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :nowSec',
          ExpressionAttributeValues: { ':nowSec': nowSeconds(now) },
        }),
      );
      if (fresh.ok) return { status: 'acquired', token, attempt: 1 };
      // 2. A pending record whose holder's lease ran out (it crashed or timed out): take over.
      const takeover = await this.table.write<UpdateCommandOutput>(
        'once begin',
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: k,
          UpdateExpression: 'SET #token = :token, leaseUntil = :until ADD attempts :one',
          ConditionExpression: '#state = :pending AND leaseUntil <= :now AND expiresAt > :nowSec',
          ExpressionAttributeNames: { '#token': 'token', '#state': 'state' },
          ExpressionAttributeValues: { ':token': token, ':until': leaseUntil, ':one': 1, ':pending': 'pending', ':now': now, ':nowSec': nowSeconds(now) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (takeover.ok) return { status: 'acquired', token, attempt: (takeover.out.Attributes?.attempts as number | undefined) ?? 1 };
      // 3. Someone else holds it, or it is done.
      const current = await this.get(tenantId, namespace, key);
      if (!current) continue; // expired or released in between: try again
      if (current.state === 'pending') {
        if ((current.leaseUntil ?? 0) > this.table.clock.now()) return { status: 'busy', leaseUntil: current.leaseUntil ?? 0 };
        continue; // the lease ran out in between
      }
      // completed, or a plain claim of the same key (nothing to return): done before.
      return { status: 'completed', result: current.result };
    }
    throw contended(namespace);
  }

  async complete(tenantId: string, namespace: string, key: string, result: unknown, options: { ttlSeconds?: number } = {}): Promise<{ first: boolean; result: unknown }> {
    check(tenantId, namespace, key);
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_ONCE_TTL_SECONDS;
    assertTtlSeconds(ttlSeconds);
    const resultJson = toJson('result', result);
    const k = keys.once(tenantId, namespace, key);
    for (let i = 0; i < ATTEMPTS; i++) {
      const now = this.table.clock.now();
      const expiresAt = expiresAtFor(now, ttlSeconds);
      // 1. Our (or an overtaken holder's) live pending record, or a plain claim: store the result.
      const done = await this.table.write(
        'once complete',
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: k,
          UpdateExpression: 'SET #state = :completed, resultJson = :json, completedAt = :now, expiresAt = :exp REMOVE #token, leaseUntil',
          ConditionExpression: '#state IN (:pending, :claimed) AND expiresAt > :nowSec',
          ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
          ExpressionAttributeValues: { ':completed': 'completed', ':json': resultJson, ':now': now, ':exp': expiresAt, ':pending': 'pending', ':claimed': 'claimed', ':nowSec': nowSeconds(now) },
        }),
      );
      if (done.ok) return { first: true, result: JSON.parse(resultJson) };
      // 2. No live record at all (completed without begin, or after it expired): write one.
      const fresh = await this.table.write(
        'once complete',
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...k, tenantId, namespace, key, state: 'completed', claimedAt: now, attempts: 1, completedAt: now, resultJson, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :nowSec',
          ExpressionAttributeValues: { ':nowSec': nowSeconds(now) },
        }),
      );
      if (fresh.ok) return { first: true, result: JSON.parse(resultJson) };
      // 3. Completed before: the first result wins.
      const current = await this.get(tenantId, namespace, key);
      if (current?.state === 'completed') return { first: false, result: current.result };
    }
    throw contended(namespace);
  }

  async release(tenantId: string, namespace: string, key: string, token: string): Promise<boolean> {
    check(tenantId, namespace, key);
    assertKeyPart('token', token, 64);
    const res = await this.table.write(
      'once release',
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: keys.once(tenantId, namespace, key),
        ConditionExpression: '#state = :pending AND #token = :token',
        ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
        ExpressionAttributeValues: { ':pending': 'pending', ':token': token },
      }),
    );
    return res.ok;
  }

  async get(tenantId: string, namespace: string, key: string): Promise<OnceRecord | undefined> {
    check(tenantId, namespace, key);
    const out = await this.table.send<GetCommandOutput>(
      'once get',
      new GetCommand({ TableName: this.table.tableName, Key: keys.once(tenantId, namespace, key), ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || isExpired(item.expiresAt as number, this.table.clock.now())) return undefined;
    return toRecord(item);
  }
}

function check(tenantId: string, namespace: string, key: string): void {
  assertTenant(tenantId);
  assertName('namespace', namespace);
  assertKeyPart('key', key, MAX_ITEM_KEY_BYTES);
}

function contended(namespace: string): StateStoreError {
  return new StateStoreError('STATE.CONTENDED', `once ${namespace}: the record kept changing under us; retry`, { retryable: true });
}

function toRecord(item: Item): OnceRecord {
  const r: OnceRecord = {
    tenantId: item.tenantId as string,
    namespace: item.namespace as string,
    key: item.key as string,
    state: item.state as OnceRecord['state'],
    claimedAt: item.claimedAt as number,
    attempts: (item.attempts as number | undefined) ?? 1,
    expiresAt: item.expiresAt as number,
  };
  if (item.leaseUntil !== undefined) r.leaseUntil = item.leaseUntil as number;
  if (item.completedAt !== undefined) r.completedAt = item.completedAt as number;
  if (typeof item.resultJson === 'string') r.result = JSON.parse(item.resultJson);
  return r;
}
