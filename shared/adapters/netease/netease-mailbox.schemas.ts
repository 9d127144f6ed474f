/**
 * mailbox/listMessages (reference netease-qiye-api.md §2 "Other", from demo kit S1): request
 * `account_name` and `params` = JSON `{"fids":[1],"order":"receivedDate","desc":true,"start":0,
 * "limit":5,"returnTotal":true}`; "the returned ids feed the SSO `mid`; response unconfirmed".
 *
 * Our choice where the reference is silent: `con` is either the list itself or an object
 * holding it under `list`, `messages` or `var` (Coremail, which NetEase's mail runs on,
 * answers `var`), with `total` optional; each message has an `id` (or `mid`) and may carry
 * `subject`, `from` and `receivedDate` / `sentDate` (China-time text or epoch ms). Anything
 * else is refused as a bad response, and the notice falls back to the inbox.
 */
import { z } from 'zod';

const time = z.union([z.string(), z.number()]).optional();

export const mailboxMessageSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
  mid: z.union([z.string(), z.number()]).optional(),
  subject: z.string().nullish(),
  from: z.union([z.string(), z.array(z.string())]).nullish(),
  receivedDate: time,
  sentDate: time,
});

export const listMessagesConSchema = z.union([
  z.array(mailboxMessageSchema),
  z.looseObject({ total: z.number().optional(), list: z.array(mailboxMessageSchema).optional(), messages: z.array(mailboxMessageSchema).optional(), var: z.array(mailboxMessageSchema).optional() }),
]);

/** One mail of a mailbox listing, as the notify use case needs it. */
export interface MailboxMessage {
  /** What SSO's `mid` opens. */
  id: string;
  subject?: string;
  from?: string;
  /** Received time as NetEase wrote it (text in China time, or epoch ms as a string). */
  receivedAt?: string;
}

export function toMailboxMessages(con: z.output<typeof listMessagesConSchema>): MailboxMessage[] {
  const list = Array.isArray(con) ? con : (con.list ?? con.messages ?? con.var ?? []);
  const out: MailboxMessage[] = [];
  for (const m of list) {
    const id = m.id ?? m.mid;
    if (id === undefined || String(id).trim() === '') continue;
    const from = Array.isArray(m.from) ? m.from.join(', ') : (m.from ?? undefined);
    const received = m.receivedDate ?? m.sentDate;
    out.push({ id: String(id), ...(m.subject != null ? { subject: m.subject } : {}), ...(from ? { from } : {}), ...(received !== undefined ? { receivedAt: String(received) } : {}) });
  }
  return out;
}
