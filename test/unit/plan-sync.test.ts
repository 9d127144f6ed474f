import { describe, expect, it } from 'vitest';
import type { Department } from '../../shared/domain/directory';
import { planSync } from '../../shared/domain/plan-sync';
import { explain, formatPlan, planBatches } from '../../shared/domain/plan-report';
import { SyncPlanInputError, type PlanOperation } from '../../shared/domain/sync-plan';
import { DAY, T0, World, dept, drift, kinds, opsOf, person, settings, snapshot } from './plan-harness';

// A small organisation: 总部 with 华东 and 华南, each with its own 销售部.
function org() {
  const departments = [
    dept('1', '总部'),
    dept('10', '华东', '1', 1),
    dept('20', '华南', '1', 2),
    dept('11', '销售部', '10'),
    dept('21', '销售部', '20'),
    dept('30', '研发部', '1', 3),
  ];
  const people = [
    person('100', 'zhangsan', ['11'], { mobile: '+86 138-0000-0001', jobNumber: 'E100' }),
    person('101', 'lisi', ['21']),
    person('102', 'wangwu', ['30', '21'], { mainDepartmentId: '21' }),
    person('103', 'zhaoliu', ['1']),
  ];
  return { departments, people };
}

/** `w` (a new World unless given) after a first sync of org(), with the org it synced. */
function syncedOrg(w = new World()) {
  const { departments, people } = org();
  w.sync(snapshot(departments, people));
  return { w, departments, people };
}

/** `departments` with department `id` changed by `patch`. */
function withDept(departments: Department[], id: string, patch: Partial<Department>): Department[] {
  return departments.map((d) => (d.id === id ? { ...d, ...patch } : d));
}

const nameOf = (w: World) => (p: { id: string }) => w.mappings.accounts.get(p.id)?.accountName ?? '?';

describe('planSync: first run and convergence', () => {
  it('creates every unit before the units and accounts inside it', () => {
    const w = new World();
    const { departments, people } = org();
    const plan = w.plan(snapshot(departments, people));
    const phaseOf = new Map(plan.operations.map((op) => [`${op.kind} ${op.sourceId}`, op.phase]));
    expect(phaseOf.get('unit.create 1')).toBeLessThan(phaseOf.get('unit.create 10')!);
    expect(phaseOf.get('unit.create 10')).toBeLessThan(phaseOf.get('unit.create 11')!);
    expect(phaseOf.get('unit.create 11')).toBeLessThan(phaseOf.get('account.create 100')!);
    expect(plan.summary.units.create).toBe(6);
    expect(plan.summary.accounts.create).toBe(4);
    expect(plan.status).toBe('ready');
  });

  it('leaves NetEase equal to the source after applying the first plan', () => {
    const w = new World();
    const s = snapshot(org().departments, org().people);
    w.sync(s);
    expect(drift(w.netease, s, nameOf(w))).toEqual([]);
    expect(w.netease.accounts.get('zhangsan')).toMatchObject({ mobile: '13800000001', jobNo: 'E100', nickname: 'Person 100' });
  });

  it('plans nothing at all when nothing changed since the last applied run', () => {
    const w = new World();
    const s = snapshot(org().departments, org().people);
    w.sync(s);
    const callsBefore = w.netease.calls;
    const again = w.plan(s);
    expect(again.operations).toEqual([]);
    expect(again.status).toBe('empty');
    expect(again.summary.unchanged).toBe(10);
    w.apply(again);
    expect(w.netease.calls).toBe(callsBefore);
  });

  it('gives operations ids that are stable for the same run and input and differ across runs', () => {
    const { departments, people } = org();
    const input = { now: T0, settings: settings(), source: { kind: 'snapshot' as const, snapshot: snapshot(departments, people) }, mappings: { units: [], accounts: [] } };
    const a = planSync({ ...input, runId: 'r1' });
    const b = planSync({ ...input, runId: 'r1' });
    const c = planSync({ ...input, runId: 'r2' });
    expect(a.operations.map((o) => o.id)).toEqual(b.operations.map((o) => o.id));
    expect(new Set(a.operations.map((o) => o.id)).size).toBe(a.operations.length);
    expect(c.operations.map((o) => o.id).filter((id) => a.operations.some((o) => o.id === id))).toEqual([]);
  });
});

describe('planSync: departments', () => {
  it('names the second same-name department after its parent, by tree order', () => {
    const w = new World();
    const plan = w.plan(snapshot(org().departments, org().people));
    const creates = opsOf(plan, 'unit.create') as Array<Extract<PlanOperation, { kind: 'unit.create' }>>;
    expect(creates.find((o) => o.sourceId === '11')?.name).toBe('销售部');
    expect(creates.find((o) => o.sourceId === '21')?.name).toBe('销售部(华南)');
    expect(plan.report.unitNameSuffixes).toEqual([{ sourceId: '21', sourceName: '销售部', name: '销售部(华南)' }]);
  });

  it('keeps a suffixed name when the department that had the plain name disappears', () => {
    const { w, departments, people } = syncedOrg();
    // 华东/销售部 is dissolved; its person moves to 研发部.
    const next = snapshot(
      departments.filter((d) => d.id !== '11'),
      people.map((p) => (p.id === '100' ? { ...p, departmentIds: ['30'] } : p)),
    );
    const plan = w.sync(next);
    expect(opsOf(plan, 'unit.update')).toEqual([]);
    expect(w.netease.unitByName('销售部(华南)')).toBeDefined();
    expect(w.plan(next).operations).toEqual([]);
  });

  it('does not swap suffixes when the source order of same-name departments changes', () => {
    const { w, departments, people } = syncedOrg();
    const reordered = withDept(departments, '10', { order: 9 });
    expect(w.plan(snapshot(reordered, people)).operations).toEqual([]);
  });

  it('renames a unit in place when its department is renamed, never deleting and re-creating it', () => {
    const { w, departments, people } = syncedOrg();
    const unitId = w.netease.unitByName('研发部')!.unitId;
    const renamed = withDept(departments, '30', { name: '技术部' });
    const plan = w.sync(snapshot(renamed, people));
    expect(kinds(plan)).toEqual(['unit.update 30']);
    expect(w.netease.units.get(unitId)?.name).toBe('技术部');
  });

  it('renames a suffixed child when its parent is renamed, so the suffix stays truthful', () => {
    const { w, departments, people } = syncedOrg();
    const renamed = withDept(departments, '20', { name: '华南区' });
    const plan = w.sync(snapshot(renamed, people));
    expect(kinds(plan).sort()).toEqual(['unit.update 20', 'unit.update 21']);
    expect(w.netease.unitByName('销售部(华南区)')).toBeDefined();
  });

  it('moves a unit under its new parent as one operation, keeping its id and its accounts', () => {
    const { w, departments, people } = syncedOrg();
    const unitId = w.netease.unitByName('研发部')!.unitId;
    const moved = withDept(departments, '30', { parentId: '10' });
    const plan = w.sync(snapshot(moved, people));
    expect(kinds(plan)).toEqual(['unit.move 30']);
    expect(w.netease.path(unitId)).toBe('总部/华东/研发部');
    expect(w.netease.accounts.get('wangwu')?.unitId).toBe(w.netease.unitByName('销售部(华南)')!.unitId);
  });

  it.each(['forward', 'reverse', 'byId'] as const)('inverts a parent and child without ever moving a unit under its own descendant (%s)', (order) => {
    const w = new World();
    w.order = order;
    const departments = [dept('1', 'A'), dept('2', 'B', '1'), dept('3', 'C', '2')];
    const people = [person('100', 'a', ['3'])];
    w.sync(snapshot(departments, people));
    const inverted = [dept('2', 'B'), dept('1', 'A', '2'), dept('3', 'C', '1')];
    const s = snapshot(inverted, people);
    const plan = w.sync(s);
    const moveA = plan.operations.find((o) => o.kind === 'unit.move' && o.sourceId === '1')!;
    const moveB = plan.operations.find((o) => o.kind === 'unit.move' && o.sourceId === '2')!;
    expect(moveA.dependsOn).toContain(moveB.id);
    expect(drift(w.netease, s, nameOf(w))).toEqual([]);
    expect(w.plan(s).operations).toEqual([]);
  });

  it('swaps the names of two departments through a temporary name', () => {
    const w = new World();
    const departments = [dept('1', 'Alpha'), dept('2', 'Beta')];
    w.sync(snapshot(departments, []));
    const swapped = snapshot([dept('1', 'Beta'), dept('2', 'Alpha')], []);
    const plan = w.sync(swapped);
    expect(opsOf(plan, 'unit.update')).toHaveLength(3);
    expect(drift(w.netease, swapped, nameOf(w))).toEqual([]);
    expect(w.plan(swapped).operations).toEqual([]);
  });

  it('moves members and child units out of a dissolved department before deleting its unit', () => {
    const { w, departments, people } = syncedOrg();
    // 华南 is dissolved: its 销售部 moves under 总部, lisi moves to 研发部.
    const next = snapshot(
      departments.filter((d) => d.id !== '20').map((d) => (d.id === '21' ? { ...d, parentId: '1' } : d)),
      people,
    );
    const plan = w.sync(next);
    const del = opsOf(plan, 'unit.delete')[0]!;
    const move = opsOf(plan, 'unit.move')[0]!;
    expect(del.sourceId).toBe('20');
    expect(del.dependsOn).toContain(move.id);
    expect(drift(w.netease, next, nameOf(w))).toEqual([]);
    expect(w.plan(next).operations).toEqual([]);
  });

  it('lets a re-created department with the same name inherit the old unit instead of colliding with it', () => {
    const { w, departments, people } = syncedOrg();
    const unitId = w.netease.unitByName('研发部')!.unitId;
    // The source deletes department 30 and creates 31 with the same name; wangwu's secondary dept follows.
    const next = snapshot(
      [...departments.filter((d) => d.id !== '30'), dept('31', '研发部', '1')],
      people.map((p) => (p.id === '102' ? { ...p, departmentIds: ['31', '21'] } : p)),
    );
    const plan = w.sync(next);
    expect(kinds(plan)).toEqual(['unit.link 31']);
    expect(plan.operations[0]).toMatchObject({ unitId, takeoverFrom: '30' });
    expect(w.mappings.units.get('30')?.status).toBe('deleted');
    expect(w.plan(next).operations).toEqual([]);
  });

  it('keeps a dissolved department unit while a suspended leaver is still in it, and deletes it after the grace period', () => {
    const w = new World();
    const departments = [dept('1', 'HQ'), dept('2', 'Ops', '1')];
    const people = [person('100', 'ann', ['2']), person('101', 'bob', ['1'])];
    w.sync(snapshot(departments, people));
    // Ops is dissolved and ann leaves at the same time.
    const next = snapshot([dept('1', 'HQ')], [{ ...people[0]!, status: 'left' }, people[1]!]);
    const first = w.sync(next);
    expect(kinds(first)).toEqual(['account.suspend 100']);
    expect(first.report.notes.some((n) => n.code === 'unitDeleteDeferred' && n.sourceId === '2')).toBe(true);
    w.now += 31 * DAY;
    const later = w.sync(next);
    expect(kinds(later)).toEqual(['account.delete 100', 'unit.delete 2']);
    expect(w.plan(next).operations).toEqual([]);
  });
});

describe('planSync: people', () => {
  it('puts a person in several departments into the unit of their main department', () => {
    const w = new World();
    w.sync(snapshot(org().departments, org().people));
    expect(w.netease.path(w.netease.accounts.get('wangwu')!.unitId)).toBe('总部/华南/销售部(华南)');
  });

  it('uses the first in-scope department when the source names no main department', () => {
    const w = new World(settings({ excludeDepartments: ['30'] }));
    const people = [person('100', 'zs', ['30', '11', '21'])];
    w.sync(snapshot(org().departments, people));
    expect(w.netease.path(w.netease.accounts.get('zs')!.unitId)).toBe('总部/华东/销售部');
  });

  it('moves the account, and only moves it, when the main department changes', () => {
    const { w, departments, people } = syncedOrg();
    const next = people.map((p) => (p.id === '102' ? { ...p, mainDepartmentId: '30' } : p));
    const plan = w.sync(snapshot(departments, next));
    expect(kinds(plan)).toEqual(['account.move 102']);
    expect(w.netease.path(w.netease.accounts.get('wangwu')!.unitId)).toBe('总部/研发部');
  });

  it('updates an account when a field we send changes, and not when another field changes', () => {
    const { w, departments, people } = syncedOrg();
    const sameForNetease = people.map((p) => (p.id === '100' ? { ...p, mobile: '13800000001', loginName: 'zs' } : p));
    expect(w.plan(snapshot(departments, sameForNetease)).operations).toEqual([]);
    const changed = people.map((p) => (p.id === '100' ? { ...p, displayName: '张三' } : p));
    const plan = w.sync(snapshot(departments, changed));
    expect(kinds(plan)).toEqual(['account.update 100']);
    expect(w.netease.accounts.get('zhangsan')?.nickname).toBe('张三');
  });

  it('suspends a leaver, then deletes the account only once the grace period has passed', () => {
    const { w, departments, people } = syncedOrg(new World(settings({ suspendGraceDays: 30 })));
    const left = people.map((p) => (p.id === '101' ? { ...p, status: 'left' as const } : p));
    expect(kinds(w.sync(snapshot(departments, left)))).toEqual(['account.suspend 101']);
    expect(w.netease.accounts.get('lisi')?.status).toBe('suspended');
    w.now += 29 * DAY;
    const early = w.plan(snapshot(departments, left));
    expect(early.operations).toEqual([]);
    expect(early.report.notes).toContainEqual(expect.objectContaining({ sourceId: '101', code: 'graceRemaining' }));
    w.now += 1 * DAY;
    expect(kinds(w.sync(snapshot(departments, left)))).toEqual(['account.delete 101']);
    expect(w.netease.accounts.get('lisi')?.status).toBe('deleted');
  });

  it('treats a person missing from a complete snapshot as a leaver', () => {
    const { w, departments, people } = syncedOrg();
    const plan = w.plan(snapshot(departments, people.filter((p) => p.id !== '103')));
    expect(plan.operations).toMatchObject([{ kind: 'account.suspend', sourceId: '103', reason: 'missing' }]);
  });

  it('suspends a disabled person but never deletes them automatically', () => {
    const { w, departments, people } = syncedOrg(new World(settings({ suspendGraceDays: 0 })));
    const disabled = people.map((p) => (p.id === '101' ? { ...p, status: 'disabled' as const } : p));
    expect(kinds(w.sync(snapshot(departments, disabled)))).toEqual(['account.suspend 101']);
    w.now += 400 * DAY;
    expect(w.plan(snapshot(departments, disabled)).operations).toEqual([]);
  });

  it('recovers a returning person instead of creating a second mailbox', () => {
    const { w, departments, people } = syncedOrg();
    const left = people.map((p) => (p.id === '101' ? { ...p, status: 'left' as const } : p));
    w.sync(snapshot(departments, left));
    w.now += 3 * DAY;
    const back = people.map((p) => (p.id === '101' ? { ...p, departmentIds: ['30'] } : p));
    const plan = w.sync(snapshot(departments, back));
    expect(kinds(plan)).toEqual(['account.recover 101', 'account.move 101']);
    expect(plan.operations[1]!.dependsOn).toEqual([plan.operations[0]!.id]);
    expect(w.netease.accounts.get('lisi')).toMatchObject({ status: 'active' });
    expect(w.plan(snapshot(departments, back)).operations).toEqual([]);
  });

  it('recovers a soft-deleted returning person within NetEase\'s 7-day window, and re-creates the same name after it', () => {
    const { w, departments, people } = syncedOrg(new World(settings({ suspendGraceDays: 0 })));
    const left = people.map((p) => (p.id === '101' ? { ...p, status: 'left' as const } : p));
    w.sync(snapshot(departments, left)); // suspend
    w.sync(snapshot(departments, left)); // delete (no grace)
    w.now += 6 * DAY;
    expect(kinds(w.plan(snapshot(departments, people)))).toEqual(['account.recover 101']);
    w.now += 2 * DAY;
    const late = w.plan(snapshot(departments, people));
    expect(late.operations).toMatchObject([{ kind: 'account.create', accountName: 'lisi', recreate: true }]);
  });

  it('resolves account-name collisions by source id and never renames a mapped account', () => {
    const w = new World();
    const departments = [dept('1', 'HQ')];
    const first = [person('200', 'zhangsan', ['1']), person('300', 'zhangsan', ['1'], { email: 'zhangsan@other.com' })];
    const plan = w.sync(snapshot(departments, first));
    expect(plan.operations.filter((o) => o.kind === 'account.create').map((o) => [o.sourceId, (o as { accountName: string }).accountName])).toEqual([
      ['200', 'zhangsan'],
      ['300', 'zhangsan2'],
    ]);
    expect(plan.report.accountNameCollisions).toEqual([
      { base: 'zhangsan', heldBy: 'thisRun', assigned: [{ sourceId: '200', accountName: 'zhangsan' }, { sourceId: '300', accountName: 'zhangsan2' }] },
    ]);
    // A lower id with the same name arrives later: the existing mailboxes keep their names.
    const more = snapshot(departments, [...first, person('100', 'zhangsan', ['1'], { email: 'ZhangSan@x.com' })]);
    const next = w.plan(more);
    expect(next.operations).toMatchObject([{ kind: 'account.create', sourceId: '100', accountName: 'zhangsan3' }]);
    expect(next.report.accountNameCollisions[0]).toMatchObject({ heldBy: 'mapped' });
  });

  it('lets a person whose rule literally yields the suffixed name keep it', () => {
    const w = new World();
    const plan = w.plan(snapshot([dept('1', 'HQ')], [person('1', 'zhangsan', ['1']), person('2', 'zhangsan', ['1']), person('3', 'zhangsan2', ['1'])]));
    const names = Object.fromEntries(opsOf(plan, 'account.create').map((o) => [o.sourceId, (o as { accountName: string }).accountName]));
    expect(names).toEqual({ '1': 'zhangsan', '2': 'zhangsan3', '3': 'zhangsan2' });
  });

  it('reports and skips people without a usable account name', () => {
    const w = new World(settings({ accountNameRule: 'loginName' }));
    const plan = w.plan(snapshot([dept('1', 'HQ')], [person('1', 'a', ['1'], { loginName: '张三' }), person('2', 'b', ['1']), person('3', 'c', ['1'], { loginName: 'Li.Si' })]));
    expect(kinds(plan)).toEqual(['unit.create 1', 'account.create 3']);
    expect(opsOf(plan, 'account.create')[0]).toMatchObject({ accountName: 'li.si' });
    expect(plan.report.notes.filter((n) => n.type === 'person').map((n) => [n.sourceId, n.code])).toEqual([
      ['1', 'invalidAccountName'],
      ['2', 'noAccountName'],
    ]);
    expect(plan.summary.totals.skip).toBe(2);
  });

  it('keeps the mapped account name when the rule would now give another one', () => {
    const w = new World();
    w.sync(snapshot([dept('1', 'HQ')], [person('1', 'ann', ['1'])]));
    const plan = w.plan(snapshot([dept('1', 'HQ')], [person('1', 'ann.lee', ['1'])]));
    expect(plan.operations).toEqual([]);
    expect(plan.report.notes).toMatchObject([{ sourceId: '1', code: 'accountNameDrift' }]);
  });
});

describe('planSync: scope', () => {
  it('leaves excluded subtrees and their people out', () => {
    const w = new World(settings({ excludeDepartments: ['20'] }));
    const plan = w.plan(snapshot(org().departments, org().people));
    expect(opsOf(plan, 'unit.create').map((o) => o.sourceId).sort()).toEqual(['1', '10', '11', '30']);
    // wangwu's main department is excluded, but 研发部 is in scope: he lands there.
    expect(opsOf(plan, 'account.create').map((o) => o.sourceId).sort()).toEqual(['100', '102', '103']);
    expect(plan.report.notes).toContainEqual(expect.objectContaining({ sourceId: '101', code: 'outOfScope' }));
  });

  it('syncs only included subtrees, with the included department as a top-level unit', () => {
    const w = new World(settings({ includeDepartments: ['20'] }));
    const plan = w.plan(snapshot(org().departments, org().people));
    expect(opsOf(plan, 'unit.create')).toMatchObject([
      { sourceId: '20', name: '华南', parent: { kind: 'top' } },
      { sourceId: '21', name: '销售部', parent: { kind: 'new', sourceId: '20' } },
    ]);
    expect(opsOf(plan, 'account.create').map((o) => o.sourceId)).toEqual(['101', '102']);
  });

  it('suspends, but never deletes, a mapped person who falls out of scope', () => {
    const w = new World(settings({ suspendGraceDays: 0 }));
    const s = snapshot(org().departments, org().people);
    w.sync(s);
    w.settings = settings({ suspendGraceDays: 0, excludeDepartments: ['30'] });
    const plan = w.sync(s);
    expect(plan.operations.filter((o) => o.kind.startsWith('account.'))).toEqual([]);
    w.settings = settings({ suspendGraceDays: 0, excludeDepartments: ['10'] });
    const p2 = w.sync(s);
    expect(kinds(p2)).toEqual(expect.arrayContaining(['account.suspend 100']));
    w.now += 100 * DAY;
    expect(kinds(w.plan(s)).filter((k) => k.startsWith('account.'))).toEqual([]);
  });

  it('syncs only people with a mail address when onlyWithEmail is set', () => {
    const w = new World(settings({ onlyWithEmail: true, accountNameRule: 'jobNumber' }));
    const people = [person('1', 'a', ['1'], { jobNumber: 'E1' }), person('2', 'b', ['1'], { jobNumber: 'E2', email: '' })];
    const plan = w.plan(snapshot([dept('1', 'HQ')], people));
    expect(opsOf(plan, 'account.create')).toMatchObject([{ sourceId: '1', accountName: 'e1' }]);
    expect(plan.report.notes).toContainEqual(expect.objectContaining({ sourceId: '2', code: 'outOfScope' }));
  });
});

describe('planSync: partial and change runs', () => {
  it('never suspends or deletes from an incomplete snapshot, but still applies its updates', () => {
    const { w, departments, people } = syncedOrg(new World(settings({ suspendGraceDays: 0 })));
    const partial = snapshot(
      departments.filter((d) => d.id !== '30'),
      [{ ...people[0]!, displayName: 'Z' }],
      false,
    );
    const plan = w.plan(partial);
    expect(kinds(plan)).toEqual(['account.update 100']);
    expect(plan.mode).toBe('partial');
    expect(plan.report.deletions).toEqual({ mode: 'withheld', reason: 'incompleteSnapshot' });
  });

  it('applies a change feed, deleting only what it names explicitly', () => {
    const { w, departments, people } = syncedOrg();
    const plan = w.sync({
      kind: 'changes',
      changes: {
        departments: [dept('40', '市场部', '20')],
        people: [person('104', 'sunqi', ['40']), { ...people[0]!, mainDepartmentId: '40', departmentIds: ['40'] }],
        deletedDepartmentIds: [],
        deletedPersonIds: ['101'],
        watermarks: {},
      },
    });
    expect(kinds(plan).sort()).toEqual(['account.create 104', 'account.move 100', 'account.suspend 101', 'unit.create 40']);
    expect(w.netease.path(w.netease.accounts.get('sunqi')!.unitId)).toBe('总部/华南/市场部');
  });

  it('names a new same-name department in a change run exactly as a full run would', () => {
    const { w, departments, people } = syncedOrg();
    const plan = w.plan({ kind: 'changes', changes: { departments: [dept('31', '销售部', '30')], people: [], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} } });
    expect(opsOf(plan, 'unit.create')).toMatchObject([{ name: '销售部(研发部)' }]);
  });

  it('leaves a changed department alone when a change run cannot place it', () => {
    const { w, departments, people } = syncedOrg();
    const plan = w.plan({ kind: 'changes', changes: { departments: [dept('50', 'X', '999')], people: [person('105', 'x', ['50'])], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} } });
    expect(plan.operations).toEqual([]);
    expect(plan.report.notes.map((n) => n.code)).toEqual(['scopeUnknown', 'scopeUnknown']);
  });
});

describe('planSync: purity', () => {
  it('never modifies its input', () => {
    const { w, departments, people } = syncedOrg();
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object' && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
      return o;
    };
    const changed = people.map((p) => (p.id === '101' ? { ...p, status: 'left' as const } : p));
    const input = deepFreeze({
      runId: 'frozen',
      now: T0,
      settings: settings(),
      source: { kind: 'snapshot' as const, snapshot: snapshot(withDept(departments, '30', { name: 'R&D' }), changed) },
      mappings: w.mappings.state(),
    });
    expect(kinds(planSync(input)).sort()).toEqual(['account.suspend 101', 'unit.update 30']);
  });
});

describe('planSync: the default unit', () => {
  it('places a person without any department in the default unit, and moves them out once they get one', () => {
    const w = new World();
    const first = w.sync(snapshot([dept('1', 'HQ')], [person('1', 'ann', [])]));
    expect(first.operations.find((o) => o.kind === 'account.create')).toMatchObject({ unit: { kind: 'default' } });
    const s = snapshot([dept('1', 'HQ')], [person('1', 'ann', ['1'])]);
    expect(kinds(w.sync(s))).toEqual(['account.move 1']);
    expect(drift(w.netease, s, nameOf(w))).toEqual([]);
  });
});

describe('planSync: bad input and reading plans', () => {
  it('refuses duplicate source ids and plans nothing', () => {
    const w = new World();
    expect(() => w.plan(snapshot([dept('1', 'A'), dept('1', 'B')], []))).toThrow(SyncPlanInputError);
    expect(() => w.plan(snapshot([dept('1', 'A')], [person('1', 'a', ['1']), person('1', 'b', ['1'])]))).toThrow(/person id 1 appears twice/);
  });

  it('refuses mapping state where two people share one mailbox', () => {
    expect(() =>
      planSync({
        runId: 'r',
        now: T0,
        settings: settings(),
        source: { kind: 'snapshot', snapshot: snapshot([], []) },
        mappings: {
          units: [],
          accounts: [
            { sourceId: '1', accountName: 'a', profileHash: 'x', unitId: 'default', status: 'active' },
            { sourceId: '2', accountName: 'A', profileHash: 'x', unitId: 'default', status: 'active' },
          ],
        },
      }),
    ).toThrow(/account a is mapped from two people/);
  });

  it('explains the decision for one object, by type when ids overlap', () => {
    const w = new World();
    const plan = w.plan(snapshot([dept('1', 'HQ')], [person('1', 'ann', ['1']), person('2', '', ['1'], { email: undefined })]));
    expect(explain(plan, '1', 'department').decision).toBe('create unit "HQ" under top level');
    expect(explain(plan, '1', 'person')).toMatchObject({ type: 'person', decision: 'create account ann in new unit of department 1' });
    expect(explain(plan, '2').decision).toMatch(/^no operation: noAccountName/);
    expect(explain(plan, '999').decision).toMatch(/^no operation: unchanged/);
  });

  it('prints a dry run without personal data and splits the plan into batches by phase', () => {
    const w = new World();
    const plan = w.plan(snapshot(org().departments, org().people));
    const text = formatPlan(plan);
    expect(text).toContain('units:    create 6');
    expect(text).not.toMatch(/138|Person 100|@acme/);
    const batches = planBatches(plan, 2);
    expect(batches.every((b) => b.operations.length <= 2 && b.operations.every((o) => o.phase === b.phase))).toBe(true);
    expect(batches.flatMap((b) => b.operations)).toEqual(plan.operations);
  });
});
