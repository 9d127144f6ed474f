/**
 * DingTalk adapter pieces that need no network: errcode classification, error messages,
 * the token cache, field mapping, message builders and URL building.
 */
import { describe, expect, it } from 'vitest';
import { DingtalkClient } from '../../shared/adapters/dingtalk/dingtalk.client';
import {
  DingtalkApiError,
  classifyDingtalkErrcode,
  effectiveErrcode,
  ipFromErrmsg,
  safeErrmsg,
} from '../../shared/adapters/dingtalk/dingtalk.errors';
import { actionCardMessage, assertMessageSize, escapeMarkdown, markdownMessage, truncateUtf8 } from '../../shared/adapters/dingtalk/dingtalk.messages';
import { toDepartment, toPerson, userSchema } from '../../shared/adapters/dingtalk/dingtalk.schemas';
import { AccessTokenCache } from '../../shared/adapters/http/token-cache';
import { fixedClock } from '../../shared/ports/clock';

describe('errcodes', () => {
  it('classifies the codes the reference names', () => {
    expect(classifyDingtalkErrcode(90018)).toBe('throttled');
    expect(classifyDingtalkErrcode(90002)).toBe('throttled');
    expect(classifyDingtalkErrcode(-1)).toBe('server');
    expect(classifyDingtalkErrcode(60020)).toBe('ipNotWhitelisted');
    expect(classifyDingtalkErrcode(40014)).toBe('tokenInvalid');
    expect(classifyDingtalkErrcode(60121)).toBe('notFound');
    expect(classifyDingtalkErrcode(60003)).toBe('notFound');
    expect(classifyDingtalkErrcode(40078)).toBe('invalidCode');
    expect(classifyDingtalkErrcode(60011)).toBe('permission');
    expect(classifyDingtalkErrcode(90020)).toBe('quota');
    expect(classifyDingtalkErrcode(12345)).toBe('rejected');
  });

  it('reads the real code from sub_code when errcode is 88', () => {
    expect(effectiveErrcode({ errcode: 88, sub_code: '60011' })).toBe(60011);
    expect(effectiveErrcode({ errcode: 88, sub_code: 'isv.x' })).toBe(88);
    expect(effectiveErrcode({ errcode: 60020, sub_code: '1' })).toBe(60020);
  });

  it('marks only throttling and system trouble retryable', () => {
    const ids = { tenantId: 't', appKey: 'k', api: 'topapi/v2/user/get' };
    expect(new DingtalkApiError({ ...ids, kind: 'throttled', errcode: 90018 }).retryable).toBe(true);
    expect(new DingtalkApiError({ ...ids, kind: 'server', errcode: -1 }).retryable).toBe(true);
    for (const kind of ['ipNotWhitelisted', 'permission', 'credentials', 'notFound', 'tokenInvalid', 'badResponse'] as const) {
      expect(new DingtalkApiError({ ...ids, kind }).retryable).toBe(false);
    }
  });

  it('tells the admin which IP to whitelist, from the errmsg or else from configuration', () => {
    const ids = { tenantId: 'acme', appKey: 'dingkey', api: 'topapi/v2/user/list' };
    const fromMsg = new DingtalkApiError({ ...ids, kind: 'ipNotWhitelisted', errcode: 60020, errmsg: '访问ip不在白名单之中,request ip=52.80.1.2 appKey(dingkey)' });
    expect(fromMsg.code).toBe('DINGTALK.IP_NOT_WHITELISTED');
    expect(fromMsg.message).toContain("add the bridge's egress IP 52.80.1.2 to the app's whitelist in the DingTalk developer console");
    const fromConfig = new DingtalkApiError({ ...ids, kind: 'ipNotWhitelisted', errcode: 60020, errmsg: 'no ip here', egressIp: '43.1.1.1' });
    expect(fromConfig.message).toContain('egress IP 43.1.1.1');
    expect(ipFromErrmsg('request ip = 2001:db8::1 appKey(x)')).toBe('2001:db8::1');
  });

  it('never lets a token or secret from an errmsg into a message', () => {
    expect(safeErrmsg('bad url ?access_token=abc123&x=1 appsecret=zzz')).toBe('bad url ?access_token=[redacted]&x=1 appsecret=[redacted]');
    expect(safeErrmsg('ding talk error[subcode=60011,submsg=没有权限]')).toContain('subcode=60011');
    const e = new DingtalkApiError({ tenantId: 't', appKey: 'k', api: 'a', kind: 'rejected', errcode: 1, errmsg: 'x access_token=SECRET1' });
    expect(e.message).not.toContain('SECRET1');
  });
});

describe('access token cache', () => {
  it('fetches once for concurrent callers and reuses the token until shortly before expiry', async () => {
    const clock = fixedClock(1_000_000);
    let fetches = 0;
    const cache = new AccessTokenCache(async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      return { token: `t${fetches}`, expiresInSeconds: 7200 };
    }, clock);
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual(['t1', 't1', 't1']);
    expect(fetches).toBe(1);
    clock.advance((7200 - 301) * 1000);
    expect(await cache.get()).toBe('t1');
    clock.advance(2000); // inside the 5-minute margin
    expect(await cache.get()).toBe('t2');
    expect(fetches).toBe(2);
  });

  it('forgets only the token it was told is bad, and does not cache failures', async () => {
    const clock = fixedClock(0);
    let n = 0;
    let fail = true;
    const cache = new AccessTokenCache(async () => {
      if (fail) throw new Error('down');
      return { token: `t${++n}`, expiresInSeconds: 7200 };
    }, clock);
    await expect(cache.get()).rejects.toThrow('down');
    fail = false;
    expect(await cache.get()).toBe('t1');
    cache.invalidate('some-older-token');
    expect(await cache.get()).toBe('t1');
    cache.invalidate('t1');
    expect(await cache.get()).toBe('t2');
  });
});

describe('mapping to the neutral model', () => {
  const raw = {
    userid: '0123',
    unionid: 'u1',
    name: '张伟',
    mobile: '13800000000',
    job_number: '',
    email: 'zw@personal.example',
    org_email: 'wei.zhang@acme.com',
    dept_id_list: [432825033, 1],
    active: false,
    title: '',
  };

  it('prefers the org email, keeps every department and treats an un-activated member as active', () => {
    const p = toPerson(userSchema.parse(raw));
    expect(p).toEqual({
      id: '0123',
      loginName: '0123',
      displayName: '张伟',
      email: 'wei.zhang@acme.com',
      mobile: '13800000000',
      jobNumber: undefined,
      departmentIds: ['432825033', '1'],
      mainDepartmentId: '432825033',
      status: 'active',
    });
    expect(toPerson(userSchema.parse({ ...raw, org_email: '' })).email).toBe('zw@personal.example');
    // The title feeds mailbox policies; an empty one is left out.
    expect(toPerson(userSchema.parse({ ...raw, title: '经理' })).title).toBe('经理');
    expect(toPerson(userSchema.parse(raw)).title).toBeUndefined();
  });

  it('gives the root no parent', () => {
    expect(toDepartment({ dept_id: 1, name: 'Acme', parent_id: undefined })).toMatchObject({ id: '1', parentId: undefined });
    expect(toDepartment({ dept_id: 5, name: '研发', parent_id: 1, order: 3 })).toEqual({ id: '5', name: '研发', parentId: '1', order: 3, status: 'active' });
  });
});

describe('work notification messages', () => {
  it('cuts long text on a character boundary and stays within 2048 bytes', () => {
    const long = '季度报告'.repeat(400);
    const cut = truncateUtf8(long, 100);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100);
    expect(cut.endsWith('…')).toBe(true);
    const msg = actionCardMessage({ title: long, markdown: long, buttonTitle: '打开', url: 'https://bridge.example.com/sso/acme?mid=1' });
    expect(() => assertMessageSize(msg)).not.toThrow();
    expect(() => assertMessageSize(markdownMessage({ title: 't', text: 'x'.repeat(1500) + '😀'.repeat(200) }))).not.toThrow();
    expect(() => assertMessageSize({ msgtype: 'text', text: { content: 'x'.repeat(3000) } })).toThrow(/2048/);
  });

  it('refuses a URL that is not http(s) rather than sending a broken button', () => {
    expect(() => actionCardMessage({ title: 't', markdown: 'm', buttonTitle: 'b', url: 'javascript:alert(1)' })).toThrow(/http/);
  });

  it('escapes markdown in subjects', () => {
    expect(escapeMarkdown('[click](http://evil) *bold*')).toBe('\\[click\\]\\(http://evil\\) \\*bold\\*');
  });
});

describe('QR / PC login URL', () => {
  const client = new DingtalkClient({
    tenantId: 't',
    config: { corpId: 'dingcorp', appKey: 'dingappkey', agentId: '1', apiBaseUrl: 'https://oapi.dingtalk.com', newApiBaseUrl: 'https://api.dingtalk.com', loginBaseUrl: 'https://login.dingtalk.com', jsapiUrl: 'https://g.alicdn.com/dingding/dingtalk-jsapi/3.2.9/dingtalk.open.js', requestsPerSecond: 15, monthlyQuota: 10_000 },
    appSecret: async () => 's',
  });

  it('builds the login.dingtalk.com/oauth2/auth URL of reference §5', () => {
    const u = new URL(client.buildLoginUrl({ redirectUri: 'https://bridge.example.com/sso/t/dingtalk?x=1', state: 'abc-123' }));
    expect(`${u.origin}${u.pathname}`).toBe('https://login.dingtalk.com/oauth2/auth');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      redirect_uri: 'https://bridge.example.com/sso/t/dingtalk?x=1',
      response_type: 'code',
      client_id: 'dingappkey',
      scope: 'openid',
      state: 'abc-123',
      prompt: 'consent',
    });
  });

  it('refuses a bad redirect URI or state', () => {
    expect(() => client.buildLoginUrl({ redirectUri: 'javascript:x', state: 's' })).toThrow(/redirectUri/);
    expect(() => client.buildLoginUrl({ redirectUri: 'https://x', state: 'a b' })).toThrow(/state/);
  });

  it('refuses a malformed auth code without calling DingTalk', async () => {
    await expect(client.getUserIdByAuthCode('')).rejects.toMatchObject({ code: 'SSO.INVALID_CODE', status: 401 });
    await expect(client.getUserIdByAuthCode('a&b=c')).rejects.toMatchObject({ code: 'SSO.INVALID_CODE' });
  });
});
