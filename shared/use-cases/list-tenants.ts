/**
 * The admin API's tenant listing (`GET /admin/tenants`): each configured tenant with its
 * NetEase settings, the directory vendors it has sections for, the source it syncs from and
 * the NAMES of its secrets (shared/config/secrets.ts tenantSecretRefs). Never a secret value:
 * nothing here reads a secret.
 */
import { findTenant } from '../config/load-config';
import { tenantSecretRefs } from '../config/secrets';
import type { TenantConfig, TenantsFile } from '../config/tenant-config.schema';
import { NotFoundError } from '../errors/app-error';

/** One tenant as the listing shows it. */
export interface TenantSummary {
  id: string;
  displayName: TenantConfig['displayName'];
  netease: Pick<TenantConfig['netease'], 'domain' | 'product' | 'region' | 'apiBaseUrl' | 'ssoEntryUrl'>;
  /** The vendor sections the tenant has, in this order. */
  sources: Array<'ekp' | 'dingtalk' | 'wecom'>;
  syncSource: TenantConfig['sync']['source'];
  /** Secret names (`qiye-bridge/<stage>/<tenant>/<kind>[/<channel>]`), never values. */
  secrets: string[];
}

/** Every configured tenant, in config order, as {@link TenantSummary}. */
export function listTenants(config: TenantsFile, stage: string): TenantSummary[] {
  return config.tenants.map((t) => ({
    id: t.id,
    displayName: t.displayName,
    netease: { domain: t.netease.domain, product: t.netease.product, region: t.netease.region, apiBaseUrl: t.netease.apiBaseUrl, ssoEntryUrl: t.netease.ssoEntryUrl },
    sources: (['ekp', 'dingtalk', 'wecom'] as const).filter((k) => t[k]),
    syncSource: t.sync.source,
    secrets: tenantSecretRefs(stage, t).map((r) => r.name),
  }));
}

/**
 * The configured tenant `id`.
 * @throws NotFoundError TENANT.UNKNOWN (404), quoting at most 32 characters of the id.
 */
export function requireTenant(config: TenantsFile, id: string): TenantConfig {
  const t = findTenant(config, id);
  if (!t) throw new NotFoundError(`Unknown tenant "${id.slice(0, 32)}".`, { code: 'TENANT.UNKNOWN' });
  return t;
}
