/**
 * CAS 3.0 client: send the browser to the CAS login, then validate the service ticket
 * with /p3/serviceValidate (the CAS protocol spec, §2.5 / §2.6 for p3).
 *
 * The XML answer is small and fixed; it is read with anchored patterns after refusing
 * any DOCTYPE or entity declaration, so no XML parser features (entities, external
 * references) are ever involved.
 */
import { AuthError, UpstreamError } from '../../errors/app-error';
import { httpRequest, isRetryableStatus } from '../http/http-request';
import { withRetry } from '../http/retry';
import type { CasTicketValidator } from '../../ports/cas-ticket-validator';

export interface CasOptions {
  baseUrl: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export function casLoginUrl(opts: CasOptions, service: string): string {
  return `${opts.baseUrl}/login?service=${encodeURIComponent(service)}`;
}

/** Validates a ticket for exactly this service URL; returns the CAS user name. */
export async function casValidate(opts: CasOptions, service: string, ticket: string): Promise<string> {
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(ticket)) throw new AuthError('SSO.CAS_BAD_TICKET', 'The CAS ticket is malformed.');
  const url = `${opts.baseUrl}/p3/serviceValidate?service=${encodeURIComponent(service)}&ticket=${encodeURIComponent(ticket)}`;
  const res = await withRetry(
    async () => {
      const r = await httpRequest({ vendor: 'cas', url, timeoutMs: opts.timeoutMs ?? 5000 });
      if (r.status !== 200) {
        throw new UpstreamError('cas', 'UPSTREAM.CAS_HTTP', `CAS serviceValidate answered HTTP ${r.status}`, { retryable: isRetryableStatus(r.status) });
      }
      return r;
    },
    { maxRetries: opts.maxRetries ?? 2 },
  );
  return parseServiceResponse(res.text);
}

/** The tenant's CAS server as a {@link CasTicketValidator}. */
export class CasClient implements CasTicketValidator {
  constructor(private readonly opts: CasOptions) {}

  loginUrl(service: string): string {
    return casLoginUrl(this.opts, service);
  }

  validate(service: string, ticket: string): Promise<string> {
    return casValidate(this.opts, service, ticket);
  }
}

export function parseServiceResponse(xml: string): string {
  if (xml.length > 64 * 1024 || /<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new UpstreamError('cas', 'UPSTREAM.CAS_BAD_RESPONSE', 'CAS answered with an unacceptable document.', { retryable: false });
  }
  const failure = /<cas:authenticationFailure\s+code="([A-Z_]+)"/.exec(xml);
  if (failure) throw new AuthError('SSO.CAS_REJECTED', `CAS refused the ticket (${failure[1]}). Sign in again from the portal.`);
  const user = /<cas:authenticationSuccess>[\s\S]*?<cas:user>\s*([^<]{1,256}?)\s*<\/cas:user>/.exec(xml);
  if (!user) throw new UpstreamError('cas', 'UPSTREAM.CAS_BAD_RESPONSE', 'CAS answered without a user.', { retryable: false });
  return decodeXmlText(user[1]!);
}

function decodeXmlText(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e] ?? '');
}
