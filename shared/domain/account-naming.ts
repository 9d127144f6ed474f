/**
 * NetEase account names (the local part of the address): derivation from a source person
 * by the tenant's rule, validation, and deterministic collision resolution.
 *
 * NetEase only documents that `account_name` is the local part (reference
 * netease-qiye-api.md §5); its exact character rules are not published. We accept the
 * conservative set every observed integration uses: lowercase a-z, digits, '.', '_' and
 * '-', starting and ending with a letter or digit, no '..', at most 64 characters (the
 * RFC 5321 local-part limit). Names outside it (for example Chinese login names) are
 * reported and skipped rather than transliterated: a guessed pinyin address is exactly
 * the duplicate-name trap go-ldap-admin users hit (#175, #313).
 */
import type { Person } from './directory';
import type { AccountNameCollision, AccountNameRule } from './sync-plan';

export const MAX_ACCOUNT_NAME_LENGTH = 64;
const ACCOUNT_NAME = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;

export type AccountNameResult =
  | { ok: true; name: string }
  | { ok: false; problem: 'noAccountName' | 'invalidAccountName'; detail: string };

/** True when `name` is a local part the bridge is willing to create. */
export function isValidAccountName(name: string): boolean {
  return name.length <= MAX_ACCOUNT_NAME_LENGTH && ACCOUNT_NAME.test(name) && !name.includes('..');
}

/** The local part of an address, or undefined when `email` has no single '@' with text on both sides. */
export function emailLocalPart(email: string | undefined): string | undefined {
  const e = email?.trim();
  if (!e) return undefined;
  const at = e.indexOf('@');
  if (at <= 0 || at !== e.lastIndexOf('@') || at === e.length - 1) return undefined;
  return e.slice(0, at);
}

/** The domain of an address, lowercased, or undefined. */
export function emailDomain(email: string | undefined): string | undefined {
  const e = email?.trim();
  if (!e || emailLocalPart(e) === undefined) return undefined;
  return e.slice(e.indexOf('@') + 1).toLowerCase();
}

/**
 * The account name `rule` yields for `person`, lowercased. A login name that is an address
 * contributes its local part. Never consults other people: collisions are resolved by
 * assignAccountNames().
 */
export function deriveAccountName(person: Pick<Person, 'email' | 'loginName' | 'jobNumber'>, rule: AccountNameRule): AccountNameResult {
  let raw: string | undefined;
  let field: string;
  switch (rule) {
    case 'emailLocalPart':
      field = 'email';
      raw = person.email?.trim() ? emailLocalPart(person.email) : undefined;
      if (person.email?.trim() && raw === undefined) {
        return { ok: false, problem: 'invalidAccountName', detail: 'the email field is not an address' };
      }
      break;
    case 'loginName': {
      field = 'login name';
      const login = person.loginName?.trim();
      raw = login && login.includes('@') ? emailLocalPart(login) ?? login : login;
      break;
    }
    case 'jobNumber':
      field = 'job number';
      raw = person.jobNumber?.trim();
      break;
  }
  if (!raw) return { ok: false, problem: 'noAccountName', detail: `no ${field} to derive an account name from (rule ${rule})` };
  const name = raw.toLowerCase();
  if (!isValidAccountName(name)) {
    // The rejected value is a would-be address local part, not a secret; still, keep it out
    // of the detail so reports stay free of personal data beyond ids.
    return { ok: false, problem: 'invalidAccountName', detail: `the ${field} does not make a valid account name (a-z, 0-9, '.', '_', '-'; max ${MAX_ACCOUNT_NAME_LENGTH})` };
  }
  return { ok: true, name };
}

function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Compares source ids: numeric ids numerically (DingTalk and WeCom use numbers, without
 * leading zeros), anything else by code unit, numbers first. Total and stable, so every
 * ordering built on it is reproducible.
 */
export function compareIds(a: string, b: string): number {
  const an = allDigits(a);
  const bn = allDigits(b);
  if (an !== bn) return an ? -1 : 1;
  if (an && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A string whose plain (<) order is compareIds order: for sorting large arrays by a precomputed key. */
export function idSortKey(id: string): string {
  return allDigits(id) ? `0${String(id.length).padStart(6, '0')}${id}` : `1${id}`;
}

/** Sorts `items` by compareIds of `idOf(item)`, computing each key once. Returns a new array. */
export function sortByIds<T>(items: Iterable<T>, idOf: (item: T) => string): T[] {
  const decorated = Array.from(items, (item) => ({ key: idSortKey(idOf(item)), item }));
  decorated.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return decorated.map((d) => d.item);
}

/** Who already holds an account name before this run's assignment. */
export type NameHolder = { kind: 'mapped'; sourceId: string } | { kind: 'netease' };

export interface AccountNameRequest {
  sourceId: string;
  /** The valid name the rule produced. */
  base: string;
}

export interface AccountNameAssignment {
  names: Map<string, string>;
  collisions: AccountNameCollision[];
  /** Requests whose suffixed name would exceed the length limit. */
  tooLong: string[];
}

/**
 * Gives every request a unique account name, deterministically:
 * 1. names already held (mapped people, mailboxes we do not manage) are never given out;
 * 2. in source-id order, every request whose own name is free gets it (so a person whose
 *    rule literally yields "zhangsan2" keeps it even when another zhangsan needs a suffix);
 * 3. the rest, in source-id order, get `<base>2`, `<base>3`... the first free one.
 * A mapped person keeps their name forever, so a newcomer never displaces anyone, and
 * planning twice with the same inputs gives the same answer.
 */
export function assignAccountNames(requests: readonly AccountNameRequest[], held: ReadonlyMap<string, NameHolder>): AccountNameAssignment {
  const sorted = sortByIds(requests, (r) => r.sourceId);
  const names = new Map<string, string>();
  const takenThisRun = new Set<string>();
  const leftovers: AccountNameRequest[] = [];
  const plainWinner = new Map<string, string>();
  for (const r of sorted) {
    if (!held.has(r.base) && !takenThisRun.has(r.base)) {
      names.set(r.sourceId, r.base);
      takenThisRun.add(r.base);
      plainWinner.set(r.base, r.sourceId);
    } else leftovers.push(r);
  }
  const groups = new Map<string, AccountNameCollision>();
  const tooLong: string[] = [];
  for (const r of leftovers) {
    let n = 2;
    let candidate = `${r.base}${n}`;
    while (held.has(candidate) || takenThisRun.has(candidate)) candidate = `${r.base}${++n}`;
    if (candidate.length > MAX_ACCOUNT_NAME_LENGTH) {
      tooLong.push(r.sourceId);
      continue;
    }
    names.set(r.sourceId, candidate);
    takenThisRun.add(candidate);
    let group = groups.get(r.base);
    if (!group) {
      const holder = held.get(r.base);
      group = { base: r.base, heldBy: holder ? holder.kind : 'thisRun', assigned: [] };
      // Show who kept the plain name when it went to someone in this run.
      const winner = holder ? undefined : plainWinner.get(r.base);
      if (winner !== undefined) group.assigned.push({ sourceId: winner, accountName: r.base });
      groups.set(r.base, group);
    }
    group.assigned.push({ sourceId: r.sourceId, accountName: candidate });
  }
  return { names, collisions: [...groups.values()], tooLong };
}
