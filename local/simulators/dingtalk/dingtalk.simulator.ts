/**
 * A DingTalk simulator for the local stack and the tests: the oapi directory, SSO and
 * work-notification endpoints, the new-API OAuth endpoints and the QR/PC sign-in page,
 * over HTTP on loopback, for every tenant whose `dingtalk` URLs point at it (reference
 * dingtalk.md §4-6). Paths are served under each tenant's configured base URL paths
 * (apiBaseUrl, newApiBaseUrl, loginBaseUrl), so `http://127.0.0.1:3102/api/v1.0/…` works
 * when newApiBaseUrl is `http://127.0.0.1:3102/api`.
 *
 * Faithful where the reference is firm: `{errcode, errmsg, result, request_id}` envelopes,
 * gettoken by appkey/appsecret returning the same token within its lifetime (§4), 40014
 * for bad or expired tokens, 60020 with `request ip=… appKey(…)`, 90018 past the per-app
 * per-API rate, cursor paging of direct members, 60121 for unknown users, 40078 for bad
 * auth codes (5 min, single use), asyncsend_v2 `{task_id}` with the daily limits of §6.
 * Choices where it is silent (readable, documented here): 60003 for an unknown department
 * (community list), 40035 for malformed parameters, new-API error bodies
 * `{code: "invalidCode" | "invalidClientSecret" | "InvalidAuthentication" |
 * "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", message}`.
 *
 * App credentials: the appSecret comes from `credentials` (tests) or from the tenant's
 * `dingtalk` secret in the SecretStore, read at each gettoken. In the local stack those
 * sandbox secrets are created before the simulators start (local/sandbox.ts).
 *
 * Each extra DingTalk channel of a tenant (`channels[]`, another org over the same mail
 * domain) is an org of its own here, named `<tenant>/<channel>` in the control API, with its
 * own people (DingTalk's own job numbers `DT…`, so none of them matches the EKP sandbox by
 * job number) and its app secret from the channel's secret (channelSecretName).
 *
 * Control and inspection API (JSON; `tenant` may be omitted when only one is served):
 *   GET    /__sim/health
 *   GET    /__sim/state?tenant=             org, call counters, faults
 *   POST   /__sim/users        {tenant?, userid?, name?, dept_id_list?, org_email?, email?, mobile?, job_number?, title?, active?, leader?}
 *   DELETE /__sim/users/:userid?tenant=
 *   POST   /__sim/departments  {tenant?, dept_id?, name?, parent_id?, order?}
 *   DELETE /__sim/departments/:id?tenant=
 *   GET    /__sim/faults?tenant=  POST /__sim/faults {tenant?, ipNotWhitelisted?, rejectTokens?, expireTokens?,
 *                                  rateLimitNext?, failNext?:{errcode,count,api?,errmsg?}, rateLimit?:{limit,windowMs}|null, latencyMs?, clear?}
 *   GET    /__sim/messages?tenant=          work notifications received
 *   POST   /__sim/reset        {tenant?}    reseed the org, forget tokens, codes, messages, faults, counters
 *   POST   /__sim/auth-code    {tenant?, userId, kind?: "h5"|"oauth"}  → {code, expiresIn}
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { channelSecretName, channelView, tenantChannels } from '../../../shared/config/channels';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import type { Logger } from '../../../shared/logging/logger';
import type { SecretStore } from '../../../shared/ports/secret-store';
import type { RunningSimulator, SimulatorModule } from '../simulator';
import { applyErrcodeFaults, noErrcodeFaults, RateWindows, takeFailNext, type ErrcodeFaultsInput, type ErrcodeSimFaults } from '../sim-faults';
import {
  ControlError,
  isRecord,
  pickTenant,
  PrefixRouter,
  pointTenantAt,
  redirect,
  remoteIp,
  sendHtml,
  sendJson,
  sleep,
  stackSimulator,
} from '../sim-http';
import { orgStateView, serveOrgSimulator, type OrgControl, type OrgSimEnvelopes } from '../sim-org-control';
import { errorPage, loginPage } from '../sim-pages';
import { loadTenantStates, simStateFile } from '../sim-persist';
import { seedDingtalkOrg, type SimDtDepartment, type SimDtUser } from './dingtalk-sim.seed';
import { DtOrgModel, DtSimError, USER_PAGE_MAX, type DtTenantState, type SimWorkMessage } from './dingtalk-sim.state';

type DtTenant = TenantConfig & { dingtalk: NonNullable<TenantConfig['dingtalk']> };

export interface DingtalkSimulatorOptions {
  host?: string;
  /** 0 = a free port. */
  port?: number;
  tenants?: readonly TenantConfig[];
  secrets?: SecretStore;
  /** Stage in secret names; default `local`. */
  stage?: string;
  /** Test-provided app secrets by tenant id (take precedence over the SecretStore). */
  credentials?: Readonly<Record<string, { appSecret: string }>>;
  /** Keep the org and messages in `<dataDir>/dingtalk-simulator.json` across restarts. */
  dataDir?: string;
  logger?: Logger;
  now?: () => number;
  /** Access token lifetime; DingTalk's is 7200 s. */
  tokenTtlSeconds?: number;
  /** Auth code lifetime; DingTalk's is 5 minutes. */
  authCodeTtlSeconds?: number;
  /** Calls allowed per app and API per window; DingTalk: 20 per second (90018 beyond). */
  rateLimit?: { limit: number; windowMs: number };
  /** People in each seeded org. */
  people?: number;
  /** Departments added to each seeded org's 8 (benchmarks: 100 or 1,000 in all). */
  extraDepartments?: number;
}

/**
 * A tenant's injected faults. ipNotWhitelisted: 60020 to every topapi call (gettoken still
 * works, so the client holds a token); failNext without `api`: any topapi call.
 */
export type DingtalkSimFaults = ErrcodeSimFaults;

/** expireTokens: the next call gets 40014, gettoken issues a new token; rateLimitNext: 90018. */
export type DingtalkFaultsInput = ErrcodeFaultsInput;

export interface DtSimTenantView {
  tenant: string;
  corpId: string;
  appKey: string;
  agentId: string;
  departments: SimDtDepartment[];
  users: SimDtUser[];
  /** Calls received per API path (gettoken included), refused ones too. */
  calls: Record<string, number>;
  /** Refusals per errcode (or new-API error code). */
  errors: Record<string, number>;
  /** Distinct access tokens issued. */
  tokensIssued: number;
  faults: DingtalkSimFaults;
  messages: number;
}

export interface RunningDingtalkSimulator extends RunningSimulator {
  state(tenant?: string): DtSimTenantView;
  messages(tenant?: string): SimWorkMessage[];
  /** A fresh auth code for `userId` (h5: for getuserinfo; oauth: for userAccessToken). */
  mintAuthCode(userId: string, opts?: { tenant?: string; kind?: 'h5' | 'oauth' }): string;
  setFaults(input: DingtalkFaultsInput): DingtalkSimFaults;
  reset(tenant?: string): void;
  flush(): void;
}

const STATE_FILE = 'dingtalk-simulator.json';
const ENVELOPES: OrgSimEnvelopes = { notFound: { errcode: 404, errmsg: '请求的URI地址不存在' }, internalError: { errcode: -1, errmsg: '系统繁忙' } };

type Role = 'oapi' | 'newapi' | 'login';
const ROUTES: Record<Role, ReadonlySet<string>> = {
  oapi: new Set([
    '/gettoken',
    '/topapi/v2/department/listsub',
    '/topapi/v2/department/listsubid',
    '/topapi/v2/department/get',
    '/topapi/v2/user/list',
    '/topapi/user/listid',
    '/topapi/v2/user/get',
    '/topapi/v2/user/getuserinfo',
    '/topapi/user/getbyunionid',
    '/topapi/message/corpconversation/asyncsend_v2',
    '/topapi/message/corpconversation/getsendresult',
  ]),
  newapi: new Set(['/v1.0/oauth2/accessToken', '/v1.0/oauth2/userAccessToken', '/v1.0/contact/users/me']),
  login: new Set(['/oauth2/auth']),
};

interface Runtime {
  /** `id` is the org's key: the tenant id, or `<tenant>/<channel>` for an extra channel. */
  tenant: DtTenant;
  /** Where its app secret lives (the tenant's or the channel's dingtalk secret). */
  secretName: string;
  org: DtTenantState;
  faults: DingtalkSimFaults;
  calls: Record<string, number>;
  errors: Record<string, number>;
  tokensIssued: number;
  currentToken: string | undefined;
}

interface Ctx {
  rt: Runtime;
  model: DtOrgModel;
  now: number;
}

type TopapiHandler = (body: Record<string, unknown>, ctx: Ctx) => Record<string, unknown>;

/** Start a DingTalk simulator (tests call this directly; the local stack uses {@link dingtalkSimulator}). */
export async function startDingtalkSimulator(opts: DingtalkSimulatorOptions = {}): Promise<RunningDingtalkSimulator> {
  const now = opts.now ?? (() => Date.now());
  const stage = opts.stage ?? 'local';
  const logger = opts.logger?.child({ simulator: 'dingtalk' });
  const tokenTtl = opts.tokenTtlSeconds ?? 7200;
  const codeTtlMs = (opts.authCodeTtlSeconds ?? 300) * 1000;
  const defaultRate = opts.rateLimit ?? { limit: 20, windowMs: 1000 };
  const orgs = simulatedOrgs(opts.tenants ?? [], stage);

  // ---- persistence: the orgs and messages, in <dataDir>/dingtalk-simulator.json ----------------
  const state = simStateFile({
    dataDir: opts.dataDir,
    fileName: STATE_FILE,
    indent: 1,
    snapshot: () => ({ v: 1, tenants: Object.fromEntries([...runtimes].map(([id, r]) => [id, r.org])) }),
  });
  const { flush, scheduleSave } = state;
  const saved = state.path ? loadState(state.path, logger) : {};
  const seed = (t: DtTenant): DtTenantState => ({ ...seedDingtalkOrg(t, opts.people, opts.extraDepartments), messages: [], nextTaskId: 10_001, sentLog: {} });

  const runtimes = new Map<string, Runtime>();
  for (const { tenant: t, secretName } of orgs) {
    runtimes.set(t.id, { tenant: t, secretName, org: saved[t.id] ?? seed(t), faults: noErrcodeFaults(), calls: {}, errors: {}, tokensIssued: 0, currentToken: undefined });
  }
  const byAppKey = (appKey: string | null | undefined): Runtime | undefined => [...runtimes.values()].find((r) => r.tenant.dingtalk.appKey === appKey);

  /** access token -> tenant and expiry. App tokens from gettoken / accessToken. */
  const tokens = new Map<string, { tenantId: string; expiresAt: number }>();
  /** user access tokens from the OAuth flow. */
  const userTokens = new Map<string, { tenantId: string; expiresAt: number; me: Record<string, string> }>();
  const codes = new Map<string, { tenantId: string; userId: string; kind: 'h5' | 'oauth'; expiresAt: number }>();
  const windows = new RateWindows(now);
  const unattributed: Record<string, number> = {};

  flush(); // seeded orgs are written at once, so a restart sees the same ids

  // ---- credentials -----------------------------------------------------------------------------
  const appSecretOf = async (rt: Runtime): Promise<string | undefined> => {
    const provided = opts.credentials?.[rt.tenant.id]?.appSecret;
    if (provided) return provided;
    const v = await opts.secrets?.getJson(rt.secretName);
    return typeof v?.appSecret === 'string' && v.appSecret ? v.appSecret : undefined;
  };
  // ---- shared checks ---------------------------------------------------------------------------
  const count = (rt: Runtime | undefined, api: string): void => {
    const bucket = rt ? rt.calls : unattributed;
    bucket[api] = (bucket[api] ?? 0) + 1;
  };
  const countError = (rt: Runtime | undefined, code: string | number): void => {
    if (rt) rt.errors[String(code)] = (rt.errors[String(code)] ?? 0) + 1;
  };
  const rateLimited = (rt: Runtime, api: string): boolean => windows.hit(rt.tenant.id, api, rt.faults.rateLimit ?? defaultRate);
  // A failNext without `api` is for topapi calls only.
  const failNext = (rt: Runtime, api: string, topapi: boolean) => takeFailNext(rt.faults, (f) => (f.api ? f.api === api : topapi));
  const issueToken = (rt: Runtime): string => {
    const t = now();
    // §4: a repeat gettoken within the lifetime returns the same token and extends it.
    const cur = rt.currentToken ? tokens.get(rt.currentToken) : undefined;
    if (rt.currentToken && cur && cur.expiresAt > t) {
      cur.expiresAt = t + tokenTtl * 1000;
      return rt.currentToken;
    }
    const token = randomBytes(16).toString('hex');
    tokens.set(token, { tenantId: rt.tenant.id, expiresAt: t + tokenTtl * 1000 });
    rt.currentToken = token;
    rt.tokensIssued++;
    return token;
  };
  const mintCode = (rt: Runtime, userId: string, kind: 'h5' | 'oauth'): string => {
    const code = randomBytes(16).toString('hex');
    codes.set(code, { tenantId: rt.tenant.id, userId, kind, expiresAt: now() + codeTtlMs });
    return code;
  };

  // ---- topapi handlers (reference §4-6) --------------------------------------------------------
  const TOPAPI: Record<string, { handler: TopapiHandler; mutates?: boolean }> = {
    'topapi/v2/department/listsub': { handler: (b, c) => ({ result: c.model.listSub(int(b, 'dept_id', 1)) }) },
    'topapi/v2/department/listsubid': {
      handler: (b, c) => ({ result: { dept_id_list: c.model.listSub(int(b, 'dept_id', 1)).map((d) => (d as { dept_id: number }).dept_id) } }),
    },
    'topapi/v2/department/get': { handler: (b, c) => ({ result: c.model.deptDetail(int(b, 'dept_id')) }) },
    'topapi/v2/user/list': {
      handler: (b, c) => {
        const size = int(b, 'size');
        if (size < 1 || size > USER_PAGE_MAX) throw new DtSimError(40035, `size 不合法 (1-${USER_PAGE_MAX})`);
        const cursor = int(b, 'cursor', 0);
        if (cursor < 0) throw new DtSimError(40035, 'cursor 不合法');
        return { result: c.model.userList(int(b, 'dept_id'), cursor, size) };
      },
    },
    'topapi/user/listid': {
      handler: (b, c) => {
        const deptId = int(b, 'dept_id');
        c.model.dept(deptId); // 60003 when it does not exist
        return { result: { userid_list: c.model.members(deptId).map((u) => u.userid) } };
      },
    },
    'topapi/v2/user/get': { handler: (b, c) => ({ result: c.model.userDetail(c.model.user(str(b, 'userid')), true) }) },
    'topapi/v2/user/getuserinfo': {
      handler: (b, c) => {
        const code = str(b, 'code');
        const entry = codes.get(code);
        // §5: 5 minutes, single use; an OAuth authCode here is 40078 too (community).
        if (!entry || entry.tenantId !== c.rt.tenant.id || entry.kind !== 'h5' || entry.expiresAt <= c.now) throw new DtSimError(40078, '不存在的临时授权码');
        codes.delete(code);
        const u = c.model.user(entry.userId);
        return { result: { userid: u.userid, unionid: u.unionid, name: u.name, device_id: 'simulator', sys: u.admin, sys_level: u.admin ? 1 : 0, associated_unionid: '' } };
      },
    },
    'topapi/user/getbyunionid': {
      handler: (b, c) => {
        const unionid = str(b, 'unionid');
        const u = c.model.s.users.find((x) => x.unionid === unionid);
        if (!u) throw new DtSimError(60121, '找不到该用户');
        return { result: { contact_type: 0, userid: u.userid } };
      },
    },
    'topapi/message/corpconversation/asyncsend_v2': {
      mutates: true,
      handler: (b, c) => {
        const agentId = int(b, 'agent_id');
        if (String(agentId) !== c.rt.tenant.dingtalk.agentId) throw new DtSimError(40035, 'agent_id 不合法');
        const toAll = b.to_all_user === true || b.to_all_user === 'true';
        const list = typeof b.userid_list === 'string' ? b.userid_list.split(',').map((s) => s.trim()).filter(Boolean) : [];
        if (!toAll && list.length === 0) throw new DtSimError(40035, 'userid_list, dept_id_list 或 to_all_user 必须有一个');
        if (list.length > 100) throw new DtSimError(40035, 'userid_list 最多 100 个');
        const msg = b.msg;
        if (!isRecord(msg) || typeof msg.msgtype !== 'string' || !MSG_TYPES.has(msg.msgtype) || !isRecord(msg[msg.msgtype])) throw new DtSimError(40035, 'msg 不合法');
        if (Buffer.byteLength(JSON.stringify(msg), 'utf8') > 2048) throw new DtSimError(40035, 'msg 超过 2048 字节');
        const recipients = toAll ? c.model.s.users.map((u) => u.userid) : list;
        const m = c.model.recordNotification(agentId, recipients, msg);
        logger?.info('dingtalk simulator received a work notification', { tenant: c.rt.tenant.id, taskId: m.taskId, msgtype: m.msgtype, recipients: recipients.length });
        return { task_id: m.taskId };
      },
    },
    'topapi/message/corpconversation/getsendresult': {
      handler: (b, c) => {
        const taskId = int(b, 'task_id');
        const m = c.model.s.messages.find((x) => x.taskId === taskId);
        if (!m) throw new DtSimError(40035, 'task_id 不合法');
        return {
          send_result: {
            invalid_user_id_list: m.invalid,
            forbidden_user_id_list: m.forbidden.map((f) => f.userid),
            forbidden_list: m.forbidden.map((f) => ({ code: String(f.code), count: 1, userid: f.userid })),
            failed_user_id_list: [],
            read_user_id_list: [],
            unread_user_id_list: m.delivered,
            invalid_dept_id_list: [],
          },
        };
      },
    },
  };

  // ---- request handling --------------------------------------------------------------------------
  const envelope = (res: ServerResponse, rt: Runtime | undefined, errcode: number, errmsg: string): void => {
    countError(rt, errcode);
    sendJson(res, 200, { errcode, errmsg, request_id: requestId() });
  };

  const handleGettoken = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const rt = byAppKey(url.searchParams.get('appkey'));
    count(rt, 'gettoken');
    if (!rt) return envelope(res, undefined, 40089, '不合法的appKey或appSecret');
    const fail = failNext(rt, 'gettoken', false);
    if (fail) return envelope(res, rt, fail.errcode, fail.errmsg ?? defaultErrmsg(fail.errcode));
    const expected = await appSecretOf(rt);
    if (!expected || url.searchParams.get('appsecret') !== expected) return envelope(res, rt, 40089, '不合法的appKey或appSecret');
    if (rateLimited(rt, 'gettoken')) return envelope(res, rt, 90018, defaultErrmsg(90018));
    sendJson(res, 200, { errcode: 0, errmsg: 'ok', access_token: issueToken(rt), expires_in: tokenTtl });
  };

  const handleTopapi = async (req: IncomingMessage, res: ServerResponse, url: URL, api: string, bodyText: string): Promise<void> => {
    const info = tokens.get(url.searchParams.get('access_token') ?? '');
    const rt = info ? runtimes.get(info.tenantId) : undefined;
    count(rt, api);
    if (req.method !== 'POST') return envelope(res, rt, 40035, 'topapi 只支持 POST');
    if (!info || !rt || rt.faults.rejectTokens || info.expiresAt <= now()) return envelope(res, rt, 40014, '不合法的access_token');
    if (rt.faults.ipNotWhitelisted) return envelope(res, rt, 60020, `访问ip不在白名单之中,request ip=${remoteIp(req)} appKey(${rt.tenant.dingtalk.appKey})`);
    const fail = failNext(rt, api, true);
    if (fail) return envelope(res, rt, fail.errcode, fail.errmsg ?? defaultErrmsg(fail.errcode));
    if (rateLimited(rt, api)) return envelope(res, rt, 90018, defaultErrmsg(90018));
    const quota = rt.faults.monthlyQuota;
    if (quota && !UNMETERED_TOPAPI.has(api)) {
      // §8: over the month's quota, metered APIs answer 90020 (the help centre's wording); others keep working.
      if (quota.used >= quota.limit) return envelope(res, rt, 90020, `您的企业本月api调用量已超过限制，调用量:${quota.used + 1}次，额度:${quota.limit}次，请登录开发者后台-资源管理-查看用量明细`);
      quota.used++;
    }
    if (rt.faults.latencyMs > 0) await sleep(rt.faults.latencyMs);
    let body: unknown;
    try {
      body = bodyText.trim() ? JSON.parse(bodyText) : {};
    } catch {
      return envelope(res, rt, 40035, '请求体不是合法的 JSON');
    }
    if (!isRecord(body)) return envelope(res, rt, 40035, '请求体必须是 JSON 对象');
    const route = TOPAPI[api];
    if (!route) return envelope(res, rt, 404, '请求的URI地址不存在');
    try {
      const out = route.handler(body, { rt, model: new DtOrgModel(rt.org, now), now: now() });
      if (route.mutates) scheduleSave();
      sendJson(res, 200, { errcode: 0, errmsg: 'ok', ...out, request_id: requestId() });
    } catch (err) {
      if (err instanceof DtSimError) return envelope(res, rt, err.errcode, err.errmsg);
      throw err;
    }
  };

  /** New API (api.dingtalk.com): HTTP status + `{code, message, requestid}` on errors. */
  const handleNewApi = async (req: IncomingMessage, res: ServerResponse, api: string, bodyText: string): Promise<void> => {
    const fail = (rt: Runtime | undefined, status: number, code: string, message: string): void => {
      countError(rt, code);
      sendJson(res, status, { code, message, requestid: requestId() });
    };
    const json = (): Record<string, unknown> => {
      try {
        const v: unknown = bodyText.trim() ? JSON.parse(bodyText) : {};
        return isRecord(v) ? v : {};
      } catch {
        return {};
      }
    };
    if (api === 'v1.0/contact/users/me') {
      const header = req.headers['x-acs-dingtalk-access-token'];
      const ut = userTokens.get(typeof header === 'string' ? header : '');
      const rt = ut ? runtimes.get(ut.tenantId) : undefined;
      count(rt, api);
      if (req.method !== 'GET') return fail(rt, 405, 'MethodNotAllowed', 'GET only');
      if (!ut || !rt || ut.expiresAt <= now()) return fail(rt, 401, 'InvalidAuthentication', '不合法的access_token');
      if (rateLimited(rt, api)) return fail(rt, 403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '调用该接口超过限流');
      // The person's DingTalk account outlives their membership: users/me still answers
      // after they leave; getbyunionid is what says they are no longer in the org.
      return sendJson(res, 200, ut.me);
    }
    const b = json();
    const appKey = api === 'v1.0/oauth2/accessToken' ? b.appKey : b.clientId;
    const rt = byAppKey(typeof appKey === 'string' ? appKey : undefined);
    count(rt, api);
    if (req.method !== 'POST') return fail(rt, 405, 'MethodNotAllowed', 'POST only');
    if (!rt) return fail(undefined, 400, 'invalidClientId', '无效的 clientId / appKey');
    const secret = api === 'v1.0/oauth2/accessToken' ? b.appSecret : b.clientSecret;
    const expected = await appSecretOf(rt);
    if (!expected || secret !== expected) return fail(rt, 400, 'invalidClientSecret', '无效的 clientSecret / appSecret');
    if (rateLimited(rt, api)) return fail(rt, 403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '调用该接口超过限流');
    if (api === 'v1.0/oauth2/accessToken') {
      // Reference §4 open question 5: whether new-API tokens work on oapi is unstated; here they do.
      return sendJson(res, 200, { accessToken: issueToken(rt), expireIn: tokenTtl });
    }
    if (b.grantType !== 'authorization_code') return fail(rt, 400, 'invalidGrantType', 'grantType 必须是 authorization_code');
    const code = typeof b.code === 'string' ? b.code : '';
    const entry = codes.get(code);
    if (!entry || entry.tenantId !== rt.tenant.id || entry.kind !== 'oauth' || entry.expiresAt <= now()) return fail(rt, 400, 'invalidCode', '无效的授权码');
    codes.delete(code);
    const u = new DtOrgModel(rt.org, now).findUser(entry.userId);
    if (!u) return fail(rt, 400, 'invalidCode', '无效的授权码');
    const accessToken = randomBytes(16).toString('hex');
    const me = { nick: u.name, avatarUrl: '', mobile: u.mobile ?? '', stateCode: u.state_code, openId: `open${u.unionid}`, unionId: u.unionid, email: u.email ?? '' };
    userTokens.set(accessToken, { tenantId: rt.tenant.id, expiresAt: now() + 7200_000, me });
    return sendJson(res, 200, { accessToken, refreshToken: randomBytes(16).toString('hex'), expireIn: 7200, corpId: rt.tenant.dingtalk.corpId });
  };

  /** login.dingtalk.com/oauth2/auth stand-in: a picker page, or a redirect with authCode and state. */
  const handleLogin = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const p = url.searchParams;
    const rt = byAppKey(p.get('client_id'));
    count(rt, 'oauth2/auth');
    if (!rt) return sendHtml(res, 400, errorPage('应用不存在 / Unknown app', 'client_id is not the appKey of any app here.'));
    const redirectUri = p.get('redirect_uri') ?? '';
    let target: URL;
    try {
      target = new URL(redirectUri);
      if (!/^https?:$/.test(target.protocol)) throw new Error('not http');
    } catch {
      return sendHtml(res, 400, errorPage('redirect_uri 无效 / Bad redirect_uri', 'redirect_uri must be an absolute http(s) URL.'));
    }
    if (p.get('response_type') !== 'code') return sendHtml(res, 400, errorPage('response_type 无效', 'response_type must be "code".'));
    const model = new DtOrgModel(rt.org, now);
    const userid = p.get('userid');
    if (userid && model.findUser(userid)) {
      target.searchParams.set('authCode', mintCode(rt, userid, 'oauth'));
      target.searchParams.set('state', p.get('state') ?? '');
      return redirect(res, target.toString());
    }
    const hidden: Record<string, string> = {};
    for (const k of ['redirect_uri', 'response_type', 'client_id', 'scope', 'state', 'prompt']) {
      const v = p.get(k);
      if (v !== null) hidden[k] = v;
    }
    const deptName = (u: SimDtUser): string => rt.org.departments.find((d) => d.dept_id === u.dept_id_list[0])?.name ?? '';
    sendHtml(
      res,
      userid ? 404 : 200,
      loginPage({
        action: url.pathname,
        title: '钉钉扫码登录 / DingTalk sign-in',
        orgName: rt.org.departments.find((d) => d.dept_id === 1)?.name ?? rt.tenant.id,
        hidden,
        people: rt.org.users.map((u) => ({ userid: u.userid, name: u.name, detail: deptName(u) })),
        error: userid ? `No user ${userid} in this organisation.` : undefined,
      }),
    );
  };

  // ---- control API -----------------------------------------------------------------------------
  const runtimeFor = (id: unknown): Runtime => pickTenant(runtimes, id, 'DingTalk');
  const view = (rt: Runtime): DtSimTenantView => {
    const { corpId, appKey, agentId } = rt.tenant.dingtalk;
    return { ...orgStateView(rt), corpId, appKey, agentId, tokensIssued: rt.tokensIssued, faults: structuredClone(rt.faults) };
  };
  const setFaults = (input: DingtalkFaultsInput): DingtalkSimFaults => {
    const rt = runtimeFor(input.tenant);
    rt.faults = applyErrcodeFaults(rt.faults, input, 90018);
    if (input.expireTokens) {
      for (const t of tokens.values()) if (t.tenantId === rt.tenant.id) t.expiresAt = now() - 1;
      rt.currentToken = undefined;
    }
    return structuredClone(rt.faults);
  };
  const reset = (id?: string): void => {
    const targets = id ? [runtimeFor(id)] : [...runtimes.values()];
    for (const rt of targets) {
      rt.org = seed(rt.tenant);
      rt.faults = noErrcodeFaults();
      rt.calls = {};
      rt.errors = {};
      rt.tokensIssued = 0;
      rt.currentToken = undefined;
      for (const [k, v] of tokens) if (v.tenantId === rt.tenant.id) tokens.delete(k);
      for (const [k, v] of userTokens) if (v.tenantId === rt.tenant.id) userTokens.delete(k);
      for (const [k, v] of codes) if (v.tenantId === rt.tenant.id) codes.delete(k);
      windows.forget(rt.tenant.id);
    }
    scheduleSave();
  };
  const mintAuthCode = (userId: string, o: { tenant?: string; kind?: 'h5' | 'oauth' } = {}): string => {
    const rt = runtimeFor(o.tenant);
    if (!new DtOrgModel(rt.org, now).findUser(userId)) throw new ControlError(404, `user ${userId} does not exist in tenant ${rt.tenant.id}`);
    return mintCode(rt, userId, o.kind ?? 'h5');
  };

  const control: OrgControl<Runtime, DtSimTenantView> = {
    vendor: 'dingtalk',
    tenantIds: () => [...runtimes.keys()],
    runtimeFor,
    view,
    setFaults,
    reset,
    upsertUser: (body) => {
      const b = controlSchemas.user.parse(body);
      const rt = runtimeFor(b.tenant);
      const { tenant: _t, ...fields } = b;
      const userid = fields.userid ?? `0${Array.from(randomBytes(15), (x) => x % 10).join('')}`;
      return new DtOrgModel(rt.org, now).upsertUser({ ...fields, userid }, () => `${randomBytes(4).toString('hex')}iE${randomBytes(6).toString('hex')}`);
    },
    upsertDepartment: (body) => {
      const b = controlSchemas.department.parse(body);
      return new DtOrgModel(runtimeFor(b.tenant).org, now).upsertDepartment(b);
    },
    removeUser: (rt, userId) => new DtOrgModel(rt.org, now).removeUser(userId),
    removeDepartment: (rt, id) => new DtOrgModel(rt.org, now).removeDepartment(id),
    mintAuthCode: (body) => {
      const b = controlSchemas.authCode.parse(body);
      return mintAuthCode(b.userId, { tenant: b.tenant, kind: b.kind });
    },
    authCodeTtlSeconds: codeTtlMs / 1000,
    scheduleSave,
  };

  // ---- routing ---------------------------------------------------------------------------------
  const router = new PrefixRouter<Role>(ROUTES);
  for (const { tenant: t } of orgs) {
    router.add(t.dingtalk.apiBaseUrl, 'oapi');
    router.add(t.dingtalk.newApiBaseUrl, 'newapi');
    router.add(t.dingtalk.loginBaseUrl, 'login');
  }
  if (router.size === 0) for (const role of ['oapi', 'newapi', 'login'] as const) router.addPrefix('', role);

  const running = await serveOrgSimulator(control, router, {
    listenOn: opts,
    logger,
    flush,
    envelopes: ENVELOPES,
    handle: async (route, req, res, url, bodyText) => {
      if (route.role === 'login') return handleLogin(req, res, url);
      if (route.role === 'newapi') return await handleNewApi(req, res, route.rest.slice(1), bodyText);
      if (route.rest === '/gettoken') return await handleGettoken(req, res, url);
      return await handleTopapi(req, res, url, route.rest.slice(1), bodyText);
    },
  });
  return { ...running, mintAuthCode, setFaults };
}

/**
 * The orgs to serve: every DingTalk channel of the tenants (shared/config/channels.ts), unless
 * its section says `"simulate": false`. An extra channel becomes a tenant-shaped org keyed
 * `<tenant>/<channel>`, seeded as a DingTalk-sourced org (its own people, not EKP's).
 */
function simulatedOrgs(tenants: readonly TenantConfig[], stage: string): Array<{ tenant: DtTenant; secretName: string }> {
  return tenants.flatMap((t) =>
    tenantChannels(t)
      .filter((c) => c.vendor === 'dingtalk' && c.settings.simulate !== false)
      .map((c) => {
        const view = channelView(t, c) as DtTenant;
        const org = c.id === 'dingtalk' ? view : { ...view, id: `${t.id}/${c.id}`, displayName: `${t.displayName ?? t.id} (${c.id})`, sync: { ...t.sync, source: 'dingtalk' as const } };
        return { tenant: org, secretName: channelSecretName(stage, t.id, c) };
      }),
  );
}

/** The DingTalk simulator for the local stack (sandbox secrets come from local/sandbox.ts). */
export const dingtalkSimulator: SimulatorModule = stackSimulator('dingtalk', startDingtalkSimulator);

/** A copy of `tenant` whose DingTalk URLs point at `simUrl`, keeping their paths (pointTenantAt). */
export function pointDingtalkAt<T extends TenantConfig>(tenant: T, simUrl: string): T {
  return pointTenantAt(tenant, simUrl, 'dingtalk', ['apiBaseUrl', 'newApiBaseUrl', 'loginBaseUrl']);
}

const MSG_TYPES = new Set(['text', 'image', 'voice', 'file', 'link', 'oa', 'markdown', 'action_card']);

const controlSchemas = {
  user: z
    .object({
      tenant: z.string().min(1).optional(),
      userid: z
        .string()
        .regex(/^[\w.@-]{1,64}$/, 'must be 1-64 letters, digits, _ . @ -')
        .optional(),
      name: z.string().min(1).max(64).optional(),
      dept_id_list: z.array(z.number().int().positive()).min(1).max(20).optional(),
      org_email: z.email().optional(),
      email: z.email().optional(),
      mobile: z
        .string()
        .regex(/^\d{5,20}$/)
        .optional(),
      job_number: z.string().min(1).max(64).optional(),
      title: z.string().max(64).optional(),
      active: z.boolean().optional(),
      leader: z.boolean().optional(),
    })
    .strict(),
  department: z
    .object({
      tenant: z.string().min(1).optional(),
      dept_id: z.number().int().positive().optional(),
      name: z.string().min(1).max(64).optional(),
      parent_id: z.number().int().positive().optional(),
      order: z.number().int().optional(),
    })
    .strict(),
  authCode: z.object({ tenant: z.string().min(1).optional(), userId: z.string().min(1), kind: z.enum(['h5', 'oauth']).optional() }).strict(),
};

/** Sign-in APIs DingTalk does not meter (reference §4: auth APIs excluded); every other topapi is metered here (§8). */
const UNMETERED_TOPAPI: ReadonlySet<string> = new Set(['topapi/v2/user/getuserinfo', 'topapi/user/getbyunionid']);

function defaultErrmsg(errcode: number): string {
  switch (errcode) {
    case 90018:
      return '当前应用调用该接口超过每秒上限,请稍后重试 (QpsLimitForAppkeyAndApi)';
    case 90002:
      return '当前接口调用超过每秒上限 (QpsLimitForApi)';
    case -1:
      return '系统繁忙';
    case 60011:
      return '没有调用该接口的权限';
    case 90020:
      return '当月调用量已超过上限';
    default:
      return 'simulated error';
  }
}

function int(b: Record<string, unknown>, key: string, fallback?: number): number {
  const v = b[key];
  if (v === undefined || v === null || v === '') {
    if (fallback !== undefined) return fallback;
    throw new DtSimError(40035, `缺少参数 ${key}`);
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new DtSimError(40035, `参数 ${key} 不合法`);
  return n;
}

function str(b: Record<string, unknown>, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || !v) throw new DtSimError(40035, `缺少参数 ${key}`);
  return v;
}

function requestId(): string {
  return randomBytes(6).toString('base64url').toLowerCase();
}

function loadState(file: string, logger: Logger | undefined): Record<string, DtTenantState> {
  return loadTenantStates<DtTenantState>(
    file,
    (s) => {
      if (!Array.isArray(s.departments) || !Array.isArray(s.users) || !Array.isArray(s.messages)) throw new Error('bad tenant state');
      s.sentLog ??= {};
      s.nextTaskId ??= 10_001;
    },
    (err) => logger?.warn('dingtalk simulator state file unreadable; starting from the seed', { file, err }),
  );
}
