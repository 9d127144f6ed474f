/**
 * Property: whatever the organisation does between runs, applying the plan to a strict
 * NetEase (unique unit names, only empty units deletable, no cycles, one mailbox per name)
 * succeeds in dependency order, leaves NetEase equal to the source, and re-planning yields
 * an empty plan. Seeded, so a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import type { Department, Person } from '../../shared/domain/directory';
import { DAY, World, drift, settings, snapshot } from './plan-harness';

function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}

const DEPT_NAMES = ['销售部', '研发部', '市场部', '财务部', 'Ops', 'HR', '华东', '华南'];
const LOCALS = ['zhangsan', 'lisi', 'wangwu', 'zhaoliu', 'sunqi', 'zhouba', 'wujiu', 'zhengshi'];

class Org {
  depts = new Map<string, Department>();
  people = new Map<string, Person>();
  /** People removed from the source entirely (EKP purged them). */
  removed = new Map<string, Person>();
  private nextId = 1;
  constructor(private r: ReturnType<typeof rng>) {}

  id(): string {
    return String(this.nextId++);
  }
  descendants(id: string): Set<string> {
    const out = new Set<string>([id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const d of this.depts.values()) if (d.parentId !== undefined && out.has(d.parentId) && !out.has(d.id)) (out.add(d.id), (grew = true));
    }
    return out;
  }
  addDept(): void {
    const parents = [...this.depts.keys()];
    const parentId = parents.length > 0 && this.r.chance(0.85) ? this.r.pick(parents) : undefined;
    const id = this.id();
    this.depts.set(id, { id, name: this.r.pick(DEPT_NAMES), order: this.r.int(5), status: 'active', ...(parentId !== undefined ? { parentId } : {}) });
  }
  addPerson(): void {
    const ids = [...this.depts.keys()];
    const id = this.id();
    const depts = ids.length === 0 ? [] : [...new Set([this.r.pick(ids), ...(this.r.chance(0.3) ? [this.r.pick(ids)] : [])])];
    const p: Person = { id, displayName: `P${id}`, email: `${this.r.pick(LOCALS)}@acme.com`, departmentIds: depts, status: 'active' };
    if (depts.length > 1) p.mainDepartmentId = this.r.pick(depts);
    if (this.r.chance(0.5)) p.mobile = `138${String(this.r.int(1e8)).padStart(8, '0')}`;
    if (this.r.chance(0.5)) p.jobNumber = `E${id}`;
    this.people.set(id, p);
  }
  mutate(): string {
    const r = this.r;
    const depts = [...this.depts.values()];
    const active = [...this.people.values()].filter((p) => p.status === 'active');
    switch (r.int(11)) {
      case 0:
        this.addDept();
        return 'add department';
      case 1: {
        if (depts.length === 0) return 'noop';
        const d = r.pick(depts);
        d.name = r.pick(DEPT_NAMES);
        return `rename ${d.id}`;
      }
      case 2: {
        if (depts.length < 2) return 'noop';
        const d = r.pick(depts);
        const banned = this.descendants(d.id);
        const options = depts.filter((x) => !banned.has(x.id));
        if (options.length === 0 || r.chance(0.2)) delete d.parentId;
        else d.parentId = r.pick(options).id;
        return `move ${d.id}`;
      }
      case 3: {
        if (depts.length < 2) return 'noop';
        const d = r.pick(depts);
        // Dissolve: children and members go to the parent.
        this.depts.delete(d.id);
        for (const c of this.depts.values()) if (c.parentId === d.id) (d.parentId === undefined ? delete c.parentId : (c.parentId = d.parentId));
        for (const p of [...this.people.values(), ...this.removed.values()]) {
          if (!p.departmentIds.includes(d.id)) continue;
          p.departmentIds = [...new Set(p.departmentIds.map((x) => (x === d.id ? d.parentId : x)).filter((x): x is string => x !== undefined))];
          if (p.mainDepartmentId === d.id) {
            if (d.parentId !== undefined) p.mainDepartmentId = d.parentId;
            else delete p.mainDepartmentId;
          }
        }
        return `dissolve ${d.id}`;
      }
      case 4:
      case 5:
        this.addPerson();
        return 'hire';
      case 6: {
        if (active.length === 0) return 'noop';
        const p = r.pick(active);
        if (r.chance(0.5)) p.status = 'left';
        else (this.people.delete(p.id), this.removed.set(p.id, p));
        return `leave ${p.id}`;
      }
      case 7: {
        const gone = [...this.people.values()].filter((p) => p.status !== 'active');
        if (r.chance(0.5) && this.removed.size > 0) {
          const p = r.pick([...this.removed.values()]);
          this.removed.delete(p.id);
          p.status = 'active';
          this.people.set(p.id, p);
          return `return ${p.id}`;
        }
        if (gone.length === 0) return 'noop';
        const p = r.pick(gone);
        p.status = 'active';
        return `return ${p.id}`;
      }
      case 8: {
        if (active.length === 0) return 'noop';
        const p = r.pick(active);
        if (r.chance(0.4)) p.displayName = `P${p.id}-${r.int(100)}`;
        else if (r.chance(0.5)) p.mobile = `139${String(r.int(1e8)).padStart(8, '0')}`;
        else delete p.jobNumber;
        return `profile ${p.id}`;
      }
      case 9: {
        if (active.length === 0 || depts.length === 0) return 'noop';
        const p = r.pick(active);
        const d = r.pick(depts).id;
        p.departmentIds = [...new Set([d, ...p.departmentIds])];
        p.mainDepartmentId = d;
        return `transfer ${p.id}`;
      }
      default: {
        if (active.length === 0) return 'noop';
        const p = r.pick(active);
        p.status = 'disabled';
        return `disable ${p.id}`;
      }
    }
  }
  snapshot() {
    return snapshot(
      [...this.depts.values()].map((d) => ({ ...d })),
      [...this.people.values()].map((p) => ({ ...p, departmentIds: [...p.departmentIds] })),
    );
  }
}

/** PLAN_FUZZ_SEEDS=500 npx vitest run test/unit/plan-convergence.test.ts runs many more seeds. */
const FUZZ = Number(process.env.PLAN_FUZZ_SEEDS ?? 0);

describe('planSync: convergence under random organisational change', () => {
  const seeds: Array<readonly [number, 'byId' | 'forward' | 'reverse']> = FUZZ > 0 ? Array.from({ length: FUZZ }, (_, i) => [100 + i, (['byId', 'forward', 'reverse'] as const)[i % 3]!] as const) : [[1, 'byId'], [2, 'forward'], [3, 'reverse'], [4, 'byId'], [5, 'forward'], [6, 'reverse'], [7, 'byId'], [8, 'byId']];
  for (const [seed, order] of seeds) {
    it(`applies cleanly in any order within a phase, matches the source and re-plans to nothing (seed ${seed}, ${order})`, () => {
      const r = rng(seed);
      const org = new Org(r);
      for (let i = 0; i < 12; i++) org.addDept();
      for (let i = 0; i < 40; i++) org.addPerson();
      // Generous thresholds: this test is about ordering and convergence, not parking.
      const w = new World(settings({ suspendGraceDays: 10, deleteThreshold: { count: 1e6, percent: 100 } }));
      w.order = order;
      const history: string[] = [];
      for (let round = 0; round < 25; round++) {
        if (round > 0) for (let k = 1 + r.int(6); k > 0; k--) history.push(org.mutate());
        // Now and then an admin changes the scope: excluded people are suspended, re-included ones recovered.
        if (round > 0 && r.chance(0.15) && org.depts.size > 0) {
          const id = r.pick([...org.depts.keys()]);
          const excluded = w.settings.excludeDepartments.includes(id) ? w.settings.excludeDepartments.filter((x) => x !== id) : [...w.settings.excludeDepartments, id];
          w.settings = { ...w.settings, excludeDepartments: excluded.filter((x) => org.depts.has(x)) };
          history.push(`exclude [${w.settings.excludeDepartments.join(',')}]`);
        }
        w.now += r.int(6) * DAY;
        const s = org.snapshot();
        const plan = w.plan(s, { safetyOverride: true });
        try {
          w.apply(plan);
        } catch (e) {
          throw new Error(`round ${round} failed after [${history.slice(-8).join(', ')}]: ${(e as Error).message}`);
        }
        const again = w.plan(s);
        expect(again.operations, `round ${round}: re-plan not empty after [${history.slice(-8).join(', ')}]`).toEqual([]);
        const deferred = again.report.notes.filter((n) => n.code === 'unitDeleteDeferred').length;
        const nameOf = (p: Person) => w.mappings.accounts.get(p.id)?.accountName ?? `(unmapped ${p.id})`;
        expect(drift(w.netease, s, nameOf, deferred, w.settings.excludeDepartments), `round ${round} after [${history.slice(-8).join(', ')}]`).toEqual([]);
        // One mailbox per mapped person, none created twice.
        expect(w.netease.accounts.size).toBe(w.mappings.accounts.size);
      }
    });
  }
});

describe('planSync: change runs agree with full runs', () => {
  for (const seed of FUZZ > 0 ? Array.from({ length: FUZZ }, (_, i) => 1000 + i) : [11, 12, 13, 14]) {
    it(`after applying a change feed, a full run finds nothing left to do (seed ${seed})`, () => {
      const r = rng(seed);
      const org = new Org(r);
      for (let i = 0; i < 10; i++) org.addDept();
      for (let i = 0; i < 30; i++) org.addPerson();
      // No grace expiry (deleting after grace is a full-run decision by design).
      const w = new World(settings({ suspendGraceDays: 1000, deleteThreshold: { count: 1e6, percent: 100 } }));
      let previous = org.snapshot();
      w.sync(previous);
      const changesHistory: Array<{ deletedDepartmentIds: string[] }> = [];
      for (let round = 0; round < 20; round++) {
        for (let k = 1 + r.int(5); k > 0; k--) org.mutate();
        w.now += DAY;
        const next = org.snapshot();
        // The feed a source would send: every changed or new object, and explicit deletions.
        const before = new Map([...previous.departments.map((d) => [`d${d.id}`, JSON.stringify(d)] as const), ...previous.people.map((p) => [`p${p.id}`, JSON.stringify(p)] as const)]);
        const changes = {
          departments: next.departments.filter((d) => before.get(`d${d.id}`) !== JSON.stringify(d)),
          people: next.people.filter((p) => before.get(`p${p.id}`) !== JSON.stringify(p)),
          deletedDepartmentIds: previous.departments.filter((d) => !next.departments.some((x) => x.id === d.id)).map((d) => d.id),
          deletedPersonIds: previous.people.filter((p) => !next.people.some((x) => x.id === p.id)).map((p) => p.id),
          watermarks: {},
        };
        w.sync({ kind: 'changes', changes }, { safetyOverride: true });
        const full = w.plan(next);
        // A department the feed deleted while its unit was not empty yet (a suspended leaver
        // inside) is not named again by later feeds: the next full run deletes the unit.
        const gone = new Set([...changesHistory, changes].flatMap((c) => c.deletedDepartmentIds));
        const leftover = full.operations.filter((o) => !(o.kind === 'unit.delete' && gone.has(o.sourceId) && !next.departments.some((d) => d.id === o.sourceId)));
        expect(leftover.map((o) => `${o.kind} ${o.sourceId}`), `round ${round}`).toEqual([]);
        w.apply(full);
        changesHistory.push(changes);
        previous = next;
      }
    });
  }
});

describe('planSync: adoption of a tenant that already holds most of the organisation', () => {
  for (const seed of FUZZ > 0 ? Array.from({ length: FUZZ }, (_, i) => 5000 + i) : [21, 22, 23, 24]) {
    it(`links every pre-existing mailbox to its owner and creates none twice (seed ${seed})`, () => {
      const r = rng(seed);
      const org = new Org(r);
      for (let i = 0; i < 15; i++) org.addDept();
      for (let i = 0; i < 50; i++) org.addPerson();
      const s = org.snapshot();
      const w = new World(settings({ deleteThreshold: { count: 1e6, percent: 100 } }));
      // NetEase before the first run: most departments as units (by path, plain names where free)...
      const unitOf = new Map<string, string>();
      const depth = (id: string): number => (org.depts.get(id)?.parentId === undefined ? 0 : 1 + depth(org.depts.get(id)!.parentId!));
      for (const d of [...org.depts.values()].sort((a, b) => depth(a.id) - depth(b.id))) {
        const parentUnit = d.parentId === undefined ? undefined : unitOf.get(d.parentId);
        if ((d.parentId !== undefined && parentUnit === undefined) || r.chance(0.2) || w.netease.unitByName(d.name)) continue;
        unitOf.set(d.id, w.netease.seedUnit(d.name, parentUnit));
      }
      const junkUnit = w.netease.seedUnit('Old projects');
      // ...and most people's mailboxes: under the rule's name when nobody else wants it,
      // otherwise under another name with the job number to recognise them by.
      const wanted = new Map<string, number>();
      for (const p of org.people.values()) wanted.set(p.email!.split('@')[0]!, (wanted.get(p.email!.split('@')[0]!) ?? 0) + 1);
      const owner = new Map<string, string>();
      for (const p of org.people.values()) {
        if (r.chance(0.25)) continue;
        const local = p.email!.split('@')[0]!;
        if (wanted.get(local) === 1) w.netease.seedAccount({ accountName: local, nickname: p.displayName, unitId: r.chance(0.5) ? junkUnit : 'default' });
        else if (p.jobNumber !== undefined) w.netease.seedAccount({ accountName: `old-${p.id}`, nickname: p.displayName, jobNo: p.jobNumber });
        else continue;
        owner.set(p.id, wanted.get(local) === 1 ? local : `old-${p.id}`);
      }
      w.netease.seedAccount({ accountName: 'shared-mailbox', nickname: 'Front desk', unitId: junkUnit });
      const preexisting = w.netease.accounts.size;

      const plan = w.sync(s, { adopt: true, netease: w.netease.state() });
      for (const [pid, name] of owner) expect(w.mappings.accounts.get(pid)?.accountName, `person ${pid}`).toBe(name);
      const activeWithoutMailbox = [...org.people.values()].filter((p) => p.status === 'active' && !owner.has(p.id)).length;
      expect(plan.summary.accounts.create).toBe(activeWithoutMailbox);
      expect(w.netease.accounts.size).toBe(preexisting + activeWithoutMailbox);
      expect(plan.report.unmatchedNetease?.accounts).toEqual(['shared-mailbox']);
      expect(w.plan(s, { netease: w.netease.state() }).operations).toEqual([]);
      const nameOf = (p: Person) => w.mappings.accounts.get(p.id)?.accountName ?? `(unmapped ${p.id})`;
      // Units: all matched but the junk one, unless same-name siblings made a match ambiguous
      // (then the planner said so, and the unmatched units stay as they were).
      const unmatchedUnits = plan.report.unmatchedNetease!.units;
      const ambiguousDepartments = plan.report.notes.filter((n) => n.type === 'department' && n.code === 'adoptionAmbiguous');
      if (ambiguousDepartments.length === 0) expect(unmatchedUnits.map((u) => u.name)).toEqual(['Old projects']);
      expect(drift(w.netease, s, nameOf, unmatchedUnits.length)).toEqual([]);
    });
  }
});

describe('planSync: convergence with mailbox policies, display order and leaver forwarding on', () => {
  const seeds = FUZZ > 0 ? Array.from({ length: FUZZ }, (_, i) => 300 + i) : [11, 12, 13, 14];
  for (const seed of seeds) {
    it(`applies cleanly and re-plans to nothing (seed ${seed})`, () => {
      const r = rng(seed);
      const org = new Org(r);
      for (let i = 0; i < 12; i++) org.addDept();
      for (let i = 0; i < 40; i++) org.addPerson();
      const w = new World(
        settings({
          suspendGraceDays: 10,
          deleteThreshold: { count: 1e6, percent: 100 },
          displayOrder: true,
          policies: [
            { name: 'sales', match: { department: '销售部', recursive: true }, set: { quota: 10240, addrVisible: 1 } },
            { name: 'jobs', match: { attribute: 'jobNumber', equals: ['E3', 'E5', 'E8'] }, set: { addrRight: 1 } },
            { name: 'rest', match: { all: true }, set: { quota: 5120 } },
          ],
          leavers: { forwardTo: 'manager', fallback: 'archive@acme.com' },
        }),
      );
      const history: string[] = [];
      const seen = new Set<string>();
      for (let round = 0; round < 25; round++) {
        if (round > 0) for (let k = 1 + r.int(6); k > 0; k--) history.push(org.mutate());
        w.now += r.int(6) * DAY;
        const base = org.snapshot();
        // Orders and managers derived from the ids, so they change when people and departments do.
        const s = snapshot(
          base.departments.map((d) => ({ ...d, displayOrder: d.order })),
          base.people.map((p) => ({ ...p, order: Number(p.id) % 7, managerId: String(Number(p.id) - 1) })),
        );
        const plan = w.plan(s, { safetyOverride: true, mailDomain: 'acme.com' });
        for (const op of plan.operations) seen.add(op.kind);
        try {
          w.apply(plan);
        } catch (e) {
          throw new Error(`round ${round} failed after [${history.slice(-8).join(', ')}]: ${(e as Error).message}`);
        }
        expect(w.plan(s, { mailDomain: 'acme.com' }).operations, `round ${round}: re-plan not empty after [${history.slice(-8).join(', ')}]`).toEqual([]);
      }
      // The features were exercised, not only switched on.
      for (const kind of ['account.policy', 'account.forward', 'unit.rank', 'account.rank']) expect(seen, kind).toContain(kind);
    });
  }
});
