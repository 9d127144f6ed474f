/**
 * The DingTalk NotificationSender (reference dingtalk.md §6): asyncsend_v2 with an
 * `action_card` (title, markdown, one button). Asynchronous: errcode 0 means the task was
 * accepted; a user outside the org or over a limit is filtered later (getsendresult), not
 * refused here. Same content to the same user is delivered once a day, so every message
 * carries its mail's time, sender and subject, which makes it unique per mail. DingTalk's
 * errors are sorted into retry / person / tenant (NotifySendError). The client (tokens, rate
 * limits, retries) is dingtalk.client.ts; only its send method is needed here.
 */
import { SHARED_SEND_SCOPES, sendScopeByKind, sendStep, type SendFailureScope } from '../../errors/notify-send-error';
import { BUTTON_TEXT, displaySender, displaySubject, noticeTitle, type Notice } from '../../domain/notice';
import type { NotificationSender } from '../../ports/notice-channel';
import { DingtalkApiError, type DingtalkErrorKind } from './dingtalk.errors';
import { actionCardMessage, escapeMarkdown, type DingtalkWorkMessage } from './dingtalk.messages';

/** The DingTalk client method this sender uses (DingtalkClient satisfies it). */
export interface DingtalkNotifier {
  sendWorkNotification(input: { userIds: readonly string[]; msg: DingtalkWorkMessage }): Promise<{ taskId: string }>;
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

/** The DingTalk NotificationSender over a client that can send work notifications. */
export function dingtalkSender(client: DingtalkNotifier): NotificationSender {
  return {
    channel: 'dingtalk',
    async send(userId, notice) {
      const msg = await sendStep(() => dingtalkMessage(notice), dingtalkSendScope);
      await sendStep(() => client.sendWorkNotification({ userIds: [userId], msg }), dingtalkSendScope);
    },
  };
}

const DINGTALK_SCOPE: Record<DingtalkErrorKind, SendFailureScope> = { ...SHARED_SEND_SCOPES, quota: 'tenant' };

/** DingTalk's errors, sorted for the notify worker (undefined for any other error). */
export const dingtalkSendScope = sendScopeByKind((err): err is DingtalkApiError => err instanceof DingtalkApiError, DINGTALK_SCOPE);
