import type { TenantsFile, TenantConfig } from '../config/tenant-config.schema';
import { findTenant } from '../config/load-config';
import { NotFoundError, ValidationError } from '../errors/app-error';
import type { HttpEvent } from './http-handler';

/** The tenant named by the `{tenant}` path parameter (or the first path segment after a prefix). */
export function tenantFromPath(event: HttpEvent, config: TenantsFile): TenantConfig {
  const id = event.pathParameters?.tenant ?? tenantSegment(event.rawPath);
  if (!id) throw new ValidationError('The URL must name a tenant, e.g. /sso/<tenant>.', { code: 'REQUEST.NO_TENANT' });
  const tenant = findTenant(config, id);
  // Same answer for every unknown id; the id is echoed only after validation of its shape.
  if (!tenant) throw new NotFoundError(`Unknown tenant "${/^[a-z0-9-]{1,32}$/.test(id) ? id : '?'}".`, { code: 'TENANT.UNKNOWN' });
  return tenant;
}

/** For Function URL events, which carry no path parameters: `/sso/<tenant>` or `/<tenant>`. */
function tenantSegment(rawPath: string | undefined): string | undefined {
  const parts = (rawPath ?? '').split('/').filter(Boolean);
  if (parts[0] === 'sso') return parts[1];
  return parts[0];
}
