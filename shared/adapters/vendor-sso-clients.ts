/**
 * The DingTalk and WeCom clients as the sign-in use cases see them (VendorSsoClient): used by
 * mail SSO (functions/http/sso) and the console's sign-in (functions/http/console).
 */
import type { VendorSsoClient } from '../use-cases/sso/vendor-sso';
import type { DingtalkClient } from './dingtalk';
import type { WecomClient } from './wecom';

/** DingTalk: the OAuth page (QR on a PC, silent inside DingTalk) returns `authCode` (§5). */
export function dingtalkSso(client: DingtalkClient): VendorSsoClient {
  return {
    loginUrl: ({ redirectUri, state }) => client.buildLoginUrl({ redirectUri, state }),
    userIdFromCallback: async (q) => (await client.getUserIdByOAuthCode(q.authCode ?? q.code ?? '')).userId,
    userIdFromJsapiCode: async (code) => (await client.getUserIdByAuthCode(code)).userId,
  };
}

/** WeCom: in-client OAuth inside WeCom, the PC login page elsewhere; both return `code` (§5). */
export function wecomSso(client: WecomClient): VendorSsoClient {
  return {
    loginUrl: ({ redirectUri, state, inApp }) => (inApp ? client.buildOAuthUrl({ redirectUri, state }) : client.buildPcLoginUrl({ redirectUri, state })),
    userIdFromCallback: async (q) => (await client.getUserIdByCode(q.code ?? '')).userId,
  };
}
