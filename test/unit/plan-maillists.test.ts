/**
 * The planner's mail stages (shared/domain/plan/maillists.ts, aliases.ts): pure, over the
 * plan harness's World (mappings written by the real mapping updates, dependencies checked
 * phase by phase). The wire behaviour is in test/integration/sync-maillists.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DirectorySnapshot, Person } from '../../shared/domain/directory';
import type { MailPlanInput } from '../../shared/domain/mail-features';
import type { PlanOperation, PlanSyncInput, SyncPlan } from '../../shared/domain/sync-plan';
import { romanize } from '../../shared/lib/pinyin';
import { MAX_BATCH_LIST_BYTES, planBatches } from '../../shared/domain/plan-report';
import { MAX_MAILLIST_MEMBERS } from '../../shared/domain/plan/maillists';
import { dept, person, settings, snapshot, World } from './plan-harness';

const MAIL: MailPlanInput = { listsAvailable: true, romanize };
const LISTS = { enabled: true, naming: { rule: 'pinyin' as const }, includeSubDepartments: false };

function org(people: Person[] = [person('p1', 'p1', ['east']), person('p2', 'p2', ['east']), person('p3', 'p3', ['sales'])]): DirectorySnapshot {
  return snapshot([dept('sales', '销售部'), dept('east', '华东区', 'sales')], people);
}

function world(overrides: Parameters<typeof settings>[0] = {}): World {
  return new World(settings({ mailLists: LISTS, ...overrides }));
}

const sync = (w: World, src: Parameters<World['plan']>[0], extra: Partial<PlanSyncInput> = {}) => w.sync(src, { mailDomain: 'acme.com', mail: MAIL, ...extra });
const mailOps = (plan: SyncPlan) => plan.operations.filter((op) => op.kind.startsWith('maillist.') || op.kind.startsWith('alias.'));
const listOf = (w: World, deptId: string) => w.mappings.units.get(deptId)?.mailList;
const op = <K extends PlanOperation['kind']>(plan: SyncPlan, kind: K, sourceId: string) => plan.operations.find((o): o is Extract<PlanOperation, { kind: K }> => o.kind === kind && o.sourceId === sourceId);
const changes = (people: Person[], extra: Partial<{ deletedPersonIds: string[] }> = {}): PlanSyncInput['source'] => ({
  kind: 'changes',
  changes: { departments: [], people, deletedDepartmentIds: [], deletedPersonIds: extra.deletedPersonIds ?? [], watermarks: {} },
});

describe('department mailing lists (planner)', () => {
  it('creates a list per department after its unit and its members, and plans nothing when nothing changed', () => {
    const w = world();
    const plan = sync(w, org());
    const east = op(plan, 'maillist.create', 'east')!;
    expect(east).toMatchObject({ name: 'huadongqu', displayName: '华东区', members: ['p1', 'p2'] });
    expect(op(plan, 'maillist.create', 'sales')).toMatchObject({ name: 'xiaoshoubu', members: ['p3'] });
    // The list waits for the unit (its mapping) and for its members' mailboxes.
    const deps = new Set(east.dependsOn);
    expect(deps.has(op(plan, 'unit.create', 'east')!.id)).toBe(true);
    expect(deps.has(op(plan, 'account.create', 'p1')!.id)).toBe(true);
    expect(listOf(w, 'east')?.name).toBe('huadongqu');
    expect(mailOps(sync(w, org()))).toEqual([]);
  });

  it('includes sub-departments when asked', () => {
    const w = world({ mailLists: { ...LISTS, includeSubDepartments: true } });
    const plan = sync(w, org());
    const sales = op(plan, 'maillist.create', 'sales')!;
    expect(sales.members).toEqual(['p1', 'p2', 'p3']);
    // It waits for the sub-department's list (which waits for p1, p2), and for p3 itself: dependencies stay O(people).
    expect(sales.dependsOn).toContain(op(plan, 'maillist.create', 'east')!.id);
    expect(sales.dependsOn).toContain(op(plan, 'account.create', 'p3')!.id);
    expect(sales.dependsOn).not.toContain(op(plan, 'account.create', 'p1')!.id);
    expect(sales.phase).toBeGreaterThan(op(plan, 'account.create', 'p1')!.phase);
  });

  it('follows a rename: the id rule keeps the address and updates the display name; the pinyin rule moves the address', () => {
    const byId = world({ mailLists: { ...LISTS, naming: { rule: 'id', prefix: 'dept-' } } });
    sync(byId, org());
    const renamed = org();
    renamed.departments[1]!.name = '华东大区';
    const p1 = sync(byId, renamed);
    expect(mailOps(p1).map((o) => o.kind)).toEqual(['maillist.update']);
    expect(op(p1, 'maillist.update', 'east')).toMatchObject({ name: 'dept-east', displayName: '华东大区', previousDisplayName: '华东区' });

    const byPinyin = world();
    sync(byPinyin, org());
    const p2 = sync(byPinyin, renamed);
    const create = op(p2, 'maillist.create', 'east')!;
    const del = op(p2, 'maillist.delete', 'east')!;
    expect(create.name).toBe('huadongdaqu');
    expect(del.name).toBe('huadongqu');
    expect(create.dependsOn).toContain(del.id);
    expect(listOf(byPinyin, 'east')?.name).toBe('huadongdaqu');
  });

  it('moves a person between lists, adds a joiner and drops a leaver on change runs', () => {
    const w = world();
    sync(w, org());
    const moved = person('p1', 'p1', ['sales']);
    const plan = sync(w, changes([moved, person('p4', 'p4', ['east'])]));
    expect(op(plan, 'maillist.update', 'east')!.members).toEqual(['p2', 'p4']);
    expect(op(plan, 'maillist.update', 'sales')!.members).toEqual(['p1', 'p3']);
    const left = sync(w, changes([{ ...person('p2', 'p2', ['east']), status: 'left' }]));
    expect(op(left, 'maillist.update', 'east')!.members).toEqual(['p4']);
    expect(mailOps(sync(w, changes([])))).toEqual([]);
  });

  it('deletes the list of a department that is gone, and the list of a department left without members', () => {
    const w = world();
    sync(w, org());
    const gone = snapshot([dept('sales', '销售部')], [person('p1', 'p1', ['sales']), person('p2', 'p2', ['sales']), person('p3', 'p3', ['sales'])]);
    const plan = sync(w, gone);
    expect(op(plan, 'maillist.delete', 'east')).toMatchObject({ name: 'huadongqu' });
    expect(listOf(w, 'east')).toBeUndefined();
    expect(op(plan, 'maillist.update', 'sales')!.members).toEqual(['p1', 'p2', 'p3']);
  });

  it('reports an address held by an account or another list and never takes it', () => {
    const w = world();
    const netease = { units: [], accounts: [{ accountName: 'huadongqu', status: 'active' as const }] };
    const plan = sync(w, org(), { netease });
    expect(op(plan, 'maillist.create', 'east')).toBeUndefined();
    expect(plan.report.notes).toContainEqual(expect.objectContaining({ sourceId: 'east', code: 'mailListNameCollision' }));
    // A list NetEase holds that the bridge does not manage.
    const w2 = world();
    const p2 = sync(w2, org(), { mail: { ...MAIL, netease: { lists: new Map([['xiaoshoubu', {}]]), aliases: new Map() } } });
    expect(op(p2, 'maillist.create', 'sales')).toBeUndefined();
    expect(p2.report.notes.find((n) => n.code === 'mailListNameCollision')?.detail).toContain('does not manage');
  });

  it('splits list operations over batches by their size, and leaves a department too big for one operation without a list', () => {
    const many = Array.from({ length: 8000 }, (_, i) => person(`q${i}`, `member.with.a.long.name.${i}`, [i % 2 === 0 ? 'a' : 'b']));
    const w = world({ mailLists: { ...LISTS, naming: { rule: 'id' } } });
    const plan = sync(w, snapshot([dept('a', 'A'), dept('b', 'B')], many));
    const batches = planBatches(plan, 25);
    // Every stored batch stays under the store's 300 KB; list operations share a batch only within the budget.
    for (const b of batches) {
      expect(JSON.stringify(b).length).toBeLessThan(300_000);
      const lists = b.operations.filter((o) => o.kind.startsWith('maillist.'));
      if (lists.length > 1) expect(JSON.stringify(lists).length).toBeLessThanOrEqual(MAX_BATCH_LIST_BYTES + 100);
    }
    expect(batches.flatMap((b) => b.operations)).toHaveLength(plan.operations.length);
    // The two lists (about 230 KB each with their dependencies) share a phase but not a batch.
    const listBatches = batches.filter((b) => b.operations.some((o) => o.kind === 'maillist.create'));
    expect(listBatches).toHaveLength(2);
    expect(listBatches[0]!.phase).toBe(listBatches[1]!.phase);
    const huge = Array.from({ length: MAX_MAILLIST_MEMBERS + 1 }, (_, i) => person(`h${i}`, `h${i}`, ['east']));
    const big = sync(world(), org(huge));
    expect(op(big, 'maillist.create', 'east')).toBeUndefined();
    expect(big.report.notes).toContainEqual(expect.objectContaining({ sourceId: 'east', code: 'mailListTooLarge' }));
  });

  it('reports lists as unavailable without the open platform and plans none', () => {
    const w = world();
    const plan = sync(w, org(), { mail: { listsAvailable: false, romanize } });
    expect(mailOps(plan)).toEqual([]);
    expect(plan.report.notes).toContainEqual(expect.objectContaining({ code: 'mailListsUnavailable' }));
  });

  it('repairs on a full run what NetEase holds differently from the mapping', () => {
    const w = world();
    sync(w, org());
    const held = { lists: new Map([['huadongqu', { displayName: '华东区', members: ['p1'] }], ['xiaoshoubu', { displayName: '销售部', members: ['p3'] }]]), aliases: new Map() };
    const plan = sync(w, org(), { mail: { ...MAIL, netease: held } });
    expect(mailOps(plan).map((o) => `${o.kind} ${o.sourceId}`)).toEqual(['maillist.update east']);
  });
});

describe('aliases from the source (planner)', () => {
  const named = (id: string, name: string, extra: Partial<Person> = {}) => person(id, id, ['east'], { displayName: name, ...extra });

  it('adds one alias per person, gives a shared one to nobody, and plans nothing the second time', () => {
    const w = world({ mailLists: undefined, aliases: { rule: 'pinyin' } });
    const src = snapshot([dept('east', '华东区')], [named('p1', '张三'), named('p2', '王伟'), named('p3', '王伟')]);
    const plan = sync(w, src);
    expect(mailOps(plan).map((o) => (o.kind === 'alias.add' ? `${o.accountName}:${o.alias}` : o.kind))).toEqual(['p1:zhangsan']);
    expect(plan.report.notes.filter((n) => n.code === 'aliasCollision').map((n) => n.sourceId)).toEqual(['p2', 'p3']);
    expect(w.mappings.accounts.get('p1')!.aliases).toEqual(['zhangsan']);
    expect(mailOps(sync(w, src))).toEqual([]);
  });

  it('takes an email alias only from the tenant domain, and removes only what it added', () => {
    const w = world({ mailLists: undefined, aliases: { rule: 'field', field: 'loginName' } });
    const plan = sync(w, snapshot([dept('east', '华东区')], [named('p1', 'a', { loginName: 'zhang.san@acme.com' }), named('p2', 'b', { loginName: 'x@other.com' })]));
    expect(mailOps(plan).map((o) => `${o.kind} ${o.sourceId}`)).toEqual(['alias.add p1']);
    // An admin's alias of p1 is in NetEase but not in the mapping: a changed source value removes only the bridge's.
    const next = sync(w, snapshot([dept('east', '华东区')], [named('p1', 'a', { loginName: 'san.zhang' }), named('p2', 'b')]), {
      mail: { ...MAIL, netease: { lists: new Map(), aliases: new Map([['p1', ['zhang.san', 'boss']]]) } },
    });
    expect(mailOps(next).map((o) => (o.kind.startsWith('alias.') ? `${o.kind} ${(o as { alias: string }).alias}` : o.kind))).toEqual(['alias.remove zhang.san', 'alias.add san.zhang']);
    expect(op(next, 'alias.add', 'p1')!.dependsOn).toContain(op(next, 'alias.remove', 'p1')!.id);
    expect(w.mappings.accounts.get('p1')!.aliases).toEqual(['san.zhang']);
  });

  it('reports an alias held by another account, a list or an alias added by hand elsewhere', () => {
    const w = world({ aliases: { rule: 'field', field: 'jobNumber' } });
    const src = snapshot([dept('east', '华东区')], [named('p1', 'a', { jobNumber: 'p2' }), named('p2', 'b', { jobNumber: 'huadongqu' }), named('p3', 'c', { jobNumber: 'boss' })]);
    const plan = sync(w, src, { mail: { ...MAIL, netease: { lists: new Map(), aliases: new Map([['other', ['boss']]]) } } });
    expect(mailOps(plan).filter((o) => o.kind === 'alias.add')).toEqual([]);
    expect(plan.report.notes.filter((n) => n.code === 'aliasCollision').map((n) => n.sourceId)).toEqual(['p1', 'p2', 'p3']);
    expect(op(plan, 'maillist.create', 'east')).toBeDefined();
  });
});


