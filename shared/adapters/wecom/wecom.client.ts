/**
 * Client for one tenant's WeCom corp (reference wecom.md §4-6).
 *
 * Two secrets, two tokens (reference §4: "one per secret/app, so cache per app"):
 * - the 通讯录同步 (contact sync) secret sees the whole directory; user/list_id accepts
 *   nothing else;
 * - the self-built app's secret sees its visible range only, and is the one that may call
 *   auth/getuserinfo (SSO) and message/send (notifications).
 *
 * Directory reads try the secrets in a fixed order per group ({@link WECOM_SECRET_ORDER})
 * and fall back to the other one when WeCom refuses the first for a reason tied to the
 * secret (60020, 48002, 60011: {@link isWecomSecretRefusal}):
 * - `details` (user/get, user/list, department/list): the app secret first. Since
 *   2022-08-15 an IP newly added to 通讯录同步 may not call these three with the contact
 *   secret (60020), and the bridge's NAT EIPs are always new. The contact secret is the
 *   fallback (corps whose IP was trusted before that date; a member outside the app's
 *   visible range, 60011). So the app's visible range must cover the organisation.
 * - `tree` (department/simplelist, department/get): the contact secret first (it sees the
 *   whole tree and the 2022 rule does not cover these), then the app secret.
 * Secrets the tenant has not configured are skipped. A 60020 or 48002 is remembered per API
 * and secret for {@link REFUSAL_MEMORY_MS}, so later calls go to the working secret first
 * instead of paying a refused call each. When every secret is refused, the error is the
 * first secret's, naming the second's refusal too. See wecom.schemas.ts for what each
 * secret gets since the 2022 restrictions (the app secret gets no email or mobile).
 *
 * Every call waits for the per-corp-and-API rate limiter, retries throttling (45009/45033),
 * "system busy" (-1), HTTP 5xx, timeouts and network failures with full-jitter backoff,
 * refetches the token once when WeCom rejects it (40014/42001), and maps errcodes to
 * {@link WecomApiError}. Tokens and secrets travel in query strings, which never reach an
 * error message or a log line.
 */
import type { z } from 'zod';
import { AuthError, NotConfiguredError, ValidationError } from '../../errors/app-error';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Logger } from '../../logging/logger';
import type { MeteredCall } from '../../ports/usage-meter';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { errcodeRetryOptions, gettokenSchema, meteredApiLimiter, tenantClientSetup, type TenantClientDeps, shapeIssuePaths, tryJson, type ErrcodeClientTuning } from '../http/errcode-api';
import { httpRequest, isRetryableStatus, type HttpResponse } from '../http/http-request';
import { RateLimiterRegistry, type RateLimiter } from '../http/rate-limiter';
import { withRetry } from '../http/retry';
import { wecomApiClass } from './wecom.metering';
import { AccessTokenCache, type IssuedToken } from '../http/token-cache';
import { truncateUtf8 } from '../http/utf8';
import { WECOM_VENDOR, WecomApiError, WecomErrcode, classifyWecomErrcode, isWecomError, isWecomSecretRefusal, isWecomTokenErrcode, type WecomSecretKind } from './wecom.errors';
import {
  departmentGetSchema,
  departmentListSchema,
  envelopeSchema,
  getUserInfoSchema,
  listIdSchema,
  messageSendSchema,
  simpleListSchema,
  userListSchema,
  userSchema,
  type WecomDepartment,
  type WecomDepartmentId,
  type WecomEnvelope,
  type WecomUser,
} from './wecom.schemas';

export type WecomConfig = NonNullable<TenantConfig['wecom']>;

export interface WecomSecrets {
  contactSecret?: string;
  appSecret?: string;
}

/** Limiters are keyed `wecom:<corpId>:<api>`; retries back off up to 30 s by default. */
export interface WecomClientOptions extends ErrcodeClientTuning {
  tenantId: string;
  config: WecomConfig;
  /** Resolves the tenant's WeCom secrets; called per token fetch, never logged. */
  secrets: () => Promise<WecomSecrets>;
  /** Override the order in which directory reads try the secrets (default {@link WECOM_SECRET_ORDER}). */
  secretOrder?: Partial<Record<WecomReadGroup, readonly WecomSecretKind[]>>;
}

/** Directory reads grouped by which secret WeCom lets read them (module doc). */
export type WecomReadGroup = 'tree' | 'details';

/** The order in which directory reads try the secrets; the module doc says why. */
export const WECOM_SECRET_ORDER: Readonly<Record<WecomReadGroup, readonly WecomSecretKind[]>> = {
  details: ['app', 'contact'],
  tree: ['contact', 'app'],
};

/** How long a 60020 / 48002 sends that API's reads to the other secret first (an admin fix takes effect after this). */
export const REFUSAL_MEMORY_MS = 10 * 60_000;

/** user/list_id accepts limit 1..10000 (96067). */
export const WECOM_LIST_ID_MAX = 10_000;
/** message/send: at most 1000 userids per call (90236). */
export const WECOM_MESSAGE_MAX_USERS = 1000;

export interface TextCardInput {
  userIds: readonly string[];
  /** ≤128 bytes; longer titles are cut with "…". */
  title: string;
  /** ≤512 bytes; longer text is cut. WeCom renders a few tags (`<div class="gray">`); escape user text. */
  description: string;
  /** ≤2048 bytes; opened when the card is tapped. */
  url: string;
  /** Button text, ≤4 characters (default 详情). */
  buttonText?: string;
}

export interface TextCardResult {
  msgId: string | undefined;
  /** Recipients WeCom refused (left, unknown, outside the visible range); lowercased by WeCom. */
  invalidUsers: string[];
  /** Recipients without a WeCom licence. */
  unlicensedUsers: string[];
}

type Query = Record<string, string | number | undefined>;

interface CallInit {
  method?: 'GET' | 'POST';
  query?: Query;
  body?: Record<string, unknown>;
  secret: WecomSecretKind | WecomReadGroup;
}

export class WecomClient {
  private readonly tokens = new Map<WecomSecretKind, AccessTokenCache>();
  /** `<api> <secret kind>` -> until when (ms) that secret counts as refused for that API. */
  private readonly refusedUntil = new Map<string, number>();
  private readonly limiters: RateLimiterRegistry;
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(private readonly opts: WecomClientOptions) {
    this.limiters = opts.limiters ?? new RateLimiterRegistry();
    this.logger = opts.logger?.child({ vendor: WECOM_VENDOR, tenant: opts.tenantId });
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get tenantId(): string {
    return this.opts.tenantId;
  }

  get config(): WecomConfig {
    return this.opts.config;
  }

  /** Whether the tenant has the 通讯录同步 secret (needed for user/list_id). */
  async hasContactSecret(): Promise<boolean> {
    return Boolean((await this.opts.secrets()).contactSecret);
  }

  // ---- directory (§4) ---------------------------------------------------------------------

  /** department/simplelist: ids, parents and order of `rootId` and everything below it (default: all). */
  async listDepartmentIds(rootId?: number): Promise<WecomDepartmentId[]> {
    return (await this.call('department/simplelist', { query: { id: rootId }, secret: 'tree' }, simpleListSchema)).department_id;
  }

  /** department/list: full departments below `rootId`. Slow per WeCom; not callable by contact-sync IPs added after 2022-08-15. */
  async listDepartments(rootId?: number): Promise<WecomDepartment[]> {
    return (await this.call('department/list', { query: { id: rootId }, secret: 'details' }, departmentListSchema)).department;
  }

  /** department/get; undefined when WeCom says the department does not exist. */
  async getDepartment(id: number): Promise<WecomDepartment | undefined> {
    try {
      return (await this.call('department/get', { query: { id }, secret: 'tree' }, departmentGetSchema)).department;
    } catch (err) {
      if (isWecomError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  /**
   * user/list_id (POST, cursor): one page of (userid, department) rows for the whole corp.
   * An empty `nextCursor` means done. Only the 通讯录同步 secret may call it (96067).
   */
  async listUserIds(input: { cursor?: string; limit?: number } = {}): Promise<{ nextCursor: string | undefined; rows: Array<{ userid: string; department: number }> }> {
    const limit = input.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > WECOM_LIST_ID_MAX) {
      throw new ValidationError(`limit must be 1-${WECOM_LIST_ID_MAX}`, { code: 'WECOM.INVALID_ARGUMENT' });
    }
    const r = await this.call('user/list_id', { method: 'POST', body: { cursor: input.cursor || undefined, limit }, secret: 'contact' }, listIdSchema);
    return { nextCursor: r.next_cursor, rows: r.dept_user };
  }

  /** user/get (app secret first, see the module doc); undefined when WeCom says the userid does not exist (60111). */
  async getUser(userId: string): Promise<WecomUser | undefined> {
    if (!userId) throw new ValidationError('userId is required', { code: 'WECOM.INVALID_ARGUMENT' });
    try {
      return await this.call('user/get', { query: { userid: userId }, secret: 'details' }, userSchema);
    } catch (err) {
      if (isWecomError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  /**
   * user/list: full members of one department (direct members; recurse yourself, 45029 = too
   * large). App secret first (module doc): one call per department instead of one user/get per member.
   */
  async listDepartmentUsers(departmentId: number): Promise<WecomUser[]> {
    return (await this.call('user/list', { query: { department_id: departmentId }, secret: 'details' }, userListSchema)).userlist;
  }

  // ---- SSO (§5) ---------------------------------------------------------------------------------

  /**
   * In-client OAuth: open.weixin.qq.com/connect/oauth2/authorize … #wechat_redirect.
   * WeCom answers with `?code=&state=` on `redirectUri`, which must be on the app's
   * trusted domain (else 50001). Parameter order follows the doc; state is [a-zA-Z0-9]{1,128}.
   */
  buildOAuthUrl(input: { redirectUri: string; state: string; scope?: 'snsapi_base' | 'snsapi_privateinfo' }): string {
    this.checkRedirect(input.redirectUri, input.state);
    const c = this.opts.config;
    const scope = input.scope ?? 'snsapi_base';
    return (
      `${c.oauthBaseUrl}/connect/oauth2/authorize?appid=${encodeURIComponent(c.corpId)}` +
      `&redirect_uri=${encodeURIComponent(input.redirectUri)}&response_type=code&scope=${scope}` +
      `&state=${input.state}&agentid=${encodeURIComponent(c.agentId)}#wechat_redirect`
    );
  }

  /** PC / browser login (98171): login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp… */
  buildPcLoginUrl(input: { redirectUri: string; state: string; lang?: 'zh' | 'en' }): string {
    this.checkRedirect(input.redirectUri, input.state);
    const c = this.opts.config;
    const lang = input.lang ? `&lang=${input.lang}` : '';
    return (
      `${c.loginBaseUrl}/wwlogin/sso/login?login_type=CorpApp&appid=${encodeURIComponent(c.corpId)}` +
      `&agentid=${encodeURIComponent(c.agentId)}&redirect_uri=${encodeURIComponent(input.redirectUri)}&state=${input.state}${lang}`
    );
  }

  /**
   * code (5 min, single use) → auth/getuserinfo with the app token → userid.
   * A bad or used code (40029) is `SSO.INVALID_CODE`; a non-member (openid only) is `SSO.NOT_A_MEMBER`.
   */
  async getUserIdByCode(code: string): Promise<{ userId: string; userTicket?: string }> {
    if (typeof code !== 'string' || !/^[\w-]{1,512}$/.test(code)) {
      throw new AuthError('SSO.INVALID_CODE', 'The WeCom sign-in code is missing or malformed; open the app from WeCom again.');
    }
    let r: z.output<typeof getUserInfoSchema>;
    try {
      r = await this.call('auth/getuserinfo', { query: { code }, secret: 'app' }, getUserInfoSchema);
    } catch (err) {
      if (isWecomError(err, 'invalidCode')) {
        throw new AuthError('SSO.INVALID_CODE', 'The WeCom sign-in code is invalid, expired or already used; open the app from WeCom again.', { cause: err });
      }
      throw err;
    }
    const userId = r.userid ?? r.UserId;
    if (!userId) throw new AuthError('SSO.NOT_A_MEMBER', 'Sign-in refused: the WeCom user is not a member of this organisation.', { status: 403 });
    return { userId, userTicket: r.user_ticket };
  }

  // ---- app messages (§6) ------------------------------------------------------------------------

  /**
   * message/send with msgtype textcard. Partially invalid recipients still get the card
   * (their ids come back in `invalidUsers`); all invalid is a `WECOM.NO_VALID_RECIPIENTS`
   * error. WeCom's duplicate check (30 min) is on, so a retry after a lost answer does
   * not show the card twice. WeCom silently drops more than 30 messages per member per
   * minute (§6): pace sends upstream.
   */
  async sendTextCard(input: TextCardInput): Promise<TextCardResult> {
    const ids = input.userIds;
    if (ids.length === 0 || ids.length > WECOM_MESSAGE_MAX_USERS) {
      throw new ValidationError(`userIds must hold 1-${WECOM_MESSAGE_MAX_USERS} ids (got ${ids.length})`, { code: 'WECOM.INVALID_ARGUMENT' });
    }
    if (ids.some((id) => !id || /[|\s]/.test(id) || id === '@all')) {
      throw new ValidationError('userIds must be non-empty userids without "|" or spaces (no @all)', { code: 'WECOM.INVALID_ARGUMENT' });
    }
    if (!/^https?:\/\/\S+$/.test(input.url) || Buffer.byteLength(input.url, 'utf8') > 2048) {
      throw new ValidationError('url must be an http(s) URL of at most 2048 bytes', { code: 'WECOM.INVALID_ARGUMENT' });
    }
    const btntxt = input.buttonText ?? '详情';
    if ([...btntxt].length > 4) throw new ValidationError('buttonText must be at most 4 characters', { code: 'WECOM.INVALID_ARGUMENT' });
    if (!/^\d+$/.test(this.opts.config.agentId)) throw new ValidationError(`wecom.agentId "${this.opts.config.agentId}" must be numeric`, { code: 'WECOM.INVALID_ARGUMENT' });
    const body = {
      touser: ids.join('|'),
      msgtype: 'textcard',
      agentid: Number(this.opts.config.agentId),
      textcard: { title: truncateUtf8(input.title, 128), description: truncateUtf8(input.description, 512), url: input.url, btntxt },
      enable_duplicate_check: 1,
      duplicate_check_interval: 1800,
    };
    const r = await this.call('message/send', { method: 'POST', body, secret: 'app' }, messageSendSchema);
    return { msgId: r.msgid, invalidUsers: splitIds(r.invaliduser), unlicensedUsers: splitIds(r.unlicenseduser) };
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private ids(api: string, secretKind?: WecomSecretKind): { tenantId: string; corpId: string; api: string; secretKind?: WecomSecretKind; egressIp?: string } {
    return { tenantId: this.opts.tenantId, corpId: this.opts.config.corpId, api, secretKind, egressIp: this.opts.egressIp };
  }

  private checkRedirect(redirectUri: string, state: string): void {
    if (!/^https?:\/\/\S+$/.test(redirectUri)) throw new ValidationError('redirectUri must be an http(s) URL', { code: 'WECOM.INVALID_ARGUMENT' });
    // §5: state is [a-zA-Z0-9], at most 128 bytes.
    if (!/^[a-zA-Z0-9]{1,128}$/.test(state)) throw new ValidationError('state must be 1-128 letters or digits', { code: 'WECOM.INVALID_ARGUMENT' });
  }

  /** The API's rate limiter; every acquire is one request about to be sent, so it is metered here (wecom.metering.ts). */
  private limiter(api: string): RateLimiter {
    const { tenantId, config, meter } = this.opts;
    const call: MeteredCall = { tenantId, vendor: WECOM_VENDOR, api, cls: wecomApiClass(api) };
    return meteredApiLimiter(this.limiters, { key: `wecom:${config.corpId}:${api}`, requestsPerSecond: config.requestsPerSecond, meter, call });
  }

  /**
   * The secrets to try for `api` in `group`: the configured ones in the group's order, those
   * recently refused with 60020 / 48002 for this API moved last (still tried: the refusal
   * may have been fixed). Unconfigured secrets are skipped; with none configured, the first
   * of the order is returned so its token fetch says which secret is missing.
   */
  private async secretsFor(api: string, group: WecomReadGroup): Promise<WecomSecretKind[]> {
    const order = this.opts.secretOrder?.[group] ?? WECOM_SECRET_ORDER[group];
    const s = await this.opts.secrets();
    const configured = order.filter((k) => Boolean(k === 'contact' ? s.contactSecret : s.appSecret));
    if (configured.length === 0) return order.slice(0, 1);
    const now = this.clock.now();
    const refused = (k: WecomSecretKind): boolean => (this.refusedUntil.get(`${api} ${k}`) ?? 0) > now;
    return [...configured.filter((k) => !refused(k)), ...configured.filter(refused)];
  }

  /** Remember that `kind` may not call `api` (60020 / 48002), and say so once. 60011 is per member: not remembered. */
  private noteRefusal(api: string, kind: WecomSecretKind, err: WecomApiError, next: WecomSecretKind | undefined): void {
    if (err.errcode === WecomErrcode.NO_PRIVILEGE) return;
    const key = `${api} ${kind}`;
    const now = this.clock.now();
    const known = (this.refusedUntil.get(key) ?? 0) > now;
    this.refusedUntil.set(key, now + REFUSAL_MEMORY_MS);
    if (!known) {
      // Field names avoid "secret": the logger redacts those (the values are only kinds).
      this.logger?.warn('wecom refused this API for one secret; reading with the other one', { api, refusedKey: kind, errcode: err.errcode, nextKey: next ?? 'none' });
    }
  }

  /**
   * §4: one token per secret, living `expires_in` (7200) s; gettoken is rate-limited, so
   * cache per (corpId, secret): one cache per secret kind in this client of one corp.
   */
  private tokenCache(kind: WecomSecretKind): AccessTokenCache {
    let cache = this.tokens.get(kind);
    if (!cache) {
      cache = new AccessTokenCache(() => this.fetchToken(kind), this.clock);
      this.tokens.set(kind, cache);
    }
    return cache;
  }

  /** GET /gettoken?corpid=&corpsecret= (91039). Called by the token caches only. */
  private async fetchToken(kind: WecomSecretKind): Promise<IssuedToken> {
    const secrets = await this.opts.secrets();
    const secret = kind === 'contact' ? secrets.contactSecret : secrets.appSecret;
    if (!secret) {
      throw new NotConfiguredError(`Tenant ${this.opts.tenantId} has no wecom ${kind}Secret, which ${kind === 'contact' ? 'user/list_id' : 'SSO, app messages and member details'} need`, {
        code: 'WECOM.SECRET_MISSING',
      });
    }
    const api = 'gettoken';
    await this.limiter(api).acquire();
    const q = new URLSearchParams({ corpid: this.opts.config.corpId, corpsecret: secret });
    const res = await httpRequest({ vendor: WECOM_VENDOR, url: `${this.opts.config.apiBaseUrl}/gettoken?${q.toString()}`, timeoutMs: this.timeoutMs });
    const env = this.envelope(api, kind, res);
    if (env.errcode !== WecomErrcode.OK) {
      throw new WecomApiError({ ...this.ids(api, kind), kind: classifyWecomErrcode(env.errcode), errcode: env.errcode, errmsg: env.errmsg });
    }
    const t = this.parse(api, kind, gettokenSchema, env);
    this.logger?.debug('wecom access token fetched', { secretKind: kind, expiresIn: t.expires_in });
    return { token: t.access_token, expiresInSeconds: t.expires_in };
  }

  /** One API call with one secret, or with a group's secrets in order, falling back on a secret refusal (module doc). */
  private async call<S extends z.ZodType>(api: string, init: CallInit, schema: S): Promise<z.output<S>> {
    if (init.secret === 'contact' || init.secret === 'app') return this.callWith(init.secret, api, init, schema);
    const kinds = await this.secretsFor(api, init.secret);
    let first: WecomApiError | undefined;
    for (const [i, kind] of kinds.entries()) {
      try {
        const out = await this.callWith(kind, api, init, schema);
        if (first) this.logger?.debug('wecom read with the fallback secret', { api, usedKey: kind, refusedKey: first.secretKind, refusedErrcode: first.errcode });
        return out;
      } catch (err) {
        if (!isWecomSecretRefusal(err)) throw err;
        this.noteRefusal(api, kind, err, kinds[i + 1]);
        if (!first) first = err;
        else throw first.withFallback(err);
      }
    }
    throw first as WecomApiError;
  }

  private async callWith<S extends z.ZodType>(kind: WecomSecretKind, api: string, init: CallInit, schema: S): Promise<z.output<S>> {
    const tokens = this.tokenCache(kind);
    let refetched = false;
    return withRetry(
      async () => {
        let token = await tokens.get();
        for (;;) {
          await this.limiter(api).acquire();
          const q = new URLSearchParams({ access_token: token });
          for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) q.set(k, String(v));
          const res = await httpRequest({
            vendor: WECOM_VENDOR,
            url: `${this.opts.config.apiBaseUrl}/${api}?${q.toString()}`,
            method: init.method ?? 'GET',
            headers: init.body ? { 'content-type': 'application/json' } : undefined,
            body: init.body ? JSON.stringify(init.body) : undefined,
            timeoutMs: this.timeoutMs,
          });
          const env = this.envelope(api, kind, res);
          if (env.errcode === WecomErrcode.OK) return this.parse(api, kind, schema, env);
          if (isWecomTokenErrcode(env.errcode) && !refetched) {
            // §4: a token "may be invalidated early, so refetch on 40014/42001". Once per call.
            refetched = true;
            this.logger?.info('wecom access token rejected; fetching a new one', { api, errcode: env.errcode, secretKind: kind });
            tokens.invalidate(token);
            token = await tokens.get();
            continue;
          }
          throw new WecomApiError({ ...this.ids(api, kind), kind: classifyWecomErrcode(env.errcode), errcode: env.errcode, errmsg: env.errmsg });
        }
      },
      // WeCom's limits are per minute and per hour (§4, 90454): back off generously.
      errcodeRetryOptions(this.opts, { vendor: WECOM_VENDOR, api, maxDelayMs: 30_000, logger: this.logger }),
    );
  }

  private envelope(api: string, kind: WecomSecretKind, res: HttpResponse): WecomEnvelope {
    const json = tryJson(res.text);
    const parsed = envelopeSchema.safeParse(json);
    if (parsed.success && typeof json === 'object' && json !== null) return parsed.data;
    if (res.status !== 200) {
      throw new WecomApiError({ ...this.ids(api, kind), kind: isRetryableStatus(res.status) ? 'server' : 'rejected', httpStatus: res.status });
    }
    throw new WecomApiError({ ...this.ids(api, kind), kind: 'badResponse', httpStatus: res.status, errmsg: 'not a WeCom JSON envelope' });
  }

  private parse<S extends z.ZodType>(api: string, kind: WecomSecretKind, schema: S, env: WecomEnvelope): z.output<S> {
    const r = schema.safeParse(env);
    if (r.success) return r.data;
    throw new WecomApiError({ ...this.ids(api, kind), kind: 'badResponse', errmsg: `unexpected response shape at ${shapeIssuePaths(r.error)}` });
  }
}

/** A client for `tenant`, reading secrets lazily from the tenant's `wecom` secret. */
export function createWecomClient(
  tenant: TenantConfig,
  /** `secretName`: another secret than the tenant's (an extra channel, shared/config/channels.ts). */
  deps: TenantClientDeps<Omit<WecomClientOptions, 'tenantId' | 'config' | 'secrets'>>,
): WecomClient {
  const { config, options, readSecret } = tenantClientSetup(tenant, 'wecom', deps);
  const secrets = async (): Promise<WecomSecrets> => {
    const { contactSecret, appSecret } = await readSecret();
    return { contactSecret, appSecret };
  };
  return new WecomClient({ ...options, tenantId: tenant.id, config, secrets });
}

/** Cut to a WeCom byte limit (§6); re-exported for callers of the WeCom adapter. */
export { truncateUtf8 };

function splitIds(s: string | undefined): string[] {
  return s ? s.split('|').filter(Boolean) : [];
}
