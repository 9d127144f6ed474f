/** The lock port: one lease per tenant and name (rules: store-common.ts). */


// ---------------------------------------------------------------------------------------
// 4. Locks
// ---------------------------------------------------------------------------------------

export interface Lease {
  tenantId: string;
  name: string;
  owner: string;
  /** When this owner last acquired the lease (ms). */
  acquiredAt: number;
  /** The lease ends at this instant (ms) unless renewed. */
  leaseUntil: number;
}

export type AcquireResult = { acquired: true; lease: Lease } | { acquired: false; heldBy?: Lease };

/**
 * Per-tenant lease locks (e.g. name `sync`) so two runs of one tenant never overlap.
 * Use the run id as owner: any worker of that run can renew or release it, and a crashed
 * run stops blocking the tenant once its lease runs out.
 */
export interface LockStore {
  /**
   * Take the lock if it is free, expired, or already ours (re-entrant: extends the lease).
   * @returns the lease, or who holds it.
   */
  acquire(tenantId: string, name: string, owner: string, ttlMs: number): Promise<AcquireResult>;
  /** Extend our unexpired lease to now + ttlMs. @returns false when we no longer hold it. */
  renew(tenantId: string, name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Release our lease (only ours). @returns false when we did not hold it. */
  release(tenantId: string, name: string, owner: string): Promise<boolean>;
  /** The current unexpired lease, if any. */
  get(tenantId: string, name: string): Promise<Lease | undefined>;
}
