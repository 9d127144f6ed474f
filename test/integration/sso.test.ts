import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync, publicKeyHexToPem } from '../../shared/crypto/rsa-keys';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { StateStores } from '../../shared/ports/state-stores';
import { buildOaLink, oaSignature } from '../../shared/use-cases/sso/oa-link';
import { makeHandler } from '../../functions/http/sso/handler';
import { CasClient } from '../../shared/adapters/cas/cas-client';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';

const SECRET = 'oa-link-secret-for-tests-0123456789';
const NOW = Date.UTC(2026, 10, 21, 8, 0, 0);

let sim: RunningNeteaseSimulator;
let cas: Server;
let casUrl: string;
let stores: StateStores;
let signer: Signer;
let publicKeyHex: string;
const clock = fixedClock(NOW);

function config() {
  return parseTenantsConfig(
    {
      tenants: [
        {
          id: 'acme',
          netease: { domain: 'acme.example.com', product: 'acme_p', region: 'hz', ssoEntryUrl: `${sim.url}/domain/oa/Entry` },
          ekp: { baseUrl: 'http://127.0.0.1:9/ekp', auth: { type: 'none' } },
        },
        {
          id: 'cas-co',
          netease: { domain: 'cas.example.com', product: 'cas_p', region: 'hz', ssoEntryUrl: `${sim.url}/domain/oa/Entry` },
          ekp: { baseUrl: 'http://127.0.0.1:9/ekp', auth: { type: 'none' } },
          sso: { cas: { baseUrl: casUrl }, fallbackRule: 'loginName' },
        },
        {
          id: 'pub-co',
          netease: { domain: 'pub.example.com', product: 'pub_p', region: 'hz', ssoEntryUrl: `${sim.url}/domain/oa/Entry` },
          ekp: { baseUrl: 'http://127.0.0.1:9/ekp', auth: { type: 'none' } },
          sso: { cas: { baseUrl: casUrl }, publicBaseUrl: 'https://mail-sso.pub.example.com/' },
        },
      ],
    },
    'test',
  );
}

function handler(ssoBaseUrl: string | undefined = 'http://bridge.test') {
  return makeHandler({
    config: config(),
    logger: createMemoryLogger(),
    clock,
    mappings: stores.mappings,
    once: stores.once,
    oaLinkSecret: async () => SECRET,
    signer: async () => signer,
    ssoBaseUrl,
    cas: (t) => new CasClient({ baseUrl: t.sso.cas!.baseUrl }),
  });
}

function eventFor(url: string): APIGatewayProxyEventV2 {
  const u = new URL(url);
  return {
    version: '2.0',
    routeKey: 'GET /sso/{tenant}',
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: u.host, 'x-forwarded-proto': 'http' },
    pathParameters: { tenant: u.pathname.split('/')[2]! },
    requestContext: { requestId: 'r', domainName: u.hostname, http: { method: 'GET', path: u.pathname } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function call(url: string) {
  return handler()(eventFor(url), {} as Context);
}

function link(opts: Partial<Parameters<typeof buildOaLink>[0]> = {}) {
  return buildOaLink({ baseUrl: 'http://bridge.test', tenantId: 'acme', secret: SECRET, user: 'ekp-001', now: NOW, ...opts });
}

async function map(sourceId: string, accountName: string, status: 'active' | 'suspended' | 'deleted' = 'active') {
  await stores.mappings.put({ tenantId: 'acme', source: 'ekp', objectType: 'person', sourceId, neteaseId: accountName, contentHash: 'h', status, lastRunId: 'r0', ...(status === 'suspended' ? { suspendedAt: NOW } : {}) });
}

beforeAll(async () => {
  const pair = generateKeyPairSync(1024);
  signer = new Signer(pair.privateKeyHex);
  publicKeyHex = pair.publicKeyHex;
  sim = await startNeteaseSimulator({ port: 0, now: () => clock.now() });
  sim.registerKey('acme.example.com', 'acme_p', publicKeyHex);
  sim.registerKey('cas.example.com', 'cas_p', publicKeyHex);
  // A minimal CAS server: ticket ST-good-<user> is valid for the service it was issued for.
  cas = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const ticket = u.searchParams.get('ticket') ?? '';
    res.setHeader('content-type', 'application/xml');
    if (u.pathname === '/cas/p3/serviceValidate' && ticket.startsWith('ST-good-') && u.searchParams.get('service') === 'http://bridge.test/sso/cas-co') {
      res.end(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>${ticket.slice(8)}</cas:user></cas:authenticationSuccess></cas:serviceResponse>`);
    } else {
      res.end('<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">nope</cas:authenticationFailure></cas:serviceResponse>');
    }
  }).listen(0, '127.0.0.1');
  await new Promise((r) => cas.once('listening', r));
  casUrl = `http://127.0.0.1:${(cas.address() as AddressInfo).port}/cas`;
});

afterAll(async () => {
  await sim?.stop();
  cas?.close();
});

beforeEach(async () => {
  clock.set(NOW);
  stores = createMemoryStateStores({ clock });
  sim.reset();
  sim.seed('acme.example.com', { accounts: [{ account_name: 'zhangsan', nickname: '张三' }, { account_name: 'lisi', nickname: '李四', status: 1 }] });
  sim.seed('cas.example.com', { accounts: [{ account_name: 'wangwu', nickname: '王五' }] });
});

describe('SSO from a signed OA link', () => {
  it('redirects a mapped person to a NetEase entry URL that the simulator accepts', async () => {
    await map('ekp-001', 'zhangsan');
    const res = await call(link({ mid: '1:1tbiAQ' }));
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers!.location as string);
    expect(location.origin + location.pathname).toBe(`${sim.url}/domain/oa/Entry`);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ domain: 'acme.example.com', account_name: 'zhangsan', time: String(NOW), lang: '0', mid: '1:1tbiAQ' });
    const page = await fetch(location);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('zhangsan@acme.example.com');
    expect(body).toContain('1:1tbiAQ');
  });

  it('produces an enc that openssl verifies against the tenant public key', async () => {
    await map('ekp-001', 'zhangsan');
    const res = await call(link());
    const q = new URL(res.headers!.location as string).searchParams;
    const dir = mkdtempSync(join(tmpdir(), 'sso-openssl-'));
    writeFileSync(join(dir, 'pub.pem'), publicKeyHexToPem(publicKeyHex));
    writeFileSync(join(dir, 'data.txt'), `${q.get('account_name')}${q.get('domain')}${q.get('time')}`);
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(q.get('enc')!, 'hex'));
    const out = execFileSync('openssl', ['dgst', '-sha1', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'data.txt')]).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it('refuses a link whose user was changed after signing', async () => {
    await map('ekp-001', 'zhangsan');
    await map('ekp-002', 'lisi');
    const res = await call(link().replace('user=ekp-001', 'user=ekp-002'));
    expect(res.statusCode).toBe(401);
    expect(res.headers!['content-type']).toMatch(/text\/html/);
    expect(res.headers!.location).toBeUndefined();
  });

  it('refuses a link older than the window', async () => {
    await map('ekp-001', 'zhangsan');
    const res = await call(link({ now: NOW - 301_000 }));
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('expired');
  });

  it('accepts a link only once', async () => {
    await map('ekp-001', 'zhangsan');
    const url = link({ nonce: 'fixed-nonce-1' });
    expect((await call(url)).statusCode).toBe(302);
    const again = await call(url);
    expect(again.statusCode).toBe(401);
    expect(again.body).toContain('already used');
  });

  it('does not burn the nonce of a forged link', async () => {
    await map('ekp-001', 'zhangsan');
    const good = link({ nonce: 'nonce-to-keep' });
    const forged = good.replace(/sig=[0-9a-f]+/, `sig=${'0'.repeat(64)}`);
    expect((await call(forged)).statusCode).toBe(401);
    expect((await call(good)).statusCode).toBe(302);
  });

  it('refuses a parameter given twice', async () => {
    await map('ekp-001', 'zhangsan');
    expect((await call(`${link()}&user=ekp-002`)).statusCode).toBe(400);
  });

  it('shows a page, not a redirect, for unknown, suspended and departed people', async () => {
    await map('ekp-002', 'lisi', 'suspended');
    await map('ekp-003', 'gone', 'deleted');
    const unknown = await call(link({ user: 'ekp-999' }));
    const suspended = await call(link({ user: 'ekp-002' }));
    const departed = await call(link({ user: 'ekp-003' }));
    for (const r of [unknown, suspended, departed]) {
      expect(r.statusCode).toBe(403);
      expect(r.headers!.location).toBeUndefined();
    }
    expect(suspended.body).toContain('suspended');
    expect(departed.body).toContain('no longer exists');
  });

  it('answers 404 for an unknown tenant', async () => {
    const res = await call(link({ tenantId: 'nobody' }));
    expect(res.statusCode).toBe(404);
  });
});

describe('SSO through CAS', () => {
  it('sends a person without a ticket to the CAS login with this endpoint as the service', async () => {
    const res = await call('http://bridge.test/sso/cas-co?module=mbox.ListModule');
    expect(res.statusCode).toBe(302);
    const loc = new URL(res.headers!.location as string);
    expect(loc.href.startsWith(`${casUrl}/login?`)).toBe(true);
    expect(loc.searchParams.get('service')).toBe('http://bridge.test/sso/cas-co?module=mbox.ListModule');
  });

  it('validates the ticket and redirects to the mailbox (fallback rule: login name)', async () => {
    const res = await call('http://bridge.test/sso/cas-co?ticket=ST-good-wangwu');
    expect(res.statusCode).toBe(302);
    const page = await fetch(res.headers!.location as string);
    expect(await page.text()).toContain('wangwu@cas.example.com');
  });

  it('refuses a ticket CAS rejects', async () => {
    const res = await call('http://bridge.test/sso/cas-co?ticket=ST-bad-1');
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('INVALID_TICKET');
  });
});

describe('SSO inputs (hostile requests)', () => {
  const withHeaders = (url: string, headers: Record<string, string>, ssoBaseUrl?: string) => {
    const e = eventFor(url);
    e.headers = { ...e.headers, ...headers };
    return handler(ssoBaseUrl)(e, {} as Context);
  };

  it('builds the CAS service from the configured public URL, never from Host or X-Forwarded-Proto', async () => {
    const res = await withHeaders('http://bridge.test/sso/cas-co', { host: 'evil.example.com', 'x-forwarded-proto': 'javascript' });
    expect(res.statusCode).toBe(302);
    expect(new URL(res.headers!.location as string).searchParams.get('service')).toBe('http://bridge.test/sso/cas-co');
  });

  it("prefers the tenant's sso.publicBaseUrl over the deployment's", async () => {
    const res = await call('http://bridge.test/sso/pub-co');
    expect(new URL(res.headers!.location as string).searchParams.get('service')).toBe('https://mail-sso.pub.example.com/sso/pub-co');
  });

  it('answers 501 naming the setting when no public URL is configured, instead of trusting the Host', async () => {
    const res = await withHeaders('http://bridge.test/sso/cas-co', {}, '');
    expect(res.statusCode).toBe(501);
  });

  it('answers 400 for a malformed Host header', async () => {
    for (const host of ['bad host', 'a/b', 'x:99999', '[::1', 'exa%mple.com']) {
      const res = await withHeaders('http://bridge.test/sso/cas-co', { host });
      expect(res.statusCode, host).toBe(400);
    }
  });

  it('refuses a signed link whose ts is not canonical, and changes nothing', async () => {
    await map('ekp-001', 'zhangsan');
    for (const [i, ts] of [`0${NOW}`, `00${NOW}`, `+${NOW}`, `${NOW}.0`, `${NOW / 1000}e3`, ` ${NOW}`].entries()) {
      // Signed with the odd ts, as a hostile OA could: the signature is valid, the form is not.
      const fields = { user: 'ekp-001', ts, nonce: `nonce-ts-${i}` };
      const res = await call(`http://bridge.test/sso/acme?${new URLSearchParams({ ...fields, sig: oaSignature(SECRET, 'acme', fields) })}`);
      expect(res.statusCode, JSON.stringify(ts)).toBe(400);
    }
    // A canonical link still works.
    expect((await call(link())).statusCode).toBe(302);
  });

  it('refuses a mid outside NetEase id characters and unknown or malformed modules (400), even when signed', async () => {
    await map('ekp-001', 'zhangsan');
    const bad: Array<Record<string, string>> = [
      { mid: '1&account_name=boss' },
      { mid: 'x'.repeat(129) },
      { module: 'evil.Module' },
      { module: 'mbox.ListModule|{"fid":' },
      { module: 'mbox.ListModule|[1]' },
      { module: 'mbox.ListModule|{"fid":{"nested":1}}' },
      { module: `mbox.ListModule|{"fid":"${'x'.repeat(300)}"}` },
    ];
    for (const [i, target] of bad.entries()) {
      const fields = { user: 'ekp-001', ts: String(NOW), nonce: `nonce-bad-${i}`, ...target };
      const res = await call(`http://bridge.test/sso/acme?${new URLSearchParams({ ...fields, sig: oaSignature(SECRET, 'acme', fields) })}`);
      expect(res.statusCode, JSON.stringify(target)).toBe(400);
    }
    const ok = await call(link({ module: 'mbox.ListModule|{"fid":5}' }));
    expect(ok.statusCode).toBe(302);
    expect(new URL(ok.headers!.location as string).searchParams.get('module')).toBe('mbox.ListModule|{"fid":5}');
  });
});
