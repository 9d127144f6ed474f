/**
 * Per-person message budgets, so we never exceed what the vendors accept and silently
 * drop (counters in the CacheStore, one item per person and window):
 *
 * - DingTalk work notifications (reference dingtalk.md §6): at most 500 messages per user
 *   per day; beyond that DingTalk filters them (143105) after answering errcode 0. The day
 *   is counted in China time (DingTalk is a China service; the reference does not say
 *   which day boundary it uses).
 * - WeCom app messages (reference wecom.md §6): per app and member 30 per minute and 1000
 *   per hour; "excess silently dropped". WeCom's window is assumed sliding, so a window's
 *   count includes the previous window's (fixed buckets alone would allow 60 messages
 *   across a minute boundary). That is conservative: at worst a person's budget is half.
 *
 * A person's messages are sent by one worker at a time (the batch holds each account
 * once; overlapping polls are serialized per mail by the OnceStore), so a read, then a
 * write of the new count, is enough: no atomic counter is needed.
 */
import type { NotifyChannel } from '../../contracts/notify-job';
import type { CacheStore } from '../../ports/cache-store';

export interface RateWindow {
  /** Short bucket prefix in the cache key (`d`, `m`, `h`). */
  name: string;
  /** Bucket length (ms). */
  periodMs: number;
  /** Added to the time before bucketing (China day: +8 h). */
  offsetMs?: number;
  /** Messages allowed per bucket (or per two buckets when `sliding`). */
  cap: number;
  /** Count the previous bucket too (see the file comment). */
  sliding?: boolean;
}

export const CHANNEL_LIMITS: Record<NotifyChannel, readonly RateWindow[]> = {
  dingtalk: [{ name: 'd', periodMs: 24 * 3600_000, offsetMs: 8 * 3600_000, cap: 500 }],
  wecom: [
    { name: 'm', periodMs: 60_000, cap: 30, sliding: true },
    { name: 'h', periodMs: 3600_000, cap: 1000, sliding: true },
  ],
};

const NAMESPACE = 'notify-rate';

/** One person's remaining budget, loaded once, saved after the sends. */
export interface PersonBudget {
  /** Messages that may still be sent now. */
  readonly remaining: number;
  /** Count `n` messages as sent. */
  consume(n?: number): void;
  /** Write the counters that changed. */
  save(): Promise<void>;
}

export async function loadBudget(cache: CacheStore, input: { tenantId: string; channel: NotifyChannel; account: string; now: number; windows?: readonly RateWindow[] }): Promise<PersonBudget> {
  const windows = input.windows ?? CHANNEL_LIMITS[input.channel];
  const key = (w: RateWindow, bucket: number) => `${input.channel}:${w.name}${bucket}:${input.account}`;
  const state = await Promise.all(
    windows.map(async (w) => {
      const bucket = Math.floor((input.now + (w.offsetMs ?? 0)) / w.periodMs);
      const current = count(await cache.get(input.tenantId, NAMESPACE, key(w, bucket)));
      const previous = w.sliding ? count(await cache.get(input.tenantId, NAMESPACE, key(w, bucket - 1))) : 0;
      return { w, bucket, current, previous };
    }),
  );
  let used = 0;
  const remainingOf = () => Math.max(0, Math.min(...state.map((s) => s.w.cap - s.current - s.previous - used)));
  return {
    get remaining() {
      return remainingOf();
    },
    consume(n = 1) {
      used += n;
    },
    async save() {
      if (used === 0) return;
      // Keep a bucket for two periods: long enough to be the "previous" one of the next.
      await Promise.all(state.map((s) => cache.put(input.tenantId, NAMESPACE, key(s.w, s.bucket), s.current + used, Math.max(120, Math.ceil((2 * s.w.periodMs) / 1000)))));
    },
  };
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}
