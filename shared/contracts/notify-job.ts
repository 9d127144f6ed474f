/**
 * The message the notify planner puts on the `notify` queue for the notify worker: "check
 * these people's mailboxes for new mail and tell them on this channel".
 *
 * Ids only: the NetEase account name (local part) whose received-mail log is read, and
 * the vendor user id the notification goes to (for a DingTalk-sourced tenant the mapping's
 * source id IS the DingTalk userid, for WeCom the UserID). No names, no subjects.
 *
 * Versioned (`v: 1`); the worker refuses anything else (logged, acknowledged: its batch handler
 * checks each record with `notifyJobSchema`, shared/lambda/sqs-batch.ts) rather than
 * guessing at a shape it does not know.
 */
import { z } from 'zod';
import { TENANT_ID } from '../config/tenant-config.schema';

export const NOTIFY_CHANNELS = ['dingtalk', 'wecom'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/**
 * People per message. mail/getReceivedMailLogs takes a comma-separated `accounts` list
 * (reference netease-qiye-api.md §2 "Mail logs") with no documented maximum; 50 keeps the
 * signed request small and one worker call short. The schema allows up to 100.
 */
export const DEFAULT_NOTIFY_BATCH_SIZE = 50;
export const MAX_NOTIFY_BATCH_SIZE = 100;

// eslint-disable-next-line no-control-regex
const vendorUserId = z.string().min(1).max(128).regex(/^[^\u0000-\u001f\u007f,|\s]+$/, 'must be a vendor user id (no spaces, commas or |)');
/** NetEase account names are local parts (§5): no `@`, no separators of the accounts list. */
const accountName = z.string().min(1).max(128).regex(/^[^@,\s]+$/, 'must be a NetEase account name (local part, no @ or commas)');

export const notifyPersonSchema = z
  .object({
    /** DingTalk userid / WeCom UserID: the recipient of the notification. */
    userId: vendorUserId,
    /** NetEase account name (local part) whose received-mail log is read. */
    account: accountName,
  })
  .strict();
export type NotifyPerson = z.output<typeof notifyPersonSchema>;

export const notifyJobSchema = z
  .object({
    v: z.literal(1),
    tenantId: z.string().regex(TENANT_ID),
    /** The planner run that made this batch (logs only), `newRunId()` format. */
    runId: z.string().min(1).max(64),
    channel: z.enum(NOTIFY_CHANNELS),
    /** An extra channel of that vendor (tenant `channels[].id`); absent = the top-level section's app. */
    channelId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/).optional(),
    /** When the planner made the batch, ms since the epoch. */
    plannedAt: z.number().int().nonnegative(),
    people: z.array(notifyPersonSchema).min(1).max(MAX_NOTIFY_BATCH_SIZE),
  })
  .strict();
export type NotifyJob = z.output<typeof notifyJobSchema>;
