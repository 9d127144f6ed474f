/**
 * Types of the two mail features the planner adds on top of units and accounts:
 * department mailing lists (plan/maillists.ts) and aliases from the source (plan/aliases.ts).
 * Pure types: no I/O, no imports outside shared/domain.
 *
 * State is tracked in the existing mappings, so no new table or object type is needed:
 * - a department's list rides on its unit mapping (`UnitMapping.mailList`: the list's local
 *   part, display name and a hash of the member set last applied);
 * - the aliases the bridge added ride on the person's account mapping
 *   (`AccountMapping.aliases`). Only those are ever removed: an alias an admin added by hand
 *   in NetEase is never in the mapping, so the bridge never touches it.
 */

/** How a department's list address (local part) is derived. */
export interface MailListNaming {
  /** `pinyin`: the pinyin of the department's unit name; `id`: the source department id. */
  rule: 'pinyin' | 'id';
  /** Put before / after the derived part, e.g. `dept-` / `-all`. Default none. */
  prefix?: string;
  suffix?: string;
}

/** The tenant's `sync.mailLists` (shared/config/maillists.schema.ts), field for field. */
export interface MailListSettings {
  enabled: boolean;
  naming: MailListNaming;
  /** Members are the people of the department and of all its sub-departments. */
  includeSubDepartments: boolean;
}

/**
 * The tenant's `sync.aliases`: one alias per person, its local part taken from a source
 * field, or the pinyin of the display name.
 */
export type AliasSettings = { rule: 'field'; field: 'email' | 'loginName' | 'jobNumber' } | { rule: 'pinyin' };

/** A department's list as the bridge last applied it (on its unit mapping). */
export interface MailListMapping {
  /** The list's local part (lowercase). */
  name: string;
  /** The display name last sent. */
  displayName: string;
  /** hashMembers() of the member account names last sent. */
  membersHash: string;
}

/** What NetEase holds, read on full runs (shared/use-cases/sync/mail-state.ts). */
export interface MailNeteaseState {
  /** Every mailing list of the domain, by lowercase local part; members when read (lowercase local parts, or full addresses outside the domain). */
  lists: ReadonlyMap<string, { displayName?: string; members?: readonly string[] }>;
  /** Aliases (lowercase local parts) per account name that was read; an account not in the map was not read. */
  aliases: ReadonlyMap<string, readonly string[]>;
}

/** The planner's extra input for the mail features (PlanSyncInput.mail). */
export interface MailPlanInput {
  /**
   * False when the tenant's NetEase API has no mailing-list calls (the open platform is not
   * configured, or its authCode is missing): lists are then reported unavailable, never
   * silently dropped, and nothing is planned for them.
   */
  listsAvailable: boolean;
  /** Chinese -> pinyin (lowercase, no tones, no separators), supplied by the use case (the domain imports no package). */
  romanize?: (text: string) => string;
  /** Full runs: what NetEase holds (collisions, drift). */
  netease?: MailNeteaseState;
}
