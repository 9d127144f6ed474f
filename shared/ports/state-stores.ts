/**
 * The bridge's state, as ports: mappings, watermarks, runs and their per-object results,
 * locks, once-only claims (nonces, event dedup, operation idempotency), a small cache and
 * stored plans. In AWS they all live in the one DynamoDB table
 * (shared/adapters/aws/dynamo-*.store.ts, key layout in shared/adapters/aws/table-keys.ts);
 * use-case tests use the in-memory twins (shared/adapters/memory/), which pass the same
 * contract suite (test/unit/memory-stores.test.ts, test/integration/dynamo-stores.test.ts).
 *
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
import { randomBytes } from 'node:crypto';
import type { DirectoryObjectType } from '../domain/directory';
import type { DirectorySource } from './directory-source';
import { AppError, ValidationError, type AppErrorOptions } from '../errors/app-error';

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

// ---------------------------------------------------------------------------------------
// 2. Watermarks
// ---------------------------------------------------------------------------------------

export interface Watermark {
  tenantId: string;
  source: SourceKind;
  objectType: DirectoryObjectType;
  /** Opaque to the store, but ordered: see `compareWatermarks`. */
  value: string;
  updatedAt: number;
  runId: string;
}

/**
 * Per-type watermarks (EKP: one alterTime per type, sync-and-ekp.md §A6). A watermark only
 * moves forward; `clear` is the one way back (`sync clear-watermark`, forcing a full run).
 */
export interface WatermarkStore {
  get(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): Promise<Watermark | undefined>;
  /** Both types' watermarks for the planner (`DirectorySource.changesSince` input). */
  getAll(tenantId: string, source: SourceKind): Promise<Partial<Record<DirectoryObjectType, Watermark>>>;
  /**
   * Store `value` (at most MAX_WATERMARK_BYTES) if it is not behind the stored one (conditional write).
   * @returns true when stored (forward or equal); false when the store already holds a
   *   later value, which is kept.
   */
  advance(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, value: string, runId: string): Promise<boolean>;
  /** Forget the watermark of one type, or of both when `objectType` is omitted. @returns how many existed. */
  clear(tenantId: string, source: SourceKind, objectType?: DirectoryObjectType): Promise<number>;
}

/**
 * The order watermarks advance in. Digit-only values (epoch times, sequence numbers)
 * compare as numbers, anything else as strings (fixed-width timestamps such as EKP's
 * `yyyy-MM-dd HH:mm:ss.SSS` sort correctly as strings); a digit-only value sorts before
 * any other. Implementations store `watermarkOrderKey(value)` and compare that.
 */
export function watermarkOrderKey(value: string): string {
  if (/^\d{1,40}$/.test(value)) return `n${value.padStart(40, '0')}`;
  return `s${value}`;
}

export function compareWatermarks(a: string, b: string): number {
  const ka = watermarkOrderKey(a);
  const kb = watermarkOrderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// 3. Runs and per-object results
// ---------------------------------------------------------------------------------------

export type RunTrigger = 'schedule' | 'manual' | 'callback' | 'cli';
export const RUN_TRIGGERS: readonly RunTrigger[] = ['schedule', 'manual', 'callback', 'cli'];
export type RunMode = 'full' | 'incremental';
export const RUN_MODES: readonly RunMode[] = ['full', 'incremental'];
/**
 * planning -> applying -> success | warning (some objects failed) | failed;
 * planning -> awaiting_approval (deletion threshold) -> applying | rejected;
 * planning -> dry_run (plan stored, nothing applied); planning -> failed.
 */
export type RunStatus = 'planning' | 'applying' | 'success' | 'warning' | 'failed' | 'awaiting_approval' | 'rejected' | 'dry_run';
export const RUN_STATUSES: readonly RunStatus[] = ['planning', 'applying', 'success', 'warning', 'failed', 'awaiting_approval', 'rejected', 'dry_run'];
export const RUN_COUNT_KEYS = ['fetched', 'created', 'updated', 'moved', 'suspended', 'recovered', 'deleted', 'linked', 'skipped', 'failed'] as const;
export type RunCountKey = (typeof RUN_COUNT_KEYS)[number];
export type RunCounts = Record<RunCountKey, number>;

export function zeroCounts(): RunCounts {
  return Object.fromEntries(RUN_COUNT_KEYS.map((k) => [k, 0])) as RunCounts;
}

export interface RunError {
  code: string;
  /** Safe to show an operator: no secrets, no personal data beyond ids. */
  message: string;
}

export interface RunDecision {
  decision: 'approved' | 'rejected';
  /** Who decided (CLI user, admin route principal). */
  by: string;
  at: number;
  note?: string;
}

export interface NewRun {
  /** From `newRunId()`: time-sortable, so runs list newest first. */
  runId: string;
  tenantId: string;
  source?: SourceKind;
  trigger: RunTrigger;
  mode: RunMode;
  dryRun: boolean;
  startedAt: number;
  /** Initial status; default `planning`. */
  status?: RunStatus;
  /**
   * The on-demand request that started the run (shared/contracts/sync-request.ts), so the
   * caller who got `202 {requestId}` can find its run. Absent on scheduled and callback runs.
   */
  requestId?: string;
}

export interface RunRecord extends Required<Omit<NewRun, 'source' | 'requestId'>> {
  source?: SourceKind;
  requestId?: string;
  endedAt?: number;
  counts: RunCounts;
  /** Batches fanned out and not yet completed; 0 before fan-out. */
  pendingBatches: number;
  totalBatches: number;
  /** Batches counted by `completeBatch` (each batch id at most once). */
  completedBatches: number;
  /** Small JSON report (≤ MAX_SUMMARY_BYTES); large plans go to the PlanStore. */
  summary?: unknown;
  error?: RunError;
  decision?: RunDecision;
  updatedAt: number;
}

/** Fields a status transition or an update may set together with it. */
export interface RunPatch {
  endedAt?: number;
  /** Setting totalBatches also sets pendingBatches to the same number (fan-out). */
  totalBatches?: number;
  summary?: unknown;
  error?: RunError;
  decision?: RunDecision;
}

export interface BatchCompletion {
  /** This batch id was already counted: counts were not added again. */
  duplicate: boolean;
  /** True for exactly one caller: the one whose completion brought pendingBatches to 0. */
  last: boolean;
  run: RunRecord;
}

export type ResultOutcome = 'applied' | 'skipped' | 'failed';
export const RESULT_OUTCOMES: readonly ResultOutcome[] = ['applied', 'skipped', 'failed'];

export interface ObjectResultWrite {
  tenantId: string;
  runId: string;
  objectType: DirectoryObjectType;
  sourceId: string;
  /** The planned operation, e.g. `createAccount`, `moveUnit`, `link`. One result per (object, operation) per run: a retry overwrites. */
  operation: string;
  outcome: ResultOutcome;
  errorCode?: string;
  /** Operator-safe message (no secrets, no decrypted payloads). */
  message?: string;
  /** The NetEase id the operation produced or touched. */
  neteaseId?: string;
  at: number;
}

export interface ObjectResult extends ObjectResultWrite {
  /** Epoch seconds after which the result is gone. */
  expiresAt: number;
}

/** Sync runs of a tenant, their counters and batch bookkeeping, and per-object results. */
export interface RunStore {
  /** @throws ConflictError when the run id exists already. */
  create(run: NewRun): Promise<RunRecord>;
  /** Strongly consistent read of one run. */
  get(tenantId: string, runId: string): Promise<RunRecord | undefined>;
  /** A run by id alone (CLI `runs show <run>`). Eventually consistent in AWS (index read). */
  find(runId: string): Promise<RunRecord | undefined>;
  /** A tenant's runs, newest first. */
  list(tenantId: string, options?: PageOptions): Promise<Page<RunRecord>>;
  /**
   * Add to counters atomically (many workers at once); negative deltas allowed.
   * @returns the run after the increment. @throws NotFoundError for an unknown run.
   */
  increment(tenantId: string, runId: string, deltas: Partial<RunCounts>): Promise<RunRecord>;
  /**
   * Count one finished batch exactly once: adds its counters and decrements pendingBatches
   * in one conditional update keyed on the batch id, so a duplicate SQS delivery changes
   * nothing and exactly one worker learns it finished the last batch (`last`).
   * Announce the batches first (`transition(..., 'applying', { totalBatches })`) and only
   * then send them, or an early worker finds nothing pending.
   * @throws ConflictError when no batch is pending; NotFoundError for an unknown run.
   */
  completeBatch(tenantId: string, runId: string, batchId: string, deltas?: Partial<RunCounts>): Promise<BatchCompletion>;
  /**
   * Move to `to` only if the run is in one of `from` (e.g. awaiting_approval -> applying
   * on approve), setting `patch` in the same write.
   * @throws ConflictError naming the current status otherwise; NotFoundError for an unknown run.
   */
  transition(tenantId: string, runId: string, from: RunStatus | readonly RunStatus[], to: RunStatus, patch?: RunPatch): Promise<RunRecord>;
  /** Set fields without a status condition. @throws NotFoundError for an unknown run. */
  update(tenantId: string, runId: string, patch: RunPatch): Promise<RunRecord>;
  /** Record the outcome of one operation; it expires after `ttlSeconds` (default 30 days). */
  putResult(result: ObjectResultWrite, ttlSeconds?: number): Promise<ObjectResult>;
  /** A run's results (ordered by object type, then source id), optionally one outcome only. */
  listResults(tenantId: string, runId: string, options?: PageOptions & { outcome?: ResultOutcome }): Promise<Page<ObjectResult>>;
  /** Every result of a run (for `runs show --csv`), page by page. */
  results(tenantId: string, runId: string, options?: { outcome?: ResultOutcome; pageSize?: number }): AsyncIterable<ObjectResult>;
  /** One object's results across runs, newest run first (for `explain`). Eventually consistent in AWS. */
  objectHistory(tenantId: string, objectType: DirectoryObjectType, sourceId: string, options?: { limit?: number }): Promise<ObjectResult[]>;
}

/**
 * A new run id: `YYYYMMDDTHHMMSSmmmZ-<8 hex>` (UTC), so string order is start order and
 * the RunStore can list newest first without an extra index.
 */
export function newRunId(nowMs: number, suffix: string = randomBytes(4).toString('hex')): string {
  const iso = new Date(nowMs).toISOString(); // 2024-05-01T12:00:00.123Z
  const compact = iso.replace(/[-:]/g, '').replace('.', '');
  const runId = `${compact}-${suffix}`;
  if (!isRunId(runId)) throw new ValidationError(`cannot make a run id from ${nowMs} and "${suffix}"`, { code: 'STATE.INVALID_INPUT' });
  return runId;
}

export function isRunId(value: string): boolean {
  return /^\d{8}T\d{9}Z-[0-9a-z]{4,32}$/.test(value);
}

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

// ---------------------------------------------------------------------------------------
// 7. Plans
// ---------------------------------------------------------------------------------------

/**
 * Where a run's plan lives, because it does not fit in queue messages: SQS takes 256 KB per
 * message and a 100,000-person initial plan is tens of MB.
 * - Batches: the planner stores each ordered batch (≤ MAX_VALUE_BYTES of JSON) here and
 *   sends a small SQS message `{tenantId, runId, seq}`; the worker loads the batch. An
 *   approval (awaiting_approval -> applying) fans out the stored batches without re-planning.
 * - Documents: the full plan / report (dry run output, the deletions awaiting approval,
 *   `explain`'s plan decision), any size: gzip-compressed and split into chunks, committed
 *   by a header written last, so a reader never sees a half-written document.
 * Both expire with the run's results (default 30 days).
 */
export interface PlanStore {
  /** Store (or replace) batch `seq` of a run. @throws ValidationError when its JSON exceeds MAX_VALUE_BYTES. */
  putBatch(tenantId: string, runId: string, seq: number, body: unknown, ttlSeconds?: number): Promise<void>;
  getBatch(tenantId: string, runId: string, seq: number): Promise<unknown>;
  /** Every batch of a run in seq order. */
  batches(tenantId: string, runId: string): AsyncIterable<{ seq: number; body: unknown }>;
  /** Store (or replace) a named JSON document of a run, any size. */
  putDocument(tenantId: string, runId: string, name: string, value: unknown, ttlSeconds?: number): Promise<void>;
  /** The document, or undefined when absent, expired or never fully written. */
  getDocument(tenantId: string, runId: string, name: string): Promise<unknown>;
}

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

// ---------------------------------------------------------------------------------------
// Rules both implementations share (so their answers are identical)
// ---------------------------------------------------------------------------------------

const invalid = (message: string) => new ValidationError(message, { code: 'STATE.INVALID_INPUT' });

/** `expiresAt` (epoch s) for something that must live at least `ttlSeconds` from `nowMs`. */
export function expiresAtFor(nowMs: number, ttlSeconds: number): number {
  return Math.ceil(nowMs / 1000) + ttlSeconds;
}

/** Epoch seconds used in expiry conditions: an item is gone when `expiresAt <= nowSeconds(now)`. */
export function nowSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** True when an item with this `expiresAt` must be treated as absent. */
export function isExpired(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt !== undefined && expiresAt <= nowSeconds(nowMs);
}

/**
 * Ids that become key parts: non-empty, at most `maxBytes` UTF-8 bytes, no control characters.
 * The default (160) keeps the longest composite key within DynamoDB's 1,024-byte sort-key
 * limit even when every character of two ids needs escaping (x3): gsi1sk of a mapping is
 * `{neteaseId}#{source}#{sourceId}`. Real ids are far shorter (EKP fdId 32, DingTalk and
 * WeCom ids ≤ 64, NetEase account names ≤ 64).
 */
export function assertKeyPart(label: string, value: unknown, maxBytes = 160): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${label} must be a non-empty string`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) throw invalid(`${label} is longer than ${maxBytes} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${label} contains control characters`);
}

export function assertTenant(tenantId: unknown): asserts tenantId is string {
  assertKeyPart('tenantId', tenantId, 128);
}

/** Namespaces, lock names and operation names: short identifiers. */
export function assertName(label: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) throw invalid(`${label} must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
}

export function assertOneOf<T extends string>(label: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`${label} must be one of ${allowed.join(', ')}`);
}

export function assertRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || !isRunId(runId)) throw invalid('runId must come from newRunId() (YYYYMMDDTHHMMSSmmmZ-suffix)');
}

export function assertPositiveInt(label: string, value: unknown, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) throw invalid(`${label} must be an integer from 1 to ${max}`);
}

export function assertTime(label: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(`${label} must be epoch milliseconds`);
}

/** Serialize a value stored as JSON, refusing what cannot round-trip or is too large. */
export function toJson(label: string, value: unknown, maxBytes = MAX_VALUE_BYTES): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError(`${label} is not serializable to JSON`, { code: 'STATE.INVALID_INPUT', cause: err });
  }
  if (json === undefined) throw invalid(`${label} is not a JSON value`);
  if (Buffer.byteLength(json, 'utf8') > maxBytes) throw new ValidationError(`${label} is larger than ${maxBytes} bytes of JSON`, { code: 'STATE.TOO_LARGE' });
  return json;
}

export function assertPageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  assertPositiveInt('limit', limit, 1000);
  return limit;
}

/** Validate a mapping write; shared so both stores refuse exactly the same input. */
export function assertMappingWrite(w: MappingWrite): void {
  assertMappingKey(w);
  assertKeyPart('neteaseId', w.neteaseId);
  if (typeof w.contentHash !== 'string') throw invalid('contentHash must be a string');
  if (Buffer.byteLength(w.contentHash) > 256) throw invalid('contentHash is longer than 256 bytes');
  assertOneOf('status', w.status, MAPPING_STATUSES);
  if (w.suspendedAt !== undefined) assertTime('suspendedAt', w.suspendedAt);
  if (w.adopted !== undefined && typeof w.adopted !== 'boolean') throw invalid('adopted must be a boolean');
  assertKeyPart('lastRunId', w.lastRunId, 128);
  if (w.meta !== undefined) {
    if (typeof w.meta !== 'object' || w.meta === null || Array.isArray(w.meta)) throw invalid('meta must be an object of strings');
    for (const [k, v] of Object.entries(w.meta)) if (typeof v !== 'string') throw invalid(`meta.${k} must be a string`);
    toJson('meta', w.meta, 4096);
  }
}

export function assertMappingKey(k: MappingKey): void {
  assertTenant(k.tenantId);
  assertOneOf('source', k.source, SOURCE_KINDS);
  assertOneOf('objectType', k.objectType, OBJECT_TYPES);
  assertKeyPart('sourceId', k.sourceId);
}

export function assertExpectation(e: MappingExpectation | undefined): void {
  if (!e) return;
  if (e.version !== undefined && (!Number.isInteger(e.version) || e.version < 0)) throw invalid('expected.version must be an integer >= 0');
  if (e.contentHash !== undefined && typeof e.contentHash !== 'string') throw invalid('expected.contentHash must be a string');
}

/** NetEase ids in the reverse index: account names compare case-insensitively. */
export function neteaseLookupId(objectType: DirectoryObjectType, neteaseId: string): string {
  return objectType === 'person' ? neteaseId.toLowerCase() : neteaseId;
}

export function assertCounts(deltas: Partial<RunCounts>): void {
  if (typeof deltas !== 'object' || deltas === null) throw invalid('counts must be an object');
  for (const [k, v] of Object.entries(deltas)) {
    if (!(RUN_COUNT_KEYS as readonly string[]).includes(k)) throw invalid(`unknown counter "${k}"`);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`counter "${k}" must be an integer`);
  }
}

export function assertNewRun(run: NewRun): void {
  assertRunId(run.runId);
  assertTenant(run.tenantId);
  if (run.source !== undefined) assertOneOf('source', run.source, SOURCE_KINDS);
  assertOneOf('trigger', run.trigger, RUN_TRIGGERS);
  assertOneOf('mode', run.mode, RUN_MODES);
  if (typeof run.dryRun !== 'boolean') throw invalid('dryRun must be a boolean');
  assertTime('startedAt', run.startedAt);
  if (run.status !== undefined) assertOneOf('status', run.status, RUN_STATUSES);
  if (run.requestId !== undefined) assertName('requestId', run.requestId);
}

export function assertRunPatch(patch: RunPatch): void {
  if (patch.endedAt !== undefined) assertTime('endedAt', patch.endedAt);
  if (patch.totalBatches !== undefined && (!Number.isInteger(patch.totalBatches) || patch.totalBatches < 0)) throw invalid('totalBatches must be an integer >= 0');
  if (patch.summary !== undefined) toJson('summary', patch.summary, MAX_SUMMARY_BYTES);
  if (patch.error !== undefined && (typeof patch.error.code !== 'string' || typeof patch.error.message !== 'string')) throw invalid('error must be {code, message}');
  if (patch.decision !== undefined) {
    assertOneOf('decision.decision', patch.decision.decision, ['approved', 'rejected'] as const);
    assertKeyPart('decision.by', patch.decision.by, 256);
    assertTime('decision.at', patch.decision.at);
  }
}

export function assertResultWrite(r: ObjectResultWrite): void {
  assertTenant(r.tenantId);
  assertRunId(r.runId);
  assertOneOf('objectType', r.objectType, OBJECT_TYPES);
  assertKeyPart('sourceId', r.sourceId);
  assertName('operation', r.operation);
  assertOneOf('outcome', r.outcome, RESULT_OUTCOMES);
  assertTime('at', r.at);
  if (r.errorCode !== undefined && typeof r.errorCode !== 'string') throw invalid('errorCode must be a string');
  if (r.message !== undefined && (typeof r.message !== 'string' || r.message.length > 2000)) throw invalid('message must be a string of at most 2000 characters');
  if (r.neteaseId !== undefined) assertKeyPart('neteaseId', r.neteaseId);
}

/** TTLs accepted by the stores: 1 second to 400 days. */
export function assertTtlSeconds(ttlSeconds: unknown): asserts ttlSeconds is number {
  assertPositiveInt('ttlSeconds', ttlSeconds, 400 * 24 * 3600);
}

export function assertSeq(seq: unknown): asserts seq is number {
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > 999_999) throw invalid('seq must be an integer from 0 to 999999');
}
