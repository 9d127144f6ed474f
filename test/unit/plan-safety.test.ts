import { describe, expect, it } from 'vitest';
import { evaluateSafety } from '../../shared/domain/safety';
import { World, dept, person, settings, snapshot } from './plan-harness';

// 40 people in 4 departments, all synced.
function syncedWorld(overrides = {}) {
  const w = new World(settings({ deleteThreshold: { count: 50, percent: 50 }, ...overrides }));
  const departments = [dept('1', 'HQ'), dept('2', 'A', '1'), dept('3', 'B', '1'), dept('4', 'C', '1')];
  const people = Array.from({ length: 40 }, (_, i) => person(String(100 + i), `p${i}`, [String(1 + (i % 4))]));
  w.sync(snapshot(departments, people));
  return { w, departments, people };
}

describe('planSync: safety', () => {
  it('parks a run whose source suddenly returns nobody, listing what would be suspended, and changes nothing', () => {
    const { w } = syncedWorld({ deleteThreshold: { count: 10_000, percent: 100 } });
    const callsBefore = w.netease.calls;
    const plan = w.plan(snapshot([], []));
    expect(plan.status).toBe('awaitingApproval');
    expect(plan.approval?.reasons[0]).toEqual({ code: 'sourceEmpty', baseline: 40 });
    expect(plan.approval?.destructive.filter((d) => d.kind === 'account.suspend')).toHaveLength(40);
    expect(plan.approval?.destructive.find((d) => d.sourceId === '100')).toEqual({ kind: 'account.suspend', sourceId: '100', name: 'p0', reason: 'missing' });
    // A parked plan is not applied: NetEase and the mappings stay as they were.
    expect(w.netease.calls).toBe(callsBefore);
    expect([...w.netease.accounts.values()].every((a) => a.status === 'active')).toBe(true);
  });

  it('parks a run whose source shrank to less than half, even under generous thresholds', () => {
    const { w, departments, people } = syncedWorld({ deleteThreshold: { count: 10_000, percent: 100 } });
    const plan = w.plan(snapshot(departments, people.slice(0, 19)));
    expect(plan.status).toBe('awaitingApproval');
    expect(plan.approval?.reasons).toEqual([{ code: 'sourceShrank', objects: 'accounts', current: 19, baseline: 40 }]);
  });

  it('parks when suspensions exceed the count threshold', () => {
    const { w, departments, people } = syncedWorld({ deleteThreshold: { count: 3, percent: 100 } });
    const plan = w.plan(snapshot(departments, people.slice(4)));
    expect(plan.status).toBe('awaitingApproval');
    expect(plan.approval?.reasons).toEqual([{ code: 'deleteThresholdCount', objects: 'accounts', count: 4, limit: 3 }]);
  });

  it('parks when suspensions exceed the percentage threshold', () => {
    const { w, departments, people } = syncedWorld({ deleteThreshold: { count: 100, percent: 5, minimum: 3 } });
    const plan = w.plan(snapshot(departments, people.slice(3)));
    expect(plan.approval?.reasons).toEqual([{ code: 'deleteThresholdPercent', objects: 'accounts', count: 3, base: 40, percent: 7.5, limit: 5 }]);
  });

  it('does not park a small tenant on one leaver: the percentage applies only from `minimum` (default 10) operations', () => {
    // 15 people; one leaves: 6.7% > 5%, but a single suspension is judged by the count rule.
    const w = new World(settings({ deleteThreshold: { count: 50, percent: 5 } }));
    const departments = [dept('1', 'HQ'), dept('2', 'A', '1')];
    const people = Array.from({ length: 15 }, (_, i) => person(String(100 + i), `p${i}`, ['2']));
    w.sync(snapshot(departments, people));
    const plan = w.plan(snapshot(departments, people.slice(1)));
    expect(plan.status).toBe('ready');
    expect(plan.approval).toBeUndefined();
    expect(plan.operations.map((o) => o.kind)).toEqual(['account.suspend']);
    // With the old rule (percent from the first operation) the same plan parks.
    w.settings = { ...w.settings, deleteThreshold: { count: 50, percent: 5, minimum: 0 } };
    expect(w.plan(snapshot(departments, people.slice(1))).status).toBe('awaitingApproval');
  });

  it('still applies the percentage from `minimum` on, and the count rule below it', () => {
    expect(evaluateSafety({ count: 50, percent: 5, minimum: 10 }, { accounts: 9, units: 0 }, { activeAccounts: 100, activeUnits: 10 })).toEqual([]);
    expect(evaluateSafety({ count: 50, percent: 5, minimum: 10 }, { accounts: 10, units: 0 }, { activeAccounts: 100, activeUnits: 10 })).toEqual([
      { code: 'deleteThresholdPercent', objects: 'accounts', count: 10, base: 100, percent: 10, limit: 5 },
    ]);
    expect(evaluateSafety({ count: 2, percent: 5, minimum: 10 }, { accounts: 3, units: 0 }, { activeAccounts: 100, activeUnits: 10 })).toEqual([
      { code: 'deleteThresholdCount', objects: 'accounts', count: 3, limit: 2 },
    ]);
    // The empty-source guard holds below the minimum too.
    expect(evaluateSafety({ count: 50, percent: 5, minimum: 10 }, { accounts: 3, units: 0 }, { activeAccounts: 3, activeUnits: 1, sourceAccounts: 0, sourceUnits: 1 })).toEqual([{ code: 'sourceEmpty', baseline: 3 }]);
  });

  it('counts unit deletions separately from accounts', () => {
    const { w, departments, people } = syncedWorld({ deleteThreshold: { count: 0, percent: 100 } });
    // Department C is dissolved; its people move to A. Nobody is suspended.
    const moved = people.map((p) => (p.departmentIds[0] === '4' ? { ...p, departmentIds: ['2'] } : p));
    const plan = w.plan(snapshot(departments.filter((d) => d.id !== '4'), moved));
    expect(plan.approval?.reasons).toEqual([{ code: 'deleteThresholdCount', objects: 'units', count: 1, limit: 0 }]);
    expect(plan.approval?.destructive).toEqual([{ kind: 'unit.delete', sourceId: '4', name: 'C' }]);
  });

  it('lets a run within the thresholds through', () => {
    const { w, departments, people } = syncedWorld({ deleteThreshold: { count: 5, percent: 10 } });
    const plan = w.plan(snapshot(departments, people.slice(2)));
    expect(plan.status).toBe('ready');
    expect(plan.approval).toBeUndefined();
  });

  it('lets an operator-approved run through, recording that the checks were overridden', () => {
    const { w } = syncedWorld();
    const plan = w.plan(snapshot([], []), { safetyOverride: true });
    expect(plan.status).toBe('ready');
    expect(plan.approval).toMatchObject({ overridden: true });
  });

  it('plans no suspension or deletion when the caller withholds deletions', () => {
    const { w, departments, people } = syncedWorld();
    const plan = w.plan(snapshot(departments, [...people.slice(5), person('999', 'new', ['2'])]), { withholdDeletions: true });
    expect(plan.operations.map((o) => o.kind)).toEqual(['account.create']);
    expect(plan.report.deletions).toEqual({ mode: 'withheld', reason: 'withheldByCaller' });
    expect(plan.report.notes.filter((n) => n.code === 'deletionWithheld')).toHaveLength(5);
  });

  it('never parks a plan that deletes nothing', () => {
    expect(evaluateSafety({ count: 0, percent: 0 }, { accounts: 0, units: 0 }, { activeAccounts: 100, activeUnits: 10, sourceAccounts: 0, sourceUnits: 0 })).toEqual([]);
  });
});
