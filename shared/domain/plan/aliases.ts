/**
 * Aliases from the source (opt-in per tenant: `sync.aliases`). One alias per person with an
 * active mailbox: the local part of a source field (`email` only when its domain is the
 * tenant's NetEase domain; `loginName` / `jobNumber` as they are, or their local part when
 * they hold an address of that domain), or the pinyin of the display name. Added with
 * account/addAccountAlias, removed with deleteAccountAlias (reference §2).
 *
 * Only aliases the bridge added (kept on the account mapping, `AccountMapping.aliases`) are
 * ever removed; an alias an admin added by hand is never in the mapping and never touched.
 * Collisions (the alias is an account, a list or another person's alias, or two people of
 * this run want the same one) are reported and the alias is not added: with two 张三 a
 * guessed `zhangsan` would deliver one person's mail to the other, so neither gets it.
 * People this run does not look at (incremental runs), leavers (suspended: their aliases
 * stay with the mailbox) and deleted accounts are left alone.
 */
import { emailDomain, emailLocalPart, isValidAccountName, sortByIds } from '../account-naming';
import type { Person } from '../directory';
import { pushTo, type PlanContext, type PersonIntent } from './context';
import type { OpDrafts } from './diff';
import { addressPart, describeHolder, type AddressBook } from './mail-names';
import type { SourceRead } from './read';

/** Stage 5f, aliases: decides alias additions and removals (after mailing lists, which claim their names first). */
export function planAliases(ctx: PlanContext, src: SourceRead, intents: ReadonlyMap<string, PersonIntent>, book: AddressBook, ops: OpDrafts): void {
  if (!ctx.settings.aliases) return;
  const people = new Map<string, Person>(src.universe.people.map((p) => [p.id, p]));
  const wanted = new Map<string, { it: PersonIntent; alias: string | undefined }>();
  const claimants = new Map<string, string[]>();
  for (const it of sortByIds(intents.values(), (i) => i.sourceId)) {
    if (it.action !== 'create' && it.action !== 'keep') continue;
    const person = people.get(it.sourceId);
    if (!person) continue;
    const alias = aliasOf(ctx, person);
    const account = it.accountName.toLowerCase();
    const usable = alias !== undefined && alias !== account ? alias : undefined;
    wanted.set(it.sourceId, { it, alias: usable });
    if (usable !== undefined) pushTo(claimants, usable, it.sourceId);
  }
  for (const [pid, { it, alias }] of wanted) {
    const account = it.accountName.toLowerCase();
    const had = it.mapping?.aliases ?? [];
    let keep = alias;
    if (alias !== undefined && !had.includes(alias)) {
      const holder = book.holderOf(alias);
      const rivals = claimants.get(alias)!;
      if (holder?.kind === 'alias' && holder.sourceId === undefined && holder.accountName.toLowerCase() === account) {
        // Already there, added by hand: nothing to add, and never recorded (so never removed).
        keep = undefined;
      } else if (holder && !(holder.kind === 'alias' && holder.sourceId === pid)) {
        ctx.note('person', pid, 'aliasCollision', `alias ${alias} is held by ${describeHolder(holder)}: not added (never taken from its holder)`);
        keep = undefined;
      } else if (rivals.length > 1) {
        ctx.note('person', pid, 'aliasCollision', `alias ${alias} is wanted by ${rivals.length} people (${rivals.join(', ')}): given to none of them`);
        keep = undefined;
      }
    }
    const steps: Array<{ kind: 'alias.add' | 'alias.remove'; alias: string }> = [];
    for (const old of had) if (old !== keep) steps.push({ kind: 'alias.remove', alias: old });
    if (keep !== undefined && !had.includes(keep)) steps.push({ kind: 'alias.add', alias: keep });
    if (keep !== undefined) book.claim(keep, { kind: 'alias', sourceId: pid, accountName: account });
    // One person's alias operations run one after the other: each writes the mapping's list as it stands after it.
    let current = [...had];
    let prev: number | undefined;
    for (const step of steps) {
      current = step.kind === 'alias.add' ? [...current, step.alias] : current.filter((a) => a !== step.alias);
      const i = ops.add({ kind: step.kind, sourceId: pid, accountName: account, alias: step.alias, aliases: [...current] }, `${step.kind}:${pid}:${step.alias}`);
      ops.after(i, [`account.create:${pid}`, `account.recover:${pid}`, `account.link:${pid}`]);
      if (prev !== undefined) ops.drafts[i]!.deps.push(prev);
      prev = i;
    }
  }
}

/** The alias the rule gives `person`, or undefined (no value, not the tenant's domain, not a valid local part). */
function aliasOf(ctx: PlanContext, person: Person): string | undefined {
  const rule = ctx.settings.aliases!;
  const domain = ctx.input.mailDomain?.toLowerCase();
  let raw: string | undefined;
  if (rule.rule === 'pinyin') {
    const romanized = ctx.input.mail?.romanize?.(person.displayName);
    raw = romanized === undefined ? undefined : addressPart(romanized);
  } else {
    const value = person[rule.field]?.trim();
    if (value?.includes('@')) raw = domain !== undefined && emailDomain(value) === domain ? emailLocalPart(value) : undefined;
    else raw = rule.field === 'email' ? undefined : value;
  }
  const alias = raw?.toLowerCase();
  return alias && isValidAccountName(alias) ? alias : undefined;
}
