/**
 * DingTalk `errcode`s, classified so callers can act: retry (throttling, system busy),
 * refetch the token (invalid token), skip (user or department gone), or stop and tell an
 * admin what to change (IP whitelist, permissions, credentials, monthly quota).
 *
 * Sources: reference dingtalk.md §4 (60020, 40014, 40089, 40078, 60011, 60121, 90018,
 * 90002, 90020) and the global errcode list republished in public Q&A (community, not
 * in our reference): -1 system busy, 88 = "look at sub_code", 33012 invalid userid,
 * 60003 department not found, 42001 token expired, 90006 older per-minute limit.
 */
import { ErrcodeApiError, errcodeClassifier, failureLabel, ipFromErrmsg, printableErrmsg, type ErrcodeApiErrorInit } from '../http/errcode-api';

export const DINGTALK_VENDOR = 'dingtalk';

/** The errcodes this adapter branches on. Never branch on errmsg (it changes). */
export const DingtalkErrcode = {
  OK: 0,
  SYSTEM_BUSY: -1,
  /** The real code is in `sub_code` (community: "errcode = 88, 需要关注 sub_code"). */
  SEE_SUB_CODE: 88,
  INVALID_USERID: 33012,
  INVALID_TOKEN: 40014,
  /** Community list; treated like 40014. */
  TOKEN_EXPIRED: 42001,
  INVALID_PARAMETER: 40035,
  /** Not a valid temporary auth code (expired, used, or an OAuth authCode given to getuserinfo). */
  INVALID_AUTH_CODE: 40078,
  BAD_CREDENTIALS: 40089,
  /** Community list: 未找到对应部门. The reference does not name a department errcode. */
  DEPARTMENT_NOT_FOUND: 60003,
  NO_PERMISSION: 60011,
  IP_NOT_WHITELISTED: 60020,
  USER_NOT_FOUND: 60121,
  /** Global per-API cap. */
  API_QPS_LIMIT: 90002,
  /** Older per-minute figure (community). */
  MINUTE_LIMIT: 90006,
  /** Per app and API, 20 calls/s on the standard edition. */
  APP_API_QPS_LIMIT: 90018,
  MONTHLY_QUOTA: 90020,
} as const;

export type DingtalkErrorKind =
  | 'throttled' // 90018 / 90002 / 90006: back off and retry
  | 'server' // -1, HTTP 5xx: retry
  | 'tokenInvalid' // 40014 / 42001 after one refetch
  | 'credentials' // appKey / appSecret rejected
  | 'ipNotWhitelisted' // 60020: an admin must add our egress IP
  | 'permission' // 60011: an admin must grant the API permission
  | 'notFound' // 60121 / 33012 / 60003
  | 'invalidCode' // 40078
  | 'quota' // 90020 monthly quota
  | 'invalid' // our request was malformed
  | 'badResponse' // not the documented JSON
  | 'rejected'; // any other errcode

export const DINGTALK_KIND_CODES: Record<DingtalkErrorKind, string> = {
  throttled: 'UPSTREAM.RATE_LIMITED',
  server: 'UPSTREAM.SERVER_ERROR',
  tokenInvalid: 'DINGTALK.TOKEN_INVALID',
  credentials: 'DINGTALK.CREDENTIALS_REJECTED',
  ipNotWhitelisted: 'DINGTALK.IP_NOT_WHITELISTED',
  permission: 'DINGTALK.NO_PERMISSION',
  notFound: 'DINGTALK.NOT_FOUND',
  invalidCode: 'DINGTALK.INVALID_AUTH_CODE',
  quota: 'DINGTALK.QUOTA_EXCEEDED',
  invalid: 'DINGTALK.INVALID_REQUEST',
  badResponse: 'DINGTALK.BAD_RESPONSE',
  rejected: 'DINGTALK.REJECTED',
};

const E = DingtalkErrcode;

/** Map an errcode to what a caller should do about it (any errcode not listed: 'rejected'). */
export const classifyDingtalkErrcode = errcodeClassifier<DingtalkErrorKind>(
  {
    throttled: [E.APP_API_QPS_LIMIT, E.API_QPS_LIMIT, E.MINUTE_LIMIT],
    server: [E.SYSTEM_BUSY],
    tokenInvalid: [E.INVALID_TOKEN, E.TOKEN_EXPIRED],
    credentials: [E.BAD_CREDENTIALS],
    ipNotWhitelisted: [E.IP_NOT_WHITELISTED],
    permission: [E.NO_PERMISSION],
    notFound: [E.USER_NOT_FOUND, E.INVALID_USERID, E.DEPARTMENT_NOT_FOUND],
    invalidCode: [E.INVALID_AUTH_CODE],
    quota: [E.MONTHLY_QUOTA],
    invalid: [E.INVALID_PARAMETER],
  },
  'rejected',
);

export function isTokenErrcode(errcode: number): boolean {
  return classifyDingtalkErrcode(errcode) === 'tokenInvalid';
}

/**
 * The errcode to act on: for errcode 88 DingTalk puts the real one in `sub_code`
 * (a string such as "60011").
 */
export function effectiveErrcode(body: { errcode: number; sub_code?: string | number | undefined }): number {
  if (body.errcode === DingtalkErrcode.SEE_SUB_CODE && body.sub_code !== undefined) {
    const n = Number(body.sub_code);
    if (Number.isInteger(n)) return n;
  }
  return body.errcode;
}

/** The caller's IP as DingTalk reports it in a 60020 errmsg (`…request ip=1.2.3.4 appKey(…)`). */
export { ipFromErrmsg };

/** errmsg comes from the wire: short, printable, and never carrying a token. */
export function safeErrmsg(errmsg: string | undefined): string {
  return printableErrmsg((errmsg ?? '').replace(/\b(access_token|accessToken|appsecret|clientSecret|code)=[^&\s,)]*/gi, '$1=[redacted]'));
}

export interface DingtalkApiErrorInit extends ErrcodeApiErrorInit<DingtalkErrorKind> {
  appKey: string;
  requestId?: string;
  /** Our egress IP when known from configuration (used if DingTalk's errmsg lacks it). */
  egressIp?: string;
}

/**
 * A DingTalk call failed. `kind` says what to do, `errcode` keeps DingTalk's code.
 * Messages name the tenant, app and API, never the access token or the app secret.
 */
export class DingtalkApiError extends ErrcodeApiError<DingtalkErrorKind> {
  constructor(init: DingtalkApiErrorInit) {
    super(DINGTALK_VENDOR, DINGTALK_KIND_CODES, describe(init), init, { requestId: init.requestId });
  }
}

/** True when `err` is a DingTalk failure of the given kind. */
export function isDingtalkError(err: unknown, kind?: DingtalkErrorKind): err is DingtalkApiError {
  return err instanceof DingtalkApiError && (kind === undefined || err.kind === kind);
}

function describe(init: DingtalkApiErrorInit): string {
  const where = `dingtalk ${init.api} (tenant ${init.tenantId}, app ${init.appKey})`;
  const code = failureLabel(init);
  switch (init.kind) {
    case 'ipNotWhitelisted': {
      // Reference §4: 60020 访问ip不在白名单之中; the fix is the app's 服务器出口IP list.
      const ip = ipFromErrmsg(init.errmsg) ?? init.egressIp ?? '<unknown: see the NAT gateway / Elastic IP of the bridge>';
      return `${where} was refused (${code}): add the bridge's egress IP ${ip} to the app's whitelist in the DingTalk developer console (应用开发 > 开发管理 > 服务器出口IP; IPv4, at most 20 entries).`;
    }
    case 'credentials':
      return `${where}: DingTalk rejected the app credentials (${code}). Check dingtalk.appKey in the tenant config and appSecret in the tenant's dingtalk secret.`;
    case 'permission':
      return `${where}: the app lacks the permission for this API (${code}). Grant it in the DingTalk developer console (权限管理), e.g. qyapi_get_department_list / qyapi_get_department_member / qyapi_get_member, and check the app's 通讯录 visible range.`;
    case 'tokenInvalid':
      return `${where}: DingTalk rejected a freshly fetched access token (${code}).`;
    case 'quota':
      // §8: the whole organisation's metered calls are refused until the month ends or the quota is raised.
      return `${where}: DingTalk's monthly API quota is spent (${code}). Nothing was changed; work resumes at the month's turn, or at once after the quota is raised (a paid edition or an add-on pack, then dingtalk.monthlyQuota in the tenant config).`;
    case 'throttled':
      return `${where} was rate limited (${code}); retry after a pause.`;
    default:
      return `${where} failed: ${code}${init.errmsg ? ` ${safeErrmsg(init.errmsg)}` : ''}`;
  }
}
