/**
 * Digest mode: at most one new-mail message per person per window. The first mail after a
 * quiet window is sent at once (no added latency); mails arriving within the window wait
 * (their watermark stays, so the next polls read them again) and go out folded into one
 * "您有 N 封新邮件" message when the window ends.
 *
 * The window is `notifications.digestMinutes` when set. Otherwise it is 0 (a message per
 * mail, within the vendor limits of rate-budget.ts), and switches to
 * `notifications.autoDigestMinutes` by itself while the channel's metered calls are
 * projected past the monthly quota (use-cases/usage): one message per window instead of one
 * per mail keeps an org inside its DingTalk budget as far as notices can.
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Clock } from '../../ports/clock';
import type { CacheStore } from '../../ports/cache-store';
import type { UsageStore } from '../../ports/usage-meter';
import { getUsage } from '../usage/usage-report';

const NAMESPACE = 'notify-digest';

/** The tenant's digest window in minutes now (0 = off); projections are cached `cacheMs` per process. */
export function digestWindow(deps: { usage?: UsageStore; clock: Clock }, cacheMs = 60_000): (tenant: TenantConfig) => Promise<number> {
  const cached = new Map<string, { at: number; over: boolean }>();
  return async (tenant) => {
    const n = tenant.notifications;
    if (n.digestMinutes > 0) return n.digestMinutes;
    const channel = n.channel;
    if (!deps.usage || !channel) return 0;
    const now = deps.clock.now();
    let c = cached.get(tenant.id);
    if (!c || now - c.at > cacheMs) {
      const report = await getUsage({ usage: deps.usage, clock: deps.clock, tenant: () => tenant }, tenant.id);
      const v = report.vendors.find((x) => x.vendor === channel);
      c = { at: now, over: v?.level === 'over' };
      cached.set(tenant.id, c);
    }
    return c.over ? n.autoDigestMinutes : 0;
  };
}

/** When the person's last digest window started (ms), if it is still open. */
export async function openDigestWindow(cache: CacheStore, tenantId: string, account: string, now: number, windowMs: number): Promise<number | undefined> {
  const v = (await cache.get(tenantId, NAMESPACE, account)) as { at?: unknown } | undefined;
  const at = typeof v?.at === 'number' ? v.at : undefined;
  return at !== undefined && now - at < windowMs ? at : undefined;
}

/** A message went out: a new window starts now. */
export async function startDigestWindow(cache: CacheStore, tenantId: string, account: string, now: number, windowMs: number): Promise<void> {
  await cache.put(tenantId, NAMESPACE, account, { at: now }, Math.max(60, Math.ceil(windowMs / 1000) + 60));
}
