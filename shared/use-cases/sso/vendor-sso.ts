/**
 * In-app and QR sign-in through DingTalk or WeCom (reference dingtalk.md §5, wecom.md §5).
 *
 * `/sso/<tenant>?via=dingtalk|wecom[&mid=|&module=]` sends the browser to the vendor's
 * OAuth page (inside the vendor's app this completes without a prompt; on a PC it shows
 * a QR code). The vendor comes back to the same URL with a one-time code and our `state`;
 * the code gives the vendor user id, which the sync mapping turns into the mailbox.
 * Use the same URL as the DingTalk workbench app's homepage and WeCom's app homepage.
 * A bare JSAPI auth code (`dd.runtime.permission.requestAuthCode`) without our state is
 * refused on purpose: nothing would bind it to this browser (login CSRF).
 *
 * `state` binds the round trip: base36 time, a hex nonce and a hex HMAC (the tenant's OA link
 * secret) over tenant, via, time, nonce, mid and module. It is checked for its window and
 * claimed once, so a captured callback URL can't be replayed and nobody can make a
 * victim land in someone else's mailbox (login CSRF).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError, ValidationError } from '../../errors/app-error';
import type { SsoVendor } from '../../ports/sign-in-identity';

// Letters and digits only: WeCom allows nothing else in state (wecom.md §5). Fixed widths:
// 9 base36 characters of time, 20 hex of nonce, 32 hex of HMAC (128 bits).
const STATE = /^([0-9a-z]{9})([0-9a-f]{20})([0-9a-f]{32})$/;

function stateMac(secret: string, parts: { tenantId: string; via: SsoVendor; flow?: string; t: string; nonce: string; mid?: string; module?: string }): string {
  // The flow (oauth, or the workbench's h5) is bound too: a state minted for one can't serve the other.
  const data = [parts.tenantId, parts.via, parts.flow ?? 'oauth', parts.t, parts.nonce, parts.mid ?? '', parts.module ?? ''].join('\n');
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex').slice(0, 32);
}

export function makeState(secret: string, input: { tenantId: string; via: SsoVendor; flow?: string; now: number; mid?: string; module?: string; nonce?: string }): string {
  const t = input.now.toString(36).padStart(9, '0');
  const nonce = input.nonce ?? randomBytes(10).toString('hex');
  return `${t}${nonce}${stateMac(secret, { ...input, t, nonce })}`;
}

/** Checks a returned state; returns its nonce (for the once-only claim). */
export function verifyState(secret: string, input: { state: string | undefined; tenantId: string; via: SsoVendor; flow?: string; now: number; windowSeconds: number; mid?: string; module?: string }): string {
  const m = STATE.exec(input.state ?? '');
  if (!m) throw new ValidationError('The sign-in came back without a valid state. Start again from the app.', { code: 'SSO.BAD_STATE' });
  const [, t, nonce, mac] = m as unknown as [string, string, string, string];
  const expected = Buffer.from(stateMac(secret, { ...input, t, nonce }));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new AuthError('SSO.BAD_STATE', 'The sign-in could not be verified. Start again from the app.');
  // The OAuth round trip includes a person scanning a QR code: allow the full window.
  if (Math.abs(input.now - parseInt(t, 36)) > input.windowSeconds * 1000) {
    throw new AuthError('SSO.LINK_EXPIRED', 'The sign-in took too long. Start again from the app.');
  }
  return nonce;
}

/** Inside the vendor's own app (its in-app browser identifies itself in the User-Agent)? */
export function isInApp(via: SsoVendor, userAgent: string | undefined): boolean {
  const ua = userAgent ?? '';
  return via === 'dingtalk' ? /DingTalk/i.test(ua) : /wxwork/i.test(ua);
}

/**
 * The DingTalk workbench page (reference dingtalk.md §5): inside DingTalk it asks the JSAPI
 * for a one-time auth code and comes back to `back` with `code` and our signed `state`.
 * Everything written into the page is JSON-encoded for a script context.
 */
export function dingtalkH5Page(input: { jsapiUrl: string; corpId: string; back: string; state: string; scriptNonce: string }): string {
  const js = (v: string) => JSON.stringify(v).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>正在登录邮箱…</title><style>body{font-family:system-ui,"PingFang SC",sans-serif;margin:3rem auto;max-width:30rem;padding:0 1rem;color:#333}</style>
<script src="${input.jsapiUrl.replace(/"/g, '&quot;')}" nonce="${input.scriptNonce}"></script></head>
<body><p id="msg">正在通过钉钉登录邮箱… Signing you in through DingTalk…</p>
<script nonce="${input.scriptNonce}">
(function () {
  var back = ${js(input.back)}, state = ${js(input.state)}, corpId = ${js(input.corpId)};
  function fail(why) { document.getElementById('msg').textContent = '无法通过钉钉登录 / DingTalk sign-in failed: ' + why; }
  if (typeof dd === 'undefined') { fail('open this page from the DingTalk workbench'); return; }
  dd.ready(function () {
    dd.runtime.permission.requestAuthCode({
      corpId: corpId,
      onSuccess: function (r) { location.replace(back + (back.indexOf('?') < 0 ? '?' : '&') + 'code=' + encodeURIComponent(r.code) + '&state=' + encodeURIComponent(state)); },
      onFail: function (e) { fail((e && (e.errorMessage || e.message)) || 'unknown error'); }
    });
  });
})();
</script></body></html>`;
}
