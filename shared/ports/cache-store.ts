/** The cache port: a small shared cache with expiry (rules: store-common.ts). */


// ---------------------------------------------------------------------------------------
// 6. Cache
// ---------------------------------------------------------------------------------------

/** A small shared cache with expiry (unread counts per user). Values are JSON. */
export interface CacheStore {
  /** The value, or undefined when absent or expired. Callers validate its shape. */
  get(tenantId: string, namespace: string, key: string): Promise<unknown>;
  /** Store a JSON value (≤ MAX_VALUE_BYTES) for `ttlSeconds`. */
  put(tenantId: string, namespace: string, key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(tenantId: string, namespace: string, key: string): Promise<void>;
}
