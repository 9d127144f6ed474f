/**
 * The admin API, behind `ANY /admin/{proxy+}` with IAM authorization (SigV4; in the
 * local stack, loopback callers only). Routes:
 *   GET  /admin/tenants                     tenants and their NetEase settings (no secrets)
 *   GET  /admin/tenants/:tenant/keys        the tenant's public key
 *   POST /admin/tenants/:tenant/keys        replace the key pair ({"confirm":"<tenant>","bits"?:1024|2048}, keys.schema.ts); returns the public key
 * Sync routes (runs, approvals, mappings, explain, watermarks) are added by sync.routes.ts,
 * the vendor API usage route (GET /admin/tenants/:tenant/usage) by usage.routes.ts, through `extend`.
 */
import { tenantSecretRefs } from '../../../shared/config/secrets';
import { findTenant } from '../../../shared/config/load-config';
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { NotFoundError } from '../../../shared/errors/app-error';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { json } from '../../../shared/http/http-response';
import { jsonBody, Router } from '../../../shared/http/router';
import type { Logger } from '../../../shared/logging/logger';
import type { SecretStore } from '../../../shared/ports/secret-store';
import { generateTenantKey, showTenantKey } from '../../../shared/use-cases/manage-keys';
import { getWiring } from '../../../shared/wiring/wiring';
import { parseRotateKeyBody } from './keys.schema';
import { registerSyncRoutes } from './sync.routes';
import { registerLinksRoutes } from './links.routes';
import { registerUsageRoutes } from './usage.routes';

export interface Deps {
  config: TenantsFile;
  logger: Logger;
  secrets: SecretStore;
  stage: string;
  /** Extra route registrations (sync, runs, mappings). */
  extend?: (router: Router) => void;
}

export function makeRouter(deps: Deps): Router {
  const tenantOf = (id: string) => {
    const t = findTenant(deps.config, id);
    if (!t) throw new NotFoundError(`Unknown tenant "${id.slice(0, 32)}".`, { code: 'TENANT.UNKNOWN' });
    return t;
  };
  const router = new Router()
    .on('GET', '/admin/tenants', async () =>
      json(200, {
        tenants: deps.config.tenants.map((t) => ({
          id: t.id,
          displayName: t.displayName,
          netease: { domain: t.netease.domain, product: t.netease.product, region: t.netease.region, apiBaseUrl: t.netease.apiBaseUrl, ssoEntryUrl: t.netease.ssoEntryUrl },
          sources: (['ekp', 'dingtalk', 'wecom'] as const).filter((k) => t[k]),
          syncSource: t.sync.source,
          secrets: tenantSecretRefs(deps.stage, t).map((r) => r.name),
        })),
      }),
    )
    .on('GET', '/admin/tenants/:tenant/keys', async (_e, p) => {
      const t = tenantOf(p.tenant!);
      return json(200, await showTenantKey({ secrets: deps.secrets, stage: deps.stage, tenantId: t.id }));
    })
    .on('POST', '/admin/tenants/:tenant/keys', async (e, p) => {
      const t = tenantOf(p.tenant!);
      const bits = parseRotateKeyBody(t.id, jsonBody(e)).bits ?? t.netease.keyBits;
      const key = await generateTenantKey({ secrets: deps.secrets, stage: deps.stage, tenantId: t.id, bits, logger: deps.logger });
      deps.logger.info('tenant key generated through the admin API', { tenant: t.id, fingerprint: key.fingerprint, caller: (e.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn });
      return json(201, key);
    });
  deps.extend?.(router);
  return router;
}

export function makeHandler(deps: Deps) {
  const router = makeRouter(deps);
  return httpHandler((event) => router.handle(event), { logger: deps.logger, exposeConfigDetails: true });
}

export const handler = lazyHandler(() => {
  const { rt, syncDeps, linksDeps, usageDeps } = getWiring('admin');
  const sync = syncDeps();
  const extend = (router: Parameters<typeof registerSyncRoutes>[0]) => {
    registerSyncRoutes(router, { sync });
    registerLinksRoutes(router, { config: rt.tenants, links: linksDeps() });
    registerUsageRoutes(router, usageDeps());
  };
  return makeHandler({ config: rt.tenants, logger: rt.logger, secrets: rt.secrets, stage: rt.stage, extend });
});
