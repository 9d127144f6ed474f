/**
 * The body of `POST /admin/tenants/{tenant}/keys` (generate a new NetEase key pair).
 *
 * This replaces the tenant's live key at once (SSO and the API are signed with it from then
 * on), so the body is strict and must say so: `confirm` repeats the tenant id. An empty or
 * unrelated body (`{}`, `{"x":1}`) is a 400 and changes nothing.
 */
import { z } from 'zod';
import { ValidationError } from '../../../shared/errors/app-error';

export const rotateKeyBody = z
  .object({
    /** Must equal the tenant id in the path. */
    confirm: z.string().max(64),
    bits: z.union([z.literal(1024), z.literal(2048)]).optional(),
  })
  .strict();

/** The checked body, or a 400 that says what to send. */
export function parseRotateKeyBody(tenantId: string, body: unknown): z.output<typeof rotateKeyBody> {
  const hint = `Send {"confirm":"${tenantId}"} (optionally with "bits": 1024 or 2048) to replace this tenant's NetEase key.`;
  const r = rotateKeyBody.safeParse(body);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ');
    throw new ValidationError(`Invalid request body: ${issues}. ${hint}`, { code: 'KEYS.BAD_REQUEST' });
  }
  if (r.data.confirm !== tenantId) throw new ValidationError(`"confirm" must repeat the tenant id. ${hint}`, { code: 'KEYS.NOT_CONFIRMED' });
  return r.data;
}
