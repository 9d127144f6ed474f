/**
 * From NetEase received-mail log entries to "new mail for this mailbox": time parsing,
 * the stable identity a mail is deduplicated on, and attribution of entries to the
 * accounts of a batch. Pure functions, no I/O.
 *
 * Facts (reference netease-qiye-api.md §2 "Mail logs"): mail/getReceivedMailLogs takes
 * `accounts`, `start`, `end` and returns `{total, list[{mailfrom, mailto, subject,
 * sendtime, sendip, mailsize, result}]}`; S2 pushes entries with `result == 1` (delivered).
 * There is no mail id in the log, so a mail is identified by what the log does give.
 */
import { createHash } from 'node:crypto';

/** What the use case needs of a log entry (NeteaseMailLogEntry satisfies it). */
export interface MailLogEntry {
  from?: string;
  to?: string;
  subject?: string;
  /** `yyyy-MM-dd HH:mm:ss`, China time (UTC+8). */
  sentAt?: string;
  result?: string;
}

/** One received mail, attributed to one mailbox of the batch. */
export interface DetectedMail {
  /** Lower-cased account name (local part). */
  account: string;
  /** 32 hex characters: see {@link mailIdentity}. */
  id: string;
  /** Epoch ms of `sentAtText` (second precision). */
  sentAt: number;
  /** As NetEase wrote it, China time. */
  sentAtText: string;
  from: string;
  subject: string;
}

export interface Attribution {
  byAccount: Map<string, DetectedMail[]>;
  /** Entries whose recipient matches no account of the batch (mail to an alias or a list). */
  unattributed: number;
  /** Entries NetEase did not mark delivered (bounced, rejected, quarantined). */
  notDelivered: number;
  /** Entries without a readable `sendtime`. */
  unreadable: number;
}

const CHINA_OFFSET_MS = 8 * 3600_000;
const CHINA_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** `yyyy-MM-dd HH:mm[:ss]` in China time (no daylight saving: a fixed +8 h) to epoch ms. */
export function parseChinaTime(text: string | undefined): number | undefined {
  const m = CHINA_TIME.exec((text ?? '').trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)) - CHINA_OFFSET_MS;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Epoch ms to `yyyy-MM-dd HH:mm:ss` China time (what people in the tenant read). */
export function formatChinaTime(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The identity a mail is deduplicated on: account + sendtime + sender + subject, hashed
 * (the log has no mail id; the hash keeps the subject out of our table and logs). Two
 * entries that agree on all four within the same second are treated as one mail.
 */
export function mailIdentity(account: string, sentAtText: string, from: string, subject: string): string {
  return createHash('sha256').update([account.toLowerCase(), sentAtText, from, subject].join('\n'), 'utf8').digest('hex').slice(0, 32);
}

/**
 * Whether NetEase counts the entry as delivered. S2 keeps `result == 1`; an entry with no
 * `result` at all is kept too (the field is optional in our schema, and dropping every
 * notification because a deployment omits it would be the worse failure).
 */
export function isDelivered(entry: MailLogEntry): boolean {
  return entry.result === undefined || entry.result.trim() === '1';
}

/** Local parts of the addresses in a `mailto` field ("a@x.com", "A <a@x.com>", "a@x.com;b@x.com"). */
export function recipientLocalParts(to: string | undefined): string[] {
  if (!to) return [];
  const out: string[] = [];
  for (const m of to.matchAll(/([^\s<>,;"']+)@[^\s<>,;"']+/g)) if (m[1]) out.push(m[1].toLowerCase());
  return out;
}

/**
 * Group log entries by the batch account they were delivered to. One NetEase call covers
 * the whole batch, so the recipient (`mailto`) says whose mail it is; an entry naming
 * several batch accounts counts for each. With a single-account batch, an entry without a
 * readable recipient belongs to that account.
 */
export function attributeEntries(entries: readonly MailLogEntry[], accounts: ReadonlySet<string>): Attribution {
  const byAccount = new Map<string, DetectedMail[]>();
  let unattributed = 0;
  let notDelivered = 0;
  let unreadable = 0;
  const only = accounts.size === 1 ? [...accounts][0] : undefined;
  for (const e of entries) {
    if (!isDelivered(e)) {
      notDelivered++;
      continue;
    }
    const sentAt = parseChinaTime(e.sentAt);
    if (sentAt === undefined || e.sentAt === undefined) {
      unreadable++;
      continue;
    }
    let owners = [...new Set(recipientLocalParts(e.to))].filter((a) => accounts.has(a));
    if (owners.length === 0 && only !== undefined && recipientLocalParts(e.to).length === 0) owners = [only];
    if (owners.length === 0) {
      unattributed++;
      continue;
    }
    const from = (e.from ?? '').trim();
    const subject = (e.subject ?? '').trim();
    const sentAtText = e.sentAt.trim();
    for (const account of owners) {
      const list = byAccount.get(account) ?? [];
      list.push({ account, id: mailIdentity(account, sentAtText, from, subject), sentAt, sentAtText, from, subject });
      byAccount.set(account, list);
    }
  }
  return { byAccount, unattributed, notDelivered, unreadable };
}
