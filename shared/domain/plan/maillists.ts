/**
 * Department mailing lists (opt-in per tenant: `sync.mailLists`). One list per in-scope
 * department, its members the department's active mailboxes (and, with
 * `includeSubDepartments`, those of every in-scope sub-department). Follows renames
 * (display name; with the pinyin rule the address too), moves (members of a parent list),
 * joiners and leavers on every run. Diff-based: the list's display name and a hash of its
 * members are kept on the department's unit mapping, so an unchanged department costs no
 * call; a full run also compares with the lists NetEase holds (mail-state.ts) and repairs a
 * list edited or deleted by hand.
 *
 * Members of a department: people this run plans (create / keep) in it, and, for people
 * this run does not look at (incremental runs), the mapped active accounts whose unit is
 * the department's. Leavers (suspended) are not members. A department without members has
 * no list (NetEase's updateMaillist needs at least one member: reference §4 / N1).
 *
 * Deletion: the list of a department that retires (gone from the source, out of scope) or
 * that has no members any more is deleted; a department this run cannot judge (retained)
 * keeps its list. Turning the feature off deletes nothing (an operator removes the lists).
 */
import { isValidAccountName, sortByIds } from '../account-naming';
import type { MailListMapping } from '../mail-features';
import type { UnitMapping } from '../sync-plan';
import { isMovedAwayId } from './moved-away';
import { pushTo, type PersonIntent, type PlanContext } from './context';
import type { OpDrafts } from './diff';
import { addressPart, describeHolder, hashMembers, type AddressBook } from './mail-names';
import type { UnitNaming } from './name';
import type { MappingIndex, SourceRead } from './read';
import type { UnitRoles } from './roles';

/**
 * Most members one list operation carries: the operation travels in a stored plan batch (one
 * item of at most 300 KB of JSON), and NetEase's own limit on a list is unknown. A bigger
 * department gets no list (reported).
 */
export const MAX_MAILLIST_MEMBERS = 10_000;
/** Estimated JSON bytes of one list operation above which it is not planned (a stored batch holds at most 300 KB). */
export const MAX_LIST_OP_BYTES = 250_000;

/** Members (quoted names) plus dependencies (quoted op ids, one per direct member's account op and per sub-department) plus the rest. */
function estimatedOpBytes(members: readonly string[], dependencies: number): number {
  let bytes = 400;
  for (const m of members) bytes += m.length + 3;
  return bytes + dependencies * 24;
}

interface DesiredList {
  name: string;
  displayName: string;
  members: string[];
}

/**
 * Stage 5e, mailing lists: decides the list operations (create, update, delete) and
 * reports names that are taken. Claims the list names in `book` (aliases come after lists).
 */
export function planMailLists(ctx: PlanContext, idx: MappingIndex, src: SourceRead, roles: UnitRoles, naming: UnitNaming, intents: ReadonlyMap<string, PersonIntent>, book: AddressBook, ops: OpDrafts): void {
  const settings = ctx.settings.mailLists;
  if (!settings?.enabled) return;
  if (!ctx.input.mail?.listsAvailable) {
    ctx.note('department', '*', 'mailListsUnavailable', 'mailing lists are enabled but the tenant has no NetEase open platform (netease.openPlatform and the authCode in its netease secret): no list is created or changed');
    return;
  }
  const { direct, members } = membersByDepartment(idx, src, intents, settings.includeSubDepartments);
  const mapped = new Map<string, UnitMapping & { mailList: MailListMapping }>();
  for (const u of ctx.input.mappings.units) if (u.mailList && !isMovedAwayId(u.sourceId) && (u.status === 'active' || !mapped.has(u.sourceId))) mapped.set(u.sourceId, u as UnitMapping & { mailList: MailListMapping });
  const nsLists = ctx.input.mail.netease?.lists;
  const personOf = new Map(idx.mappedAccountNames);
  for (const it of intents.values()) if (it.action === 'create' || it.action === 'keep') personOf.set(it.accountName.toLowerCase(), it.sourceId);

  const listOps = new Map<string, number>();
  // In-scope sub-departments, when their people are members too (a list then waits for theirs: wireMembers).
  const children = new Map<string, string[]>();
  if (settings.includeSubDepartments) {
    for (const id of src.desired) {
      const p = src.scope.unitParent.get(id);
      if (p !== undefined) pushTo(children, p, id);
    }
  }
  for (const id of src.priority) {
    const count = members.get(id)?.length ?? 0;
    const dependencies = (direct.get(id)?.size ?? 0) + (children.get(id)?.length ?? 0);
    if (count > MAX_MAILLIST_MEMBERS || estimatedOpBytes(members.get(id) ?? [], dependencies) > MAX_LIST_OP_BYTES) {
      // Left as it is (an existing list is neither changed nor deleted).
      ctx.note('department', id, 'mailListTooLarge', `${count} members: more than one list operation carries (${MAX_MAILLIST_MEMBERS} members, ${MAX_LIST_OP_BYTES} bytes): the list is not created or changed`);
      continue;
    }
    const desired = desiredList(ctx, id, naming.names.get(id)!, members.get(id) ?? [], book);
    const cur = mapped.get(id)?.mailList;
    // On a full run, NetEase's own copy decides: a list deleted by hand is created again.
    const held = cur && nsLists ? nsLists.get(cur.name) : undefined;
    const exists = cur !== undefined && (!nsLists || held !== undefined);
    if (!desired) {
      if (cur) ops.add({ kind: 'maillist.delete', sourceId: id, name: cur.name });
      continue;
    }
    const membersHash = hashMembers(desired.members);
    if (exists && cur.name === desired.name) {
      const actualHash = held?.members ? hashMembers(held.members.filter((m) => !m.includes('@')).slice().sort()) : cur.membersHash;
      const actualName = held?.displayName ?? cur.displayName;
      if (actualHash !== membersHash || actualName !== desired.displayName || cur.membersHash !== membersHash || cur.displayName !== desired.displayName) {
        listOps.set(id, ops.add({ kind: 'maillist.update', sourceId: id, ...desired, membersHash, previousDisplayName: cur.displayName }));
      }
      continue;
    }
    const del = cur && exists ? ops.add({ kind: 'maillist.delete', sourceId: id, name: cur.name }) : undefined;
    const i = ops.add({ kind: 'maillist.create', sourceId: id, ...desired, membersHash });
    // The mapping write of the delete (same department) must come first.
    if (del !== undefined) ops.drafts[i]!.deps.push(del);
    const unitOp = ops.opAt(`unit.create:${id}`) ?? ops.opAt(`unit.link:${id}`);
    if (unitOp !== undefined) ops.drafts[i]!.deps.push(unitOp);
    listOps.set(id, i);
  }
  wireMembers(ops, listOps, direct, personOf, children);
  for (const [id, u] of sortByIds(mapped, ([k]) => k)) {
    if (src.desiredSet.has(id) || roles.roleOf.get(id) === 'retained') continue;
    // Gone, out of scope or already deleted: the list goes too (NetEase's notFound counts as done).
    ops.add({ kind: 'maillist.delete', sourceId: id, name: u.mailList.name });
  }
}

/** The list a desired department should have, or undefined (no members, or its address is invalid or taken). Claims the name. */
function desiredList(ctx: PlanContext, id: string, unitName: string, members: string[], book: AddressBook): DesiredList | undefined {
  if (members.length === 0) return undefined;
  const { naming } = ctx.settings.mailLists!;
  const core = naming.rule === 'id' ? id.toLowerCase() : addressPart(ctx.input.mail?.romanize?.(unitName) ?? '');
  const name = `${naming.prefix ?? ''}${core}${naming.suffix ?? ''}`.toLowerCase();
  if (core === '' || !isValidAccountName(name)) {
    ctx.note('department', id, 'mailListNameCollision', `the ${naming.rule} rule gives no valid list address ("${name}"): no mailing list`);
    return undefined;
  }
  const holder = book.holderOf(name);
  if (holder && !(holder.kind === 'list' && holder.sourceId === id)) {
    ctx.note('department', id, 'mailListNameCollision', `list address ${name} is held by ${describeHolder(holder)}: no mailing list (never taken from its holder)`);
    return undefined;
  }
  book.claim(name, { kind: 'list', sourceId: id });
  return { name, displayName: unitName, members };
}

/** Department -> its direct members, and its list's sorted members (module doc). */
function membersByDepartment(idx: MappingIndex, src: SourceRead, intents: ReadonlyMap<string, PersonIntent>, recursive: boolean): { direct: Map<string, Set<string>>; members: Map<string, string[]> } {
  const direct = new Map<string, Set<string>>();
  const add = (dept: string, name: string) => {
    let s = direct.get(dept);
    if (!s) direct.set(dept, (s = new Set()));
    s.add(name.toLowerCase());
  };
  for (const it of intents.values()) if ((it.action === 'create' || it.action === 'keep') && it.dept) add(it.dept, it.accountName);
  for (const m of idx.accountMappings.values()) {
    if (intents.has(m.sourceId) || m.status !== 'active') continue;
    const dept = idx.unitsByUnitId.get(m.unitId)?.sourceId;
    if (dept !== undefined) add(dept, m.accountName);
  }
  const out = new Map<string, Set<string>>();
  for (const [dept, names] of direct) {
    if (!src.desiredSet.has(dept)) continue;
    let d: string | undefined = dept;
    while (d !== undefined) {
      let s = out.get(d);
      if (!s) out.set(d, (s = new Set()));
      for (const n of names) s.add(n);
      d = recursive ? src.scope.unitParent.get(d) : undefined;
    }
  }
  return { direct, members: new Map([...out].map(([k, v]) => [k, [...v].sort()])) };
}

/**
 * A list's write waits for its members' mailboxes (created, recovered or linked in this
 * plan). With sub-departments, a list waits for each sub-department's list operation
 * instead of that sub-department's people (who that operation already waits for), or for
 * the sub-department's own needs when it has no list operation: dependencies stay O(people
 * + departments), not O(people x depth), so a plan batch stays small.
 */
function wireMembers(ops: OpDrafts, listOps: ReadonlyMap<string, number>, direct: ReadonlyMap<string, Set<string>>, personOf: ReadonlyMap<string, string>, children: ReadonlyMap<string, readonly string[]>): void {
  const accountOps = (dept: string): number[] => {
    const out: number[] = [];
    for (const name of direct.get(dept) ?? []) {
      const pid = personOf.get(name);
      if (pid === undefined) continue;
      for (const k of ['account.create', 'account.recover', 'account.link']) {
        const j = ops.opAt(`${k}:${pid}`);
        if (j !== undefined) out.push(j);
      }
    }
    return out;
  };
  const memo = new Map<string, number[]>();
  // What waiting for `dept`'s people (and sub-departments') means: its list op, or their account ops.
  const needsOf = (dept: string): number[] => {
    const op = listOps.get(dept);
    if (op !== undefined) return [op];
    let n = memo.get(dept);
    if (!n) memo.set(dept, (n = [...accountOps(dept), ...(children.get(dept) ?? []).flatMap(needsOf)]));
    return n;
  };
  for (const [dept, i] of listOps) ops.drafts[i]!.deps.push(...accountOps(dept), ...(children.get(dept) ?? []).flatMap(needsOf));
}
