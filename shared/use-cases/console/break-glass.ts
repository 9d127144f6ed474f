/**
 * The break-glass deployment admin: `qiye-bridge console link` prints a one-time link signed
 * with a key derived from the deployment secret (`qiye-bridge/<stage>/_deployment/console`),
 * for when nobody can sign in through a tenant (a new deployment, a vendor outage).
 *
 * Link: `<base>/console/breakglass?label=<who>&exp=<ms>&nonce=<hex>&sig=<hex>`, with
 * sig = HMAC-SHA256(breakglass key, "label\nexp\nnonce"). It is valid until `exp` (at most
 * 24 hours ahead) and once: the nonce is claimed when the session starts. Opening the link
 * shows a button (a POST) rather than signing in on GET, so a chat app's link preview
 * cannot spend it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError, ValidationError } from '../../errors/app-error';
import type { Clock } from '../../ports/clock';
import { DEPLOYMENT_SCOPE, type OperatorSubject } from '../../ports/console-store';
import type { OnceStore } from '../../ports/once-store';
import type { ConsoleKeys } from './session';

export const BREAKGLASS_MAX_TTL_MS = 24 * 3600_000;
export const BREAKGLASS_DEFAULT_TTL_MS = 15 * 60_000;
const LABEL = /^[\w.@-]{1,64}$/;

const sign = (key: Buffer, label: string, exp: string, nonce: string) => createHmac('sha256', key).update(`${label}\n${exp}\n${nonce}`).digest('hex');

export function buildBreakGlassLink(input: { baseUrl: string; keys: ConsoleKeys; label: string; now: number; ttlMs?: number }): string {
  if (!LABEL.test(input.label)) throw new ValidationError('--label must be 1-64 characters of letters, digits, _ . @ -');
  const ttl = input.ttlMs ?? BREAKGLASS_DEFAULT_TTL_MS;
  if (!(ttl > 0 && ttl <= BREAKGLASS_MAX_TTL_MS)) throw new ValidationError('the link may live at most 24 hours');
  const exp = String(input.now + ttl);
  const nonce = randomBytes(16).toString('hex');
  const url = new URL(`${input.baseUrl.replace(/\/+$/, '')}/console/breakglass`);
  url.searchParams.set('label', input.label);
  url.searchParams.set('exp', exp);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('sig', sign(input.keys.breakglass, input.label, exp, nonce));
  return url.toString();
}

/** Checks shape, signature and expiry; does not spend the link. */
export function checkBreakGlassLink(keys: ConsoleKeys, q: Record<string, string | undefined>, now: number): { label: string; nonce: string } {
  const { label, exp, nonce, sig } = q;
  if (!label || !LABEL.test(label) || !exp || !/^\d{10,16}$/.test(exp) || !nonce || !/^[0-9a-f]{32}$/.test(nonce) || !sig || !/^[0-9a-f]{64}$/.test(sig)) {
    throw new ValidationError('The break-glass link is malformed.', { code: 'CONSOLE.BREAKGLASS_MALFORMED' });
  }
  const expected = Buffer.from(sign(keys.breakglass, label, exp, nonce), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) throw new AuthError('CONSOLE.BREAKGLASS_BAD_SIGNATURE', 'The break-glass link is not valid.');
  const expMs = Number(exp);
  if (expMs <= now || expMs > now + BREAKGLASS_MAX_TTL_MS) throw new AuthError('CONSOLE.BREAKGLASS_EXPIRED', 'The break-glass link has expired. Ask for a new one.');
  return { label, nonce };
}

/** Checks and spends the link; the subject to start a session for. */
export async function redeemBreakGlassLink(deps: { keys: ConsoleKeys; once: OnceStore; clock: Clock }, q: Record<string, string | undefined>): Promise<OperatorSubject> {
  const { label, nonce } = checkBreakGlassLink(deps.keys, q, deps.clock.now());
  if (!(await deps.once.claim(DEPLOYMENT_SCOPE, 'nonce', `breakglass:${nonce}`, BREAKGLASS_MAX_TTL_MS / 1000 + 3600))) {
    throw new AuthError('CONSOLE.BREAKGLASS_USED', 'This break-glass link was already used. Ask for a new one.');
  }
  return { kind: 'breakglass', label };
}
