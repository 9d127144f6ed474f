/**
 * Public base URLs: where browsers and vendors reach the bridge. Every link the bridge
 * hands out (OAuth `redirect_uri`, the CAS service, the DingTalk workbench page, the unread
 * widget's links, notification links) is built from one of these, never from the request's
 * `Host` or `X-Forwarded-*` headers, which a caller controls.
 *
 * Sources, first match wins:
 * - the tenant's `sso.publicBaseUrl` (a custom domain, or the SSO Function URL output);
 * - the deployment's stack outputs as function environment: `QIYE_SSO_BASE_URL` (the SSO
 *   Function URL; the SSO function itself cannot have it, a Function URL cannot reference
 *   its own function's environment) and `QIYE_PUBLIC_BASE_URL` (the HTTP API URL, which
 *   also serves `GET /sso/{tenant}`). The local stack sets both to its own servers.
 *
 * A public base URL is https, or http only on a loopback address (the local stack); no
 * credentials, query or fragment; a trailing `/` is dropped.
 */
import { z } from 'zod';
import { NotConfiguredError } from '../errors/app-error';
import { isLoopbackHost } from '../http/host';

/** Why `value` is not a usable public base URL, or undefined when it is. */
export function publicBaseUrlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://sso.example.com';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) return 'must be an https URL (http only on a loopback address, for the local stack)';
  if (u.username || u.password) return 'must not contain credentials';
  if (u.search || u.hash || value.includes('?') || value.includes('#')) return 'must not contain a query or fragment';
  return undefined;
}

export const publicBaseUrlSchema = z
  .string()
  .superRefine((v, ctx) => {
    const problem = publicBaseUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * `${base}${path}` for the first configured base, or NotConfiguredError naming the setting.
 * @param what what the URL is for, for the error ("the DingTalk sign-in's return address").
 */
export function publicUrl(bases: ReadonlyArray<string | undefined>, path: string, what: string): string {
  const base = bases.find((b) => b !== undefined && b !== '');
  if (!base) {
    throw new NotConfiguredError(`No public base URL is configured for ${what}: set the tenant's sso.publicBaseUrl (or QIYE_PUBLIC_BASE_URL).`, { code: 'CONFIG.NO_PUBLIC_URL' });
  }
  return `${base.replace(/\/+$/, '')}${path}`;
}
