import { describe, expect, it } from 'vitest';
import { MemoryMappingStore } from '../../shared/adapters/memory/memory-mapping.store';
import { mappingUpdatesFor } from '../../shared/domain/mapping-updates';
import { planSync } from '../../shared/domain/plan-sync';
import type { AccountMapping, UnitMapping } from '../../shared/domain/sync-plan';
import type { MappingStore } from '../../shared/ports/mapping-store';
import { accountToWrite, loadMappingState, recordToAccount, recordToUnit, unitToWrite, writeMappingUpdates } from '../../shared/use-cases/sync/mapping-codec';
import { generateOrg } from '../fixtures/org-generator';
import { settings } from './plan-harness';

/** The tenant-config defaults (shared/config/tenant-config.schema.ts). */
const SETTINGS = settings({ deleteThreshold: { count: 50, percent: 5 } });
const ctx = { tenantId: 'acme', source: 'ekp' as const, runId: 'r1' };
const asRecord = <T extends object>(w: T) => ({ ...w, version: 1, updatedAt: 0 });

describe('mapping records <-> planner mappings', () => {
  it('round-trips a unit and an account, keeping only hashes and ids (no names of people)', () => {
    const unit: UnitMapping = { sourceId: 'd1', unitId: '1001', name: '综合管理部-北京分公司', sourceName: '综合管理部', parentUnitId: '1000', parentSourceId: 'd0', status: 'active' };
    const account: AccountMapping = { sourceId: 'p1', accountName: 'zhangwei', profileHash: 'abc123', unitId: '1001', status: 'suspended', suspendedAt: 1_700_000_000_000, deletedAt: 1_700_000_100_000 };
    const uw = unitToWrite(ctx, unit, true);
    const aw = accountToWrite(ctx, account, undefined);
    expect(uw).toMatchObject({ objectType: 'department', neteaseId: '1001', status: 'active', adopted: true });
    expect(aw).toMatchObject({ objectType: 'person', neteaseId: 'zhangwei', contentHash: 'abc123', status: 'suspended', suspendedAt: 1_700_000_000_000 });
    expect(JSON.stringify(aw)).not.toMatch(/mobile|nickname/);
    expect(recordToUnit(asRecord(uw))).toEqual(unit);
    expect(recordToAccount(asRecord(aw))).toEqual(account);
    // An adopted object not yet written by the bridge reads as active.
    expect(recordToAccount(asRecord({ ...aw, status: 'linked' as const })).status).toBe('active');
  });

  it('after writing every planned update, re-planning the same source yields no operation', async () => {
    const org = generateOrg({ seed: 5, departments: 25, people: 120, domain: 'acme.example.com' });
    const store = new MemoryMappingStore();
    const source = { kind: 'snapshot' as const, snapshot: { departments: org.departments, people: org.people, complete: true, takenAt: 0 } };
    const plan = planSync({ runId: 'r1', now: 1_700_000_000_000, settings: SETTINGS, source, mappings: { units: [], accounts: [] } });
    expect(plan.operations.length).toBeGreaterThan(100);
    let nextUnit = 5000;
    const created = new Map<string, string>();
    for (const op of plan.operations) {
      const createdUnitId = op.kind === 'unit.create' ? String(nextUnit++) : undefined;
      if (createdUnitId) created.set(op.sourceId, createdUnitId);
      const updates = mappingUpdatesFor(op, { now: 1_700_000_000_000, ...(createdUnitId ? { createdUnitId } : {}), resolveNewUnit: (id) => created.get(id) });
      await writeMappingUpdates(store, ctx, updates);
    }
    const state = await loadMappingState(store, 'acme', 'ekp');
    const again = planSync({ runId: 'r2', now: 1_700_000_000_000, settings: SETTINGS, source, mappings: state });
    expect(again.operations).toEqual([]);
    expect(again.status).toBe('empty');
  });

  it('re-reads and re-applies a field update that lost a race (two operations of one person in one phase)', async () => {
    const store = new MemoryMappingStore();
    await store.put(accountToWrite(ctx, { sourceId: 'p1', accountName: 'zw', profileHash: 'h0', unitId: '1001', status: 'active' }, undefined));
    // A store whose first conditional put loses to another writer that moves the account.
    let raced = false;
    const racing: MappingStore = Object.assign(Object.create(store) as MappingStore, {
      async put(...args: Parameters<MappingStore['put']>) {
        if (!raced) {
          raced = true;
          const cur = (await store.get({ tenantId: 'acme', source: 'ekp', objectType: 'person', sourceId: 'p1' }))!;
          await store.put({ ...cur, meta: { ...cur.meta, unitId: '2002' } });
        }
        return store.put(...args);
      },
      get: store.get.bind(store),
    });
    await writeMappingUpdates(racing, ctx, [{ type: 'account', sourceId: 'p1', set: { profileHash: 'h1' } }]);
    const after = recordToAccount((await store.get({ tenantId: 'acme', source: 'ekp', objectType: 'person', sourceId: 'p1' }))!);
    expect(after).toMatchObject({ profileHash: 'h1', unitId: '2002' });
  });
});
