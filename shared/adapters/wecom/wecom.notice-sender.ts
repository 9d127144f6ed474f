/**
 * The WeCom NotificationSender (reference wecom.md §6): message/send `textcard` {title
 * ≤128 B, description ≤512 B, url, btntxt ≤4 chars}. A recipient WeCom does not know comes
 * back in `invaliduser` (or 81013 when nobody is valid). WeCom's errors are sorted into
 * retry / person / tenant (NotifySendError). The client (tokens, rate limits, retries) is
 * wecom.client.ts; only its send method is needed here.
 */
import { NotifySendError, SHARED_SEND_SCOPES, sendScopeByKind, sendStep, type SendFailureScope } from '../../errors/notify-send-error';
import { BUTTON_TEXT, displaySender, displaySubject, noticeTitle, type Notice } from '../../domain/notice';
import type { NotificationSender } from '../../ports/notice-channel';
import type { TextCardInput, TextCardResult } from './wecom.client';
import { WecomApiError, type WecomErrorKind } from './wecom.errors';

/** The WeCom client method this sender uses (WecomClient satisfies it). */
export interface WecomNotifier {
  sendTextCard(input: TextCardInput): Promise<TextCardResult>;
}

/** The WeCom textcard fields for a notice (WeCom renders a few div classes; user text is escaped). */
export function wecomCard(notice: Notice): Omit<TextCardInput, 'userIds'> {
  const h = escapeHtml;
  const description =
    notice.kind === 'mail'
      ? `<div class="gray">${h(notice.sentAtText)}</div><div class="normal">发件人：${h(displaySender(notice.from))}</div><div class="highlight">主题：${h(displaySubject(notice.subject))}</div>`
      : `<div class="gray">${h(notice.firstAtText)} 至 ${h(notice.latest.sentAtText)}</div><div class="normal">最新：${h(displaySubject(notice.latest.subject))}</div><div class="normal">发件人：${h(displaySender(notice.latest.from))}</div>`;
  return { title: noticeTitle(notice), description, url: notice.url, buttonText: BUTTON_TEXT };
}

/** The WeCom NotificationSender over a client that can send textcards. */
export function wecomSender(client: WecomNotifier): NotificationSender {
  return {
    channel: 'wecom',
    async send(userId, notice) {
      const result = await sendStep(() => client.sendTextCard({ userIds: [userId], ...wecomCard(notice) }), wecomSendScope);
      // WeCom lowercases the ids it returns (§6).
      const id = userId.toLowerCase();
      if (result.invalidUsers.some((u) => u.toLowerCase() === id)) {
        throw new NotifySendError('person', 'NOTIFY.RECIPIENT_INVALID', 'wecom message/send: the recipient is not a valid member for this app (invaliduser)');
      }
      if (result.unlicensedUsers.some((u) => u.toLowerCase() === id)) {
        throw new NotifySendError('person', 'NOTIFY.RECIPIENT_UNLICENSED', 'wecom message/send: the recipient has no WeCom licence (unlicenseduser)');
      }
    },
  };
}

const WECOM_SCOPE: Record<WecomErrorKind, SendFailureScope> = { ...SHARED_SEND_SCOPES, noRecipients: 'person', misconfigured: 'tenant' };

/** WeCom's errors, sorted for the notify worker (undefined for any other error). */
export const wecomSendScope = sendScopeByKind((err): err is WecomApiError => err instanceof WecomApiError, WECOM_SCOPE);

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
