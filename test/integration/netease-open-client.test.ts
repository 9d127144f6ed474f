/**
 * The NetEase open-platform client against the NetEase simulator over real HTTP on
 * loopback: tokens (cached, single flight, refreshed early, re-fetched once on -301), unit
 * moves seen through the legacy API, refusals, and the per-tenant wiring in sources.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisionSandboxSecrets } from '../../local/sandbox';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { rebaseUrl } from '../../local/simulators/sim-http';
import { RateLimiterRegistry, type RateLimiter, type RateLimiterOptions } from '../../shared/adapters/http/rate-limiter';
import { NeteaseClient } from '../../shared/adapters/netease';
import { NeteaseOpenApiError, NeteaseOpenClient, parseChinaTime, type NeteaseOpenClientOptions, type NeteaseOpenSettings } from '../../shared/adapters/netease/netease-open.client';
import { createTenantClients } from '../../shared/wiring/tenant-clients';
import { loadTenantsFile } from '../../shared/config/load-config';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { ValidationError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { generateTenantKey } from '../../shared/use-cases/manage-keys';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { rejectionOf } from './vendor-sim-helpers';

const DOMAIN = 'open.example.com';
const PRODUCT = 'open_product';
const APP = { domain: DOMAIN, appId: 'app-1', orgOpenId: 'org-1', authCode: 'auth-code-not-for-logs' };
const key = generateKeyPairSync(1024);
let sim: RunningNeteaseSimulator;

beforeAll(async () => {
  sim = await startNeteaseSimulator({ keys: [{ domain: DOMAIN, product: PRODUCT, publicKeyHex: key.publicKeyHex }], openApps: [APP] });
});
afterAll(async () => sim.stop());
beforeEach(() => {
  sim.reset();
  sim.registerOpenApp(APP);
  sim.setConfig({ openTokenTtlMs: 2 * 3600_000 });
});

function legacy(): NeteaseClient {
  return new NeteaseClient(
    { domain: DOMAIN, product: PRODUCT, region: 'hz', apiBaseUrl: `${sim.url}/qiyeservice/api`, unreadUrl: `${sim.url}/oaserver/user/getUnreadMsg`, requestsPerSecond: 1000, timeoutMs: 5000, maxRetries: 2 },
    new Signer(key.privateKeyHex),
    { retryBaseDelayMs: 1, retryMaxDelayMs: 5 },
  );
}

function open(settings: Partial<NeteaseOpenSettings> = {}, options: Partial<NeteaseOpenClientOptions> = {}): NeteaseOpenClient {
  return new NeteaseOpenClient(
    { baseUrl: sim.url, appId: APP.appId, orgOpenId: APP.orgOpenId, domain: DOMAIN, timeoutMs: 5000, maxRetries: 3, requestsPerSecond: 1000, ...settings },
    { authCode: async () => APP.authCode, retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options },
  );
}

const calls = (suffix: string) => sim.calls().filter((c) => c.path.endsWith(suffix));
const failure = (p: Promise<unknown>) => rejectionOf(p, NeteaseOpenApiError);

/** Two top-level units A and B, A's child A1 with a mailbox in it. */
async function tree() {
  const c = legacy();
  const a = await c.createUnit({ unitName: 'A' });
  const b = await c.createUnit({ unitName: 'B' });
  const a1 = await c.createUnit({ unitName: 'A1', parentId: a.unitId });
  await c.createAccount({ accountName: 'wang.wu', password: 'Init-Pass-1', nickname: '王五', unitId: a1.unitId });
  return { c, a: a.unitId, b: b.unitId, a1: a1.unitId };
}

describe('tokens', () => {
  it('fetches one token for any number of calls, concurrent ones included', async () => {
    await tree();
    const o = open();
    await Promise.all([o.getUnitList(), o.getUnitList(), o.getUnitList(), o.getUnitList()]);
    await o.getUnitList();
    expect(calls('/acquireToken')).toHaveLength(1);
    expect(calls('/api/open/unit/getUnitList').map((c) => c.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('refreshes the token shortly before the expiry NetEase gives (China time)', async () => {
    sim.setConfig({ openTokenTtlMs: 10 * 60_000 });
    let offset = 0;
    const o = open({}, { clock: { now: () => Date.now() + offset } });
    await o.getUnitList();
    offset = 8 * 60_000; // still well before the 10-minute expiry
    await o.getUnitList();
    expect(calls('/acquireToken')).toHaveLength(1);
    offset = 9 * 60_000 + 30_000; // inside the last minute (a tenth of the lifetime)
    await o.getUnitList();
    expect(calls('/acquireToken')).toHaveLength(2);
  });

  it('a token NetEase expires early (-301) is fetched again once, and the call succeeds', async () => {
    const { b, a1 } = await tree();
    const o = open();
    await o.getUnitList();
    sim.expireOpenTokens(DOMAIN);
    await o.moveUnit(a1, b);
    expect(calls('/acquireToken')).toHaveLength(2);
    expect(calls('/api/open/unit/moveUnit').map((c) => c.outcome)).toEqual(['-301', 'ok']);
    expect(sim.state(DOMAIN).units[a1]?.parent_id).toBe(b);
  });

  it('a token that keeps dying is re-fetched only once per call, then reported', async () => {
    const { b, a1 } = await tree();
    sim.setConfig({ openTokenTtlMs: 0 });
    const err = await failure(open().moveUnit(a1, b));
    expect(err).toMatchObject({ openCode: -301, kind: 'auth', retryable: false });
    expect(calls('/acquireToken')).toHaveLength(2);
    expect(calls('/api/open/unit/moveUnit')).toHaveLength(2);
    expect(sim.state(DOMAIN).units[a1]?.parent_id).not.toBe(b);
  });

  it('a wrong authCode is an auth failure naming the settings to check, never the value', async () => {
    const logger = createMemoryLogger('debug');
    const err = await failure(open({}, { authCode: async () => 'wrong-code', logger }).getUnitList());
    expect(err).toMatchObject({ openCode: -100, kind: 'auth', retryable: false, code: 'NETEASE.AUTH_FAILED' });
    expect(err.message).toMatch(/authCode in the tenant's netease secret/);
    expect(err.message).not.toContain('wrong-code');
    expect(calls('/acquireToken')[0]?.params.authCode).toBe('[redacted]');
    expect(JSON.stringify(logger.lines)).not.toContain('wrong-code');
  });

  it('parses NetEase expiry times as China time and refuses impossible dates', () => {
    expect(parseChinaTime('2024-05-01 08:00:00')).toBe(Date.UTC(2024, 4, 1, 0, 0, 0));
    expect(() => parseChinaTime('2024-13-01 08:00:00')).toThrow();
    expect(() => parseChinaTime('2024-05-01T08:00:00')).toThrow();
  });
});

describe('moveUnit', () => {
  it('moves a unit under another parent: same unit id, its mailbox stays in it, the legacy API sees it', async () => {
    const { c, a, b, a1 } = await tree();
    const before = sim.state(DOMAIN);
    const logger = createMemoryLogger('debug');
    await open({}, { logger }).moveUnit(a1, b, { unitName: 'A1' });

    expect(await c.getUnit(a1)).toMatchObject({ unitId: a1, unitName: 'A1', parentId: b });
    const after = sim.state(DOMAIN);
    expect(Object.keys(after.units).sort()).toEqual(Object.keys(before.units).sort());
    expect(after.accounts['wang.wu']).toEqual(before.accounts['wang.wu']);
    expect((await c.getAccount('wang.wu')).unitId).toBe(a1);
    expect((await open().getUnitList()).find((u) => u.unitId === a1)).toMatchObject({ unitName: 'A1', parentId: b });
    expect(calls('/api/open/unit/moveUnit')[0]?.params).toMatchObject({ domain: DOMAIN, unitId: a1, unitParentId: b });
    // No token or authCode in any log line.
    const logs = JSON.stringify(logger.lines);
    expect(logs).not.toContain(APP.authCode);
    expect(logs).not.toMatch(/[0-9a-f]{48}/);
    void a;
  });

  it('moves a unit to the top level', async () => {
    const { c, a1 } = await tree();
    await open().moveUnit(a1, undefined);
    expect((await c.getUnit(a1)).parentId).toBeUndefined();
    expect((await open().getUnitList()).find((u) => u.unitId === a1)?.parentId).toBeUndefined();
  });

  it('refuses to move a unit under one of its sub-units (or itself), and nothing changes', async () => {
    const { a, a1 } = await tree();
    const before = sim.state(DOMAIN);
    const err = await failure(open().moveUnit(a, a1));
    expect(err).toMatchObject({ openCode: -3, marker: 'UNIT.PARENT_INVALID', retryable: false });
    expect(sim.state(DOMAIN).units).toEqual(before.units);
    await expect(open().moveUnit(a, a)).rejects.toBeInstanceOf(ValidationError);
  });

  it('an unknown unit is not found (-4); the default unit cannot be moved (-3)', async () => {
    const { b } = await tree();
    expect(await failure(open().moveUnit('999999', b))).toMatchObject({ openCode: -4, kind: 'notFound', retryable: false });
    const defaultUnit = `${sim.state(DOMAIN).domainId}_default`;
    expect(await failure(open().moveUnit(defaultUnit, b))).toMatchObject({ openCode: -3, marker: 'UNIT.DEFAULT_READONLY', retryable: false });
  });

  it('with the legacy name given, refuses (sending no move) when the open platform lists the id under another name', async () => {
    const { b, a1 } = await tree();
    const err = await failure(open().moveUnit(a1, b, { unitName: 'Not A1' }));
    expect(err).toMatchObject({ kind: 'notFound', retryable: false });
    expect(calls('/api/open/unit/moveUnit')).toHaveLength(0);
    expect(sim.state(DOMAIN).units[a1]?.parent_id).not.toBe(b);
  });

  it('retries rate limits (-422) and server errors, then applies the move once', async () => {
    const { b, a1 } = await tree();
    const o = open();
    await o.getUnitList(); // the token first, so the faults hit the move
    sim.setFaults({ failNext: { count: 2, kind: 'throttle' } });
    await o.moveUnit(a1, b);
    sim.setFaults({ failNext: { count: 1, kind: 'error' } });
    await o.moveUnit(a1, undefined);
    expect(calls('/api/open/unit/moveUnit').map((c) => c.outcome)).toEqual(['-422', '-422', 'ok', 'HTTP 500', 'ok']);
    expect(sim.state(DOMAIN).units[a1]?.parent_id).toBeUndefined();
  });

  it('an IP not on the app whitelist (-201) is an admin-actionable, non-retryable failure', async () => {
    const { b, a1 } = await tree();
    sim.registerOpenApp({ ...APP, allowedIps: ['10.20.30.40'] });
    const err = await failure(open().moveUnit(a1, b));
    expect(err).toMatchObject({ openCode: -201, kind: 'auth', retryable: false });
    expect(err.message).toMatch(/IP address is not whitelisted/);
    expect(err.message).toMatch(/EgressIp\* stack outputs/);
    expect(calls('/acquireToken')).toHaveLength(1); // not retried
    expect(sim.state(DOMAIN).units[a1]?.parent_id).not.toBe(b);
  });
});

describe('per-tenant wiring (shared/wiring/tenant-clients.ts)', () => {
  const TENANT = 'wired';
  const WIRED_DOMAIN = 'wired.example.com';
  let wiredSim: RunningNeteaseSimulator;
  let secrets: MemorySecrets;

  const tenant = (withOpen: boolean, url = wiredSim.url) =>
    tenantSchema.parse({
      id: TENANT,
      netease: {
        domain: WIRED_DOMAIN,
        product: 'wired_product',
        region: 'hz',
        apiBaseUrl: `${url}/qiyeservice/api`,
        unreadUrl: `${url}/oaserver/user/getUnreadMsg`,
        requestsPerSecond: 1000,
        ...(withOpen ? { openPlatform: { baseUrl: url, appId: 'wired-app', orgOpenId: 'wired-org' } } : {}),
      },
    });

  /** Counts acquire() per limiter key, so a test sees which budget a call spent. */
  class CountingRegistry extends RateLimiterRegistry {
    readonly counts = new Map<string, number>();
    override get(k: string, o: RateLimiterOptions): RateLimiter {
      const inner = super.get(k, o);
      return {
        acquire: () => {
          this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
          return inner.acquire();
        },
      };
    }
  }

  beforeAll(async () => {
    secrets = new MemorySecrets();
    await generateTenantKey({ secrets, stage: 'test', tenantId: TENANT });
    // The simulator learns the key and the authCode from the same store, like the local stack.
    // It needs the tenant (domain, app) before its port is known; only the URLs change after.
    wiredSim = await startNeteaseSimulator({ tenants: [tenant(true, 'http://127.0.0.1:1')], secrets, stage: 'test' });
  });
  afterAll(async () => wiredSim.stop());

  it('offers reparentUnit only with openPlatform configured AND an authCode stored; it moves through the open platform on the shared budget', async () => {
    const name = secretName('test', TENANT, 'netease');
    const limiters = new CountingRegistry();
    const logger = createMemoryLogger('warn');
    const adapters = createTenantClients({ secrets, stage: 'test', limiters, logger });

    expect((await adapters.neteaseDirectory(tenant(false))).reparentUnit).toBeUndefined();
    // Configured, but no authCode yet: still the legacy API alone, with a warning.
    expect((await adapters.neteaseDirectory(tenant(true))).reparentUnit).toBeUndefined();
    expect(logger.lines.map((l) => l.msg)).toContain('netease.openPlatform is configured but the netease secret has no authCode: unit moves stay unsupported');

    await secrets.putJson(name, { ...(await secrets.getJson(name)), authCode: 'wired-auth-code' });
    const api = await adapters.neteaseDirectory(tenant(true));
    expect(api.reparentUnit).toBeTypeOf('function');
    expect(api.domain).toBe(WIRED_DOMAIN);
    const x = await api.createUnit({ unitName: 'X' });
    const y = await api.createUnit({ unitName: 'Y' });
    const before = limiters.counts.get(`netease:${TENANT}`) ?? 0;
    await api.reparentUnit!(y.unitId, x.unitId, { unitName: 'Y' });
    expect((await api.getUnit(y.unitId)).parentId).toBe(x.unitId);
    // Token, unit list, move and getUnit all spent the tenant's one NetEase budget.
    expect((limiters.counts.get(`netease:${TENANT}`) ?? 0) - before).toBe(4);
    expect([...limiters.counts.keys()]).toEqual([`netease:${TENANT}`]);
    // The same composed API is reused (its token cache with it).
    expect(await adapters.neteaseDirectory(tenant(true))).toBe(api);

    // Removing the authCode switches moves off again.
    await secrets.putJson(name, { privateKeyHex: (await secrets.getJson(name))!.privateKeyHex as string });
    expect((await adapters.neteaseDirectory(tenant(true))).reparentUnit).toBeUndefined();
  });
});

describe('the local sandbox (config/tenants.local.json, local/sandbox.ts)', () => {
  it('gives the sandbox tenant an authCode (kept, and added to an existing key) that the simulator accepts, so moves work locally', async () => {
    const sandbox = loadTenantsFile('config/tenants.local.json').tenants.find((t) => t.id === 'sandbox')!;
    expect(sandbox.netease.openPlatform).toMatchObject({ baseUrl: 'http://127.0.0.1:3101', appId: expect.any(String), orgOpenId: expect.any(String) });
    const secrets = new MemorySecrets();
    const name = secretName('local', 'sandbox', 'netease');
    // A data dir from before this feature: the key exists, the authCode does not.
    await generateTenantKey({ secrets, stage: 'local', tenantId: 'sandbox' });
    const key = (await secrets.getJson(name))!.privateKeyHex;
    expect(await provisionSandboxSecrets({ tenants: [sandbox], secrets, stage: 'local' })).toContain(name);
    const stored = (await secrets.getJson(name))!;
    expect(stored.privateKeyHex).toBe(key);
    expect(stored.authCode).toEqual(expect.stringMatching(/^\S{16,}$/));
    // A second start changes nothing.
    expect(await provisionSandboxSecrets({ tenants: [sandbox], secrets, stage: 'local' })).not.toContain(name);
    expect((await secrets.getJson(name))!.authCode).toBe(stored.authCode);

    // The simulator (on a free port here, not 3101) takes the app from the config and the authCode from the store.
    const localSim = await startNeteaseSimulator({ tenants: [sandbox], secrets, stage: 'local' });
    try {
      const n = sandbox.netease;
      const tenant = {
        ...sandbox,
        netease: { ...n, apiBaseUrl: rebaseUrl(n.apiBaseUrl, localSim.url), unreadUrl: rebaseUrl(n.unreadUrl, localSim.url), openPlatform: { ...n.openPlatform!, baseUrl: localSim.url } },
      };
      const api = await createTenantClients({ secrets, stage: 'local', limiters: new RateLimiterRegistry() }).neteaseDirectory(tenant);
      const top = await api.createUnit({ unitName: '总部' });
      const moved = await api.createUnit({ unitName: '临时组' });
      await api.reparentUnit!(moved.unitId, top.unitId, { unitName: '临时组' });
      expect(localSim.state(n.domain).units[moved.unitId]?.parent_id).toBe(top.unitId);
    } finally {
      await localSim.stop();
    }
  });
});
