/**
 * What the `callback` queue carries: a contact event (contact-event.ts) or a drain request
 * (callback-drain.ts). The callback worker checks each record with this schema in its batch
 * handler (shared/lambda/sqs-batch.ts); the two shapes never overlap (a drain has
 * `kind: 'drain'`, a contact event has no `kind`, and both are strict).
 */
import { z } from 'zod';
import { callbackDrainMessageSchema, type CallbackDrainMessage } from './callback-drain';
import { contactEventMessageSchema } from './contact-event';

export const callbackQueueMessageSchema = z.union([callbackDrainMessageSchema, contactEventMessageSchema]);
export type CallbackQueueMessage = z.output<typeof callbackQueueMessageSchema>;

export function isDrainMessage(m: CallbackQueueMessage): m is CallbackDrainMessage {
  return 'kind' in m && m.kind === 'drain';
}
