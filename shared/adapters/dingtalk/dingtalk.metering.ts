/**
 * Which DingTalk APIs count against the organisation's monthly API quota: the ONE place
 * this classification lives (reference dingtalk.md §8), so it can be corrected when DingTalk
 * says otherwise. The client asks `dingtalkApiClass(api)` before every request it sends.
 *
 * The sources disagree, so we choose the safe side and say why:
 * - §8 (DingTalk help centre, quoted in the reference): "treat directory reads (department
 *   listsub, user/list, user/get) and work notifications as metered unless a DingTalk source
 *   says otherwise". §4 quotes an older figure (5,000 a month on the standard edition)
 *   "excluding token, auth and contacts APIs": contacts excluded there, included here. We
 *   count directory reads as metered: over-counting makes us stop early, under-counting
 *   makes DingTalk stop us (90020) with callbacks, sign-in and notices failing too.
 * - Free: gettoken (§4 excludes token APIs), the sign-in APIs (§4 excludes auth APIs:
 *   getuserinfo, getbyunionid, oauth2 userAccessToken, contact/users/me).
 * - Anything not listed is metered (a new call added without thought must not slip by).
 */
import type { ApiClass } from '../../ports/usage-meter';

export const DINGTALK_API_CLASSES: Readonly<Record<string, ApiClass>> = {
  // Directory reads (§4; metered per §8).
  'topapi/v2/department/listsub': 'metered',
  'topapi/v2/department/listsubid': 'metered',
  'topapi/v2/department/get': 'metered',
  'topapi/v2/user/list': 'metered',
  'topapi/user/listid': 'metered',
  'topapi/v2/user/get': 'metered',
  // Work notifications (§6; metered per §8).
  'topapi/message/corpconversation/asyncsend_v2': 'metered',
  'topapi/message/corpconversation/getsendresult': 'metered',
  // Tokens (§4: excluded from the quota).
  gettoken: 'free',
  'v1.0/oauth2/accessToken': 'free',
  // Sign-in (§4-5: auth APIs excluded).
  'topapi/v2/user/getuserinfo': 'free',
  'topapi/user/getbyunionid': 'free',
  'v1.0/oauth2/userAccessToken': 'free',
  'v1.0/contact/users/me': 'free',
};

/** The class of a DingTalk API path (no query string); unknown APIs are metered. */
export function dingtalkApiClass(api: string): ApiClass {
  return DINGTALK_API_CLASSES[api] ?? 'metered';
}
