import type { Person } from '../directory';
import type { AccountMapping, AccountProfile, MatchAttribute, NeteaseAccountRecord } from '../sync-plan';
import { DAY_MS, DEFAULT_UNIT_ID, isDefaultUnitId, NETEASE_RECOVERY_WINDOW_DAYS } from '../sync-plan';
import { checkedProfile, neteaseProfile, profileHash } from '../account-profile';
import type { PeopleCounters, PersonIntent, Placement, PlanContext } from './context';
import { pushTo } from './context';
import type { AccountAdoption } from './adopt';
import type { AccountNaming } from './name';
import type { PeoplePlacement } from './people';
import type { MappingIndex, SourceRead } from './read';

export interface PersonIntents {
  intents: Map<string, PersonIntent>;
  counters: PeopleCounters;
  /** Unit id -> people whose account is in it now (for the emptiness check). */
  accountsInUnit: Map<string, string[]>;
}

/**
 * Stage 3e, people -> account intents: decides what happens to each person's mailbox.
 * Lifecycle: leaver -> suspend -> delete after the grace period (deleteAccountSim,
 * recoverable for 7 days); returning -> recover; disabled or out of scope -> suspend only
 * (never deleted automatically); active and in scope -> create or keep (and update/move).
 */
export function planPersonIntents(ctx: PlanContext, idx: MappingIndex, src: SourceRead, people: PeoplePlacement, adoption: AccountAdoption, naming: AccountNaming): PersonIntents {
  const { now, note } = ctx;
  const { universe } = src;
  const intents = new Map<string, PersonIntent>();
  const counters: PeopleCounters = { unchangedPeople: 0, skipped: 0, inactiveWithoutAccount: 0 };
  const recoveryMs = NETEASE_RECOVERY_WINDOW_DAYS * DAY_MS;

  const linkedMapping = (id: string, record: NeteaseAccountRecord): AccountMapping => {
    const m: AccountMapping = {
      sourceId: id,
      accountName: record.accountName.toLowerCase(),
      profileHash: profileHash(neteaseProfile(record)),
      unitId: isDefaultUnitId(record.unitId) ? DEFAULT_UNIT_ID : record.unitId!,
      status: record.status,
    };
    if (record.status === 'suspended') m.suspendedAt = now;
    return m;
  };

  for (const p of universe.people) {
    if (universe.deletedPeople.has(p.id)) continue;
    const link: { account: NeteaseAccountRecord; matchedBy: 'accountName' | MatchAttribute } | undefined = adoption.links.get(p.id);
    const placement = people.placements.get(p.id)!;
    // Only active, in-scope people are adoption candidates, so a linked person is one.
    const mapping = idx.accountMappings.get(p.id) ?? (link ? linkedMapping(p.id, link.account) : undefined);
    if (!mapping) {
      if (p.status !== 'active') counters.inactiveWithoutAccount++;
      else if (placement.state === 'in') {
        const name = naming.accountNames.names.get(p.id);
        if (name === undefined) counters.skipped++;
        else {
          const profile = profileNoted(ctx, p, name, placement);
          intents.set(p.id, { sourceId: p.id, accountName: name, action: 'create', dept: placement.dept, profile, profileHash: profileHash(profile) });
        }
      } else {
        counters.skipped++;
        if (placement.state === 'out') note('person', p.id, 'outOfScope', placement.why === 'noEmail' ? 'out of scope: no mail address (onlyWithEmail)' : 'out of scope (department filter)');
        else if (placement.quarantined !== undefined) note('person', p.id, 'departmentQuarantined', `department ${placement.quarantined} is quarantined: no mailbox is created until the source is fixed`);
        else note('person', p.id, 'scopeUnknown', 'this run cannot place the person (a department is unknown)');
      }
      continue;
    }
    if (p.status === 'left') {
      lifecycleGone(ctx, src, intents, counters, p.id, mapping, 'left', true);
      continue;
    }
    if (p.status === 'disabled' || placement.state === 'out') {
      if (placement.state === 'out' && p.status === 'active') {
        note('person', p.id, 'outOfScope', `out of scope (${placement.why === 'noEmail' ? 'no mail address' : 'department filter'}); account ${mapping.accountName} is suspended, never deleted automatically`);
      }
      if (mapping.status !== 'active') counters.unchangedPeople++;
      else if (!ctx.deletionsAllowed) {
        note('person', p.id, 'deletionWithheld', `account ${mapping.accountName} is not suspended: deletions are withheld in this run`);
        counters.skipped++;
      } else intents.set(p.id, { sourceId: p.id, accountName: mapping.accountName, action: 'suspend', suspendReason: p.status === 'disabled' ? 'disabled' : 'outOfScope', mapping });
      continue;
    }
    if (placement.state === 'unknown') {
      if (placement.quarantined !== undefined) note('person', p.id, 'departmentQuarantined', `department ${placement.quarantined} is quarantined; account ${mapping.accountName} is left as is`);
      else note('person', p.id, 'scopeUnknown', `this run cannot place the person (a department is unknown); account ${mapping.accountName} is left as is`);
      counters.skipped++;
      continue;
    }
    // Active and in scope.
    const d = people.derived.get(p.id);
    if (d?.ok && d.name !== mapping.accountName && !link) {
      note('person', p.id, 'accountNameDrift', `the naming rule now gives ${d.name}; the mailbox keeps ${mapping.accountName}`);
    }
    const profile = profileNoted(ctx, p, mapping.accountName, placement);
    const intent: PersonIntent = { sourceId: p.id, accountName: mapping.accountName, action: 'keep', dept: placement.dept, profile, profileHash: profileHash(profile), mapping };
    if (link) intent.linked = { matchedBy: link.matchedBy, record: link.account };
    if (mapping.status === 'suspended') intent.recover = 'suspended';
    else if (mapping.status === 'deleted') {
      if (ctx.purged.has(p.id)) {
        intent.action = 'create';
        intent.recreate = true;
        note('person', p.id, 'recreated', `account ${mapping.accountName} does not exist in NetEase (purged or never created); it is created again under the same name`);
      } else if (mapping.deletedAt === undefined || now - mapping.deletedAt < recoveryMs) intent.recover = 'deleted';
      else {
        intent.action = 'create';
        intent.recreate = true;
        note('person', p.id, 'recreated', `account ${mapping.accountName} was deleted more than ${NETEASE_RECOVERY_WINDOW_DAYS} days ago and cannot be recovered; it is created again under the same name`);
      }
    }
    intents.set(p.id, intent);
  }
  // Mapped people a complete snapshot no longer has, and explicit deletions.
  const seen = new Set(universe.people.map((p) => p.id));
  for (const [id, mapping] of idx.accountMappings) {
    if (universe.deletedPeople.has(id)) lifecycleGone(ctx, src, intents, counters, id, mapping, 'deleted', true);
    else if (!seen.has(id) && universe.authoritative) lifecycleGone(ctx, src, intents, counters, id, mapping, 'missing', false);
  }
  return { intents, counters, accountsInUnit: accountsByUnit(idx, adoption, intents) };
}

/** The person's profile as sent to NetEase; notes what was cleaned or dropped, and a missing department. */
function profileNoted(ctx: PlanContext, p: Person, accountName: string, placement: Placement): AccountProfile {
  const { profile, issues } = checkedProfile(p, accountName);
  for (const i of issues) ctx.note('person', p.id, i.code, i.detail);
  if (placement.state === 'in' && placement.missing) {
    ctx.note('person', p.id, 'departmentMissing', `department ${placement.missing.slice(0, 5).join(', ')} is not in the source: placed in the default unit`);
  }
  return profile;
}

/** A mapped person who left, was deleted or is missing: suspend now, delete after the grace period. */
function lifecycleGone(
  ctx: PlanContext,
  src: SourceRead,
  intents: Map<string, PersonIntent>,
  counters: PeopleCounters,
  id: string,
  mapping: AccountMapping,
  reason: 'left' | 'deleted' | 'missing',
  explicit: boolean,
): void {
  const { now, note } = ctx;
  const { universe } = src;
  if (mapping.status === 'active') {
    if (!ctx.deletionsAllowed || (!explicit && !universe.authoritative)) {
      note('person', id, 'deletionWithheld', `account ${mapping.accountName} is not suspended: deletions are withheld in this run`);
      counters.skipped++;
      return;
    }
    intents.set(id, { sourceId: id, accountName: mapping.accountName, action: 'suspend', suspendReason: reason, mapping });
    return;
  }
  if (mapping.status === 'suspended') {
    if (!universe.authoritative || !ctx.deletionsAllowed) {
      counters.unchangedPeople++;
      return;
    }
    if (mapping.suspendedAt === undefined) {
      note('person', id, 'suspendedAtUnknown', `account ${mapping.accountName} is suspended without a recorded time; it is not deleted`);
      counters.unchangedPeople++;
      return;
    }
    const due = mapping.suspendedAt + ctx.settings.suspendGraceDays * DAY_MS;
    if (now >= due) {
      intents.set(id, { sourceId: id, accountName: mapping.accountName, action: 'delete', mapping });
    } else {
      const days = Math.ceil((due - now) / DAY_MS);
      note('person', id, 'graceRemaining', `account ${mapping.accountName} is suspended; deletion in ${days} day(s)`);
      counters.unchangedPeople++;
    }
    return;
  }
  counters.unchangedPeople++;
}

/**
 * Accounts per current unit (for the emptiness check). A soft-deleted account does not hold
 * its unit (reference §2: NetEase recovers it for 7 days), unless this run recovers it.
 */
function accountsByUnit(idx: MappingIndex, adoption: AccountAdoption, intents: ReadonlyMap<string, PersonIntent>): Map<string, string[]> {
  const accountsInUnit = new Map<string, string[]>();
  for (const m of idx.accountMappings.values()) {
    if (isDefaultUnitId(m.unitId)) continue;
    if (m.status !== 'deleted' || intents.get(m.sourceId)?.recover === 'deleted') pushTo(accountsInUnit, m.unitId, m.sourceId);
  }
  for (const [id, l] of adoption.links) if (l.account.status !== 'deleted' && !isDefaultUnitId(l.account.unitId)) pushTo(accountsInUnit, l.account.unitId!, id);
  return accountsInUnit;
}
