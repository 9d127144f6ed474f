/**
 * The message on the `plan` queue: "plan and start one sync run of tenant `tenantId`",
 * sent by the admin API (POST /admin/tenants/:tenant/sync, and reject with replan) and
 * consumed by the sync planner (FUNCTIONS.syncPlanner.consumes).
 *
 * Why a queue: planning a full run (reading the whole source, NetEase's account list, the
 * plan itself) can take minutes, far beyond the admin function's 29 s (API Gateway's
 * integration limit). The route answers 202 with `requestId` at once; the planner records
 * the id on the run it starts (RunRecord.requestId), so a caller finds the run through
 * GET /admin/tenants/:tenant/sync/requests/:requestId or in the runs list.
 *
 * No personal data crosses the queue: ids and options only. The planner checks each record
 * with `syncRequestMessageSchema` in its batch handler (shared/lambda/sqs-batch.ts).
 */
import { z } from 'zod';
import { TENANT_ID } from '../config/tenant-config.schema';
import { ValidationError } from '../errors/app-error';

/** A request id: a UUID from the admin API, or any 8-64 characters of A-Z a-z 0-9 _ . : - */
export const SYNC_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$/;

export const syncRequestMessageSchema = z
  .object({
    v: z.literal(1),
    requestId: z.string().regex(SYNC_REQUEST_ID),
    tenantId: z.string().regex(TENANT_ID),
    /** Incremental falls back to full where the source has no change feed or no watermark yet. */
    mode: z.enum(['full', 'incremental']),
    dryRun: z.boolean(),
    /** Link unmapped source objects to existing NetEase objects (full runs; default true). */
    adopt: z.boolean().optional(),
    /** Plan no suspension or deletion (the re-plan after an operator rejected a parked run). */
    withholdDeletions: z.boolean().optional(),
    trigger: z.enum(['schedule', 'manual', 'callback', 'cli']),
    /** When the request was accepted (ms): the planner logs how long it waited in the queue. */
    requestedAt: z.number().int().nonnegative(),
  })
  .strict();

export type SyncRequestMessage = z.output<typeof syncRequestMessageSchema>;

/** Build a message; throws a ValidationError naming the fields at fault. */
export function syncRequestMessage(input: Omit<SyncRequestMessage, 'v'>): SyncRequestMessage {
  const parsed = syncRequestMessageSchema.safeParse({ v: 1, ...input });
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data;
}

function invalid(issues: z.ZodError['issues']): ValidationError {
  const fields = [...new Set(issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
  return new ValidationError(`sync request message is invalid at ${fields}`, { code: 'SYNC.BAD_REQUEST_MESSAGE' });
}
