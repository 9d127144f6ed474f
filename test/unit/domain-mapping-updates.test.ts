import { describe, expect, it } from 'vitest';
import { applyMappingUpdates, mappingUpdatesFor } from '../../shared/domain/mapping-updates';
import type { AccountMapping, PlanOperation, UnitMapping } from '../../shared/domain/sync-plan';

const base = { id: 'op', phase: 0, dependsOn: [] };
const outcome = { now: 5000, resolveNewUnit: (id: string) => (id === '1' ? 'u1' : undefined) };

describe('mapping updates', () => {
  it('records a created unit under its parent created earlier in the plan', () => {
    const op: PlanOperation = { ...base, kind: 'unit.create', sourceId: '2', name: 'Ops', sourceName: 'Ops', parent: { kind: 'new', sourceId: '1' }, parentSourceId: '1' };
    expect(mappingUpdatesFor(op, { ...outcome, createdUnitId: 'u2' })).toEqual([
      { type: 'unit', sourceId: '2', put: { sourceId: '2', unitId: 'u2', name: 'Ops', sourceName: 'Ops', parentUnitId: 'u1', parentSourceId: '1', status: 'active' } },
    ]);
  });

  it('refuses to resolve a unit the plan has not created yet', () => {
    const op: PlanOperation = { ...base, kind: 'account.move', sourceId: 'p', accountName: 'a', unit: { kind: 'new', sourceId: '9' }, previousUnitId: 'u1' };
    expect(() => mappingUpdatesFor(op, outcome)).toThrow(/not created yet/);
  });

  it('starts the grace period on suspension and clears it on recovery', () => {
    const state = { units: new Map<string, UnitMapping>(), accounts: new Map<string, AccountMapping>([['p', { sourceId: 'p', accountName: 'a', profileHash: 'h', unitId: 'u1', status: 'active' }]]) };
    applyMappingUpdates(state, mappingUpdatesFor({ ...base, kind: 'account.suspend', sourceId: 'p', accountName: 'a', reason: 'left' }, outcome));
    expect(state.accounts.get('p')).toMatchObject({ status: 'suspended', suspendedAt: 5000 });
    applyMappingUpdates(state, mappingUpdatesFor({ ...base, kind: 'account.recover', sourceId: 'p', accountName: 'a', from: 'suspended' }, outcome));
    expect(state.accounts.get('p')).toEqual({ sourceId: 'p', accountName: 'a', profileHash: 'h', unitId: 'u1', status: 'active' });
  });

  it('retires the old department\'s mapping when a new one takes its unit over', () => {
    const updates = mappingUpdatesFor({ ...base, kind: 'unit.link', sourceId: 'new', unitId: 'u7', name: 'R&D', sourceName: 'R&D', takeoverFrom: 'old' }, outcome);
    expect(updates).toEqual([
      { type: 'unit', sourceId: 'old', set: { status: 'deleted' } },
      { type: 'unit', sourceId: 'new', put: { sourceId: 'new', unitId: 'u7', name: 'R&D', sourceName: 'R&D', status: 'active' } },
    ]);
  });
});
