/**
 * Client for the NetEase enterprise mail legacy "qiyeservice" API and the oaserver unread
 * endpoint (reference netease-qiye-api.md §1-2), one instance per tenant.
 *
 * Every call:
 * - drops empty optional parameters, adds `domain`, `product` and a fresh `time`, and signs
 *   the canonical string (shared/crypto/netease-signing.ts); each retry is re-signed with a
 *   new `time` so a backoff never sends a stale request;
 * - POSTs the parameters form-encoded in the body ("必须使用post方法", S2). Values are
 *   URL-encoded on the wire only; NetEase verifies the decoded values (§1 step 5);
 * - waits for the tenant's rate limiter, times out after `timeoutMs`, and retries
 *   retryable failures (HTTP 408/429/5xx, network, timeouts, throttling codes) with
 *   jittered exponential backoff, up to `maxRetries` times;
 * - parses the `{suc, con, error_code, ver}` envelope with zod and maps `con` to camelCase
 *   types (netease.schemas.ts); failures become {@link NeteaseApiError}.
 *
 * Logs carry the operation, attempt, timing and codes; never parameters, so no password,
 * signature or key can reach a log line or an error message.
 */
import type { z } from 'zod';
import { ValidationError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { canonicalString, compactParams, type NeteaseParams, type NeteaseSigner } from '../../crypto/netease-signing';
import { httpRequest } from '../http/http-request';
import { createRateLimiter, type RateLimiter, type RateLimiterRegistry } from '../http/rate-limiter';
import { httpStatusFailure, withRetry } from '../http/retry';
import { NeteaseApiError, neteaseRetryOptions } from './netease.errors';
import { listMessagesConSchema, toMailboxMessages, type MailboxMessage } from './netease-mailbox.schemas';
import {
  accountConSchema,
  accountListConSchema,
  envelopeSchema,
  mailLogsConSchema,
  toAccount,
  toAccountPage,
  toMailLogs,
  toUnit,
  unitConSchema,
  unitListConSchema,
  unreadResponseSchema,
  type NeteaseAccountPage,
} from './netease.schemas';
import type { AccountListQuery, CreateAccountInput, NeteaseAccount, NeteaseAccountSummary, NeteaseDirectory, NeteaseUnit, UpdateAccountInput } from '../../ports/netease-directory';
import type { NeteaseMailbox, NeteaseMailLogs } from '../../ports/netease-mailbox';
import type { NeteaseAliases } from '../../ports/netease-maillists';
import { aliasListConSchema, toAliasNames } from './netease-maillist.schemas';

/** The tenant's `netease` config section satisfies this (TenantConfig['netease']). */
export interface NeteaseClientSettings {
  domain: string;
  product: string;
  region?: 'hz' | 'bj';
  /** e.g. https://apihz.qiye.163.com/qiyeservice/api (no trailing slash). */
  apiBaseUrl: string;
  /** e.g. https://cmhz.qiye.163.com/oaserver/user/getUnreadMsg */
  unreadUrl: string;
  requestsPerSecond: number;
  timeoutMs: number;
  maxRetries: number;
}

export interface NeteaseClientOptions {
  /** Shared limiter (e.g. from a RateLimiterRegistry keyed `netease:<tenant>`); default: one per client. */
  limiter?: RateLimiter;
  logger?: Logger;
  clock?: Clock;
  /** Backoff sleep (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source for backoff. */
  random?: () => number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

/** NetEase's page size for unit/getAccountList (S2). */
export const NETEASE_ACCOUNT_PAGE_SIZE = 2000;

const VENDOR = 'netease';

/**
 * The tenant's limiter from a process-wide registry (key `netease:<tenantId>`), so every
 * client of one tenant in this process shares one budget. Pass it as `options.limiter`.
 */
export function neteaseRateLimiter(registry: RateLimiterRegistry, tenantId: string, settings: Pick<NeteaseClientSettings, 'requestsPerSecond'>): RateLimiter {
  return registry.get(`netease:${tenantId}`, { requestsPerSecond: settings.requestsPerSecond });
}

/** One tenant's NetEase API. Construct once per tenant and reuse (the limiter and key are cached). */
export class NeteaseClient implements NeteaseDirectory, NeteaseMailbox {
  private readonly limiter: RateLimiter;
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly settings: NeteaseClientSettings,
    private readonly signer: NeteaseSigner,
    private readonly options: NeteaseClientOptions = {},
  ) {
    this.limiter = options.limiter ?? createRateLimiter({ requestsPerSecond: settings.requestsPerSecond });
    this.logger = options.logger?.child({ vendor: VENDOR, domain: settings.domain });
    this.clock = options.clock ?? systemClock;
  }

  /** The mail domain this client serves. */
  get domain(): string {
    return this.settings.domain;
  }

  // ---- units ---------------------------------------------------------------------------

  /** unit/createUnit. Fails with kind `duplicate` when the name is taken (in the simulator: anywhere in the domain). */
  async createUnit(input: { unitName: string; parentId?: string; unitDesc?: string }): Promise<NeteaseUnit> {
    requireText('unitName', input.unitName);
    const con = await this.call('unit/createUnit', { unit_name: input.unitName, parent_id: input.parentId, unit_desc: input.unitDesc }, unitConSchema);
    return toUnit(con);
  }

  /** unit/updateUnit: rename or re-describe a unit. */
  async updateUnit(unitId: string, changes: { unitName?: string; unitDesc?: string }): Promise<void> {
    requireText('unitId', unitId);
    await this.call('unit/updateUnit', { unit_id: unitId, unit_name: changes.unitName, unit_desc: changes.unitDesc }, null);
  }

  /** unit/deleteUnit. Fails with kind `notEmpty` while accounts or child units remain. */
  async deleteUnit(unitId: string): Promise<void> {
    requireText('unitId', unitId);
    await this.call('unit/deleteUnit', { unit_id: unitId }, null);
  }

  /** unit/getUnit. */
  async getUnit(unitId: string): Promise<NeteaseUnit> {
    requireText('unitId', unitId);
    return toUnit(await this.call('unit/getUnit', { unit_id: unitId }, unitConSchema));
  }

  /** unit/getUnitList: every unit of the domain, flat; top-level units have no parentId. */
  async getUnitList(): Promise<NeteaseUnit[]> {
    const con = await this.call('unit/getUnitList', {}, unitListConSchema, { nullAs: [] });
    return con.map(toUnit);
  }

  /** unit/updateUnitRank: display order among siblings. */
  async updateUnitRank(unitId: string, rank: number): Promise<void> {
    requireText('unitId', unitId);
    if (!Number.isInteger(rank)) throw new ValidationError('rank must be an integer', { code: 'NETEASE.INVALID_ARGUMENT' });
    await this.call('unit/updateUnitRank', { unit_id: unitId, rank }, null);
  }

  /** address/updateAccountRank (reference §2, S1 `UpdateAccountRank.java`): a mailbox's place in the address book. */
  async updateAccountRank(accountName: string, rank: number): Promise<void> {
    requireAccountName(accountName);
    if (!Number.isInteger(rank)) throw new ValidationError('rank must be an integer', { code: 'NETEASE.INVALID_ARGUMENT' });
    await this.call('address/updateAccountRank', { account_name: accountName, rank }, null);
  }

  // ---- accounts ------------------------------------------------------------------------

  /**
   * account/createAccount. Fails with kind `duplicate` when the name exists (also a
   * soft-deleted one). If `afterRetry` is set on that error, an earlier attempt may have
   * created it: check with getAccount before treating it as someone else's mailbox.
   */
  async createAccount(input: CreateAccountInput): Promise<NeteaseAccount> {
    requireAccountName(input.accountName);
    requireText('password', input.password);
    requireText('nickname', input.nickname);
    const con = await this.call(
      'account/createAccount',
      {
        ...input.extra,
        account_name: input.accountName,
        password: input.password,
        nickname: input.nickname,
        unit_id: input.unitId ?? 'default',
        pass_type: input.passType ?? 0,
        passchange_req: input.passChangeRequired,
        mobile: input.mobile,
        job_no: input.jobNo,
        exp_time: input.expTime,
        quota: input.quota,
      },
      accountConSchema.nullish(),
    );
    // Some kits ignore `con` here; fall back to what we sent.
    return con ? toAccount(con) : { accountName: input.accountName, nickname: input.nickname, status: 'normal' };
  }

  /** account/getAccount. Fails with kind `notFound` for an unknown account. */
  async getAccount(accountName: string): Promise<NeteaseAccount> {
    requireAccountName(accountName);
    return toAccount(await this.call('account/getAccount', { account_name: accountName }, accountConSchema));
  }

  /** account/updateAccount: only the given fields change. */
  async updateAccount(accountName: string, changes: UpdateAccountInput): Promise<void> {
    requireAccountName(accountName);
    await this.call(
      'account/updateAccount',
      {
        ...changes.extra,
        account_name: accountName,
        nickname: changes.nickname,
        mobile: changes.mobile,
        job_no: changes.jobNo,
        unit_id: changes.unitId,
        exp_time: changes.expTime,
        quota: changes.quota,
      },
      null,
    );
  }

  /** account/updatePassword. The password is sent, never logged. */
  async updatePassword(accountName: string, password: string, options: { passType?: 0 | 1; passChangeRequired?: 0 | 1 | 2 } = {}): Promise<void> {
    requireAccountName(accountName);
    requireText('password', password);
    await this.call('account/updatePassword', { account_name: accountName, password, pass_type: options.passType, passchange_req: options.passChangeRequired ?? 0 }, null);
  }

  /** account/moveUnit: move the account to another unit. */
  async moveUnit(accountName: string, unitId: string): Promise<void> {
    requireAccountName(accountName);
    requireText('unitId', unitId);
    await this.call('account/moveUnit', { account_name: accountName, unit_id: unitId }, null);
  }

  /** account/suspendAccount: the mailbox stays, sign-in stops. */
  async suspendAccount(accountName: string): Promise<void> {
    requireAccountName(accountName);
    await this.call('account/suspendAccount', { account_name: accountName }, null);
  }

  /** account/recoverAccount: undo a suspension, or a soft delete within 7 days (S2). */
  async recoverAccount(accountName: string): Promise<void> {
    requireAccountName(accountName);
    await this.call('account/recoverAccount', { account_name: accountName }, null);
  }

  /**
   * Account aliases (§2 ✔: account/addAccountAlias, deleteAccountAlias with `account_name`
   * and `alias_name` as a local part, getAccountAliasList; S2 sends exactly these). The
   * port's `aliases` capability: every legacy client has it.
   */
  readonly aliases: NeteaseAliases = {
    getAccountAliases: async (accountName) => {
      requireAccountName(accountName);
      return toAliasNames(await this.call('account/getAccountAliasList', { account_name: accountName }, aliasListConSchema, { nullAs: null }), this.settings.domain);
    },
    addAccountAlias: async (accountName, aliasName) => {
      requireAccountName(accountName);
      requireAccountName(aliasName);
      await this.call('account/addAccountAlias', { account_name: accountName, alias_name: aliasName }, null);
    },
    deleteAccountAlias: async (accountName, aliasName) => {
      requireAccountName(accountName);
      requireAccountName(aliasName);
      await this.call('account/deleteAccountAlias', { account_name: accountName, alias_name: aliasName }, null);
    },
  };

  /** account/deleteAccountSim: soft delete, recoverable for 7 days (S2). */
  async deleteAccountSim(accountName: string): Promise<void> {
    requireAccountName(accountName);
    await this.call('account/deleteAccountSim', { account_name: accountName }, null);
  }

  /** One page of unit/getAccountList (`page_num` is 1-based; 2000 per page at NetEase). */
  async getAccountList(query: AccountListQuery & { pageNum?: number } = {}): Promise<NeteaseAccountPage> {
    const pageNum = query.pageNum ?? 1;
    if (!Number.isInteger(pageNum) || pageNum < 1) throw new ValidationError('pageNum must be an integer >= 1', { code: 'NETEASE.INVALID_ARGUMENT' });
    const con = await this.call('unit/getAccountList', { unit_id: query.unitId, page_num: pageNum, recuion: query.recursive ? 'true' : undefined }, accountListConSchema);
    return toAccountPage(con, pageNum);
  }

  /**
   * Every account matching `query`, page by page (lazily). Stops at an empty page or once
   * `count` accounts were seen.
   */
  async *iterateAccounts(query: AccountListQuery = {}): AsyncGenerator<NeteaseAccountSummary, void, undefined> {
    let seen = 0;
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.getAccountList({ ...query, pageNum });
      yield* page.accounts;
      seen += page.accounts.length;
      if (page.accounts.length === 0 || seen >= page.count) return;
      // 10 000 pages of 2000 = 20 million accounts: far beyond any tenant; a server
      // that keeps answering full pages past that is broken, not big.
      if (pageNum >= 10_000) throw new NeteaseApiError({ operation: 'unit/getAccountList', kind: 'badResponse', retryable: false }, 'netease unit/getAccountList: paging did not end after 10000 pages');
    }
  }

  /** All accounts matching `query`, collected from every page. */
  async getAllAccounts(query: AccountListQuery = {}): Promise<NeteaseAccountSummary[]> {
    const all: NeteaseAccountSummary[] = [];
    for await (const a of this.iterateAccounts(query)) all.push(a);
    return all;
  }

  // ---- mail ----------------------------------------------------------------------------

  /**
   * mail/getReceivedMailLogs for one or more accounts (local parts) between `start` and
   * `end`. Strings are sent as given (`yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss`); Dates are
   * formatted in China time (UTC+8), NetEase's zone.
   */
  async getReceivedMailLogs(query: { accounts: string | readonly string[]; start: string | Date; end: string | Date }): Promise<NeteaseMailLogs> {
    const accounts = typeof query.accounts === 'string' ? [query.accounts] : [...query.accounts];
    if (accounts.length === 0) throw new ValidationError('accounts must name at least one account', { code: 'NETEASE.INVALID_ARGUMENT' });
    accounts.forEach(requireAccountName);
    const con = await this.call('mail/getReceivedMailLogs', { accounts: accounts.join(','), start: formatChinaTime(query.start), end: formatChinaTime(query.end) }, mailLogsConSchema);
    return toMailLogs(con);
  }

  /**
   * mailbox/listMessages (reference §2 "Other"): the newest mails of one folder of an
   * account, newest first, with the ids the SSO `mid` opens (netease-mailbox.schemas.ts says
   * which answer shapes are accepted: the reference leaves the response unconfirmed).
   */
  async listMessages(accountName: string, query: { fid?: number; start?: number; limit?: number } = {}): Promise<MailboxMessage[]> {
    requireAccountName(accountName);
    const params = JSON.stringify({ fids: [query.fid ?? 1], order: 'receivedDate', desc: true, start: query.start ?? 0, limit: query.limit ?? 20, returnTotal: true });
    return toMailboxMessages(await this.call('mailbox/listMessages', { account_name: accountName, params }, listMessagesConSchema));
  }

  /**
   * Unread mail count from oaserver user/getUnreadMsg on the unread host (§2 "Unread
   * count"): signed like the API but WITHOUT `product`; `format=json`; the answer is
   * `{status:"OK", count}` with the status's case varying between sources.
   * @param options.type NetEase's optional `type` (S1 sends 1).
   */
  async getUnreadCount(accountName: string, options: { type?: number } = {}): Promise<number> {
    requireAccountName(accountName);
    const operation = 'oaserver/getUnreadMsg';
    const body = await this.send(operation, this.settings.unreadUrl, { account_name: accountName, domain: this.settings.domain, type: options.type, format: 'json' });
    const parsed = unreadResponseSchema.safeParse(body);
    if (!parsed.success) throw new NeteaseApiError({ operation, kind: 'badResponse', retryable: false });
    if (parsed.data.status.toLowerCase() !== 'ok') throw NeteaseApiError.fromCode(operation, parsed.data.msg ?? parsed.data.status);
    if (parsed.data.count === undefined || parsed.data.count < 0) throw new NeteaseApiError({ operation, kind: 'badResponse', retryable: false }, `netease ${operation}: status OK without a count`);
    return parsed.data.count;
  }

  // ---- plumbing ------------------------------------------------------------------------

  /**
   * Call `module/action` and parse `con` with `conSchema` (null = ignore `con`).
   * `nullAs` substitutes a value when NetEase sends `con: null` (e.g. an empty unit list).
   */
  private async call<S extends z.ZodType>(operation: string, params: NeteaseParams, conSchema: S, opts?: { nullAs?: z.input<S> }): Promise<z.output<S>>;
  private async call(operation: string, params: NeteaseParams, conSchema: null): Promise<void>;
  private async call(operation: string, params: NeteaseParams, conSchema: z.ZodType | null, opts: { nullAs?: unknown } = {}): Promise<unknown> {
    const url = `${this.settings.apiBaseUrl}/${operation}`;
    const body = await this.send(operation, url, { ...params, domain: this.settings.domain, product: this.settings.product }, (json) => {
      const env = envelopeSchema.safeParse(json);
      if (!env.success) throw new NeteaseApiError({ operation, kind: 'badResponse', retryable: false }, `netease ${operation}: the answer is not a {suc, con} envelope`);
      if (!env.data.suc) throw NeteaseApiError.fromCode(operation, env.data.error_code);
      return env.data;
    });
    if (conSchema === null) return undefined;
    const con = (body as { con?: unknown }).con;
    const parsed = conSchema.safeParse(con === null || con === undefined ? (opts.nullAs ?? con) : con);
    if (!parsed.success) {
      // Name the fields that did not match, never their values.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(con)'))].slice(0, 5).join(', ');
      throw new NeteaseApiError({ operation, kind: 'badResponse', retryable: false }, `netease ${operation}: unexpected response shape at ${fields}`);
    }
    return parsed.data;
  }

  /**
   * Sign, POST, retry. `check` turns a parsed JSON body into a value or throws a
   * NeteaseApiError (retried when retryable).
   */
  private async send(operation: string, url: string, params: NeteaseParams, check: (json: unknown) => unknown = (j) => j): Promise<unknown> {
    const { maxRetries, timeoutMs } = this.settings;
    return withRetry(
      async (attempt) => {
        try {
          await this.limiter.acquire();
          // Sign each attempt with a fresh `time`: a retry after backoff must not be stale.
          const compact = compactParams({ ...params, time: this.clock.now() });
          const sign = this.signer.sign(canonicalString(compact));
          const form = new URLSearchParams({ ...compact, sign }).toString();
          const started = Date.now();
          let res;
          try {
            res = await httpRequest({
              vendor: VENDOR,
              url,
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
              body: form,
              timeoutMs,
            });
          } catch (err) {
            const code = (err as { code?: string }).code;
            throw new NeteaseApiError({ operation, kind: code === 'UPSTREAM.TIMEOUT' ? 'timeout' : 'network', retryable: true, cause: err });
          }
          const ms = Date.now() - started;
          if (res.status < 200 || res.status >= 300) {
            this.logger?.debug('netease call failed', { operation, attempt, httpStatus: res.status, ms });
            throw new NeteaseApiError({ operation, ...httpStatusFailure(res) });
          }
          let json: unknown;
          try {
            json = JSON.parse(res.text);
          } catch (err) {
            throw new NeteaseApiError({ operation, kind: 'badResponse', retryable: false, httpStatus: res.status, cause: err }, `netease ${operation}: the answer is not JSON (HTTP ${res.status})`);
          }
          const value = check(json);
          this.logger?.debug('netease call', { operation, attempt, ms });
          return value;
        } catch (err) {
          if (err instanceof NeteaseApiError && attempt > 0 && !err.afterRetry) {
            // Mark failures seen after a retry: a lost first attempt may have applied.
            throw new NeteaseApiError({ operation: err.operation, kind: err.kind, retryable: err.retryable, errorCode: err.errorCode, httpStatus: err.httpStatus, retryAfterMs: err.retryAfterMs, afterRetry: true, cause: err.cause }, err.message);
          }
          throw err;
        }
      },
      neteaseRetryOptions(maxRetries, this.options, (err, attempt, delayMs) => {
        const e = err as Partial<NeteaseApiError>;
        this.logger?.warn('netease call will be retried', { operation, attempt, delayMs, code: e.code, errorCode: e.errorCode, httpStatus: e.httpStatus });
      }),
    );
  }
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`${name} is required`, { code: 'NETEASE.INVALID_ARGUMENT' });
}

/** NetEase account names are local parts (§5); a full address is a caller bug. */
function requireAccountName(accountName: string): void {
  requireText('accountName', accountName);
  if (accountName.includes('@')) throw new ValidationError('accountName must be the local part only (no @domain)', { code: 'NETEASE.INVALID_ARGUMENT' });
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/;

/** `yyyy-MM-dd HH:mm:ss` in UTC+8 for a Date; validated pass-through for a string. */
export function formatChinaTime(value: string | Date): string {
  if (typeof value === 'string') {
    if (!DATE_RE.test(value)) throw new ValidationError('dates must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss', { code: 'NETEASE.INVALID_ARGUMENT' });
    return value;
  }
  if (Number.isNaN(value.getTime())) throw new ValidationError('invalid date', { code: 'NETEASE.INVALID_ARGUMENT' });
  // China has no daylight saving time: a fixed +8 h offset is exact.
  return new Date(value.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
