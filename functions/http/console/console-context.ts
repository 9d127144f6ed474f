/**
 * Per-request plumbing of the console function: its dependencies, the request's language,
 * session and CSRF check, form bodies, and the responses (every HTML page with the strict
 * Content-Security-Policy: no script at all, styles only from /console/static).
 */
import { AppError, AuthError } from '../../../shared/errors/app-error';
import type { HttpEvent } from '../../../shared/http/http-handler';
import type { HttpResult } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import type { AuditEntry } from '../../../shared/ports/console-store';
import { pickLang, type Lang } from '../../../shared/console-ui/i18n';
import type { PageContext } from '../../../shared/console-ui/layout';
import { actorName, ConsoleForbiddenError, isDeploymentAdmin } from '../../../shared/use-cases/console/authorize';
import type { ConsoleDeps } from '../../../shared/use-cases/console/console-deps';
import { cookieValue, csrfMatches, readSession, type OpenSession } from '../../../shared/use-cases/console/session';

export type { ConsoleDeps };

export const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const LANG_COOKIE = 'qb_lang';

export function htmlResult(statusCode: number, body: string, extra: { headers?: Record<string, string>; cookies?: string[] } = {}): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      ...extra.headers,
    },
    body,
    ...(extra.cookies?.length ? { cookies: extra.cookies } : {}),
  };
}

export function seeOther(location: string, cookies: string[] = []): HttpResult {
  return { statusCode: 303, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '', ...(cookies.length ? { cookies } : {}) };
}

/** What every route gets: the parsed request and who is asking. */
export interface RequestContext {
  event: HttpEvent;
  query: Record<string, string>;
  lang: Lang;
  /** Cookies to set on the response (the language choice). */
  cookies: string[];
  session: OpenSession | undefined;
  page: PageContext;
}

export async function requestContext(deps: ConsoleDeps, event: HttpEvent): Promise<RequestContext> {
  const query = singleQuery(event);
  const lang = pickLang(query.lang, cookieValue(event.cookies, LANG_COOKIE), event.headers?.['accept-language']);
  const cookies = query.lang === 'zh' || query.lang === 'en' ? [`${LANG_COOKIE}=${lang}; Path=/console; Secure; SameSite=Strict; Max-Age=31536000`] : [];
  const session = await readSession({ store: deps.store, clock: deps.clock, keys: await deps.keys() }, cookieValue(event.cookies));
  const page: PageContext = { lang, path: event.rawPath };
  if (session) page.me = { actor: actorName(session.subject), csrf: session.csrf, deploymentAdmin: isDeploymentAdmin(deps.config, session.subject) };
  return { event, query, lang, cookies, session, page };
}

/** The signed-in session, or a 401 (the page offers the sign-in). */
export function requireSession(rc: RequestContext): OpenSession {
  if (!rc.session) throw new AuthError('CONSOLE.SIGNED_OUT', 'Sign in first.', { status: 401, expose: true });
  return rc.session;
}

/** The form fields of a POST (API Gateway base64-encodes form bodies). */
export function formBody(event: HttpEvent): Record<string, string> {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (raw.length > 64 * 1024) throw new AppError('REQUEST.TOO_LARGE', 'The form is too large.', { status: 413, expose: true });
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  return out;
}

/**
 * A POST from a signed-in page: the session and its CSRF token, or 401 / 403. Every POST
 * except the break-glass redemption (whose signed link is its own proof) goes through here.
 */
export function requirePost(rc: RequestContext): { session: OpenSession; form: Record<string, string> } {
  const session = requireSession(rc);
  const form = formBody(rc.event);
  if (!csrfMatches(session, form._csrf)) throw new AppError('CONSOLE.CSRF', 'This form is stale or was not sent by the console (CSRF token missing or wrong). Reload the page and try again.', { status: 403, expose: true });
  return { session, form };
}

/** Run an action, recording who did it and how it ended (refused, failed, ok). */
export async function audited<T>(deps: ConsoleDeps, session: OpenSession, entry: Omit<AuditEntry, 'at' | 'actor' | 'outcome'>, fn: () => Promise<T>): Promise<T> {
  const base = { ...entry, actor: actorName(session.subject) };
  const record = (outcome: AuditEntry['outcome'], detail?: string) =>
    deps.store.appendAudit({ ...base, at: deps.clock.now(), outcome, ...(detail ?? entry.detail ? { detail: (detail ?? entry.detail)!.slice(0, 1000) } : {}) }).catch((err: unknown) => {
      deps.logger.error('console audit write failed', { action: entry.action, tenant: entry.tenantId, err });
      throw err;
    });
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    const refused = err instanceof ConsoleForbiddenError;
    await record(refused ? 'refused' : 'failed', (err as { code?: string }).code ?? 'ERROR');
    throw err;
  }
  await record('ok');
  return result;
}
