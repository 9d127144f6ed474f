/**
 * A NetEase enterprise mail simulator for the local stack and the tests: the legacy
 * "qiyeservice" API, the oaserver unread endpoint and the SSO Entry page, over HTTP on
 * loopback, multi-tenant by mail domain (reference netease-qiye-api.md §1-3), plus the
 * part of the open platform (§4) the bridge uses: acquireToken, unit/getUnitList and
 * unit/moveUnit, working on the same units as the legacy API.
 *
 * Faithful where the reference is firm: paths `/qiyeservice/api/{module}/{action}`, POST,
 * parameters merged from query and form body, the `{suc, con, error_code, ver}` envelope,
 * SHA1withRSA signatures over the sorted raw parameters (verified on EVERY call against the
 * tenant's registered public key), `enc` over `account_name + domain + time` for SSO, and an
 * unread endpoint without `product`. Where it is silent (error codes, the `time` window,
 * some business rules) the simulator makes a readable choice, documented where it is made.
 *
 * Keys: a domain's public key is registered directly (`registerKey`, tests) or, for the
 * tenants it was started with, derived from the private key in the stack's SecretStore
 * (`secretName(stage, tenant, 'netease')`) at each request, so `qiye-bridge keys generate`
 * takes effect without a restart. A domain without a key answers `SIGN.KEY_NOT_REGISTERED`.
 *
 * Open platform (§4; JSON in, `{code, success, message, data}` out, HTTP 200):
 *   POST /api/pub/token/acquireToken {appId, authCode, orgOpenId}: an app is registered
 *     directly (`registerOpenApp`, tests) or, for tenants with `netease.openPlatform`, taken
 *     from their config (appId, orgOpenId) and the `authCode` in their `netease` secret.
 *     Wrong app or org -101, wrong authCode -100, a caller IP outside the app's
 *     `allowedIps` -201. Tokens live `openTokenTtlMs` (default 2 h: NetEase's is unknown)
 *     and are kept in memory only (a restart invalidates them, like a server-side revoke).
 *   POST /api/open/maillist/{createMaillist, updateMaillist, deleteMaillist, getMaillistList,
 *     getMaillistMember} and the legacy account/{add,delete}AccountAlias, getAccountAliasList:
 *     netease-sim.maillist.ts.
 *   POST /api/open/unit/{getUnitList, moveUnit} with headers qiye-access-token, qiye-app-id,
 *     qiye-org-open-id: missing or mismatched headers -424, unknown token -300, expired
 *     token -301, a domain other than the token's -200. moveUnit {domain, unitId,
 *     unitParentId} (`root` or nothing = the top level): unknown unit or parent -4, the
 *     default unit or a move under itself or a sub-unit -3 with a marker.
 *
 * Control and inspection API (JSON, loopback only; no signatures):
 *   GET  /__sim/health
 *   GET  /__sim/calls?domain=&path=&limit=   calls seen (params minus sign, enc, password)
 *   GET  /__sim/state?domain=                units, accounts (with unread counters)
 *   POST /__sim/reset      {domain?}         forget state (one domain or all), calls and faults
 *   GET|POST /__sim/faults {errorRate, latencyMs, throttleRate, dropRate, seed, failNext:{count,kind}}
 *   POST /__sim/config     {pageSize, timeWindowMs, openTokenTtlMs, mailLogLimit (null = no cap), mailLogNewestFirst}
 *   POST /__sim/keys       {domain, product, publicKeyHex}
 *   POST /__sim/open-apps  {domain, appId, orgOpenId, authCode, allowedIps?}
 *   POST /__sim/open-tokens/expire {domain?}   every issued open-platform token expires now
 *   POST /__sim/seed       {domain, units:[{unit_name, parent_name?|parent_id?, unit_id?}], accounts:[{account_name, nickname?, unit_name?|unit_id?, mobile?, job_no?, status?, unread?}]}
 *   POST /__sim/deliver    {domain, accountName, from?, subject?, size?}   unread +1 and a mail log entry
 *   POST /__sim/unread     {domain, accountName, count}
 */
import { adminEditSchema, applyAdminEdits, type AdminEdit } from './netease-sim.admin';
import { ALIAS_API, MAILLIST_OPEN_API } from './netease-sim.maillist';
import { createHash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { secretName } from '../../../shared/config/secrets';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { canonicalString, ssoEncData, verifySha1Rsa } from '../../../shared/crypto/netease-signing';
import { parsePrivateKey, parsePublicKey } from '../../../shared/crypto/rsa-keys';
import type { Logger } from '../../../shared/logging/logger';
import type { SecretStore } from '../../../shared/ports/secret-store';
import type { RunningSimulator, SimulatorModule } from '../simulator';
import { createSimServer, describeIssues, isRecord, JAVA_JSON_TYPE, listen, remoteIp, sendJson as sendJsonAs, sendText, sleep, stackSimulator } from '../sim-http';
import { escapeHtml } from '../sim-pages';
import { readStateText, simStateFile } from '../sim-persist';
import { mulberry32 } from '../sim-random';
import { bodyText, chinaTime, DomainModel, newDomainState, SimError, type DomainState, type Params, type SimMailLog } from './netease-sim.state';
import { MAILBOX_SETTINGS_API } from './netease-sim.policies';

export interface NeteaseFaults {
  /** Share of API calls answered HTTP 500 (0-1). */
  errorRate: number;
  /** Delay before answering any API call, ms. */
  latencyMs: number;
  /** Share of API calls refused with `REQUEST.RATE_LIMITED` (0-1). */
  throttleRate: number;
  /** Share of API calls whose connection is dropped without an answer (0-1). */
  dropRate: number;
  /** Deterministic faults: the next `count` API calls fail this way, before the rates apply. */
  failNext?: { count: number; kind: 'error' | 'throttle' | 'drop' };
}

export interface NeteaseSimulatorOptions {
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Tenants served (domain, product, open-platform app; public keys and authCodes come from `secrets`). */
  tenants?: ReadonlyArray<{ id: string; netease: Pick<TenantConfig['netease'], 'domain' | 'product'> & { openPlatform?: { appId: string; orgOpenId: string } | undefined } }>;
  secrets?: SecretStore;
  /** Stage in secret names; default `local`. */
  stage?: string;
  /** Keep state in `<dataDir>/netease-simulator.json` across restarts. */
  dataDir?: string;
  logger?: Logger;
  /** Accepted skew of `time` (API, unread, SSO), ms; default 5 minutes (Open questions §2: unsourced). */
  timeWindowMs?: number;
  /** Accounts per unit/getAccountList page; NetEase uses 2000 (S2). */
  pageSize?: number;
  /** Cap on mail/getReceivedMailLogs `list` (`total` still counts all); default none (netease-sim.state.ts MailLogShape). */
  mailLogLimit?: number;
  /** mail/getReceivedMailLogs lists newest first (default oldest first; the real order is undocumented). */
  mailLogNewestFirst?: boolean;
  /** Seed for the fault RNG. */
  seed?: number;
  /** Clock (ms epoch); default Date.now. */
  now?: () => number;
  /** Keys registered at start (tests). */
  keys?: ReadonlyArray<{ domain: string; product: string; publicKeyHex: string }>;
  /** Open-platform apps registered at start (tests). */
  openApps?: ReadonlyArray<OpenAppRegistration>;
  /** Lifetime of an open-platform access token, ms; default 2 hours (NetEase's is unknown). */
  openTokenTtlMs?: number;
}

/** An open-platform app of one domain (§4 "Tokens": appId, authCode, orgOpenId). */
export interface OpenAppRegistration {
  domain: string;
  appId: string;
  orgOpenId: string;
  /** Never recorded or logged. */
  authCode: string;
  /** The app's IP whitelist; absent = any caller. A caller outside it gets -201 IP_DENY. */
  allowedIps?: readonly string[];
}

/** One recorded call. Never holds `sign`, `enc` or `password`. */
export interface SimCall {
  at: number;
  method: string;
  path: string;
  domain?: string;
  params: Record<string, string>;
  /** `ok`, an error code, `HTTP <status>` or `dropped`. */
  outcome: string;
}

export interface RunningNeteaseSimulator extends RunningSimulator {
  /** Register (or replace) a domain's public key, hex SubjectPublicKeyInfo DER or PEM. */
  registerKey(domain: string, product: string, publicKeyHex: string): void;
  setFaults(faults: Partial<NeteaseFaults> & { seed?: number }): void;
  setConfig(config: { pageSize?: number; timeWindowMs?: number; openTokenTtlMs?: number; mailLogLimit?: number | null; mailLogNewestFirst?: boolean }): void;
  /** Register (or replace) an open-platform app of a domain. */
  registerOpenApp(app: OpenAppRegistration): void;
  /** Expire every open-platform token issued so far (one domain's, or all): the next call answers -301. */
  expireOpenTokens(domain?: string): void;
  /** Forget state (one domain or all), calls and faults. Keys stay registered. */
  reset(domain?: string): void;
  /** A copy of the domain's state. */
  state(domain: string): DomainState;
  calls(filter?: { domain?: string; path?: string }): SimCall[];
  seed(domain: string, input: Parameters<DomainModel['seed']>[0]): ReturnType<DomainModel['seed']>;
  /** A mail arrives: unread +1 and a received-mail log entry. */
  deliverMail(domain: string, accountName: string, mail?: { from?: string; subject?: string; size?: number }): SimMailLog;
  setUnread(domain: string, accountName: string, count: number): void;
  /** Edit the domain as an admin would in NetEase's console (netease-sim.admin.ts): drift for tests. */
  adminEdit(domain: string, edits: readonly AdminEdit[]): void;
  /** Write state to dataDir now (also done shortly after each change and at stop). */
  flush(): void;
}

const NO_FAULTS: NeteaseFaults = { errorRate: 0, latencyMs: 0, throttleRate: 0, dropRate: 0 };
const REDACTED_PARAMS = new Set(['sign', 'enc', 'password', 'authCode']);
const MAX_CALLS = 5000;
const STATE_FILE = 'netease-simulator.json';
const DEFAULT_OPEN_TOKEN_TTL_MS = 2 * 3600_000;

/** Open-platform codes the simulator answers (§4 "Codes", N4). */
const OPEN = { OK: 0, BUSINESS: -3, NOT_FOUND: -4, AUTH_FAILURE: -100, AUTH_DATA_NOT_FOUND: -101, ACCESS_DENY: -200, IP_DENY: -201, TOKEN_NOT_AVAILABLE: -300, TOKEN_EXPIRED: -301, REQUEST_ERROR: -400, PARAM_ERROR: -401, FREQUENCY_TOO_HIGH: -422, HEADER_ERROR: -424, SYSTEM_ERROR: -1 } as const;

type OpenHandler = (m: DomainModel, body: Record<string, unknown>) => unknown;

/** The open-platform surface (§4), `module/action` -> handler, on the legacy API's state. */
const OPEN_API: Record<string, { handler: OpenHandler; mutates: boolean }> = {
  'unit/getUnitList': { handler: (m) => m.getUnitList().map((u) => openUnit(m.s.domain, u)), mutates: false },
  /**
   * §4 unit/getAccountList {domain, unitId?, recursion, pageNum, pageSize}: rows with unitId
   * and status. Soft-deleted accounts are left out, like the legacy list (the reference does
   * not say; the bridge reads any mapped account the list does not show with getAccount).
   */
  'unit/getAccountList': {
    handler: (m, b) => {
      const pageNum = Number(b.pageNum ?? 1);
      const pageSize = Number(b.pageSize ?? 20);
      if (!Number.isInteger(pageNum) || pageNum < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new SimError('PARAM.INVALID', 'pageNum >= 1 and pageSize 1-1000 are required');
      const unitId = bodyText(b, 'unitId');
      const all = Object.values(m.s.accounts)
        .filter((a) => a.status !== 2 && (unitId === undefined || a.unit_id === unitId))
        .sort((x, y) => x.create_time - y.create_time || x.account_name.localeCompare(y.account_name));
      const list = all.slice((pageNum - 1) * pageSize, pageNum * pageSize).map((a) => ({
        accountName: a.account_name,
        accountOpenId: a.account_openid,
        name: a.nickname,
        ...(a.mobile ? { mobile: a.mobile } : {}),
        ...(a.job_no ? { jobNumber: a.job_no } : {}),
        unitId: a.unit_id,
        unitList: [a.unit_id],
        status: a.status,
      }));
      return { count: all.length, list };
    },
    mutates: false,
  },
  'unit/moveUnit': {
    handler: (m, b) => {
      const unitId = bodyText(b, 'unitId');
      if (!unitId) throw new SimError('PARAM.MISSING', 'unitId is required');
      // The top level: no parent, or `root` (what the bridge sends, after N4).
      const parent = bodyText(b, 'unitParentId');
      const unit = m.reparentUnit(unitId, parent === undefined || parent === 'root' ? undefined : parent);
      return { unitId: unit.unit_id };
    },
    mutates: true,
  },
  // maillist/* (netease-sim.maillist.ts).
  ...MAILLIST_OPEN_API,
};

type ApiHandler = (m: DomainModel, p: Params) => unknown;

/** The legacy API surface (§2), `module/action` -> handler; mutating ones persist. */
const API: Record<string, { handler: ApiHandler; mutates: boolean }> = {
  'unit/createUnit': { handler: (m, p) => m.createUnit(p), mutates: true },
  'unit/updateUnit': { handler: (m, p) => m.updateUnit(p), mutates: true },
  'unit/deleteUnit': { handler: (m, p) => m.deleteUnit(p), mutates: true },
  'unit/getUnit': { handler: (m, p) => m.getUnit(p), mutates: false },
  'unit/getUnitList': { handler: (m) => m.getUnitList(), mutates: false },
  'unit/updateUnitRank': { handler: (m, p) => m.updateUnitRank(p), mutates: true },
  'unit/getAccountList': { handler: (m, p) => m.getAccountList(p), mutates: false },
  'account/createAccount': { handler: (m, p) => m.createAccount(p), mutates: true },
  'account/getAccount': { handler: (m, p) => m.getAccount(p), mutates: false },
  'account/updateAccount': { handler: (m, p) => m.updateAccount(p), mutates: true },
  'account/updatePassword': { handler: (m, p) => m.updatePassword(p), mutates: true },
  'account/moveUnit': { handler: (m, p) => m.moveUnit(p), mutates: true },
  'account/suspendAccount': { handler: (m, p) => m.suspendAccount(p), mutates: true },
  'account/recoverAccount': { handler: (m, p) => m.recoverAccount(p), mutates: true },
  'account/deleteAccountSim': { handler: (m, p) => m.deleteAccountSim(p), mutates: true },
  'mail/getReceivedMailLogs': { handler: (m, p) => m.getReceivedMailLogs(p), mutates: false },
  'mailbox/listMessages': { handler: (m, p) => m.listMessages(p), mutates: false },
  // Policies and leaver forwarding: checked createAccount/updateAccount, address/updateAccountRank.
  ...MAILBOX_SETTINGS_API,
  // account/{add,delete}AccountAlias, getAccountAliasList (netease-sim.maillist.ts).
  ...ALIAS_API,
};

/** Start a NetEase simulator (tests call this directly; the local stack uses {@link neteaseSimulator}). */
export async function startNeteaseSimulator(opts: NeteaseSimulatorOptions = {}): Promise<RunningNeteaseSimulator> {
  const now = opts.now ?? (() => Date.now());
  const stage = opts.stage ?? 'local';
  const logger = opts.logger?.child({ simulator: 'netease' });
  let timeWindowMs = opts.timeWindowMs ?? 5 * 60_000;
  let pageSize = opts.pageSize ?? 2000;
  let mailLogLimit = opts.mailLogLimit;
  let mailLogNewestFirst = opts.mailLogNewestFirst ?? false;
  let openTokenTtlMs = opts.openTokenTtlMs ?? DEFAULT_OPEN_TOKEN_TTL_MS;
  let faults: NeteaseFaults = { ...NO_FAULTS };
  let rng = mulberry32(opts.seed ?? 42);
  let calls: SimCall[] = [];
  // Bumped by reset(): a call delayed by injected latency that outlives a reset is
  // dropped instead of touching the fresh state (keeps tests independent).
  let epoch = 0;

  /** Domains configured through tenants: domain -> tenant id and product. */
  const tenants = new Map<string, { tenantId: string; product: string }>();
  for (const t of opts.tenants ?? []) tenants.set(t.netease.domain.toLowerCase(), { tenantId: t.id, product: t.netease.product });
  /** Keys registered directly: domain -> product and key. */
  const registered = new Map<string, { product: string; key: KeyObject }>();
  // Public keys derived from stored private keys, by a hash of the stored value.
  const derivedKeys = new Map<string, KeyObject>();
  /** Open-platform apps by appId: registered ones carry their authCode; tenants' come from the SecretStore. */
  const openApps = new Map<string, { domain: string; orgOpenId: string; authCode?: string; tenantId?: string; allowedIps?: readonly string[] }>();
  for (const t of opts.tenants ?? []) {
    const op = t.netease.openPlatform;
    if (op) openApps.set(op.appId, { domain: t.netease.domain.toLowerCase(), orgOpenId: op.orgOpenId, tenantId: t.id });
  }
  /** Issued open-platform access tokens (memory only). */
  const openTokens = new Map<string, { appId: string; domain: string; expiresAt: number }>();

  const domains = new Map<string, DomainState>();
  // Saves are debounced: a sync of thousands of accounts must not rewrite the file per call.
  const { path: stateFile, flush, scheduleSave } = simStateFile({ dataDir: opts.dataDir, fileName: STATE_FILE, indent: 1, snapshot: () => ({ v: 1, domains: Object.fromEntries(domains) }) });
  if (stateFile) loadState(stateFile, domains, logger);

  const model = (domain: string): DomainModel => {
    let s = domains.get(domain);
    if (!s) {
      s = newDomainState(domain);
      domains.set(domain, s);
    }
    return new DomainModel(s, now, () => pageSize, () => ({ limit: mailLogLimit, newestFirst: mailLogNewestFirst }));
  };

  const registerKey = (domain: string, product: string, publicKey: string): void => {
    registered.set(domain.toLowerCase(), { product, key: parsePublicKey(publicKey).keyObject });
  };
  for (const k of opts.keys ?? []) registerKey(k.domain, k.product, k.publicKeyHex);

  const registerOpenApp = (app: OpenAppRegistration): void => {
    openApps.set(app.appId, { domain: app.domain.toLowerCase(), orgOpenId: app.orgOpenId, authCode: app.authCode, ...(app.allowedIps ? { allowedIps: [...app.allowedIps] } : {}) });
  };
  for (const a of opts.openApps ?? []) registerOpenApp(a);

  /** The app's authCode: registered, or the tenant's stored one; undefined when none is set. */
  const authCodeOf = async (app: { authCode?: string; tenantId?: string }): Promise<string | undefined> => {
    if (app.authCode !== undefined) return app.authCode;
    if (!app.tenantId || !opts.secrets) return undefined;
    const value = await opts.secrets.getJson(secretName(stage, app.tenantId, 'netease'));
    return typeof value?.authCode === 'string' && value.authCode ? value.authCode : undefined;
  };

  const isKnownDomain = (domain: string): boolean => registered.has(domain) || tenants.has(domain);
  const productOf = (domain: string): string | undefined => registered.get(domain)?.product ?? tenants.get(domain)?.product;

  /** The domain's public key, or an error code saying why there is none. */
  const publicKeyOf = async (domain: string): Promise<KeyObject | SimError> => {
    const reg = registered.get(domain);
    if (reg) return reg.key;
    const tenant = tenants.get(domain);
    if (tenant && opts.secrets) {
      const value = await opts.secrets.getJson(secretName(stage, tenant.tenantId, 'netease'));
      const hex = typeof value?.privateKeyHex === 'string' ? value.privateKeyHex : undefined;
      if (hex) {
        const id = createHash('sha256').update(hex).digest('hex');
        let key = derivedKeys.get(id);
        if (!key) {
          try {
            key = parsePublicKey(parsePrivateKey(hex).publicKeyHex).keyObject;
          } catch {
            return new SimError('SIGN.KEY_NOT_REGISTERED', `the stored key of tenant ${tenant.tenantId} is unusable`);
          }
          derivedKeys.set(id, key);
        }
        return key;
      }
    }
    return new SimError('SIGN.KEY_NOT_REGISTERED', `no public key is registered for ${domain}${tenant ? ` (tenant ${tenant.tenantId}: run \`qiye-bridge keys generate\`)` : ''}`);
  };

  const record = (req: IncomingMessage, path: string, params: Record<string, string>, outcome: string): void => {
    const safe: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) safe[k] = REDACTED_PARAMS.has(k) ? '[redacted]' : v;
    calls.push({ at: now(), method: req.method ?? 'GET', path, domain: params.domain, params: safe, outcome });
    if (calls.length > MAX_CALLS) calls = calls.slice(-MAX_CALLS);
  };

  /** Roll the fault dice for one API call. */
  const pickFault = (): 'error' | 'throttle' | 'drop' | undefined => {
    if (faults.failNext && faults.failNext.count > 0) {
      faults.failNext.count--;
      return faults.failNext.kind;
    }
    if (faults.dropRate > 0 && rng() < faults.dropRate) return 'drop';
    if (faults.errorRate > 0 && rng() < faults.errorRate) return 'error';
    if (faults.throttleRate > 0 && rng() < faults.throttleRate) return 'throttle';
    return undefined;
  };

  /** Checks shared by API and unread calls: domain, key, signature, product, time. */
  const authenticate = async (params: Record<string, string>, mode: { withProduct: boolean }): Promise<SimError | undefined> => {
    const domain = (params.domain ?? '').toLowerCase();
    if (!domain) return new SimError('PARAM.MISSING', 'domain is required');
    if (!isKnownDomain(domain)) return new SimError('DOMAIN.NOTEXIST', `unknown domain ${domain}`);
    const key = await publicKeyOf(domain);
    if (key instanceof SimError) return key;
    const sign = params.sign;
    if (!sign || !verifySha1Rsa(key, canonicalString(params), sign)) return new SimError('SIGN.INVALID', 'the signature does not verify against the registered public key');
    if (mode.withProduct && params.product !== productOf(domain)) return new SimError('PRODUCT.INVALID', `product does not match domain ${domain}`);
    return checkTime(params.time, now(), timeWindowMs);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, path: string, operation: string, params: Record<string, string>): Promise<void> => {
    if (req.method !== 'POST') {
      record(req, path, params, 'HTTP 405');
      return sendJson(res, 405, { suc: false, con: null, error_code: 'METHOD.NOT_ALLOWED', ver: 0 });
    }
    if (await applyFaults(req, res, path, params)) return;
    const route = API[operation];
    if (!route) {
      record(req, path, params, 'API.NOTEXIST');
      return sendJson(res, 404, { suc: false, con: null, error_code: 'API.NOTEXIST', ver: 0 });
    }
    const authError = await authenticate(params, { withProduct: true });
    if (authError) return refuse(req, res, path, params, authError);
    const { sign: _s, domain: _d, product: _p, time: _t, ...rest } = params;
    try {
      const con = route.handler(model((params.domain ?? '').toLowerCase()), rest);
      if (route.mutates) scheduleSave();
      record(req, path, params, 'ok');
      return sendJson(res, 200, { suc: true, con: con ?? null, ver: 0 });
    } catch (err) {
      if (err instanceof SimError) return refuse(req, res, path, params, err);
      throw err;
    }
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>, err: SimError): void => {
    record(req, path, params, err.errorCode);
    logger?.info('netease simulator refused a call', { path, domain: params.domain, errorCode: err.errorCode, reason: err.message });
    sendJson(res, 200, { suc: false, con: null, error_code: err.errorCode, ver: 0 });
  };

  /** Returns true when a fault answered (or dropped) the call; `open` answers in the open platform's envelope. */
  const applyFaults = async (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>, style: 'legacy' | 'open' = 'legacy'): Promise<boolean> => {
    if (faults.latencyMs > 0) {
      const started = epoch;
      await sleep(faults.latencyMs);
      if (epoch !== started) {
        req.socket.destroy();
        return true;
      }
    }
    const fault = pickFault();
    if (!fault) return false;
    if (fault === 'drop') {
      record(req, path, params, 'dropped');
      req.socket.destroy();
    } else if (fault === 'error') {
      record(req, path, params, 'HTTP 500');
      if (style === 'open') sendJson(res, 500, { code: OPEN.SYSTEM_ERROR, success: false, message: '系统内部异常', data: null });
      else sendJson(res, 500, { suc: false, con: null, error_code: 'SYSTEM.ERROR', ver: 0 });
    } else if (style === 'open') {
      record(req, path, params, String(OPEN.FREQUENCY_TOO_HIGH));
      sendJson(res, 200, { code: OPEN.FREQUENCY_TOO_HIGH, success: false, message: '请求频率过高', data: null });
    } else {
      record(req, path, params, 'REQUEST.RATE_LIMITED');
      sendJson(res, 200, { suc: false, con: null, error_code: 'REQUEST.RATE_LIMITED', ver: 0 });
    }
    return true;
  };

  // ---- open platform (§4) ----------------------------------------------------------------

  /** Answer an open-platform refusal (HTTP 200, as the sources show) and record it. */
  const openFail = (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>, code: number, message: string, marker?: string): void => {
    record(req, path, params, marker ? `${code} ${marker}` : String(code));
    logger?.info('netease simulator refused an open-platform call', { path, domain: params.domain, code, marker });
    sendJson(res, 200, { code, success: false, message, data: null });
  };

  /** A business refusal in open-platform terms: not found -4, bad parameter -401, else -3 with the marker. */
  const openFailFor = (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>, err: SimError): void => {
    if (err.errorCode.endsWith('NOTEXIST')) return openFail(req, res, path, params, OPEN.NOT_FOUND, `系统数据不存在: ${err.errorCode}`, err.errorCode);
    if (err.errorCode.startsWith('PARAM.')) return openFail(req, res, path, params, OPEN.PARAM_ERROR, `请求参数异常: ${err.message}`);
    return openFail(req, res, path, params, OPEN.BUSINESS, `通用业务操作失败: ${err.errorCode}`, err.errorCode);
  };

  /** The caller's IP is on the app's whitelist (or the app has none). */
  const ipAllowed = (req: IncomingMessage, app: { allowedIps?: readonly string[] }): boolean => !app.allowedIps || app.allowedIps.includes(remoteIp(req));

  /** POST /api/pub/token/acquireToken {appId, authCode, orgOpenId} (§4 "Tokens"). */
  const handleOpenToken = async (req: IncomingMessage, res: ServerResponse, path: string, bodyTextIn: string): Promise<void> => {
    const body = parseJsonObject(bodyTextIn);
    const appId = body ? bodyText(body, 'appId') : undefined;
    const app = appId ? openApps.get(appId) : undefined;
    const params: Record<string, string> = { ...(appId ? { appId } : {}), ...(app ? { domain: app.domain } : {}), authCode: '[redacted]' };
    if (req.method !== 'POST') return openFail(req, res, path, params, OPEN.REQUEST_ERROR, '请求异常: POST only');
    if (await applyFaults(req, res, path, params, 'open')) return;
    if (!body) return openFail(req, res, path, params, OPEN.PARAM_ERROR, '请求参数异常: the body must be a JSON object');
    const authCode = bodyText(body, 'authCode');
    const orgOpenId = bodyText(body, 'orgOpenId');
    if (!appId || !authCode || !orgOpenId) return openFail(req, res, path, params, OPEN.PARAM_ERROR, '请求参数异常: appId, authCode and orgOpenId are required');
    if (!app || app.orgOpenId !== orgOpenId) return openFail(req, res, path, params, OPEN.AUTH_DATA_NOT_FOUND, '认证数据不存在');
    if (!ipAllowed(req, app)) return openFail(req, res, path, params, OPEN.IP_DENY, 'IP 受限');
    const expected = await authCodeOf(app);
    if (expected === undefined || !sameSecret(expected, authCode)) return openFail(req, res, path, params, OPEN.AUTH_FAILURE, '认证失败');
    const t = now();
    // Forget tokens long expired, so the map stays small in a long-running local stack.
    for (const [k, v] of openTokens) if (v.expiresAt < t - 24 * 3600_000) openTokens.delete(k);
    const accessToken = randomBytes(24).toString('hex');
    const expiresAt = t + openTokenTtlMs;
    openTokens.set(accessToken, { appId, domain: app.domain, expiresAt });
    record(req, path, params, 'ok');
    sendJson(res, 200, {
      code: OPEN.OK,
      success: true,
      message: 'SUCCESS',
      // Expiry times are China time, whole seconds (§4), rounded down: never later than the real one.
      data: { accessToken, accessTokenExpiredTime: chinaTime(expiresAt), refreshToken: randomBytes(24).toString('hex'), refreshTokenExpiredTime: chinaTime(expiresAt + 30 * 24 * 3600_000) },
    });
  };

  /** POST /api/open/{module}/{action}: token headers, JSON body, the domain's state. */
  const handleOpenApi = async (req: IncomingMessage, res: ServerResponse, path: string, operation: string, bodyTextIn: string): Promise<void> => {
    const body = parseJsonObject(bodyTextIn);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(body ?? {})) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
    const token = headerOf(req, 'qiye-access-token');
    const tok = token ? openTokens.get(token) : undefined;
    // Calls are filed under the token's domain (the body's may be wrong on purpose).
    if (tok) params.domain = tok.domain;
    if (req.method !== 'POST') return openFail(req, res, path, params, OPEN.REQUEST_ERROR, '请求异常: POST only');
    if (await applyFaults(req, res, path, params, 'open')) return;
    const appId = headerOf(req, 'qiye-app-id');
    const orgOpenId = headerOf(req, 'qiye-org-open-id');
    if (!token || !appId || !orgOpenId) return openFail(req, res, path, params, OPEN.HEADER_ERROR, '请求头异常: qiye-access-token, qiye-app-id and qiye-org-open-id are required');
    if (!tok) return openFail(req, res, path, params, OPEN.TOKEN_NOT_AVAILABLE, 'token 不可用');
    if (tok.expiresAt <= now()) return openFail(req, res, path, params, OPEN.TOKEN_EXPIRED, 'access token 失效');
    const app = openApps.get(tok.appId);
    if (!app || appId !== tok.appId || orgOpenId !== app.orgOpenId) return openFail(req, res, path, params, OPEN.HEADER_ERROR, '请求头异常: the app headers do not match the token');
    if (!ipAllowed(req, app)) return openFail(req, res, path, params, OPEN.IP_DENY, 'IP 受限');
    if (!body) return openFail(req, res, path, params, OPEN.PARAM_ERROR, '请求参数异常: the body must be a JSON object');
    const domain = bodyText(body, 'domain')?.toLowerCase();
    if (!domain) return openFail(req, res, path, params, OPEN.PARAM_ERROR, '请求参数异常: domain is required');
    if (domain !== tok.domain) return openFail(req, res, path, params, OPEN.ACCESS_DENY, '访问受限');
    const route = OPEN_API[operation];
    if (!route) {
      record(req, path, params, 'API.NOTEXIST');
      return sendJson(res, 404, { code: OPEN.REQUEST_ERROR, success: false, message: `no open-platform route ${operation} in the simulator`, data: null });
    }
    try {
      const data = route.handler(model(domain), body);
      if (route.mutates) scheduleSave();
      record(req, path, params, 'ok');
      return sendJson(res, 200, { code: OPEN.OK, success: true, message: 'SUCCESS', data: data ?? null });
    } catch (err) {
      if (err instanceof SimError) return openFailFor(req, res, path, params, err);
      throw err;
    }
  };

  /** oaserver user/getUnreadMsg (§2): no `product`; `{status:"OK", count}`. */
  const handleUnread = async (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>): Promise<void> => {
    if (await applyFaults(req, res, path, params)) return;
    const fail = (e: SimError): void => {
      record(req, path, params, e.errorCode);
      logger?.info('netease simulator refused an unread call', { domain: params.domain, errorCode: e.errorCode, reason: e.message });
      sendJson(res, 200, { status: 'FAIL', msg: e.errorCode });
    };
    const authError = await authenticate(params, { withProduct: false });
    if (authError) return fail(authError);
    try {
      const acc = model((params.domain ?? '').toLowerCase()).account(params.account_name ?? '');
      if (acc.status === 2) return fail(new SimError('ACCOUNT.NOTEXIST', 'account is deleted'));
      record(req, path, params, 'ok');
      sendJson(res, 200, { status: 'OK', count: acc.unread });
    } catch (err) {
      if (err instanceof SimError) return fail(err);
      throw err;
    }
  };

  /** SSO entry (§3): verify enc over account_name + domain + time; an HTML page either way. */
  const handleEntry = async (req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>): Promise<void> => {
    const page = (status: number, title: string, detail: string, outcome: string): void => {
      record(req, path, params, outcome);
      sendHtml(res, status, title, detail);
    };
    const { domain: rawDomain, account_name: account, time, enc } = params;
    if (!rawDomain || !account || !time || !enc) return page(400, '参数缺失 / Missing parameters', 'domain, account_name, time and enc are required.', 'PARAM.MISSING');
    const domain = rawDomain.toLowerCase();
    if (!isKnownDomain(domain)) return page(404, '域名不存在 / Unknown domain', `No mail domain ${domain} here.`, 'DOMAIN.NOTEXIST');
    const key = await publicKeyOf(domain);
    if (key instanceof SimError) return page(403, '未配置密钥 / No key registered', key.message, key.errorCode);
    if (!verifySha1Rsa(key, ssoEncData(account, rawDomain, time), enc)) return page(403, '签名错误 / Bad signature', 'enc does not verify against the registered public key.', 'SIGN.INVALID');
    const stale = checkTime(time, now(), timeWindowMs);
    if (stale) return page(403, '链接已过期 / Link expired', stale.message, stale.errorCode);
    let status: number;
    try {
      status = model(domain).account(account).status;
    } catch {
      return page(404, '帐号不存在 / No such account', `${account}@${domain} does not exist.`, 'ACCOUNT.NOTEXIST');
    }
    if (status === 2) return page(404, '帐号不存在 / No such account', `${account}@${domain} is deleted.`, 'ACCOUNT.NOTEXIST');
    if (status === 1) return page(403, '帐号已停用 / Account suspended', `${account}@${domain} is suspended and cannot sign in.`, 'ACCOUNT.SUSPENDED');
    const target = params.mid ? `mid: ${params.mid}` : params.module ? `module: ${params.module}` : 'inbox';
    const lang = (params.lang ?? params.language) === '1' ? 'en' : 'zh';
    return page(200, `已登录 / Signed in as ${account}@${domain}`, `Opening ${target} (lang ${lang}).`, 'ok');
  };

  const handleControl = async (req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string): Promise<void> => {
    const route = `${req.method} ${url.pathname}`;
    const body = (): unknown => {
      if (!bodyText.trim()) return {};
      try {
        return JSON.parse(bodyText);
      } catch {
        throw new SimError('PARAM.INVALID', 'body must be JSON');
      }
    };
    const domainParam = (d: unknown): string => {
      const s = typeof d === 'string' ? d.toLowerCase() : '';
      if (!s) throw new SimError('PARAM.MISSING', 'domain is required');
      return s;
    };
    switch (route) {
      case 'GET /__sim/health':
        return sendJson(res, 200, { ok: true, vendor: 'netease' });
      case 'GET /__sim/calls': {
        const limit = Number(url.searchParams.get('limit') ?? MAX_CALLS);
        return sendJson(res, 200, { calls: filterCalls(calls, url.searchParams.get('domain') ?? undefined, url.searchParams.get('path') ?? undefined).slice(-limit) });
      }
      case 'GET /__sim/state': {
        const d = domainParam(url.searchParams.get('domain'));
        return sendJson(res, 200, structuredClone(model(d).s));
      }
      case 'POST /__sim/reset': {
        const b = controlSchemas.reset.parse(body());
        handle.reset(b.domain);
        return sendJson(res, 200, { ok: true });
      }
      case 'GET /__sim/faults':
        return sendJson(res, 200, faults);
      case 'POST /__sim/faults': {
        handle.setFaults(controlSchemas.faults.parse(body()));
        return sendJson(res, 200, faults);
      }
      case 'POST /__sim/config': {
        handle.setConfig(controlSchemas.config.parse(body()));
        return sendJson(res, 200, { pageSize, timeWindowMs, openTokenTtlMs, mailLogLimit: mailLogLimit ?? null, mailLogNewestFirst });
      }
      case 'POST /__sim/keys': {
        const b = controlSchemas.keys.parse(body());
        registerKey(b.domain, b.product, b.publicKeyHex);
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /__sim/open-apps': {
        const b = controlSchemas.openApps.parse(body());
        registerOpenApp(b);
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /__sim/open-tokens/expire': {
        const b = controlSchemas.reset.parse(body());
        handle.expireOpenTokens(b.domain);
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /__sim/admin': {
        const b = z.object({ domain: z.string().min(3), edits: z.array(adminEditSchema).min(1) }).parse(body());
        handle.adminEdit(b.domain, b.edits);
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /__sim/seed': {
        const b = controlSchemas.seed.parse(body());
        return sendJson(res, 200, handle.seed(b.domain, b));
      }
      case 'POST /__sim/deliver': {
        const b = controlSchemas.deliver.parse(body());
        return sendJson(res, 200, handle.deliverMail(b.domain, b.accountName, b));
      }
      case 'POST /__sim/unread': {
        const b = controlSchemas.unread.parse(body());
        handle.setUnread(b.domain, b.accountName, b.count);
        return sendJson(res, 200, { ok: true });
      }
      default:
        return sendJson(res, 404, { error: `no control route ${route}` });
    }
  };

  const server = createSimServer(
    async (req, res, url, bodyText) => {
      const path = url.pathname;
      try {
        if (path.startsWith('/__sim/')) return await handleControl(req, res, url, bodyText);
        // Parameters come in the query string, the form body or both (§1 "Method"); the body wins.
        const params: Record<string, string> = {};
        for (const [k, v] of url.searchParams) if (!(k in params)) params[k] = v;
        if (bodyText && !/json/i.test(req.headers['content-type'] ?? '')) {
          for (const [k, v] of new URLSearchParams(bodyText)) params[k] = v;
        }
        // Open platform (§4): JSON bodies, matched by the path's end so a base URL with a prefix works too.
        if (/\/api\/pub\/token\/acquireToken\/?$/.test(path)) return await handleOpenToken(req, res, path, bodyText);
        const open = /\/api\/open\/([A-Za-z]+)\/([A-Za-z]+)\/?$/.exec(path);
        if (open) return await handleOpenApi(req, res, path, `${open[1]}/${open[2]}`, bodyText);
        const api = /\/qiyeservice\/api\/([A-Za-z]+)\/([A-Za-z]+)\/?$/.exec(path);
        if (api) return await handleApi(req, res, path, `${api[1]}/${api[2]}`, params);
        if (/\/oaserver\/user\/getUnreadMsg\/?$/.test(path)) return await handleUnread(req, res, path, params);
        if (/\/domain\/oa\/Entry\/?$/.test(path) && (req.method === 'GET' || req.method === 'POST')) return await handleEntry(req, res, path, params);
        return sendJson(res, 404, { error: `no route ${req.method} ${path}` });
      } catch (err) {
        if (err instanceof SimError) return sendJson(res, err.errorCode.endsWith('NOTEXIST') ? 404 : 400, { error: err.errorCode, message: err.message });
        if (err instanceof z.ZodError) return sendJson(res, 400, { error: 'PARAM.INVALID', issues: describeIssues(err, '') });
        logger?.error('netease simulator failed', { path, err });
        return sendJson(res, 500, { error: 'SIMULATOR.ERROR' });
      }
    },
    { jsonType: JAVA_JSON_TYPE },
  );

  const http = await listen(server, opts.host, opts.port);
  const { url, port } = http;
  logger?.info('netease simulator listening', { url, domains: [...tenants.keys(), ...registered.keys()] });

  const handle: RunningNeteaseSimulator = {
    vendor: 'netease',
    url,
    port,
    async stop() {
      flush();
      await http.close();
    },
    registerKey,
    registerOpenApp,
    expireOpenTokens(domain) {
      const d = domain?.toLowerCase();
      const t = now();
      for (const tok of openTokens.values()) if (!d || tok.domain === d) tok.expiresAt = Math.min(tok.expiresAt, t);
    },
    setFaults(f) {
      const { seed, ...rest } = f;
      if (seed !== undefined) rng = mulberry32(seed);
      faults = { ...faults, ...rest, failNext: rest.failNext ? { ...rest.failNext } : faults.failNext };
    },
    setConfig(c) {
      if (c.pageSize !== undefined) pageSize = c.pageSize;
      if (c.timeWindowMs !== undefined) timeWindowMs = c.timeWindowMs;
      if (c.openTokenTtlMs !== undefined) openTokenTtlMs = c.openTokenTtlMs;
      if (c.mailLogLimit !== undefined) mailLogLimit = c.mailLogLimit ?? undefined;
      if (c.mailLogNewestFirst !== undefined) mailLogNewestFirst = c.mailLogNewestFirst;
    },
    reset(domain) {
      if (domain) domains.delete(domain.toLowerCase());
      else domains.clear();
      // Issued open-platform tokens are state too (the apps, like keys, stay registered).
      for (const [k, tok] of openTokens) if (!domain || tok.domain === domain.toLowerCase()) openTokens.delete(k);
      calls = [];
      epoch++;
      faults = { ...NO_FAULTS };
      rng = mulberry32(opts.seed ?? 42);
      scheduleSave();
    },
    state: (domain) => structuredClone(model(domain.toLowerCase()).s),
    calls: (filter = {}) => filterCalls(calls, filter.domain, filter.path),
    adminEdit(domain, edits) {
      try {
        applyAdminEdits(model(domain.toLowerCase()), edits, now());
      } finally {
        scheduleSave();
      }
    },
    seed(domain, input) {
      const result = model(domain.toLowerCase()).seed(input);
      scheduleSave();
      return result;
    },
    deliverMail(domain, accountName, mail = {}) {
      const entry = model(domain.toLowerCase()).deliverMail(accountName, mail);
      scheduleSave();
      return entry;
    },
    setUnread(domain, accountName, count) {
      model(domain.toLowerCase()).setUnread(accountName, count);
      scheduleSave();
    },
    flush,
  };
  return handle;
}

/** The NetEase simulator for the local stack (serves every tenant whose NetEase URLs point at it). */
export const neteaseSimulator: SimulatorModule = stackSimulator('netease', startNeteaseSimulator);

const controlSchemas = {
  reset: z.object({ domain: z.string().min(1).optional() }),
  faults: z
    .object({
      errorRate: z.number().min(0).max(1),
      latencyMs: z.number().int().min(0).max(120_000),
      throttleRate: z.number().min(0).max(1),
      dropRate: z.number().min(0).max(1),
      seed: z.number().int(),
      failNext: z.object({ count: z.number().int().min(0), kind: z.enum(['error', 'throttle', 'drop']) }),
    })
    .partial()
    .strict(),
  config: z
    .object({
      pageSize: z.number().int().min(1).max(100_000).optional(),
      timeWindowMs: z.number().int().min(0).optional(),
      openTokenTtlMs: z.number().int().min(0).optional(),
      mailLogLimit: z.number().int().min(1).max(100_000).nullable().optional(),
      mailLogNewestFirst: z.boolean().optional(),
    })
    .strict(),
  openApps: z
    .object({ domain: z.string().min(3), appId: z.string().min(1), orgOpenId: z.string().min(1), authCode: z.string().min(1), allowedIps: z.array(z.string().min(1)).optional() })
    .strict(),
  keys: z.object({ domain: z.string().min(3), product: z.string().min(1), publicKeyHex: z.string().min(64) }).strict(),
  seed: z.object({
    domain: z.string().min(3),
    units: z
      .array(z.object({ unit_id: z.string().min(1).optional(), unit_name: z.string().min(1), parent_id: z.string().min(1).optional(), parent_name: z.string().min(1).optional(), unit_desc: z.string().optional() }))
      .optional(),
    accounts: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
  deliver: z.object({ domain: z.string().min(3), accountName: z.string().min(1), from: z.string().optional(), subject: z.string().optional(), size: z.number().int().min(0).optional() }),
  unread: z.object({ domain: z.string().min(3), accountName: z.string().min(1), count: z.number().int().min(0) }),
};

/** A stale or missing `time` (ms epoch). The window is our choice: Open questions §2. */
function checkTime(time: string | undefined, now: number, windowMs: number): SimError | undefined {
  if (!time) return new SimError('PARAM.MISSING', 'time is required');
  if (!/^\d{1,16}$/.test(time)) return new SimError('PARAM.INVALID', 'time must be milliseconds since the epoch');
  if (Math.abs(now - Number(time)) > windowMs) return new SimError('TIME.EXPIRED', `time is more than ${Math.round(windowMs / 1000)} s away from the server clock`);
  return undefined;
}

function filterCalls(calls: SimCall[], domain?: string, path?: string): SimCall[] {
  return calls.filter((c) => (!domain || c.domain?.toLowerCase() === domain.toLowerCase()) && (!path || c.path.endsWith(path)));
}

function loadState(file: string, into: Map<string, DomainState>, logger?: Logger): void {
  const text = readStateText(file);
  if (text === undefined) return; // first run
  try {
    const doc = JSON.parse(text) as { v?: number; domains?: Record<string, DomainState> };
    for (const [d, s] of Object.entries(doc.domains ?? {})) into.set(d, s);
  } catch (err) {
    // A corrupt file must not silently become an empty domain that the next sync "fills".
    throw new Error(`NetEase simulator state ${file} is not valid JSON; fix or delete it: ${(err as Error).message}`);
  }
  logger?.info('netease simulator state loaded', { file, domains: into.size });
}

/** NetEase answers JSON the way its Java servers write the content type. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonAs(res, status, body, JAVA_JSON_TYPE);
}

/** The SSO entry's pages (no picker: NetEase's own webmail would open). */
function sendHtml(res: ServerResponse, status: number, title: string, detail: string): void {
  const html = `<!doctype html>\n<html lang="zh"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(detail)}</p>\n<p><small>NetEase enterprise mail simulator</small></p></body></html>\n`;
  sendText(res, status, 'text/html;charset=UTF-8', html);
}

/** A unit in the open platform's field names (§4 getUnitList). Top-level units carry no unitParentId. */
function openUnit(domain: string, con: Record<string, unknown>): Record<string, unknown> {
  const id = String(con.unit_id);
  const out: Record<string, unknown> = {
    unitId: id,
    unitName: con.unit_name,
    unitOpenId: createHash('sha1').update(`${domain}/${id}`).digest('hex').slice(0, 16),
    rank: con.rank ?? 0,
  };
  if (con.parent_id !== undefined) out.unitParentId = con.parent_id;
  if (con.unit_desc !== undefined) out.unitDesc = con.unit_desc;
  return out;
}

/** A JSON object body, or undefined. */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A body field as text (numbers accepted: ids arrive either way); undefined when absent or empty. */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

/** Compare two secrets in constant time (by their digests, so lengths leak nothing either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
