/**
 * Stage 5g, leaver forwarding (`sync.leavers.forwardTo`, opt-in): decides where a leaver's
 * mail goes during the suspension grace period, as one `account.forward` (legacy
 * updateAccount `fwd`, reference §2) per leaver.
 *
 * - Leavers only: a person who left, was deleted, or is missing from a complete snapshot.
 *   Someone disabled or out of scope is suspended without forwarding.
 * - `forwardTo: "manager"`: the person's manager from the source (WeCom `direct_leader`,
 *   else a manager of their main department: DingTalk `dept_manager_userid_list`, EKP
 *   `thisLeader`) when that manager has a mailbox the bridge manages that is active after
 *   this run (created, kept or recovered by it, or active and untouched), so a re-plan of
 *   the same source picks the same target; else `leavers.fallback`; else nothing, with a note.
 *   `forwardTo: "<address>"`: always that address.
 * - When: with the suspension, and for a leaver already suspended whose forwarding was never
 *   set or whose target changed (the mapping keeps a hash of the target, never the address).
 *   The reference does not say whether NetEase keeps forwarding for a suspended mailbox.
 *   Our choice: the forward is planned in the same phase as the suspension, and the
 *   suspension does NOT wait for it, so a failed forwarding call never keeps a leaver able
 *   to sign in; the next run sees no recorded target and sets it again.
 * - Deletion after the grace period is unchanged (intents.ts): the mailbox and its
 *   forwarding go together.
 * - A returning leaver is recovered as before, but the forwarding cannot be cleared: the
 *   legacy API drops empty parameters (signing rule, §1) and documents no "no forwarding"
 *   value. The plan reports it as unresolved so an admin clears it in the console.
 *
 * Notes name account names, person ids and the configured address only (no personal data).
 */
import type { Person } from '../directory';
import { hashFields } from '../content-hash';
import type { UnresolvedItem } from '../sync-plan';
import type { PersonIntent, PlanContext } from './context';
import type { OpDrafts } from './diff';
import type { MappingIndex, SourceRead } from './read';

export function planForwarding(ctx: PlanContext, idx: MappingIndex, src: SourceRead, intents: ReadonlyMap<string, PersonIntent>, ops: OpDrafts): UnresolvedItem[] {
  const unresolved: UnresolvedItem[] = [];
  const leavers = ctx.settings.leavers;
  for (const it of intents.values()) {
    if (it.recover !== undefined && it.mapping?.forwardHash !== undefined) {
      unresolved.push({ type: 'person', sourceId: it.sourceId, name: it.accountName, why: `returns after leaving: the forwarding set for the leave stays on; clear it in the NetEase console (the API cannot clear fwd)` });
    }
  }
  const forwardTo = leavers?.forwardTo;
  if (forwardTo === undefined) return unresolved;
  const { universe } = src;
  const people = new Map<string, Person>(universe.people.map((p) => [p.id, p]));
  const leaving = (id: string): boolean => {
    const p = people.get(id);
    if (universe.deletedPeople.has(id)) return true;
    if (p) return p.status === 'left';
    return universe.authoritative;
  };
  const domain = ctx.input.mailDomain?.trim().toLowerCase();
  const deptManagers = departmentManagers(ctx);
  const managerAddress = (p: Person | undefined): { to: string; account: string; managerId: string } | undefined => {
    if (!p || domain === undefined) return undefined;
    const candidates = [p.managerId, ...managerIdsOf(deptManagers, p)].filter((m): m is string => m !== undefined && m !== p.id);
    for (const m of candidates) {
      // The manager's mailbox as it is after this run (so a re-plan of the same source agrees):
      // one this run creates, keeps or recovers; else one already active that this run leaves alone.
      const intent = intents.get(m);
      const mapped = idx.accountMappings.get(m);
      const account = intent ? (intent.action === 'create' || intent.action === 'keep' ? intent.accountName : undefined) : mapped?.status === 'active' ? mapped.accountName : undefined;
      if (account !== undefined) return { to: `${account}@${domain}`, account, managerId: m };
    }
    return undefined;
  };

  const candidates: Array<{ id: string; accountName: string; forwardHash?: string }> = [];
  for (const it of intents.values()) {
    if (it.action === 'suspend' && (it.suspendReason === 'left' || it.suspendReason === 'deleted' || it.suspendReason === 'missing')) {
      candidates.push({ id: it.sourceId, accountName: it.accountName, ...(it.mapping?.forwardHash !== undefined ? { forwardHash: it.mapping.forwardHash } : {}) });
    }
  }
  // Leavers suspended in an earlier run, still in their grace period (no intent, or not a deletion).
  for (const [id, m] of idx.accountMappings) {
    if (m.status !== 'suspended' || intents.has(id) || !leaving(id)) continue;
    candidates.push({ id, accountName: m.accountName, ...(m.forwardHash !== undefined ? { forwardHash: m.forwardHash } : {}) });
  }
  candidates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const c of candidates) {
    let target: { to: string; via: 'manager' | 'address'; detail: string; managerId?: string } | undefined;
    if (forwardTo === 'manager') {
      const m = managerAddress(people.get(c.id));
      if (m) target = { to: m.to, via: 'manager', detail: `manager ${m.managerId}'s account ${m.account}`, managerId: m.managerId };
      else if (leavers?.fallback !== undefined) target = { to: leavers.fallback, via: 'address', detail: `the fallback address ${leavers.fallback} (no manager with an active mailbox in the source)` };
    } else target = { to: forwardTo, via: 'address', detail: `the configured address ${forwardTo}` };
    if (!target) {
      ctx.note('person', c.id, 'forwarding', `account ${c.accountName}: not forwarded (the source names no manager with an active mailbox, and leavers.fallback is not set)`);
      continue;
    }
    const toHash = hashFields(['forward/v1', target.to.toLowerCase()]);
    if (c.forwardHash === toHash) continue;
    ops.add({ kind: 'account.forward', sourceId: c.id, accountName: c.accountName, to: target.to, toHash, via: target.via, ...(target.managerId !== undefined ? { managerSourceId: target.managerId } : {}) });
    ctx.note('person', c.id, 'forwarding', `mail of account ${c.accountName} is forwarded to ${target.detail} during the grace period`);
  }
  return unresolved;
}

/** Managers of the person's main (else first) department, as the source lists them. */
function managerIdsOf(deptManagers: ReadonlyMap<string, string[]>, p: Person): string[] {
  const dept = p.mainDepartmentId ?? p.departmentIds?.[0];
  if (dept === undefined) return [];
  return deptManagers.get(dept) ?? [];
}

/** Department id -> its managers, from the departments read in this run. */
function departmentManagers(ctx: PlanContext): Map<string, string[]> {
  const view = ctx.input.source.kind === 'snapshot' ? ctx.input.source.snapshot : ctx.input.source.changes;
  const out = new Map<string, string[]>();
  for (const d of view.departments) if (d.managerIds && d.managerIds.length > 0) out.set(d.id, d.managerIds);
  return out;
}
