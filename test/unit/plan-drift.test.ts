/**
 * The planner's reconcile, legacy-move and company-address stages, with the strict
 * in-memory NetEase of plan-harness.ts (every apply order must work). (The cron behind the
 * nightly full run, sync.schedule.fullCron, is tested in cron.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { movedAwayId } from '../../shared/domain/plan/moved-away';
import type { NeteaseState } from '../../shared/domain/sync-plan';
import { applyPlan, dept, drift, opsOf, person, settings, snapshot, World, type ApplyOrder } from './plan-harness';

const org = () =>
  snapshot(
    [dept('hq', 'HQ'), dept('sales', 'Sales', 'hq'), dept('east', 'East', 'sales'), dept('west', 'West', 'sales'), dept('rnd', 'R&D', 'hq')],
    [person('p1', 'p1', ['east']), person('p2', 'p2', ['west']), person('p3', 'p3', ['sales']), person('p4', 'p4', ['rnd'])],
  );
const local = (p: { email?: string }) => p.email!.split('@')[0]!;

/** NetEase's state as the full run reads it (every account's status and unit known). */
function neteaseOf(w: World): NeteaseState {
  return {
    units: [...w.netease.units.values()].map((u) => ({ unitId: u.unitId, name: u.name, ...(u.parentId ? { parentId: u.parentId } : {}) })),
    accounts: [...w.netease.accounts.values()].map((a) => ({ accountName: a.accountName, nickname: a.nickname, unitId: a.unitId, status: a.status })),
    reconcilable: true,
  };
}

describe('legacy department moves (unitMoves: recreate)', () => {
  for (const order of ['forward', 'reverse', 'byId'] as ApplyOrder[]) {
    it(`a moved subtree gets new units under its new parent, people move, old units are deleted, and it converges (${order})`, () => {
      const w = new World();
      w.order = order;
      w.sync(org(), { unitMoves: 'recreate' });
      const moved = org();
      moved.departments.find((d) => d.id === 'sales')!.parentId = 'rnd';
      const plan = w.sync(moved, { unitMoves: 'recreate' });
      expect(opsOf(plan, 'unit.create')).toHaveLength(3);
      expect(opsOf(plan, 'unit.delete')).toHaveLength(3);
      expect(opsOf(plan, 'account.move')).toHaveLength(3);
      expect(plan.operations.map((o) => o.kind)).not.toContain('unit.move');
      expect(plan.operations.map((o) => o.kind)).not.toContain('account.create');
      expect(drift(w.netease, moved, local)).toEqual([]);
      expect(w.plan(moved, { unitMoves: 'recreate' }).operations).toEqual([]);
    });
  }

  it('a run cut off right after the first step (pseudo link applied) is finished by the next plan', () => {
    const w = new World();
    w.sync(org(), { unitMoves: 'recreate' });
    const moved = org();
    moved.departments.find((d) => d.id === 'east')!.parentId = 'rnd';
    const plan = w.plan(moved, { unitMoves: 'recreate' });
    applyPlan({ ...plan, operations: plan.operations.filter((op) => op.phase === 0) }, w.netease, w.mappings, w.now);
    expect([...w.mappings.units.keys()].some((k) => k.startsWith('~moved~'))).toBe(true);
    w.sync(moved, { unitMoves: 'recreate' });
    expect(drift(w.netease, moved, local)).toEqual([]);
    expect(w.plan(moved, { unitMoves: 'recreate' }).operations).toEqual([]);
  });

  it('a mapping left with both the department and its pseudo on the old unit (cut off between two writes) still plans and converges', () => {
    const w = new World();
    w.sync(org(), { unitMoves: 'recreate' });
    const east = w.mappings.units.get('east')!;
    w.mappings.units.set(movedAwayId('east', east.unitId), { ...east, sourceId: movedAwayId('east', east.unitId) });
    const moved = org();
    moved.departments.find((d) => d.id === 'east')!.parentId = 'rnd';
    w.sync(moved, { unitMoves: 'recreate' });
    expect(drift(w.netease, moved, local)).toEqual([]);
    expect(w.plan(moved, { unitMoves: 'recreate' }).operations).toEqual([]);
  });
});

describe('reconcile with NetEase', () => {
  it('repairs a suspended, a purged and a moved account from NetEase state; report mode plans nothing and lists them as unresolved', () => {
    const w = new World();
    w.sync(org());
    w.netease.accounts.get('p1')!.status = 'suspended';
    w.netease.accounts.delete('p2');
    w.netease.accounts.get('p3')!.unitId = w.mappings.units.get('rnd')!.unitId;

    const reported = w.plan(org(), { netease: neteaseOf(w), settings: settings({ driftMode: 'report' }) });
    expect(reported.operations).toEqual([]);
    expect(reported.report.unresolved?.map((u) => u.sourceId).sort()).toEqual(['p1', 'p2', 'p3']);

    const plan = w.sync(org(), { netease: neteaseOf(w) });
    expect(plan.report.drift?.map((d) => `${d.sourceId}:${d.kind}`).sort()).toEqual(['p1:status', 'p2:missing', 'p3:unit']);
    expect(plan.operations.map((o) => o.kind).filter((k) => k !== 'account.link').sort()).toEqual(['account.create', 'account.move', 'account.recover']);
    expect(drift(w.netease, org(), local)).toEqual([]);
    expect(w.plan(org(), { netease: neteaseOf(w) }).operations).toEqual([]);
  });

  it('without statuses read (not reconcilable) the mapping is trusted, as before', () => {
    const w = new World();
    w.sync(org());
    w.netease.accounts.get('p1')!.status = 'suspended';
    const plan = w.plan(org(), { netease: { ...neteaseOf(w), reconcilable: false } });
    expect(plan.operations).toEqual([]);
    expect(plan.report.drift).toBeUndefined();
  });
});

describe('company addresses only', () => {
  it('a personal address is ignored (noted, no mailbox named after it); accepted domains count', () => {
    const w = new World(settings({ onlyWithEmail: true }));
    const snap = snapshot([dept('hq', 'HQ')], [person('p1', 'p1', ['hq']), person('q1', 'zhang', ['hq'], { email: 'zhang@QQ.com' }), person('g1', 'li', ['hq'], { email: 'li@group.example' })]);
    const plan = w.plan(snap, { mailDomain: 'acme.com' });
    expect(opsOf(plan, 'account.create').map((o) => o.sourceId)).toEqual(['p1']);
    expect(plan.report.notes.filter((n) => n.code === 'personalAddressIgnored').map((n) => n.sourceId).sort()).toEqual(['g1', 'q1']);
    const accepted = new World(settings({ onlyWithEmail: true, acceptedEmailDomains: ['group.example'] })).plan(snap, { mailDomain: 'acme.com' });
    expect(opsOf(accepted, 'account.create').map((o) => o.sourceId).sort()).toEqual(['g1', 'p1']);
  });
});
