/**
 * In-memory OnceStore with the semantics of DynamoOnceStore (same contract suite): each
 * branch below is one of the Dynamo adapter's conditional writes, in the same order.
 */
import { randomUUID } from 'node:crypto';
import type { OnceBegin, OnceRecord, OnceStore } from '../../ports/once-store';
import { DEFAULT_ONCE_TTL_SECONDS, MAX_ITEM_KEY_BYTES } from '../../ports/store-common';
import { assertKeyPart, assertName, assertPositiveInt, assertTenant, assertTtlSeconds, expiresAtFor, isExpired, toJson } from '../../ports/store-validation';
import { copy, key, MemoryStore } from './memory-common';

interface OnceItem extends Omit<OnceRecord, 'result'> {
  token?: string;
  resultJson?: string;
}

export class MemoryOnceStore extends MemoryStore implements OnceStore {
  private readonly items = new Map<string, OnceItem>();

  async claim(tenantId: string, namespace: string, k: string, ttlSeconds: number): Promise<boolean> {
    check(tenantId, namespace, k);
    assertTtlSeconds(ttlSeconds);
    const now = this.clock.now();
    if (this.live(tenantId, namespace, k, now)) return false;
    this.items.set(key(tenantId, namespace, k), { tenantId, namespace, key: k, state: 'claimed', claimedAt: now, attempts: 1, expiresAt: expiresAtFor(now, ttlSeconds) });
    return true;
  }

  async begin(tenantId: string, namespace: string, k: string, options: { leaseSeconds: number; ttlSeconds?: number }): Promise<OnceBegin> {
    check(tenantId, namespace, k);
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_ONCE_TTL_SECONDS;
    assertTtlSeconds(ttlSeconds);
    assertPositiveInt('leaseSeconds', options.leaseSeconds, ttlSeconds);
    const now = this.clock.now();
    const token = randomUUID();
    const leaseUntil = now + options.leaseSeconds * 1000;
    const current = this.live(tenantId, namespace, k, now);
    if (!current) {
      this.items.set(key(tenantId, namespace, k), { tenantId, namespace, key: k, state: 'pending', token, leaseUntil, claimedAt: now, attempts: 1, expiresAt: expiresAtFor(now, ttlSeconds) });
      return { status: 'acquired', token, attempt: 1 };
    }
    if (current.state === 'pending') {
      if ((current.leaseUntil ?? 0) > now) return { status: 'busy', leaseUntil: current.leaseUntil ?? 0 };
      current.token = token;
      current.leaseUntil = leaseUntil;
      current.attempts += 1;
      return { status: 'acquired', token, attempt: current.attempts };
    }
    return { status: 'completed', result: parse(current.resultJson) };
  }

  async complete(tenantId: string, namespace: string, k: string, result: unknown, options: { ttlSeconds?: number } = {}): Promise<{ first: boolean; result: unknown }> {
    check(tenantId, namespace, k);
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_ONCE_TTL_SECONDS;
    assertTtlSeconds(ttlSeconds);
    const resultJson = toJson('result', result);
    const now = this.clock.now();
    const expiresAt = expiresAtFor(now, ttlSeconds);
    const current = this.live(tenantId, namespace, k, now);
    if (current && current.state === 'completed') return { first: false, result: parse(current.resultJson) };
    if (current) {
      current.state = 'completed';
      current.resultJson = resultJson;
      current.completedAt = now;
      current.expiresAt = expiresAt;
      delete current.token;
      delete current.leaseUntil;
    } else {
      this.items.set(key(tenantId, namespace, k), { tenantId, namespace, key: k, state: 'completed', claimedAt: now, attempts: 1, completedAt: now, resultJson, expiresAt });
    }
    return { first: true, result: JSON.parse(resultJson) };
  }

  async release(tenantId: string, namespace: string, k: string, token: string): Promise<boolean> {
    check(tenantId, namespace, k);
    assertKeyPart('token', token, 64);
    const current = this.items.get(key(tenantId, namespace, k));
    if (!current || current.state !== 'pending' || current.token !== token) return false;
    this.items.delete(key(tenantId, namespace, k));
    return true;
  }

  async get(tenantId: string, namespace: string, k: string): Promise<OnceRecord | undefined> {
    check(tenantId, namespace, k);
    const current = this.live(tenantId, namespace, k, this.clock.now());
    if (!current) return undefined;
    const { token: _token, resultJson, ...rest } = current;
    const record: OnceRecord = copy(rest);
    if (resultJson !== undefined) record.result = JSON.parse(resultJson);
    return record;
  }

  private live(tenantId: string, namespace: string, k: string, now: number): OnceItem | undefined {
    const item = this.items.get(key(tenantId, namespace, k));
    return item && !isExpired(item.expiresAt, now) ? item : undefined;
  }
}

function parse(json: string | undefined): unknown {
  return json === undefined ? undefined : JSON.parse(json);
}

function check(tenantId: string, namespace: string, k: string): void {
  assertTenant(tenantId);
  assertName('namespace', namespace);
  assertKeyPart('key', k, MAX_ITEM_KEY_BYTES);
}
