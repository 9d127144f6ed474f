/**
 * NotificationSenders for DingTalk work notifications and WeCom app messages: render a
 * Notice into the vendor's message and sort the vendor's errors into retry / person /
 * tenant (see NotifySendError). The clients themselves (tokens, rate limits, retries)
 * are the adapters'; only their send method is needed here.
 *
 * - DingTalk (reference dingtalk.md §6): asyncsend_v2 with an `action_card` (title,
 *   markdown, one button). Asynchronous: errcode 0 means the task was accepted; a user
 *   outside the org or over a limit is filtered later (getsendresult), not refused here.
 *   Same content to the same user is delivered once a day, so every message carries its
 *   mail's time, sender and subject, which makes it unique per mail.
 * - WeCom (reference wecom.md §6): message/send `textcard` {title ≤128 B, description
 *   ≤512 B, url, btntxt ≤4 chars}. A recipient WeCom does not know comes back in
 *   `invaliduser` (or 81013 when nobody is valid).
 */
import type { DingtalkWorkMessage } from '../../adapters/dingtalk/dingtalk.messages';
import { actionCardMessage, escapeMarkdown } from '../../adapters/dingtalk/dingtalk.messages';
import { DingtalkApiError, type DingtalkErrorKind } from '../../adapters/dingtalk/dingtalk.errors';
import type { TextCardInput, TextCardResult } from '../../adapters/wecom/wecom.client';
import { WecomApiError, type WecomErrorKind } from '../../adapters/wecom/wecom.errors';
import { isAppError, isRetryable, NotConfiguredError, ValidationError } from '../../errors/app-error';
import { displaySender, displaySubject, NotifySendError, type Notice, type NotificationSender, type SendFailureScope } from './notices';

export const BUTTON_TEXT = '查看邮件';

/** The DingTalk client method this sender uses (DingtalkClient satisfies it). */
export interface DingtalkNotifier {
  sendWorkNotification(input: { userIds: readonly string[]; msg: DingtalkWorkMessage }): Promise<{ taskId: string }>;
}

/** The WeCom client method this sender uses (WecomClient satisfies it). */
export interface WecomNotifier {
  sendTextCard(input: TextCardInput): Promise<TextCardResult>;
}

export function noticeTitle(notice: Notice): string {
  return notice.kind === 'mail' ? `新邮件：${displaySubject(notice.subject)}` : `您有 ${notice.count} 封新邮件`;
}

/** The DingTalk action card for a notice. */
export function dingtalkMessage(notice: Notice): DingtalkWorkMessage {
  const md = (s: string) => escapeMarkdown(s);
  const markdown =
    notice.kind === 'mail'
      ? [`### 新邮件`, `**发件人：** ${md(displaySender(notice.from))}`, `**主题：** ${md(displaySubject(notice.subject))}`, `**时间：** ${md(notice.sentAtText)}`].join('\n\n')
      : [
          `### 您有 ${notice.count} 封新邮件`,
          `**最新：** ${md(displaySubject(notice.latest.subject))}`,
          `**发件人：** ${md(displaySender(notice.latest.from))}`,
          `**时间：** ${md(notice.firstAtText)} 至 ${md(notice.latest.sentAtText)}`,
        ].join('\n\n');
  return actionCardMessage({ title: noticeTitle(notice), markdown, buttonTitle: BUTTON_TEXT, url: notice.url });
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

export function dingtalkSender(client: DingtalkNotifier): NotificationSender {
  return {
    channel: 'dingtalk',
    async send(userId, notice) {
      let msg: DingtalkWorkMessage;
      try {
        msg = dingtalkMessage(notice);
      } catch (err) {
        throw toSendError(err);
      }
      try {
        await client.sendWorkNotification({ userIds: [userId], msg });
      } catch (err) {
        throw toSendError(err);
      }
    },
  };
}

export function wecomSender(client: WecomNotifier): NotificationSender {
  return {
    channel: 'wecom',
    async send(userId, notice) {
      let result: TextCardResult;
      try {
        result = await client.sendTextCard({ userIds: [userId], ...wecomCard(notice) });
      } catch (err) {
        throw toSendError(err);
      }
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

const DINGTALK_SCOPE: Record<DingtalkErrorKind, SendFailureScope> = {
  throttled: 'retry',
  server: 'retry',
  notFound: 'person',
  invalid: 'person',
  rejected: 'person',
  invalidCode: 'person',
  tokenInvalid: 'tenant',
  credentials: 'tenant',
  ipNotWhitelisted: 'tenant',
  permission: 'tenant',
  quota: 'tenant',
  badResponse: 'tenant',
};

const WECOM_SCOPE: Record<WecomErrorKind, SendFailureScope> = {
  throttled: 'retry',
  server: 'retry',
  notFound: 'person',
  noRecipients: 'person',
  invalid: 'person',
  rejected: 'person',
  invalidCode: 'person',
  tokenInvalid: 'tenant',
  credentials: 'tenant',
  ipNotWhitelisted: 'tenant',
  permission: 'tenant',
  misconfigured: 'tenant',
  badResponse: 'tenant',
};

/** Sort any send failure into retry / person / tenant, keeping the vendor's code and message. */
export function toSendError(err: unknown): NotifySendError {
  if (err instanceof NotifySendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof DingtalkApiError) return new NotifySendError(err.retryable ? 'retry' : DINGTALK_SCOPE[err.kind], err.code, message, err);
  if (err instanceof WecomApiError) return new NotifySendError(err.retryable ? 'retry' : WECOM_SCOPE[err.kind], err.code, message, err);
  // A missing secret or app section: nobody of the tenant can be notified until an admin acts.
  if (err instanceof NotConfiguredError) return new NotifySendError('tenant', err.code, message, err);
  // A message we could not build or the client refused before sending (bad userid): this person only.
  if (err instanceof ValidationError) return new NotifySendError('person', err.code, message, err);
  if (isAppError(err)) return new NotifySendError(err.retryable ? 'retry' : 'person', err.code, message, err);
  // Unknown errors (network resets and the like) are retried.
  return new NotifySendError(isRetryable(err) ? 'retry' : 'person', 'NOTIFY.SEND_FAILED', message, err);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
