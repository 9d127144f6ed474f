/**
 * Per-channel match rules and per-channel contact events (issue 11, several DingTalk orgs over
 * one EKP directory). In memory: the link store, a channel directory per org and the source's
 * people; the rules and the routing are what is under test.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLinkStore } from '../../shared/adapters/memory/memory-link.store';
import { tenantChannels } from '../../shared/config/channels';
import { parseTenantsConfig } from '../../shared/config/load-config';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { ContactEventMessage } from '../../shared/contracts/contact-event';
import type { Person } from '../../shared/domain/directory';
import type { ChannelUser } from '../../shared/domain/identity-match';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { linksFromContactEvents } from '../../shared/use-cases/links/links-from-events';
import { pullLinks } from '../../shared/use-cases/links/pull-links';
import type { LinksDeps } from '../../shared/use-cases/links/links-deps';

const dt = (corpId: string) => ({ corpId, appKey: `${corpId}-key`, agentId: '1' });

function tenantWith(subLinks?: { rules: string[] }): TenantConfig {
  return parseTenantsConfig(
    {
      tenants: [
        {
          id: 'group',
          netease: { domain: 'group.example.com', product: 'p', region: 'hz' },
          ekp: { baseUrl: 'https://oa.group.example.com', auth: { type: 'none' } },
          dingtalk: dt('dinghq'),
          channels: [{ id: 'sub', vendor: 'dingtalk', ...dt('dingsub'), ...(subLinks ? { links: subLinks } : {}) }],
          sync: { source: 'ekp' },
          links: { rules: ['jobNumber', 'mobile'] },
        },
      ],
    },
    'test',
  ).tenants[0]!;
}

// EKP: two people. The subsidiary numbers its staff from 1001 as HQ does, so its 1001 (Zhao)
// carries the job number of HQ's Wang; Zhao's mobile is Zhao's own.
const people: Person[] = [
  { id: 'wang', displayName: 'Wang', departmentIds: [], status: 'active', jobNumber: '1001', mobile: '13800000001' },
  { id: 'zhao', displayName: 'Zhao', departmentIds: [], status: 'active', jobNumber: 'S-77', mobile: '13800000002' },
];
const orgs: Record<string, ChannelUser[]> = {
  dingtalk: [{ userId: 'hq-wang', jobNumber: '1001', mobile: '13900000009', active: true }],
  sub: [{ userId: 'sub-zhao', jobNumber: '1001', mobile: '13800000002', active: true }],
};

function depsOf(): LinksDeps & { links: MemoryLinkStore } {
  return {
    links: new MemoryLinkStore(),
    clock: fixedClock(Date.parse('2026-12-06T08:00:00Z')),
    logger: createMemoryLogger(),
    sourcePeople: async () => people,
    channelDirectory: async (_t, channel) => ({
      vendor: 'dingtalk',
      listUsers: async () => orgs[channel.id] ?? [],
      getUser: async (id) => (orgs[channel.id] ?? []).find((u) => u.userId === id),
    }),
  };
}

describe('per-channel match rules', () => {
  it('without an override every org uses the tenant\'s rules, so overlapping job numbers cross-match', async () => {
    const deps = depsOf();
    await pullLinks(deps, tenantWith());
    expect(await deps.links.get('group', 'sub', 'sub-zhao')).toMatchObject({ status: 'linked', personId: 'wang', rule: 'jobNumber' });
  });

  it('a channel\'s own links.rules replace the tenant\'s for that channel only', async () => {
    const tenant = tenantWith({ rules: ['mobile'] });
    expect(tenantChannels(tenant).map((c) => [c.id, c.rules])).toEqual([
      ['dingtalk', ['jobNumber', 'mobile']],
      ['sub', ['mobile']],
    ]);
    const deps = depsOf();
    const res = await pullLinks(deps, tenant);
    expect(res.status).toBe('ok');
    expect(await deps.links.get('group', 'sub', 'sub-zhao')).toMatchObject({ status: 'linked', personId: 'zhao', rule: 'mobile' });
    // HQ still matches by job number (the tenant's rules).
    expect(await deps.links.get('group', 'dingtalk', 'hq-wang')).toMatchObject({ status: 'linked', personId: 'wang', rule: 'jobNumber' });
  });

  it('the callback refresh of a channel user uses the channel\'s rules too', async () => {
    const deps = depsOf();
    const msg: ContactEventMessage = { v: 1, tenantId: 'group', vendor: 'dingtalk', channelId: 'sub', eventId: 'e1', eventType: 'user_add_org', receivedAt: 1, changes: [{ kind: 'person', id: 'sub-zhao', action: 'upsert' }] };
    const reports = await linksFromContactEvents(deps, tenantWith({ rules: ['mobile'] }), [msg]);
    expect(reports.map((r) => [r.channelId, r.linked])).toEqual([['sub', 1]]);
    expect(await deps.links.get('group', 'sub', 'sub-zhao')).toMatchObject({ personId: 'zhao', origin: 'callback' });
  });

  it('refuses a bad per-channel rule at config load, naming where', () => {
    expect(() => tenantWith({ rules: ['shoeSize'] })).toThrow(/channels\.0\.links\.rules\.0|channels\[0\]\.links\.rules\[0\]/);
    expect(() => tenantWith({ rules: [] })).toThrow(/links/);
  });
});

describe('contact events routed by channel', () => {
  it('refreshes the channel the message names, and the top-level app\'s users when it names none', async () => {
    const deps = depsOf();
    const tenant = tenantWith();
    const base = { v: 1 as const, tenantId: 'group', vendor: 'dingtalk' as const, eventType: 'user_add_org', receivedAt: 1 };
    const reports = await linksFromContactEvents(deps, tenant, [
      { ...base, eventId: 'a', changes: [{ kind: 'person', id: 'hq-wang', action: 'upsert' }] },
      { ...base, eventId: 'b', channelId: 'sub', changes: [{ kind: 'person', id: 'sub-zhao', action: 'upsert' }] },
      // An id of the other org on the wrong route: that org does not have the user, nothing is linked.
      { ...base, eventId: 'c', changes: [{ kind: 'person', id: 'sub-zhao', action: 'upsert' }] },
      // A channel no longer configured: skipped.
      { ...base, eventId: 'd', channelId: 'gone', changes: [{ kind: 'person', id: 'x', action: 'upsert' }] },
    ]);
    expect(reports.map((r) => [r.channelId, r.users, r.linked])).toEqual([
      ['dingtalk', 1, 1],
      ['sub', 1, 1],
    ]);
    expect(await deps.links.get('group', 'dingtalk', 'sub-zhao')).toBeUndefined();
    expect(await deps.links.get('group', 'sub', 'sub-zhao')).toMatchObject({ status: 'linked' });
  });
});
