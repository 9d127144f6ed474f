/**
 * What a tenant spends of its vendors' API budgets this month, and what that means:
 * - `getUsage`: calls this month per vendor (metered / free, per API), the projection to
 *   the month's end, the configured quota and the quota state (the CLI's `usage`, the admin
 *   route GET /admin/tenants/{tenant}/usage);
 * - `quotaState`: whether a vendor's monthly quota is spent for the tenant right now: the
 *   vendor refused this month (DingTalk 90020, recorded by the meter) and the configured
 *   quota was not raised since. A new month starts clean (the state is per month);
 * - `checkBudgets`: the warning at 80 % and 100 % of the projection (a log line once per
 *   process, tenant, vendor, month and level, and a metric point every time for the alarm).
 *
 * Projection: metered calls so far plus the average daily rate times the days left. The
 * daily rate divides by at least one day: a nightly full run early on the 1st must not
 * project as if every hour of the month ran one.
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import { ValidationError } from '../../errors/app-error';
import type { Clock } from '../../ports/clock';
import type { Logger } from '../../logging/logger';
import { monthBounds, usageMonth, USAGE_VENDORS, type QuotaExhaustion, type UsageCounter, type UsageStore, type UsageVendor } from '../../ports/usage-meter';

const DAY_MS = 24 * 3600_000;

export interface UsageDeps {
  usage: UsageStore;
  clock: Clock;
  tenant(id: string): TenantConfig | undefined;
}

export type BudgetLevel = 'unlimited' | 'ok' | 'warning' | 'over';

export interface VendorUsage {
  vendor: UsageVendor;
  metered: number;
  free: number;
  /** Metered calls projected to the month's end at this month's daily rate. */
  projection: number;
  /** Configured monthly quota of metered calls; 0 = unlimited. */
  quota: number;
  /** projection / quota in percent (undefined when unlimited). */
  projectedPercent?: number;
  level: BudgetLevel;
  /** The vendor refused for quota this month and the quota was not raised since. */
  quotaSpent: boolean;
  exhaustion?: QuotaExhaustion;
  byApi: UsageCounter[];
}

export interface UsageReport {
  tenantId: string;
  month: string;
  asOf: number;
  /** Days of the month passed / in the month. */
  daysElapsed: number;
  daysInMonth: number;
  vendors: VendorUsage[];
}

/** The monthly quota of metered calls configured for a tenant's vendor (0 = unlimited). */
export function configuredQuota(tenant: TenantConfig | undefined, vendor: UsageVendor): number {
  // Only DingTalk has a monthly quota (dingtalk.md §8); WeCom's limits are per minute/hour (wecom.md §4).
  if (vendor === 'dingtalk') return tenant?.dingtalk?.monthlyQuota ?? 10_000;
  return 0;
}

/** The sentence runs and logs use when a vendor's monthly quota is spent. */
export function quotaSpentMessage(vendor: UsageVendor): string {
  return vendor === 'dingtalk' ? "DingTalk's monthly API quota is spent" : `${vendor}'s monthly API quota is spent`;
}

/** Projection of metered calls to the end of `month` from `metered` so far at `now`. */
export function projectMonth(metered: number, month: string, now: number): { projection: number; daysElapsed: number; daysInMonth: number } {
  const { start, end } = monthBounds(month);
  const daysInMonth = (end - start) / DAY_MS;
  const elapsed = Math.min(Math.max(now - start, 0), end - start);
  const daysElapsed = elapsed / DAY_MS;
  const rate = metered / Math.max(daysElapsed, 1);
  return { projection: Math.round(metered + rate * Math.max(0, daysInMonth - Math.max(daysElapsed, 1))), daysElapsed, daysInMonth };
}

function levelOf(projection: number, quota: number): BudgetLevel {
  if (quota <= 0) return 'unlimited';
  const pct = (projection / quota) * 100;
  return pct >= 100 ? 'over' : pct >= 80 ? 'warning' : 'ok';
}

/** Whether `vendor`'s quota is spent for the tenant now (see the file comment). */
export async function quotaState(deps: UsageDeps, tenantId: string, vendor: UsageVendor): Promise<{ spent: boolean; exhaustion?: QuotaExhaustion }> {
  const x = await deps.usage.exhaustion(tenantId, vendor, usageMonth(deps.clock.now()));
  if (!x) return { spent: false };
  const quota = configuredQuota(deps.tenant(tenantId), vendor);
  // Raised (or made unlimited) since the refusal: work resumes; a new refusal records anew.
  const raised = quota === 0 || quota > x.quotaAtExhaustion;
  return { spent: !raised, exhaustion: x };
}

/** This month's usage of every vendor the tenant called; see the file comment. */
export async function getUsage(deps: UsageDeps, tenantId: string, opts: { month?: string } = {}): Promise<UsageReport> {
  const tenant = deps.tenant(tenantId);
  if (!tenant) throw new ValidationError(`unknown tenant "${tenantId}"`, { code: 'USAGE.UNKNOWN_TENANT' });
  const now = deps.clock.now();
  const month = opts.month ?? usageMonth(now);
  const counters = await deps.usage.counters(tenantId, month);
  const asOf = month === usageMonth(now) ? now : monthBounds(month).end;
  const vendors: VendorUsage[] = [];
  let days = { daysElapsed: 0, daysInMonth: 0 };
  for (const vendor of USAGE_VENDORS) {
    const mine = counters.filter((c) => c.vendor === vendor);
    const quota = configuredQuota(tenant, vendor);
    if (mine.length === 0 && quota === 0) continue;
    const metered = mine.filter((c) => c.cls === 'metered').reduce((n, c) => n + c.calls, 0);
    const free = mine.filter((c) => c.cls === 'free').reduce((n, c) => n + c.calls, 0);
    const p = projectMonth(metered, month, asOf);
    days = p;
    const state = month === usageMonth(now) ? await quotaState(deps, tenantId, vendor) : { spent: false, exhaustion: await deps.usage.exhaustion(tenantId, vendor, month) };
    vendors.push({
      vendor,
      metered,
      free,
      projection: p.projection,
      quota,
      ...(quota > 0 ? { projectedPercent: Math.round((p.projection / quota) * 1000) / 10 } : {}),
      level: levelOf(p.projection, quota),
      quotaSpent: state.spent,
      ...(state.exhaustion ? { exhaustion: state.exhaustion } : {}),
      byApi: mine.sort((a, b) => b.calls - a.calls),
    });
  }
  if (days.daysInMonth === 0) days = projectMonth(0, month, asOf);
  return { tenantId, month, asOf, daysElapsed: Math.round(days.daysElapsed * 10) / 10, daysInMonth: days.daysInMonth, vendors };
}

export interface BudgetCheckDeps extends UsageDeps {
  logger: Logger;
  /** One metric point (the alarm's input); wired to CloudWatch EMF in AWS. */
  metric?(name: string, value: number, dimensions: Record<string, string>): void;
}

const warned = new Map<string, BudgetLevel>();

/** Warn at 80 % / 100 % of the projection (see the file comment). @returns the report. */
export async function checkBudgets(deps: BudgetCheckDeps, tenantId: string): Promise<UsageReport> {
  const report = await getUsage(deps, tenantId);
  for (const v of report.vendors) {
    if (v.quota <= 0) continue;
    deps.metric?.('UsageProjectedPercent', v.projectedPercent ?? 0, { vendor: v.vendor });
    if (v.level !== 'warning' && v.level !== 'over') continue;
    const key = `${tenantId} ${v.vendor} ${report.month}`;
    if (warned.get(key) === v.level || (warned.get(key) === 'over' && v.level === 'warning')) continue;
    warned.set(key, v.level);
    deps.logger.warn(
      v.level === 'over'
        ? `${v.vendor} API calls are projected to pass the monthly quota (${v.projection} of ${v.quota}); notices switch to digests`
        : `${v.vendor} API calls are projected at ${v.projectedPercent}% of the monthly quota (${v.projection} of ${v.quota})`,
      { tenant: tenantId, vendor: v.vendor, month: report.month, metered: v.metered, projection: v.projection, quota: v.quota, code: v.level === 'over' ? 'USAGE.PROJECTED_OVER' : 'USAGE.PROJECTED_80' },
    );
  }
  return report;
}

/** Forget which warnings were logged (tests). */
export function resetBudgetWarningsForTests(): void {
  warned.clear();
}
