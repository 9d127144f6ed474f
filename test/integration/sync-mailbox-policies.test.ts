/**
 * Mailbox policies, display order and leaver forwarding over the wire: the sync engine
 * against the NetEase simulator over HTTP (sync-harness.ts). Each feature is applied at
 * creation, follows a change, and an unchanged source costs no write call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NeteaseApiError } from '../../shared/adapters/netease';
import type { SimAccount } from '../../local/simulators/netease/netease-sim.state';
import type { SimMailboxSettings } from '../../local/simulators/netease/netease-sim.policies';
import { DAY_MS } from '../../shared/domain/sync-plan';
import { explainObject } from '../../shared/use-cases/sync';
import { createSyncHarness, dept, MemoryDirectorySource, person, type SyncHarness } from './sync-harness';

const harnesses: SyncHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});

async function harness(sync: Record<string, unknown>, source: MemoryDirectorySource): Promise<SyncHarness> {
  const h = await createSyncHarness({ sync, source });
  harnesses.push(h);
  return h;
}

const account = (h: SyncHarness, name: string) => h.netease().accounts[name] as (SimAccount & SimMailboxSettings) | undefined;
const unitNamed = (h: SyncHarness, name: string) => Object.values(h.netease().units).find((u) => u.unit_name === name)!;
const paths = (calls: Array<{ path: string }>) => calls.map((c) => c.path).sort();

describe('mailbox policies over the wire', () => {
  const org = () =>
    new MemoryDirectorySource(
      [dept('hq', '总部'), dept('sales', '销售部', 'hq'), dept('east', '华东销售', 'sales'), dept('rnd', '研发部', 'hq')],
      [person('p1', 'east'), person('p2', 'rnd'), person('p3', 'rnd', { title: '经理' })],
    );
  const policies = [
    { name: 'managers', match: { attribute: 'title', equals: '经理' }, set: { quota: 20480 } },
    { name: 'sales', match: { department: '销售部', recursive: true }, set: { quota: 10240, addrVisible: 1, addrRight: 1 } },
  ];

  it('sends the rule on createAccount (no extra call), follows a move, and a run without change writes nothing', async () => {
    const h = await harness({ policies }, org());
    const first = await h.run({ mode: 'full' });
    expect(first.run.status).toBe('success');
    expect(account(h, 'p1')).toMatchObject({ quota: '10240', addr_visible: '1', addr_right: '1' });
    expect(account(h, 'p3')).toMatchObject({ quota: '20480' });
    expect(account(h, 'p2')?.quota).toBeUndefined();
    expect(paths(h.writeCalls())).toEqual([...Array(4).fill('createUnit'), ...Array(3).fill('createAccount')].sort());

    let since = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(since)).toEqual([]);

    // p2 moves into a sales sub-department: moved, and the sales values written.
    h.source.editPerson('p2', (p) => {
      p.departmentIds = ['east'];
      p.mainDepartmentId = 'east';
    });
    since = await h.mark();
    const moved = await h.run({ mode: 'full' });
    expect(moved.run.status).toBe('success');
    expect(paths(h.writeCalls(since))).toEqual(['moveUnit', 'updateAccount']);
    expect(account(h, 'p2')).toMatchObject({ quota: '10240', addr_visible: '1' });
    const why = await explainObject(h.deps, h.tenant.id, 'p2', { readSource: false });
    expect(why.decision?.decision).toContain('apply policy sales to account p2 (quota 10240, addr_visible 1, addr_right 1)');
    expect(why.mapping).toMatchObject({ policyRule: 'sales' });

    since = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(since)).toEqual([]);
  });

  it("writes the quota again when a full run's getAccount shows it was changed in NetEase", async () => {
    const h = await harness({ policies }, org());
    await h.run({ mode: 'full' });
    await h.api.updateAccount('p1', { quota: 1024 });
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(paths(h.writeCalls(since))).toEqual(['updateAccount']);
    expect(account(h, 'p1')?.quota).toBe('10240');
  });
});

describe('display order over the wire', () => {
  it('ranks units and mailboxes after creating them, writes only a changed rank, and nothing when unchanged', async () => {
    const source = new MemoryDirectorySource(
      [{ ...dept('hq', '总部'), displayOrder: 0 }, { ...dept('sales', '销售部', 'hq'), displayOrder: 20 }, { ...dept('rnd', '研发部', 'hq'), displayOrder: 10 }],
      [person('p1', 'sales', { order: 2 }), person('p2', 'sales', { order: 1 }), person('p3', 'rnd')],
    );
    const h = await harness({ displayOrder: true }, source);
    expect((await h.run({ mode: 'full' })).run.status).toBe('success');
    expect([unitNamed(h, '销售部').rank, unitNamed(h, '研发部').rank, unitNamed(h, '总部').rank]).toEqual([20, 10, 0]);
    expect([account(h, 'p1')?.rank, account(h, 'p2')?.rank, account(h, 'p3')?.rank]).toEqual([2, 1, undefined]);
    // NetEase lists units by rank: 研发部 (10) before 销售部 (20), as the source orders them.
    const listed = (await h.api.getUnitList()).map((u) => u.unitName);
    expect(listed.indexOf('研发部')).toBeLessThan(listed.indexOf('销售部'));

    let since = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(since)).toEqual([]);

    h.source.editDepartment('rnd', (d) => {
      d.displayOrder = 30;
    });
    since = await h.mark();
    await h.run({ mode: 'full' });
    expect(paths(h.writeCalls(since))).toEqual(['updateUnitRank']);
    expect(unitNamed(h, '研发部').rank).toBe(30);
  });
});

describe('leaver forwarding over the wire', () => {
  const org = () => new MemoryDirectorySource([dept('hq', '总部')], [person('boss', 'hq'), person('p1', 'hq', { managerId: 'boss' })]);

  it("sets fwd to the manager's mailbox with the suspension, says so in the plan, and deletes after the grace period", async () => {
    const h = await harness({ leavers: { forwardTo: 'manager' }, suspendGraceDays: 10 }, org());
    await h.run({ mode: 'full' });
    h.source.editPerson('p1', (p) => {
      p.status = 'left';
    });
    let since = await h.mark();
    const left = await h.run({ mode: 'full' });
    expect(left.run.status).toBe('success');
    expect(paths(h.writeCalls(since))).toEqual(['suspendAccount', 'updateAccount']);
    expect(account(h, 'p1')).toMatchObject({ status: 1, fwd: `boss@${h.tenant.netease.domain}` });
    expect(left.planText).toContain(`forward the mail of account p1 to the manager (boss), boss@${h.tenant.netease.domain}`);

    since = await h.mark();
    h.clock.advance(3 * DAY_MS);
    await h.run({ mode: 'full' });
    expect(h.writeCalls(since)).toEqual([]);

    h.clock.advance(8 * DAY_MS);
    since = await h.mark();
    await h.run({ mode: 'full' });
    expect(paths(h.writeCalls(since))).toEqual(['deleteAccountSim']);
  });

  it('forwards to the configured address when the manager has no mailbox', async () => {
    const source = new MemoryDirectorySource([dept('hq', '总部')], [person('p1', 'hq', { managerId: 'nobody' }), person('p2', 'hq'), person('p3', 'hq')]);
    const h = await harness({ leavers: { forwardTo: 'manager', fallback: 'hr-archive@example.com' } }, source);
    await h.run({ mode: 'full' });
    h.source.editPerson('p1', (p) => {
      p.status = 'left';
    });
    expect((await h.run({ mode: 'full' })).run.status).toBe('success');
    expect(account(h, 'p1')).toMatchObject({ status: 1, fwd: 'hr-archive@example.com' });
  });
});

describe('the simulator refuses bad mailbox settings and changes nothing', () => {
  it('checks quota, the flags, fwd and updateAccountRank like NetEase would', async () => {
    const h = await harness({}, new MemoryDirectorySource([dept('hq', '总部')], [person('p1', 'hq')]));
    await h.run({ mode: 'full' });
    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(NeteaseApiError);
      return (err as NeteaseApiError).kind;
    };
    expect(await refused(h.api.updateAccount('p1', { nickname: 'Changed', quota: -1 }))).toBe('invalid');
    expect(await refused(h.api.updateAccount('p1', { extra: { addr_visible: 2 } }))).toBe('invalid');
    expect(await refused(h.api.updateAccount('p1', { extra: { fwd: 'not an address' } }))).toBe('invalid');
    expect(account(h, 'p1')).toMatchObject({ nickname: 'Person p1' });
    expect(account(h, 'p1')?.fwd).toBeUndefined();
    expect(await refused(h.api.updateAccountRank('nobody', 1))).toBe('notFound');
    await h.api.deleteAccountSim('p1');
    expect(await refused(h.api.updateAccountRank('p1', 1))).toBeDefined();
  });
});
