/**
 * The planner stages for mailbox policies (plan/policies.ts), display order (plan/rank.ts)
 * and leaver forwarding (plan/forwarding.ts): applied at creation, follow changes, and an
 * unchanged source plans nothing. Plans are applied with the strict harness applier, which
 * checks every dependency ran first and writes the real mapping updates.
 */
import { describe, expect, it } from 'vitest';
import type { Person } from '../../shared/domain/directory';
import type { AccountMapping, PlanOperation, SyncPlan, UnitMapping } from '../../shared/domain/sync-plan';
import { accountToWrite, recordToAccount, recordToUnit, unitToWrite } from '../../shared/use-cases/sync/mapping-codec';
import type { PolicyRule } from '../../shared/domain/mailbox-policies';
import { DAY, dept, opsOf, person, settings, snapshot, World } from './plan-harness';

const SALES: PolicyRule = { name: 'sales', match: { department: '销售部', recursive: true }, set: { quota: 10240, addrVisible: 1 } };
const MANAGERS: PolicyRule = { name: 'managers', match: { attribute: 'title', equals: ['经理', 'Manager'] }, set: { quota: 20480 } };
const EVERYONE: PolicyRule = { name: 'everyone', match: { all: true }, set: { quota: 5120 } };

const depts = [dept('d1', '总部'), dept('d2', '销售部', 'd1'), dept('d3', '华东销售', 'd2'), dept('d4', '研发部', 'd1')];
const noteOf = (plan: SyncPlan, id: string, code: string) => plan.report.notes.filter((n) => n.sourceId === id && n.code === code).map((n) => n.detail);
const only = <K extends PlanOperation['kind']>(plan: SyncPlan, kind: K) => opsOf(plan, kind) as Array<Extract<PlanOperation, { kind: K }>>;

describe('mailbox policies', () => {
  it('sets the first matching rule at creation, on the createAccount itself, and plans nothing on the next run', () => {
    const w = new World(settings({ policies: [MANAGERS, SALES, EVERYONE] }));
    const snap = snapshot(depts, [person('p1', 'li', ['d3']), person('p2', 'wang', ['d3'], { title: '经理' }), person('p3', 'zhao', ['d4'])]);
    const first = w.sync(snap);
    const creates = only(first, 'account.create');
    expect(Object.fromEntries(creates.map((c) => [c.sourceId, c.policy?.rule]))).toEqual({ p1: 'sales', p2: 'managers', p3: 'everyone' });
    expect(opsOf(first, 'account.policy')).toHaveLength(0);
    expect(w.netease.settings.get('li')).toEqual({ quota: 10240, addrVisible: 1 });
    expect(w.mappings.accounts.get('p1')).toMatchObject({ policyRule: 'sales' });
    const again = w.plan(snap);
    expect(again.operations).toHaveLength(0);
    expect(again.report.notes.filter((n) => n.code === 'policy')).toEqual([]);
  });

  it('matches a department by name only itself without recursive, and its whole subtree with it', () => {
    const w = new World(settings({ policies: [{ match: { department: '销售部' }, set: { quota: 1 } }] }));
    const plan = w.plan(snapshot(depts, [person('p1', 'li', ['d2']), person('p2', 'wang', ['d3'])]));
    expect(only(plan, 'account.create').map((c) => [c.sourceId, c.policy?.rule])).toEqual([['p1', 'policies[0]'], ['p2', undefined]]);
  });

  it("re-applies when a person's department changes, with the previous rule named", () => {
    const w = new World(settings({ policies: [SALES, EVERYONE] }));
    w.sync(snapshot(depts, [person('p1', 'li', ['d4'])]));
    const moved = w.sync(snapshot(depts, [person('p1', 'li', ['d3'])]));
    expect(only(moved, 'account.policy').map((o) => [o.policy.rule, o.previousRule])).toEqual([['sales', 'everyone']]);
    expect(w.netease.settings.get('li')).toMatchObject({ quota: 10240, addrVisible: 1 });
    expect(w.plan(snapshot(depts, [person('p1', 'li', ['d3'])])).operations).toHaveLength(0);
  });

  it('writes only the people whose rule changed when a rule changes', () => {
    const w = new World(settings({ policies: [SALES, EVERYONE] }));
    const snap = snapshot(depts, [person('p1', 'li', ['d3']), person('p2', 'zhao', ['d4'])]);
    w.sync(snap);
    w.settings = settings({ policies: [{ ...SALES, set: { quota: 30720, addrVisible: 1 } }, EVERYONE] });
    const plan = w.sync(snap);
    expect(only(plan, 'account.policy').map((o) => o.sourceId)).toEqual(['p1']);
    expect(w.plan(snap).operations).toHaveLength(0);
  });

  it('leaves NetEase as it is, with a note, when no rule matches any more', () => {
    const w = new World(settings({ policies: [SALES] }));
    w.sync(snapshot(depts, [person('p1', 'li', ['d3'])]));
    const plan = w.plan(snapshot(depts, [person('p1', 'li', ['d4'])]));
    expect(kindsOf(plan)).toEqual(['account.move']);
    expect(noteOf(plan, 'p1', 'policy')[0]).toContain('no policy rule matches any more');
  });

  it("writes the quota again on a full run when NetEase's getAccount reports another one", () => {
    const w = new World(settings({ policies: [SALES] }));
    const snap = snapshot(depts, [person('p1', 'li', ['d3'])]);
    w.sync(snap);
    const state = { ...w.netease.state(), reconcilable: true };
    state.accounts = state.accounts.map((a) => ({ ...a, quota: '2048' }));
    const plan = w.plan(snap, { netease: state });
    expect(only(plan, 'account.policy').map((o) => o.policy.rule)).toEqual(['sales']);
    expect(noteOf(plan, 'p1', 'policy')[0]).toContain('NetEase holds quota 2048');
    const same = { ...state, accounts: state.accounts.map((a) => ({ ...a, quota: '10240' })) };
    expect(w.plan(snap, { netease: same }).operations).toHaveLength(0);
  });
});

describe('display order', () => {
  const ordered = [{ ...dept('d1', '总部'), displayOrder: 0 }, { ...dept('d2', '销售部', 'd1'), displayOrder: 20 }, { ...dept('d4', '研发部', 'd1'), displayOrder: 10 }];

  it('ranks new units and mailboxes after their creation, skips order 0, and plans nothing when unchanged', () => {
    const w = new World(settings({ displayOrder: true }));
    const snap = snapshot(ordered, [person('p1', 'li', ['d2'], { order: 3 }), person('p2', 'wang', ['d2'], { order: 0 }), person('p3', 'zhao', ['d4'])]);
    const first = w.sync(snap);
    expect(only(first, 'unit.rank').map((o) => [o.sourceId, o.rank])).toEqual([['d2', 20], ['d4', 10]]);
    expect(only(first, 'account.rank').map((o) => [o.sourceId, o.rank])).toEqual([['p1', 3]]);
    const create = only(first, 'unit.create').find((o) => o.sourceId === 'd2')!;
    expect(only(first, 'unit.rank').find((o) => o.sourceId === 'd2')!.dependsOn).toContain(create.id);
    expect(w.netease.settings.get(w.netease.unitByName('销售部')!.unitId)).toEqual({ rank: 20 });
    expect(w.plan(snap).operations).toHaveLength(0);
  });

  it('writes one rank when one order changes, naming the previous rank', () => {
    const w = new World(settings({ displayOrder: true }));
    w.sync(snapshot(ordered, [person('p1', 'li', ['d2'], { order: 3 })]));
    const plan = w.plan(snapshot([ordered[0]!, { ...ordered[1]!, displayOrder: 5 }, ordered[2]!], [person('p1', 'li', ['d2'], { order: 3 })]));
    expect(only(plan, 'unit.rank').map((o) => [o.sourceId, o.rank, o.previousRank])).toEqual([['d2', 5, 20]]);
    expect(plan.operations).toHaveLength(1);
  });

  it('writes no rank when the tenant has not turned display order on', () => {
    const w = new World(settings());
    expect(kindsOf(w.plan(snapshot(ordered, [person('p1', 'li', ['d2'], { order: 3 })])))).not.toContain('unit.rank');
  });
});

describe('leaver forwarding', () => {
  const boss = person('m1', 'boss', ['d2']);
  const staff = (extra: Partial<Person> = {}) => person('p1', 'li', ['d2'], { managerId: 'm1', ...extra });
  const world = (forwardTo: string, fallback?: string) => {
    const w = new World(settings({ leavers: { forwardTo, ...(fallback ? { fallback } : {}) } }));
    w.sync(snapshot(depts, [boss, staff()]), { mailDomain: 'acme.com' });
    return w;
  };

  it("forwards a leaver's mail to the manager with the suspension, without making the suspension wait for it", () => {
    const w = world('manager');
    const snap = snapshot(depts, [boss, staff({ status: 'left' })]);
    const plan = w.sync(snap, { mailDomain: 'acme.com' });
    const [fwd] = only(plan, 'account.forward');
    const [suspend] = only(plan, 'account.suspend');
    expect(fwd).toMatchObject({ accountName: 'li', to: 'boss@acme.com', via: 'manager', managerSourceId: 'm1' });
    expect(fwd!.phase).toBe(suspend!.phase);
    expect(suspend!.dependsOn).not.toContain(fwd!.id);
    expect(noteOf(plan, 'p1', 'forwarding')).toEqual(["mail of account li is forwarded to manager m1's account boss during the grace period"]);
    expect(w.netease.settings.get('li')).toEqual({ fwd: 'boss@acme.com' });
    // In the grace period: nothing more; after it: deleted as before.
    w.now += 5 * DAY;
    expect(w.plan(snap, { mailDomain: 'acme.com' }).operations).toHaveLength(0);
    w.now += 30 * DAY;
    expect(kindsOf(w.plan(snap, { mailDomain: 'acme.com' }))).toEqual(['account.delete']);
  });

  it("uses a department's manager when the person has none, then the fallback, and otherwise says it forwards nowhere", () => {
    const withDeptManager = [dept('d1', '总部'), { ...dept('d2', '销售部', 'd1'), managerIds: ['p1', 'm1'] }];
    const w = new World(settings({ leavers: { forwardTo: 'manager' } }));
    w.sync(snapshot(withDeptManager, [boss, person('p1', 'li', ['d2'])]), { mailDomain: 'acme.com' });
    expect(only(w.plan(snapshot(withDeptManager, [boss, person('p1', 'li', ['d2'], { status: 'left' })]), { mailDomain: 'acme.com' }), 'account.forward')[0]?.to).toBe('boss@acme.com');

    const bothLeave = snapshot(depts, [{ ...boss, status: 'left' }, staff({ status: 'left' })]);
    const fallback = world('manager', 'it-desk@acme.com').plan(bothLeave, { mailDomain: 'acme.com' });
    expect(only(fallback, 'account.forward').map((o) => [o.sourceId, o.to, o.via])).toEqual([['m1', 'it-desk@acme.com', 'address'], ['p1', 'it-desk@acme.com', 'address']]);

    const nowhere = world('manager').plan(bothLeave, { mailDomain: 'acme.com' });
    expect(opsOf(nowhere, 'account.forward')).toHaveLength(0);
    expect(noteOf(nowhere, 'p1', 'forwarding')[0]).toContain('not forwarded');
  });

  it('forwards to a fixed address, also for a leaver suspended before forwarding was turned on', () => {
    const w = new World(settings());
    w.sync(snapshot(depts, [boss, staff()]), { mailDomain: 'acme.com' });
    const gone = snapshot(depts, [boss, staff({ status: 'left' })]);
    w.sync(gone, { mailDomain: 'acme.com' });
    w.settings = settings({ leavers: { forwardTo: 'archive@acme.com' } });
    const plan = w.sync(gone, { mailDomain: 'acme.com' });
    expect(plan.operations.map((o) => [o.kind, o.sourceId])).toEqual([['account.forward', 'p1']]);
    expect(w.plan(gone, { mailDomain: 'acme.com' }).operations).toHaveLength(0);
  });

  it('does not forward for someone disabled, and reports the forwarding of a returning leaver as unresolved', () => {
    const w = world('manager');
    expect(opsOf(w.plan(snapshot(depts, [boss, staff({ status: 'disabled' })]), { mailDomain: 'acme.com' }), 'account.forward')).toHaveLength(0);
    w.sync(snapshot(depts, [boss, staff({ status: 'left' })]), { mailDomain: 'acme.com' });
    const back = w.sync(snapshot(depts, [boss, staff()]), { mailDomain: 'acme.com' });
    expect(kindsOf(back)).toEqual(['account.recover']);
    expect(back.report.unresolved?.map((u) => u.sourceId)).toEqual(['p1']);
    expect(w.plan(snapshot(depts, [boss, staff()]), { mailDomain: 'acme.com' }).report.unresolved).toBeUndefined();
  });
});

function kindsOf(plan: SyncPlan): string[] {
  return plan.operations.map((o) => o.kind);
}

describe('what the mapping keeps for these features', () => {
  it('round-trips the policy hash and rule, the ranks and the forwarding hash through the mapping records, and no address', () => {
    const ctx = { tenantId: 'acme', source: 'ekp' as const, runId: 'r1' };
    const asRecord = <T extends object>(w: T) => ({ ...w, version: 1, updatedAt: 0 });
    const account: AccountMapping = { sourceId: 'p1', accountName: 'li', profileHash: 'h', unitId: '1001', status: 'suspended', suspendedAt: 5, policyHash: 'ph', policyRule: 'sales', rank: 3, forwardHash: 'fh' };
    const unit: UnitMapping = { sourceId: 'd1', unitId: '1001', name: '销售部', sourceName: '销售部', status: 'active', rank: -7 };
    expect(recordToAccount(asRecord(accountToWrite(ctx, account, undefined)))).toEqual(account);
    expect(recordToUnit(asRecord(unitToWrite(ctx, unit, undefined)))).toEqual(unit);
    expect(JSON.stringify(accountToWrite(ctx, account, undefined))).not.toContain('@');
  });
});
