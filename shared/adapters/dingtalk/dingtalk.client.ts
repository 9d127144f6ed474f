/**
 * Client for one tenant's DingTalk enterprise internal app (reference dingtalk.md §4-6).
 *
 * Every oapi call:
 * - uses the app's access token, cached for its 7200 s lifetime (refreshed a little
 *   early) and fetched once for concurrent callers (http/token-cache.ts). If DingTalk
 *   says the token is invalid (40014/42001), the token is fetched again and the call
 *   repeated, once per call;
 * - waits for the per-app-and-API rate limiter: DingTalk allows 20 calls/s per app and API
 *   (§4, 90018), the tenant config defaults to 15/s to leave headroom for other callers
 *   of the same app;
 * - retries throttling (90018/90002), "system busy" (-1), HTTP 5xx, timeouts and network
 *   failures with full-jitter exponential backoff (base 1 s: DingTalk counts per second);
 * - maps errcodes to {@link DingtalkApiError} (dingtalk.errors.ts). The access token
 *   travels in the query string, which never reaches an error message or a log line.
 */
import type { z } from 'zod';
import { AuthError, ValidationError } from '../../errors/app-error';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Logger } from '../../logging/logger';
import type { MeteredCall } from '../../ports/usage-meter';
import { systemClock } from '../../ports/clock';
import { errcodeRetryOptions, gettokenSchema, meteredApiLimiter, tenantClientSetup, type TenantClientDeps, shapeIssuePaths, tryJson, type ErrcodeClientTuning } from '../http/errcode-api';
import { httpRequest, isRetryableStatus, type HttpResponse } from '../http/http-request';
import { RateLimiterRegistry, type RateLimiter } from '../http/rate-limiter';
import { withRetry } from '../http/retry';
import { AccessTokenCache, type IssuedToken } from '../http/token-cache';
import { DINGTALK_VENDOR, DingtalkApiError, DingtalkErrcode, classifyDingtalkErrcode, effectiveErrcode, isDingtalkError, isTokenErrcode, type DingtalkErrorKind } from './dingtalk.errors';
import { assertMessageSize, type DingtalkWorkMessage } from './dingtalk.messages';
import { dingtalkApiClass } from './dingtalk.metering';
import {
  asyncSendResultSchema,
  departmentGetResultSchema,
  getByUnionIdResultSchema,
  getUserInfoResultSchema,
  listSubResultSchema,
  newApiErrorSchema,
  oapiEnvelopeSchema,
  userAccessTokenSchema,
  userGetResultSchema,
  userListResultSchema,
  usersMeSchema,
  type DingtalkDepartmentDetail,
  type DingtalkDepartmentSummary,
  type DingtalkUser,
  type DingtalkUserPage,
  type OapiEnvelope,
} from './dingtalk.schemas';

export type DingtalkConfig = NonNullable<TenantConfig['dingtalk']>;

/** Limiters are keyed `dingtalk:<appKey>:<api>`; retries back off up to 10 s by default. */
export interface DingtalkClientOptions extends ErrcodeClientTuning {
  tenantId: string;
  config: DingtalkConfig;
  /** Resolves the app secret; called for each token fetch and OAuth code exchange, never logged. */
  appSecret: () => Promise<string>;
}

/** Largest `size` for topapi/v2/user/list (reference §4 open question 4: likely 100). */
export const DINGTALK_USER_PAGE_MAX = 100;
/** asyncsend_v2 takes at most 100 userids per call (§6). */
export const DINGTALK_NOTIFY_MAX_USERS = 100;

const CODE_PATTERN = /^[\w-]{1,512}$/;

export class DingtalkClient {
  private readonly tokens: AccessTokenCache;
  private readonly limiters: RateLimiterRegistry;
  private readonly logger: Logger | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly opts: DingtalkClientOptions) {
    // §4: one token per app, living `expires_in` (7200) s; gettoken is throttled, so cache it.
    this.tokens = new AccessTokenCache(() => this.fetchToken(), opts.clock ?? systemClock);
    this.limiters = opts.limiters ?? new RateLimiterRegistry();
    this.logger = opts.logger?.child({ vendor: DINGTALK_VENDOR, tenant: opts.tenantId });
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get tenantId(): string {
    return this.opts.tenantId;
  }

  get config(): DingtalkConfig {
    return this.opts.config;
  }

  // ---- directory (§4) ---------------------------------------------------------------------

  /** topapi/v2/department/listsub: the direct sub-departments of `deptId` (root = 1). */
  async listSubDepartments(deptId: number): Promise<DingtalkDepartmentSummary[]> {
    return (await this.oapi('topapi/v2/department/listsub', { dept_id: deptId }, listSubResultSchema)).result;
  }

  /** topapi/v2/department/get; undefined when DingTalk says the department does not exist. */
  async getDepartment(deptId: number): Promise<DingtalkDepartmentDetail | undefined> {
    try {
      return (await this.oapi('topapi/v2/department/get', { dept_id: deptId }, departmentGetResultSchema)).result;
    } catch (err) {
      if (isDingtalkError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  /**
   * topapi/v2/user/list: one page of a department's direct members (not sub-departments).
   * Start with cursor 0 and pass `nextCursor` until `hasMore` is false. Throws (never
   * returns an empty page) if the department is gone, so a pull can't silently miss people.
   */
  async listUsers(deptId: number, cursor = 0, size = DINGTALK_USER_PAGE_MAX): Promise<DingtalkUserPage> {
    if (!Number.isInteger(size) || size < 1 || size > DINGTALK_USER_PAGE_MAX) {
      throw new ValidationError(`size must be 1-${DINGTALK_USER_PAGE_MAX}`, { code: 'DINGTALK.INVALID_ARGUMENT' });
    }
    // contain_access_limit: also return members whose visibility is restricted, so a
    // pull never mistakes a hidden member for one who left.
    const r = (await this.oapi('topapi/v2/user/list', { dept_id: deptId, cursor, size, contain_access_limit: true }, userListResultSchema)).result;
    if (r.has_more && r.next_cursor === undefined) {
      throw new DingtalkApiError({ ...this.ids('topapi/v2/user/list'), kind: 'badResponse', errmsg: 'has_more without next_cursor' });
    }
    return { hasMore: r.has_more, nextCursor: r.next_cursor, list: r.list };
  }

  /** Every direct member of a department, page by page. */
  async *departmentUsers(deptId: number, pageSize = DINGTALK_USER_PAGE_MAX): AsyncGenerator<DingtalkUser[]> {
    let cursor = 0;
    for (;;) {
      const page = await this.listUsers(deptId, cursor, pageSize);
      yield page.list;
      if (!page.hasMore || page.nextCursor === undefined) return;
      cursor = page.nextCursor;
    }
  }

  /** topapi/v2/user/get; undefined when DingTalk says the user does not exist (left or never was). */
  async getUser(userId: string): Promise<DingtalkUser | undefined> {
    if (!userId) throw new ValidationError('userId is required', { code: 'DINGTALK.INVALID_ARGUMENT' });
    try {
      return (await this.oapi('topapi/v2/user/get', { userid: userId }, userGetResultSchema)).result;
    } catch (err) {
      if (isDingtalkError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  // ---- single sign-on (§5) --------------------------------------------------------------------

  /**
   * Workbench H5 login: the auth code from `dd.runtime.permission.requestAuthCode` (5 min,
   * single use) → topapi/v2/user/getuserinfo with the app token → userid.
   * A bad, used or expired code (40078) is an AuthError `SSO.INVALID_CODE`.
   */
  async getUserIdByAuthCode(code: string): Promise<{ userId: string; unionId?: string; name?: string }> {
    requireCode(code);
    try {
      const r = (await this.oapi('topapi/v2/user/getuserinfo', { code }, getUserInfoResultSchema)).result;
      return { userId: r.userid, unionId: r.unionid, name: r.name };
    } catch (err) {
      if (isDingtalkError(err, 'invalidCode')) throw invalidCode(err);
      throw err;
    }
  }

  /**
   * PC browser / QR login, step 1: where to send the browser (login.dingtalk.com/oauth2/auth).
   * DingTalk redirects back to `redirectUri` with `authCode` and `state`.
   */
  buildLoginUrl(input: { redirectUri: string; state: string }): string {
    if (!/^https?:\/\/\S+$/.test(input.redirectUri)) throw new ValidationError('redirectUri must be an http(s) URL', { code: 'DINGTALK.INVALID_ARGUMENT' });
    if (!/^[\w.~-]{1,128}$/.test(input.state)) throw new ValidationError('state must be 1-128 URL-safe characters', { code: 'DINGTALK.INVALID_ARGUMENT' });
    const q = new URLSearchParams({
      redirect_uri: input.redirectUri,
      response_type: 'code',
      client_id: this.opts.config.appKey,
      scope: 'openid',
      state: input.state,
      prompt: 'consent',
    });
    return `${this.opts.config.loginBaseUrl}/oauth2/auth?${q.toString()}`;
  }

  /**
   * PC browser / QR login, steps 2-3: authCode → /v1.0/oauth2/userAccessToken →
   * /v1.0/contact/users/me (unionId) → topapi/user/getbyunionid → userid.
   * A bad code is `SSO.INVALID_CODE`; someone outside this organisation (another corpId,
   * an external contact, an unknown unionId) is `SSO.NOT_A_MEMBER`.
   */
  async getUserIdByOAuthCode(authCode: string): Promise<{ userId: string; unionId: string }> {
    requireCode(authCode);
    const clientSecret = await this.opts.appSecret();
    const token = await this.newApi(
      'v1.0/oauth2/userAccessToken',
      { method: 'POST', body: { clientId: this.opts.config.appKey, clientSecret, code: authCode, grantType: 'authorization_code' } },
      userAccessTokenSchema,
    );
    if (token.corpId && token.corpId !== this.opts.config.corpId) {
      throw notAMember('the DingTalk account signed in for another organisation');
    }
    const me = await this.newApi('v1.0/contact/users/me', { method: 'GET', userToken: token.accessToken }, usersMeSchema);
    try {
      const r = (await this.oapi('topapi/user/getbyunionid', { unionid: me.unionId }, getByUnionIdResultSchema)).result;
      // contact_type 1 = an external contact of the organisation, not a member.
      if (r.contact_type === 1) throw notAMember('the DingTalk account is an external contact');
      return { userId: r.userid, unionId: me.unionId };
    } catch (err) {
      if (isDingtalkError(err, 'notFound')) throw notAMember('the DingTalk account is not a member of this organisation', err);
      throw err;
    }
  }

  // ---- work notifications (§6) --------------------------------------------------------------

  /**
   * topapi/message/corpconversation/asyncsend_v2 to up to 100 members. Asynchronous:
   * success means DingTalk accepted the task, not that it was delivered; DingTalk drops
   * the same content to the same user within a day and beyond 500 a day (§6).
   */
  async sendWorkNotification(input: { userIds: readonly string[]; msg: DingtalkWorkMessage }): Promise<{ taskId: string }> {
    const ids = input.userIds;
    if (ids.length === 0 || ids.length > DINGTALK_NOTIFY_MAX_USERS) {
      throw new ValidationError(`userIds must hold 1-${DINGTALK_NOTIFY_MAX_USERS} ids (got ${ids.length})`, { code: 'DINGTALK.INVALID_ARGUMENT' });
    }
    if (ids.some((id) => !id || /[,\s]/.test(id))) throw new ValidationError('userIds must be non-empty and contain no commas or spaces', { code: 'DINGTALK.INVALID_ARGUMENT' });
    if (!/^\d+$/.test(this.opts.config.agentId)) throw new ValidationError(`dingtalk.agentId "${this.opts.config.agentId}" must be numeric`, { code: 'DINGTALK.INVALID_ARGUMENT' });
    assertMessageSize(input.msg);
    const r = await this.oapi(
      'topapi/message/corpconversation/asyncsend_v2',
      { agent_id: Number(this.opts.config.agentId), userid_list: ids.join(','), msg: input.msg },
      asyncSendResultSchema,
    );
    return { taskId: r.task_id };
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private ids(api: string): { tenantId: string; appKey: string; api: string; egressIp?: string } {
    return { tenantId: this.opts.tenantId, appKey: this.opts.config.appKey, api, egressIp: this.opts.egressIp };
  }

  /** The API's rate limiter; every acquire is one request about to be sent, so it is metered here (dingtalk.metering.ts). */
  private limiter(api: string): RateLimiter {
    const { tenantId, config, meter } = this.opts;
    const call: MeteredCall = { tenantId, vendor: DINGTALK_VENDOR, api, cls: dingtalkApiClass(api) };
    return meteredApiLimiter(this.limiters, { key: `dingtalk:${config.appKey}:${api}`, requestsPerSecond: config.requestsPerSecond, meter, call });
  }

  /** A 90020 / ApiCountLimitForOrg answer: tell the meter (the quota state, dingtalk.md §8) and build the error. */
  private quotaAware(err: DingtalkApiError): DingtalkApiError {
    if (err.kind === 'quota') this.opts.meter?.quotaExhausted({ tenantId: this.opts.tenantId, vendor: DINGTALK_VENDOR, api: err.api });
    return err;
  }

  private retry<T>(api: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, errcodeRetryOptions(this.opts, { vendor: DINGTALK_VENDOR, api, maxDelayMs: 10_000, logger: this.logger }));
  }

  /** GET /gettoken?appkey=&appsecret= (legacy token; §4). Called by the token cache only. */
  private async fetchToken(): Promise<IssuedToken> {
    const secret = await this.opts.appSecret();
    const api = 'gettoken';
    await this.limiter(api).acquire();
    const q = new URLSearchParams({ appkey: this.opts.config.appKey, appsecret: secret });
    const res = await httpRequest({ vendor: DINGTALK_VENDOR, url: `${this.opts.config.apiBaseUrl}/gettoken?${q.toString()}`, timeoutMs: this.timeoutMs });
    const env = this.envelope(api, res);
    const code = effectiveErrcode(env);
    if (code !== DingtalkErrcode.OK) {
      // At gettoken, 40089 (reference) and 40001 (community list: "Secret错误") mean the
      // credentials are wrong: no amount of retrying helps.
      const kind: DingtalkErrorKind = code === DingtalkErrcode.BAD_CREDENTIALS || code === 40001 ? 'credentials' : classifyDingtalkErrcode(code);
      throw new DingtalkApiError({ ...this.ids(api), kind, errcode: code, errmsg: env.sub_msg ?? env.errmsg, requestId: env.request_id });
    }
    const t = this.parse(api, gettokenSchema, env);
    this.logger?.debug('dingtalk access token fetched', { expiresIn: t.expires_in });
    return { token: t.access_token, expiresInSeconds: t.expires_in };
  }

  /** POST <apiBaseUrl>/<api>?access_token= with a JSON body; refetches the token once if DingTalk rejects it. */
  private async oapi<S extends z.ZodType>(api: string, body: Record<string, unknown>, schema: S): Promise<z.output<S>> {
    let refetched = false;
    return this.retry(api, async () => {
      let token = await this.tokens.get();
      for (;;) {
        await this.limiter(api).acquire();
        const res = await httpRequest({
          vendor: DINGTALK_VENDOR,
          url: `${this.opts.config.apiBaseUrl}/${api}?access_token=${encodeURIComponent(token)}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          timeoutMs: this.timeoutMs,
        });
        const env = this.envelope(api, res);
        const code = effectiveErrcode(env);
        if (code === DingtalkErrcode.OK) return this.parse(api, schema, env);
        if (isTokenErrcode(code) && !refetched) {
          // The token died before its time (§4: it may be invalidated early). One fresh
          // fetch per call; a second rejection is reported, not looped on.
          refetched = true;
          this.logger?.info('dingtalk access token rejected; fetching a new one', { api, errcode: code });
          this.tokens.invalidate(token);
          token = await this.tokens.get();
          continue;
        }
        throw this.quotaAware(new DingtalkApiError({ ...this.ids(api), kind: classifyDingtalkErrcode(code), errcode: code, errmsg: env.sub_msg ?? env.errmsg, requestId: env.request_id }));
      }
    });
  }

  /**
   * The new API (api.dingtalk.com, §5): JSON in and out, errors as HTTP 4xx/5xx with
   * `{code, message}`. Throttling (429 or a QpsLimit code) and 5xx are retried; any other
   * 4xx on these SSO endpoints means the code or user token is no good.
   */
  private async newApi<S extends z.ZodType>(
    api: string,
    init: { method: 'GET' | 'POST'; body?: Record<string, unknown>; userToken?: string },
    schema: S,
  ): Promise<z.output<S>> {
    return this.retry(api, async () => {
      await this.limiter(api).acquire();
      const headers: Record<string, string> = { accept: 'application/json' };
      if (init.body) headers['content-type'] = 'application/json';
      if (init.userToken) headers['x-acs-dingtalk-access-token'] = init.userToken;
      const res = await httpRequest({
        vendor: DINGTALK_VENDOR,
        url: `${this.opts.config.newApiBaseUrl}/${api}`,
        method: init.method,
        headers,
        body: init.body ? JSON.stringify(init.body) : undefined,
        timeoutMs: this.timeoutMs,
      });
      const json = tryJson(res.text);
      if (res.status === 200) {
        const parsed = schema.safeParse(json);
        if (parsed.success) return parsed.data;
        throw new DingtalkApiError({ ...this.ids(api), kind: 'badResponse', httpStatus: res.status, errmsg: 'unexpected response shape' });
      }
      const e = newApiErrorSchema.safeParse(json);
      const code = e.success ? e.data.code : undefined;
      // §8: the new API says `Forbidden.AccessDenied.ApiCountLimitForOrg` where oapi says 90020.
      if (/ApiCountLimitForOrg/i.test(code ?? '')) throw this.quotaAware(new DingtalkApiError({ ...this.ids(api), kind: 'quota', httpStatus: res.status, errmsg: code }));
      const throttled = res.status === 429 || /QpsLimit|Throttl/i.test(code ?? '');
      // A refused client id / secret is our configuration, not the user's code.
      const kind: DingtalkErrorKind = throttled ? 'throttled' : isRetryableStatus(res.status) ? 'server' : /client|secret|appkey/i.test(code ?? '') ? 'credentials' : 'invalidCode';
      const err = new DingtalkApiError({ ...this.ids(api), kind, httpStatus: res.status, errmsg: code, requestId: e.success ? e.data.requestid : undefined });
      if (kind === 'invalidCode') throw invalidCode(err);
      throw err;
    });
  }

  /** Parse an oapi response into its envelope, classifying transport-level failures. */
  private envelope(api: string, res: HttpResponse): OapiEnvelope {
    const parsed = oapiEnvelopeSchema.safeParse(tryJson(res.text));
    if (parsed.success) return parsed.data;
    if (res.status !== 200) {
      throw new DingtalkApiError({ ...this.ids(api), kind: isRetryableStatus(res.status) ? 'server' : 'rejected', httpStatus: res.status });
    }
    throw new DingtalkApiError({ ...this.ids(api), kind: 'badResponse', httpStatus: res.status, errmsg: 'not a DingTalk JSON envelope' });
  }

  private parse<S extends z.ZodType>(api: string, schema: S, env: OapiEnvelope): z.output<S> {
    const r = schema.safeParse(env);
    if (r.success) return r.data;
    throw new DingtalkApiError({ ...this.ids(api), kind: 'badResponse', errmsg: `unexpected response shape at ${shapeIssuePaths(r.error)}`, requestId: env.request_id });
  }
}

/** A client for `tenant`, reading the app secret lazily from the tenant's `dingtalk` secret. */
export function createDingtalkClient(
  tenant: TenantConfig,
  /** `secretName`: another secret than the tenant's (an extra channel, shared/config/channels.ts). */
  deps: TenantClientDeps<Omit<DingtalkClientOptions, 'tenantId' | 'config' | 'appSecret'>>,
): DingtalkClient {
  const { config, options, readSecret } = tenantClientSetup(tenant, 'dingtalk', deps);
  return new DingtalkClient({ ...options, tenantId: tenant.id, config, appSecret: async () => (await readSecret()).appSecret });
}

function requireCode(code: string): void {
  if (typeof code !== 'string' || !CODE_PATTERN.test(code)) {
    throw new AuthError('SSO.INVALID_CODE', 'The DingTalk sign-in code is missing or malformed; open the app from DingTalk again.');
  }
}

function invalidCode(cause: unknown): AuthError {
  return new AuthError('SSO.INVALID_CODE', 'The DingTalk sign-in code is invalid, expired or already used; open the app from DingTalk again.', { cause });
}

function notAMember(why: string, cause?: unknown): AuthError {
  return new AuthError('SSO.NOT_A_MEMBER', `Sign-in refused: ${why}.`, { status: 403, cause });
}
