/**
 * Helpers of the in-memory state stores: sorted partitions with cursor paging, and copies
 * in and out so a caller can never change stored state by mutating an object (DynamoDB
 * returns fresh objects too).
 */
import { systemClock, type Clock } from '../../ports/clock';
import type { Page } from '../../ports/store-common';
import { decodePageCursor, encodePageCursor } from '../../ports/store-validation';

/** The base of every Memory*Store: the clock its expiry and timestamps read (the system clock unless a test fixes one). */
export abstract class MemoryStore {
  protected readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }
}

/** Deep copy of a record; drops undefined properties, as the DynamoDB adapters do. */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A map kept in key order for paging. */
export class SortedPartition<V> {
  private readonly items = new Map<string, V>();
  private sorted: string[] | undefined;

  get size(): number {
    return this.items.size;
  }

  get(key: string): V | undefined {
    return this.items.get(key);
  }

  set(key: string, value: V): void {
    if (!this.items.has(key)) this.sorted = undefined;
    this.items.set(key, value);
  }

  delete(key: string): boolean {
    const had = this.items.delete(key);
    if (had) this.sorted = undefined;
    return had;
  }

  values(): IterableIterator<V> {
    return this.items.values();
  }

  keys(): string[] {
    this.sorted ??= [...this.items.keys()].sort();
    return this.sorted;
  }

  /**
   * One page of up to `limit` entries after the cursor's key, ascending or descending.
   * `map` may drop entries (expired ones): the page then holds fewer, like a DynamoDB
   * page whose items were filtered.
   */
  page<T>(name: string, limit: number, cursor: string | undefined, map: (v: V) => T | undefined, descending = false): Page<T> {
    const all = this.keys();
    const after = cursor === undefined ? undefined : decodeCursor(name, cursor);
    let slice: string[];
    let more: boolean;
    if (descending) {
      const end = after === undefined ? all.length : firstIndex(all, (k) => k >= after);
      slice = all.slice(Math.max(0, end - limit), end).reverse();
      more = end - limit > 0;
    } else {
      const start = after === undefined ? 0 : firstIndex(all, (k) => k > after);
      slice = all.slice(start, start + limit);
      more = start + limit < all.length;
    }
    const items: T[] = [];
    for (const k of slice) {
      const v = this.items.get(k);
      const mapped = v === undefined ? undefined : map(v);
      if (mapped !== undefined) items.push(mapped);
    }
    const last = slice[slice.length - 1];
    return more && last !== undefined ? { items, cursor: encodeCursor(name, last) } : { items };
  }
}

/** Binary search: the first index whose key satisfies a predicate that is monotone over sorted keys. */
function firstIndex(sorted: string[], pred: (k: string) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(sorted[mid] as string)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Partitions by name, created on first write. */
export class Partitions<V> {
  private readonly parts = new Map<string, SortedPartition<V>>();

  get(name: string): SortedPartition<V> | undefined {
    return this.parts.get(name);
  }

  for(name: string): SortedPartition<V> {
    let p = this.parts.get(name);
    if (!p) {
      p = new SortedPartition<V>();
      this.parts.set(name, p);
    }
    return p;
  }
}

/** A composite key no component can forge (JSON array of the parts). */
export function key(...parts: string[]): string {
  return JSON.stringify(parts);
}

function encodeCursor(name: string, last: string): string {
  return encodePageCursor(name, last);
}

function decodeCursor(name: string, cursor: string): string {
  return decodePageCursor(name, cursor, (k): k is string => typeof k === 'string');
}

/** Iterate pages until the last one. */
export async function* allPages<T>(fetch: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
