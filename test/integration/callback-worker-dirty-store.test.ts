/**
 * DirtyStore: the DynamoDB adapter against dynalite over the wire, and the in-memory twin,
 * through the same behaviours (so the callback worker's memory-store tests mean something).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDirtyStore, dirtyKeys } from '../../shared/adapters/aws/dynamo-dirty.store';
import { MemoryDirtyStore } from '../../shared/adapters/memory/memory-dirty.store';
import { ValidationError } from '../../shared/errors/app-error';
import { fixedClock } from '../../shared/ports/clock';
import type { DirtyStore } from '../../shared/ports/dirty-store';
import { dynaliteTable } from '../support/dynalite-table';

const TABLE = 'qiye-bridge-dirty-test';
const db = dynaliteTable(TABLE);

let n = 0;
const T0 = Date.UTC(2024, 4, 6, 2, 0, 0);
const implementations: Array<[string, () => { store: DirtyStore; tenant: string; clock: ReturnType<typeof fixedClock> }]> = [
  ['memory', () => {
    const clock = fixedClock(T0);
    return { store: new MemoryDirtyStore({ clock }), tenant: `t${++n}`, clock };
  }],
  ['dynamo (dynalite)', () => {
    const clock = fixedClock(T0);
    return { store: new DynamoDirtyStore(db.doc, TABLE, { clock }), tenant: `t${++n}`, clock };
  }],
];

describe.each(implementations)('DirtyStore: %s', (_name, make) => {
  it('records each object once; marking again bumps the version and keeps when it was first marked', async () => {
    const { store, tenant, clock } = make();
    await store.mark(tenant, 'dingtalk', [{ kind: 'person', id: 'u1' }, { kind: 'department', id: '7' }]);
    const first = await store.list(tenant, 'dingtalk');
    expect(first.map((e) => `${e.kind}:${e.id}`).sort()).toEqual(['department:7', 'person:u1']);
    const u1 = first.find((e) => e.id === 'u1')!;
    expect(u1).toMatchObject({ tenantId: tenant, source: 'dingtalk', dirtiedAt: T0, updatedAt: T0 });
    clock.advance(5000);
    await store.mark(tenant, 'dingtalk', [{ kind: 'person', id: 'u1' }]);
    const again = (await store.list(tenant, 'dingtalk')).find((e) => e.id === 'u1')!;
    expect(again.version).not.toBe(u1.version);
    expect(again).toMatchObject({ dirtiedAt: T0, updatedAt: T0 + 5000 });
    expect(await store.list(tenant, 'dingtalk')).toHaveLength(2);
  });

  it('clears only the version it read: an object marked again meanwhile stays', async () => {
    const { store, tenant } = make();
    await store.mark(tenant, 'wecom', [{ kind: 'person', id: 'a' }, { kind: 'person', id: 'b' }]);
    const read = await store.list(tenant, 'wecom');
    await store.mark(tenant, 'wecom', [{ kind: 'person', id: 'b' }]);
    const cleared = await Promise.all(read.map((e) => store.clear(tenant, 'wecom', e)));
    expect(cleared.sort()).toEqual([false, true]);
    expect((await store.list(tenant, 'wecom')).map((e) => e.id)).toEqual(['b']);
    expect(await store.clear(tenant, 'wecom', read.find((e) => e.id === 'a')!)).toBe(false);
  });

  it('keeps a rename target until cleared; a later mark without one does not erase it', async () => {
    const { store, tenant } = make();
    await store.mark(tenant, 'wecom', [{ kind: 'person', id: 'old', newId: 'new' }]);
    await store.mark(tenant, 'wecom', [{ kind: 'person', id: 'old' }]);
    expect((await store.list(tenant, 'wecom'))[0]).toMatchObject({ id: 'old', newId: 'new' });
  });

  it('is per tenant and source, and ids with separators do not collide', async () => {
    const { store, tenant } = make();
    await store.mark(tenant, 'dingtalk', [{ kind: 'person', id: 'a#b' }, { kind: 'person', id: 'a' }, { kind: 'person', id: '%23' }]);
    await store.mark(`${tenant}-other`, 'dingtalk', [{ kind: 'person', id: 'x' }]);
    expect((await store.list(tenant, 'dingtalk')).map((e) => e.id).sort()).toEqual(['%23', 'a', 'a#b']);
    expect(await store.list(tenant, 'wecom')).toEqual([]);
  });

  it('expired entries are absent', async () => {
    const { store, tenant, clock } = make();
    await store.mark(tenant, 'dingtalk', [{ kind: 'person', id: 'u1' }], { ttlSeconds: 60 });
    clock.advance(61_000);
    expect(await store.list(tenant, 'dingtalk')).toEqual([]);
  });

  it('lists at most `limit`', async () => {
    const { store, tenant } = make();
    await store.mark(tenant, 'dingtalk', Array.from({ length: 30 }, (_, i) => ({ kind: 'person' as const, id: `p${i}` })));
    expect(await store.list(tenant, 'dingtalk', { limit: 7 })).toHaveLength(7);
    expect(await store.list(tenant, 'dingtalk')).toHaveLength(30);
  });

  it('refuses bad input and writes nothing', async () => {
    const { store, tenant } = make();
    await expect(store.mark(tenant, 'dingtalk', [{ kind: 'person', id: 'fine' }, { kind: 'person', id: 'bad\u0001id' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.mark(tenant, 'nope' as never, [{ kind: 'person', id: 'x' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.mark(tenant, 'dingtalk', [{ kind: 'team' as never, id: 'x' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.list(tenant, 'dingtalk', { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(await store.list(tenant, 'dingtalk')).toEqual([]);
  });
});

describe('DynamoDirtyStore: the stored item', () => {
  it('lives in the tenant\'s DIRTY partition with an expiry for TTL, and holds ids only', async () => {
    const clock = fixedClock(T0);
    const store = new DynamoDirtyStore(db.doc, TABLE, { clock });
    await store.mark('acme', 'dingtalk', [{ kind: 'person', id: 'u#1' }]);
    const out = await db.doc.send(new GetCommand({ TableName: TABLE, Key: dirtyKeys.entry('acme', 'dingtalk', 'person', 'u#1') }));
    expect(dirtyKeys.entry('acme', 'dingtalk', 'person', 'u#1')).toEqual({ pk: 'T#acme#DIRTY#dingtalk', sk: 'person#u%231' });
    expect(Object.keys(out.Item!).sort()).toEqual(['dirtiedAt', 'expiresAt', 'id', 'kind', 'pk', 'sk', 'source', 'tenantId', 'updatedAt', 'version']);
    expect(out.Item!.expiresAt).toBe(Math.ceil(T0 / 1000) + 3 * 24 * 3600);
  });
});
