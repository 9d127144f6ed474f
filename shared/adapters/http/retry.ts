/**
 * Retries with full-jitter exponential backoff, only for errors marked retryable
 * (see isRetryable in shared/errors/app-error.ts: unknown errors count as retryable).
 *
 * Hand-written, not p-retry: its `randomize` multiplies a delay by 1-2 (not full jitter), an
 * upstream's Retry-After cannot replace its delay (`onFailedAttempt` can only wait longer; NetEase
 * passes `retryAfterMs`), and its current major (9) needs Node >= 22. `sleep` and `random` are
 * injectable, so tests check the delays without waiting.
 */
import { isRetryable } from '../../errors/app-error';
import { isRetryableStatus } from './http-request';

export interface RetryOptions {
  /** Retries after the first attempt (0 = try once). */
  maxRetries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Decide retryability; defaults to isRetryable. */
  shouldRetry?: (err: unknown) => boolean;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** An upstream's own hint (e.g. Retry-After) overrides the computed delay. */
  retryAfterMs?: (err: unknown) => number | undefined;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const base = opts.baseDelayMs ?? 200;
  const cap = opts.maxDelayMs ?? 10_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const shouldRetry = opts.shouldRetry ?? isRetryable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.maxRetries || !shouldRetry(err)) throw err;
      const hinted = opts.retryAfterMs?.(err);
      const delay = hinted !== undefined ? Math.min(hinted, cap) : Math.floor(random() * Math.min(cap, base * 2 ** attempt));
      opts.onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

/** A `Retry-After` header in seconds, as ms; undefined when absent or not a number of seconds. */
export function retryAfterHeaderMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/** How an answer outside 2xx fails a call: throttled (429), server (5xx) or rejected, and when to try again. */
export function httpStatusFailure(res: { status: number; headers: { get(name: string): string | null } }): { kind: 'throttled' | 'server' | 'rejected'; retryable: boolean; httpStatus: number; retryAfterMs: number | undefined } {
  return {
    kind: res.status === 429 ? 'throttled' : res.status >= 500 ? 'server' : 'rejected',
    retryable: isRetryableStatus(res.status),
    httpStatus: res.status,
    retryAfterMs: retryAfterHeaderMs(res.headers.get('retry-after')),
  };
}
