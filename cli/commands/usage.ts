/**
 * `usage --tenant <id>`: the tenant's vendor API calls this month (metered and free, per API),
 * the projection to the month's end against the configured quota (`dingtalk.monthlyQuota`),
 * and whether the quota is spent. Through the admin API's usage route, like the sync commands.
 */
import { ValidationError } from '../../shared/errors/app-error';
import type { UsageReport } from '../../shared/use-cases/usage/usage-report';
import { tenantCommand } from './command';
import { call } from './sync';

export function formatUsage(r: UsageReport): string[] {
  const lines = [`${r.tenantId}: vendor API calls in ${r.month} (day ${r.daysElapsed.toFixed(1)} of ${r.daysInMonth})`];
  if (r.vendors.length === 0) lines.push('  no vendor calls counted yet');
  for (const v of r.vendors) {
    const quota = v.quota > 0 ? `quota ${v.quota}, projected ${v.projectedPercent}%` : 'no monthly quota';
    lines.push(`  ${v.vendor}: ${v.metered} metered + ${v.free} free; projected ${v.projection} metered by month end; ${quota}${v.level === 'warning' ? ' (WARNING: over 80%)' : v.level === 'over' ? ' (OVER the quota)' : ''}`);
    if (v.quotaSpent) lines.push(`    ${v.vendor === 'dingtalk' ? "DingTalk's monthly API quota is spent" : 'monthly quota spent'} since ${new Date(v.exhaustion!.at).toISOString()} (${v.exhaustion!.api}); work resumes next month or when the quota is raised above ${v.exhaustion!.quotaAtExhaustion}`);
    for (const a of v.byApi.slice(0, 12)) lines.push(`    ${String(a.calls).padStart(8)}  ${a.cls.padEnd(7)}  ${a.api}`);
  }
  return lines;
}

export const usageCommand = tenantCommand({
  name: 'usage',
  summary: "A tenant's vendor API calls this month, the projection to month end and the quota.",
  args: '[--month yyyy-MM] [--json]',
  async run({ values, tenantId: tenant }, ctx) {
    const month = values.month as string | undefined;
    if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new ValidationError('--month must be yyyy-MM.');
    const report = (await call(ctx, 'GET', `/admin/tenants/${encodeURIComponent(tenant)}/usage${month ? `?month=${month}` : ''}`)) as UsageReport;
    if (values.json) return void ctx.out(JSON.stringify(report, null, 2));
    for (const l of formatUsage(report)) ctx.out(l);
  },
});
