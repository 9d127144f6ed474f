/**
 * The contract both IdentityLinkStore implementations pass: the in-memory twin and the
 * DynamoDB adapter against dynalite (test/integration/identity-link-store.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IdentityLinkStore } from '../../shared/ports/identity-link-store';

const tenant = () => `t-${randomBytes(4).toString('hex')}`;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function identityLinkStoreContract(name: string, make: () => IdentityLinkStore): void {
  describe(`${name}: identity link store contract`, () => {
    it('stores a link and reads it back both ways', async () => {
      const store = make();
      const t = tenant();
      await store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u#1', status: 'linked', personId: 'p%1', rule: 'jobNumber', origin: 'pull' });
      await store.put({ tenantId: t, channelId: 'sub-org', channelUserId: 'x9', status: 'linked', personId: 'p%1', rule: 'mobile', origin: 'callback' });
      await store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u2', status: 'ambiguous', rule: 'mobile', candidates: ['p%1', 'p2'], origin: 'pull' });
      expect(await store.get(t, 'dingtalk', 'u#1')).toMatchObject({ status: 'linked', personId: 'p%1', rule: 'jobNumber', origin: 'pull' });
      const mine = (await store.listByPerson(t, 'p%1')).map((l) => `${l.channelId}/${l.channelUserId}`).sort();
      expect(mine).toEqual(['dingtalk/u#1', 'sub-org/x9']);
      expect((await collect(store.list(t, 'dingtalk'))).map((l) => l.channelUserId).sort()).toEqual(['u#1', 'u2']);
      expect(await store.listByPerson(t, 'p2')).toEqual([]); // ambiguous is never a person's link
    });

    it('moves the reverse view when a link changes person, and forgets deleted users', async () => {
      const store = make();
      const t = tenant();
      await store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u1', status: 'linked', personId: 'a', origin: 'pull' });
      await store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u1', status: 'linked', personId: 'b', origin: 'import', rule: 'import' });
      expect(await store.listByPerson(t, 'a')).toEqual([]);
      expect((await store.listByPerson(t, 'b')).map((l) => l.channelUserId)).toEqual(['u1']);
      expect(await store.delete(t, 'dingtalk', 'u1')).toBe(true);
      expect(await store.delete(t, 'dingtalk', 'u1')).toBe(false);
      expect(await store.get(t, 'dingtalk', 'u1')).toBeUndefined();
      expect(await store.listByPerson(t, 'b')).toEqual([]);
    });

    it('keeps tenants apart', async () => {
      const store = make();
      const t = tenant();
      await store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u1', status: 'unmatched', origin: 'pull' });
      expect(await store.get(`${t}-x`, 'dingtalk', 'u1')).toBeUndefined();
      expect(await collect(store.list(`${t}-x`, 'dingtalk'))).toEqual([]);
    });

    it('refuses bad input and writes nothing', async () => {
      const store = make();
      const t = tenant();
      await expect(store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u1', status: 'linked', origin: 'pull' })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
      await expect(store.put({ tenantId: t, channelId: 'dingtalk', channelUserId: 'u1', status: 'unmatched', personId: 'p', origin: 'pull' })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
      await expect(store.put({ tenantId: t, channelId: '', channelUserId: 'u1', status: 'unmatched', origin: 'pull' })).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
      expect(await store.get(t, 'dingtalk', 'u1')).toBeUndefined();
    });
  });
}
