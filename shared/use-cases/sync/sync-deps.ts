/**
 * What the sync use cases need from the outside world, as one dependency object built by
 * each caller's wiring (the planner and worker functions, the admin API, the CLI, the
 * local stack, tests and benchmarks), plus the tunables with their defaults.
 */
import type { NeteaseClient } from '../../adapters/netease/netease.client';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { DirectorySource } from '../../domain/directory';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { JobQueue } from '../../ports/job-queue';
import type { StateStores } from '../../ports/state-stores';

/**
 * The NetEase calls the sync engine makes: a structural subset of NeteaseClient, so tests
 * and benchmarks can pass the real client (over HTTP to the simulator) or a wrapper, plus
 * the optional {@link UnitReparenting} capability.
 */
export type NeteaseSyncApi = UnitReparenting & AccountStatusListing & Pick<
  NeteaseClient,
  | 'domain'
  | 'createUnit'
  | 'updateUnit'
  | 'deleteUnit'
  | 'getUnit'
  | 'getUnitList'
  | 'createAccount'
  | 'getAccount'
  | 'updateAccount'
  | 'moveUnit'
  | 'suspendAccount'
  | 'recoverAccount'
  | 'deleteAccountSim'
  | 'getAllAccounts'
>;

/**
 * Optional: move a unit under another parent. The legacy API cannot (unit/updateUnit takes
 * unit_id, unit_name, unit_desc only: reference netease-qiye-api.md §2); NetEase's open
 * platform can (`unit/moveUnit`, §4). The wiring adds it only for tenants that configure
 * `netease.openPlatform` and store its `authCode`; without it the applier reports unit
 * moves as SYNC.UNIT_MOVE_UNSUPPORTED. (Not named `moveUnit`: that is account/moveUnit.)
 */
export interface UnitReparenting {
  /**
   * Put unit `unitId` (with its accounts and sub-units, keeping its id) under
   * `parentUnitId`, or at the top level when undefined. `expect.unitName` is the unit's
   * name as the legacy API reports it: the move is refused (nothing sent) when the other API
   * does not know the id under that name. Throws NeteaseApiError (retryable or not).
   */
  reparentUnit?(unitId: string, parentUnitId: string | undefined, expect: { unitName: string }): Promise<void>;
}

/** One mailbox with its unit and status, as the open platform lists it (§4). */
export interface ListedAccountStatus {
  accountName: string;
  nickname?: string;
  mobile?: string;
  jobNo?: string;
  unitId?: string;
  /** §4 status 0 -> active, 1 -> suspended, 2 -> deleted; 4/5/6 (resigned, handover) and others -> unknown. */
  status: 'active' | 'suspended' | 'deleted' | 'unknown';
}

/**
 * Optional: every mailbox of the domain with its unit and status in a few paged calls (the
 * open platform's unit/getAccountList, §4). The wiring adds it with `reparentUnit` for
 * tenants that configure `netease.openPlatform`; a full run then needs no getAccount per
 * mailbox (netease-state.ts). Assumes, like reparentUnit, that both APIs share unit ids.
 */
export interface AccountStatusListing {
  listAccountsWithStatus?(): Promise<ListedAccountStatus[]>;
}

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
  /** The tenant's NetEase API. */
  netease(tenant: TenantConfig): Promise<NeteaseSyncApi>;
  /**
   * The initial password of a new mailbox. Default: 24 random characters from node:crypto.
   * Never logged, stored or returned (see apply-operation.ts).
   */
  initialPassword?: () => string;
  options?: Partial<SyncOptions>;
}

export function syncOptions(deps: SyncDeps): SyncOptions {
  return { ...DEFAULT_SYNC_OPTIONS, ...deps.options };
}
