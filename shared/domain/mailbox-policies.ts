/**
 * Mailbox policies, display order and leaver forwarding: the tenant's rules as the planner
 * sees them (`TenantConfig['sync']` fields `policies`, `displayOrder`, `leavers`, validated
 * by shared/config/mailbox-policies.schema.ts), and the pure helpers that evaluate them.
 *
 * Pure types and functions: no I/O, no imports outside shared/domain (and none from
 * sync-plan.ts, which imports these types).
 */
import type { Person } from './directory';
import { hashFields } from './content-hash';

/**
 * What a policy sets on a mailbox, as the legacy createAccount/updateAccount fields
 * (reference netease-qiye-api.md §2: optional `quota`, `addr_right`, `addr_visible`).
 * Values are NetEase's own: the official demo kit S1 (`UpdateAccount.java`) sends
 * `quota=5120`, `addr_right=0`, `addr_visible=0`, which is all the public evidence there is.
 */
export interface PolicySet {
  /** `quota`. Unconfirmed: the unit; S1's 5120 reads as MB (5 GB). Sent as given. */
  quota?: number;
  /** `addr_visible`: whether the mailbox shows in the address book. Unconfirmed: which of 0/1 means visible (S1 sends 0). Sent as given. */
  addrVisible?: 0 | 1;
  /** `addr_right`: the mailbox's address-book right. Unconfirmed: the meaning of 0/1 (S1 sends 0). Sent as given. */
  addrRight?: 0 | 1;
}

/** Person fields a policy may match on (the source-neutral names, directory.ts). */
export type PolicyAttribute = 'title' | 'jobNumber' | 'loginName' | 'email';

export type PolicyMatch =
  /** A department by source id or exact name; `recursive` also matches its sub-departments. */
  | { department: string; recursive?: boolean }
  /** A person attribute equal (case-sensitive, trimmed) to one of the values. */
  | { attribute: PolicyAttribute; equals: string | string[] }
  /** Everyone (a last, catch-all rule). */
  | { all: true };

export interface PolicyRule {
  /** Shown in the plan and `explain`; default `policies[<index>]`. */
  name?: string;
  match: PolicyMatch;
  set: PolicySet;
}

/** Leaver forwarding (opt-in): `manager` from the source, else `fallback`; or a fixed address. */
export interface LeaverSettings {
  forwardTo?: string;
  /** Used when `forwardTo` is `manager` and the source names no manager with an active mailbox. */
  fallback?: string;
}

/** The planner's view of the policy settings (all optional: off when absent). */
export interface MailboxPolicySettings {
  policies?: PolicyRule[];
  /** Mirror the source's display order with updateUnitRank / updateAccountRank. */
  displayOrder?: boolean;
  leavers?: LeaverSettings;
}

/** The rule chosen for a person: its label and what it sets. */
export interface ChosenPolicy {
  rule: string;
  set: PolicySet;
  /** hashFields of rule label and values: what the mapping stores as `policyHash`. */
  hash: string;
}

/** A rule's label: its name, else its position. */
export function ruleLabel(rule: PolicyRule, index: number): string {
  return rule.name ?? `policies[${index}]`;
}

/** The content hash of what a rule sets (the rule's label included, so renaming a rule re-applies nothing but is recorded). */
export function policyHash(set: PolicySet): string {
  return hashFields(['policy/v1', set.quota === undefined ? undefined : String(set.quota), set.addrVisible === undefined ? undefined : String(set.addrVisible), set.addrRight === undefined ? undefined : String(set.addrRight)]);
}

/** A department as the matcher needs it: its name and parent. */
export interface DepartmentLookup {
  get(id: string): { name: string; parentId?: string } | undefined;
}

/**
 * The first rule that matches `person` (first-match semantics, like a firewall: order the
 * rules from the most specific to the catch-all), or undefined. A department rule matches
 * when ANY of the person's departments is the named one (by id or exact name) or, with
 * `recursive`, lies below it.
 */
export function choosePolicy(rules: readonly PolicyRule[] | undefined, person: Person, departments: DepartmentLookup): ChosenPolicy | undefined {
  if (!rules || rules.length === 0) return undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (matches(rule.match, person, departments)) return { rule: ruleLabel(rule, i), set: rule.set, hash: policyHash(rule.set) };
  }
  return undefined;
}

function matches(match: PolicyMatch, person: Person, departments: DepartmentLookup): boolean {
  if ('all' in match) return true;
  if ('attribute' in match) {
    const value = person[match.attribute]?.trim();
    if (value === undefined || value === '') return false;
    const wanted = Array.isArray(match.equals) ? match.equals : [match.equals];
    return wanted.some((w) => w.trim() === value);
  }
  const target = match.department;
  for (const start of person.departmentIds ?? []) {
    // Walk up at most 64 levels (a parent cycle is quarantined elsewhere; never loop here).
    let id: string | undefined = start;
    for (let depth = 0; id !== undefined && depth < 64; depth++) {
      const d = departments.get(id);
      if (id === target || d?.name === target) return true;
      if (!match.recursive) break;
      id = d?.parentId;
    }
  }
  return false;
}

/** What `set` changes in NetEase as one line (plan, explain, run log). */
export function describePolicySet(set: PolicySet): string {
  const parts: string[] = [];
  if (set.quota !== undefined) parts.push(`quota ${set.quota}`);
  if (set.addrVisible !== undefined) parts.push(`addr_visible ${set.addrVisible}`);
  if (set.addrRight !== undefined) parts.push(`addr_right ${set.addrRight}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

/**
 * NetEase's `rank` for a source order value. The source model sorts ascending (directory.ts:
 * lower first; the WeCom adapter already turns its descending order around), and so does
 * our simulator. Unconfirmed: the direction NetEase's console sorts `rank` in (reference §2
 * names the calls only; S1 sends rank=2 without saying). Clamped to a 32-bit integer.
 */
export function rankOf(order: number | undefined): number | undefined {
  if (order === undefined || !Number.isFinite(order)) return undefined;
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Math.round(order)));
}
