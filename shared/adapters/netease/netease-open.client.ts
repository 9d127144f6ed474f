/**
 * Client for the NetEase open platform (`https://api.qiye.163.com`, reference
 * netease-qiye-api.md §4), one instance per tenant. The bridge uses it for the one thing
 * the legacy "qiyeservice" API cannot do: move a unit under another parent
 * (`/api/open/unit/moveUnit {unitId, unitParentId}`, N4). Everything else stays on the
 * legacy client (netease.client.ts).
 *
 * The §4 facts come from community integrations (N1-N5), not a NetEase specification, so
 * the feature is optional per tenant (`netease.openPlatform` plus an `authCode` in the
 * tenant's `netease` secret): without both, the sync keeps reporting unit moves as
 * unsupported.
 *
 * Every call:
 * - carries an access token from `/api/pub/token/acquireToken {appId, authCode, orgOpenId}`,
 *   cached until shortly before its `accessTokenExpiredTime` (China time) and fetched once
 *   for concurrent callers (http/token-cache.ts). On -300 (token unavailable) or -301
 *   (access token expired), clients re-fetch (N2, N5): we drop the token and fetch a new
 *   one, once per call. The refresh endpoint (N5) is not used: it costs the same one call
 *   as acquireToken and adds a second expiry to track;
 * - POSTs JSON with the headers `qiye-access-token`, `qiye-app-id`, `qiye-org-open-id`
 *   (§4 "Headers"). N4 also lists `qiye-timestamp` and `qiye-nonce`, but fills them with
 *   placeholders, so they are not checked (Open questions §5): we do not send them;
 * - waits for the tenant's NetEase rate limiter (shared with the legacy client when the
 *   wiring passes the same one), times out after `timeoutMs`, and retries retryable
 *   failures (-1/-2 system, -422/-423 rate limit, -500 third party, HTTP 408/429/5xx,
 *   network, timeouts) with jittered exponential backoff;
 * - parses the `{code, success, message, data}` envelope with zod; failures become
 *   {@link NeteaseOpenApiError}, a NeteaseApiError, so callers classify both APIs alike.
 *
 * Neither the authCode nor a token ever reaches a log line or an error message: logs carry
 * the operation, attempt, timing and codes; error messages the operation, code and marker.
 */
import type { z } from 'zod';
import { ValidationError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { httpRequest, type HttpResponse } from '../http/http-request';
import { createRateLimiter, type RateLimiter } from '../http/rate-limiter';
import { httpStatusFailure, withRetry } from '../http/retry';
import { AccessTokenCache, type IssuedToken } from '../http/token-cache';
import { classifyNeteaseErrorCode, NeteaseApiError, neteaseRetryOptions, type NeteaseApiErrorInit, type NeteaseErrorClass } from './netease.errors';
import type { NeteaseClientOptions } from './netease.client';
import type { NeteaseMailList, NeteaseMailLists } from '../../ports/netease-maillists';
import { openIgnoredDataSchema, openMaillistMembersSchema, openMaillistPageSchema, toAliasNames } from './netease-maillist.schemas';
import {
  acquireTokenDataSchema,
  moveUnitDataSchema,
  OPEN_TOP_LEVEL_PARENT,
  openAccountPageSchema,
  type NeteaseOpenAccount,
  openEnvelopeSchema,
  openUnitListSchema,
  parseChinaTime,
  toOpenUnit,
  type NeteaseOpenUnit,
  type OpenEnvelope,
} from './netease-open.schemas';

export { OPEN_TOP_LEVEL_PARENT, parseChinaTime, type NeteaseOpenAccount, type NeteaseOpenUnit } from './netease-open.schemas';

/** Rows per getAccountList page (our choice; §4 names no maximum). */
export const OPEN_ACCOUNT_PAGE_SIZE = 1000;

/** The tenant's `netease.openPlatform` section plus what the client needs from `netease`. */
export interface NeteaseOpenSettings {
  /** e.g. https://api.qiye.163.com (no trailing slash). */
  baseUrl: string;
  appId: string;
  orgOpenId: string;
  /** The mail domain: sent in the bodies that take one (§4). */
  domain: string;
  timeoutMs: number;
  maxRetries: number;
  /** Used only when no shared `limiter` is given. */
  requestsPerSecond?: number;
}

/** The legacy client's options (pass the tenant's `neteaseRateLimiter` so both APIs share one budget), plus the authCode. */
export interface NeteaseOpenClientOptions extends NeteaseClientOptions {
  /**
   * The app's authCode, read at each token fetch (so a rotated value is picked up at the
   * next fetch). Never logged, never put in an error.
   */
  authCode: () => Promise<string>;
}

const VENDOR = 'netease';

/** Open-platform codes (§4 "Codes", N4). */
export const NeteaseOpenCode = {
  OK: 0,
  SYSTEM_ERROR: -1,
  INNER_SERVICE_ERROR: -2,
  BUSINESS_FAILURE: -3,
  DATA_NOT_EXISTS: -4,
  AUTH_FAILURE: -100,
  AUTH_DATA_NOT_FOUND: -101,
  ACCESS_DENY: -200,
  IP_DENY: -201,
  PERMISSION_NOT_REGISTER: -202,
  TOKEN_NOT_AVAILABLE: -300,
  TOKEN_ACCESS_EXPIRED: -301,
  TOKEN_REFRESH_EXPIRED: -302,
  TOKEN_GENERATE_ERROR: -303,
  AUTH_EXPIRED: -304,
  APP_EXPIRED: -305,
  REQUEST_ERROR: -400,
  PARAM_ERROR: -401,
  REQUEST_REPEAT: -421,
  FREQUENCY_TOO_HIGH: -422,
  APP_FREQUENCY_TOO_HIGH: -423,
  HEADER_ERROR: -424,
  THIRD_PARTY_ERROR: -500,
} as const;

const c = (kind: NeteaseErrorClass['kind'], retryable = false): NeteaseErrorClass => ({ kind, retryable });

/**
 * How each open-platform code is handled. -3 is classified by its business marker (see
 * {@link classifyNeteaseOpenCode}); codes not listed are non-retryable rejections.
 */
const OPEN_CODES = new Map<number, NeteaseErrorClass>([
  [-1, c('server', true)],
  [-2, c('server', true)],
  [-4, c('notFound')],
  [-100, c('auth')],
  [-101, c('auth')],
  [-200, c('auth')],
  [-201, c('auth')],
  [-202, c('auth')],
  // After the one re-fetch the client allows per call: the token keeps dying, which a
  // retry will not fix (a clock far off, a revoked app).
  [-300, c('auth')],
  [-301, c('auth')],
  [-302, c('auth')],
  // "token 产生失败": NetEase failed to issue one; a later try may succeed.
  [-303, c('server', true)],
  [-304, c('auth')],
  [-305, c('auth')],
  [-320, c('auth')],
  [-321, c('auth')],
  [-322, c('auth')],
  [-400, c('invalid')],
  [-401, c('invalid')],
  // "请求重复": NetEase's replay guard (its nonce header is unused here); repeating it won't pass.
  [-421, c('rejected')],
  [-422, c('throttled', true)],
  [-423, c('throttled', true)],
  [-424, c('invalid')],
  [-500, c('server', true)],
]);

/**
 * What an operator must do for the codes only an admin can fix. Shown in the run log, so
 * it names settings and places, never values.
 */
const ADMIN_HINTS: Partial<Record<number, string>> = {
  [-100]: 'the open-platform credentials were refused: check netease.openPlatform.appId and orgOpenId in the tenant config and the authCode in the tenant\'s netease secret',
  [-101]: 'NetEase does not know this open-platform app: check netease.openPlatform.appId and orgOpenId in the tenant config',
  [-200]: 'NetEase denied the open-platform app access to this domain: check the app\'s authorization in the NetEase admin backend',
  [-201]:
    'NetEase refused the call because our IP address is not whitelisted (IP_DENY): add the bridge\'s egress IP addresses (the EgressIp* stack outputs) to the open-platform app\'s IP whitelist in the NetEase admin backend',
  [-202]: 'the open-platform app has no permission for this API (PERMISSION_NOT_REGISTER): grant it in the NetEase admin backend',
  [-304]: 'the open-platform authorization has expired: renew it in the NetEase admin backend and store the new authCode',
  [-305]: 'the open-platform app has expired: renew it in the NetEase admin backend',
};

/**
 * Classify an open-platform code. -3 ("通用业务操作失败: <MARKER>", N2/N4) takes its kind from
 * the marker through the shared table (`UNIT.EXIST` duplicate, `ACCOUNT.NOTEXIST` not
 * found, ...) and is never retried: a business refusal does not change on repetition.
 */
export function classifyNeteaseOpenCode(code: number, marker?: string): NeteaseErrorClass {
  if (code === NeteaseOpenCode.BUSINESS_FAILURE) return { kind: marker ? classifyNeteaseErrorCode(marker).kind : 'rejected', retryable: false };
  return OPEN_CODES.get(code) ?? c('rejected');
}

/**
 * The marker of a -3 message (`通用业务操作失败: UNIT.EXIST`, `…: ACCOUNT.NOTEXIST:<email>`):
 * the dotted upper-case word, without what follows it (that part can hold an address).
 */
export function businessMarker(message: string | null | undefined): string | undefined {
  const m = /([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+)/.exec(message ?? '');
  return m?.[1]?.slice(0, 60);
}

export interface NeteaseOpenApiErrorInit extends NeteaseApiErrorInit {
  /** The open platform's numeric code, when it sent one. */
  openCode?: number;
  /** The business marker of a -3 answer. */
  marker?: string;
}

/**
 * An open-platform call failed. A NeteaseApiError (same kinds and codes as the legacy
 * client), plus the numeric `openCode` and the -3 `marker`. Messages name the operation,
 * code, marker and, for admin-actionable codes, what to fix: never tokens or the authCode.
 */
export class NeteaseOpenApiError extends NeteaseApiError {
  readonly openCode: number | undefined;
  readonly marker: string | undefined;

  constructor(init: NeteaseOpenApiErrorInit, message?: string) {
    super({ ...init, errorCode: init.errorCode ?? init.marker ?? (init.openCode !== undefined ? String(init.openCode) : undefined) }, message ?? openMessage(init));
    this.openCode = init.openCode;
    this.marker = init.marker;
  }

  /** From an envelope's code (and -3 message), classified. */
  static fromOpenCode(operation: string, code: number, message: string | null | undefined, extra: Partial<NeteaseOpenApiErrorInit> = {}): NeteaseOpenApiError {
    const marker = code === NeteaseOpenCode.BUSINESS_FAILURE ? businessMarker(message) : undefined;
    return new NeteaseOpenApiError({ operation, openCode: code, ...(marker ? { marker } : {}), ...classifyNeteaseOpenCode(code, marker), ...extra });
  }
}

function openMessage(init: NeteaseOpenApiErrorInit): string {
  const what = init.openCode !== undefined ? `code ${init.openCode}${init.marker ? ` ${init.marker}` : ''}` : init.httpStatus !== undefined ? `HTTP ${init.httpStatus}` : init.kind;
  const hint = init.openCode !== undefined ? ADMIN_HINTS[init.openCode] : undefined;
  return `netease open ${init.operation} failed: ${what} (${init.kind}${init.retryable ? ', retryable' : ''})${hint ? `: ${hint}` : ''}`;
}

/**
 * Mailing-list settings the bridge sends on create and update (N1 UpdateMaillist):
 * `mailListUserType` 4 = anyone of the domain may send to the list (0 everyone, 2 members
 * and authorised users, 3 authorised users only); `visibleInAddr` 1 = shown in the address
 * book. Our choice for department lists; not configurable yet.
 */
const MAILLIST_USER_TYPE = 4;
const MAILLIST_VISIBLE_IN_ADDR = 1;
/** Rows per maillist/getMaillistList page (Unconfirmed call; our choice of size). */
const OPEN_MAILLIST_PAGE_SIZE = 500;

/** One tenant's NetEase open platform. Construct once per tenant and reuse (the token is cached inside). */
export class NeteaseOpenClient implements NeteaseMailLists {
  private readonly tokens: AccessTokenCache;
  private readonly limiter: RateLimiter;
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly settings: NeteaseOpenSettings,
    private readonly options: NeteaseOpenClientOptions,
  ) {
    for (const k of ['baseUrl', 'appId', 'orgOpenId', 'domain'] as const) requireText(k, settings[k]);
    this.clock = options.clock ?? systemClock;
    this.tokens = new AccessTokenCache(() => this.fetchToken(), this.clock);
    this.limiter = options.limiter ?? createRateLimiter({ requestsPerSecond: settings.requestsPerSecond ?? 20 });
    this.logger = options.logger?.child({ vendor: VENDOR, api: 'open', domain: settings.domain });
  }

  /** The mail domain this client serves. */
  get domain(): string {
    return this.settings.domain;
  }

  // ---- units ---------------------------------------------------------------------------

  /** /api/open/unit/getUnitList {domain}: every unit of the domain, flat; top-level units have no parentId. */
  async getUnitList(): Promise<NeteaseOpenUnit[]> {
    const data = await this.call('unit/getUnitList', { domain: this.settings.domain }, openUnitListSchema);
    return data.map(toOpenUnit);
  }

  /**
   * /api/open/unit/moveUnit {domain, unitId, unitParentId} (§4, N4): put the unit, with its
   * accounts and sub-units, under `parentUnitId` (undefined = the top level, sent as
   * {@link OPEN_TOP_LEVEL_PARENT}). The unit keeps its id.
   *
   * With `expect.unitName`, the unit list is read first and the move is refused (kind
   * `notFound`, nothing sent) unless the open platform knows `unitId` under that name and
   * knows the new parent: no source says the legacy API's unit_id and the open
   * platform's unitId are the same number, and moving the wrong unit would be far worse
   * than not moving.
   */
  async moveUnit(unitId: string, parentUnitId: string | undefined, expect: { unitName?: string } = {}): Promise<void> {
    const operation = 'unit/moveUnit';
    requireText('unitId', unitId);
    if (parentUnitId !== undefined) requireText('parentUnitId', parentUnitId);
    if (parentUnitId === unitId) throw new ValidationError('a unit cannot be moved under itself', { code: 'NETEASE.INVALID_ARGUMENT' });
    if (expect.unitName !== undefined) {
      const units = await this.getUnitList();
      const unit = units.find((u) => u.unitId === unitId);
      if (!unit || unit.unitName !== expect.unitName) {
        throw new NeteaseOpenApiError(
          { operation, kind: 'notFound', retryable: false },
          `netease open ${operation}: the open platform does not list unit ${unitId} under the name the legacy API gives it; not moved (the two APIs may number units differently)`,
        );
      }
      if (parentUnitId !== undefined && !units.some((u) => u.unitId === parentUnitId)) {
        throw new NeteaseOpenApiError({ operation, kind: 'notFound', retryable: false }, `netease open ${operation}: the open platform does not list the new parent unit ${parentUnitId}; unit ${unitId} not moved`);
      }
    }
    await this.call(operation, { domain: this.settings.domain, unitId, unitParentId: parentUnitId ?? OPEN_TOP_LEVEL_PARENT }, moveUnitDataSchema);
  }

  /**
   * /api/open/unit/getAccountList {domain, recursion, pageNum, pageSize} for the whole
   * domain, every page: each mailbox with its unit and status (§4), which the legacy list
   * lacks. Page size 1000 is our choice (the reference gives no maximum). Stops at `count`
   * or at an empty page.
   */
  async getAllAccounts(): Promise<NeteaseOpenAccount[]> {
    const out: NeteaseOpenAccount[] = [];
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.call('unit/getAccountList', { domain: this.settings.domain, recursion: true, pageNum, pageSize: OPEN_ACCOUNT_PAGE_SIZE }, openAccountPageSchema);
      out.push(...page.list);
      if (page.list.length === 0 || out.length >= page.count) return out;
    }
  }

  // ---- mailing lists (maillist/*) --------------------------------------------------------
  //
  // Confirmed (§4, and NetEase's own open-platform Java demo, N1: com.netease.qiye.api.maillist
  // UpdateMaillist / AddMaillistForwardList): `/api/open/maillist/updateMaillist {domain,
  // accountName (the list's local part), name, visibleInAddr, mailListUserType, members
  // (comma-separated addresses), memberUnits, authMembers}`, where "members or memberUnits,
  // at least one" is required, which reads as a whole-list edit. We send `members` only (an
  // explicit member set lets leavers leave at once; memberUnits would keep a suspended
  // leaver, who stays in the unit, and its sub-unit semantics are unknown).
  // Unconfirmed (no public source found; the names follow the NetEase webmail's own
  // `commonweb/maillist/{createMaillist, deleteMaillist, getMaillistMember}` paths, seen in a
  // public NetEase front-end config, and the open platform's `{count, list}` paging):
  // createMaillist (same fields as updateMaillist), deleteMaillist {domain, accountName},
  // getMaillistList {domain, pageNum, pageSize} -> {count, list[{accountName, name}]},
  // getMaillistMember {domain, accountName} -> {members[address]}, and the -3 markers
  // MAILLIST.EXIST / MAILLIST.NOTEXIST (classified in netease.errors.ts).

  /** /api/open/maillist/getMaillistList (Unconfirmed), every page. */
  async listMailLists(): Promise<NeteaseMailList[]> {
    const out: NeteaseMailList[] = [];
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.call('maillist/getMaillistList', { domain: this.settings.domain, pageNum, pageSize: OPEN_MAILLIST_PAGE_SIZE }, openMaillistPageSchema);
      for (const l of page.list) out.push({ name: localPartOf(l.accountName, this.settings.domain), ...(l.name ? { displayName: l.name } : {}) });
      if (page.list.length === 0 || out.length >= page.count) return out;
    }
  }

  /** /api/open/maillist/getMaillistMember (Unconfirmed): local parts of the domain, other addresses whole. */
  async getMailListMembers(name: string): Promise<string[]> {
    requireText('name', name);
    const data = await this.call('maillist/getMaillistMember', { domain: this.settings.domain, accountName: name }, openMaillistMembersSchema);
    const domain = this.settings.domain.toLowerCase();
    const local = toAliasNames(data.members, domain);
    const foreign = data.members.map((m) => m.trim().toLowerCase()).filter((m) => m.includes('@') && !m.endsWith(`@${domain}`));
    return [...local, ...foreign].sort();
  }

  /** /api/open/maillist/createMaillist (Unconfirmed name; fields as updateMaillist, N1). */
  async createMailList(input: { name: string; displayName: string; members: readonly string[] }): Promise<void> {
    await this.call('maillist/createMaillist', this.maillistBody(input.name, input), openIgnoredDataSchema);
  }

  /** /api/open/maillist/updateMaillist (N1): display name and the whole member set. */
  async updateMailList(name: string, input: { displayName: string; members: readonly string[] }): Promise<void> {
    await this.call('maillist/updateMaillist', this.maillistBody(name, input), openIgnoredDataSchema);
  }

  /** /api/open/maillist/deleteMaillist (Unconfirmed). */
  async deleteMailList(name: string): Promise<void> {
    requireText('name', name);
    await this.call('maillist/deleteMaillist', { domain: this.settings.domain, accountName: name }, openIgnoredDataSchema);
  }

  private maillistBody(name: string, input: { displayName: string; members: readonly string[] }): Record<string, unknown> {
    requireText('name', name);
    requireText('displayName', input.displayName);
    if (name.includes('@')) throw new ValidationError('a list name is a local part only (no @domain)', { code: 'NETEASE.INVALID_ARGUMENT' });
    if (input.members.length === 0) throw new ValidationError('a mailing list needs at least one member (updateMaillist requires members or memberUnits)', { code: 'NETEASE.INVALID_ARGUMENT' });
    const domain = this.settings.domain;
    return {
      domain,
      accountName: name,
      name: input.displayName,
      members: input.members.map((m) => (m.includes('@') ? m : `${m}@${domain}`)).join(','),
      mailListUserType: MAILLIST_USER_TYPE,
      visibleInAddr: MAILLIST_VISIBLE_IN_ADDR,
    };
  }

  // ---- plumbing ------------------------------------------------------------------------

  /** POST /api/pub/token/acquireToken. Called by the token cache only (single flight). */
  private async fetchToken(): Promise<IssuedToken> {
    const operation = 'token/acquireToken';
    const authCode = await this.options.authCode();
    requireText('authCode', authCode);
    const { env } = await this.post(operation, `${this.settings.baseUrl}/api/pub/token/acquireToken`, {}, { appId: this.settings.appId, authCode, orgOpenId: this.settings.orgOpenId });
    if (env.code !== NeteaseOpenCode.OK) throw NeteaseOpenApiError.fromOpenCode(operation, env.code, env.message);
    const data = parseData(operation, acquireTokenDataSchema, env);
    let expiresAt: number;
    try {
      expiresAt = parseChinaTime(data.accessTokenExpiredTime);
    } catch {
      throw new NeteaseOpenApiError({ operation, kind: 'badResponse', retryable: false }, `netease open ${operation}: accessTokenExpiredTime is not a valid time`);
    }
    const expiresInSeconds = Math.max(0, Math.floor((expiresAt - this.clock.now()) / 1000));
    // An expiry already past means our clock and NetEase's disagree: the token is used once
    // and fetched again next call, and -301 triggers a re-fetch; worth a warning.
    if (expiresInSeconds === 0) this.logger?.warn('netease open access token expires before it is used; check the clock', { operation });
    else this.logger?.debug('netease open access token fetched', { expiresInSeconds });
    return { token: data.accessToken, expiresInSeconds };
  }

  /**
   * An authenticated call: token headers, JSON body, data parsed with `schema`. A token
   * rejected with -300/-301 is dropped and fetched again, once per call.
   */
  private async call<S extends z.ZodType>(operation: string, body: Record<string, unknown>, schema: S): Promise<z.output<S>> {
    const url = `${this.settings.baseUrl}/api/open/${operation}`;
    let refetched = false;
    let retried = false;
    let token = await this.tokens.get();
    for (;;) {
      const answer = await this.post(operation, url, { 'qiye-access-token': token, 'qiye-app-id': this.settings.appId, 'qiye-org-open-id': this.settings.orgOpenId }, body);
      retried ||= answer.retried;
      const env = answer.env;
      if (env.code === NeteaseOpenCode.OK) return parseData(operation, schema, env);
      if ((env.code === NeteaseOpenCode.TOKEN_NOT_AVAILABLE || env.code === NeteaseOpenCode.TOKEN_ACCESS_EXPIRED) && !refetched) {
        // The token died before its time. One fresh fetch per call; a second rejection is
        // reported, not looped on. A refused token means the request was not applied.
        refetched = true;
        this.logger?.info('netease open access token rejected; fetching a new one', { operation, code: env.code });
        this.tokens.invalidate(token);
        token = await this.tokens.get();
        continue;
      }
      // A refusal after a retried attempt: the lost attempt may have applied (afterRetry).
      throw NeteaseOpenApiError.fromOpenCode(operation, env.code, env.message, retried ? { afterRetry: true } : {});
    }
  }

  /**
   * One POST with retries: each attempt waits for the limiter; retryable failures (by
   * HTTP status, transport, or a retryable envelope code) are retried with backoff. Returns
   * the envelope of the first answer that is not a retryable failure, and whether it took
   * more than one attempt.
   */
  private async post(operation: string, url: string, headers: Record<string, string>, body: Record<string, unknown>): Promise<{ env: OpenEnvelope; retried: boolean }> {
    return this.withRetries(operation, async (attempt) => {
      await this.limiter.acquire();
      const started = Date.now();
      let res: HttpResponse;
      try {
        res = await httpRequest({
          vendor: VENDOR,
          url,
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=UTF-8', accept: 'application/json', ...headers },
          body: JSON.stringify(body),
          timeoutMs: this.settings.timeoutMs,
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new NeteaseOpenApiError({ operation, kind: code === 'UPSTREAM.TIMEOUT' ? 'timeout' : 'network', retryable: true, cause: err });
      }
      const ms = Date.now() - started;
      let json: unknown;
      try {
        json = JSON.parse(res.text);
      } catch {
        json = undefined;
      }
      const env = openEnvelopeSchema.safeParse(json);
      // A coded envelope is classified by its code, whatever the HTTP status: retryable codes
      // are retried here; token codes and refusals go back to the caller.
      if (env.success && env.data.code !== NeteaseOpenCode.OK) {
        this.logger?.debug('netease open call refused', { operation, attempt, httpStatus: res.status, ms, code: env.data.code });
        if (classifyNeteaseOpenCode(env.data.code).retryable) throw NeteaseOpenApiError.fromOpenCode(operation, env.data.code, env.data.message, { httpStatus: res.status });
        return { env: env.data, retried: attempt > 0 };
      }
      if (res.status < 200 || res.status >= 300) {
        this.logger?.debug('netease open call failed', { operation, attempt, httpStatus: res.status, ms });
        throw new NeteaseOpenApiError({ operation, ...httpStatusFailure(res) });
      }
      if (!env.success) throw new NeteaseOpenApiError({ operation, kind: 'badResponse', retryable: false, httpStatus: res.status }, `netease open ${operation}: the answer is not a {code, success, message, data} envelope`);
      this.logger?.debug('netease open call', { operation, attempt, ms });
      return { env: env.data, retried: attempt > 0 };
    });
  }

  private withRetries<T>(operation: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    return withRetry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (err) {
          // Mark failures seen after a retry: a lost first attempt may have applied.
          if (err instanceof NeteaseOpenApiError && attempt > 0 && !err.afterRetry) {
            throw new NeteaseOpenApiError(
              { operation: err.operation, kind: err.kind, retryable: err.retryable, errorCode: err.errorCode, openCode: err.openCode, marker: err.marker, httpStatus: err.httpStatus, retryAfterMs: err.retryAfterMs, afterRetry: true, cause: err.cause },
              err.message,
            );
          }
          throw err;
        }
      },
      neteaseRetryOptions(this.settings.maxRetries, this.options, (err, attempt, delayMs) => {
        const e = err as Partial<NeteaseOpenApiError>;
        this.logger?.warn('netease open call will be retried', { operation, attempt, delayMs, code: e.code, openCode: e.openCode, httpStatus: e.httpStatus });
      }),
    );
  }
}

function parseData<S extends z.ZodType>(operation: string, schema: S, env: OpenEnvelope): z.output<S> {
  const parsed = schema.safeParse(env.data);
  if (parsed.success) return parsed.data;
  // Name the fields that did not match, never their values (a token could be one).
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(data)'))].slice(0, 5).join(', ');
  throw new NeteaseOpenApiError({ operation, kind: 'badResponse', retryable: false }, `netease open ${operation}: unexpected response shape at ${fields}`);
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`${name} is required`, { code: 'NETEASE.INVALID_ARGUMENT' });
}


/** `sales@acme.com` -> `sales` when the domain matches; a bare local part as it is; lowercased. */
function localPartOf(address: string, domain: string): string {
  const v = address.trim().toLowerCase();
  const at = v.indexOf('@');
  return at < 0 || v.slice(at + 1) === domain.toLowerCase() ? (at < 0 ? v : v.slice(0, at)) : v;
}
