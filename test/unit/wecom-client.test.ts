/**
 * WeCom adapter pieces that need no network: errcode classification, admin-facing
 * messages, URL building, field mapping and message validation.
 */
import { describe, expect, it } from 'vitest';
import { WecomClient, truncateUtf8 } from '../../shared/adapters/wecom/wecom.client';
import { WecomApiError, classifyWecomErrcode, ipFromWecomErrmsg, safeWecomErrmsg } from '../../shared/adapters/wecom/wecom.errors';
import { toDepartment, toPerson, userSchema } from '../../shared/adapters/wecom/wecom.schemas';

const config = {
  corpId: 'ww1436e0e65a779aee',
  agentId: '1000002',
  apiBaseUrl: 'https://qyapi.weixin.qq.com/cgi-bin',
  oauthBaseUrl: 'https://open.weixin.qq.com',
  loginBaseUrl: 'https://login.work.weixin.qq.com',
  requestsPerSecond: 20,
};
// No network in this file: any request would fail (nothing listens on port 1).
const client = new WecomClient({ tenantId: 't', config: { ...config, apiBaseUrl: 'http://127.0.0.1:1/cgi-bin' }, secrets: async () => ({ appSecret: 'x' }), maxRetries: 0 });
const urls = new WecomClient({ tenantId: 't', config, secrets: async () => ({}) });

describe('errcodes', () => {
  it('classifies the codes of reference §4', () => {
    const table: Array<[number, string]> = [
      [45009, 'throttled'],
      [45033, 'throttled'],
      [-1, 'server'],
      [40014, 'tokenInvalid'],
      [42001, 'tokenInvalid'],
      [40001, 'credentials'],
      [40013, 'credentials'],
      [60020, 'ipNotWhitelisted'],
      [60011, 'permission'],
      [48002, 'permission'],
      [60111, 'notFound'],
      [60123, 'notFound'],
      [40029, 'invalidCode'],
      [81013, 'noRecipients'],
      [301002, 'misconfigured'],
      [99999, 'rejected'],
    ];
    for (const [code, kind] of table) expect([code, classifyWecomErrcode(code)]).toEqual([code, kind]);
  });

  it('points the admin at the trusted-IP page of the secret that was refused', () => {
    const ids = { tenantId: 'acme', corpId: 'wwx', api: 'user/get' };
    const errmsg = 'not allow to access from your ip, hint: [1599311894_80_c1], from ip: 115.171.167.10, more info at https://open.work.weixin.qq.com/devtool/query?e=60020';
    const contact = new WecomApiError({ ...ids, kind: 'ipNotWhitelisted', errcode: 60020, errmsg, secretKind: 'contact' });
    expect(contact.message).toContain("add the bridge's egress IP 115.171.167.10 to the trusted IPs");
    expect(contact.message).toContain('管理工具 > 通讯录同步');
    expect(contact.message).toContain('2022-08-15');
    expect(contact.retryable).toBe(false);
    const app = new WecomApiError({ ...ids, kind: 'ipNotWhitelisted', errcode: 60020, errmsg, secretKind: 'app' });
    expect(app.message).toContain('应用管理');
    expect(ipFromWecomErrmsg(errmsg)).toBe('115.171.167.10');
  });

  it('retries only throttling and system trouble, and keeps tokens out of messages', () => {
    const ids = { tenantId: 't', corpId: 'c', api: 'a' };
    expect(new WecomApiError({ ...ids, kind: 'throttled' }).retryable).toBe(true);
    expect(new WecomApiError({ ...ids, kind: 'server' }).retryable).toBe(true);
    expect(new WecomApiError({ ...ids, kind: 'permission' }).retryable).toBe(false);
    expect(safeWecomErrmsg('x access_token=TOKEN123&corpsecret=S3')).toBe('x access_token=[redacted]&corpsecret=[redacted]');
  });
});

describe('OAuth and PC login URLs (reference §5)', () => {
  it('builds the in-client OAuth URL in the documented parameter order, ending in #wechat_redirect', () => {
    expect(urls.buildOAuthUrl({ redirectUri: 'https://mail-bridge.acme.com/sso/acme/wecom?x=1&y=2', state: 'S1' })).toBe(
      'https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww1436e0e65a779aee&redirect_uri=https%3A%2F%2Fmail-bridge.acme.com%2Fsso%2Facme%2Fwecom%3Fx%3D1%26y%3D2&response_type=code&scope=snsapi_base&state=S1&agentid=1000002#wechat_redirect',
    );
    expect(urls.buildOAuthUrl({ redirectUri: 'https://a.example', state: 's', scope: 'snsapi_privateinfo' })).toContain('scope=snsapi_privateinfo');
  });

  it('builds the PC login URL', () => {
    expect(urls.buildPcLoginUrl({ redirectUri: 'https://a.example/cb', state: 'abc', lang: 'en' })).toBe(
      'https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=ww1436e0e65a779aee&agentid=1000002&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=abc&lang=en',
    );
  });

  it('refuses a state outside [a-zA-Z0-9]{1,128} and a non-http redirect', () => {
    expect(() => urls.buildOAuthUrl({ redirectUri: 'https://a.example', state: 'a-b' })).toThrow(/state/);
    expect(() => urls.buildOAuthUrl({ redirectUri: 'https://a.example', state: 'x'.repeat(129) })).toThrow(/state/);
    expect(() => urls.buildPcLoginUrl({ redirectUri: 'javascript:alert(1)', state: 'a' })).toThrow(/redirectUri/);
  });
});

describe('mapping to the neutral model', () => {
  const raw = {
    userid: 'zhangsan',
    name: '张三',
    department: [3, 5],
    main_department: 5,
    email: 'zhangsan@acme.com',
    biz_mail: 'zhangsan@acme.wecom.work',
    mobile: '13900000000',
    status: 1,
    extattr: { attrs: [{ type: 0, name: '爱好', text: { value: '跑步' } }, { type: 0, name: '工号', text: { value: 'A007' } }] },
  };

  it('uses email (never biz_mail), the 工号 extattr and main_department', () => {
    expect(toPerson(userSchema.parse(raw))).toEqual({
      id: 'zhangsan',
      loginName: 'zhangsan',
      displayName: '张三',
      email: 'zhangsan@acme.com',
      mobile: '13900000000',
      jobNumber: 'A007',
      departmentIds: ['3', '5'],
      mainDepartmentId: '5',
      status: 'active',
    });
    expect(toPerson(userSchema.parse({ ...raw, email: '' })).email).toBeUndefined();
  });

  it('takes the title from position, the manager from direct_leader and the display order in the main department (descending in WeCom)', () => {
    const p = toPerson(userSchema.parse({ ...raw, position: '经理', direct_leader: ['lisi', 'wangwu'], order: [10, 40] }));
    expect(p).toMatchObject({ title: '经理', managerId: 'lisi', order: -40 });
    expect(toPerson(userSchema.parse(raw)).order).toBeUndefined();
    expect(toDepartment({ id: 5, parentid: 1, order: 300, name: '销售部' })).toMatchObject({ order: -300, displayOrder: -300 });
  });

  it('maps status 2 to disabled, 5 to left and 4 (not activated) to active', () => {
    expect(toPerson(userSchema.parse({ ...raw, status: 2 })).status).toBe('disabled');
    expect(toPerson(userSchema.parse({ ...raw, status: 5 })).status).toBe('left');
    expect(toPerson(userSchema.parse({ ...raw, status: 4 })).status).toBe('active');
  });

  it('copes with what an app secret gets after 2022-06-20 (no email, mobile or name fields)', () => {
    const p = toPerson(userSchema.parse({ userid: 'lisi', department: [1] }));
    expect(p).toMatchObject({ id: 'lisi', displayName: 'lisi', email: undefined, mobile: undefined, mainDepartmentId: '1' });
  });

  it('reverses WeCom order (larger first) and gives the root no parent', () => {
    expect(toDepartment({ id: 1, parentid: 0, order: 100, name: 'Acme' })).toMatchObject({ id: '1', parentId: undefined });
    const hi = toDepartment({ id: 2, parentid: 1, order: 99_000, name: 'a' });
    const lo = toDepartment({ id: 3, parentid: 1, order: 10, name: 'b' });
    expect(hi.order).toBeLessThan(lo.order);
  });
});

describe('text cards', () => {
  it('cuts long titles and descriptions to the byte limits on character boundaries', () => {
    const t = truncateUtf8('新邮件'.repeat(100), 128);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(128);
    expect(t.endsWith('…')).toBe(true);
    expect(truncateUtf8('short', 128)).toBe('short');
  });

  it('refuses bad input before any request', async () => {
    const base = { userIds: ['a'], title: 't', description: 'd', url: 'https://x.example/y' };
    await expect(client.sendTextCard({ ...base, userIds: [] })).rejects.toMatchObject({ code: 'WECOM.INVALID_ARGUMENT' });
    await expect(client.sendTextCard({ ...base, userIds: ['a|b'] })).rejects.toMatchObject({ code: 'WECOM.INVALID_ARGUMENT' });
    await expect(client.sendTextCard({ ...base, userIds: ['@all'] })).rejects.toMatchObject({ code: 'WECOM.INVALID_ARGUMENT' });
    await expect(client.sendTextCard({ ...base, buttonText: '打开这封邮件' })).rejects.toMatchObject({ code: 'WECOM.INVALID_ARGUMENT' });
    await expect(client.sendTextCard({ ...base, url: 'ftp://x' })).rejects.toMatchObject({ code: 'WECOM.INVALID_ARGUMENT' });
  });

  it('refuses a malformed SSO code without calling WeCom', async () => {
    await expect(client.getUserIdByCode('')).rejects.toMatchObject({ code: 'SSO.INVALID_CODE', status: 401 });
    await expect(client.getUserIdByCode('a b')).rejects.toMatchObject({ code: 'SSO.INVALID_CODE' });
  });
});
