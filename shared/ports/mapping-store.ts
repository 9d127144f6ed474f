/** The mapping port: source object <-> NetEase object (rules: store-common.ts). */
import type { DirectoryObjectType } from '../domain/directory';
import type { Page, PageOptions, SourceKind } from './store-common';

// ---------------------------------------------------------------------------------------
// 1. Mappings: source object <-> NetEase object
// ---------------------------------------------------------------------------------------

/**
 * Where a mapped object stands:
 * - `active`: the bridge created or updated the NetEase object and it matches `contentHash`.
 * - `linked`: adopted: an existing NetEase unit/account matched to the source object on a
 *   first run or by a CSV import (`adopted` is true); not yet written by the bridge.
 * - `suspended`: the person left (or the department disappeared); the NetEase account is
 *   suspended since `suspendedAt`, awaiting the grace period before deletion. A returning
 *   person is recovered from here, not recreated.
 * - `deleted`: removed in NetEase (deleteAccountSim / deleteUnit). Kept as a tombstone for
 *   `explain` and so a late duplicate delete is recognised.
 */
export type MappingStatus = 'active' | 'linked' | 'suspended' | 'deleted';
export const MAPPING_STATUSES: readonly MappingStatus[] = ['active', 'linked', 'suspended', 'deleted'];

export interface MappingKey {
  tenantId: string;
  source: SourceKind;
  objectType: DirectoryObjectType;
  /** The source's id (EKP fdId, DingTalk dept_id / userid, WeCom id). Any characters. */
  sourceId: string;
}

/** What a caller writes. */
export interface MappingWrite extends MappingKey {
  /** NetEase unit_id for departments, account_name (local part) for people. */
  neteaseId: string;
  /** Hash of the NetEase-side state the planner last applied (unchanged hash = no call). */
  contentHash: string;
  status: MappingStatus;
  /** When the account was suspended (ms); set with status `suspended`. */
  suspendedAt?: number;
  /** True when the NetEase object existed before the bridge and was linked to, not created. */
  adopted?: boolean;
  /** The run (or CLI operation id) that wrote this mapping last. */
  lastRunId: string;
  /** Small planner facts (e.g. the resolved unique unit name); string values, a few KB at most. */
  meta?: Record<string, string>;
}

/** The fields of a write a store keeps (a caller's extra properties never reach the store). */
export function mappingWriteFields(write: MappingWrite): MappingWrite {
  const { tenantId, source, objectType, sourceId, neteaseId, contentHash, status, suspendedAt, adopted, lastRunId, meta } = write;
  return { tenantId, source, objectType, sourceId, neteaseId, contentHash, status, suspendedAt, adopted, lastRunId, meta };
}

/** What the store holds: the write plus `version` (1 on create, +1 on every put) and `updatedAt`. */
export interface MappingRecord extends MappingWrite {
  version: number;
  updatedAt: number;
}

/**
 * Optimistic concurrency for `MappingStore.put` / `delete`. `version: 0` means "must not
 * exist yet". Several fields must all match. A mismatch throws ConflictError.
 */
export interface MappingExpectation {
  version?: number;
  contentHash?: string;
}

/** Every mapping of one tenant and source, by object type, keyed by sourceId. */
export type MappingSnapshot = Record<DirectoryObjectType, Map<string, MappingRecord>>;

/** Source id <-> NetEase id, per tenant, source and object type; readable both ways. */
export interface MappingStore {
  /** The mapping of one source object (strongly consistent), or undefined. */
  get(key: MappingKey): Promise<MappingRecord | undefined>;
  /**
   * Every mapping (any source, any status) pointing at a NetEase object. Account names
   * (objectType `person`) compare case-insensitively, unit ids exactly. Normally zero or one;
   * several when a tenant changed source or a tombstone shares the id. Eventually consistent
   * in AWS (an index read): a mapping written a moment ago may be missing.
   */
  findByNeteaseId(tenantId: string, objectType: DirectoryObjectType, neteaseId: string, source?: SourceKind): Promise<MappingRecord[]>;
  /** One page of the mappings of a tenant, source and type (order stable but unspecified). */
  listPage(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options?: PageOptions): Promise<Page<MappingRecord>>;
  /** Every mapping of a tenant, source and type, page by page (`pageSize` as PageOptions.limit). */
  list(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options?: { pageSize?: number }): AsyncIterable<MappingRecord>;
  /** Everything the planner needs in one call: both object types as Maps by sourceId. */
  loadAll(tenantId: string, source: SourceKind, options?: { pageSize?: number }): Promise<MappingSnapshot>;
  /**
   * Create or replace a mapping (the whole record: absent optional fields are removed).
   * @returns the stored record with its new version.
   * @throws ConflictError when `expected` is given and does not match.
   */
  put(write: MappingWrite, options?: { expected?: MappingExpectation }): Promise<MappingRecord>;
  /**
   * Remove a mapping (the CLI's link correction; normal deletions keep a `deleted` tombstone).
   * @returns false when there was none.
   * @throws ConflictError when `expected` is given and does not match.
   */
  delete(key: MappingKey, options?: { expected?: MappingExpectation }): Promise<boolean>;
}
