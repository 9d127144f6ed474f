/**
 * One HTTP request to a vendor, with a timeout, mapping network failures to
 * UpstreamError. Messages name the vendor, method and host+path only: query strings
 * carry access tokens and signatures, so they never appear in errors or logs.
 *
 * Every vendor call goes through here, so this is where `VendorCalls` and `VendorErrors`
 * (by vendor and code: `HTTP_4xx`/`HTTP_5xx`, UPSTREAM.TIMEOUT, UPSTREAM.NETWORK) are
 * counted. Errors a vendor reports inside a 200 answer (errcode envelopes) are counted by
 * nobody yet: they are parsed in each vendor's client.
 */
import { UpstreamError } from '../../errors/app-error';
import { metrics } from '../../observability/metrics';

export interface HttpRequestOptions {
  vendor: string;
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Where a URL points, without its query string (safe for messages). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

export async function httpRequest(opts: HttpRequestOptions): Promise<HttpResponse> {
  const method = opts.method ?? 'GET';
  const where = `${method} ${describeUrl(opts.url)}`;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
  try {
    metrics().count('VendorCalls', 1, { vendor: opts.vendor });
    const res = await fetch(opts.url, { method, headers: opts.headers, body: opts.body, signal: ac.signal });
    const text = await res.text();
    if (res.status >= 400) metrics().count('VendorErrors', 1, { vendor: opts.vendor, code: `HTTP_${Math.floor(res.status / 100)}xx` });
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    metrics().count('VendorErrors', 1, { vendor: opts.vendor, code: ac.signal.aborted ? 'UPSTREAM.TIMEOUT' : 'UPSTREAM.NETWORK' });
    if (ac.signal.aborted) {
      throw new UpstreamError(opts.vendor, 'UPSTREAM.TIMEOUT', `${opts.vendor}: ${where} timed out after ${opts.timeoutMs} ms`, { retryable: true, cause: err });
    }
    throw new UpstreamError(opts.vendor, 'UPSTREAM.NETWORK', `${opts.vendor}: ${where} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { retryable: true, cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** HTTP statuses worth retrying: throttling and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
