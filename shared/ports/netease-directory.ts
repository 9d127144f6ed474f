/**
 * NeteaseDirectory: the tenant's NetEase units and accounts, as the sync engine reads and
 * writes them. Owned by the core (shared/use-cases/sync); implemented by the NetEase adapter
 * (the netease adapter's netease.client.ts, legacy API reference netease-qiye-api.md §2),
 * with `reparentUnit` and `listAccountsWithStatus` added by the wiring from the open-platform
 * client (§4) when the tenant configures it (shared/wiring/tenant-clients.ts).
 *
 * Failures are thrown as errors that satisfy {@link NeteaseFailure}
 * (shared/errors/netease-failure.ts): use cases tell a duplicate or a missing object by its
 * `kind`, never by a vendor class.
 */
import type { NeteaseAliases, NeteaseMailLists } from './netease-maillists';

/** A NetEase unit (department). Top-level units have no parentId. */
export interface NeteaseUnit {
  unitId: string;
  unitName: string;
  parentId?: string;
  unitDesc?: string;
  rank?: number;
}

/** Account status: 0 normal, 1 disabled (suspended), 2 deleted (soft, recoverable) per §2. */
export type NeteaseAccountStatus = 'normal' | 'suspended' | 'deleted' | 'unknown';

/** One mailbox, as getAccount / createAccount describe it. */
export interface NeteaseAccount {
  /** Local part only, e.g. `zhang.san` for zhang.san@acme.com. */
  accountName: string;
  accountOpenId?: string;
  nickname?: string;
  mobile?: string;
  jobNo?: string;
  /** The account's unit; the default unit appears as `<domainId>_default`. */
  unitId?: string;
  /** Every unit the account belongs to, when NetEase says. */
  unitIds?: string[];
  /** Creation time, ms epoch. */
  createTime?: number;
  expTime?: string;
  quota?: string;
  status: NeteaseAccountStatus;
  /** The raw status number (0, 1, 2), if given. */
  statusCode?: number;
  /** NetEase `type`: 2 is a normal mailbox, 0 a mail list. */
  isMailList?: boolean;
}

/** One row of unit/getAccountList. NetEase gives no status or unit here. */
export interface NeteaseAccountSummary {
  accountName: string;
  accountOpenId?: string;
  nickname?: string;
  mobile?: string;
  jobNo?: string;
  createTime?: number;
}

/** Fields of account/createAccount (§2 Accounts). */
export interface CreateAccountInput {
  /** Local part only (no `@domain`). */
  accountName: string;
  /** Initial password; plaintext unless passType is 1 (MD5 hex). Never logged. */
  password: string;
  /** Display name. */
  nickname: string;
  /** Target unit; `default` (or omitted) = the default unit. */
  unitId?: string;
  /** 0 plaintext (default), 1 MD5 hex. */
  passType?: 0 | 1;
  /** 0 none, 1 must change at first web login, 2 also blocks clients until changed. */
  passChangeRequired?: 0 | 1 | 2;
  mobile?: string;
  jobNo?: string;
  /** yyyy-MM-dd */
  expTime?: string;
  quota?: number | string;
  /** Other documented optional fields (`addr_visible`, `fwd`...), by their NetEase names. */
  extra?: Readonly<Record<string, string | number | undefined>>;
}

/** Fields of account/updateAccount; omitted ones are left unchanged. */
export interface UpdateAccountInput {
  nickname?: string;
  mobile?: string;
  jobNo?: string;
  unitId?: string;
  expTime?: string;
  quota?: number | string;
  extra?: Readonly<Record<string, string | number | undefined>>;
}

export interface AccountListQuery {
  /** Restrict to one unit; omitted = the whole domain. */
  unitId?: string;
  /** Include sub-units (`recuion=true`, spelled that way by NetEase). */
  recursive?: boolean;
}

/**
 * The NetEase calls the sync engine makes. Tests and benchmarks pass the real adapter (over
 * HTTP to the simulator) or a wrapper; the optional {@link NeteaseDirectory.reparentUnit} is
 * present only where the tenant's open platform is configured.
 */
export interface NeteaseDirectory {
  /** The mail domain this directory serves (e.g. `acme.com`). */
  readonly domain: string;
  /** Create a unit under `parentId` (top level when omitted). Throws kind `duplicate` when the name is taken. */
  createUnit(input: { unitName: string; parentId?: string; unitDesc?: string }): Promise<NeteaseUnit>;
  /** Rename or re-describe a unit. Throws kind `notFound` when the unit is gone. */
  updateUnit(unitId: string, changes: { unitName?: string; unitDesc?: string }): Promise<void>;
  /** Delete an empty unit. Throws kind `notFound` when already gone, `notEmpty` when it still holds accounts or units. */
  deleteUnit(unitId: string): Promise<void>;
  /** One unit by id. Throws kind `notFound` when it does not exist. */
  getUnit(unitId: string): Promise<NeteaseUnit>;
  /** Every unit of the domain. */
  getUnitList(): Promise<NeteaseUnit[]>;
  /** Create a mailbox. Throws kind `duplicate` when the account name exists. The password is never logged. */
  createAccount(input: CreateAccountInput): Promise<NeteaseAccount>;
  /** One mailbox by its local part. Throws kind `notFound` when it does not exist. */
  getAccount(accountName: string): Promise<NeteaseAccount>;
  /** Change a mailbox's profile fields; omitted fields are left unchanged. */
  updateAccount(accountName: string, changes: UpdateAccountInput): Promise<void>;
  /** Move a mailbox into unit `unitId` (NetEase account/moveUnit). */
  moveUnit(accountName: string, unitId: string): Promise<void>;
  /** Disable a mailbox (it keeps its mail). Throws kind `notFound` when it does not exist. */
  suspendAccount(accountName: string): Promise<void>;
  /** Re-enable a suspended mailbox. Throws kind `notFound` when it does not exist. */
  recoverAccount(accountName: string): Promise<void>;
  /** Soft-delete a mailbox (recoverable on NetEase's side). Throws kind `notFound` when already gone. */
  deleteAccountSim(accountName: string): Promise<void>;
  /** Every account matching `query` (whole domain by default), all pages read. */
  getAllAccounts(query?: AccountListQuery): Promise<NeteaseAccountSummary[]>;
  /**
   * Optional: put unit `unitId` (with its accounts and sub-units, keeping its id) under
   * `parentUnitId`, or at the top level when undefined. The legacy API cannot (unit/updateUnit
   * takes unit_id, unit_name, unit_desc only: §2); the open platform can (`unit/moveUnit`, §4).
   * `expect.unitName` is the unit's name as the legacy API reports it: the move is refused
   * (nothing sent) when the other API does not know the id under that name. Without it the
   * applier reports unit moves as SYNC.UNIT_MOVE_UNSUPPORTED. (Not named `moveUnit`: that is
   * account/moveUnit.)
   */
  reparentUnit?(unitId: string, parentUnitId: string | undefined, expect: { unitName: string }): Promise<void>;
  /**
   * Optional: every mailbox of the domain with its unit and status in a few paged calls (the
   * open platform's unit/getAccountList, §4). The wiring adds it with `reparentUnit` for
   * tenants that configure `netease.openPlatform`; a full run then needs no getAccount per
   * mailbox (shared/use-cases/sync/netease-state.ts). Assumes, like reparentUnit, that both
   * APIs share unit ids.
   */
  listAccountsWithStatus?(): Promise<ListedAccountStatus[]>;
  /** Optional: a unit's display rank among its siblings (legacy unit/updateUnitRank, §2). Without it, display order is refused. */
  updateUnitRank?(unitId: string, rank: number): Promise<void>;
  /** Optional: a mailbox's display rank in the address book (legacy address/updateAccountRank, §2 S1). */
  updateAccountRank?(accountName: string, rank: number): Promise<void>;
  /** Optional: department mailing lists (open platform; added by the wiring like `reparentUnit`). */
  mailLists?: NeteaseMailLists;
  /** Optional: account aliases (legacy API; every NetEase client has them, test doubles may not). */
  aliases?: NeteaseAliases;
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
