/** Test helper: the SyncDeps of a deployment with one tenant, whose source and NetEase directory are given objects. */
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { DirectorySource } from '../../shared/ports/directory-source';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import type { SyncDeps } from '../../shared/use-cases/sync/sync-deps';

export function oneTenantSyncDeps(
  deps: Omit<SyncDeps, 'tenants' | 'directory' | 'netease'>,
  tenant: TenantConfig,
  source: DirectorySource,
  netease: NeteaseDirectory,
): SyncDeps {
  return { ...deps, tenants: () => [tenant], directory: async () => source, netease: async () => netease };
}
