/**
 * Department mailing lists and aliases end to end: the real sync engine (planner, SQS
 * stand-in, real worker), the real legacy client (aliases) and open-platform client (lists)
 * over HTTP, the NetEase simulator. What the user cares about: the lists NetEase holds have
 * the right address and members after every kind of change, aliases appear and go, a
 * collision is reported and nothing is forced, a hand-made alias is never removed, and a
 * run with nothing to do writes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Department, Person } from '../../shared/domain/directory';
import { explainObject, PLAN_DOC } from '../../shared/use-cases/sync';
import { withOpenPlatform } from '../../shared/wiring/tenant-clients';
import type { SyncPlan } from '../../shared/domain/sync-plan';
import { createOpenPlatformHarness, dept as d, fileSimulator, openPlatformClient, person as p, type SyncHarness } from './sync-harness';

const shared = fileSimulator(14);
let counter = 0;

/** 总部 > 销售部 > 华东区; 总部 > 研发部. Two people share the name 王伟. */
function org(): { departments: Department[]; people: Person[] } {
  return {
    departments: [d('hq', '总部'), d('sales', '销售部', 'hq'), d('east', '华东区', 'sales'), d('rnd', '研发部', 'hq')],
    people: [
      p('p1', 'east', { displayName: '张三' }),
      p('p2', 'east', { displayName: '李四' }),
      p('p3', 'sales', { displayName: '王伟' }),
      p('p4', 'rnd', { displayName: '王伟' }),
    ],
  };
}

interface Setup {
  lists?: boolean;
  aliases?: Record<string, unknown>;
  /** The open platform is configured but its list calls are not there (no authCode). */
  noListCalls?: boolean;
  includeSubDepartments?: boolean;
  /** Another organisation than org(). */
  org?: { departments: Department[]; people: Person[] };
  /** More sync settings (the other issue 14 features). */
  sync?: Record<string, unknown>;
  before?: (h: SyncHarness) => Promise<void>;
}

async function setup(opts: Setup = {}): Promise<SyncHarness> {
  const tenantId = `ml${++counter}-acme`;
  const h = await createOpenPlatformHarness({
    sim: shared.sim,
    tenantId,
    org: opts.org ?? org(),
    netease: { openPlatform: { baseUrl: shared.sim.url, appId: `${tenantId}-app`, orgOpenId: `${tenantId}-org` } },
    sync: {
      ...(opts.lists !== false ? { mailLists: { enabled: true, naming: { rule: 'pinyin' }, includeSubDepartments: opts.includeSubDepartments ?? true } } : {}),
      ...(opts.aliases ? { aliases: opts.aliases } : {}),
      ...opts.sync,
    },
    // As shared/wiring/tenant-clients.ts composes a tenant with the open platform.
    wrapApi: (api, open) => (opts.noListCalls ? api : withOpenPlatform(api, open)),
  });
  shared.keep(h);
  await opts.before?.(h);
  return h;
}

const lists = (h: SyncHarness) => Object.fromEntries(Object.values(h.netease().maillists ?? {}).map((l) => [l.account_name, { name: l.name, members: l.members.map((m) => m.split('@')[0]) }]));
const aliasesOf = (h: SyncHarness, account: string) => h.netease().aliases?.[account] ?? [];
const planOf = async (h: SyncHarness, runId: string): Promise<SyncPlan> => (await h.stores.plans.getDocument(h.tenant.id, runId, PLAN_DOC)) as SyncPlan;

describe('department mailing lists over the wire', () => {
  it('creates one list per department with its people and sub-departments, then a second full run writes nothing', async () => {
    const h = await setup();
    const first = await h.run({ mode: 'full' });
    expect(first.run.status).toBe('success');
    expect(lists(h)).toEqual({
      zongbu: { name: '总部', members: ['p1', 'p2', 'p3', 'p4'] },
      xiaoshoubu: { name: '销售部', members: ['p1', 'p2', 'p3'] },
      huadongqu: { name: '华东区', members: ['p1', 'p2'] },
      yanfabu: { name: '研发部', members: ['p4'] },
    });
    expect((await explainObject(h.deps, h.tenant.id, 'east', { type: 'department', readSource: false, readNetease: false })).mapping?.mailList).toBe('huadongqu');
    const mark = await h.mark();
    const again = await h.run({ mode: 'full' });
    expect(again.run.status).toBe('success');
    expect(h.writeCalls(mark)).toEqual([]);
    // The full run read the lists and each list's members (1 + 4 calls).
    const reads = shared.sim.calls({ domain: h.tenant.netease.domain }).filter((c) => c.at >= mark && /maillist\/getMaillist(List|Member)$/.test(c.path));
    expect(reads).toHaveLength(5);
  });

  it('follows a joiner, a leaver, a rename and a move on incremental runs', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    h.source.putPerson(p('p5', 'east', { displayName: '赵六' }));
    h.source.editPerson('p2', (x) => void (x.status = 'left'));
    await h.run();
    expect(lists(h).huadongqu!.members).toEqual(['p1', 'p5']);
    expect(lists(h).zongbu!.members).toEqual(['p1', 'p3', 'p4', 'p5']);

    // Rename: the pinyin address follows (new list, old one deleted); the display name too.
    h.source.editDepartment('east', (x) => void (x.name = '华东大区'));
    await h.run();
    expect(lists(h).huadongqu).toBeUndefined();
    expect(lists(h).huadongdaqu).toEqual({ name: '华东大区', members: ['p1', 'p5'] });

    // Move: 研发部 goes under 销售部, whose list now takes its people.
    h.source.editDepartment('rnd', (x) => void (x.parentId = 'sales'));
    const moved = await h.run();
    expect(moved.run.status).toBe('success');
    expect(lists(h).xiaoshoubu!.members).toEqual(['p1', 'p3', 'p4', 'p5']);

    // A person moved to another department leaves the old list and joins the new one.
    h.source.editPerson('p4', (x) => {
      x.departmentIds = ['east'];
      x.mainDepartmentId = 'east';
    });
    await h.run();
    expect(lists(h).yanfabu).toBeUndefined(); // no members left: no list
    expect(lists(h).huadongdaqu!.members).toEqual(['p1', 'p4', 'p5']);
  });

  it('deletes the list of a department that is gone', async () => {
    const h = await setup({ includeSubDepartments: false });
    await h.run({ mode: 'full' });
    expect(lists(h).yanfabu).toBeDefined();
    h.source.editPerson('p4', (x) => {
      x.departmentIds = ['sales'];
      x.mainDepartmentId = 'sales';
    });
    h.source.editDepartment('rnd', (x) => void (x.status = 'disabled'));
    const r = await h.run({ mode: 'full' });
    expect(r.run.status).toBe('success');
    expect(lists(h).yanfabu).toBeUndefined();
    expect(lists(h).xiaoshoubu!.members).toEqual(['p3', 'p4']);
  });

  it('reports an address held by an account it does not manage and never takes it', async () => {
    const h = await setup({
      before: async (x) => {
        x.sim.seed(x.tenant.netease.domain, { units: [], accounts: [{ account_name: 'yanfabu', nickname: 'R&D shared mailbox' }] });
      },
    });
    const r = await h.run({ mode: 'full' });
    const plan = await planOf(h, r.run.runId);
    expect(plan.report.notes.filter((n) => n.code === 'mailListNameCollision').map((n) => n.sourceId)).toEqual(['rnd']);
    expect(lists(h).yanfabu).toBeUndefined();
    expect(h.netease().accounts.yanfabu!.nickname).toBe('R&D shared mailbox');
  });

  it('repairs a list edited or deleted by hand on the next full run', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const open = openPlatformClient(shared.sim, h.tenant.id, h.tenant.netease.domain);
    await open.updateMailList('huadongqu', { displayName: '华东区', members: ['p1'] });
    await open.deleteMailList('yanfabu');
    await h.run({ mode: 'full' });
    expect(lists(h).huadongqu!.members).toEqual(['p1', 'p2']);
    expect(lists(h).yanfabu!.members).toEqual(['p4']);
  });

  it('reports the lists as unavailable when the tenant has no list calls, and plans none', async () => {
    const h = await setup({ noListCalls: true });
    const r = await h.run({ mode: 'full' });
    const plan = await planOf(h, r.run.runId);
    expect(plan.report.notes.some((n) => n.code === 'mailListsUnavailable')).toBe(true);
    expect(plan.operations.filter((op) => op.kind.startsWith('maillist.'))).toEqual([]);
    expect(h.netease().maillists ?? {}).toEqual({});
  });
});

describe('aliases from the source over the wire', () => {
  it('adds the pinyin alias, reports two people wanting the same one, and a no-change full run writes nothing', async () => {
    const h = await setup({ lists: false, aliases: { rule: 'pinyin' } });
    const r = await h.run({ mode: 'full' });
    expect(aliasesOf(h, 'p1')).toEqual(['zhangsan']);
    expect(aliasesOf(h, 'p2')).toEqual(['lisi']);
    expect(aliasesOf(h, 'p3')).toEqual([]);
    expect(aliasesOf(h, 'p4')).toEqual([]);
    const plan = await planOf(h, r.run.runId);
    expect(plan.report.notes.filter((n) => n.code === 'aliasCollision').map((n) => n.sourceId).sort()).toEqual(['p3', 'p4']);
    const mark = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(mark)).toEqual([]);
  });

  it('replaces its own alias when the source changes, and never removes one an admin added', async () => {
    const h = await setup({ lists: false, aliases: { rule: 'field', field: 'loginName' } });
    h.source.editPerson('p1', (x) => void (x.loginName = 'zhang.san'));
    await h.run({ mode: 'full' });
    expect(aliasesOf(h, 'p1')).toEqual(['zhang.san']);
    await h.api.aliases.addAccountAlias('p1', 'boss');
    h.source.editPerson('p1', (x) => void (x.loginName = 'san.zhang'));
    await h.run();
    expect(aliasesOf(h, 'p1').sort()).toEqual(['boss', 'san.zhang']);
    // explain shows the aliases the bridge manages (not the admin's).
    expect((await explainObject(h.deps, h.tenant.id, 'p1', { readSource: false, readNetease: false })).mapping?.aliases).toEqual(['san.zhang']);
    // The feature's own alias goes when the field is emptied; the admin's stays.
    h.source.editPerson('p1', (x) => void delete x.loginName);
    await h.run({ mode: 'full' });
    expect(aliasesOf(h, 'p1')).toEqual(['boss']);
  });

  it('reports an alias held by another account and does not add it; a leaver keeps the alias with the mailbox', async () => {
    const h = await setup({ lists: false, aliases: { rule: 'field', field: 'loginName' } });
    h.source.editPerson('p1', (x) => void (x.loginName = 'p2'));
    h.source.editPerson('p3', (x) => void (x.loginName = 'wang.wei'));
    const r = await h.run({ mode: 'full' });
    const plan = await planOf(h, r.run.runId);
    expect(plan.report.notes.find((n) => n.code === 'aliasCollision')?.sourceId).toBe('p1');
    expect(aliasesOf(h, 'p1')).toEqual([]);
    expect(aliasesOf(h, 'p3')).toEqual(['wang.wei']);
    h.source.editPerson('p3', (x) => void (x.status = 'left'));
    await h.run();
    expect(h.netease().accounts.p3!.status).toBe(1);
    expect(aliasesOf(h, 'p3')).toEqual(['wang.wei']);
  });
});

describe('every issue 14 feature on at once', () => {
  it('lists, aliases, policies, display order and leaver forwarding converge: a no-change full run writes nothing, and a leaver is forwarded, suspended and dropped from the lists', async () => {
    const departments = [
      { ...d('hq', '总部'), displayOrder: 0 },
      { ...d('sales', '销售部', 'hq'), displayOrder: 20 },
      { ...d('rnd', '研发部', 'hq'), displayOrder: 10 },
    ];
    const people = [
      { ...p('boss', 'hq', { displayName: '老板' }), displayOrder: 1 },
      { ...p('s1', 'sales', { displayName: '张三', managerId: 'boss' }), displayOrder: 2 },
      { ...p('r1', 'rnd', { displayName: '李四' }), displayOrder: 3 },
    ];
    const h = await setup({
      org: { departments, people },
      aliases: { rule: 'pinyin' },
      sync: {
        policies: [{ name: 'sales', match: { department: '销售部', recursive: true }, set: { quota: 10240 } }],
        displayOrder: true,
        leavers: { forwardTo: 'manager' },
      },
    });
    const first = await h.run({ mode: 'full' });
    expect(first.run.status).toBe('success');
    expect(Object.keys(lists(h)).sort()).toEqual(['xiaoshoubu', 'yanfabu', 'zongbu']);
    expect(aliasesOf(h, 's1')).toEqual(['zhangsan']);
    const calls = (mark: number) => h.writeCalls(mark).map((c) => c.path.split('/').pop());

    const quiet = await h.mark();
    const again = await h.run({ mode: 'full' });
    expect(again.run.status).toBe('success');
    expect(calls(quiet)).toEqual([]);

    h.source.editPerson('s1', (x) => void (x.status = 'left'));
    const leave = await h.mark();
    const left = await h.run({ mode: 'full' });
    expect(left.run.status).toBe('success');
    expect(calls(leave).sort()).toEqual(expect.arrayContaining(['suspendAccount', 'updateAccount', 'updateMaillist']));
    expect(h.netease().accounts.s1).toMatchObject({ status: 1, fwd: `boss@${h.tenant.netease.domain}` });
    expect(lists(h).xiaoshoubu).toBeUndefined(); // its only member left: the list goes
    const settled = await h.mark();
    await h.run({ mode: 'full' });
    expect(calls(settled)).toEqual([]);
  });
});
