/**
 * The vocabulary every state store shares: source kinds, object types, pages, size and
 * time limits, and the two errors (ConflictError, StateStoreError).
 *
 * Rules every implementation follows:
 * Rules every implementation follows:
 * - Every item is keyed by tenant; nothing here reads across tenants except `RunStore.find`
 *   (a run id is globally unique).
 * - Writes are single-item conditional writes (the embedded store, dynalite, has no
 *   transactions: toolchain.md §3). A failed condition becomes a domain answer (`false`,
 *   `{ acquired: false }`, a `ConflictError`), never a raw SDK error.
 * - Items with an expiry are absent from the moment `expiresAt <= now`: dynalite never
 *   deletes expired items and AWS TTL deletes them up to days late, so readers and
 *   conditions check the time themselves, using the injected Clock.
 * - Timestamps are epoch milliseconds; `expiresAt` is epoch seconds (DynamoDB TTL's unit).
 * - Bad input (empty or oversized ids, unknown enum values, non-JSON values) throws a
 *   ValidationError and writes nothing.
 * - Store failures throw `StateStoreError`: retryable for throttling, 5xx and network
 *   errors; not retryable for requests the store refuses (item too large, missing table).
 */
import type { DirectoryObjectType } from '../domain/directory';
import type { DirectorySource } from './directory-source';
import { AppError, type AppErrorOptions } from '../errors/app-error';

// ---------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------

export type SourceKind = DirectorySource['kind'];
export const SOURCE_KINDS: readonly SourceKind[] = ['ekp', 'dingtalk', 'wecom'];
export const OBJECT_TYPES: readonly DirectoryObjectType[] = ['department', 'person'];

/** One page of a listing. `cursor` is opaque; absent on the last page. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface PageOptions {
  /** Items per page (1-1000); default 100. May return fewer, e.g. when expired items are skipped. */
  limit?: number;
  /** The `cursor` of the previous page. A cursor from another listing is refused. */
  cursor?: string;
}

/** 30 days: default life of per-object results and stored plans. */
export const DEFAULT_RESULT_TTL_SECONDS = 30 * 24 * 3600;
/** 7 days: default life of a completed operation record (longer than SQS's 4-day default retention). */
export const DEFAULT_ONCE_TTL_SECONDS = 7 * 24 * 3600;
/** Largest JSON (UTF-8 bytes) for a plan batch, a cache value, a once result or a run summary. */
export const MAX_VALUE_BYTES = 300_000;
/** Longest once / cache key (UTF-8 bytes): escaped, it still fits a 1,024-byte sort key. */
export const MAX_ITEM_KEY_BYTES = 320;
/** Largest run summary (UTF-8 bytes of its JSON): the run item must stay small. */
export const MAX_SUMMARY_BYTES = 64_000;
/**
 * Largest watermark value (UTF-8 bytes). A source's cursor can carry more than a timestamp
 * (EKP's remembers the ids seen at its newest millisecond: ekp.feed.ts); the item holds the
 * value twice (value + its order key), so 32 KB stays far below DynamoDB's 400 KB item limit.
 */
export const MAX_WATERMARK_BYTES = 32 * 1024;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * A conditional write lost: the item changed since it was read (optimistic concurrency),
 * or a status transition found another status. Not retryable as is: re-read and decide.
 */
export class ConflictError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'STATE.CONFLICT', message, { status: 409, expose: true, retryable: false, ...options });
  }
}

/** The state store failed. `retryable` is true for throttling, 5xx and network errors. */
export class StateStoreError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 503, expose: false, ...options });
  }
}
