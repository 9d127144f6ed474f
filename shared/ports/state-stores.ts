/**
 * The bridge's state, as ports: mappings, watermarks, runs and their per-object results,
 * locks, once-only claims (nonces, event dedup, operation idempotency), a small cache and
 * stored plans. In AWS they all live in the one DynamoDB table
 * (shared/adapters/aws/dynamo-*.store.ts, key layout in shared/adapters/aws/table-keys.ts);
 * use-case tests use the in-memory twins (shared/adapters/memory/), which pass the same
 * contract suite (test/unit/memory-stores.test.ts, test/integration/dynamo-stores.test.ts).
 *
 * One port per file: mapping-store.ts, watermark-store.ts, run-store.ts, lock-store.ts,
 * once-store.ts, cache-store.ts, plan-store.ts; the rules every implementation follows and
 * the shared vocabulary are in store-common.ts, the shared validation in store-validation.ts.
 */
import type { CacheStore } from './cache-store';
import type { LockStore } from './lock-store';
import type { MappingStore } from './mapping-store';
import type { OnceStore } from './once-store';
import type { PlanStore } from './plan-store';
import type { RunStore } from './run-store';
import type { WatermarkStore } from './watermark-store';

/** Every state store, as wired by a function (Dynamo) or a test (memory). */
export interface StateStores {
  mappings: MappingStore;
  watermarks: WatermarkStore;
  runs: RunStore;
  locks: LockStore;
  once: OnceStore;
  cache: CacheStore;
  plans: PlanStore;
}
