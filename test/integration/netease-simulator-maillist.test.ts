/**
 * The NetEase simulator's aliases (legacy API) and mailing lists (open platform), driven by
 * the real clients over HTTP: the same strictness as its other endpoints (signed calls,
 * required parameters, one address namespace, duplicate and unknown answers by kind).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NeteaseApiError } from '../../shared/adapters/netease';
import type { NeteaseOpenClient } from '../../shared/adapters/netease/netease-open.client';
import { createSyncHarness, openPlatformClient, type SyncHarness } from './sync-harness';

let h: SyncHarness;
let open: NeteaseOpenClient;

beforeAll(async () => {
  h = await createSyncHarness({ tenantId: 'simml' });
  open = openPlatformClient(h.sim, 'simml', h.tenant.netease.domain);
  h.sim.seed(h.tenant.netease.domain, { units: [{ unit_name: '销售部' }], accounts: [{ account_name: 'zhang', nickname: '张' }, { account_name: 'li', nickname: '李' }, { account_name: 'gone', nickname: 'x', status: '2' }] });
});
afterAll(() => h.stop());

const kindOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof NeteaseApiError) return err.kind;
    throw err;
  }
};

describe('simulated aliases (account/*Alias*)', () => {
  it('adds, lists and deletes an alias of a live account', async () => {
    await h.api.aliases.addAccountAlias('zhang', 'zhang.san');
    expect(await h.api.aliases.getAccountAliases('zhang')).toEqual(['zhang.san']);
    await h.api.aliases.deleteAccountAlias('zhang', 'zhang.san');
    expect(await h.api.aliases.getAccountAliases('zhang')).toEqual([]);
  });

  it('refuses a taken address, an unknown account, a deleted account and an alias the account lacks', async () => {
    await h.api.aliases.addAccountAlias('zhang', 'boss');
    expect(await kindOf(h.api.aliases.addAccountAlias('li', 'boss'))).toBe('duplicate');
    expect(await kindOf(h.api.aliases.addAccountAlias('li', 'zhang'))).toBe('duplicate');
    expect(await kindOf(h.api.aliases.addAccountAlias('nobody', 'x1'))).toBe('notFound');
    expect(await kindOf(h.api.aliases.addAccountAlias('gone', 'x2'))).toBe('invalid');
    expect(await kindOf(h.api.aliases.deleteAccountAlias('li', 'boss'))).toBe('notFound');
    // The address an alias holds cannot become an account.
    expect(await kindOf(h.api.createAccount({ accountName: 'boss', password: 'Aa1!aaaaaaaa', nickname: 'b' }))).toBe('duplicate');
    const calls = h.sim.calls({ domain: h.tenant.netease.domain, path: '/qiyeservice/api/account/addAccountAlias' });
    expect(calls.every((c) => c.params.sign === '[redacted]')).toBe(true);
  });
});

describe('simulated mailing lists (open platform maillist/*)', () => {
  it('creates, lists, reads, replaces and deletes a list', async () => {
    await open.createMailList({ name: 'sales', displayName: '销售部', members: ['zhang', 'li'] });
    expect(await open.listMailLists()).toEqual([{ name: 'sales', displayName: '销售部' }]);
    expect(await open.getMailListMembers('sales')).toEqual(['li', 'zhang']);
    await open.updateMailList('sales', { displayName: '销售', members: ['zhang'] });
    expect(await open.getMailListMembers('sales')).toEqual(['zhang']);
    expect(h.netease().maillists!.sales!.mail_list_user_type).toBe(4);
    await open.deleteMailList('sales');
    expect(await open.listMailLists()).toEqual([]);
  });

  it('refuses a taken address, an unknown member, an unknown list and a list without members', async () => {
    expect(await kindOf(open.createMailList({ name: 'zhang', displayName: 'x', members: ['li'] }))).toBe('duplicate');
    expect(await kindOf(open.createMailList({ name: 'ops', displayName: 'x', members: ['nobody'] }))).toBe('notFound');
    expect(await kindOf(open.createMailList({ name: 'ops2', displayName: 'x', members: ['gone'] }))).toBe('notFound');
    expect(await kindOf(open.updateMailList('nolist', { displayName: 'x', members: ['li'] }))).toBe('notFound');
    expect(await kindOf(open.deleteMailList('nolist'))).toBe('notFound');
    await expect(open.createMailList({ name: 'empty', displayName: 'x', members: [] })).rejects.toThrow(/at least one member/);
    await open.createMailList({ name: 'dup', displayName: 'x', members: ['li'] });
    expect(await kindOf(open.createMailList({ name: 'dup', displayName: 'y', members: ['li'] }))).toBe('duplicate');
    expect(await kindOf(h.api.aliases.addAccountAlias('li', 'dup'))).toBe('duplicate');
  });
});
