/**
 * The daily links pull, run from the sync planner's scheduled tick (every 15 minutes, SCHEDULES
 * in the app manifest): each tenant with a channel apart from its source is pulled once per
 * UTC day. The day's claim is a OnceStore operation (`links-pull:<YYYY-MM-DD>`): taken with a
 * lease, completed after the pull, released when the pull fails so the next tick retries.
 * Tenants run one after another; a failure of one is logged and the others go ahead.
 */
import { linkedChannels } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AppError } from '../../errors/app-error';
import type { OnceStore } from '../../ports/once-store';
import type { LinksDeps } from './links-deps';
import { pullLinks, type PullLinksResult } from './pull-links';

const LEASE_SECONDS = 15 * 60;
const KEEP_SECONDS = 3 * 24 * 3600;

export async function pullDueLinks(deps: LinksDeps & { once: OnceStore }, tenants: readonly TenantConfig[]): Promise<PullLinksResult[]> {
  const day = new Date(deps.clock.now()).toISOString().slice(0, 10);
  const out: PullLinksResult[] = [];
  for (const tenant of tenants) {
    if (linkedChannels(tenant).length === 0) continue;
    const key = `links-pull:${day}`;
    const claim = await deps.once.begin(tenant.id, 'op', key, { leaseSeconds: LEASE_SECONDS, ttlSeconds: KEEP_SECONDS });
    if (claim.status !== 'acquired') continue;
    try {
      const res = await pullLinks(deps, tenant);
      if (res.status === 'partial') {
        await deps.once.release(tenant.id, 'op', key, claim.token); // a channel failed: retry next tick
      } else {
        await deps.once.complete(tenant.id, 'op', key, { status: res.status });
      }
      out.push(res);
    } catch (err) {
      await deps.once.release(tenant.id, 'op', key, claim.token).catch(() => false);
      deps.logger.error('daily links pull failed; the next tick retries', { tenant: tenant.id, code: err instanceof AppError ? err.code : 'INTERNAL', err });
      out.push({ tenantId: tenant.id, status: 'partial', channels: [], reason: err instanceof AppError ? err.code : 'INTERNAL' });
    }
  }
  return out;
}
