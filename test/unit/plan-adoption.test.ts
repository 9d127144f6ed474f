import { describe, expect, it } from 'vitest';
import { World, dept, drift, kinds, opsOf, person, settings, snapshot } from './plan-harness';

// The customer's NetEase before the first run: HQ/Sales and HQ/Ops exist, with mailboxes.
function existingTenant(w: World) {
  const hq = w.netease.seedUnit('HQ');
  const sales = w.netease.seedUnit('Sales', hq);
  w.netease.seedUnit('Ops', hq);
  w.netease.seedAccount({ accountName: 'ann', nickname: 'Ann', unitId: sales });
  w.netease.seedAccount({ accountName: 'bob', nickname: 'Bob', unitId: hq, jobNo: 'E2' });
  w.netease.seedAccount({ accountName: 'carol.old', nickname: 'Carol', jobNo: 'E3', unitId: hq });
  w.netease.seedAccount({ accountName: 'legacy-admin', nickname: 'Admin', unitId: hq });
  return { hq, sales };
}

const departments = [dept('1', 'HQ'), dept('2', 'Sales', '1'), dept('3', 'Ops', '1'), dept('4', 'Legal', '1')];
const people = [
  person('10', 'ann', ['2'], { displayName: 'Ann' }),
  person('11', 'bob', ['2'], { displayName: 'Bob', jobNumber: 'E2' }),
  person('12', 'carol', ['3'], { displayName: 'Carol', jobNumber: 'E3' }),
  person('13', 'dave', ['4'], { displayName: 'Dave' }),
];
const nameOf = (w: World) => (p: { id: string }) => w.mappings.accounts.get(p.id)?.accountName ?? '?';

describe('planSync: adoption on the first run', () => {
  it('links existing units by path and mailboxes by name or attribute instead of creating them', () => {
    const w = new World();
    const { hq, sales } = existingTenant(w);
    const plan = w.plan(snapshot(departments, people), { adopt: true, netease: w.netease.state() });
    expect(opsOf(plan, 'unit.link').map((o) => o.sourceId)).toEqual(['1', '2', '3']);
    expect(opsOf(plan, 'unit.create')).toMatchObject([{ sourceId: '4', name: 'Legal', parent: { kind: 'unit', unitId: hq } }]);
    expect(opsOf(plan, 'account.link')).toMatchObject([
      { sourceId: '10', accountName: 'ann', matchedBy: 'accountName' },
      { sourceId: '11', accountName: 'bob', matchedBy: 'accountName' },
      { sourceId: '12', accountName: 'carol.old', matchedBy: 'jobNumber' },
    ]);
    expect(opsOf(plan, 'account.create')).toMatchObject([{ sourceId: '13', accountName: 'dave' }]);
    // bob sits in HQ but belongs in Sales; carol in HQ but belongs in Ops.
    expect(kinds(plan).filter((k) => k.startsWith('account.move')).sort()).toEqual(['account.move 11', 'account.move 12']);
    expect(plan.summary.apiCalls).toBe(4);
    const before = w.netease.accounts.size;
    w.apply(plan);
    expect(w.netease.accounts.size).toBe(before + 1);
    expect(w.netease.accounts.get('bob')?.unitId).toBe(sales);
  });

  it('converges: after the adopting run, a re-plan is empty and NetEase equals the source', () => {
    const w = new World();
    existingTenant(w);
    const s = snapshot(departments, people);
    w.sync(s, { adopt: true, netease: w.netease.state() });
    expect(w.plan(s, { adopt: true, netease: w.netease.state() }).operations).toEqual([]);
    expect(w.plan(s).operations).toEqual([]);
    // legacy-admin stays in HQ and makes the unit count differ; the rest matches.
    expect(drift(w.netease, s, nameOf(w))).toEqual([]);
  });

  it('reports unmatched mailboxes and never suspends or deletes them, even in later full runs', () => {
    const w = new World(settings({ suspendGraceDays: 0 }));
    existingTenant(w);
    const s = snapshot(departments, people);
    const plan = w.sync(s, { adopt: true, netease: w.netease.state() });
    expect(plan.report.unmatchedNetease).toEqual({ units: [], accounts: ['legacy-admin'] });
    for (let i = 0; i < 3; i++) {
      w.now += 40 * 86_400_000;
      w.sync(s, { netease: w.netease.state() });
    }
    expect(w.netease.accounts.get('legacy-admin')?.status).toBe('active');
  });

  it('links nobody and creates nobody when two people contest one mailbox and nothing tells them apart', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'zhangsan', nickname: '张三' });
    const twins = [person('1', 'zhangsan', ['1']), person('2', 'zhangsan', ['1'], { email: 'zhangsan@branch.acme.com' })];
    const plan = w.plan(snapshot([dept('1', 'HQ')], twins), { adopt: true, netease: w.netease.state() });
    expect(kinds(plan)).toEqual(['unit.create 1']);
    expect(plan.report.notes.filter((n) => n.code === 'adoptionAmbiguous').map((n) => n.sourceId)).toEqual(['1', '2']);
  });

  it('gives a contested mailbox to the person whose attributes corroborate it, and a new one to the other', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'zhangsan', nickname: '张三', mobile: '13900000002' });
    const twins = [person('1', 'zhangsan', ['1']), person('2', 'zhangsan', ['1'], { email: 'zhangsan@branch.acme.com', mobile: '139 0000 0002' })];
    const plan = w.plan(snapshot([dept('1', 'HQ')], twins), { adopt: true, netease: w.netease.state() });
    expect(opsOf(plan, 'account.link')).toMatchObject([{ sourceId: '2', accountName: 'zhangsan' }]);
    expect(opsOf(plan, 'account.create')).toMatchObject([{ sourceId: '1', accountName: 'zhangsan2' }]);
  });

  it('never gives out a name held by a mailbox or unit the bridge does not manage', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'ann', nickname: 'Someone else', jobNo: 'X9' });
    w.netease.seedUnit('Sales');
    const s = snapshot([dept('1', 'HQ'), dept('2', 'Sales', '1')], [person('10', 'ann', ['2'], { jobNumber: 'E1' })]);
    // Without adoption (a later run that only reads NetEase to avoid collisions).
    const plan = w.plan(s, { netease: w.netease.state() });
    expect(opsOf(plan, 'account.create')).toMatchObject([{ accountName: 'ann2' }]);
    expect(opsOf(plan, 'unit.create').find((o) => o.sourceId === '2')).toMatchObject({ name: 'Sales(HQ)' });
    w.apply(plan);
  });

  it('recovers an adopted mailbox that NetEase holds suspended for an active person', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'ann', nickname: 'Ann', status: 'suspended' });
    const s = snapshot([], [person('10', 'ann', [], { displayName: 'Ann' })]);
    const plan = w.sync(s, { adopt: true, netease: w.netease.state() });
    expect(kinds(plan)).toEqual(['account.link 10', 'account.recover 10']);
    expect(w.netease.accounts.get('ann')?.status).toBe('active');
  });

  it('flags a name match whose attributes all disagree, and still links it', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'ann', nickname: 'Ann', jobNo: 'E7', mobile: '13700000000' });
    const s = snapshot([], [person('10', 'ann', [], { displayName: 'Ann', jobNumber: 'E1', mobile: '13800000000' })]);
    const plan = w.plan(s, { adopt: true, netease: w.netease.state() });
    expect(opsOf(plan, 'account.link')).toHaveLength(1);
    expect(plan.report.notes).toContainEqual(expect.objectContaining({ sourceId: '10', code: 'adoptionConflict' }));
  });

  it('does not adopt the old mailbox of someone who has left', () => {
    const w = new World();
    w.netease.seedAccount({ accountName: 'ann', nickname: 'Ann' });
    const plan = w.plan(snapshot([], [person('10', 'ann', [], { status: 'left' })]), { adopt: true, netease: w.netease.state() });
    expect(plan.operations).toEqual([]);
    expect(plan.report.unmatchedNetease?.accounts).toEqual(['ann']);
  });
});
