/**
 * Adoption: on a tenant's first full run NetEase already holds most of the mailboxes and
 * units. Matching source objects to them and linking (no API call) instead of creating
 * duplicates is what makes the first run safe (issue 4, Build 4).
 *
 * Units match by path: a department matches an unmanaged NetEase unit under the unit its
 * parent is linked or mapped to (top-level for top-level departments) whose name is the
 * department's name or one of its duplicate-name candidates (unit-naming.ts).
 *
 * Accounts match in stages, like Entra's matching precedence (reference sync-and-ekp.md
 * Part B): the account name the tenant's rule yields, then each configured attribute
 * (email local part, job number, mobile). A match links only when it is one-to-one. When a
 * NetEase account name is wanted by several people, the configured attributes pick the one
 * they corroborate; if they cannot, nobody is linked and nobody is created: linking the
 * wrong person would hand them someone else's mail, and creating would make the duplicate
 * the first run must never make. Those people are reported for an admin to link by CSV.
 * Only active, in-scope people adopt: a leaver's old mailbox stays unmatched and untouched.
 */
import type { AccountNameRule, MatchAttribute, NeteaseAccountRecord, NeteaseUnitRecord } from './sync-plan';
import { compareIds, emailDomain, emailLocalPart, sortByIds } from './account-naming';
import { normalizeMobile } from './account-profile';
import { matchUnitNameCandidate, unitNameKey } from './unit-naming';

export interface UnitAdoptionRequest {
  sourceId: string;
  base: string;
  ancestors: readonly string[];
  /** In-scope parent department, undefined for top-level. */
  parentSourceId?: string;
}

export interface UnitAdoptionResult {
  links: Map<string, NeteaseUnitRecord>;
  /** Departments left unlinked because several same-name siblings fit one unit equally well. */
  ambiguous: Map<string, string>;
}

/**
 * Links departments (given parents first) to unmanaged NetEase units. `unitOfMapped`
 * answers the unit of an already mapped department; links made here are used for the
 * children that follow. When several unlinked sibling departments share the name of one
 * unit (two top-level 财务部, one in NetEase), the one whose child departments best match
 * the unit's child units wins; a tie links none of them (reported), since guessing would
 * hang one department's people under the other's unit.
 */
export function matchUnits(requests: readonly UnitAdoptionRequest[], unmanaged: readonly NeteaseUnitRecord[], unitOfMapped: (sourceId: string) => string | undefined): UnitAdoptionResult {
  const byParent = new Map<string, NeteaseUnitRecord[]>();
  for (const u of [...unmanaged].sort((a, b) => compareIds(a.unitId, b.unitId))) {
    const key = u.parentId ?? '';
    const list = byParent.get(key);
    if (list) list.push(u);
    else byParent.set(key, [u]);
  }
  // Source siblings and children, by base-name key.
  const childKeys = new Map<string, Set<string>>();
  const siblings = new Map<string, UnitAdoptionRequest[]>();
  for (const r of requests) {
    const parent = r.parentSourceId ?? '';
    const set = childKeys.get(parent);
    if (set) set.add(unitNameKey(r.base));
    else childKeys.set(parent, new Set([unitNameKey(r.base)]));
    const sk = `${parent}\u0000${unitNameKey(r.base)}`;
    const list = siblings.get(sk);
    if (list) list.push(r);
    else siblings.set(sk, [r]);
  }
  const score = (r: UnitAdoptionRequest, unit: NeteaseUnitRecord): number => {
    const mine = childKeys.get(r.sourceId);
    if (!mine) return 0;
    return (byParent.get(unit.unitId) ?? []).filter((c) => mine.has(unitNameKey(c.name))).length;
  };

  const links = new Map<string, NeteaseUnitRecord>();
  const ambiguous = new Map<string, string>();
  const used = new Set<string>();
  for (const r of requests) {
    if (unitOfMapped(r.sourceId) !== undefined || links.has(r.sourceId) || ambiguous.has(r.sourceId)) continue;
    let parentUnit: string | undefined = '';
    if (r.parentSourceId !== undefined) parentUnit = unitOfMapped(r.parentSourceId) ?? links.get(r.parentSourceId)?.unitId;
    // A parent that will be created has no NetEase children yet.
    if (parentUnit === undefined) continue;
    const pool = (byParent.get(parentUnit) ?? []).filter((u) => !used.has(u.unitId));
    const baseKey = unitNameKey(r.base);
    const hit = pool.find((u) => unitNameKey(u.name) === baseKey) ?? pool.find((u) => matchUnitNameCandidate(u.name, r.base, r.ancestors) !== undefined);
    if (!hit) continue;
    const contenders = (siblings.get(`${r.parentSourceId ?? ''}\u0000${baseKey}`) ?? [r]).filter(
      (c) => unitOfMapped(c.sourceId) === undefined && !links.has(c.sourceId) && !ambiguous.has(c.sourceId),
    );
    let winner: UnitAdoptionRequest | undefined = r;
    if (contenders.length > 1) {
      const scored = contenders.map((c) => ({ c, s: score(c, hit) })).sort((a, b) => b.s - a.s);
      winner = scored[0]!.s > scored[1]!.s ? scored[0]!.c : undefined;
      if (!winner) {
        for (const c of contenders) ambiguous.set(c.sourceId, `${contenders.length} departments named ${r.base} could be NetEase unit ${hit.name} (${hit.unitId})`);
        continue;
      }
    }
    links.set(winner.sourceId, hit);
    used.add(hit.unitId);
  }
  return { links, ambiguous };
}

export interface AccountAdoptionCandidate {
  sourceId: string;
  /** The valid account name the rule yields, if any. */
  accountName?: string;
  email?: string;
  jobNumber?: string;
  mobile?: string;
}

export interface AccountLink {
  account: NeteaseAccountRecord;
  matchedBy: 'accountName' | MatchAttribute;
}

export interface AccountAdoptionResult {
  links: Map<string, AccountLink>;
  /** sourceId -> why nothing was linked (no values, only account names). */
  ambiguous: Map<string, string>;
  /** Linked by name while every comparable configured attribute disagrees. */
  conflicts: Map<string, MatchAttribute[]>;
}

type Stage = 'accountName' | MatchAttribute;

function personKey(p: AccountAdoptionCandidate, stage: Stage, mailDomain: string | undefined): string | undefined {
  switch (stage) {
    case 'accountName':
      return p.accountName;
    case 'email': {
      if (mailDomain !== undefined && emailDomain(p.email) !== mailDomain.toLowerCase()) return undefined;
      return emailLocalPart(p.email)?.toLowerCase();
    }
    case 'jobNumber':
      return p.jobNumber?.trim().toLowerCase() || undefined;
    case 'mobile':
      return normalizeMobile(p.mobile);
  }
}

function accountKey(a: NeteaseAccountRecord, stage: Stage): string | undefined {
  switch (stage) {
    case 'accountName':
    case 'email':
      // A mailbox's address is <account_name>@<domain>.
      return a.accountName.toLowerCase();
    case 'jobNumber':
      return a.jobNo?.trim().toLowerCase() || undefined;
    case 'mobile':
      return normalizeMobile(a.mobile);
  }
}

/** Matches people to unmanaged mailboxes; see the module doc for the rules. */
export function matchAccounts(
  candidates: readonly AccountAdoptionCandidate[],
  unmanaged: readonly NeteaseAccountRecord[],
  attributes: readonly MatchAttribute[],
  options: { mailDomain?: string; accountNameRule?: AccountNameRule } = {},
): AccountAdoptionResult {
  const { mailDomain } = options;
  // Under the emailLocalPart rule the email *is* the account name: it cannot corroborate a name match.
  const independent = attributes.filter((a) => !(a === 'email' && options.accountNameRule === 'emailLocalPart'));
  const links = new Map<string, AccountLink>();
  const ambiguous = new Map<string, string>();
  const conflicts = new Map<string, MatchAttribute[]>();
  let people = sortByIds(candidates, (c) => c.sourceId);
  let pool = sortByIds(unmanaged, (a) => a.accountName);
  const stages: Stage[] = ['accountName', ...attributes.filter((a, i) => attributes.indexOf(a) === i)];

  const corroborates = (p: AccountAdoptionCandidate, a: NeteaseAccountRecord): boolean =>
    independent.some((attr) => {
      const pk = personKey(p, attr, mailDomain);
      return pk !== undefined && pk === accountKey(a, attr);
    });

  for (const stage of stages) {
    const accountsByKey = new Map<string, NeteaseAccountRecord[]>();
    for (const a of pool) {
      const k = accountKey(a, stage);
      if (k === undefined) continue;
      const list = accountsByKey.get(k);
      if (list) list.push(a);
      else accountsByKey.set(k, [a]);
    }
    const peopleByKey = new Map<string, AccountAdoptionCandidate[]>();
    for (const p of people) {
      const k = personKey(p, stage, mailDomain);
      if (k === undefined || !accountsByKey.has(k)) continue;
      const list = peopleByKey.get(k);
      if (list) list.push(p);
      else peopleByKey.set(k, [p]);
    }
    const done = new Set<string>();
    const takenAccounts = new Set<string>();
    for (const [key, ppl] of peopleByKey) {
      const accs = accountsByKey.get(key)!;
      if (accs.length === 1) {
        const account = accs[0]!;
        let winner: AccountAdoptionCandidate | undefined;
        if (ppl.length === 1) winner = ppl[0];
        else if (stage === 'accountName') {
          const agreeing = ppl.filter((p) => corroborates(p, account));
          if (agreeing.length === 1) winner = agreeing[0];
        }
        if (winner) {
          links.set(winner.sourceId, { account, matchedBy: stage });
          done.add(winner.sourceId);
          takenAccounts.add(account.accountName);
          if (stage === 'accountName') {
            const comparable = independent.filter((attr) => personKey(winner, attr, mailDomain) !== undefined && accountKey(account, attr) !== undefined);
            if (comparable.length > 0 && !corroborates(winner, account)) conflicts.set(winner.sourceId, comparable);
          }
          // Those who lost a contested name go on to the attribute stages.
          continue;
        }
      }
      const detail =
        accs.length > 1
          ? `${stage} matches ${accs.length} NetEase accounts (${accs.map((a) => a.accountName).join(', ')})`
          : `NetEase account ${accs[0]!.accountName} matches ${ppl.length} people by ${stage} (${ppl.map((p) => p.sourceId).join(', ')})`;
      for (const p of ppl) {
        ambiguous.set(p.sourceId, detail);
        done.add(p.sourceId);
      }
    }
    people = people.filter((p) => !done.has(p.sourceId));
    pool = pool.filter((a) => !takenAccounts.has(a.accountName));
  }
  return { links, ambiguous, conflicts };
}
