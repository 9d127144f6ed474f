/**
 * Contact events: the neutral shape the DingTalk and WeCom callback parsers produce, and the
 * versioned message the callback functions put on the `callback` queue for the callback worker.
 *
 * Ids only. Callback payloads can carry names, mobiles, e-mails (WeCom create_user, DingTalk
 * diffInfo); none of that crosses this boundary, and neither does the decrypted body. The
 * worker re-reads each named object from the source (DirectorySource.getPerson/getDepartment)
 * and applies the current state, so the message says *what to look at*, not what changed.
 */
import { z } from 'zod';
import { CHANNEL_ID, TENANT_ID } from '../config/tenant-config.schema';

export const CONTACT_EVENT_VENDORS = ['dingtalk', 'wecom'] as const;
export type ContactEventVendor = (typeof CONTACT_EVENT_VENDORS)[number];

/** A source id: DingTalk userid / dept_id, WeCom UserID / department Id. No control characters. */
// eslint-disable-next-line no-control-regex
export const sourceIdSchema = z.string().min(1).max(256).regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const contactChangeSchema = z
  .object({
    kind: z.enum(['person', 'department']),
    /** The object's source id (for a rename, the id before it). */
    id: sourceIdSchema,
    /**
     * `upsert`: re-read it from the source and create or update it (a person who turns out to
     * have left is handled by the sync rules, not here). `delete`: the source says it is gone.
     */
    action: z.enum(['upsert', 'delete']),
    /**
     * The new id when the source renamed the object (WeCom update_user NewUserID): the same
     * person, whose mapping moves from `id` to `newId`. Only with kind person, action upsert.
     */
    newId: sourceIdSchema.optional(),
  })
  .strict()
  .refine((c) => c.newId === undefined || (c.kind === 'person' && c.action === 'upsert' && c.newId !== c.id), {
    message: 'newId is only allowed on a person upsert, and must differ from id',
    path: ['newId'],
  });
export type ContactChange = z.output<typeof contactChangeSchema>;

/** Most changes in one queue message (SQS allows 256 KiB; 500 ids stay far below it). */
export const MAX_CHANGES_PER_MESSAGE = 500;

/** Vendor event names are short identifiers; anything else is cut down before it is stored. */
const eventTypeSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_./:-]+$/);

export const contactEventMessageSchema = z
  .object({
    v: z.literal(1),
    tenantId: z.string().regex(TENANT_ID),
    vendor: z.enum(CONTACT_EVENT_VENDORS),
    /**
     * The extra channel (`channels[].id`, shared/config/channels.ts) whose callback URL
     * received the event; absent for the tenant's top-level `dingtalk` / `wecom` app. Optional,
     * so messages queued before it existed still parse (same v: 1).
     */
    channelId: z.string().regex(CHANNEL_ID).optional(),
    /**
     * The event identity used for deduplication: the vendor's event id where it has one
     * (DingTalk `eventId`), else `sha256:<hex>` of the event's content. A large event split
     * over several messages gets `#<n>` suffixes after the first.
     */
    eventId: z.string().min(1).max(200),
    /** The vendor's event name (`user_add_org`, `change_contact/update_user`). */
    eventType: eventTypeSchema,
    /** When the callback was accepted, ms since the epoch. */
    receivedAt: z.number().int().nonnegative(),
    /** When the vendor says the change happened, ms since the epoch, if it says. */
    occurredAt: z.number().int().nonnegative().optional(),
    changes: z.array(contactChangeSchema).min(1).max(MAX_CHANGES_PER_MESSAGE),
  })
  .strict();
export type ContactEventMessage = z.output<typeof contactEventMessageSchema>;

/** A verified, parsed contact event, before it is addressed to a tenant. */
export interface ContactEvent {
  vendor: ContactEventVendor;
  /** See {@link ContactEventMessage.eventId}. */
  eventId: string;
  eventType: string;
  occurredAt?: number;
  /** At least one change; each (kind, id) at most once. */
  changes: ContactChange[];
}

/**
 * The queue messages for one event: usually one; a large DingTalk batch is split into chunks
 * of {@link MAX_CHANGES_PER_MESSAGE}. Each message is validated, so a bad id fails here, at the
 * producer, rather than in the worker.
 */
export function toContactEventMessages(event: ContactEvent, ctx: { tenantId: string; channelId?: string | undefined; receivedAt: number }): ContactEventMessage[] {
  const out: ContactEventMessage[] = [];
  for (let i = 0; i < event.changes.length; i += MAX_CHANGES_PER_MESSAGE) {
    const n = i / MAX_CHANGES_PER_MESSAGE;
    out.push(
      contactEventMessageSchema.parse({
        v: 1,
        tenantId: ctx.tenantId,
        vendor: event.vendor,
        ...(ctx.channelId === undefined ? {} : { channelId: ctx.channelId }),
        eventId: n === 0 ? event.eventId : `${event.eventId}#${n}`,
        eventType: event.eventType,
        receivedAt: ctx.receivedAt,
        ...(event.occurredAt === undefined ? {} : { occurredAt: event.occurredAt }),
        changes: event.changes.slice(i, i + MAX_CHANGES_PER_MESSAGE),
      }),
    );
  }
  return out;
}

/** Parses a queue message body (string or object); throws a ZodError on anything else. */
export function parseContactEventMessage(body: unknown): ContactEventMessage {
  return contactEventMessageSchema.parse(typeof body === 'string' ? JSON.parse(body) : body);
}

/** Keeps the first occurrence of each (kind, id); vendors can repeat an id in one event. */
export function uniqueChanges(changes: readonly ContactChange[]): ContactChange[] {
  const seen = new Set<string>();
  const out: ContactChange[] = [];
  for (const c of changes) {
    const k = `${c.kind}\u0000${c.id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

/** Cuts an unexpected vendor event name down to something safe to log and store. */
export function safeEventType(raw: unknown): string {
  const s = typeof raw === 'string' ? raw.replace(/[^A-Za-z0-9_./:-]/g, '_').slice(0, 64) : '';
  return s === '' ? 'unknown' : s;
}
