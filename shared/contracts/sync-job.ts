/**
 * The message on the `sync` queue: "apply batch `seq` of run `runId` of tenant `tenantId`".
 *
 * The batch itself (its ordered operations) is stored in the PlanStore by the planner: a
 * 100,000-person initial plan is tens of MB and SQS takes 256 KB per message, and keeping
 * the message this small means a redelivery, a DLQ redrive or an approval fan-out never
 * carries stale operations. No personal data crosses the queue. The sync worker checks each
 * record with `syncJobMessageSchema` in its batch handler (shared/lambda/sqs-batch.ts).
 */
import { z } from 'zod';
import { TENANT_ID } from '../config/tenant-config.schema';

export const syncJobMessageSchema = z
  .object({
    v: z.literal(1),
    tenantId: z.string().regex(TENANT_ID),
    /** From newRunId(): `YYYYMMDDTHHMMSSmmmZ-<suffix>`. */
    runId: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-z]{4,32}$/),
    /** Batch number within the run (PlanStore.putBatch seq). */
    seq: z.number().int().min(0).max(999_999),
    /**
     * How many times this batch was deferred: sent again with a delay because, on its last
     * SQS delivery, operations were still leased by a delivery that may be dead (apply-batch.ts).
     */
    deferrals: z.number().int().min(1).max(10).optional(),
  })
  .strict();

export type SyncJobMessage = z.output<typeof syncJobMessageSchema>;

export function syncJobMessage(tenantId: string, runId: string, seq: number): SyncJobMessage {
  return syncJobMessageSchema.parse({ v: 1, tenantId, runId, seq });
}
