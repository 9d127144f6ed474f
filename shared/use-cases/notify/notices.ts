/**
 * What a new-mail notification says, channel-neutral, and the port that delivers it.
 *
 * Subject and sender are shown to the mailbox owner in their own work app; the mail body
 * never is (it is not even in the log we read). Neither subject nor sender is ever
 * logged: they are personal data. Logs carry counts and ids only.
 */
import { AppError } from '../../errors/app-error';
import type { NotifyChannel } from '../../contracts/notify-job';

/** Subjects and senders are cut to this many characters before rendering. */
export const MAX_SUBJECT_CHARS = 100;
export const MAX_SENDER_CHARS = 80;
export const NO_SUBJECT = '(无主题)';

export type Notice =
  /** One mail: subject, sender, when, and the link. */
  | { kind: 'mail'; subject: string; from: string; sentAtText: string; url: string }
  /**
   * Several mails folded into one message ("您有 N 封新邮件") when sending each would pass
   * the person's limit. Carries the newest mail and the time span, which also keeps its
   * content unique (DingTalk drops the same content to a user within a day, §6).
   */
  | { kind: 'summary'; count: number; latest: { subject: string; from: string; sentAtText: string }; firstAtText: string; url: string };

/** Delivers notices to one vendor user. One call = one message. */
export interface NotificationSender {
  readonly channel: NotifyChannel;
  /**
   * Send `notice` to the vendor user `userId`.
   * @throws NotifySendError saying whether to retry, skip the person, or stop the tenant.
   */
  send(userId: string, notice: Notice): Promise<void>;
}

/**
 * What a failed send means for the worker:
 * - `retry`: the vendor is busy or unreachable: fail the queue record, keep the watermark;
 * - `person`: this person cannot get messages (not in the vendor org, outside the app's
 *   visible range): log, count, treat their mails as handled;
 * - `tenant`: nobody of this tenant can (credentials, IP whitelist, permission, quota,
 *   missing secret): stop the batch, keep watermarks, log for an admin.
 */
export type SendFailureScope = 'retry' | 'person' | 'tenant';

export class NotifySendError extends AppError {
  readonly scope: SendFailureScope;
  constructor(scope: SendFailureScope, code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: scope === 'retry', status: 502, expose: false, cause });
    this.scope = scope;
  }
}

/** Cut to `max` characters (code points), marking the cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The subject as shown: trimmed, clipped, or "(无主题)". Control characters become spaces. */
export function displaySubject(subject: string): string {
  // eslint-disable-next-line no-control-regex
  const s = subject.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return s ? clip(s, MAX_SUBJECT_CHARS) : NO_SUBJECT;
}

export function displaySender(from: string): string {
  // eslint-disable-next-line no-control-regex
  const s = from.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return s ? clip(s, MAX_SENDER_CHARS) : '(未知发件人)';
}
