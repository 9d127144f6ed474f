/**
 * NeteaseMailbox: what the bridge reads of people's mailboxes: the unread count for the OA
 * portal and the received-mail log the new-mail notices are made from. Owned by the core
 * (shared/use-cases/unread, shared/use-cases/notify); implemented by the NetEase adapter
 * (the netease adapter's netease.client.ts; oaserver getUnreadMsg and
 * mail/getReceivedMailLogs, reference netease-qiye-api.md §2). NetEase offers no API that
 * reads message bodies, so the port has none; listMessages gives a mail's id and headers only.
 *
 * Failures are thrown as errors that satisfy NeteaseFailure (shared/errors/netease-failure.ts).
 */

/** One received mail, from mail/getReceivedMailLogs. */
export interface NeteaseMailLogEntry {
  from?: string;
  to?: string;
  subject?: string;
  /** As NetEase formats it, e.g. `2024-05-01 09:30:00` (China time). */
  sentAt?: string;
  senderIp?: string;
  sizeBytes?: number;
  /** Delivery result; S2 treats "1" as delivered. */
  result?: string;
}

export interface NeteaseMailLogs {
  total: number;
  entries: NeteaseMailLogEntry[];
}

/** Reads a tenant's received-mail log: the part of {@link NeteaseMailbox} the notify worker uses. */
export interface MailLogReader {
  /**
   * Delivered and refused mail to `accounts` (local parts) between `start` and `end`.
   * NetEase has no paging here: `total` may exceed `entries.length` (the caller narrows the query).
   */
  getReceivedMailLogs(query: { accounts: readonly string[]; start: Date; end: Date }): Promise<{ total: number; entries: NeteaseMailLogEntry[] }>;
}

/** Lists a mailbox's newest mails (mailbox/listMessages): what a notice needs to open its mail (`mid`). */
export interface MessageLister {
  listMessages(accountName: string, query?: { fid?: number; start?: number; limit?: number }): Promise<Array<{ id: string; subject?: string; from?: string; receivedAt?: string }>>;
}

/** A tenant's mailboxes, read-only. */
export interface NeteaseMailbox extends MailLogReader, MessageLister {
  /** The number of unread mails in the mailbox `accountName` (local part). */
  getUnreadCount(accountName: string): Promise<number>;
}
