/**
 * Vendor API usage route of the admin API, added through the admin router's `extend` hook:
 *
 *   GET /admin/tenants/:tenant/usage   ?month=yyyy-MM   calls this month per vendor and API (metered / free),
 *                                                       the projection to the month's end, the configured
 *                                                       quota and whether it is spent (use-cases/usage)
 */
import { NotFoundError } from '../../../shared/errors/app-error';
import { json } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import type { Router } from '../../../shared/http/router';
import { assertMonth } from '../../../shared/ports/usage-meter';
import { getUsage, type UsageDeps } from '../../../shared/use-cases/usage/usage-report';

export function registerUsageRoutes(router: Router, deps: UsageDeps): void {
  router.on('GET', '/admin/tenants/:tenant/usage', async (e, p) => {
    const tenantId = p.tenant!;
    if (!deps.tenant(tenantId)) throw new NotFoundError(`Unknown tenant "${tenantId.slice(0, 32)}".`, { code: 'TENANT.UNKNOWN' });
    const month = singleQuery(e).month;
    if (month !== undefined) assertMonth(month);
    return json(200, await getUsage(deps, tenantId, month ? { month } : {}));
  });
}
