/**
 * CacheStore on the single table: `T#{t}#CACHE#{namespace}` / `{key}`, value as a JSON
 * string, `expiresAt` (TTL) checked on every read because TTL deletion lags.
 * Reads are eventually consistent: for a cache, a value written a moment ago being missed
 * costs one upstream call, and the read costs half.
 */
import { DeleteCommand, GetCommand, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { CacheStore } from '../../ports/cache-store';
import { MAX_ITEM_KEY_BYTES } from '../../ports/store-common';
import { assertKeyPart, assertName, assertTenant, assertTtlSeconds, isExpired, toJson } from '../../ports/store-validation';
import { DynamoStore } from './dynamo-base.store';
import { keys } from './table-keys';

export class DynamoCacheStore extends DynamoStore implements CacheStore {
  async get(tenantId: string, namespace: string, key: string): Promise<unknown> {
    check(tenantId, namespace, key);
    const out = await this.table.send<GetCommandOutput>('cache get', new GetCommand({ TableName: this.table.tableName, Key: keys.cache(tenantId, namespace, key) }));
    const item = out.Item;
    if (!item || isExpired(item.expiresAt as number, this.table.clock.now()) || typeof item.valueJson !== 'string') return undefined;
    return JSON.parse(item.valueJson);
  }

  async put(tenantId: string, namespace: string, key: string, value: unknown, ttlSeconds: number): Promise<void> {
    check(tenantId, namespace, key);
    assertTtlSeconds(ttlSeconds);
    const valueJson = toJson('cache value', value);
    await this.table.putExpiring('cache put', { ...keys.cache(tenantId, namespace, key), valueJson }, ttlSeconds);
  }

  async delete(tenantId: string, namespace: string, key: string): Promise<void> {
    check(tenantId, namespace, key);
    await this.table.send('cache delete', new DeleteCommand({ TableName: this.table.tableName, Key: keys.cache(tenantId, namespace, key) }));
  }
}

function check(tenantId: string, namespace: string, key: string): void {
  assertTenant(tenantId);
  assertName('namespace', namespace);
  assertKeyPart('key', key, MAX_ITEM_KEY_BYTES);
}
