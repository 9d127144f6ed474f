/**
 * The second message on the `callback` queue, beside ContactEventMessage
 * (contact-event.ts): "look at tenant X's waiting contact events now". Sent once when a sync
 * run that held the tenant while events were waiting releases it (the follow-up the callback
 * worker asked of that run, shared/use-cases/sync/run-lifecycle.ts), and when a callback run
 * left part of a large backlog for the next one. Names a tenant only: the waiting objects
 * are in the table (DirtyStore), so a duplicate or late drain is harmless.
 */
import { z } from 'zod';
import { TENANT_ID } from '../config/tenant-config.schema';

export const callbackDrainMessageSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('drain'),
    tenantId: z.string().regex(TENANT_ID),
  })
  .strict();
export type CallbackDrainMessage = z.output<typeof callbackDrainMessageSchema>;

export function callbackDrainMessage(tenantId: string): CallbackDrainMessage {
  return callbackDrainMessageSchema.parse({ v: 1, kind: 'drain', tenantId });
}
