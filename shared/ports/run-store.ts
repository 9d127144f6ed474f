/** The run port: sync runs, their counts, and per-object results (rules: store-common.ts). */
import { randomBytes } from 'node:crypto';
import type { DirectoryObjectType } from '../domain/directory';
import { ValidationError } from '../errors/app-error';
import type { Page, PageOptions, SourceKind } from './store-common';

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
/** `drifted`: objects NetEase held differently from the mapping (full runs); `repaired`: those whose repair applied. */
export const RUN_COUNT_KEYS = ['fetched', 'created', 'updated', 'moved', 'suspended', 'recovered', 'deleted', 'linked', 'skipped', 'failed', 'drifted', 'repaired'] as const;
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

/**
 * What the dead-run recovery did to a run (shared/use-cases/sync/recover-runs.ts): it found
 * no progress for the configured time and took the run over (re-sent its unfinished
 * batches, or finalized it).
 */
export interface RunRecovery {
  /** How many times the run was taken over. */
  takeovers: number;
  /** When it was last taken over (ms). */
  at: number;
  /** What the last takeover did. */
  action: 'resent' | 'finalized';
  /** Batches re-sent by the last takeover. */
  resent?: number;
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
  /** The batch id `completeBatch` counted last (progress: with `updatedAt`, when it was). */
  lastBatch?: string;
  /** Set when the dead-run recovery took the run over. */
  recovery?: RunRecovery;
  /** Small JSON report (≤ MAX_SUMMARY_BYTES); large plans go to the PlanStore. */
  summary?: unknown;
  error?: RunError;
  decision?: RunDecision;
  /** The last write to the run (created, planned, a batch completed, taken over): its last progress. */
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
  recovery?: RunRecovery;
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
