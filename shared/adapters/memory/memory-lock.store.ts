/** In-memory LockStore with the semantics of DynamoLockStore (same contract suite). */
import type { AcquireResult, Lease, LockStore } from '../../ports/lock-store';
import { assertKeyPart, assertName, assertPositiveInt, assertTenant } from '../../ports/store-validation';
import { copy, key, MemoryStore } from './memory-common';

const MAX_LEASE_MS = 24 * 3600 * 1000;

export class MemoryLockStore extends MemoryStore implements LockStore {
  private readonly leases = new Map<string, Lease>();

  async acquire(tenantId: string, name: string, owner: string, ttlMs: number): Promise<AcquireResult> {
    check(tenantId, name, owner);
    assertPositiveInt('ttlMs', ttlMs, MAX_LEASE_MS);
    const now = this.clock.now();
    const k = key(tenantId, name);
    const current = this.leases.get(k);
    // Free, expired, or ours (re-entrant): the same condition as the Dynamo put.
    if (current && current.leaseUntil > now && current.owner !== owner) return { acquired: false, heldBy: copy(current) };
    const lease: Lease = { tenantId, name, owner, acquiredAt: now, leaseUntil: now + ttlMs };
    this.leases.set(k, lease);
    return { acquired: true, lease: copy(lease) };
  }

  async renew(tenantId: string, name: string, owner: string, ttlMs: number): Promise<boolean> {
    check(tenantId, name, owner);
    assertPositiveInt('ttlMs', ttlMs, MAX_LEASE_MS);
    const now = this.clock.now();
    const current = this.leases.get(key(tenantId, name));
    if (!current || current.owner !== owner || current.leaseUntil <= now) return false;
    current.leaseUntil = now + ttlMs;
    return true;
  }

  async release(tenantId: string, name: string, owner: string): Promise<boolean> {
    check(tenantId, name, owner);
    const k = key(tenantId, name);
    const current = this.leases.get(k);
    if (!current || current.owner !== owner) return false;
    this.leases.delete(k);
    return true;
  }

  async get(tenantId: string, name: string): Promise<Lease | undefined> {
    assertTenant(tenantId);
    assertName('lock name', name);
    const current = this.leases.get(key(tenantId, name));
    return current && current.leaseUntil > this.clock.now() ? copy(current) : undefined;
  }
}

function check(tenantId: string, name: string, owner: string): void {
  assertTenant(tenantId);
  assertName('lock name', name);
  assertKeyPart('owner', owner, 128);
}
