/**
 * One HTTP request to a vendor, with a timeout, mapping network failures to
 * UpstreamError. Messages name the vendor, method and host+path only: query strings
 * carry access tokens and signatures, so they never appear in errors or logs.
 */
import { UpstreamError } from '../../errors/app-error';

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
    const res = await fetch(opts.url, { method, headers: opts.headers, body: opts.body, signal: ac.signal });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
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
