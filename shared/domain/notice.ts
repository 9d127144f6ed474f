/**
 * What a new-mail notification says, channel-neutral, and how its subject and sender are
 * shown. Pure: the channel adapters render a Notice into their vendor's message.
 *
 * Subject and sender are shown to the mailbox owner in their own work app; the mail body
 * never is (it is not even in the log we read). Neither subject nor sender is ever
 * logged: they are personal data. Logs carry counts and ids only.
 */

/** Subjects and senders are cut to this many characters before rendering. */
export const MAX_SUBJECT_CHARS = 100;
export const MAX_SENDER_CHARS = 80;
export const NO_SUBJECT = '(无主题)';
/** The button of every notice. */
export const BUTTON_TEXT = '查看邮件';

export type Notice =
  /** One mail: subject, sender, when, and the link. */
  | { kind: 'mail'; subject: string; from: string; sentAtText: string; url: string }
  /**
   * Several mails folded into one message ("您有 N 封新邮件") when sending each would pass
   * the person's limit. Carries the newest mail and the time span, which also keeps its
   * content unique (DingTalk drops the same content to a user within a day, §6).
   */
  | { kind: 'summary'; count: number; latest: { subject: string; from: string; sentAtText: string }; firstAtText: string; url: string };

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

/** The title of a notice's message. */
export function noticeTitle(notice: Notice): string {
  return notice.kind === 'mail' ? `新邮件：${displaySubject(notice.subject)}` : `您有 ${notice.count} 封新邮件`;
}
