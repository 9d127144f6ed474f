/** The once port: nonces, event dedup and operation idempotency (rules: store-common.ts). */


// ---------------------------------------------------------------------------------------
// 5. Once: nonces, event dedup, operation idempotency
// ---------------------------------------------------------------------------------------

/** Conventional namespaces: SSO nonces, vendor callback events, planned operations. */
export type OnceNamespace = 'nonce' | 'event' | 'op' | (string & {});

export interface OnceRecord {
  tenantId: string;
  namespace: string;
  key: string;
  /** `claimed`: a plain claim; `pending`: an operation in flight; `completed`: its result is stored. */
  state: 'claimed' | 'pending' | 'completed';
  claimedAt: number;
  /** Deliveries that took the lease of a pending operation (1 for the first). */
  attempts: number;
  /** While pending: the lease end (ms). */
  leaseUntil?: number;
  completedAt?: number;
  result?: unknown;
  expiresAt: number;
}

export type OnceBegin =
  /** Go ahead: we hold the operation's lease. Pass `token` to `release` if we give up cleanly. */
  | { status: 'acquired'; token: string; attempt: number }
  /** Done before: do nothing and answer with the first result. */
  | { status: 'completed'; result: unknown }
  /** Another delivery holds the lease: fail retryably and let the queue redeliver later. */
  | { status: 'busy'; leaseUntil: number };

/**
 * Things that must happen once.
 *
 * `claim` is a plain first-wins marker (SSO nonce, callback event id): true once, then
 * false until it expires. It has no "done" state: use it where the claimer cannot fail
 * afterwards in a way that needs a redelivery (a nonce is spent even if the login then
 * fails). Where processing may fail and the vendor will redeliver, use `begin` /
 * `complete` (and `release` on a clean failure) instead.
 *
 * `begin` / `complete` / `release` make an operation (NetEase call) idempotent across
 * duplicate SQS deliveries:
 * 1. `begin` takes a short lease. A second delivery while the lease holds gets `busy`;
 *    after `complete` every delivery gets `completed` with the first result (e.g. the
 *    created unit_id).
 * 2. If the holder crashes before `complete`, the lease runs out and the next delivery
 *    gets `acquired` again (attempt 2). So the guarantee is: at most one attempt at a time,
 *    one recorded result, but after a crash the operation may be attempted again. The
 *    operation itself must therefore tolerate a repeat (createAccount answering "exists"
 *    is looked up and treated as success). Choose a lease longer than the call's timeout
 *    with retries, so a slow but live holder is not overtaken.
 * 3. `complete` is first-wins: if an overtaken holder and its successor both complete, the
 *    first result stays and both callers get it back.
 * 4. `release` ends our lease early when the attempt failed before any effect (a refused
 *    or throttled call), so the redelivery need not wait for the lease.
 */
export interface OnceStore {
  /** @returns true the first time; false afterwards until `ttlSeconds` have passed. */
  claim(tenantId: string, namespace: OnceNamespace, key: string, ttlSeconds: number): Promise<boolean>;
  /** Start (or skip) an idempotent operation; see the interface doc. */
  begin(tenantId: string, namespace: OnceNamespace, key: string, options: { leaseSeconds: number; ttlSeconds?: number }): Promise<OnceBegin>;
  /**
   * Store the operation's result unless one is stored already (first wins); it lives
   * `ttlSeconds` (default 7 days) from now.
   * @returns the stored result and whether it was ours.
   */
  complete(tenantId: string, namespace: OnceNamespace, key: string, result: unknown, options?: { ttlSeconds?: number }): Promise<{ first: boolean; result: unknown }>;
  /** Give up our pending lease (only if `token` still holds it). @returns false otherwise. */
  release(tenantId: string, namespace: OnceNamespace, key: string, token: string): Promise<boolean>;
  /** The live record, if any. */
  get(tenantId: string, namespace: OnceNamespace, key: string): Promise<OnceRecord | undefined>;
}
