/**
 * One access token for one credential (a DingTalk app, a WeCom secret): fetched on demand,
 * reused until shortly before it expires, and fetched once for any number of concurrent
 * callers (single flight).
 *
 * What stays with each vendor's client: how a token is fetched and how long it lives (the
 * `expiresInSeconds` the vendor answers, 7200 s for both DingTalk and WeCom: dingtalk.md §4,
 * wecom.md §4), and which errcodes mean "this token died early" (40014/42001 for both). On
 * such an errcode the client calls `invalidate(token)` and fetches again, once per call.
 */
import type { Clock } from '../../ports/clock';

export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

/** Refresh this long before expiry: 5 minutes, or a tenth of a short lifetime. */
export function refreshMarginMs(expiresInSeconds: number): number {
  return Math.min(300_000, (expiresInSeconds * 1000) / 10);
}

export class AccessTokenCache {
  private current: { token: string; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;

  constructor(
    private readonly fetchToken: () => Promise<IssuedToken>,
    private readonly clock: Clock,
  ) {}

  /** A valid token: the cached one, the one being fetched, or a new one. */
  get(): Promise<string> {
    const c = this.current;
    if (c && this.clock.now() < c.refreshAt) return Promise.resolve(c.token);
    if (!this.inflight) {
      const started = this.clock.now();
      this.inflight = this.fetchToken()
        .then((issued) => {
          // Count the lifetime from before the request: the token may have been issued
          // at any point while it was in flight.
          this.current = { token: issued.token, refreshAt: started + issued.expiresInSeconds * 1000 - refreshMarginMs(issued.expiresInSeconds) };
          return issued.token;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /** Forget `token` if it is still the cached one (a concurrent caller may already have replaced it). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}
