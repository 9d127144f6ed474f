/**
 * A WeCom simulator for the local stack and the tests: the cgi-bin directory, OAuth and
 * app-message endpoints, plus the in-client OAuth page and the PC login page, over HTTP on
 * loopback, for every tenant whose `wecom` URLs point at it (reference wecom.md §4-6).
 * Paths are served under each tenant's apiBaseUrl, oauthBaseUrl and loginBaseUrl paths.
 *
 * Faithful where the reference is firm: `{errcode, errmsg, …}` envelopes; gettoken by
 * corpid + corpsecret, one token per secret (the 通讯录同步 secret and the app secret get
 * different tokens); 40014 / 42001 / 41001 for bad, expired and missing tokens; 60020 with
 * `from ip: …`; 45009 past the per-API rate (default 10,000 per minute per corp);
 * user/list_id only with the contact secret (else 48002), cursor paging with an empty
 * next_cursor at the end; 60111 for unknown users, 60123 for unknown departments; an app
 * token does not get avatar, gender, mobile, email, biz_mail or address (apps created after
 * 2022-06-20; turn off with `restrictAppFields: false`); auth/getuserinfo with single-use
 * 5-minute codes (40029); message/send with invaliduser, 81013 when nobody is valid, the
 * 30-per-member-per-minute cap (dropped silently) and the duplicate check.
 *
 * Secrets: `credentials` (tests) or the tenant's `wecom` secret in the SecretStore
 * (contactSecret, appSecret), read at each gettoken. In the local stack those sandbox
 * secrets are created before the simulators start (local/sandbox.ts).
 *
 * Control API (JSON; `tenant` may be omitted when only one is served):
 *   GET    /__sim/health
 *   GET    /__sim/state?tenant=
 *   POST   /__sim/users        {tenant?, userid?, name?, department?, main_department?, email?, mobile?, position?, status?, jobNumber?}
 *   DELETE /__sim/users/:userid?tenant=
 *   POST   /__sim/departments  {tenant?, id?, name?, name_en?, parentid?, order?}
 *   DELETE /__sim/departments/:id?tenant=
 *   GET    /__sim/faults?tenant=  POST /__sim/faults {tenant?, ipNotWhitelisted?, rejectTokens?, expireTokens?,
 *                                  rateLimitNext?, failNext?:{errcode,count,api?,errmsg?}, rateLimit?:{limit,windowMs}|null, latencyMs?, clear?,
 *                                  contactIpAfter2022?, appVisibleDepartments?: number[] | null}
 *
 * The 2022 rules and the app's visible range, as faults a test turns on:
 * - `contactIpAfter2022`: our IP was added to 通讯录同步's trusted IPs after 2022-08-15, so
 *   the contact secret's tokens get 60020 on user/get, user/list and department/list
 *   (reference §4); list_id, simplelist and department/get still answer.
 * - `appVisibleDepartments`: the app's visible range (可见范围) as department ids (each with
 *   its subtree). App tokens then see only those: simplelist and department/list are cut to
 *   them; department/get, user/list and user/simplelist of another department, and user/get
 *   of a member in none of them, answer 60011. null / absent = the whole corp.
 *   GET    /__sim/messages?tenant=
 *   POST   /__sim/reset        {tenant?}
 *   POST   /__sim/auth-code    {tenant?, userId} or {tenant?, openId} (a non-member) → {code, expiresIn}
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { secretName } from '../../../shared/config/secrets';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import type { Logger } from '../../../shared/logging/logger';
import type { SecretStore } from '../../../shared/ports/secret-store';
import { applyErrcodeFaults, errcodeFaultsSchema, noErrcodeFaults, RateWindows, takeFailNext, type ErrcodeFaultsInput, type ErrcodeSimFaults } from '../sim-faults';
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
import type { RunningSimulator, SimulatorModule } from '../simulator';
import { seedWecomOrg, type SimWcDepartment, type SimWcUser } from './wecom-sim.seed';
import { WcOrgModel, WcSimError, type SimAppMessage, type WcTenantState } from './wecom-sim.state';

type WcTenant = TenantConfig & { wecom: NonNullable<TenantConfig['wecom']> };
type SecretKind = 'contact' | 'app';

export interface WecomSimulatorOptions {
  host?: string;
  port?: number;
  tenants?: readonly TenantConfig[];
  secrets?: SecretStore;
  stage?: string;
  /** Test-provided secrets by tenant id (take precedence over the SecretStore). */
  credentials?: Readonly<Record<string, { contactSecret?: string; appSecret?: string }>>;
  dataDir?: string;
  logger?: Logger;
  now?: () => number;
  tokenTtlSeconds?: number;
  authCodeTtlSeconds?: number;
  /** Per corp and API; WeCom: 10,000 per minute (§4). */
  rateLimit?: { limit: number; windowMs: number };
  /** App tokens lose the fields post-2022-06-20 apps no longer get (default true). */
  restrictAppFields?: boolean;
  people?: number;
  /** Departments added to each seeded org's own (benchmarks). */
  extraDepartments?: number;
}

/** A tenant's injected faults. ipNotWhitelisted: 60020 to every call but gettoken; failNext without `api`: any call but gettoken. */
export interface WecomSimFaults extends ErrcodeSimFaults {
  /** The contact secret's IP was trusted after 2022-08-15: 60020 on user/get, user/list, department/list (module doc). */
  contactIpAfter2022: boolean;
  /** The app's visible range as department ids (with subtrees); undefined = the whole corp. */
  appVisibleDepartments?: number[];
}

/** expireTokens: the next call gets 42001; rateLimitNext: 45009. */
export interface WecomFaultsInput extends ErrcodeFaultsInput {
  contactIpAfter2022?: boolean;
  /** null clears the range (the whole corp is visible again). */
  appVisibleDepartments?: number[] | null;
}

const noWecomFaults = (): WecomSimFaults => ({ ...noErrcodeFaults(), contactIpAfter2022: false });

/** POST /__sim/faults: the shared errcode faults plus WeCom's own. */
const wecomFaultsSchema = errcodeFaultsSchema.extend({
  contactIpAfter2022: z.boolean().optional(),
  appVisibleDepartments: z.array(z.number().int().positive()).max(1000).nullable().optional(),
});

/** Reference §4: "From 2022-08-15 10:00, IPs newly added to 通讯录同步 cannot call" these. */
const BARRED_FOR_NEW_CONTACT_IPS: ReadonlySet<string> = new Set(['user/get', 'user/list', 'department/list']);

export interface WcSimTenantView {
  tenant: string;
  corpId: string;
  agentId: string;
  departments: SimWcDepartment[];
  users: SimWcUser[];
  /** Calls per API path (gettoken included), refused ones too. */
  calls: Record<string, number>;
  errors: Record<string, number>;
  tokensIssued: Record<SecretKind, number>;
  faults: WecomSimFaults;
  messages: number;
}

export interface RunningWecomSimulator extends RunningSimulator {
  state(tenant?: string): WcSimTenantView;
  messages(tenant?: string): SimAppMessage[];
  mintAuthCode(who: { userId?: string; openId?: string }, opts?: { tenant?: string }): string;
  setFaults(input: WecomFaultsInput): WecomSimFaults;
  reset(tenant?: string): void;
  flush(): void;
}

const STATE_FILE = 'wecom-simulator.json';
const ENVELOPES: OrgSimEnvelopes = { notFound: { errcode: 404, errmsg: 'not found' }, internalError: { errcode: -1, errmsg: 'system busy' } };

type Role = 'api' | 'oauth' | 'login';
const API_ROUTES: Record<string, { method: 'GET' | 'POST'; secret?: SecretKind }> = {
  'department/simplelist': { method: 'GET' },
  'department/list': { method: 'GET' },
  'department/get': { method: 'GET' },
  'user/list_id': { method: 'POST', secret: 'contact' },
  'user/get': { method: 'GET' },
  'user/list': { method: 'GET' },
  'user/simplelist': { method: 'GET' },
  'auth/getuserinfo': { method: 'GET', secret: 'app' },
  'message/send': { method: 'POST', secret: 'app' },
};
const ROUTES: Record<Role, ReadonlySet<string>> = {
  api: new Set(['/gettoken', ...Object.keys(API_ROUTES).map((k) => `/${k}`)]),
  oauth: new Set(['/connect/oauth2/authorize']),
  login: new Set(['/wwlogin/sso/login']),
};

interface Runtime {
  tenant: WcTenant;
  org: WcTenantState;
  faults: WecomSimFaults;
  calls: Record<string, number>;
  errors: Record<string, number>;
  tokensIssued: Record<SecretKind, number>;
}

interface Ctx {
  rt: Runtime;
  model: WcOrgModel;
  kind: SecretKind;
  query: URLSearchParams;
  body: Record<string, unknown>;
  now: number;
  /** Departments an app token sees (its visible range); undefined = all. */
  visible: Set<number> | undefined;
}

/** Start a WeCom simulator (tests call this directly; the local stack uses {@link wecomSimulator}). */
export async function startWecomSimulator(opts: WecomSimulatorOptions = {}): Promise<RunningWecomSimulator> {
  const now = opts.now ?? (() => Date.now());
  const stage = opts.stage ?? 'local';
  const logger = opts.logger?.child({ simulator: 'wecom' });
  const tokenTtl = opts.tokenTtlSeconds ?? 7200;
  const codeTtlMs = (opts.authCodeTtlSeconds ?? 300) * 1000;
  const defaultRate = opts.rateLimit ?? { limit: 10_000, windowMs: 60_000 };
  const restrictAppFields = opts.restrictAppFields ?? true;
  const tenants = (opts.tenants ?? []).filter((t): t is WcTenant => t.wecom !== undefined);

  // ---- persistence: the orgs and messages, in <dataDir>/wecom-simulator.json -------------------
  const state = simStateFile({
    dataDir: opts.dataDir,
    fileName: STATE_FILE,
    indent: 1,
    snapshot: () => ({ v: 1, tenants: Object.fromEntries([...runtimes].map(([id, r]) => [id, r.org])) }),
  });
  const { flush, scheduleSave } = state;
  const saved = state.path ? loadState(state.path, logger) : {};
  const seed = (t: WcTenant): WcTenantState => ({ ...seedWecomOrg(t, opts.people, opts.extraDepartments), messages: [], nextMsgId: 1, recent: {} });

  const runtimes = new Map<string, Runtime>();
  for (const t of tenants) {
    runtimes.set(t.id, { tenant: t, org: saved[t.id] ?? seed(t), faults: noWecomFaults(), calls: {}, errors: {}, tokensIssued: { contact: 0, app: 0 } });
  }
  const byCorp = (corpId: string | null | undefined): Runtime | undefined => [...runtimes.values()].find((r) => r.tenant.wecom.corpId === corpId);

  const tokens = new Map<string, { tenantId: string; kind: SecretKind; expiresAt: number }>();
  const codes = new Map<string, { tenantId: string; userId?: string; openId?: string; expiresAt: number }>();
  const windows = new RateWindows(now);
  const unattributed: Record<string, number> = {};

  flush(); // seeded orgs are written at once, so a restart sees the same ids

  // ---- credentials -----------------------------------------------------------------------------
  const secretOf = (rt: Runtime): string => secretName(stage, rt.tenant.id, 'wecom');
  const secretsOf = async (rt: Runtime): Promise<{ contactSecret?: string; appSecret?: string }> => {
    const provided = opts.credentials?.[rt.tenant.id];
    if (provided) return provided;
    const v = await opts.secrets?.getJson(secretOf(rt));
    const s = (k: string): string | undefined => (typeof v?.[k] === 'string' && v[k] ? (v[k] as string) : undefined);
    return { contactSecret: s('contactSecret'), appSecret: s('appSecret') };
  };
  // ---- shared checks ---------------------------------------------------------------------------
  const count = (rt: Runtime | undefined, api: string): void => {
    const bucket = rt ? rt.calls : unattributed;
    bucket[api] = (bucket[api] ?? 0) + 1;
  };
  const rateLimited = (rt: Runtime, api: string): boolean => windows.hit(rt.tenant.id, api, rt.faults.rateLimit ?? defaultRate);
  // A failNext without `api` is for any call but gettoken.
  const failNext = (rt: Runtime, api: string) => takeFailNext(rt.faults, (f) => (f.api ? f.api === api : api !== 'gettoken'));
  const mintCode = (rt: Runtime, who: { userId?: string; openId?: string }): string => {
    // WeCom codes are up to 512 bytes; ours are 32 hex characters.
    const code = randomBytes(16).toString('hex');
    codes.set(code, { tenantId: rt.tenant.id, ...who, expiresAt: now() + codeTtlMs });
    return code;
  };
  const send = (res: ServerResponse, rt: Runtime | undefined, errcode: number, errmsg: string, extra: Record<string, unknown> = {}): void => {
    if (rt && errcode !== 0) rt.errors[String(errcode)] = (rt.errors[String(errcode)] ?? 0) + 1;
    sendJson(res, 200, { errcode, errmsg, ...extra });
  };

  // ---- API handlers (reference §4-6) -------------------------------------------------------------
  const HANDLERS: Record<string, (c: Ctx) => Record<string, unknown>> = {
    'department/simplelist': (c) => ({ department_id: visibleSubtree(c, optInt(c.query, 'id')).map((d) => ({ id: d.id, parentid: d.parentid, order: d.order })) }),
    'department/list': (c) => ({ department: visibleSubtree(c, optInt(c.query, 'id')).map((d) => c.model.deptJson(d)) }),
    'department/get': (c) => ({ department: c.model.deptJson(visibleDept(c, reqInt(c.query, 'id'))) }),
    'user/list_id': (c) => {
      const limit = c.body.limit === undefined ? 1000 : c.body.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new WcSimError(40058, 'invalid limit, should be 1-10000');
      const rows = c.model.listIdRows();
      const cursor = c.body.cursor;
      let offset = 0;
      if (cursor !== undefined && cursor !== '') {
        const m = typeof cursor === 'string' ? /^c(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
        if (!m) throw new WcSimError(40058, 'invalid cursor');
        offset = Number(m[1]);
      }
      const next = offset + limit;
      return { next_cursor: next < rows.length ? Buffer.from(`c${next}`).toString('base64url') : '', dept_user: rows.slice(offset, next) };
    },
    'user/get': (c) => {
      const u = c.model.user(reqStr(c.query, 'userid'));
      if (c.visible && !u.department.some((d) => c.visible?.has(d))) throw noPrivilege();
      return c.model.userJson(u, c.kind === 'app' && restrictAppFields);
    },
    'user/list': (c) => {
      const id = reqInt(c.query, 'department_id');
      visibleDept(c, id);
      return { userlist: c.model.members(id).map((u) => c.model.userJson(u, c.kind === 'app' && restrictAppFields)) };
    },
    'user/simplelist': (c) => {
      const id = reqInt(c.query, 'department_id');
      visibleDept(c, id);
      return { userlist: c.model.members(id).map((u) => ({ userid: u.userid, name: u.name, department: u.department, open_userid: u.open_userid })) };
    },
    'auth/getuserinfo': (c) => {
      const code = reqStr(c.query, 'code');
      const entry = codes.get(code);
      if (!entry || entry.tenantId !== c.rt.tenant.id || entry.expiresAt <= c.now) throw new WcSimError(40029, 'invalid code');
      codes.delete(code);
      if (entry.openId) return { openid: entry.openId };
      const u = entry.userId ? c.model.findUser(entry.userId) : undefined;
      // A member deleted since the code was issued: WeCom no longer knows them as a member.
      if (!u) return { openid: `o${randomBytes(8).toString('hex')}` };
      return { userid: u.userid };
    },
    'message/send': (c) => {
      const b = c.body;
      if (typeof b.agentid !== 'number' && typeof b.agentid !== 'string') throw new WcSimError(40058, 'agentid is required');
      if (String(b.agentid) !== c.rt.tenant.wecom.agentId) throw new WcSimError(301002, 'api forbidden: the token does not belong to this agentid');
      const msgtype = b.msgtype;
      if (typeof msgtype !== 'string' || !isRecord(b[msgtype])) throw new WcSimError(40058, 'invalid msgtype or missing payload');
      const payload = b[msgtype] as Record<string, unknown>;
      if (msgtype === 'textcard') {
        const bytes = (k: string): number => Buffer.byteLength(typeof payload[k] === 'string' ? (payload[k] as string) : '', 'utf8');
        if (!payload.title || !payload.description || !payload.url) throw new WcSimError(40058, 'textcard needs title, description and url');
        if (bytes('title') > 128 || bytes('description') > 512 || bytes('url') > 2048) throw new WcSimError(40058, 'textcard field too long');
        if (typeof payload.btntxt === 'string' && [...payload.btntxt].length > 4) throw new WcSimError(40058, 'btntxt longer than 4 characters');
      } else if (!['text', 'markdown', 'news', 'template_card'].includes(msgtype)) {
        throw new WcSimError(40058, `msgtype ${msgtype} is not simulated`);
      }
      const touser = typeof b.touser === 'string' ? b.touser : '';
      const to = touser === '@all' ? c.model.s.users.map((u) => u.userid) : touser.split('|').filter(Boolean);
      if (to.length === 0) throw new WcSimError(40058, 'touser is required');
      if (to.length > 1000) throw new WcSimError(40058, 'touser holds more than 1000 users');
      const dup = b.enable_duplicate_check === 1 || b.enable_duplicate_check === '1';
      const interval = typeof b.duplicate_check_interval === 'number' ? Math.min(b.duplicate_check_interval, 4 * 3600) : 1800;
      const m = c.model.recordMessage({ agentId: Number(b.agentid), msgtype, payload, toUsers: to, duplicateCheckSeconds: dup ? interval : undefined });
      const invaliduser = m.invalid.join('|');
      // §6: partially invalid recipients still send; all invalid is 81013.
      if (m.delivered.length + m.dropped.length + m.duplicate.length === 0) throw new WcSimError(81013, 'user & party & tag all invalid', { invaliduser });
      logger?.info('wecom simulator received an app message', { tenant: c.rt.tenant.id, msgId: m.msgId, msgtype, recipients: to.length });
      return { invaliduser, invalidparty: '', invalidtag: '', unlicenseduser: '', msgid: m.msgId, response_code: randomBytes(12).toString('hex') };
    },
  };

  const handleGettoken = async (res: ServerResponse, url: URL): Promise<void> => {
    const rt = byCorp(url.searchParams.get('corpid'));
    count(rt, 'gettoken');
    if (!rt) return send(res, undefined, 40013, 'invalid corpid');
    const fail = failNext(rt, 'gettoken');
    if (fail) return send(res, rt, fail.errcode, fail.errmsg ?? defaultErrmsg(fail.errcode));
    const given = url.searchParams.get('corpsecret') ?? '';
    const s = await secretsOf(rt);
    const kind: SecretKind | undefined = given && given === s.contactSecret ? 'contact' : given && given === s.appSecret ? 'app' : undefined;
    if (!kind) return send(res, rt, 40001, 'invalid credential');
    if (rateLimited(rt, 'gettoken')) return send(res, rt, 45009, defaultErrmsg(45009));
    // A new token per call: the current doc no longer promises the same one (§4); old ones live on until they expire.
    const token = randomBytes(48).toString('base64url');
    tokens.set(token, { tenantId: rt.tenant.id, kind, expiresAt: now() + tokenTtl * 1000 });
    rt.tokensIssued[kind]++;
    send(res, rt, 0, 'ok', { access_token: token, expires_in: tokenTtl });
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL, api: string, bodyText: string): Promise<void> => {
    const raw = url.searchParams.get('access_token');
    const info = raw ? tokens.get(raw) : undefined;
    const rt = info ? runtimes.get(info.tenantId) : undefined;
    count(rt, api);
    const route = API_ROUTES[api] as (typeof API_ROUTES)[string];
    if (!raw) return send(res, rt, 41001, 'access_token missing');
    if (!info || !rt || rt.faults.rejectTokens) return send(res, rt, 40014, 'invalid access_token');
    if (info.expiresAt <= now()) return send(res, rt, 42001, 'access_token expired');
    if (req.method !== route.method) return send(res, rt, 43001, `require ${route.method} method`);
    if (rt.faults.ipNotWhitelisted) {
      return send(res, rt, 60020, `not allow to access from your ip, hint: [${Math.floor(now() / 1000)}-sim], from ip: ${remoteIp(req)}, more info at https://open.work.weixin.qq.com/devtool/query?e=60020`);
    }
    if (info.kind === 'contact' && rt.faults.contactIpAfter2022 && BARRED_FOR_NEW_CONTACT_IPS.has(api)) {
      // Reference §4: the IP is trusted for 通讯录同步, but was added after 2022-08-15.
      return send(res, rt, 60020, `not allow to access from your ip, hint: [${Math.floor(now() / 1000)}-sim], from ip: ${remoteIp(req)}, more info at https://open.work.weixin.qq.com/devtool/query?e=60020`);
    }
    const fail = failNext(rt, api);
    if (fail) return send(res, rt, fail.errcode, fail.errmsg ?? defaultErrmsg(fail.errcode));
    if (rateLimited(rt, api)) return send(res, rt, 45009, defaultErrmsg(45009));
    if (route.secret && route.secret !== info.kind) return send(res, rt, 48002, `api forbidden: ${api} needs the ${route.secret === 'contact' ? '通讯录同步' : 'app'} secret`);
    if (rt.faults.latencyMs > 0) await sleep(rt.faults.latencyMs);
    let body: Record<string, unknown> = {};
    if (route.method === 'POST') {
      let parsed: unknown;
      try {
        parsed = bodyText.trim() ? JSON.parse(bodyText) : {};
      } catch {
        return send(res, rt, 47001, 'data format error');
      }
      if (!isRecord(parsed)) return send(res, rt, 47001, 'data format error');
      body = parsed;
    }
    try {
      const model = new WcOrgModel(rt.org, now);
      const range = info.kind === 'app' ? rt.faults.appVisibleDepartments : undefined;
      const visible = range ? model.visibleDepartmentIds(range) : undefined;
      const out = (HANDLERS[api] as (c: Ctx) => Record<string, unknown>)({ rt, model, kind: info.kind, query: url.searchParams, body, now: now(), visible });
      if (api === 'message/send') scheduleSave();
      send(res, rt, 0, 'ok', out);
    } catch (err) {
      if (err instanceof WcSimError) {
        if (api === 'message/send') scheduleSave();
        return send(res, rt, err.errcode, err.errmsg, err.extra);
      }
      throw err;
    }
  };

  /** The in-client OAuth page and the PC login page: a picker, or a redirect with code and state. */
  const handleAuthorize = (res: ServerResponse, url: URL, role: 'oauth' | 'login'): void => {
    const p = url.searchParams;
    const rt = byCorp(p.get('appid'));
    count(rt, role === 'oauth' ? 'connect/oauth2/authorize' : 'wwlogin/sso/login');
    if (!rt) return sendHtml(res, 400, errorPage('参数错误 / Bad appid', 'appid is not the corp id of any corp here.'));
    if (p.get('agentid') !== null && p.get('agentid') !== rt.tenant.wecom.agentId) return sendHtml(res, 400, errorPage('参数错误 / Bad agentid', 'agentid is not this app.'));
    if (role === 'oauth' && p.get('response_type') !== 'code') return sendHtml(res, 400, errorPage('参数错误', 'response_type must be "code".'));
    if (role === 'login' && p.get('login_type') !== 'CorpApp') return sendHtml(res, 400, errorPage('参数错误', 'login_type must be "CorpApp".'));
    let target: URL;
    try {
      target = new URL(p.get('redirect_uri') ?? '');
      if (!/^https?:$/.test(target.protocol)) throw new Error('not http');
    } catch {
      // The real service answers 50001 when the domain is not trusted; any non-URL is refused here.
      return sendHtml(res, 400, errorPage('redirect_uri 参数错误 (50001)', 'redirect_uri must be an absolute http(s) URL.'));
    }
    const model = new WcOrgModel(rt.org, now);
    const userid = p.get('userid');
    if (userid && model.findUser(userid)) {
      target.searchParams.set('code', mintCode(rt, { userId: userid.toLowerCase() }));
      target.searchParams.set('state', p.get('state') ?? '');
      return redirect(res, target.toString());
    }
    const hidden: Record<string, string> = {};
    for (const [k, v] of p) if (k !== 'userid') hidden[k] = v;
    const deptName = (u: SimWcUser): string => rt.org.departments.find((d) => d.id === u.main_department)?.name ?? '';
    sendHtml(
      res,
      userid ? 404 : 200,
      loginPage({
        action: url.pathname,
        title: role === 'oauth' ? '企业微信授权 / WeCom OAuth' : '企业微信登录 / WeCom sign-in',
        orgName: rt.org.departments.find((d) => d.id === 1)?.name ?? rt.tenant.id,
        hidden,
        people: rt.org.users.map((u) => ({ userid: u.userid, name: u.name, detail: deptName(u) })),
        error: userid ? `No member ${userid} in this corp.` : undefined,
      }),
    );
  };

  // ---- control API -----------------------------------------------------------------------------
  const runtimeFor = (id: unknown): Runtime => pickTenant(runtimes, id, 'WeCom');
  const view = (rt: Runtime): WcSimTenantView => {
    const { corpId, agentId } = rt.tenant.wecom;
    return { ...orgStateView(rt), corpId, agentId, tokensIssued: { ...rt.tokensIssued }, faults: structuredClone(rt.faults) };
  };
  const setFaults = (input: WecomFaultsInput): WecomSimFaults => {
    const rt = runtimeFor(input.tenant);
    const was = input.clear ? noWecomFaults() : rt.faults;
    const contactIpAfter2022 = input.contactIpAfter2022 ?? was.contactIpAfter2022;
    const range = input.appVisibleDepartments === undefined ? was.appVisibleDepartments : (input.appVisibleDepartments ?? undefined);
    const { appVisibleDepartments: _old, ...shared } = applyErrcodeFaults(rt.faults, input, 45009) as WecomSimFaults;
    rt.faults = { ...shared, contactIpAfter2022, ...(range ? { appVisibleDepartments: [...range] } : {}) };
    if (input.expireTokens) for (const t of tokens.values()) if (t.tenantId === rt.tenant.id) t.expiresAt = now() - 1;
    return structuredClone(rt.faults);
  };
  const reset = (id?: string): void => {
    const targets = id ? [runtimeFor(id)] : [...runtimes.values()];
    for (const rt of targets) {
      rt.org = seed(rt.tenant);
      rt.faults = noWecomFaults();
      rt.calls = {};
      rt.errors = {};
      rt.tokensIssued = { contact: 0, app: 0 };
      for (const [k, v] of tokens) if (v.tenantId === rt.tenant.id) tokens.delete(k);
      for (const [k, v] of codes) if (v.tenantId === rt.tenant.id) codes.delete(k);
      windows.forget(rt.tenant.id);
    }
    scheduleSave();
  };
  const mintAuthCode = (who: { userId?: string; openId?: string }, o: { tenant?: string } = {}): string => {
    const rt = runtimeFor(o.tenant);
    if (who.userId) {
      if (!new WcOrgModel(rt.org, now).findUser(who.userId)) throw new ControlError(404, `user ${who.userId} does not exist in tenant ${rt.tenant.id}`);
      return mintCode(rt, { userId: who.userId.toLowerCase() });
    }
    if (who.openId) return mintCode(rt, { openId: who.openId });
    throw new ControlError(400, 'userId or openId is required');
  };

  const control: OrgControl<Runtime, WcSimTenantView> = {
    vendor: 'wecom',
    tenantIds: () => [...runtimes.keys()],
    runtimeFor,
    view,
    // WeCom's own faults on top of the shared ones.
    faultsSchema: wecomFaultsSchema,
    setFaults,
    reset,
    upsertUser: (body) => {
      const b = controlSchemas.user.parse(body);
      const rt = runtimeFor(b.tenant);
      const { tenant: _t, jobNumber, ...fields } = b;
      const userid = fields.userid ?? `u${randomBytes(5).toString('hex')}`;
      const extattr = jobNumber ? { attrs: [{ type: 0, name: '工号', text: { value: jobNumber } }] } : undefined;
      return new WcOrgModel(rt.org, now).upsertUser({ ...fields, userid, extattr }, () => `wo${randomBytes(8).toString('hex')}`);
    },
    upsertDepartment: (body) => {
      const b = controlSchemas.department.parse(body);
      return new WcOrgModel(runtimeFor(b.tenant).org, now).upsertDepartment(b);
    },
    removeUser: (rt, userId) => new WcOrgModel(rt.org, now).removeUser(userId),
    removeDepartment: (rt, id) => new WcOrgModel(rt.org, now).removeDepartment(id),
    mintAuthCode: (body) => {
      const b = controlSchemas.authCode.parse(body);
      return mintAuthCode(b, { tenant: b.tenant });
    },
    authCodeTtlSeconds: codeTtlMs / 1000,
    scheduleSave,
  };

  // ---- routing ---------------------------------------------------------------------------------
  const router = new PrefixRouter<Role>(ROUTES);
  for (const t of tenants) {
    router.add(t.wecom.apiBaseUrl, 'api');
    router.add(t.wecom.oauthBaseUrl, 'oauth');
    router.add(t.wecom.loginBaseUrl, 'login');
  }
  if (router.size === 0) {
    router.addPrefix('/cgi-bin', 'api');
    router.addPrefix('', 'oauth');
    router.addPrefix('', 'login');
  }

  const running = await serveOrgSimulator(control, router, {
    listenOn: opts,
    logger,
    flush,
    envelopes: ENVELOPES,
    handle: async (route, req, res, url, bodyText) => {
      if (route.role !== 'api') return handleAuthorize(res, url, route.role);
      if (route.rest === '/gettoken') return await handleGettoken(res, url);
      return await handleApi(req, res, url, route.rest.slice(1), bodyText);
    },
  });
  return { ...running, mintAuthCode, setFaults };
}

/** The WeCom simulator for the local stack (sandbox secrets come from local/sandbox.ts). */
export const wecomSimulator: SimulatorModule = stackSimulator('wecom', startWecomSimulator);

/** A copy of `tenant` whose WeCom URLs point at `simUrl`, keeping their paths (pointTenantAt). */
export function pointWecomAt<T extends TenantConfig>(tenant: T, simUrl: string): T {
  return pointTenantAt(tenant, simUrl, 'wecom', ['apiBaseUrl', 'oauthBaseUrl', 'loginBaseUrl']);
}

const controlSchemas = {
  user: z
    .object({
      tenant: z.string().min(1).optional(),
      userid: z
        .string()
        .regex(/^[\w.@-]{1,64}$/, 'must be 1-64 letters, digits, _ . @ -')
        .optional(),
      name: z.string().min(1).max(64).optional(),
      department: z.array(z.number().int().positive()).min(1).max(100).optional(),
      main_department: z.number().int().positive().optional(),
      email: z.email().optional(),
      biz_mail: z.email().optional(),
      mobile: z
        .string()
        .regex(/^\+?[\d-]{5,20}$/)
        .optional(),
      position: z.string().max(128).optional(),
      gender: z.enum(['0', '1', '2']).optional(),
      status: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(5)]).optional(),
      jobNumber: z.string().min(1).max(64).optional(),
    })
    .strict(),
  department: z
    .object({
      tenant: z.string().min(1).optional(),
      id: z.number().int().positive().optional(),
      name: z.string().min(1).max(64).optional(),
      name_en: z.string().min(1).max(64).optional(),
      parentid: z.number().int().min(0).optional(),
      order: z.number().int().min(0).optional(),
    })
    .strict(),
  authCode: z
    .object({ tenant: z.string().min(1).optional(), userId: z.string().min(1).optional(), openId: z.string().min(1).max(64).optional() })
    .strict()
    .refine((b) => Boolean(b.userId) !== Boolean(b.openId), { message: 'give exactly one of userId and openId' }),
};

function defaultErrmsg(errcode: number): string {
  switch (errcode) {
    case 45009:
      return 'api freq out of limit';
    case 45033:
      return 'api concurrent out of limit';
    case -1:
      return 'system busy';
    case 60011:
      return 'no privilege to access/modify contact/party/agent';
    case 48002:
      return 'api forbidden';
    default:
      return 'simulated error';
  }
}

function noPrivilege(): WcSimError {
  return new WcSimError(60011, 'no privilege to access/modify contact/party/agent');
}

/** department `id`, or 60011 when the app's visible range does not include it. */
function visibleDept(c: Ctx, id: number): SimWcDepartment {
  const d = c.model.dept(id);
  if (c.visible && !c.visible.has(id)) throw noPrivilege();
  return d;
}

/** simplelist / department/list: the subtree, cut to the app's visible range. */
function visibleSubtree(c: Ctx, id: number | undefined): SimWcDepartment[] {
  if (id !== undefined) visibleDept(c, id);
  const all = c.model.subtree(id);
  return c.visible ? all.filter((d) => c.visible?.has(d.id)) : all;
}

function optInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,12}$/.test(v)) throw new WcSimError(40058, `invalid ${key}`);
  return Number(v);
}

function reqInt(q: URLSearchParams, key: string): number {
  const n = optInt(q, key);
  if (n === undefined) throw new WcSimError(40058, `${key} is required`);
  return n;
}

function reqStr(q: URLSearchParams, key: string): string {
  const v = q.get(key);
  if (!v) throw new WcSimError(40058, `${key} is required`);
  return v;
}

function loadState(file: string, logger: Logger | undefined): Record<string, WcTenantState> {
  return loadTenantStates<WcTenantState>(
    file,
    (s) => {
      if (!Array.isArray(s.departments) || !Array.isArray(s.users) || !Array.isArray(s.messages)) throw new Error('bad tenant state');
      s.recent ??= {};
      s.nextMsgId ??= s.messages.length + 1;
    },
    (err) => logger?.warn('wecom simulator state file unreadable; starting from the seed', { file, err }),
  );
}
