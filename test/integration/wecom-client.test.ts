/**
 * The WeCom client and directory source against the WeCom simulator over real HTTP on
 * loopback: two secrets and their tokens, paging, the 2022 field restrictions, errcodes,
 * OAuth / PC login and app messages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WecomClient, createWecomClient, type WecomClientOptions, type WecomSecrets } from '../../shared/adapters/wecom/wecom.client';
import { WecomDirectorySource } from '../../shared/adapters/wecom/wecom.directory-source';
import { WecomApiError } from '../../shared/adapters/wecom/wecom.errors';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { AppError, AuthError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { pointWecomAt, startWecomSimulator, type RunningWecomSimulator, type SimAppMessage, type WcSimTenantView } from '../../local/simulators/wecom';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { rejectionOf, simControl } from './vendor-sim-helpers';

const CONTACT_SECRET = 'wc-contact-sync-secret-0001';
const APP_SECRET = 'wc-self-built-app-secret-0001';

/** As in config/tenants.local.json: cgi-bin under /cgi-bin, OAuth under /oauth, PC login under /login. */
const baseTenant: TenantConfig = tenantSchema.parse({
  id: 'acme-wc',
  displayName: 'Acme 企业微信 (test)',
  netease: { domain: 'acme-wc.example.com', product: 'acme_wc', region: 'hz' },
  wecom: {
    corpId: 'wwacmecorp000001',
    agentId: '1000002',
    apiBaseUrl: 'http://127.0.0.1:1/cgi-bin',
    oauthBaseUrl: 'http://127.0.0.1:1/oauth',
    loginBaseUrl: 'http://127.0.0.1:1/login',
    requestsPerSecond: 100,
  },
});

let sim: RunningWecomSimulator;
let tenant: TenantConfig;
const secrets = new MemorySecrets();

function client(options: Partial<WecomClientOptions> & { secretValues?: WecomSecrets } = {}): WecomClient {
  const { secretValues, ...rest } = options;
  return new WecomClient({
    tenantId: tenant.id,
    config: tenant.wecom!,
    secrets: async () => secretValues ?? { contactSecret: CONTACT_SECRET, appSecret: APP_SECRET },
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 50,
    ...rest,
  });
}

const control = simControl(() => sim.url);

const state = async (): Promise<WcSimTenantView> => (await control<WcSimTenantView>('GET', '/__sim/state')).json;

const failure = (p: Promise<unknown>): Promise<AppError> => rejectionOf(p, AppError);

beforeAll(async () => {
  secrets.values.set(secretName('test', baseTenant.id, 'wecom'), { contactSecret: CONTACT_SECRET, appSecret: APP_SECRET });
  sim = await startWecomSimulator({ tenants: [baseTenant], secrets, stage: 'test' });
  tenant = pointWecomAt(baseTenant, sim.url);
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());
afterEach(() => vi.restoreAllMocks());

describe('access tokens', () => {
  it('fetches one token per secret for many calls, concurrent first callers included', async () => {
    const c = client();
    const ids = (await state()).users.slice(0, 8).map((u) => u.userid);
    // Member details are read with the app secret, the department tree with the contact secret: one token each.
    const got = await Promise.all([...ids.map((id) => c.getUser(id)), c.listDepartmentIds()]);
    expect(got.slice(0, 8).map((u) => (u as { userid: string }).userid)).toEqual(ids);
    let s = await state();
    expect(s.calls.gettoken).toBe(2);
    expect(s.tokensIssued).toEqual({ contact: 1, app: 1 });

    // SSO uses the app secret too: the same app token, no new one.
    const { json } = await control<{ code: string }>('POST', '/__sim/auth-code', { userId: ids[0] });
    await c.getUserIdByCode(json.code);
    await c.getUser(ids[1]!);
    await c.listDepartmentIds();
    s = await state();
    expect(s.tokensIssued).toEqual({ contact: 1, app: 1 });
  });

  it('refetches once on 42001 (token expired early) and the call succeeds', async () => {
    const c = client();
    const [a, b] = (await state()).users;
    await c.getUser(a!.userid);
    await control('POST', '/__sim/faults', { expireTokens: true });
    expect((await c.getUser(b!.userid))?.name).toBe(b!.name);
    const s = await state();
    expect(s.calls.gettoken).toBe(2);
    expect(s.errors['42001']).toBe(1);
  });

  it('refetches after the token really expires on the WeCom side (simulator clock)', async () => {
    let t = Date.now();
    const creds = { contactSecret: CONTACT_SECRET, appSecret: APP_SECRET };
    const s = await startWecomSimulator({ tenants: [baseTenant], credentials: { [baseTenant.id]: creds }, now: () => t, tokenTtlSeconds: 60 });
    try {
      const c = new WecomClient({ tenantId: baseTenant.id, config: pointWecomAt(baseTenant, s.url).wecom!, secrets: async () => creds });
      await c.listDepartmentIds();
      t += 61_000;
      expect(await c.listDepartmentIds()).toHaveLength(9);
      expect(s.state().tokensIssued.contact).toBe(2);
      expect(s.state().errors['42001']).toBe(1);
    } finally {
      await s.stop();
    }
  });

  it('does not loop when even a fresh token is refused', async () => {
    await control('POST', '/__sim/faults', { rejectTokens: true });
    const err = await failure(client().getUser('zhangsan'));
    expect(err.code).toBe('WECOM.TOKEN_INVALID');
    expect(err.retryable).toBe(false);
    const s = await state();
    expect(s.calls.gettoken).toBe(2);
    expect(s.calls['user/get']).toBe(2);
  });

  it('reads secrets from the SecretStore; a wrong or missing secret says so without echoing it', async () => {
    const good = createWecomClient(tenant, { secrets, stage: 'test' });
    expect((await good.listDepartmentIds()).length).toBe(9);

    const wrong = new MemorySecrets();
    wrong.values.set(secretName('test', tenant.id, 'wecom'), { contactSecret: 'wrong-secret-value-xyz' });
    const err = await failure(createWecomClient(tenant, { secrets: wrong, stage: 'test' }).listDepartmentIds());
    expect(err.code).toBe('WECOM.CREDENTIALS_REJECTED');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('wrong-secret-value-xyz');

    const noApp = createWecomClient(tenant, { secrets: wrong, stage: 'test' });
    expect((await failure(noApp.getUserIdByCode('abc'))).code).toBe('WECOM.SECRET_MISSING');
  });
});

describe('directory source', () => {
  it('takes a complete snapshot equal to the seeded corp (list_id roster, then user/list per department with the app secret)', async () => {
    const seeded = await state();
    expect(seeded.departments.length).toBe(9);
    const snap = await new WecomDirectorySource(client()).fullSnapshot();
    expect(snap.complete).toBe(true);

    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(snap.departments.map((d) => ({ id: d.id, name: d.name, parentId: d.parentId })).sort(byId)).toEqual(
      seeded.departments.map((d) => ({ id: String(d.id), name: d.name, parentId: d.parentid ? String(d.parentid) : undefined })).sort(byId),
    );
    expect(
      snap.people
        .map((p) => ({ id: p.id, name: p.displayName, depts: p.departmentIds, main: p.mainDepartmentId, job: p.jobNumber, status: p.status }))
        .sort(byId),
    ).toEqual(
      seeded.users
        .map((u) => ({
          id: u.userid,
          name: u.name,
          depts: u.department.map(String),
          main: String(u.main_department),
          job: u.extattr.attrs.find((a) => a.name === '工号')?.text?.value,
          status: u.status === 2 ? 'disabled' : 'active',
        }))
        .sort(byId),
    );
    // A self-built app created after 2022-06-20 gets no email (wecom.md §4).
    expect(snap.people.every((p) => p.email === undefined)).toBe(true);
    expect(snap.people.filter((p) => p.status === 'disabled')).toHaveLength(1);
    // One user/list per department that has members, no per-member user/get.
    const s = await state();
    const withMembers = new Set(seeded.users.flatMap((u) => u.department));
    expect(s.calls['user/list']).toBe(withMembers.size);
    expect(s.calls['user/get']).toBeUndefined();
    expect(s.tokensIssued).toEqual({ contact: 1, app: 1 });
    // WeCom sorts departments by order descending; the neutral model ascending.
    const [first, second] = seeded.departments.filter((d) => d.parentid === 1).sort((a, b) => b.order - a.order);
    const order = (id: number) => snap.departments.find((d) => d.id === String(id))!.order;
    expect(order(first!.id)).toBeLessThan(order(second!.id));
  });

  it('an app created before 2022-06-20 still gets email: the NetEase address, never biz_mail', async () => {
    const creds = { contactSecret: CONTACT_SECRET, appSecret: APP_SECRET };
    const old = await startWecomSimulator({ tenants: [baseTenant], credentials: { [baseTenant.id]: creds }, restrictAppFields: false });
    try {
      const c = new WecomClient({ tenantId: baseTenant.id, config: pointWecomAt(baseTenant, old.url).wecom!, secrets: async () => creds });
      const snap = await new WecomDirectorySource(c).fullSnapshot();
      const seeded = old.state().users;
      expect(snap.people.map((p) => [p.id, p.email]).sort()).toEqual(seeded.map((u) => [u.userid, u.email]).sort());
      expect(snap.people.every((p) => p.email?.endsWith('@acme-wc.example.com'))).toBe(true);
    } finally {
      await old.stop();
    }
  });

  it('pages user/list_id with its cursor when the page is small', async () => {
    const seeded = await state();
    const rows = seeded.users.reduce((n, u) => n + u.department.length, 0);
    const snap = await new WecomDirectorySource(client(), { listIdLimit: 5 }).fullSnapshot();
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    expect((await state()).calls['user/list_id']).toBe(Math.ceil(rows / 5));
  });

  it('with only the app secret, reads members per department and gets no email (2022-06-20 restriction)', async () => {
    const seeded = await state();
    const c = client({ secretValues: { appSecret: APP_SECRET } });
    const snap = await new WecomDirectorySource(c).fullSnapshot();
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    expect(snap.people.every((p) => p.email === undefined && p.mobile === undefined)).toBe(true);
    expect(snap.people.every((p) => p.displayName.length > 0)).toBe(true);
    const s = await state();
    expect(s.calls['user/list_id']).toBeUndefined();
    expect(s.calls['user/list']).toBe(seeded.departments.length);
    expect(s.tokensIssued).toEqual({ contact: 0, app: 1 });
  });

  it('refuses user/list_id with a token that is not the contact sync secret, naming the secret to use', async () => {
    // The app secret configured by mistake as the contact secret.
    const c = client({ secretValues: { contactSecret: APP_SECRET } });
    const err = await failure(c.listUserIds());
    expect(err.code).toBe('WECOM.NO_PERMISSION');
    expect(err.message).toContain('通讯录同步');
    expect((err as WecomApiError).errcode).toBe(48002);
  });

  it('re-reads one person and one department; removed ones are undefined, disabled ones say so', async () => {
    const source = new WecomDirectorySource(client());
    const { users } = await state();
    const disabled = users.find((u) => u.status === 2)!;
    expect((await source.getPerson(disabled.userid))?.status).toBe('disabled');

    const victim = users.find((u) => u.status === 1)!;
    expect((await control('DELETE', `/__sim/users/${victim.userid}`)).status).toBe(200);
    expect(await source.getPerson(victim.userid)).toBeUndefined();

    const made = await control<{ department: { id: number } }>('POST', '/__sim/departments', { name: '临时项目组', parentid: 1 });
    const id = String(made.json.department.id);
    expect(await source.getDepartment(id)).toMatchObject({ id, name: '临时项目组', parentId: '1' });
    await control('DELETE', `/__sim/departments/${id}`);
    expect(await source.getDepartment(id)).toBeUndefined();
  });
});

describe('the 2022 restrictions and the fallback between secrets (wecom.md §4)', () => {
  const sortedIds = (xs: ReadonlyArray<{ id: string }>) => xs.map((x) => x.id).sort();

  it('with the contact secret\'s IP added after 2022-08-15, the snapshot and callback re-reads still read every member', async () => {
    const seeded = await state();
    await control('POST', '/__sim/faults', { contactIpAfter2022: true });
    // The rule is real in the simulator: the contact secret may no longer call user/get.
    const barred = await failure(client({ secretValues: { contactSecret: CONTACT_SECRET } }).getUser(seeded.users[0]!.userid));
    expect((barred as WecomApiError).errcode).toBe(60020);

    const source = new WecomDirectorySource(client());
    const snap = await source.fullSnapshot();
    expect(snap.complete).toBe(true);
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    expect(sortedIds(snap.departments)).toEqual(seeded.departments.map((d) => String(d.id)).sort());
    // A callback re-read of one member.
    const someone = seeded.users.find((u) => u.status === 1)!;
    expect(await source.getPerson(someone.userid)).toMatchObject({ id: someone.userid, displayName: someone.name });

    const s = await state();
    expect(s.calls['user/list_id']).toBeGreaterThan(0);
    // Only the probe above was refused: the source itself never asked the contact secret for details.
    expect(s.errors['60020']).toBe(1);
  });

  it('falls back to the contact secret for members outside the app\'s visible range, and stays complete', async () => {
    const seeded = await state();
    const [visibleRoot] = seeded.departments.filter((d) => d.parentid === 1);
    await control('POST', '/__sim/faults', { appVisibleDepartments: [visibleRoot!.id] });
    const snap = await new WecomDirectorySource(client()).fullSnapshot();
    expect(snap.complete).toBe(true);
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    const s = await state();
    // Departments outside the range were refused to the app (60011), then read with the contact secret.
    expect(s.errors['60011']).toBeGreaterThan(0);
    expect(s.calls['user/get']).toBeUndefined();
  });

  it('fails the snapshot, naming the visible range and both refusals, when neither secret may read a member', async () => {
    const seeded = await state();
    const [visibleRoot] = seeded.departments.filter((d) => d.parentid === 1);
    await control('POST', '/__sim/faults', { contactIpAfter2022: true, appVisibleDepartments: [visibleRoot!.id] });
    // One call at a time, so no call is still in flight when the snapshot gives up.
    const err = await failure(new WecomDirectorySource(client(), { concurrency: 1 }).fullSnapshot());
    expect(err.code).toBe('WECOM.NO_PERMISSION');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('可见范围');
    expect(err.message).toContain('errcode 60011');
    expect(err.message).toContain('errcode 60020');
    // The members the app cannot see were tried one by one before giving up (never a partial snapshot).
    expect((await state()).calls['user/get']).toBeGreaterThan(0);
  });

  it('remembers a secret refused for an API and asks the other one first next time', async () => {
    const logger = createMemoryLogger();
    const c = client({ logger });
    const [a, b, d] = (await state()).users;
    // The app's trusted IPs miss us for user/get (once is enough to be remembered).
    await control('POST', '/__sim/faults', { failNext: { errcode: 60020, count: 1, api: 'user/get' } });
    expect((await c.getUser(a!.userid))?.userid).toBe(a!.userid);
    expect((await c.getUser(b!.userid))?.userid).toBe(b!.userid);
    expect((await c.getUser(d!.userid))?.userid).toBe(d!.userid);
    const s = await state();
    // 1 refused (app) + 1 fallback (contact), then the contact secret first: 2 more calls, not 4.
    expect(s.calls['user/get']).toBe(4);
    expect(s.tokensIssued).toEqual({ contact: 1, app: 1 });
    expect(logger.lines.filter((l) => l.msg === 'wecom refused this API for one secret; reading with the other one')).toEqual([
      expect.objectContaining({ api: 'user/get', refusedKey: 'app', errcode: 60020, nextKey: 'contact' }),
    ]);
  });

  it('with only the contact secret configured, reads details with it (no app secret to try)', async () => {
    const seeded = await state();
    const snap = await new WecomDirectorySource(client({ secretValues: { contactSecret: CONTACT_SECRET } })).fullSnapshot();
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    expect((await state()).tokensIssued).toEqual({ contact: 1, app: 0 });
  });
});

describe('errors', () => {
  it('retries 45009 with growing backoff, then succeeds', async () => {
    const delays: number[] = [];
    const c = client({ retryBaseDelayMs: 100, retryMaxDelayMs: 10_000, random: () => 0.5, sleep: async (ms) => void delays.push(ms) });
    const [u] = (await state()).users;
    await control('POST', '/__sim/faults', { rateLimitNext: 2 });
    expect((await c.getUser(u!.userid))?.userid).toBe(u!.userid);
    expect(delays).toEqual([50, 100]);
    expect((await state()).errors['45009']).toBe(2);
  });

  it('reports 60020 as a non-retryable error naming the IP and the console page, never the token', async () => {
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      seen.push(String(input));
      return realFetch(input, init);
    });
    const c = client();
    await c.listDepartmentIds();
    await control('POST', '/__sim/faults', { ipNotWhitelisted: true });
    const err = await failure(c.getUser('someone'));
    const token = seen.map((u) => new URL(u).searchParams.get('access_token')).find(Boolean)!;
    expect(token.length).toBeGreaterThan(20);

    expect(err.code).toBe('WECOM.IP_NOT_WHITELISTED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("add the bridge's egress IP 127.0.0.1 to the trusted IPs");
    // The app secret is asked first (its console page), then the contact secret, refused too.
    expect(err.message).toContain('应用管理');
    expect(err.message).toContain('通讯录同步');
    expect(err.message).toContain('errcode 60020');
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(CONTACT_SECRET);
    expect(err.message).not.toContain(APP_SECRET);
    expect((await state()).calls['user/get']).toBe(2);
  });
});

describe('single sign-on', () => {
  it('turns a code into the userid once; a non-member is refused', async () => {
    const c = client();
    const u = (await state()).users[4]!;
    const { json } = await control<{ code: string }>('POST', '/__sim/auth-code', { userId: u.userid });
    expect(await c.getUserIdByCode(json.code)).toEqual({ userId: u.userid, userTicket: undefined });
    const again = await failure(c.getUserIdByCode(json.code));
    expect(again).toBeInstanceOf(AuthError);
    expect(again.code).toBe('SSO.INVALID_CODE');

    const outsider = await control<{ code: string }>('POST', '/__sim/auth-code', { openId: 'oOutsider123' });
    const err = await failure(c.getUserIdByCode(outsider.json.code));
    expect(err.code).toBe('SSO.NOT_A_MEMBER');
    expect(err.status).toBe(403);
  });

  it('completes the in-client OAuth round trip (#wechat_redirect URL, code and state back, userid)', async () => {
    const c = client();
    const u = (await state()).users[9]!;
    const oauthUrl = c.buildOAuthUrl({ redirectUri: 'http://127.0.0.1:9/sso/acme-wc/wecom', state: 'abc123' });
    expect(oauthUrl).toBe(
      `${tenant.wecom!.oauthBaseUrl}/connect/oauth2/authorize?appid=wwacmecorp000001&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fsso%2Facme-wc%2Fwecom&response_type=code&scope=snsapi_base&state=abc123&agentid=1000002#wechat_redirect`,
    );
    const page = await fetch(oauthUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(u.name);

    const chosen = await fetch(`${oauthUrl.replace('#wechat_redirect', '')}&userid=${u.userid}`, { redirect: 'manual' });
    expect(chosen.status).toBe(302);
    const back = new URL(chosen.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:9/sso/acme-wc/wecom');
    expect(back.searchParams.get('state')).toBe('abc123');
    expect((await c.getUserIdByCode(back.searchParams.get('code')!)).userId).toBe(u.userid);
  });

  it('completes the PC login round trip (wwlogin/sso/login)', async () => {
    const c = client();
    const u = (await state()).users[11]!;
    const loginUrl = c.buildPcLoginUrl({ redirectUri: 'http://127.0.0.1:9/sso/acme-wc/wecom-pc', state: 'pc42', lang: 'zh' });
    const parsed = new URL(loginUrl);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${tenant.wecom!.loginBaseUrl}/wwlogin/sso/login`);
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      login_type: 'CorpApp',
      appid: 'wwacmecorp000001',
      agentid: '1000002',
      redirect_uri: 'http://127.0.0.1:9/sso/acme-wc/wecom-pc',
      state: 'pc42',
      lang: 'zh',
    });
    const chosen = await fetch(`${loginUrl}&userid=${u.userid}`, { redirect: 'manual' });
    expect(chosen.status).toBe(302);
    const back = new URL(chosen.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('pc42');
    expect((await c.getUserIdByCode(back.searchParams.get('code')!)).userId).toBe(u.userid);
  });
});

describe('app messages', () => {
  it('sends a text card the simulator records, returns invalid users, and dedupes a repeat', async () => {
    const c = client();
    const [a] = (await state()).users;
    const input = { userIds: [a!.userid, 'ghost.user'], title: '新邮件: 季度报告', description: '<div class="gray">张伟</div> 季度报告', url: 'http://127.0.0.1:9/sso/acme-wc?mid=42', buttonText: '打开' };
    const r = await c.sendTextCard(input);
    expect(r.invalidUsers).toEqual(['ghost.user']);
    expect(r.msgId).toBeTruthy();

    const { json } = await control<{ messages: SimAppMessage[] }>('GET', '/__sim/messages');
    const m = json.messages[0]!;
    expect(m.msgtype).toBe('textcard');
    expect(m.agentId).toBe(1000002);
    expect(m.delivered).toEqual([a!.userid]);
    expect(m.payload).toEqual({ title: input.title, description: input.description, url: input.url, btntxt: '打开' });

    await c.sendTextCard(input);
    const second = (await control<{ messages: SimAppMessage[] }>('GET', '/__sim/messages')).json.messages[1]!;
    expect(second.delivered).toEqual([]);
    expect(second.duplicate).toEqual([a!.userid]);
  });

  it('reports all-invalid recipients (81013) as a non-retryable error', async () => {
    const err = await failure(client().sendTextCard({ userIds: ['nobody1', 'nobody2'], title: 't', description: 'd', url: 'http://127.0.0.1:9/x' }));
    expect(err.code).toBe('WECOM.NO_VALID_RECIPIENTS');
    expect(err.retryable).toBe(false);
  });
});

describe('simulator control API', () => {
  it('refuses a member in a department that does not exist, and changes nothing', async () => {
    const before = await state();
    const res = await control<{ error: string }>('POST', '/__sim/users', { userid: 'newbie', name: '新人', department: [999] });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('999');
    expect((await state()).users).toEqual(before.users);
  });

  it('adds a member the source then reads, and keeps the corp in dataDir across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wc-sim-'));
    try {
      const creds = { [baseTenant.id]: { contactSecret: CONTACT_SECRET, appSecret: APP_SECRET } };
      // An app created before 2022-06-20 (restrictAppFields false): user/get still returns the email.
      const first = await startWecomSimulator({ tenants: [baseTenant], credentials: creds, dataDir: dir, restrictAppFields: false });
      const res = await fetch(`${first.url}/__sim/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userid: 'NewBie', name: '新同事', department: [3], email: 'newbie@acme-wc.example.com', jobNumber: 'WC9999' }),
      });
      expect(res.status).toBe(201);
      const person = await new WecomDirectorySource(
        new WecomClient({ tenantId: baseTenant.id, config: pointWecomAt(baseTenant, first.url).wecom!, secrets: async () => creds[baseTenant.id]! }),
      ).getPerson('newbie');
      expect(person).toMatchObject({ id: 'newbie', displayName: '新同事', email: 'newbie@acme-wc.example.com', jobNumber: 'WC9999', departmentIds: ['3'], mainDepartmentId: '3' });
      await first.stop();

      const second = await startWecomSimulator({ tenants: [baseTenant], credentials: creds, dataDir: dir });
      try {
        expect(second.state().users.find((u) => u.userid === 'newbie')?.name).toBe('新同事');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
