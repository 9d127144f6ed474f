/**
 * Dirty objects, as a port: the source objects contact callbacks named that the callback
 * worker has not re-read and applied yet. The worker marks the ids of every accepted event
 * here (before it acknowledges the queue record), and the next callback-triggered sync run
 * of the tenant consumes them: it re-reads each object's current state from the source and
 * plans it through the sync engine. Marking the same object again (a burst of events for
 * one person) only bumps its version, so a burst folds into one re-read.
 *
 * In AWS the entries live in the single table (shared/adapters/aws/dynamo-dirty.store.ts,
 * key layout there); use-case tests use the in-memory twin
 * (shared/adapters/memory/memory-dirty.store.ts); both pass the same behaviours
 * (test/integration/callback-worker-dirty-store.test.ts). The rules of
 * shared/ports/store-common.ts apply: keyed by tenant, single-item conditional writes,
 * bad input is a ValidationError that writes nothing, store failures are StateStoreErrors
 * (retryable for throttling and 5xx), expired entries are absent.
 */
import { randomBytes } from 'node:crypto';
import type { DirectoryObjectType } from '../domain/directory';
import { ValidationError } from '../errors/app-error';
import { OBJECT_TYPES, SOURCE_KINDS, type SourceKind } from './store-common';
import { assertKeyPart, assertOneOf, assertTenant, assertTtlSeconds } from './store-validation';

/** 3 days: longer than SQS keeps a callback message (4 days of retention minus retries), and far longer than any run. */
export const DEFAULT_DIRTY_TTL_SECONDS = 3 * 24 * 3600;

/** What a callback names: one object, and for a renamed person (WeCom NewUserID) its new id. */
export interface DirtyMark {
  kind: DirectoryObjectType;
  /** The source id (for a rename, the id before it). */
  id: string;
  /** The id the source renamed the person to; kept until the entry is cleared. */
  newId?: string;
}

export interface DirtyEntry extends DirtyMark {
  tenantId: string;
  source: SourceKind;
  /** Changes on every mark: `clear` only removes the version it was given. */
  version: string;
  /** When the entry was first marked since it was last cleared (ms). */
  dirtiedAt: number;
  /** When it was last marked (ms). */
  updatedAt: number;
  /** Epoch seconds after which the entry is gone. */
  expiresAt: number;
}

export interface DirtyStore {
  /**
   * Mark objects dirty (create, or bump the version of, one entry per object). A mark with
   * `newId` sets it; a mark without leaves a stored one in place. Validates every mark first
   * and writes nothing if one is invalid.
   */
  mark(tenantId: string, source: SourceKind, marks: readonly DirtyMark[], options?: { ttlSeconds?: number }): Promise<void>;
  /** The tenant's unexpired entries for this source, at most `limit` (default 10,000), in a stable order (unspecified). */
  list(tenantId: string, source: SourceKind, options?: { limit?: number }): Promise<DirtyEntry[]>;
  /**
   * Remove an entry if it still has `version` (conditional delete): an object marked again
   * after it was read stays dirty for the next run.
   * @returns true when removed; false when it was marked again, expired or is gone.
   */
  clear(tenantId: string, source: SourceKind, entry: Pick<DirtyEntry, 'kind' | 'id' | 'version'>): Promise<boolean>;
}

/** Most entries `list` returns. */
export const MAX_DIRTY_LIST = 50_000;

const invalid = (message: string) => new ValidationError(message, { code: 'STATE.INVALID_INPUT' });

/**
 * Validate marks (and their TTL); shared so both stores refuse exactly the same input.
 * @returns the TTL the marks are written with (DEFAULT_DIRTY_TTL_SECONDS unless given).
 */
export function assertDirtyMarks(tenantId: string, source: SourceKind, marks: readonly DirtyMark[], options: { ttlSeconds?: number } = {}): number {
  assertTenant(tenantId);
  assertOneOf('source', source, SOURCE_KINDS);
  if (!Array.isArray(marks)) throw invalid('marks must be an array');
  for (const m of marks) {
    assertOneOf('kind', m.kind, OBJECT_TYPES);
    assertKeyPart('id', m.id);
    if (m.newId !== undefined) {
      assertKeyPart('newId', m.newId);
      if (m.kind !== 'person') throw invalid('newId is only allowed on a person');
      if (m.newId === m.id) throw invalid('newId must differ from id');
    }
  }
  const ttl = options.ttlSeconds ?? DEFAULT_DIRTY_TTL_SECONDS;
  assertTtlSeconds(ttl);
  return ttl;
}

export function assertDirtyKey(tenantId: string, source: SourceKind, entry: Pick<DirtyEntry, 'kind' | 'id' | 'version'>): void {
  assertTenant(tenantId);
  assertOneOf('source', source, SOURCE_KINDS);
  assertOneOf('kind', entry.kind, OBJECT_TYPES);
  assertKeyPart('id', entry.id);
  assertKeyPart('version', entry.version, 64);
}

export function assertDirtyLimit(limit: number | undefined): number {
  if (limit === undefined) return 10_000;
  if (!Number.isInteger(limit) || limit <= 0 || limit > MAX_DIRTY_LIST) throw invalid(`limit must be an integer from 1 to ${MAX_DIRTY_LIST}`);
  return limit;
}

/** A new entry version: time-ordered and unique, `<ms base36>-<8 hex>`. */
export function newDirtyVersion(now: number): string {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}
