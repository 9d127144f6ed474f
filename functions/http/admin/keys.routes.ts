/**
 * Tenant key routes of the admin API (shared/use-cases/manage-keys.ts):
 *
 *   GET  /admin/tenants/:tenant/keys   the tenant's public key
 *   POST /admin/tenants/:tenant/keys   replace the key pair ({"confirm":"<tenant>","bits"?:1024|2048}, keys.schema.ts); returns the public key
 */
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { json } from '../../../shared/http/http-response';
import { jsonBody, type Router } from '../../../shared/http/router';
import type { Logger } from '../../../shared/logging/logger';
import type { SecretStore } from '../../../shared/ports/secret-store';
import { requireTenant } from '../../../shared/use-cases/list-tenants';
import { generateTenantKey, showTenantKey } from '../../../shared/use-cases/manage-keys';
import { parseRotateKeyBody } from './keys.schema';

export interface KeysRoutesDeps {
  config: TenantsFile;
  logger: Logger;
  secrets: SecretStore;
  stage: string;
}

export function registerKeysRoutes(router: Router, deps: KeysRoutesDeps): void {
  router
    .on('GET', '/admin/tenants/:tenant/keys', async (_e, p) => {
      const t = requireTenant(deps.config, p.tenant!);
      return json(200, await showTenantKey({ secrets: deps.secrets, stage: deps.stage, tenantId: t.id }));
    })
    .on('POST', '/admin/tenants/:tenant/keys', async (e, p) => {
      const t = requireTenant(deps.config, p.tenant!);
      const bits = parseRotateKeyBody(t.id, jsonBody(e)).bits ?? t.netease.keyBits;
      const key = await generateTenantKey({ secrets: deps.secrets, stage: deps.stage, tenantId: t.id, bits, logger: deps.logger });
      deps.logger.info('tenant key generated through the admin API', { tenant: t.id, fingerprint: key.fingerprint, caller: (e.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn });
      return json(201, key);
    });
}
