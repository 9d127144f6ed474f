/**
 * The DingTalk client and directory source against the DingTalk simulator over real HTTP
 * on loopback: tokens, paging, errcodes, SSO and work notifications.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DingtalkClient, createDingtalkClient, type DingtalkClientOptions } from '../../shared/adapters/dingtalk/dingtalk.client';
import { DingtalkDirectorySource } from '../../shared/adapters/dingtalk/dingtalk.directory-source';
import { DingtalkApiError } from '../../shared/adapters/dingtalk/dingtalk.errors';
import { actionCardMessage } from '../../shared/adapters/dingtalk/dingtalk.messages';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { AppError, AuthError } from '../../shared/errors/app-error';
import { pointDingtalkAt, startDingtalkSimulator, type DtSimTenantView, type RunningDingtalkSimulator, type SimWorkMessage } from '../../local/simulators/dingtalk';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { provisionSandboxSecrets } from '../../local/sandbox';
import { rejectionOf, simControl } from './vendor-sim-helpers';

const APP_SECRET = 'dt-app-secret-for-tests-0001';

/** A tenant as in config/tenants.local.json: oapi at the root, new API under /api, login under /login. */
const baseTenant: TenantConfig = tenantSchema.parse({
  id: 'acme-dt',
  displayName: 'Acme 钉钉 (test)',
  netease: { domain: 'acme-dt.example.com', product: 'acme_dt', region: 'hz' },
  dingtalk: {
    corpId: 'dingacmecorp0001',
    appKey: 'dingacmeappkey0001',
    agentId: '2000001',
    apiBaseUrl: 'http://127.0.0.1:1',
    newApiBaseUrl: 'http://127.0.0.1:1/api',
    loginBaseUrl: 'http://127.0.0.1:1/login',
    requestsPerSecond: 20,
  },
});

let sim: RunningDingtalkSimulator;
let tenant: TenantConfig;
const secrets = new MemorySecrets();

function client(options: Partial<DingtalkClientOptions> = {}): DingtalkClient {
  return new DingtalkClient({
    tenantId: tenant.id,
    config: tenant.dingtalk!,
    appSecret: async () => APP_SECRET,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 50,
    ...options,
  });
}

const control = simControl(() => sim.url);

const state = async (): Promise<DtSimTenantView> => (await control<DtSimTenantView>('GET', '/__sim/state')).json;

const failure = (p: Promise<unknown>): Promise<AppError> => rejectionOf(p, AppError);

beforeAll(async () => {
  secrets.values.set(secretName('test', baseTenant.id, 'dingtalk'), { appSecret: APP_SECRET });
  sim = await startDingtalkSimulator({ tenants: [baseTenant], secrets, stage: 'test', rateLimit: { limit: 1000, windowMs: 1000 } });
  tenant = pointDingtalkAt(baseTenant, sim.url);
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

describe('access token', () => {
  it('fetches one token for many calls, and concurrent first callers share that one fetch', async () => {
    const c = client();
    const { users } = await state();
    const ids = users.slice(0, 8).map((u) => u.userid);
    const got = await Promise.all(ids.map((id) => c.getUser(id)));
    expect(got.map((u) => u?.userid)).toEqual(ids);
    await c.listSubDepartments(1);
    const s = await state();
    expect(s.calls.gettoken).toBe(1);
    expect(s.calls['topapi/v2/user/get']).toBe(8);
  });

  it('refetches a token that expired early, once, and the call succeeds', async () => {
    const c = client();
    const [first, second] = (await state()).users;
    await c.getUser(first!.userid);
    await control('POST', '/__sim/faults', { expireTokens: true });
    const u = await c.getUser(second!.userid);
    expect(u?.name).toBe(second!.name);
    const s = await state();
    expect(s.calls.gettoken).toBe(2);
    expect(s.tokensIssued).toBe(2);
    expect(s.errors['40014']).toBe(1);
  });

  it('refetches after the token really expires on the DingTalk side (simulator clock)', async () => {
    let t = Date.now();
    const s = await startDingtalkSimulator({ tenants: [baseTenant], credentials: { [baseTenant.id]: { appSecret: APP_SECRET } }, now: () => t, tokenTtlSeconds: 60 });
    try {
      const c = new DingtalkClient({ tenantId: baseTenant.id, config: pointDingtalkAt(baseTenant, s.url).dingtalk!, appSecret: async () => APP_SECRET });
      await c.listSubDepartments(1);
      t += 61_000; // the client's own clock has not moved: it still trusts its cached token
      expect((await c.listSubDepartments(1)).length).toBe(6);
      expect(s.state().tokensIssued).toBe(2);
      expect(s.state().errors['40014']).toBe(1);
    } finally {
      await s.stop();
    }
  });

  it('gives up with a non-retryable error when even a fresh token is refused (no loop)', async () => {
    const c = client();
    await control('POST', '/__sim/faults', { rejectTokens: true });
    const err = await failure(c.getUser('anyone'));
    expect(err.code).toBe('DINGTALK.TOKEN_INVALID');
    expect(err.retryable).toBe(false);
    const s = await state();
    expect(s.calls.gettoken).toBe(2);
    expect(s.calls['topapi/v2/user/get']).toBe(2);
  });

  it('reads the app secret from the SecretStore and reports wrong credentials without echoing them', async () => {
    const good = createDingtalkClient(tenant, { secrets, stage: 'test', retryBaseDelayMs: 1 });
    expect((await good.listSubDepartments(1)).length).toBeGreaterThan(0);

    const wrong = new MemorySecrets();
    wrong.values.set(secretName('test', tenant.id, 'dingtalk'), { appSecret: 'not-the-secret-xyz' });
    const bad = createDingtalkClient(tenant, { secrets: wrong, stage: 'test', retryBaseDelayMs: 1 });
    const err = await failure(bad.listSubDepartments(1));
    expect(err.code).toBe('DINGTALK.CREDENTIALS_REJECTED');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('not-the-secret-xyz');

    const missing = createDingtalkClient(tenant, { secrets: new MemorySecrets(), stage: 'test' });
    const err2 = await failure(missing.listSubDepartments(1));
    expect(err2.code).toBe('DINGTALK.SECRET_MISSING');
    expect(err2.message).toContain(secretName('test', tenant.id, 'dingtalk'));
  });
});

describe('directory source', () => {
  it('takes a complete snapshot equal to the seeded organisation', async () => {
    const seeded = await state();
    expect(seeded.departments.length).toBe(9);
    expect(seeded.users.length).toBeGreaterThanOrEqual(30);
    const snap = await new DingtalkDirectorySource(client()).fullSnapshot();

    expect(snap.complete).toBe(true);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(snap.departments.map((d) => ({ id: d.id, name: d.name, parentId: d.parentId })).sort(byId)).toEqual(
      seeded.departments.map((d) => ({ id: String(d.dept_id), name: d.name, parentId: d.parent_id === undefined ? undefined : String(d.parent_id) })).sort(byId),
    );
    expect(snap.people.map((p) => ({ id: p.id, name: p.displayName, email: p.email, depts: p.departmentIds, mobile: p.mobile, job: p.jobNumber })).sort(byId)).toEqual(
      seeded.users
        .map((u) => ({ id: u.userid, name: u.name, email: u.org_email, depts: u.dept_id_list.map(String), mobile: u.mobile, job: u.job_number }))
        .sort(byId),
    );
    // Every address is on the tenant's NetEase domain (org_email wins over a personal email).
    expect(snap.people.every((p) => p.email?.endsWith('@acme-dt.example.com'))).toBe(true);
    expect(snap.people.every((p) => p.status === 'active')).toBe(true);
  });

  it('pages members with the cursor when the page size is small', async () => {
    const seeded = await state();
    const snap = await new DingtalkDirectorySource(client(), { pageSize: 2 }).fullSnapshot();
    expect(snap.people.map((p) => p.id).sort()).toEqual(seeded.users.map((u) => u.userid).sort());
    // One call per page; a department with no direct members still takes one call.
    const expectedCalls = seeded.departments.reduce((n, d) => n + Math.max(1, Math.ceil(seeded.users.filter((u) => u.dept_id_list.includes(d.dept_id)).length / 2)), 0);
    expect((await state()).calls['topapi/v2/user/list']).toBe(expectedCalls);
  });

  it('re-reads one person and one department, and reports removed ones as undefined', async () => {
    const source = new DingtalkDirectorySource(client());
    const { users } = await state();
    const victim = users[3]!;
    expect((await source.getPerson(victim.userid))?.displayName).toBe(victim.name);

    expect((await control('DELETE', `/__sim/users/${victim.userid}`)).status).toBe(200);
    expect(await source.getPerson(victim.userid)).toBeUndefined();

    const created = await control<{ department: { dept_id: number } }>('POST', '/__sim/departments', { name: '临时项目组', parent_id: 1 });
    const deptId = String(created.json.department.dept_id);
    expect(await source.getDepartment(deptId)).toMatchObject({ id: deptId, name: '临时项目组', parentId: '1' });
    expect((await control('DELETE', `/__sim/departments/${deptId}`)).status).toBe(200);
    expect(await source.getDepartment(deptId)).toBeUndefined();
    expect(await source.getDepartment('not-a-number')).toBeUndefined();
  });

  it('fails the whole snapshot (never a partial one) when a call keeps failing', async () => {
    await control('POST', '/__sim/faults', { failNext: { errcode: 60011, count: 1, api: 'topapi/v2/user/list' } });
    const err = await failure(new DingtalkDirectorySource(client()).fullSnapshot());
    expect(err.code).toBe('DINGTALK.NO_PERMISSION');
    expect(err.message).toContain('权限管理');
  });
});

describe('errors', () => {
  it('retries 90018 with growing backoff, then succeeds', async () => {
    const delays: number[] = [];
    const c = client({ retryBaseDelayMs: 100, retryMaxDelayMs: 10_000, random: () => 0.5, sleep: async (ms) => void delays.push(ms) });
    const [u] = (await state()).users;
    // Scoped to user/get: a straggling call of an earlier test (under load) must not take one of the two.
    await control('POST', '/__sim/faults', { failNext: { errcode: 90018, count: 2, api: 'topapi/v2/user/get' } });
    expect((await c.getUser(u!.userid))?.userid).toBe(u!.userid);
    expect(delays).toEqual([50, 100]);
    expect((await state()).errors['90018']).toBe(2);
  });

  it('stays within the real per-second window by backing off when the simulator enforces it', async () => {
    await control('POST', '/__sim/faults', { rateLimit: { limit: 5, windowMs: 1000 } });
    const c = client({ retryBaseDelayMs: 300, retryMaxDelayMs: 1500, maxRetries: 10 });
    const ids = (await state()).users.slice(0, 12).map((u) => u.userid);
    const got = await Promise.all(ids.map((id) => c.getUser(id)));
    expect(got.every((u) => u !== undefined)).toBe(true);
    expect((await state()).errors['90018']).toBeGreaterThan(0);
  });

  it('reports 60020 as a non-retryable error an admin can act on, without the token', async () => {
    const c = client();
    await c.listSubDepartments(1);
    // DingTalk returns the same token within its lifetime, so this is the client's token.
    const res = await fetch(`${tenant.dingtalk!.apiBaseUrl}/gettoken?appkey=${tenant.dingtalk!.appKey}&appsecret=${APP_SECRET}`);
    const token = ((await res.json()) as { access_token: string }).access_token;
    await control('POST', '/__sim/faults', { ipNotWhitelisted: true });

    const err = await failure(c.getUser('someone'));
    expect(err).toBeInstanceOf(DingtalkApiError);
    expect(err.code).toBe('DINGTALK.IP_NOT_WHITELISTED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("add the bridge's egress IP 127.0.0.1 to the app's whitelist in the DingTalk developer console");
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(APP_SECRET);
    expect((await state()).calls['topapi/v2/user/get']).toBe(1); // not retried
  });
});

describe('single sign-on', () => {
  it('turns a workbench auth code into the userid, once', async () => {
    const c = client();
    const u = (await state()).users[5]!;
    const { json } = await control<{ code: string }>('POST', '/__sim/auth-code', { userId: u.userid });
    expect(await c.getUserIdByAuthCode(json.code)).toMatchObject({ userId: u.userid, unionId: u.unionid });

    const again = await failure(c.getUserIdByAuthCode(json.code));
    expect(again).toBeInstanceOf(AuthError);
    expect(again.code).toBe('SSO.INVALID_CODE');
    expect(again.status).toBe(401);

    // An OAuth (QR) authCode is not a workbench code.
    const oauth = await control<{ code: string }>('POST', '/__sim/auth-code', { userId: u.userid, kind: 'oauth' });
    expect((await failure(c.getUserIdByAuthCode(oauth.json.code))).code).toBe('SSO.INVALID_CODE');
  });

  it('completes the QR / PC OAuth round trip: login page, redirect with authCode and state, userid', async () => {
    const c = client();
    const u = (await state()).users[7]!;
    const loginUrl = c.buildLoginUrl({ redirectUri: 'http://127.0.0.1:9/sso/acme-dt/dingtalk/callback', state: 'st8te-123' });
    expect(loginUrl.startsWith(`${tenant.dingtalk!.loginBaseUrl}/oauth2/auth?`)).toBe(true);

    const page = await fetch(loginUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(u.name);
    expect(html).toContain('name="state" value="st8te-123"');

    const chosen = await fetch(`${loginUrl}&userid=${encodeURIComponent(u.userid)}`, { redirect: 'manual' });
    expect(chosen.status).toBe(302);
    const back = new URL(chosen.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:9/sso/acme-dt/dingtalk/callback');
    expect(back.searchParams.get('state')).toBe('st8te-123');
    const authCode = back.searchParams.get('authCode')!;

    expect(await c.getUserIdByOAuthCode(authCode)).toEqual({ userId: u.userid, unionId: u.unionid });
    expect((await failure(c.getUserIdByOAuthCode(authCode))).code).toBe('SSO.INVALID_CODE');
  });

  it('refuses a DingTalk account that is not a member of the organisation (unknown unionId)', async () => {
    const c = client();
    const u = (await state()).users[2]!;
    const { json } = await control<{ code: string }>('POST', '/__sim/auth-code', { userId: u.userid, kind: 'oauth' });
    // The account signs in fine, but DingTalk does not know its unionId in this org.
    await control('POST', '/__sim/faults', { failNext: { errcode: 60121, count: 1, api: 'topapi/user/getbyunionid' } });
    const err = await failure(c.getUserIdByOAuthCode(json.code));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe('SSO.NOT_A_MEMBER');
    expect(err.status).toBe(403);
  });

  it('escapes names on the simulated login page', async () => {
    await control('POST', '/__sim/users', { userid: 'xss01', name: '<script>alert(1)</script>', dept_id_list: [1] });
    const html = await (await fetch(client().buildLoginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's' }))).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('work notifications', () => {
  it('sends an action card the simulator records, and DingTalk filters the same content the same day', async () => {
    const c = client();
    const [a, b] = (await state()).users;
    const msg = actionCardMessage({ title: '新邮件: 季度报告', markdown: '**张伟** 发来: 季度报告', buttonTitle: '打开邮件', url: 'http://127.0.0.1:9/sso/acme-dt?mid=42' });
    const { taskId } = await c.sendWorkNotification({ userIds: [a!.userid, b!.userid], msg });
    expect(taskId).toMatch(/^\d+$/);

    const { json } = await control<{ messages: SimWorkMessage[] }>('GET', '/__sim/messages');
    expect(json.messages).toHaveLength(1);
    const m = json.messages[0]!;
    expect(String(m.taskId)).toBe(taskId);
    expect(String(m.agentId)).toBe(tenant.dingtalk!.agentId);
    expect(m.delivered).toEqual([a!.userid, b!.userid]);
    expect(m.msg).toEqual(msg);

    await c.sendWorkNotification({ userIds: [a!.userid], msg });
    const after = (await control<{ messages: SimWorkMessage[] }>('GET', '/__sim/messages')).json.messages;
    expect(after[1]!.delivered).toEqual([]);
    expect(after[1]!.forbidden).toEqual([{ userid: a!.userid, code: 143106 }]);
  });

  it('refuses bad input before calling DingTalk', async () => {
    const c = client();
    const msg = actionCardMessage({ title: 't', markdown: 'm', buttonTitle: 'b', url: 'http://127.0.0.1:9/x' });
    await expect(c.sendWorkNotification({ userIds: [], msg })).rejects.toMatchObject({ code: 'DINGTALK.INVALID_ARGUMENT' });
    await expect(c.sendWorkNotification({ userIds: ['a,b'], msg })).rejects.toMatchObject({ code: 'DINGTALK.INVALID_ARGUMENT' });
    expect((await state()).calls['topapi/message/corpconversation/asyncsend_v2']).toBeUndefined();
  });
});

describe('simulator control API', () => {
  it('refuses a user in a department that does not exist, and changes nothing', async () => {
    const before = await state();
    const res = await control<{ error: string }>('POST', '/__sim/users', { name: '新人', dept_id_list: [999] });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('999');
    expect((await state()).users).toEqual(before.users);
    expect((await control('POST', '/__sim/users', { name: 'x', dept_id_list: [1], unknown: 1 })).status).toBe(400);
  });

  it('keeps the organisation in dataDir across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dt-sim-'));
    try {
      const first = await startDingtalkSimulator({ tenants: [baseTenant], credentials: { [baseTenant.id]: { appSecret: APP_SECRET } }, dataDir: dir });
      const res = await fetch(`${first.url}/__sim/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userid: 'newbie', name: '新同事', dept_id_list: [1], org_email: 'newbie@acme-dt.example.com' }) });
      expect(res.status).toBe(201);
      const seededIds = first.state().users.map((u) => u.userid);
      await first.stop();

      const second = await startDingtalkSimulator({ tenants: [baseTenant], credentials: { [baseTenant.id]: { appSecret: APP_SECRET } }, dataDir: dir });
      try {
        expect(second.state().users.map((u) => u.userid)).toEqual(seededIds);
        expect(second.state().users.find((u) => u.userid === 'newbie')?.name).toBe('新同事');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works with the sandbox app credentials the local stack provisions, which never overwrite existing ones', async () => {
    const store = new MemorySecrets();
    const other: TenantConfig = tenantSchema.parse({ ...baseTenant, id: 'other-dt', netease: { ...baseTenant.netease, domain: 'other.example.com' }, dingtalk: { ...baseTenant.dingtalk, appKey: 'dingotherapp' } });
    store.values.set(secretName('local', other.id, 'dingtalk'), { appSecret: 'kept-as-is', callbackToken: 'tok', callbackAesKey: 'a'.repeat(43) });
    await provisionSandboxSecrets({ tenants: [baseTenant, other], secrets: store, stage: 'local' });
    const s = await startDingtalkSimulator({ tenants: [baseTenant, other], secrets: store });
    try {
      const made = store.values.get(secretName('local', baseTenant.id, 'dingtalk'))!;
      expect(typeof made.appSecret).toBe('string');
      expect(made.callbackAesKey).toHaveLength(43);
      expect(Buffer.from(`${made.callbackAesKey as string}=`, 'base64')).toHaveLength(32);
      expect(store.values.get(secretName('local', other.id, 'dingtalk'))!.appSecret).toBe('kept-as-is');
      // The provisioned secret works end to end.
      const c = createDingtalkClient(pointDingtalkAt(baseTenant, s.url), { secrets: store, stage: 'local' });
      expect((await c.listSubDepartments(1)).length).toBeGreaterThan(0);
    } finally {
      await s.stop();
    }
  });
});
