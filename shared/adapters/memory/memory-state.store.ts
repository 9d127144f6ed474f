/**
 * Every state store in memory, for use-case tests and benchmarks:
 * `const stores = createMemoryStateStores({ clock: fixedClock(Date.UTC(2024, 0, 1)) })`.
 * Same semantics as createDynamoStateStores (both pass the contract suite), no I/O.
 */
import type { Clock } from '../../ports/clock';
import type { StateStores } from '../../ports/state-stores';
import { MemoryCacheStore } from './memory-cache.store';
import { MemoryLockStore } from './memory-lock.store';
import { MemoryMappingStore } from './memory-mapping.store';
import { MemoryOnceStore } from './memory-once.store';
import { MemoryPlanStore } from './memory-plan.store';
import { MemoryRunStore } from './memory-run.store';
import { MemoryWatermarkStore } from './memory-watermark.store';

export function createMemoryStateStores(options: { clock?: Clock } = {}): StateStores {
  return {
    mappings: new MemoryMappingStore(options),
    watermarks: new MemoryWatermarkStore(options),
    runs: new MemoryRunStore(options),
    locks: new MemoryLockStore(options),
    once: new MemoryOnceStore(options),
    cache: new MemoryCacheStore(options),
    plans: new MemoryPlanStore(options),
  };
}
