/**
 * LockStore on the single table: one item per tenant and lock name (`T#{t}#LOCK`).
 *
 * The lease is `leaseUntil` (ms) and every decision is a condition on it with the caller's
 * clock, so an expired lease is free even though dynalite never deletes it and AWS TTL
 * deletes it late. `expiresAt` is set a day after the lease only so TTL collects
 * abandoned lock items.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { AcquireResult, Lease, LockStore } from '../../ports/lock-store';
import { assertKeyPart, assertName, assertPositiveInt, assertTenant, expiresAtFor } from '../../ports/store-validation';
import { DynamoStore, fromItem, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

const MAX_LEASE_MS = 24 * 3600 * 1000;
const GC_SECONDS = 24 * 3600;

export class DynamoLockStore extends DynamoStore implements LockStore {
  async acquire(tenantId: string, name: string, owner: string, ttlMs: number): Promise<AcquireResult> {
    check(tenantId, name, owner);
    assertPositiveInt('ttlMs', ttlMs, MAX_LEASE_MS);
    // Two attempts: if the condition fails but the lock is free when we look (released in
    // between), try once more; a second loss is reported as held.
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = this.table.clock.now();
      const lease: Lease = { tenantId, name, owner, acquiredAt: now, leaseUntil: now + ttlMs };
      const res = await this.table.write(
        'lock acquire',
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.lock(tenantId, name), ...lease, expiresAt: expiresAtFor(lease.leaseUntil, GC_SECONDS) },
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#until': 'leaseUntil', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
      if (res.ok) return { acquired: true, lease };
      const heldBy = await this.get(tenantId, name);
      if (heldBy) return { acquired: false, heldBy };
    }
    return { acquired: false };
  }

  async renew(tenantId: string, name: string, owner: string, ttlMs: number): Promise<boolean> {
    check(tenantId, name, owner);
    assertPositiveInt('ttlMs', ttlMs, MAX_LEASE_MS);
    const now = this.table.clock.now();
    const res = await this.table.write(
      'lock renew',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.lock(tenantId, name),
        UpdateExpression: 'SET #until = :until, expiresAt = :exp',
        // Only an unexpired lease of ours: once it ran out, someone else may hold the tenant.
        ConditionExpression: '#owner = :owner AND #until > :now',
        ExpressionAttributeNames: { '#until': 'leaseUntil', '#owner': 'owner' },
        ExpressionAttributeValues: { ':until': now + ttlMs, ':exp': expiresAtFor(now + ttlMs, GC_SECONDS), ':owner': owner, ':now': now },
      }),
    );
    return res.ok;
  }

  async release(tenantId: string, name: string, owner: string): Promise<boolean> {
    check(tenantId, name, owner);
    const res = await this.table.write(
      'lock release',
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: keys.lock(tenantId, name),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
    return res.ok;
  }

  async get(tenantId: string, name: string): Promise<Lease | undefined> {
    assertTenant(tenantId);
    assertName('lock name', name);
    const out = await this.table.send<GetCommandOutput>('lock get', new GetCommand({ TableName: this.table.tableName, Key: keys.lock(tenantId, name), ConsistentRead: true }));
    const item = out.Item;
    if (!item || (item.leaseUntil as number) <= this.table.clock.now()) return undefined;
    return toLease(item);
  }
}

function check(tenantId: string, name: string, owner: string): void {
  assertTenant(tenantId);
  assertName('lock name', name);
  assertKeyPart('owner', owner, 128);
}

function toLease(item: Item): Lease {
  return fromItem<Lease>(item, ['tenantId', 'name', 'owner', 'acquiredAt', 'leaseUntil']);
}
