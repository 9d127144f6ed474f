/** In-memory CacheStore with the semantics of DynamoCacheStore (same contract suite). */
import type { CacheStore } from '../../ports/cache-store';
import { MAX_ITEM_KEY_BYTES } from '../../ports/store-common';
import { assertKeyPart, assertName, assertTenant, assertTtlSeconds, expiresAtFor, isExpired, toJson } from '../../ports/store-validation';
import { key, MemoryStore } from './memory-common';

export class MemoryCacheStore extends MemoryStore implements CacheStore {
  private readonly items = new Map<string, { json: string; expiresAt: number }>();

  async get(tenantId: string, namespace: string, k: string): Promise<unknown> {
    check(tenantId, namespace, k);
    const item = this.items.get(key(tenantId, namespace, k));
    if (!item || isExpired(item.expiresAt, this.clock.now())) return undefined;
    return JSON.parse(item.json);
  }

  async put(tenantId: string, namespace: string, k: string, value: unknown, ttlSeconds: number): Promise<void> {
    check(tenantId, namespace, k);
    assertTtlSeconds(ttlSeconds);
    this.items.set(key(tenantId, namespace, k), { json: toJson('cache value', value), expiresAt: expiresAtFor(this.clock.now(), ttlSeconds) });
  }

  async delete(tenantId: string, namespace: string, k: string): Promise<void> {
    check(tenantId, namespace, k);
    this.items.delete(key(tenantId, namespace, k));
  }
}

function check(tenantId: string, namespace: string, k: string): void {
  assertTenant(tenantId);
  assertName('namespace', namespace);
  assertKeyPart('key', k, MAX_ITEM_KEY_BYTES);
}
