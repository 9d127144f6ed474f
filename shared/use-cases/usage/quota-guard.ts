/**
 * The guard every budget-spending loop asks before it calls a vendor: is this vendor's
 * monthly quota spent for the tenant (DingTalk 90020 recorded this month, quota not raised
 * since)? Then the loop does not start: a scheduled run is skipped, contact events stay
 * dirty for the run after the quota resumes, notices wait. Nothing is deleted and no call
 * is spent on a refusal. The state is per month, so work resumes by itself at the month's
 * turn (China time), or at once when `dingtalk.monthlyQuota` is raised.
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Clock } from '../../ports/clock';
import type { UsageStore, UsageVendor } from '../../ports/usage-meter';
import { quotaSpentMessage, quotaState } from './usage-report';

/** Why `vendor` may not be called for `tenant` now, or undefined when it may (or no usage store is wired). */
export async function quotaSpentReason(deps: { usage?: UsageStore; clock: Clock }, tenant: TenantConfig, vendor: UsageVendor | undefined): Promise<string | undefined> {
  if (!deps.usage || !vendor) return undefined;
  const s = await quotaState({ usage: deps.usage, clock: deps.clock, tenant: () => tenant }, tenant.id, vendor);
  if (!s.spent) return undefined;
  return `${quotaSpentMessage(vendor)} (refused ${new Date(s.exhaustion!.at).toISOString()} at quota ${s.exhaustion!.quotaAtExhaustion}); work resumes at the month's turn or when ${vendor}.monthlyQuota is raised`;
}
