/**
 * GET /sso/{tenant} (HTTP API) and the SSO Function URL (`/sso/<tenant>`): signed OA link
 * or CAS -> 302 to the tenant's signed NetEase entry URL. Errors are HTML pages.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { redirect } from '../../../shared/http/http-response';
import { selfUrl, singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import type { Logger } from '../../../shared/logging/logger';
import { getRuntime } from '../../../shared/runtime/runtime';
import { loadTenantSigner } from '../../../shared/use-cases/manage-keys';
import { signIn, type SignInDeps } from '../../../shared/use-cases/sso/sign-in';

export interface Deps extends SignInDeps {
  config: TenantsFile;
  logger: Logger;
}

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const tenant = tenantFromPath(event, deps.config);
      const result = await signIn(deps, { tenant, query: singleQuery(event), selfUrl: selfUrl(event) });
      return redirect(result.location);
    },
    { logger: deps.logger, htmlErrors: true },
  );
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('sso');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  return makeHandler({
    config: rt.tenants,
    logger: rt.logger,
    clock: rt.clock,
    mappings: stores.mappings,
    once: stores.once,
    oaLinkSecret: async (t) => (await rt.tenantSecret(t.id, 'oa')).linkSecret,
    signer: (t) => loadTenantSigner({ secrets: rt.secrets, stage: rt.stage, tenantId: t.id, logger: rt.logger }),
  });
});
