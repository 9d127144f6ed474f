/**
 * Stage 0b, reconcile with NetEase: the mapping table is our memory of NetEase, and admins,
 * NetEase support and restores change NetEase behind our back. When the caller read
 * NetEase's real state for every mapped object (`NeteaseState.reconcilable`: statuses and
 * units included), this stage compares each active mapping with it and decides:
 *
 * - what drifted (one DriftItem per object and kind: missing, soft-deleted, status, unit,
 *   name, parent, profile), for the report, the run counts and `runs show`;
 * - in `repair` mode, the EFFECTIVE mapping the later stages plan from: NetEase's truth in
 *   place of our memory. The ordinary diff then plans the repair with the operations it
 *   already knows (recover a suspended or soft-deleted account, re-create a purged one under
 *   the same name, update, move, rename, re-create a deleted unit), so a repair is planned,
 *   ordered, safety-checked and applied like any other change;
 * - which accounts need an `account.link` record (no API call) writing NetEase's truth to
 *   the mapping before the repair, so a repair that fails leaves a mapping that matches
 *   NetEase, and an account that needs no repair (a leaver an admin already suspended) stops
 *   drifting.
 *
 * In `report` mode nothing changes: the plan is made from the mapping as before and every
 * drift item is also an unresolved item (the run ends `warning`).
 *
 * Profile drift compares only the fields NetEase returned (nickname, mobile, job number);
 * a field NetEase did not return counts as unchanged (our choice: the legacy list may omit
 * an empty mobile, reference §2). It is drift only when our mapping says we sent the
 * source's current values (otherwise the ordinary diff updates the account anyway).
 * Mobile numbers never appear in the report: `before`/`after` name the fields only.
 */
import type { AccountMapping, DriftItem, MappingState, NeteaseAccountRecord, NeteaseUnitRecord, PlanSyncInput, UnitMapping } from '../sync-plan';
import { DEFAULT_UNIT_ID, isDefaultUnitId } from '../sync-plan';
import type { Person } from '../directory';
import { desiredProfile, normalizeMobile, profileHash } from '../account-profile';
import { isMovedAwayId } from './moved-away';

export interface Reconciliation {
  /** The mapping state the planner plans from (NetEase's truth in repair mode). */
  mappings: MappingState;
  drift: DriftItem[];
  /** Mapped people whose account does not exist in NetEase at all (purged or never created). */
  purged: Set<string>;
  /** Person id -> the mapping to record before any repair (repair mode only). */
  records: Map<string, AccountMapping>;
}

/** See the module doc. Without a reconcilable NetEase state it changes nothing. */
export function reconcileWithNetease(input: PlanSyncInput): Reconciliation {
  const none: Reconciliation = { mappings: input.mappings, drift: [], purged: new Set(), records: new Map() };
  if (!input.netease?.reconcilable) return none;
  const repair = (input.settings.driftMode ?? 'repair') === 'repair';
  const drift: DriftItem[] = [];
  const mark = repair ? ('planned' as const) : ('reported' as const);
  const item = (type: DriftItem['type'], sourceId: string, name: string, kind: DriftItem['kind'], before: string, after: string) =>
    drift.push({ type, sourceId, name, kind, before, after, repair: mark });

  const people = new Map<string, Person>();
  const departments = new Set<string>();
  const view = input.source.kind === 'snapshot' ? input.source.snapshot : input.source.changes;
  for (const p of view.people) people.set(p.id, p);
  for (const d of view.departments) if (d.status === 'active') departments.add(d.id);

  const units = reconcileUnits(input.mappings.units, input.netease.units, departments, item);
  const { accounts, purged, records } = reconcileAccounts(input, people, item);
  if (!repair) return { ...none, drift };
  return { mappings: { units, accounts }, drift, purged, records };
}

type Item = (type: DriftItem['type'], sourceId: string, name: string, kind: DriftItem['kind'], before: string, after: string) => void;

/** Units: missing, renamed or moved in NetEase. Returns the effective unit mappings. */
function reconcileUnits(mapped: readonly UnitMapping[], neteaseUnits: readonly NeteaseUnitRecord[], activeDepartments: ReadonlySet<string>, item: Item): UnitMapping[] {
  const byId = new Map(neteaseUnits.map((u) => [u.unitId, u]));
  const out: UnitMapping[] = [];
  for (const m of mapped) {
    const u = byId.get(m.unitId);
    if (m.status !== 'active' || isMovedAwayId(m.sourceId)) {
      // A unit retiring after a legacy move is only waiting to be deleted (deleteUnit on a
      // missing unit counts as done); nothing to repair.
      out.push(m);
      continue;
    }
    if (!u) {
      item('department', m.sourceId, m.name, 'missing', 'absent', `unit ${m.name}`);
      // A department that still exists gets a new unit (no mapping = create). A gone one
      // keeps its mapping: its unit.delete finds nothing and records the deletion.
      if (!activeDepartments.has(m.sourceId)) out.push(m);
      continue;
    }
    const eff: UnitMapping = { ...m };
    if (u.name !== m.name) {
      item('department', m.sourceId, m.name, 'name', u.name, m.name);
      eff.name = u.name;
    }
    if ((u.parentId ?? undefined) !== (m.parentUnitId ?? undefined)) {
      item('department', m.sourceId, m.name, 'parent', u.parentId ?? 'top', m.parentUnitId ?? 'top');
      if (u.parentId === undefined) delete eff.parentUnitId;
      else eff.parentUnitId = u.parentId;
    }
    out.push(eff);
  }
  return out;
}

/** Accounts: missing, soft-deleted, suspended/active, moved, profile. Returns the effective account mappings. */
function reconcileAccounts(input: PlanSyncInput, people: ReadonlyMap<string, Person>, item: Item): { accounts: AccountMapping[]; purged: Set<string>; records: Map<string, AccountMapping> } {
  const records = new Map<string, AccountMapping>();
  const purged = new Set<string>();
  const byName = new Map<string, NeteaseAccountRecord>();
  for (const a of input.netease!.accounts) byName.set(a.accountName.toLowerCase(), a);
  const accounts: AccountMapping[] = [];
  for (const m of input.mappings.accounts) {
    const name = m.accountName.toLowerCase();
    const r = byName.get(name);
    const eff: AccountMapping = { ...m };
    let drifted = false;
    if (!r) {
      if (m.status !== 'deleted') {
        item('person', m.sourceId, name, 'missing', 'absent', m.status);
        eff.status = 'deleted';
        delete eff.suspendedAt;
        delete eff.deletedAt;
        purged.add(m.sourceId);
        drifted = true;
      }
      accounts.push(eff);
      if (drifted) records.set(m.sourceId, eff);
      continue;
    }
    if (r.status !== m.status) {
      item('person', m.sourceId, name, r.status === 'deleted' ? 'deleted' : 'status', r.status, m.status);
      eff.status = r.status;
      delete eff.suspendedAt;
      delete eff.deletedAt;
      // A suspension we did not make starts its grace period now (a leaver's deletion waits for it).
      if (r.status === 'suspended') eff.suspendedAt = input.now;
      drifted = true;
    }
    const unitId = isDefaultUnitId(r.unitId) ? DEFAULT_UNIT_ID : r.unitId!;
    const mappedUnit = isDefaultUnitId(m.unitId) ? DEFAULT_UNIT_ID : m.unitId;
    if (r.status !== 'deleted' && unitId !== mappedUnit) {
      item('person', m.sourceId, name, 'unit', unitId, mappedUnit);
      eff.unitId = unitId;
      drifted = true;
    }
    const p = people.get(m.sourceId);
    if (r.status !== 'deleted' && p && p.status === 'active') {
      const desired = desiredProfile(p, name);
      const desiredHash = profileHash(desired);
      const held = {
        nickname: r.nickname !== undefined && r.nickname.trim() !== '' ? r.nickname.trim() : r.nickname === undefined ? desired.nickname : name,
        ...(r.mobile !== undefined ? (normalizeMobile(r.mobile) !== undefined ? { mobile: normalizeMobile(r.mobile)! } : {}) : desired.mobile !== undefined ? { mobile: desired.mobile } : {}),
        ...(r.jobNo !== undefined ? (r.jobNo.trim() !== '' ? { jobNo: r.jobNo.trim() } : {}) : desired.jobNo !== undefined ? { jobNo: desired.jobNo } : {}),
      };
      const heldHash = profileHash(held);
      if (m.profileHash === desiredHash && heldHash !== desiredHash) {
        const fields = (['nickname', 'mobile', 'jobNo'] as const).filter((f) => held[f] !== desired[f]);
        // The nickname is the address-book name NetEase shows everyone; mobile and job number are named, not shown.
        const show = (prof: typeof held) => fields.map((f) => (f === 'nickname' ? `nickname "${prof.nickname}"` : `${f} changed`)).join(', ');
        item('person', m.sourceId, name, 'profile', show(held), show(desired).replace(/changed/g, 'restored'));
        eff.profileHash = heldHash;
        drifted = true;
      }
    }
    accounts.push(eff);
    if (drifted) records.set(m.sourceId, eff);
  }
  return { accounts, purged, records };
}
