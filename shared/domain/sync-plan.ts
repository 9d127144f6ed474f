/**
 * Types of the sync planner: what it reads (settings, source view, mapping state, the
 * existing NetEase state for adoption) and the plan it writes (ordered operations with
 * stable ids, a report, a summary, and the safety verdict).
 *
 * Pure types and constants: no I/O, no imports outside shared/domain. NetEase field names
 * (unit_id, account_name, job_no...) are mapped to these camelCase domain names by the
 * NetEase adapter, so the planner never sees vendor payloads.
 */
import type { DirectoryChanges, DirectorySnapshot } from './directory';
import type { MailboxPolicySettings, PolicySet } from './mailbox-policies';
import type { AliasSettings, MailListMapping, MailListSettings, MailPlanInput } from './mail-features';

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

export type AccountNameRule = 'emailLocalPart' | 'loginName' | 'jobNumber';
export type MatchAttribute = 'email' | 'jobNumber' | 'mobile';

/**
 * The tenant's sync settings. Field for field the planning-relevant part of
 * `TenantConfig['sync']` (shared/config/tenant-config.schema.ts), so the use case can pass
 * `tenant.sync` directly; redeclared here because shared/domain imports nothing outside it.
 */
export interface SyncSettings extends MailboxPolicySettings {
  accountNameRule: AccountNameRule;
  /** Attributes tried, in order, after the account name when adopting existing mailboxes. */
  matchAttributes: MatchAttribute[];
  /** Only people with a mail address in the source are synced (the Landray setting). */
  onlyWithEmail: boolean;
  /** Source department ids whose subtrees are in scope; empty = the whole organisation. */
  includeDepartments: string[];
  /** Source department ids whose subtrees are out of scope; wins over includeDepartments. */
  excludeDepartments: string[];
  /**
   * Park the plan when suspensions/deletions (per object type) exceed `count`, or exceed
   * `percent` of the managed objects once there are at least `minimum` of them (default 10,
   * as the tenant schema: see safety.ts).
   */
  deleteThreshold: { count: number; percent: number; minimum?: number };
  /** Days a leaver stays suspended before deleteAccountSim. */
  suspendGraceDays: number;
  /**
   * Mail domains besides the tenant's NetEase domain whose addresses count as company
   * addresses (naming, matching, onlyWithEmail). Other addresses are ignored (company-addresses.ts).
   */
  acceptedEmailDomains?: string[];
  /** What a full run does with drift between the mapping and NetEase (reconcile.ts). Default repair. */
  driftMode?: DriftMode;
  /** Department mailing lists (mail-features.ts, plan/maillists.ts); absent or disabled = none. */
  mailLists?: MailListSettings;
  /** Aliases from the source (mail-features.ts, plan/aliases.ts); absent = none. */
  aliases?: AliasSettings;
}

/** `repair`: plan operations that bring NetEase back; `report`: only report the drift. */
export type DriftMode = 'repair' | 'report';

/** How the source was read for this run. */
export type SourceView =
  /**
   * A full pull. When `snapshot.complete` is true the snapshot is authoritative: a mapped
   * object missing from it is gone. When false (a pull that failed part-way), it is used
   * for upserts only and nothing is suspended or deleted because it is missing.
   */
  | { kind: 'snapshot'; snapshot: DirectorySnapshot }
  /**
   * Changes since a watermark. Only the listed objects are planned; deletions are the
   * explicit ids only; departments not in the feed are rebuilt from the mapping state.
   */
  | { kind: 'changes'; changes: DirectoryChanges };

/** Our record of one department's NetEase unit, written by the applier after each op. */
export interface UnitMapping {
  /** Source department id. */
  sourceId: string;
  unitId: string;
  /** The unit_name last applied in NetEase (after duplicate-name suffixing). */
  name: string;
  /** The source department name it was derived from (rebuilds the tree in change runs). */
  sourceName: string;
  /** The NetEase parent unit last applied; undefined = top-level unit. */
  parentUnitId?: string;
  /**
   * The source parent department when last applied, even when that parent is out of scope
   * (then the unit is top-level). Lets a change run place a top-level unit's department.
   */
  parentSourceId?: string;
  status: 'active' | 'deleted';
  /** The NetEase rank last applied (displayOrder); undefined = never set by the bridge. */
  rank?: number;
  /** The department's mailing list, as last applied (plan/maillists.ts). */
  mailList?: MailListMapping;
}

export type AccountStatus = 'active' | 'suspended' | 'deleted';

/**
 * Our record of one person's NetEase account. The profile is kept as a hash, not as
 * values, so the mapping table holds no mobile numbers or names.
 */
export interface AccountMapping {
  /** Source person id. */
  sourceId: string;
  /** The local part; never changes once mapped. */
  accountName: string;
  /** hashFields([nickname, mobile, jobNo]) of what was last sent (see profileHash()). */
  profileHash: string;
  /** The unit the account was last placed in; DEFAULT_UNIT_ID for the domain's default unit. */
  unitId: string;
  status: AccountStatus;
  /** When the bridge suspended it (ms epoch); starts the grace period. */
  suspendedAt?: number;
  /** When the bridge soft-deleted it (ms epoch); NetEase can recover it for 7 days. */
  deletedAt?: number;
  /** policyHash() of the policy values last applied, and the rule's label (plan/policies.ts). */
  policyHash?: string;
  policyRule?: string;
  /** The NetEase rank last applied (displayOrder). */
  rank?: number;
  /** hashFields of the forwarding address last set for a leaver (plan/forwarding.ts); no address is stored. */
  forwardHash?: string;
  /** Aliases (local parts) the bridge added (plan/aliases.ts); hand-made ones are never listed here. */
  aliases?: string[];
}

export interface MappingState {
  units: UnitMapping[];
  accounts: AccountMapping[];
}

/** An existing NetEase unit (getUnitList), for adoption and for names we must not take. */
export interface NeteaseUnitRecord {
  unitId: string;
  name: string;
  /** Undefined for a top-level unit. */
  parentId?: string;
}

/** An existing NetEase account (getAccountList / getAccount), mapped by the adapter. */
export interface NeteaseAccountRecord {
  accountName: string;
  nickname?: string;
  mobile?: string;
  jobNo?: string;
  /** Undefined or `<domainId>_default` for the default unit. */
  unitId?: string;
  /** NetEase status 0 -> active, 1 -> suspended, 2 -> deleted (reference §2 getAccount). */
  status: AccountStatus;
  /** getAccount's `quota`, when read (legacy full runs): policies compare with it. */
  quota?: string;
}

export interface NeteaseState {
  units: NeteaseUnitRecord[];
  accounts: NeteaseAccountRecord[];
  /**
   * True when every MAPPED account's record is authoritative: its status and unit were read
   * (open-platform list or legacy getAccount), a soft-deleted one is listed with status
   * `deleted`, and a mapped account absent from `accounts` does not exist in NetEase.
   * Only then does the planner reconcile the mapping with NetEase (plan/reconcile.ts).
   */
  reconcilable?: boolean;
}

export interface PlanSyncInput {
  /** Caller-supplied run id; part of every operation id. */
  runId: string;
  /** Planning time (ms epoch): grace periods and recovery windows are measured from it. */
  now: number;
  settings: SyncSettings;
  source: SourceView;
  mappings: MappingState;
  /**
   * The current NetEase units and accounts. When given, names held by objects the bridge
   * does not manage are never chosen, and a unit holding such objects is never deleted.
   */
  netease?: NeteaseState;
  /** Link unmapped source objects to matching existing NetEase objects (needs `netease`). */
  adopt?: boolean;
  /** The NetEase mail domain; when given, the `email` match attribute requires it. */
  mailDomain?: string;
  /** Plan no suspension or deletion at all (e.g. the operator rejected them). */
  withholdDeletions?: boolean;
  /** An operator approved this run's destructive operations: do not park. */
  safetyOverride?: boolean;
  /**
   * How a unit changes parent. `reparent` (default): one `unit.move` (the open platform's
   * unit/moveUnit). `recreate`: the legacy API cannot move a unit, so the department gets a
   * new unit under its new parent, its accounts and sub-units follow, and the old unit is
   * deleted once empty (plan/legacy-moves.ts).
   */
  unitMoves?: 'reparent' | 'recreate';
  /** Mailing lists and aliases: availability, pinyin, what NetEase holds (mail-features.ts). */
  mail?: MailPlanInput;
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/** NetEase createAccount/updateAccount `unit_id` for the default unit (reference §2). */
export const DEFAULT_UNIT_ID = 'default';

/** NetEase shows the default unit as `<domainId>_default` (reference §2 getAccount). */
export function isDefaultUnitId(unitId: string | undefined): boolean {
  return unitId === undefined || unitId === '' || unitId === DEFAULT_UNIT_ID || unitId.endsWith('_default');
}

/** NetEase keeps a soft-deleted (deleteAccountSim) account recoverable for 7 days (reference §2, S2). */
export const NETEASE_RECOVERY_WINDOW_DAYS = 7;

export const DAY_MS = 86_400_000;

/**
 * A unit the operation refers to: one that exists (`unitId`), or one created by an earlier
 * operation of this plan (`new`: resolve the unit id from the mapping of `sourceId`, which
 * the applier writes when the create succeeds; `dependsOn` guarantees the order).
 */
export type UnitRef = { kind: 'unit'; unitId: string; sourceId?: string } | { kind: 'new'; sourceId: string };
/** A unit's parent: a unit, or top-level. */
export type ParentRef = UnitRef | { kind: 'top' };
/** An account's unit: a unit, or the domain's default unit. */
export type AccountUnitRef = UnitRef | { kind: 'default' };

export interface AccountProfile {
  nickname: string;
  mobile?: string;
  jobNo?: string;
}

interface OpBase {
  /** Stable id: same run id and same content give the same id (idempotent delivery). */
  id: string;
  /** Source object id. */
  sourceId: string;
  /** Topological level: every dependency has a lower phase. */
  phase: number;
  /** Ids of operations that must have succeeded first. */
  dependsOn: string[];
}

export type SuspendReason = 'left' | 'deleted' | 'missing' | 'disabled' | 'outOfScope';

export type PlanOperation =
  | (OpBase & { kind: 'unit.create'; name: string; sourceName: string; parent: ParentRef; parentSourceId?: string })
  /** Rename. `temporary` marks the first half of a name swap between two units. */
  | (OpBase & { kind: 'unit.update'; unitId: string; name: string; previousName: string; sourceName: string; temporary?: boolean })
  /** Parent change. The legacy API's updateUnit cannot move; the applier picks the call. */
  | (OpBase & { kind: 'unit.move'; unitId: string; parent: ParentRef; previousParentUnitId?: string; parentSourceId?: string })
  | (OpBase & { kind: 'unit.delete'; unitId: string; name: string })
  /**
   * No API call: record that the source department owns this existing unit (adoption),
   * or, with `takeoverFrom`, that it inherits the unit of a department that disappeared
   * under the same name (instead of deleting one unit and creating an identical one).
   */
  | (OpBase & { kind: 'unit.link'; unitId: string; name: string; sourceName: string; parentUnitId?: string; parentSourceId?: string; takeoverFrom?: string })
  | (OpBase & { kind: 'account.create'; accountName: string; profile: AccountProfile; profileHash: string; unit: AccountUnitRef; recreate?: boolean; policy?: AppliedPolicy })
  | (OpBase & { kind: 'account.update'; accountName: string; profile: AccountProfile; profileHash: string })
  | (OpBase & { kind: 'account.move'; accountName: string; unit: AccountUnitRef; previousUnitId: string })
  | (OpBase & { kind: 'account.suspend'; accountName: string; reason: SuspendReason })
  | (OpBase & { kind: 'account.recover'; accountName: string; from: 'suspended' | 'deleted' })
  | (OpBase & { kind: 'account.delete'; accountName: string; suspendedAt: number })
  /** No API call: record that the person owns this existing mailbox (adoption). */
  | (OpBase & {
      kind: 'account.link';
      accountName: string;
      matchedBy: 'accountName' | MatchAttribute;
      /** What NetEase holds now, so follow-up operations in this plan are diffs. */
      profileHash: string;
      unitId: string;
      status: AccountStatus;
      /** Recorded because the mapping disagreed with NetEase (reconcile.ts), not an adoption. */
      drift?: true;
    })
  /** Display order (plan/rank.ts): unit/updateUnitRank. */
  | (OpBase & { kind: 'unit.rank'; unit: UnitRef; rank: number; previousRank?: number })
  /** Display order (plan/rank.ts): address/updateAccountRank. */
  | (OpBase & { kind: 'account.rank'; accountName: string; rank: number; previousRank?: number })
  /** A policy's values (plan/policies.ts): updateAccount with quota / addr_visible / addr_right. */
  | (OpBase & { kind: 'account.policy'; accountName: string; policy: AppliedPolicy; previousRule?: string })
  /** Leaver forwarding (plan/forwarding.ts): updateAccount `fwd`, before the suspension. */
  | (OpBase & { kind: 'account.forward'; accountName: string; to: string; toHash: string; via: 'manager' | 'address'; managerSourceId?: string })
  /** A department's mailing list (plan/maillists.ts). `members` are account names (local parts), sorted. */
  | (OpBase & { kind: 'maillist.create'; name: string; displayName: string; members: string[]; membersHash: string })
  /** Display name and/or members changed (the list keeps its address). */
  | (OpBase & { kind: 'maillist.update'; name: string; displayName: string; members: string[]; membersHash: string; previousDisplayName: string })
  | (OpBase & { kind: 'maillist.delete'; name: string })
  /** An alias (local part) for the person's account (plan/aliases.ts). `aliases` = the mapping's list after this op. */
  | (OpBase & { kind: 'alias.add'; accountName: string; alias: string; aliases: string[] })
  | (OpBase & { kind: 'alias.remove'; accountName: string; alias: string; aliases: string[] });

/** A policy as planned for one mailbox: the rule's label, what it sets, and its hash. */
export interface AppliedPolicy {
  rule: string;
  set: PolicySet;
  hash: string;
}

export type OperationKind = PlanOperation['kind'];

/** Suspensions and deletions: what the safety threshold counts. */
export const DESTRUCTIVE_KINDS: ReadonlySet<OperationKind> = new Set(['account.suspend', 'account.delete', 'unit.delete']);

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

export type NoteCode =
  /** The account-name rule yields nothing (no email / login name / job number). */
  | 'noAccountName'
  /** The derived account name breaks NetEase's naming rules. */
  | 'invalidAccountName'
  /** The desired account name was taken; a suffixed one was chosen. */
  | 'accountNameCollision'
  /** The rule now yields another name; the mapped one is kept (addresses never change). */
  | 'accountNameDrift'
  /** Two departments share a name; this one is created or renamed with a suffix (unit names are unique per domain). */
  | 'unitNameSuffixed'
  /** The department has no usable name; its id was used. */
  | 'unitNameFallback'
  /** Several candidates matched during adoption: nothing linked, nothing created. */
  | 'adoptionAmbiguous'
  /** Linked by account name, but configured attributes disagree with NetEase. */
  | 'adoptionConflict'
  /** Out of scope (departments filter, or onlyWithEmail). */
  | 'outOfScope'
  /** A change run cannot place the object (its department is unknown): left as is. */
  | 'scopeUnknown'
  /** A leaver is suspended and waits for the grace period before deletion. */
  | 'graceRemaining'
  /** A suspended account has no suspension time, so its grace cannot be measured. */
  | 'suspendedAtUnknown'
  /** A department is gone but its unit still holds accounts or units: deletion waits. */
  | 'unitDeleteDeferred'
  /** A suspension or deletion was not planned (incomplete snapshot or withheld). */
  | 'deletionWithheld'
  /** The department's parent is missing from the source; it becomes a top-level unit. */
  | 'orphanDepartment'
  /** A returning person's account was purged by NetEase: created again under its old name. */
  | 'recreated'
  /** NetEase differs from the mapping (changed outside the bridge): see report.drift. */
  | 'drift'
  /** An address outside the company's domains was ignored (company-addresses.ts). */
  | 'personalAddressIgnored'
  /** A department moves on the legacy API: new unit under the new parent, the old one retires. */
  | 'unitRecreatedForMove'
  /** The department is its own parent, in a parent cycle, or below one: it and its people are left as they are (the run ends as a warning). */
  | 'departmentQuarantined'
  /** A name lost control characters or was cut to NetEase's length limit. */
  | 'nameCleaned'
  /** A malformed mobile number was dropped: never sent to NetEase. */
  | 'mobileDropped'
  /** None of the person's departments exists in the source: placed in the default unit. */
  | 'departmentMissing'
  /** A policy rule applies to the person (plan/policies.ts): which one, and whether it is written. */
  | 'policy'
  /** Leaver forwarding: where the leaver's mail goes, or why it goes nowhere (plan/forwarding.ts). */
  | 'forwarding'
  /** Mailing lists are enabled but the tenant's NetEase API has no list calls (no open platform): nothing planned. */
  | 'mailListsUnavailable'
  /** The department's list address is taken (an account, an alias, another list) or invalid: no list. */
  | 'mailListNameCollision'
  /** The department's list would have more members than one list operation carries (MAX_MAILLIST_MEMBERS): no list. */
  | 'mailListTooLarge'
  /** The person's alias is taken (an account, a list, another person's alias) or invalid: not added. */
  | 'aliasCollision';

export interface ObjectNote {
  type: 'department' | 'person';
  sourceId: string;
  code: NoteCode;
  /** Human-readable; ids, account and unit names only (no mobile, email or display name). */
  detail: string;
}

export interface AccountNameCollision {
  /** The name the rule produced. */
  base: string;
  /** Who already holds it: a mapped person, an unmanaged NetEase mailbox, or an earlier id in this run. */
  heldBy: 'mapped' | 'netease' | 'thisRun';
  assigned: Array<{ sourceId: string; accountName: string }>;
}

export interface UnitNameSuffix {
  sourceId: string;
  sourceName: string;
  name: string;
}

export type ParkReason =
  | { code: 'deleteThresholdCount'; objects: 'accounts' | 'units'; count: number; limit: number }
  | { code: 'deleteThresholdPercent'; objects: 'accounts' | 'units'; count: number; base: number; percent: number; limit: number }
  | { code: 'sourceEmpty'; baseline: number }
  | { code: 'sourceShrank'; objects: 'accounts' | 'units'; current: number; baseline: number };

export interface PlanReport {
  /** Source objects looked at that need no operation. */
  unchanged: { departments: number; people: number };
  /** Inactive people without a mailbox (never created). */
  inactiveWithoutAccount: number;
  notes: ObjectNote[];
  accountNameCollisions: AccountNameCollision[];
  /** Every in-scope department whose unit name carries a suffix (not only those named in this run). */
  unitNameSuffixes: UnitNameSuffix[];
  /** NetEase objects nobody in the source matched: reported, never deleted. Only with `netease`. */
  unmatchedNetease?: { units: Array<{ unitId: string; name: string }>; accounts: string[] };
  /** Whether absent objects could be deleted in this run, and why not. */
  deletions: { mode: 'computed' | 'withheld'; reason?: 'incompleteSnapshot' | 'changesFeed' | 'withheldByCaller' };
  /** Differences between the mapping and what NetEase really holds (full runs that read statuses). */
  drift?: DriftItem[];
  /** Known problems this plan leaves in place (unrepaired drift, misplaced units): the run ends `warning`. */
  unresolved?: UnresolvedItem[];
}

export type DriftKind = 'missing' | 'deleted' | 'status' | 'profile' | 'unit' | 'name' | 'parent';

/** One object NetEase holds differently from our mapping. Names and ids only (no mobile numbers). */
export interface DriftItem {
  type: 'department' | 'person';
  sourceId: string;
  /** Account name or unit name (as mapped). */
  name: string;
  kind: DriftKind;
  /** What NetEase holds. */
  before: string;
  /** What the bridge wants it to hold (after the repair). */
  after: string;
  /** `planned`: this plan repairs it; `reported`: report mode, nothing written. */
  repair: 'planned' | 'reported';
}

export interface UnresolvedItem {
  type: 'department' | 'person';
  sourceId: string;
  name: string;
  why: string;
}

export interface PlanSummary {
  units: { create: number; update: number; move: number; delete: number; link: number };
  accounts: { create: number; update: number; move: number; suspend: number; recover: number; delete: number; link: number };
  /** Mailing lists and aliases (only when the plan has any; not part of `totals`). */
  mail?: { lists: { create: number; update: number; delete: number }; aliases: { add: number; remove: number } };
  /** Cross-type totals, as in the run log. */
  totals: { create: number; update: number; move: number; suspend: number; recover: number; delete: number; link: number; skip: number };
  /** Source objects that need nothing (same as report.unchanged, summed). */
  unchanged: number;
  operations: number;
  /** API calls the plan will make (links make none). */
  apiCalls: number;
  phases: number;
}

export interface DestructiveItem {
  kind: 'account.suspend' | 'account.delete' | 'unit.delete';
  sourceId: string;
  /** Account name or unit name. */
  name: string;
  reason?: SuspendReason;
}

export interface SyncPlan {
  runId: string;
  createdAt: number;
  mode: 'full' | 'partial' | 'changes';
  /** `empty`: nothing to do. `awaitingApproval`: parked by the safety checks. */
  status: 'empty' | 'ready' | 'awaitingApproval';
  /** Sorted by phase, then kind, then source id. */
  operations: PlanOperation[];
  summary: PlanSummary;
  report: PlanReport;
  /** Present when the plan is parked, or when a safety override let it through. */
  approval?: { reasons: ParkReason[]; overridden: boolean; destructive: DestructiveItem[] };
}

/** Bad planner input (duplicate ids, inconsistent mapping state). Nothing is planned. */
export class SyncPlanInputError extends Error {
  readonly code = 'SYNC.PLAN_INPUT_INVALID';
  readonly retryable = false;
  constructor(readonly problems: string[]) {
    super(`invalid sync plan input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SyncPlanInputError';
  }
}
