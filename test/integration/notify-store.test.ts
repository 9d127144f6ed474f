/**
 * NotifyStore: the DynamoDB adapter against dynalite over the wire, and the in-memory twin,
 * through the same behaviours (so use-case tests on the memory store mean something).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoNotifyStore, notifyKeys } from '../../shared/adapters/aws/dynamo-notify.store';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { fixedClock } from '../../shared/ports/clock';
import { MAX_RECENT_MAILS, type NotifyStore } from '../../shared/ports/notify-store';
import { dynaliteTable } from '../support/dynalite-table';

const TABLE = 'qiye-bridge-notify-test';
const db = dynaliteTable(TABLE);

let n = 0;
const implementations: Array<[string, () => { store: NotifyStore; tenant: string }]> = [
  ['memory', () => ({ store: new MemoryNotifyStore({ clock: fixedClock(1_700_000_000_000) }), tenant: `t-mem-${++n}` })],
  ['dynamo (dynalite)', () => ({ store: new DynamoNotifyStore(db.doc, TABLE, { clock: fixedClock(1_700_000_000_000) }), tenant: `t-ddb-${++n}` })],
];

describe.each(implementations)('NotifyStore: %s', (_name, make) => {
  it('returns nothing for mailboxes never checked, and what was stored for the others (case-insensitively)', async () => {
    const { store, tenant } = make();
    expect(await store.getWatermarks(tenant, ['a', 'b'])).toEqual(new Map());
    expect(await store.putWatermark({ tenantId: tenant, account: 'Zhang.San', since: 1000, until: 5000, recent: [{ id: 'abcdef0123456789', at: 4000 }] })).toBe(true);
    const got = await store.getWatermarks(tenant, ['zhang.san', 'other']);
    expect([...got.keys()]).toEqual(['zhang.san']);
    expect(got.get('zhang.san')).toMatchObject({ tenantId: tenant, account: 'zhang.san', since: 1000, until: 5000, recent: [{ id: 'abcdef0123456789', at: 4000 }], updatedAt: 1_700_000_000_000 });
  });

  it('never moves a watermark backwards; an equal one refreshes the recent list', async () => {
    const { store, tenant } = make();
    await store.putWatermark({ tenantId: tenant, account: 'a', since: 1000, until: 9000, recent: [] });
    expect(await store.putWatermark({ tenantId: tenant, account: 'a', since: 1000, until: 8000, recent: [] })).toBe(false);
    expect((await store.getWatermarks(tenant, ['a'])).get('a')!.until).toBe(9000);
    expect(await store.putWatermark({ tenantId: tenant, account: 'A', since: 1000, until: 9000, recent: [{ id: '0123456789abcdef', at: 8500 }] })).toBe(true);
    expect((await store.getWatermarks(tenant, ['a'])).get('a')!.recent).toEqual([{ id: '0123456789abcdef', at: 8500 }]);
  });

  it('keeps tenants apart', async () => {
    const { store, tenant } = make();
    await store.putWatermark({ tenantId: tenant, account: 'a', since: 1, until: 2, recent: [] });
    expect(await store.getWatermarks(`${tenant}-x`, ['a'])).toEqual(new Map());
  });

  it('reads more than one BatchGet page of watermarks', async () => {
    const { store, tenant } = make();
    const accounts = Array.from({ length: 130 }, (_, i) => `user${i}`);
    for (const a of accounts) await store.putWatermark({ tenantId: tenant, account: a, since: 1, until: 2, recent: [] });
    const got = await store.getWatermarks(tenant, [...accounts, 'missing']);
    expect(got.size).toBe(130);
  });

  it('refuses bad input and writes nothing', async () => {
    const { store, tenant } = make();
    await expect(store.putWatermark({ tenantId: tenant, account: 'a@b.com', since: 1, until: 2, recent: [] })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
    await expect(store.putWatermark({ tenantId: tenant, account: 'a', since: 5, until: 2, recent: [] })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
    await expect(store.putWatermark({ tenantId: tenant, account: 'a', since: 1, until: 2, recent: [{ id: 'SUBJECT', at: 1 }] })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
    const tooMany = Array.from({ length: MAX_RECENT_MAILS + 1 }, (_, i) => ({ id: i.toString(16).padStart(16, '0'), at: i }));
    await expect(store.putWatermark({ tenantId: tenant, account: 'a', since: 1, until: 2, recent: tooMany })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
    await expect(store.getWatermarks(tenant, [''])).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
    expect(await store.getWatermarks(tenant, ['a'])).toEqual(new Map());
  });

  it('records opt-ins once, lists them per tenant and source, and forgets opt-outs', async () => {
    const { store, tenant } = make();
    await store.setOptIn(tenant, 'dingtalk', 'u2', true, 'admin');
    await store.setOptIn(tenant, 'dingtalk', 'u1#odd', true);
    await store.setOptIn(tenant, 'dingtalk', 'u1#odd', true); // repeat: no change
    await store.setOptIn(tenant, 'wecom', 'u3', true);
    const list = async (source: 'dingtalk' | 'wecom') => {
      const out: string[] = [];
      for await (const o of store.listOptIns(tenant, source)) out.push(o.sourceId);
      return out.sort();
    };
    expect(await list('dingtalk')).toEqual(['u1#odd', 'u2']);
    expect(await list('wecom')).toEqual(['u3']);
    await store.setOptIn(tenant, 'dingtalk', 'u2', false);
    await store.setOptIn(tenant, 'dingtalk', 'never-there', false);
    expect(await list('dingtalk')).toEqual(['u1#odd']);
  });
});

describe('DynamoNotifyStore item layout', () => {
  it('stores a watermark in its own partition with the escaped tenant and lower-cased account', async () => {
    const store = new DynamoNotifyStore(db.doc, TABLE, { clock: fixedClock(42) });
    await store.putWatermark({ tenantId: 'acme', account: 'Li#Si', since: 1, until: 2, recent: [] });
    const k = notifyKeys.watermark('acme', 'li#si');
    expect(k).toEqual({ pk: 'T#acme#NOTIFY#WM#li%23si', sk: 'WM' });
    const item = await db.doc.send(new GetCommand({ TableName: TABLE, Key: k }));
    expect(item.Item).toMatchObject({ account: 'li#si', since: 1, until: 2, updatedAt: 42 });
    // Nothing of a mail but hashes and times is stored.
    expect(Object.keys(item.Item!).sort()).toEqual(['account', 'pk', 'recentJson', 'since', 'sk', 'tenantId', 'until', 'updatedAt']);
  });
});
