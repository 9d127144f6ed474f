/**
 * Vendor API usage: what every DingTalk / WeCom / NetEase call costs against the vendor's
 * budget, counted per tenant, vendor, API and month, and the named "monthly quota spent"
 * state (DingTalk errcode 90020, reference dingtalk.md §8).
 *
 * Two ports:
 * - {@link CallMeter}: what a vendor client tells about each request it is about to send
 *   (synchronous, never throws, never waits: a client must not slow down or fail because
 *   counting failed). The class (`metered` / `free`) comes from the vendor's adapter, the
 *   only place that knows which APIs the vendor counts;
 * - {@link UsageStore}: the monthly counters, written in batches (one ADD per tenant,
 *   vendor and API per flush, not one write per call) and the quota state.
 *
 * Months are calendar months in China time (UTC+8, no daylight saving): DingTalk counts
 * "per organisation per calendar month" (§8) and is a China service; the reference does
 * not name the time zone of the month's turn, so this is our choice.
 */
import { ValidationError } from '../errors/app-error';

export type UsageVendor = 'dingtalk' | 'wecom' | 'netease' | 'ekp';
export const USAGE_VENDORS: readonly UsageVendor[] = ['dingtalk', 'wecom', 'netease', 'ekp'];

/** Whether the vendor counts a call against a monthly quota (`metered`) or not (`free`). */
export type ApiClass = 'metered' | 'free';

/** One request a client is about to send (retries are requests too: they count). */
export interface MeteredCall {
  tenantId: string;
  vendor: UsageVendor;
  /** API path without query string, e.g. `topapi/v2/user/list`. */
  api: string;
  cls: ApiClass;
}

/** Told by vendor clients about their requests; see the file comment. */
export interface CallMeter {
  /** Count one request. Synchronous and infallible. */
  record(call: MeteredCall): void;
  /** The vendor answered that the tenant's monthly quota is spent (DingTalk 90020). */
  quotaExhausted(info: { tenantId: string; vendor: UsageVendor; api: string }): void;
}

/** A call meter that counts nothing (clients built without one). */
export const NO_METER: CallMeter = { record: () => undefined, quotaExhausted: () => undefined };

/** Calls to add to one counter. */
export interface UsageIncrement {
  tenantId: string;
  vendor: UsageVendor;
  api: string;
  cls: ApiClass;
  /** `yyyy-MM` (China time). */
  month: string;
  calls: number;
}

/** One counter as stored. */
export interface UsageCounter {
  vendor: UsageVendor;
  api: string;
  cls: ApiClass;
  calls: number;
}

/** The vendor said the quota was spent this month (the first time it said so). */
export interface QuotaExhaustion {
  vendor: UsageVendor;
  month: string;
  /** When the vendor first refused (ms). */
  at: number;
  /** The API that was refused. */
  api: string;
  /** The configured quota at that moment: raising it above this resumes the work. */
  quotaAtExhaustion: number;
}

/** Monthly counters and the quota state of each tenant. */
export interface UsageStore {
  /** Add the increments (one atomic ADD per counter; counters are created on first use). */
  add(increments: readonly UsageIncrement[]): Promise<void>;
  /** Every counter of a tenant's month. */
  counters(tenantId: string, month: string): Promise<UsageCounter[]>;
  /** Record the exhaustion unless one is recorded for that vendor and month already. @returns true when this call recorded it. */
  markExhausted(tenantId: string, exhaustion: QuotaExhaustion): Promise<boolean>;
  /** The recorded exhaustion of a vendor's month, if any. */
  exhaustion(tenantId: string, vendor: UsageVendor, month: string): Promise<QuotaExhaustion | undefined>;
  /** Forget a month's exhaustion (the quota was raised and work resumed). */
  clearExhausted(tenantId: string, vendor: UsageVendor, month: string): Promise<void>;
}

const CHINA_OFFSET_MS = 8 * 3600_000;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The usage month of an instant: `yyyy-MM` in China time. */
export function usageMonth(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 7);
}

/** Start and end (exclusive) of a usage month, in epoch ms. */
export function monthBounds(month: string): { start: number; end: number } {
  assertMonth(month);
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { start: Date.UTC(y, m - 1, 1) - CHINA_OFFSET_MS, end: Date.UTC(y, m, 1) - CHINA_OFFSET_MS };
}

export function assertMonth(month: unknown): asserts month is string {
  if (typeof month !== 'string' || !MONTH.test(month)) throw new ValidationError('month must be yyyy-MM', { code: 'USAGE.BAD_MONTH' });
}

/** An API name usable in a key: 1-120 printable characters, no query string. */
export function assertApiName(api: unknown): asserts api is string {
  if (typeof api !== 'string' || !/^[\x21-\x7e]{1,120}$/.test(api) || api.includes('?')) throw new ValidationError('api must be 1-120 printable characters without a query string', { code: 'USAGE.BAD_API' });
}

export function assertIncrement(i: UsageIncrement): void {
  if (typeof i.tenantId !== 'string' || i.tenantId.length < 1 || i.tenantId.length > 64) throw new ValidationError('tenantId is required', { code: 'USAGE.BAD_TENANT' });
  if (!USAGE_VENDORS.includes(i.vendor)) throw new ValidationError(`vendor must be one of ${USAGE_VENDORS.join(', ')}`, { code: 'USAGE.BAD_VENDOR' });
  if (i.cls !== 'metered' && i.cls !== 'free') throw new ValidationError('cls must be metered or free', { code: 'USAGE.BAD_CLASS' });
  assertApiName(i.api);
  assertMonth(i.month);
  if (!Number.isInteger(i.calls) || i.calls < 1) throw new ValidationError('calls must be a positive integer', { code: 'USAGE.BAD_COUNT' });
}
