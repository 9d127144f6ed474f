/**
 * The names the mail features must not take (plan/maillists.ts, plan/aliases.ts): every
 * account, alias and list of the domain that this run knows of. NetEase addresses share
 * one namespace per domain (a list or an alias cannot reuse an account's local part).
 * Both stages only report a collision, never take a name from its holder.
 */
import type { MailNeteaseState } from '../mail-features';
import type { AccountMapping, NeteaseState, UnitMapping } from '../sync-plan';
import { fnv1a64 } from '../content-hash';
import type { PersonIntent } from './context';
import type { OpDrafts } from './diff';

/** Who holds an address: an account (of a person, or unmanaged), a person's alias, or a department's list. */
export type AddressHolder = { kind: 'account'; sourceId?: string } | { kind: 'alias'; sourceId?: string; accountName: string } | { kind: 'list'; sourceId?: string };

export interface AddressBook {
  holderOf(name: string): AddressHolder | undefined;
  /** Record a name this run gives out (first claim wins). */
  claim(name: string, holder: AddressHolder): void;
}

/**
 * Everything this run knows holds an address: mapped accounts and the accounts this run
 * creates, NetEase's accounts (full runs), the bridge's aliases and lists (mappings) and,
 * on full runs, NetEase's aliases and lists as read.
 */
export function buildAddressBook(input: {
  accounts: Iterable<AccountMapping>;
  units: readonly UnitMapping[];
  intents: ReadonlyMap<string, PersonIntent>;
  netease?: NeteaseState;
  mail?: MailNeteaseState;
}): AddressBook {
  const held = new Map<string, AddressHolder>();
  const put = (name: string, h: AddressHolder) => {
    const k = name.toLowerCase();
    if (!held.has(k)) held.set(k, h);
  };
  for (const a of input.accounts) put(a.accountName, { kind: 'account', sourceId: a.sourceId });
  for (const it of input.intents.values()) if (it.action === 'create') put(it.accountName, { kind: 'account', sourceId: it.sourceId });
  for (const a of input.netease?.accounts ?? []) put(a.accountName, { kind: 'account' });
  for (const u of input.units) if (u.mailList) put(u.mailList.name, { kind: 'list', sourceId: u.sourceId });
  for (const a of input.accounts) for (const al of a.aliases ?? []) put(al, { kind: 'alias', sourceId: a.sourceId, accountName: a.accountName });
  for (const name of input.mail?.lists.keys() ?? []) put(name, { kind: 'list' });
  for (const [account, aliases] of input.mail?.aliases ?? []) for (const al of aliases) put(al, { kind: 'alias', accountName: account });
  return { holderOf: (name) => held.get(name.toLowerCase()), claim: put };
}

/** One line naming a holder, for notes (ids and local parts only). */
export function describeHolder(h: AddressHolder): string {
  switch (h.kind) {
    case 'account':
      return h.sourceId !== undefined ? `the account of person ${h.sourceId}` : 'a NetEase account the bridge does not manage';
    case 'alias':
      return `an alias of account ${h.accountName}${h.sourceId === undefined ? ' (not added by the bridge)' : ''}`;
    case 'list':
      return h.sourceId !== undefined ? `the mailing list of department ${h.sourceId}` : 'a NetEase mailing list the bridge does not manage';
  }
}

/** Hash of a member set (sorted, lowercase local parts): what a list's mapping compares. */
export function hashMembers(members: readonly string[]): string {
  return fnv1a64(`members/v1\n${members.join('\n')}`);
}

/** Lowercase a-z and 0-9 only: what is left of a romanized name as an address part. */
export function addressPart(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Stage 6c, address hand-overs: a list created or an alias added under a name that another
 * department's list or person's alias gives up in this plan waits for that delete/removal.
 */
export function wireAddressReleases(ops: OpDrafts): void {
  const releases = new Map<string, number>();
  ops.drafts.forEach(({ draft }, i) => {
    if (draft.kind === 'alias.remove') releases.set(draft.alias, i);
    else if (draft.kind === 'maillist.delete') releases.set(draft.name, i);
  });
  if (releases.size === 0) return;
  ops.drafts.forEach(({ draft, deps }) => {
    const name = draft.kind === 'alias.add' ? draft.alias : draft.kind === 'maillist.create' ? draft.name : undefined;
    const r = name === undefined ? undefined : releases.get(name);
    const holder = r === undefined ? undefined : ops.drafts[r]!.draft;
    // Skip only a release of the same object (its own rename); a department and a person may share an id.
    if (r !== undefined && !(holder!.sourceId === draft.sourceId && holder!.kind.split('.')[0] === draft.kind.split('.')[0])) deps.push(r);
  });
}
