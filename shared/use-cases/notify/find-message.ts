/**
 * Which mail a notice opens. The received-mail log has no mail id (reference
 * netease-qiye-api.md §2 "Mail logs"), but the SSO entry opens one mail by `mid` (§3), and
 * mailbox/listMessages lists a folder's mails with their ids (§2 "Other", §4). So after a
 * log hit, the account's newest inbox mails are listed and the one matching the log entry is
 * picked: same subject, same sender address (when both sides name one), received within
 * `windowMs` of the log's `sendtime`. Exactly one match gives its id; none, several (two
 * identical mails in the same minutes), or a failed listing give none, and the notice opens
 * the inbox instead. The listing is a NetEase call, never a DingTalk or WeCom one.
 */
import { AppError } from '../../errors/app-error';
import { parseChinaTime, type DetectedMail } from './new-mail';

import type { MessageLister } from '../../ports/netease-mailbox';

/** Lists a folder's newest mails (the NeteaseMailbox port). */
export type { MessageLister };

export interface FindMessageOptions {
  /** How far the mailbox's received time may be from the log's sendtime (ms). */
  windowMs: number;
  /** Newest inbox mails listed (the mail just arrived: it is among them unless a burst followed). */
  limit: number;
}

export const DEFAULT_FIND_MESSAGE_OPTIONS: FindMessageOptions = { windowMs: 5 * 60_000, limit: 30 };

export type FindMessageResult = { mid: string; outcome: 'found' } | { mid?: undefined; outcome: 'none' | 'ambiguous' | 'failed'; code?: string };

const ADDRESS = /[^\s<>,;"']+@[^\s<>,;"']+/g;

function addresses(text: string | undefined): Set<string> {
  return new Set([...(text ?? '').matchAll(ADDRESS)].map((m) => m[0].toLowerCase()));
}

function receivedMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  if (/^\d{12,14}$/.test(text.trim())) return Number(text.trim());
  return parseChinaTime(text);
}

/** The id of the mailbox mail a log entry describes, if exactly one matches; see the file comment. */
export async function findMessageId(lister: MessageLister, mail: DetectedMail, opts: FindMessageOptions = DEFAULT_FIND_MESSAGE_OPTIONS): Promise<FindMessageResult> {
  let listed;
  try {
    listed = await lister.listMessages(mail.account, { fid: 1, limit: opts.limit });
  } catch (err) {
    return { outcome: 'failed', code: err instanceof AppError ? err.code : 'INTERNAL' };
  }
  const senders = addresses(mail.from);
  const matches = listed.filter((m) => {
    if ((m.subject ?? '').trim() !== mail.subject) return false;
    const at = receivedMs(m.receivedAt);
    if (at === undefined || Math.abs(at - mail.sentAt) > opts.windowMs) return false;
    const theirs = addresses(m.from);
    return senders.size === 0 || theirs.size === 0 || [...senders].some((a) => theirs.has(a));
  });
  const ids = new Set(matches.map((m) => m.id));
  if (ids.size === 1) return { mid: [...ids][0]!, outcome: 'found' };
  return { outcome: ids.size === 0 ? 'none' : 'ambiguous' };
}
