/**
 * A token-bucket rate limiter, one per tenant and vendor API, so a big sync never
 * exceeds what the vendor allows (DingTalk: 20 calls/s per app and API; NetEase: the
 * tenant's configured rate). Waiters are served in arrival order.
 *
 * Hand-written, not bottleneck or limiter: the clients need only `acquire()` before each attempt
 * (retries are paced too), which is 15 lines here; `now` and `sleep` are injectable, so
 * test/unit/http-helpers.test.ts checks the exact pacing without timers.
 */
export interface RateLimiter {
  /** Resolves when one request may be sent. */
  acquire(): Promise<void>;
}

export interface RateLimiterOptions {
  requestsPerSecond: number;
  /** Requests allowed back to back after an idle period; default 1 (smooth pacing). */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  if (!(opts.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be > 0');
  const interval = 1000 / opts.requestsPerSecond;
  const burst = Math.max(1, opts.burst ?? 1);
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // `next` is the earliest time the next request may go; it never lags more than
  // `burst` intervals behind now, which is what bounds the burst.
  let next = -Infinity;
  return {
    async acquire() {
      const t = now();
      next = Math.max(next, t - (burst - 1) * interval);
      const wait = next - t;
      next += interval;
      if (wait > 0) await sleep(wait);
    },
  };
}

/** Limiters shared per key (e.g. `netease:<tenant>`), created on first use. */
export class RateLimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();
  get(key: string, opts: RateLimiterOptions): RateLimiter {
    let l = this.limiters.get(key);
    if (!l) {
      l = createRateLimiter(opts);
      this.limiters.set(key, l);
    }
    return l;
  }
}
