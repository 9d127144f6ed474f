import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDingtalkClient } from '../../shared/adapters/dingtalk';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { createWecomClient } from '../../shared/adapters/wecom';
import { parseTenantsConfig } from '../../shared/config/load-config';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { createMemoryLogger } from '../../shared/logging/logger';
import { systemClock } from '../../shared/ports/clock';
import type { StateStores } from '../../shared/ports/state-stores';
import { makeHandler } from '../../functions/http/sso/handler';
import { DingtalkSignIn } from '../../shared/adapters/dingtalk/dingtalk.sign-in';
import { WecomSignIn } from '../../shared/adapters/wecom/wecom.sign-in';
import { CasClient } from '../../shared/adapters/cas/cas-client';
import { pointDingtalkAt, startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk/dingtalk.simulator';
import { pointWecomAt, startWecomSimulator } from '../../local/simulators/wecom/wecom.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { MemorySecrets } from '../fixtures/memory-secrets';

const secrets = new MemorySecrets({
  'qiye-bridge/local/dtco/dingtalk': { appSecret: 'dt-app-secret' },
  'qiye-bridge/local/wcco/wecom': { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' },
});
let netease: RunningNeteaseSimulator;
let dt: RunningDingtalkSimulator;
let wc: Awaited<ReturnType<typeof startWecomSimulator>>;
let tenants: TenantConfig[];
let stores: StateStores;
let signer: Signer;

function handler() {
  return makeHandler({
    config: { tenants },
    logger: createMemoryLogger(),
    clock: systemClock,
    mappings: stores.mappings,
    once: stores.once,
    oaLinkSecret: async () => 'link-secret-for-state-hmac-0123456789',
    signer: async () => signer,
    ssoBaseUrl: 'http://bridge.test',
    vendorSso: async (t, v) => (v === 'dingtalk' ? new DingtalkSignIn(createDingtalkClient(t, { secrets, stage: 'local' })) : new WecomSignIn(createWecomClient(t, { secrets, stage: 'local' }))),
    cas: (t) => new CasClient({ baseUrl: t.sso.cas!.baseUrl }),
  });
}

function call(url: string, userAgent = 'Mozilla/5.0', headers: Record<string, string> = {}) {
  const u = new URL(url);
  const event = {
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: u.host, 'x-forwarded-proto': 'http', 'user-agent': userAgent, ...headers },
    pathParameters: { tenant: u.pathname.split('/')[2] },
    requestContext: { requestId: 'r', domainName: u.hostname, http: { method: 'GET', path: u.pathname } },
  } as unknown as APIGatewayProxyEventV2;
  return handler()(event, {} as Context);
}

/** Plays the person choosing who they are on the simulator's vendor login page. */
async function vendorLogin(loginUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${loginUrl}&userid=${encodeURIComponent(userId)}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

beforeAll(async () => {
  const pair = generateKeyPairSync(1024);
  signer = new Signer(pair.privateKeyHex);
  netease = await startNeteaseSimulator({ port: 0, keys: [{ domain: 'dt.example.com', product: 'p1', publicKeyHex: pair.publicKeyHex }, { domain: 'wc.example.com', product: 'p2', publicKeyHex: pair.publicKeyHex }] });
  const raw = parseTenantsConfig(
    {
      tenants: [
        { id: 'dtco', netease: { domain: 'dt.example.com', product: 'p1', region: 'hz', ssoEntryUrl: `${netease.url}/domain/oa/Entry` }, dingtalk: { corpId: 'dingcorp', appKey: 'dingkey', agentId: '1' } },
        { id: 'wcco', netease: { domain: 'wc.example.com', product: 'p2', region: 'hz', ssoEntryUrl: `${netease.url}/domain/oa/Entry` }, wecom: { corpId: 'wwcorp', agentId: '2' } },
      ],
    },
    'test',
  ).tenants;
  dt = await startDingtalkSimulator({ port: 0, tenants: raw, credentials: { dtco: { appSecret: 'dt-app-secret' } } });
  wc = await startWecomSimulator({ port: 0, tenants: raw, credentials: { wcco: { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' } } });
  tenants = [pointDingtalkAt(raw[0]!, dt.url), pointWecomAt(raw[1]!, wc.url)];
});
afterAll(async () => {
  await Promise.all([netease?.stop(), dt?.stop(), wc?.stop()]);
});
beforeEach(() => {
  stores = createMemoryStateStores();
});

/** `userId` of the tenant's `source` has the NetEase mailbox `account` on `domain`: its mapping, and the account in the simulator. */
async function giveMailbox(tenantId: string, source: 'dingtalk' | 'wecom', userId: string, domain: string, account: { account_name: string; nickname: string }): Promise<void> {
  await stores.mappings.put({ tenantId, source, objectType: 'person', sourceId: userId, neteaseId: account.account_name, contentHash: 'h', status: 'active', lastRunId: 'r' });
  netease.seed(domain, { accounts: [account] });
}

describe('SSO through DingTalk', () => {
  it('goes to DingTalk, comes back with a code and lands in the mapped mailbox with the mail asked for', async () => {
    const person = dt.state('dtco').users[0]!;
    await giveMailbox('dtco', 'dingtalk', person.userid, 'dt.example.com', { account_name: 'zhang', nickname: 'Z' });
    const first = await call('http://bridge.test/sso/dtco?via=dingtalk&mid=1:abc');
    expect(first.statusCode).toBe(302);
    const login = first.headers!.location as string;
    expect(login.startsWith(`${dt.url}/oauth2/auth?`)).toBe(true);
    const back = await vendorLogin(login, person.userid);
    expect(back.startsWith('http://bridge.test/sso/dtco?')).toBe(true);
    const done = await call(back);
    expect(done.statusCode).toBe(302);
    const entry = new URL(done.headers!.location as string);
    expect(entry.searchParams.get('account_name')).toBe('zhang');
    expect(entry.searchParams.get('mid')).toBe('1:abc');
    expect(await (await fetch(entry)).text()).toContain('zhang@dt.example.com');
    // The callback URL is single-use.
    expect((await call(back)).statusCode).toBe(401);
  });

  it('refuses a callback whose target was changed (the state binds mid/module)', async () => {
    const person = dt.state('dtco').users[1]!;
    const first = await call('http://bridge.test/sso/dtco?via=dingtalk&mid=1:abc');
    const back = await vendorLogin(first.headers!.location as string, person.userid);
    const res = await call(back.replace('mid=1%3Aabc', 'mid=1%3Aother'));
    expect(res.statusCode).toBe(401);
  });

  it('refuses a forged state without calling DingTalk', async () => {
    const before = dt.state('dtco').calls['/v1.0/oauth2/userAccessToken'] ?? 0;
    const res = await call('http://bridge.test/sso/dtco?via=dingtalk&authCode=abc&state=0lq2b3c4d0123456789abcdef01230123456789abcdef0123456789abcdef');
    expect(res.statusCode).toBe(401);
    expect(dt.state('dtco').calls['/v1.0/oauth2/userAccessToken'] ?? 0).toBe(before);
  });
});

describe('the OAuth redirect_uri', () => {
  it('comes from the configured public URL, never from the Host or X-Forwarded-Proto of the request', async () => {
    for (const via of ['dingtalk', 'wecom'] as const) {
      const tenant = via === 'dingtalk' ? 'dtco' : 'wcco';
      const res = await call(`http://bridge.test/sso/${tenant}?via=${via}`, 'Mozilla/5.0', { host: 'attacker.example.net', 'x-forwarded-proto': 'https' });
      expect(res.statusCode, via).toBe(302);
      const redirectUri = new URL(new URL(res.headers!.location as string).searchParams.get('redirect_uri')!);
      expect(redirectUri.origin, via).toBe('http://bridge.test');
      expect(redirectUri.pathname, via).toBe(`/sso/${tenant}`);
    }
  });

  it('answers 400, not 500, for a malformed Host', async () => {
    const res = await call('http://bridge.test/sso/dtco?via=dingtalk', 'Mozilla/5.0', { host: 'bad host!' });
    expect(res.statusCode).toBe(400);
  });
});

describe('SSO through WeCom', () => {
  it('uses in-client OAuth inside WeCom and the PC login page elsewhere, then signs in', async () => {
    const person = wc.state('wcco').users[0]!;
    await giveMailbox('wcco', 'wecom', person.userid, 'wc.example.com', { account_name: 'li', nickname: 'L' });
    const inApp = await call('http://bridge.test/sso/wcco?via=wecom', 'Mozilla/5.0 wxwork/4.1.0');
    expect(inApp.headers!.location as string).toContain('/connect/oauth2/authorize?');
    const pc = await call('http://bridge.test/sso/wcco?via=wecom');
    expect(pc.headers!.location as string).toContain('/wwlogin/sso/login?');
    const back = await vendorLogin(pc.headers!.location as string, person.userid);
    const done = await call(back);
    expect(done.statusCode).toBe(302);
    expect(new URL(done.headers!.location as string).searchParams.get('account_name')).toBe('li');
  });

  it('shows a page for a WeCom member with no mailbox', async () => {
    const person = wc.state('wcco').users[2]!;
    const pc = await call('http://bridge.test/sso/wcco?via=wecom');
    const back = await vendorLogin(pc.headers!.location as string, person.userid);
    const res = await call(back);
    expect(res.statusCode).toBe(403);
    expect(res.headers!.location).toBeUndefined();
  });
});

describe('SSO from the DingTalk workbench (H5 JSAPI auth code)', () => {
  it('serves a page that asks DingTalk for an auth code, then signs in with that code and its state', async () => {
    const person = dt.state('dtco').users[3]!;
    await giveMailbox('dtco', 'dingtalk', person.userid, 'dt.example.com', { account_name: 'wangfang', nickname: 'W' });
    const page = await call('http://bridge.test/sso/dtco?via=dingtalk&flow=h5&module=mbox.ListModule', 'Mozilla/5.0 DingTalk/7.0');
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers!['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(page.body).toContain(`nonce="${nonce}"`);
    expect(page.body).toContain('dd.runtime.permission.requestAuthCode');
    expect(page.body).toContain('"dingcorp"');
    // What the page does inside DingTalk: requestAuthCode, then back to `back` with code and state.
    const back = JSON.parse(/var back = ("[^"]+")/.exec(page.body!)![1]!) as string;
    const state = JSON.parse(/state = ("[^"]+")/.exec(page.body!)![1]!) as string;
    const code = dt.mintAuthCode(person.userid, { tenant: 'dtco', kind: 'h5' });
    const done = await call(`${back}&code=${encodeURIComponent(code)}&state=${state}`);
    expect(done.statusCode).toBe(302);
    const entry = new URL(done.headers!.location as string);
    expect(entry.searchParams.get('account_name')).toBe('wangfang');
    expect(entry.searchParams.get('module')).toBe('mbox.ListModule');
  });

  it('refuses a bare JSAPI code without our state (login CSRF) and an OAuth state used for the H5 flow', async () => {
    const person = dt.state('dtco').users[3]!;
    const code = dt.mintAuthCode(person.userid, { tenant: 'dtco', kind: 'h5' });
    expect((await call(`http://bridge.test/sso/dtco?via=dingtalk&flow=h5&code=${code}`)).statusCode).toBe(400);
    const oauth = await call('http://bridge.test/sso/dtco?via=dingtalk');
    const oauthState = new URL(oauth.headers!.location as string).searchParams.get('state')!;
    expect((await call(`http://bridge.test/sso/dtco?via=dingtalk&flow=h5&code=${code}&state=${oauthState}`)).statusCode).toBe(401);
  });
});
