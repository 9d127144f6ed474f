import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { NeteaseClient } from '../../shared/adapters/netease';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { StateStores } from '../../shared/ports/state-stores';
import { buildOaLink, verifyOaLink } from '../../shared/use-cases/sso/oa-link';
import { makeHandler } from '../../functions/http/unread/handler';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';

const SECRET = 'unread-link-secret-0123456789abcdef';
let sim: RunningNeteaseSimulator;
let stores: StateStores;
let signer: Signer;
let calls = 0;
const clock = fixedClock(Date.now());

function handler() {
  const config = parseTenantsConfig(
    {
      tenants: [
        {
          id: 'acme',
          netease: { domain: 'acme.example.com', product: 'acme_p', region: 'hz', unreadUrl: `${sim.url}/oaserver/user/getUnreadMsg`, apiBaseUrl: `${sim.url}/qiyeservice/api` },
          ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
          unread: { cacheSeconds: 60, corsOrigins: ['https://oa.acme.example.com'] },
        },
      ],
    },
    'test',
  );
  return makeHandler({
    config,
    logger: createMemoryLogger(),
    clock,
    mappings: stores.mappings,
    once: stores.once,
    cache: stores.cache,
    ssoBaseUrl: 'http://bridge.test',
    apiBaseUrl: 'http://bridge.test',
    oaLinkSecret: async () => SECRET,
    unreadCount: async (t, account) => {
      calls++;
      return new NeteaseClient(t.netease, signer, { clock }).getUnreadCount(account);
    },
  });
}

function event(url: string, origin?: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const u = new URL(url);
  return {
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: u.host, ...(origin ? { origin } : {}), ...headers },
    pathParameters: { tenant: 'acme' },
    requestContext: { requestId: 'r', domainName: u.hostname, http: { method: 'GET', path: u.pathname } },
  } as unknown as APIGatewayProxyEventV2;
}

function link(path = '/unread/acme', user = 'ekp-1') {
  return buildOaLink({ baseUrl: 'http://bridge.test', tenantId: 'acme', secret: SECRET, user, now: clock.now() }).replace('/sso/acme', path);
}

beforeAll(async () => {
  const pair = generateKeyPairSync(1024);
  signer = new Signer(pair.privateKeyHex);
  sim = await startNeteaseSimulator({ port: 0, keys: [{ domain: 'acme.example.com', product: 'acme_p', publicKeyHex: pair.publicKeyHex }] });
});
afterAll(() => sim?.stop());
beforeEach(async () => {
  calls = 0;
  stores = createMemoryStateStores({ clock });
  sim.reset();
  sim.seed('acme.example.com', { accounts: [{ account_name: 'zhangsan', nickname: '张三' }] });
  await stores.mappings.put({ tenantId: 'acme', source: 'ekp', objectType: 'person', sourceId: 'ekp-1', neteaseId: 'zhangsan', contentHash: 'h', status: 'active', lastRunId: 'r' });
});

describe('unread count for the OA portal', () => {
  it('returns the NetEase unread count for the signed-in person, then serves it from the cache', async () => {
    sim.deliverMail('acme.example.com', 'zhangsan', { subject: 'hello' });
    sim.deliverMail('acme.example.com', 'zhangsan', { subject: 'again' });
    const first = await handler()(event(link()), {} as Context);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body!)).toMatchObject({ count: 2, cached: false });
    sim.deliverMail('acme.example.com', 'zhangsan');
    const second = await handler()(event(link()), {} as Context);
    expect(JSON.parse(second.body!)).toMatchObject({ count: 2, cached: true });
    expect(calls).toBe(1);
    clock.advance(61_000);
    const third = await handler()(event(link()), {} as Context);
    expect(JSON.parse(third.body!)).toMatchObject({ count: 3, cached: false });
  });

  it('hands back a fresh signed SSO link for the same person', async () => {
    const res = await handler()(event(link()), {} as Context);
    const sso = new URL(JSON.parse(res.body!).ssoUrl);
    expect(sso.pathname).toBe('/sso/acme');
    const q = Object.fromEntries(sso.searchParams);
    expect(verifyOaLink({ tenantId: 'acme', secret: SECRET, query: q, now: clock.now(), windowSeconds: 300 }).user).toBe('ekp-1');
  });

  it('allows only the configured CORS origins', async () => {
    const ok = await handler()(event(link(), 'https://oa.acme.example.com'), {} as Context);
    expect(ok.headers!['access-control-allow-origin']).toBe('https://oa.acme.example.com');
    const other = await handler()(event(link(), 'https://evil.example.com'), {} as Context);
    expect(other.headers!['access-control-allow-origin']).toBeUndefined();
  });

  it('renders the widget with the count and an SSO link', async () => {
    sim.setUnread('acme.example.com', 'zhangsan', 7);
    const res = await handler()(event(link('/unread/acme/widget')), {} as Context);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('您有 <b>7</b> 封新邮件');
    expect(res.body).toMatch(/href="http:\/\/bridge\.test\/sso\/acme\?[^"]*sig=/);
  });

  it('refuses an unsigned or replayed request without calling NetEase', async () => {
    const bad = await handler()(event('http://bridge.test/unread/acme?user=ekp-1'), {} as Context);
    expect(bad.statusCode).toBe(400);
    const url = link();
    expect((await handler()(event(url), {} as Context)).statusCode).toBe(200);
    expect((await handler()(event(url), {} as Context)).statusCode).toBe(401);
    expect(calls).toBe(1);
  });
});

describe('the widget inside the portal', () => {
  it('may be framed by the configured portal origin only', async () => {
    const res = await handler()(event(link('/unread/acme/widget')), {} as Context);
    expect(res.headers!['content-security-policy']).toMatch(/frame-ancestors https:\/\/oa\.acme\.example\.com$/);
  });

  it('reloads itself through a fresh signed link to the widget, valid once', async () => {
    const res = await handler()(event(link('/unread/acme/widget')), {} as Context);
    const m = /http-equiv="refresh" content="(\d+);url=([^"]+)"/.exec(res.body!);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(300);
    const next = new URL(m![2]!.replace(/&amp;/g, '&'));
    expect(next.pathname).toBe('/unread/acme/widget');
    const again = await handler()(event(next.toString()), {} as Context);
    expect(again.statusCode).toBe(200);
    expect(again.body).toMatch(/href="http:\/\/bridge\.test\/sso\/acme\?[^"]*sig=/);
  });

  it('builds both its links from the configured public URLs, never from Host or X-Forwarded-Proto', async () => {
    const res = await handler()(event(link('/unread/acme/widget'), undefined, { host: 'evil.example.net', 'x-forwarded-proto': 'javascript' }), {} as Context);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('evil.example.net');
    expect(res.body).not.toContain('javascript:');
    expect(res.body).toMatch(/url=http:\/\/bridge\.test\/unread\/acme\/widget\?/);
    expect(res.body).toMatch(/href="http:\/\/bridge\.test\/sso\/acme\?/);
  });

  it('answers 400, not 500, for a malformed Host (JSON route and widget)', async () => {
    for (const path of ['/unread/acme', '/unread/acme/widget']) {
      const res = await handler()(event(link(path), undefined, { host: 'bad host' }), {} as Context);
      expect(res.statusCode, path).toBe(400);
    }
    expect(calls).toBe(0);
  });

  it('shows refusals as a page, not JSON', async () => {
    const url = link('/unread/acme/widget');
    await handler()(event(url), {} as Context);
    const replay = await handler()(event(url), {} as Context);
    expect(replay.statusCode).toBe(401);
    expect(replay.headers!['content-type']).toMatch(/text\/html/);
  });
});
