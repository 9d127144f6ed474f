/**
 * WeCom `errcode`s, classified so callers can act (reference wecom.md §4: "branch on
 * errcode, never on errmsg"). Codes from the reference's table (90313 / 90455), plus
 * -1 "system busy" (global errcode list) and 60003 "department not found" (same list).
 */
import { ErrcodeApiError, errcodeClassifier, failureLabel, ipFromErrmsg, printableErrmsg, type ErrcodeApiErrorInit } from '../http/errcode-api';

export const WECOM_VENDOR = 'wecom';

/** Which secret a token was issued for (reference §4, 2022 restrictions). */
export type WecomSecretKind = 'contact' | 'app';

export const WecomErrcode = {
  OK: 0,
  SYSTEM_BUSY: -1,
  BAD_SECRET: 40001,
  BAD_CORPID: 40013,
  INVALID_TOKEN: 40014,
  BAD_OAUTH_CODE: 40029,
  INVALID_PARAMETER: 40058,
  MISSING_TOKEN: 41001,
  TOKEN_EXPIRED: 42001,
  FREQUENCY_LIMIT: 45009,
  RESPONSE_TOO_LARGE: 45029,
  CONCURRENCY_LIMIT: 45033,
  API_NOT_PERMITTED: 48002,
  REDIRECT_NOT_TRUSTED: 50001,
  DEPARTMENT_NOT_FOUND: 60003,
  NO_PRIVILEGE: 60011,
  IP_NOT_WHITELISTED: 60020,
  USER_NOT_FOUND: 60111,
  BAD_DEPARTMENT_ID: 60123,
  ALL_RECIPIENTS_INVALID: 81013,
  AGENT_MISMATCH: 301002,
} as const;

export type WecomErrorKind =
  | 'throttled' // 45009 / 45033: back off and retry
  | 'server' // -1, HTTP 5xx: retry
  | 'tokenInvalid' // 40014 / 42001 / 41001 after one refetch
  | 'credentials' // 40001 / 40013 at gettoken
  | 'ipNotWhitelisted' // 60020
  | 'permission' // 60011 / 48002
  | 'notFound' // 60111 / 60123 / 60003
  | 'invalidCode' // 40029
  | 'noRecipients' // 81013
  | 'misconfigured' // 301002: agentId does not belong to the app secret
  | 'invalid' // our request was malformed (40058, 45029...)
  | 'badResponse'
  | 'rejected';

export const WECOM_KIND_CODES: Record<WecomErrorKind, string> = {
  throttled: 'UPSTREAM.RATE_LIMITED',
  server: 'UPSTREAM.SERVER_ERROR',
  tokenInvalid: 'WECOM.TOKEN_INVALID',
  credentials: 'WECOM.CREDENTIALS_REJECTED',
  ipNotWhitelisted: 'WECOM.IP_NOT_WHITELISTED',
  permission: 'WECOM.NO_PERMISSION',
  notFound: 'WECOM.NOT_FOUND',
  invalidCode: 'WECOM.INVALID_AUTH_CODE',
  noRecipients: 'WECOM.NO_VALID_RECIPIENTS',
  misconfigured: 'WECOM.AGENT_MISMATCH',
  invalid: 'WECOM.INVALID_REQUEST',
  badResponse: 'WECOM.BAD_RESPONSE',
  rejected: 'WECOM.REJECTED',
};

const E = WecomErrcode;

/** Map an errcode to what a caller should do about it (any errcode not listed: 'rejected'). */
export const classifyWecomErrcode = errcodeClassifier<WecomErrorKind>(
  {
    throttled: [E.FREQUENCY_LIMIT, E.CONCURRENCY_LIMIT],
    server: [E.SYSTEM_BUSY],
    tokenInvalid: [E.INVALID_TOKEN, E.TOKEN_EXPIRED, E.MISSING_TOKEN],
    credentials: [E.BAD_SECRET, E.BAD_CORPID],
    ipNotWhitelisted: [E.IP_NOT_WHITELISTED],
    permission: [E.NO_PRIVILEGE, E.API_NOT_PERMITTED],
    notFound: [E.USER_NOT_FOUND, E.BAD_DEPARTMENT_ID, E.DEPARTMENT_NOT_FOUND],
    invalidCode: [E.BAD_OAUTH_CODE],
    noRecipients: [E.ALL_RECIPIENTS_INVALID],
    misconfigured: [E.AGENT_MISMATCH],
    invalid: [E.INVALID_PARAMETER, E.RESPONSE_TOO_LARGE],
  },
  'rejected',
);

export function isWecomTokenErrcode(errcode: number): boolean {
  return classifyWecomErrcode(errcode) === 'tokenInvalid';
}

/** The caller's IP from a 60020 errmsg (`…, from ip: 1.2.3.4, more info at …`). */
export const ipFromWecomErrmsg: (errmsg: string | undefined) => string | undefined = ipFromErrmsg;

/** errmsg comes from the wire: short, printable, never carrying a token or secret. */
export function safeWecomErrmsg(errmsg: string | undefined): string {
  return printableErrmsg((errmsg ?? '').replace(/\b(access_token|corpsecret|code)=[^&\s,]*/gi, '$1=[redacted]'));
}

export interface WecomApiErrorInit extends ErrcodeApiErrorInit<WecomErrorKind> {
  corpId: string;
  /** The secret the call used, so the message points the admin at the right console page. */
  secretKind?: WecomSecretKind;
  egressIp?: string;
  /**
   * The other secret was tried too and refused (the client's fallback between secrets):
   * its kind and errcode, so the message names both refusals.
   */
  fallback?: { secretKind: WecomSecretKind; kind: WecomErrorKind; errcode?: number; httpStatus?: number };
}

/** A WeCom call failed. Messages name tenant, corp, API and secret kind, never a token or secret. */
export class WecomApiError extends ErrcodeApiError<WecomErrorKind> {
  readonly secretKind: WecomSecretKind | undefined;
  private readonly init: WecomApiErrorInit;

  constructor(init: WecomApiErrorInit) {
    super(WECOM_VENDOR, WECOM_KIND_CODES, describe(init), init, {
      secretKind: init.secretKind,
      ...(init.fallback ? { fallbackSecretKind: init.fallback.secretKind, fallbackErrcode: init.fallback.errcode } : {}),
    });
    this.secretKind = init.secretKind;
    this.init = init;
  }

  /** This error, also naming the refusal of the secret tried after it (the client's fallback). */
  withFallback(other: WecomApiError): WecomApiError {
    const fallback = other.secretKind ? { secretKind: other.secretKind, kind: other.kind, errcode: other.errcode, httpStatus: other.httpStatus } : undefined;
    return new WecomApiError({ ...this.init, fallback, cause: other });
  }
}

export function isWecomError(err: unknown, kind?: WecomErrorKind): err is WecomApiError {
  return err instanceof WecomApiError && (kind === undefined || err.kind === kind);
}

/**
 * Refusals that depend on which secret asked (reference §4), so the other secret may still
 * succeed: 60020 (the secret's trusted IPs; since 2022-08-15 also the 通讯录同步 secret from
 * an IP added after that date, on user/get, user/list and department/list), 48002 (the API
 * is not open to this secret) and 60011 (outside the app's visible range). The client falls
 * back to the other secret on these and on nothing else.
 */
export function isWecomSecretRefusal(err: unknown): err is WecomApiError {
  return isWecomError(err) && (err.errcode === WecomErrcode.IP_NOT_WHITELISTED || err.errcode === WecomErrcode.API_NOT_PERMITTED || err.errcode === WecomErrcode.NO_PRIVILEGE);
}

const SECRET_LABEL: Record<WecomSecretKind, string> = {
  contact: 'the 通讯录同步 (contact sync) secret',
  app: "the self-built app's secret",
};

function describe(init: WecomApiErrorInit): string {
  const main = describeOne(init);
  if (!init.fallback) return main;
  // Both secrets were refused: say what the second one answered, so the admin sees the whole picture.
  return `${main} The bridge also tried ${SECRET_LABEL[init.fallback.secretKind]}, which was refused too (${failureLabel(init.fallback)}).`;
}

function describeOne(init: WecomApiErrorInit): string {
  const secret = init.secretKind ? ` with ${SECRET_LABEL[init.secretKind]}` : '';
  const where = `wecom ${init.api} (tenant ${init.tenantId}, corp ${init.corpId})`;
  const code = failureLabel(init);
  switch (init.kind) {
    case 'ipNotWhitelisted': {
      const ip = ipFromWecomErrmsg(init.errmsg) ?? init.egressIp ?? '<unknown: see the NAT gateway / Elastic IP of the bridge>';
      // Reference §4: the trusted-IP list is per secret. Since 2022-08-15, IPs newly
      // added to 通讯录同步 may not call user/get, user/list or department/list at all.
      const page = init.secretKind === 'contact' ? '管理工具 > 通讯录同步 > 企业可信IP' : '应用管理 > <the app> > 企业可信IP';
      const hint =
        init.secretKind === 'contact'
          ? ' If the IP was added after 2022-08-15, WeCom no longer lets the contact sync secret call user/get, user/list or department/list from it; the bridge reads those with the app secret, so list the IP for the app too and make its visible range (可见范围) cover the whole organisation.'
          : '';
      return `${where} was refused${secret} (${code}): add the bridge's egress IP ${ip} to the trusted IPs in the WeCom admin console (${page}).${hint}`;
    }
    case 'credentials':
      return `${where}: WeCom rejected the corp id or${secret.replace(' with', '')} (${code}). Check wecom.corpId in the tenant config and the secret in the tenant's wecom secret.`;
    case 'permission':
      return init.errcode === WecomErrcode.API_NOT_PERMITTED
        ? `${where}: this API is not allowed${secret} (${code}). user/list_id needs the 通讯录同步 secret; auth/getuserinfo and message/send need the app secret.`
        : `${where}: no privilege${secret} for this member or department (${code}). The bridge reads member details with the app secret: make the app's visible range (可见范围) cover the whole organisation.`;
    case 'misconfigured':
      return `${where}: wecom.agentId does not belong to the app whose secret is configured (${code}).`;
    case 'noRecipients':
      return `${where}: every recipient was invalid (${code}); they may have left or be outside the app's visible range.`;
    case 'tokenInvalid':
      return `${where}: WeCom rejected a freshly fetched access token${secret} (${code}).`;
    case 'throttled':
      return `${where} was rate limited (${code}); retry after a pause.`;
    default:
      return `${where} failed${secret}: ${code}${init.errmsg ? ` ${safeWecomErrmsg(init.errmsg)}` : ''}`;
  }
}
