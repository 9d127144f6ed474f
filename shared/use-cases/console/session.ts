/**
 * Console sessions: a random id in a signed cookie, a server-side record (revocable), and a
 * CSRF token bound to the session.
 *
 * The cookie is `__Host-qb_console=<id>.<mac>` with Secure, HttpOnly, SameSite=Strict,
 * Path=/ and Max-Age: the `__Host-` prefix makes the browser refuse it unless it is Secure,
 * host-only and for the whole origin, so no sibling subdomain can plant one. The MAC
 * (HMAC-SHA256 under a key derived from the deployment secret) refuses forged ids before any
 * table read; the record, stored under SHA-256(id), is what makes sign-out and expiry real.
 *
 * Chromium treats http://127.0.0.1 and http://localhost as secure contexts, so the same
 * Secure cookie works in the local stack (test/browser/console.browser.test.ts checks it).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deploymentSecretName, deploymentSecretSchema } from '../../config/secrets';
import { NotConfiguredError } from '../../errors/app-error';
import type { Clock } from '../../ports/clock';
import type { ConsoleSession, ConsoleStore, OperatorSubject } from '../../ports/console-store';
import type { SecretStore } from '../../ports/secret-store';

export const SESSION_COOKIE = '__Host-qb_console';
/** A working day; a new sign-in after that. */
export const SESSION_TTL_MS = 8 * 3600_000;

/** Keys derived from the deployment secret, one per purpose. */
export interface ConsoleKeys {
  session: Buffer;
  csrf: Buffer;
  breakglass: Buffer;
}

export function deriveConsoleKeys(deploymentKey: string): ConsoleKeys {
  const derive = (label: string) => createHmac('sha256', deploymentKey).update(`qiye-bridge console ${label}`).digest();
  return { session: derive('session'), csrf: derive('csrf'), breakglass: derive('breakglass') };
}

export interface SessionDeps {
  store: ConsoleStore;
  clock: Clock;
  keys: ConsoleKeys;
}

export interface OpenSession extends ConsoleSession {
  /** The CSRF token every POST of this session must carry. */
  csrf: string;
}

const mac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest('base64url');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Create the session record; returns it with the cookie value to set. */
export async function startSession(deps: SessionDeps, subject: OperatorSubject): Promise<{ session: OpenSession; cookieValue: string }> {
  const id = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const session: ConsoleSession = { idHash: sha256(id), subject, createdAt: now, expiresAt: now + SESSION_TTL_MS };
  await deps.store.putSession(session);
  return { session: { ...session, csrf: csrfToken(deps.keys, session.idHash) }, cookieValue: `${id}.${mac(deps.keys.session, id)}` };
}

/** The live session named by the cookie value, or undefined (no cookie, forged, expired, revoked). */
export async function readSession(deps: SessionDeps, cookieValue: string | undefined): Promise<OpenSession | undefined> {
  const m = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/.exec(cookieValue ?? '');
  if (!m) return undefined;
  const [, id, given] = m as unknown as [string, string, string];
  if (!safeEqual(mac(deps.keys.session, id), given)) return undefined;
  const s = await deps.store.getSession(sha256(id));
  return s ? { ...s, csrf: csrfToken(deps.keys, s.idHash) } : undefined;
}

/** Sign out: the record goes, so the cookie is worthless even if it was copied. */
export async function endSession(deps: SessionDeps, session: ConsoleSession): Promise<void> {
  await deps.store.deleteSession(session.idHash);
}

export function csrfToken(keys: ConsoleKeys, idHash: string): string {
  return mac(keys.csrf, idHash);
}

/** True when `given` is this session's CSRF token (constant time). */
export function csrfMatches(session: OpenSession, given: string | undefined): boolean {
  return typeof given === 'string' && safeEqual(session.csrf, given);
}

/** The Set-Cookie value for a new session. */
export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** The session cookie's value among API Gateway's `cookies` (`name=value` strings). */
export function cookieValue(cookies: readonly string[] | undefined, name = SESSION_COOKIE): string | undefined {
  for (const c of cookies ?? []) {
    const i = c.indexOf('=');
    if (i > 0 && c.slice(0, i).trim() === name) return c.slice(i + 1).trim();
  }
  return undefined;
}

/** The deployment key's derived keys, read once per process (the secret rotates with a redeploy); a failed read is retried. */
export function consoleKeysFrom(secrets: SecretStore, stage: string): () => Promise<ConsoleKeys> {
  let keys: Promise<ConsoleKeys> | undefined;
  return () =>
    (keys ??= (async () => {
      const name = deploymentSecretName(stage);
      const parsed = deploymentSecretSchema.safeParse((await secrets.getJson(name)) ?? {});
      if (!parsed.success) throw new NotConfiguredError(`Secret "${name}" is missing or has no valid "key".`, { code: 'CONSOLE.NOT_CONFIGURED' });
      return deriveConsoleKeys(parsed.data.key);
    })().catch((err: unknown) => {
      keys = undefined;
      throw err;
    }));
}
