/**
 * The one-click link in a new-mail notification.
 *
 * Why not a signed OA link: those expire after the tenant's window (5 minutes) and are
 * single-use, while a chat message is often read hours later, or tapped twice. Instead
 * the link names no person at all: it goes to our SSO endpoint with `via=dingtalk|wecom`,
 * and the SSO function sends the browser through the vendor's own in-app login
 * (DingTalk workbench / WeCom OAuth), which re-identifies whoever taps it; that person's
 * mapping then picks the mailbox (shared/use-cases/sso/sign-in.ts). A forwarded link
 * therefore opens the forwardee's own mailbox, never the recipient's.
 *
 * Target: `mid` opens one mail; NetEase's received-mail log carries no mail id
 * (reference netease-qiye-api.md §2 "Mail logs"), so without one the link opens the
 * inbox (`module=mbox.ListModule|{"fid":1}`, §3; folder 1 = inbox, §4 mailbox).
 */
import { ValidationError } from '../../errors/app-error';
import type { NotifyChannel } from '../../contracts/notify-job';

/** NetEase web module for the inbox folder (reference §3 `module`, folder id 1). */
export const INBOX_MODULE = 'mbox.ListModule|{"fid":1}';

export interface NotificationLinkInput {
  /** Base of the SSO endpoint (QIYE_SSO_BASE_URL or QIYE_PUBLIC_BASE_URL), no trailing path. */
  ssoBaseUrl: string;
  tenantId: string;
  /** The vendor that re-identifies the person on click. */
  via: NotifyChannel;
  /** An extra channel of that vendor (`channel=` on the SSO URL picks its app). */
  channelId?: string;
  /** One mail's id, when known. */
  mid?: string;
  /** A module to open instead; default the inbox. Ignored when `mid` is given. */
  module?: string;
}

/** `${ssoBase}/sso/<tenant>?via=<dingtalk|wecom>&mid=<id>` or `&module=<inbox>`. */
export function buildNotificationLink(input: NotificationLinkInput): string {
  let base: URL;
  try {
    base = new URL(input.ssoBaseUrl);
  } catch {
    throw new ValidationError('the SSO base URL is not a URL', { code: 'NOTIFY.BAD_LINK_BASE' });
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new ValidationError('the SSO base URL must be http(s)', { code: 'NOTIFY.BAD_LINK_BASE' });
  const url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}/sso/${encodeURIComponent(input.tenantId)}`);
  url.searchParams.set('via', input.via);
  if (input.channelId) url.searchParams.set('channel', input.channelId);
  if (input.mid) url.searchParams.set('mid', input.mid);
  else url.searchParams.set('module', input.module ?? INBOX_MODULE);
  return url.toString();
}
