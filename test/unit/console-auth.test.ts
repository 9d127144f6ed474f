import { describe, expect, it } from 'vitest';
import { MemoryConsoleStore } from '../../shared/adapters/memory/memory-console.store';
import { MemoryOnceStore } from '../../shared/adapters/memory/memory-once.store';
import { tenantsFileSchema } from '../../shared/config/tenant-config.schema';
import { fixedClock } from '../../shared/ports/clock';
import { AppError } from '../../shared/errors/app-error';
import { ConsoleForbiddenError, requireDeploymentAdmin, requireRole, roleFor, visibleTenants } from '../../shared/use-cases/console/authorize';
import { buildBreakGlassLink, redeemBreakGlassLink } from '../../shared/use-cases/console/break-glass';
import { csrfMatches, deriveConsoleKeys, readSession, sessionCookie, startSession } from '../../shared/use-cases/console/session';

const config = tenantsFileSchema.parse({
  tenants: [
    { id: 'acme', netease: { domain: 'acme.com', product: 'p', region: 'hz' }, dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' }, console: { admins: ['dingtalk:boss'], auditors: ['dingtalk:clerk'] } },
    { id: 'beta', netease: { domain: 'beta.com', product: 'p', region: 'hz' }, ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } } },
  ],
  console: { deploymentAdmins: ['acme/dingtalk:ops'] },
});
const acme = config.tenants[0]!;
const keys = deriveConsoleKeys('k'.repeat(40));

describe('console roles', () => {
  it('gives a tenant admin act rights on their tenant only', () => {
    const boss = { kind: 'tenant', tenantId: 'acme', via: 'dingtalk', userId: 'boss' } as const;
    expect(requireRole(config, boss, 'acme', 'act').role).toBe('admin');
    expect(() => requireRole(config, boss, 'beta', 'read')).toThrow(ConsoleForbiddenError);
  });

  it('lets an auditor read but refuses every action', () => {
    const clerk = { kind: 'tenant', tenantId: 'acme', via: 'dingtalk', userId: 'clerk' } as const;
    expect(requireRole(config, clerk, 'acme', 'read').role).toBe('auditor');
    expect(() => requireRole(config, clerk, 'acme', 'act')).toThrow(/read-only/);
    expect(() => requireDeploymentAdmin(config, clerk)).toThrow(ConsoleForbiddenError);
  });

  it('does not confuse the same user id signed in through another method or tenant', () => {
    expect(roleFor(config, { kind: 'tenant', tenantId: 'acme', via: 'cas', userId: 'boss' }, acme)).toBeUndefined();
    expect(roleFor(config, { kind: 'tenant', tenantId: 'beta', via: 'dingtalk', userId: 'boss' }, acme)).toBeUndefined();
  });

  it('makes deployment admins (config or break-glass) admins of every tenant', () => {
    expect(visibleTenants(config, { kind: 'tenant', tenantId: 'acme', via: 'dingtalk', userId: 'ops' }).map((x) => x.role)).toEqual(['deployment-admin', 'deployment-admin']);
    expect(visibleTenants(config, { kind: 'breakglass', label: 'oncall' })).toHaveLength(2);
  });

  it('refuses a config identity that is not <via>:<id>', () => {
    const r = tenantsFileSchema.safeParse({ tenants: [{ ...config.tenants[1], console: { admins: ['boss'] } }] });
    expect(r.success).toBe(false);
  });
});

describe('console sessions', () => {
  it('reads back a session from its cookie and binds the CSRF token to it', async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1));
    const store = new MemoryConsoleStore({ clock });
    const { session, cookieValue } = await startSession({ store, clock, keys }, { kind: 'breakglass', label: 'ops' });
    const read = await readSession({ store, clock, keys }, cookieValue);
    expect(read?.idHash).toBe(session.idHash);
    expect(csrfMatches(read!, session.csrf)).toBe(true);
    expect(csrfMatches(read!, undefined)).toBe(false);
    expect(csrfMatches(read!, session.csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
    expect(sessionCookie(cookieValue)).toMatch(/^__Host-qb_console=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800$/);
  });

  it('refuses a forged, expired or revoked cookie', async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1));
    const store = new MemoryConsoleStore({ clock });
    const { session, cookieValue } = await startSession({ store, clock, keys }, { kind: 'breakglass', label: 'ops' });
    const [id] = cookieValue.split('.');
    expect(await readSession({ store, clock, keys }, `${id}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(await readSession({ store, clock, keys: deriveConsoleKeys('other'.repeat(10)) }, cookieValue)).toBeUndefined();
    await store.deleteSession(session.idHash);
    expect(await readSession({ store, clock, keys }, cookieValue)).toBeUndefined();
    const again = await startSession({ store, clock, keys }, { kind: 'breakglass', label: 'ops' });
    clock.advance(8 * 3600_000);
    expect(await readSession({ store, clock, keys }, again.cookieValue)).toBeUndefined();
  });
});

describe('break-glass links', () => {
  const q = (link: string) => Object.fromEntries(new URL(link).searchParams);

  it('sign in once, then are refused', async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1));
    const once = new MemoryOnceStore({ clock });
    const link = buildBreakGlassLink({ baseUrl: 'https://api.example.com/', keys, label: 'oncall', now: clock.now() });
    expect(link.startsWith('https://api.example.com/console/breakglass?')).toBe(true);
    expect(await redeemBreakGlassLink({ keys, once, clock }, q(link))).toEqual({ kind: 'breakglass', label: 'oncall' });
    await expect(redeemBreakGlassLink({ keys, once, clock }, q(link))).rejects.toMatchObject({ code: 'CONSOLE.BREAKGLASS_USED' });
  });

  it('refuse a changed label, another deployment key, or an expired link, and spend nothing', async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1));
    const once = new MemoryOnceStore({ clock });
    const link = buildBreakGlassLink({ baseUrl: 'https://x', keys, label: 'oncall', now: clock.now(), ttlMs: 60_000 });
    await expect(redeemBreakGlassLink({ keys, once, clock }, { ...q(link), label: 'mallory' })).rejects.toBeInstanceOf(AppError);
    await expect(redeemBreakGlassLink({ keys: deriveConsoleKeys('z'.repeat(40)), once, clock }, q(link))).rejects.toMatchObject({ code: 'CONSOLE.BREAKGLASS_BAD_SIGNATURE' });
    clock.advance(60_000);
    await expect(redeemBreakGlassLink({ keys, once, clock }, q(link))).rejects.toMatchObject({ code: 'CONSOLE.BREAKGLASS_EXPIRED' });
    clock.set(Date.UTC(2026, 0, 1));
    expect((await redeemBreakGlassLink({ keys, once, clock }, q(link))).kind).toBe('breakglass');
  });
});
