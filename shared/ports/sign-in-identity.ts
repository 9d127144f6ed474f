/**
 * SignInIdentity: who a person is, according to the tenant's work app (DingTalk or WeCom),
 * for single sign-on (reference dingtalk.md §5, wecom.md §5). Owned by the SSO use case
 * (shared/use-cases/sso/sign-in.ts); implemented by the dingtalk adapter's dingtalk.sign-in.ts
 * and the wecom adapter's wecom.sign-in.ts over their API clients, picked per tenant and
 * vendor by the wiring (shared/wiring/tenant-clients.ts).
 */

/** The work apps a person can sign in through. */
export type SsoVendor = 'dingtalk' | 'wecom';

/** The vendor's sign-in page and the look-up of the person a returned code belongs to. */
export interface SignInIdentity {
  /** The vendor's sign-in page; `inApp` picks the in-client flow where the vendor has one. */
  loginUrl(input: { redirectUri: string; state: string; inApp: boolean }): string;
  /** The vendor user id for the code the vendor's sign-in page came back with (query of the callback). */
  userIdFromCallback(query: Record<string, string | undefined>): Promise<string>;
  /** DingTalk workbench only: the user id for a JSAPI `requestAuthCode` code (topapi/v2/user/getuserinfo). */
  userIdFromJsapiCode?(code: string): Promise<string>;
}
