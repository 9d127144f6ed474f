/**
 * What the sync use cases need from the outside world, as one dependency object built by
 * each caller's wiring (the planner and worker functions, the admin API, the CLI, the
 * local stack, tests and benchmarks), plus the tunables with their defaults.
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { DirectorySource } from '../../ports/directory-source';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { JobQueue } from '../../ports/job-queue';
import type { BusinessMetrics } from '../../ports/metrics';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import type { StateStores } from '../../ports/state-stores';
import type { UsageStore } from '../../ports/usage-meter';

export interface SyncOptions {
  /** Operations per stored batch (one SQS message). Small enough to finish well inside the worker timeout. */
  batchSize: number;
  /** Lease of the per-tenant sync lock; renewed by every batch, so only a stalled run loses it. */
  lockTtlMs: number;
  /** How long a parked run (awaiting approval) keeps the tenant's lock (at most 24 h, the LockStore's longest lease); after that the next run re-plans. */
  approvalTtlMs: number;
  /**
   * Lease of one operation's OnceStore record: longer than one NetEase call with all its
   * client retries (timeoutMs x (maxRetries + 1) plus backoff), so a live holder is never overtaken.
   */
  opLeaseSeconds: number;
  /** Operations of one batch applied at once (they share a phase, so they are independent). */
  opConcurrency: number;
  /** A scheduled run is full when the last full run is older than this (the periodic reconcile). */
  fullReconcileHours: number;
  /** Life of per-object results, stored batches and plan documents. */
  resultTtlSeconds: number;
  /** Failed/blocked results included in a run's detail (the CSV export has all of them). */
  detailErrorLimit: number;
  /**
   * A planning or applying run with no progress for this long is stuck and is taken over
   * (recover-runs.ts). Longer than the planner's timeout (300 s; it stamps progress between
   * its stages) and than one operation with its retries (a batch stamps progress as its
   * operations finish: apply-batch.ts), far shorter than lockTtlMs.
   */
  stuckAfterMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  batchSize: 25,
  lockTtlMs: 30 * 60_000,
  approvalTtlMs: 24 * 3600_000,
  opLeaseSeconds: 120,
  opConcurrency: 4,
  fullReconcileHours: 24,
  resultTtlSeconds: 30 * 24 * 3600,
  detailErrorLimit: 500,
  stuckAfterMs: 10 * 60_000,
};

export interface SyncDeps {
  stores: Pick<StateStores, 'mappings' | 'watermarks' | 'runs' | 'locks' | 'once' | 'plans'>;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  /** Every configured tenant (the schedule walks them). */
  tenants(): readonly TenantConfig[];
  /** The tenant's directory source (its `sync.source`). */
  directory(tenant: TenantConfig): Promise<DirectorySource>;
  /** The tenant's NetEase units and accounts. */
  netease(tenant: TenantConfig): Promise<NeteaseDirectory>;
  /**
   * The initial password of a new mailbox. Default: 24 random characters from node:crypto.
   * Never logged, stored or returned (see apply-operation.ts).
   */
  initialPassword?: () => string;
  /** Vendor API usage and quota state: a tenant whose source's monthly quota is spent is not scheduled (use-cases/usage). */
  usage?: UsageStore;
  /**
   * Where finished runs and their operations are counted (SyncRuns, SyncOperations,
   * SyncOperationFailures). The wiring passes the process's metrics (syncDepsOf); absent
   * (tests, benchmarks), nothing is counted.
   */
  metrics?: BusinessMetrics;
  options?: Partial<SyncOptions>;
}

export function syncOptions(deps: Pick<SyncDeps, 'options'>): SyncOptions {
  return { ...DEFAULT_SYNC_OPTIONS, ...deps.options };
}
