/**
 * Test kit for the sync planner: small org builders, and a strict in-memory NetEase with
 * the rules the real service enforces (unit names unique per domain, a unit deleted only
 * when empty, account names unique, suspend/recover/delete only from the right status),
 * plus an applier that runs a plan phase by phase, each phase in an arbitrary order, checks
 * every dependsOn ran first, and writes the mapping updates the real applier writes.
 */
import type { Department, DirectorySnapshot, Person } from '../../shared/domain/directory';
import { applyMappingUpdates, mappingUpdatesFor } from '../../shared/domain/mapping-updates';
import { isDefaultUnitId, planSync } from '../../shared/domain/plan-sync';
import type { AccountMapping, NeteaseState, PlanOperation, PlanSyncInput, SyncPlan, SyncSettings, UnitMapping } from '../../shared/domain/sync-plan';
import { DEFAULT_UNIT_ID } from '../../shared/domain/sync-plan';
import { normalizeMobile } from '../../shared/domain/account-profile';
import { unitNameKey } from '../../shared/domain/unit-naming';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);

export function settings(overrides: Partial<SyncSettings> = {}): SyncSettings {
  return {
    accountNameRule: 'emailLocalPart',
    matchAttributes: ['email', 'jobNumber', 'mobile'],
    onlyWithEmail: false,
    includeDepartments: [],
    excludeDepartments: [],
    deleteThreshold: { count: 50, percent: 50 },
    suspendGraceDays: 30,
    ...overrides,
  };
}

export function dept(id: string, name: string, parentId?: string, order = 0): Department {
  return { id, name, order, status: 'active', ...(parentId !== undefined ? { parentId } : {}) };
}

export function person(id: string, local: string, departmentIds: string[], extra: Partial<Person> = {}): Person {
  return { id, displayName: `Person ${id}`, email: `${local}@acme.com`, departmentIds, status: 'active', ...extra };
}

export function snapshot(departments: Department[], people: Person[], complete = true): DirectorySnapshot {
  return { departments, people, complete, takenAt: T0 };
}

interface FakeUnit {
  unitId: string;
  name: string;
  parentId?: string;
}
interface FakeAccount {
  accountName: string;
  nickname: string;
  mobile?: string;
  jobNo?: string;
  unitId: string;
  status: 'active' | 'suspended' | 'deleted';
  deletedAt?: number;
}

/**
 * A strict in-memory NetEase mail domain. Every write counts as one call. A soft-deleted
 * account can be recovered for 7 days and keeps its name taken until then (reference §2, S2).
 */
export class FakeNetease {
  units = new Map<string, FakeUnit>();
  accounts = new Map<string, FakeAccount>();
  calls = 0;
  now = T0;
  /** Ranks, policy values and forwarding written by the mailbox-policy operations, per unit id or account name. */
  settings = new Map<string, Record<string, string | number>>();
  private nextId = 1000;

  private nameTaken(name: string, except?: string): boolean {
    for (const u of this.units.values()) if (u.unitId !== except && unitNameKey(u.name) === unitNameKey(name)) return true;
    return false;
  }
  private unit(unitId: string): FakeUnit {
    const u = this.units.get(unitId);
    if (!u) throw new Error(`UNIT.NOTEXIST ${unitId}`);
    return u;
  }
  private account(name: string): FakeAccount {
    const a = this.accounts.get(name);
    if (!a) throw new Error(`ACCOUNT.NOTEXIST ${name}`);
    return a;
  }
  seedUnit(name: string, parentId?: string): string {
    this.calls--;
    return this.createUnit(name, parentId);
  }
  seedAccount(a: Omit<FakeAccount, 'status' | 'unitId'> & { unitId?: string; status?: FakeAccount['status'] }): void {
    this.accounts.set(a.accountName, { unitId: DEFAULT_UNIT_ID, status: 'active', ...a });
  }
  createUnit(name: string, parentId?: string): string {
    this.calls++;
    if (this.nameTaken(name)) throw new Error(`UNIT.EXIST ${name}`);
    if (parentId !== undefined) this.unit(parentId);
    const unitId = `u${this.nextId++}`;
    this.units.set(unitId, { unitId, name, ...(parentId !== undefined ? { parentId } : {}) });
    return unitId;
  }
  renameUnit(unitId: string, name: string): void {
    this.calls++;
    const u = this.unit(unitId);
    if (this.nameTaken(name, unitId)) throw new Error(`UNIT.EXIST ${name}`);
    u.name = name;
  }
  moveUnit(unitId: string, parentId: string | undefined): void {
    this.calls++;
    const u = this.unit(unitId);
    for (let p = parentId; p !== undefined; p = this.unit(p).parentId) if (p === unitId) throw new Error(`UNIT.CYCLE ${unitId} under ${parentId}`);
    if (parentId === undefined) delete u.parentId;
    else u.parentId = parentId;
  }
  deleteUnit(unitId: string): void {
    this.calls++;
    this.unit(unitId);
    const children = [...this.units.values()].filter((u) => u.parentId === unitId).length;
    const members = [...this.accounts.values()].filter((a) => a.unitId === unitId && a.status !== 'deleted').length;
    if (children > 0 || members > 0) throw new Error(`UNIT.NOT_EMPTY ${unitId}: ${children} units, ${members} accounts`);
    this.units.delete(unitId);
  }
  createAccount(name: string, profile: { nickname: string; mobile?: string; jobNo?: string }, unitId: string): void {
    this.calls++;
    const old = this.accounts.get(name);
    if (old && !(old.status === 'deleted' && this.now - old.deletedAt! >= 7 * DAY)) throw new Error(`MAILACCOUNT.NAMEEXIST ${name}`);
    if (!isDefaultUnitId(unitId)) this.unit(unitId);
    this.accounts.set(name, { accountName: name, ...profile, unitId, status: 'active' });
  }
  updateAccount(name: string, profile: { nickname: string; mobile?: string; jobNo?: string }): void {
    this.calls++;
    const a = this.account(name);
    if (a.status === 'deleted') throw new Error(`ACCOUNT.STATUS_INVALID ${name}`);
    a.nickname = profile.nickname;
    if (profile.mobile === undefined) delete a.mobile;
    else a.mobile = profile.mobile;
    if (profile.jobNo === undefined) delete a.jobNo;
    else a.jobNo = profile.jobNo;
  }
  moveAccount(name: string, unitId: string): void {
    this.calls++;
    const a = this.account(name);
    if (a.status === 'deleted') throw new Error(`ACCOUNT.STATUS_INVALID ${name}`);
    if (!isDefaultUnitId(unitId)) this.unit(unitId);
    a.unitId = unitId;
  }
  suspend(name: string): void {
    this.calls++;
    const a = this.account(name);
    if (a.status !== 'active') throw new Error(`ACCOUNT.STATUS_INVALID suspend ${name} (${a.status})`);
    a.status = 'suspended';
  }
  recover(name: string): void {
    this.calls++;
    const a = this.account(name);
    if (a.status === 'active') throw new Error(`ACCOUNT.STATUS_INVALID recover ${name}`);
    if (a.status === 'deleted' && this.now - a.deletedAt! >= 7 * DAY) throw new Error(`ACCOUNT.NOTEXIST ${name} (purged)`);
    a.status = 'active';
    delete a.deletedAt;
  }
  deleteSim(name: string): void {
    this.calls++;
    const a = this.account(name);
    if (a.status === 'deleted') throw new Error(`ACCOUNT.STATUS_INVALID delete ${name}`);
    a.status = 'deleted';
    a.deletedAt = this.now;
  }
  /** The state as the NetEase adapter would hand it to the planner. */
  state(): NeteaseState {
    return {
      units: [...this.units.values()].map((u) => ({ ...u })),
      accounts: [...this.accounts.values()].map(({ deletedAt: _purgedAfter, ...a }) => ({ ...a })),
    };
  }
  unitByName(name: string): FakeUnit | undefined {
    return [...this.units.values()].find((u) => u.name === name);
  }
  path(unitId: string | undefined): string {
    const parts: string[] = [];
    for (let u = unitId; u !== undefined && !isDefaultUnitId(u); u = this.units.get(u)?.parentId) parts.unshift(this.units.get(u)?.name ?? `?${u}`);
    return parts.join('/');
  }
}

export class Mappings {
  units = new Map<string, UnitMapping>();
  accounts = new Map<string, AccountMapping>();
  state(): { units: UnitMapping[]; accounts: AccountMapping[] } {
    return { units: [...this.units.values()].map((u) => ({ ...u })), accounts: [...this.accounts.values()].map((a) => ({ ...a })) };
  }
}

/**
 * Applies a plan like the workers do: phase by phase, each phase in the given order (any
 * order must work, so a missing dependency shows up), refusing an operation whose
 * dependencies have not run.
 */
export type ApplyOrder = 'forward' | 'reverse' | 'byId';

export function applyPlan(plan: SyncPlan, netease: FakeNetease, mappings: Mappings, now: number, order: ApplyOrder = 'byId'): void {
  netease.now = now;
  const done = new Set<string>();
  const phases = new Map<number, PlanOperation[]>();
  for (const op of plan.operations) phases.set(op.phase, [...(phases.get(op.phase) ?? []), op]);
  for (const phase of [...phases.keys()].sort((a, b) => a - b)) {
    const ops = [...phases.get(phase)!];
    // Workers apply a phase in any order; 'byId' is an arbitrary but reproducible one.
    if (order === 'reverse') ops.reverse();
    else if (order === 'byId') ops.sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const op of ops) {
      for (const dep of op.dependsOn) if (!done.has(dep)) throw new Error(`${op.kind} ${op.sourceId} ran before its dependency ${dep}`);
      const resolveNewUnit = (sourceId: string) => mappings.units.get(sourceId)?.unitId;
      const unitOf = (ref: { kind: string; unitId?: string; sourceId?: string }): string | undefined => {
        if (ref.kind === 'top') return undefined;
        if (ref.kind === 'default') return DEFAULT_UNIT_ID;
        if (ref.kind === 'unit') return ref.unitId;
        const id = resolveNewUnit(ref.sourceId!);
        if (id === undefined) throw new Error(`unit of ${ref.sourceId} does not exist yet`);
        return id;
      };
      let createdUnitId: string | undefined;
      switch (op.kind) {
        case 'unit.create':
          createdUnitId = netease.createUnit(op.name, unitOf(op.parent));
          break;
        case 'unit.update':
          netease.renameUnit(op.unitId, op.name);
          break;
        case 'unit.move':
          netease.moveUnit(op.unitId, unitOf(op.parent));
          break;
        case 'unit.delete':
          netease.deleteUnit(op.unitId);
          break;
        case 'account.create':
          netease.createAccount(op.accountName, op.profile, unitOf(op.unit)!);
          if (op.policy) netease.settings.set(op.accountName, { ...op.policy.set });
          break;
        case 'account.update':
          netease.updateAccount(op.accountName, op.profile);
          break;
        case 'account.move':
          netease.moveAccount(op.accountName, unitOf(op.unit)!);
          break;
        case 'account.suspend':
          netease.suspend(op.accountName);
          break;
        case 'account.recover':
          netease.recover(op.accountName);
          break;
        case 'account.delete':
          netease.deleteSim(op.accountName);
          break;
        case 'unit.link':
        case 'account.link':
          break;
        case 'unit.rank':
        case 'account.rank':
        case 'account.policy':
        case 'account.forward': {
          netease.calls++;
          const key = op.kind === 'unit.rank' ? unitOf(op.unit)! : op.accountName;
          const values: Record<string, string | number> = op.kind === 'account.policy' ? { ...op.policy.set } : op.kind === 'account.forward' ? { fwd: op.to } : { rank: op.rank };
          netease.settings.set(key, { ...netease.settings.get(key), ...values });
          break;
        }
      }
      applyMappingUpdates(mappings, mappingUpdatesFor(op, { now, resolveNewUnit, ...(createdUnitId !== undefined ? { createdUnitId } : {}) }));
      done.add(op.id);
    }
  }
}

/** A tenant under test: NetEase, our mappings, and a clock. */
export class World {
  netease = new FakeNetease();
  mappings = new Mappings();
  now = T0;
  runs = 0;
  constructor(public settings: SyncSettings = settingsDefault()) {}

  plan(source: PlanSyncInput['source'] | DirectorySnapshot, extra: Partial<PlanSyncInput> = {}): SyncPlan {
    const view = 'kind' in source ? source : ({ kind: 'snapshot', snapshot: source } as const);
    return planSync({ runId: `run-${++this.runs}`, now: this.now, settings: this.settings, source: view, mappings: this.mappings.state(), ...extra });
  }
  order: ApplyOrder = 'byId';
  apply(plan: SyncPlan): void {
    applyPlan(plan, this.netease, this.mappings, this.now, this.order);
  }
  /** Plans and applies; returns the plan. */
  sync(source: PlanSyncInput['source'] | DirectorySnapshot, extra: Partial<PlanSyncInput> = {}): SyncPlan {
    const plan = this.plan(source, extra);
    this.apply(plan);
    return plan;
  }
}

function settingsDefault(): SyncSettings {
  return settings();
}

/**
 * Differences between NetEase and what the source says it should hold (the drift check):
 * every in-scope department has a unit at the right path; every active person has an
 * active account in their main department's unit with the right profile; every leaver's
 * account is suspended or deleted. Empty when equal. Uses only the source and NetEase,
 * not the mappings, so it checks the planner independently.
 */
export function drift(netease: FakeNetease, snap: DirectorySnapshot, accountNameOf: (p: Person) => string, extraUnits = 0, excluded: readonly string[] = []): string[] {
  const problems: string[] = [];
  const all = new Map(snap.departments.filter((d) => d.status === 'active').map((d) => [d.id, d]));
  const excludedSet = new Set(excluded);
  const inScope = (id: string): boolean => {
    for (let d = all.get(id); d; d = d.parentId !== undefined ? all.get(d.parentId) : undefined) if (excludedSet.has(d.id)) return false;
    return all.has(id);
  };
  const depts = new Map([...all].filter(([id]) => inScope(id)));
  const sourcePath = (id: string): string[] => {
    const out: string[] = [];
    for (let d = depts.get(id); d; d = d.parentId !== undefined ? depts.get(d.parentId) : undefined) out.unshift(d.name);
    return out;
  };
  // Unit paths compare by base names: a suffixed unit name starts with its department's name.
  const unitMatches = (unitId: string, path: string[]): boolean => {
    const parts: string[] = [];
    for (let u: string | undefined = unitId; u !== undefined; u = netease.units.get(u)?.parentId) parts.unshift(netease.units.get(u)?.name ?? '?');
    return parts.length === path.length && parts.every((n, i) => n === path[i] || n.startsWith(`${path[i]}(`));
  };
  for (const d of depts.values()) {
    const path = sourcePath(d.id);
    if (![...netease.units.values()].some((u) => unitMatches(u.unitId, path))) problems.push(`no unit for ${path.join('/')}`);
  }
  if (netease.units.size !== depts.size + extraUnits) problems.push(`NetEase has ${netease.units.size} units, expected ${depts.size} + ${extraUnits}`);
  for (const p of snap.people) {
    const name = accountNameOf(p);
    const a = netease.accounts.get(name);
    const placed = p.departmentIds.filter(inScope);
    const outOfScope = p.departmentIds.length > 0 && placed.length === 0;
    if (p.status !== 'active' || outOfScope) {
      if (a && a.status === 'active') problems.push(`${outOfScope ? 'out-of-scope person' : 'leaver'} ${p.id} (${name}) is still active`);
      continue;
    }
    if (!a) {
      problems.push(`no account ${name} for ${p.id}`);
      continue;
    }
    if (a.status !== 'active') problems.push(`account ${name} is ${a.status}`);
    const main = p.mainDepartmentId !== undefined && placed.includes(p.mainDepartmentId) ? p.mainDepartmentId : placed[0];
    if (main === undefined) {
      if (!isDefaultUnitId(a.unitId)) problems.push(`account ${name} should be in the default unit`);
    } else if (!unitMatches(a.unitId, sourcePath(main))) problems.push(`account ${name} is in ${netease.path(a.unitId)}, expected ${sourcePath(main).join('/')}`);
    if (a.nickname !== p.displayName) problems.push(`account ${name} nickname differs`);
    if ((a.mobile ?? undefined) !== normalizeMobile(p.mobile)) problems.push(`account ${name} mobile differs`);
    if ((a.jobNo ?? undefined) !== (p.jobNumber?.trim() || undefined)) problems.push(`account ${name} job number differs`);
  }
  return problems;
}

export function kinds(plan: SyncPlan): string[] {
  return plan.operations.map((op) => `${op.kind} ${op.sourceId}`);
}

export function opsOf(plan: SyncPlan, kind: PlanOperation['kind']): PlanOperation[] {
  return plan.operations.filter((op) => op.kind === kind);
}
