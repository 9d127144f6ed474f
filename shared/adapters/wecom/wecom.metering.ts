/**
 * Which WeCom APIs count against a monthly quota: the ONE place this classification lives.
 *
 * WeCom documents no monthly API quota (reference wecom.md §4): its limits are per minute
 * and per hour (10k/min and 150k/h per API and corp; 20k/min and 600k/h per IP), and app
 * messages have their own daily person-times budget (§6). So every WeCom call is `free`
 * for the monthly budget; the counts are still kept per API, so `usage` shows what the
 * bridge spends. Should WeCom publish a metered class, list those APIs here as 'metered'.
 */
import type { ApiClass } from '../../ports/usage-meter';

export const WECOM_API_CLASSES: Readonly<Record<string, ApiClass>> = {};

/** The class of a WeCom API path (no query string): free unless listed above. */
export function wecomApiClass(api: string): ApiClass {
  return WECOM_API_CLASSES[api] ?? 'free';
}
