/**
 * NotificationSender: delivers new-mail notices to people in the tenant's work app (DingTalk
 * work notifications, WeCom app messages). Owned by the notify use case
 * (shared/use-cases/notify/check-new-mail.ts); implemented by
 * the dingtalk adapter's dingtalk.notice-sender.ts and the wecom adapter's wecom.notice-sender.ts,
 * picked per tenant and channel by the wiring (shared/wiring/tenant-clients.ts).
 */
import type { NotifyChannel } from '../contracts/notify-job';
import type { Notice } from '../domain/notice';

/** Delivers notices to one vendor user. One call = one message. */
export interface NotificationSender {
  readonly channel: NotifyChannel;
  /**
   * Send `notice` to the vendor user `userId`.
   * @throws NotifySendError saying whether to retry, skip the person, or stop the tenant.
   */
  send(userId: string, notice: Notice): Promise<void>;
}

