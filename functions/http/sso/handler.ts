/**
 * GET /sso/{tenant} (HTTP API) and the SSO Function URL (`/sso/<tenant>`): signed OA link
 * or CAS -> 302 to the tenant's signed NetEase entry URL. Errors are HTML pages.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { html, redirect } from '../../../shared/http/http-response';
import { selfUrl, singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import type { Logger } from '../../../shared/logging/logger';
import { getRuntime } from '../../../shared/runtime/runtime';
import { loadTenantSigner } from '../../../shared/use-cases/manage-keys';
import { signIn, type SignInDeps } from '../../../shared/use-cases/sso/sign-in';
import type { VendorSsoClient } from '../../../shared/use-cases/sso/vendor-sso';
import { createDingtalkClient } from '../../../shared/adapters/dingtalk';
import { createWecomClient } from '../../../shared/adapters/wecom';
import { dingtalkSso, wecomSso } from '../../../shared/adapters/vendor-sso-clients';

export interface Deps extends SignInDeps {
  config: TenantsFile;
  logger: Logger;
}

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const tenant = tenantFromPath(event, deps.config);
      const result = await signIn(deps, { tenant, query: singleQuery(event), selfUrl: selfUrl(event), userAgent: event.headers?.['user-agent'] });
      if (result.kind === 'page') {
        return html(200, result.html, {
          'content-security-policy': `default-src 'none'; script-src '${'nonce-'}${result.scriptNonce}' ${result.scriptSrc}; style-src 'unsafe-inline'; connect-src ${result.scriptSrc}; frame-ancestors 'none'`,
        });
      }
      return redirect(result.location);
    },
    { logger: deps.logger, htmlErrors: true },
  );
}

// The vendor clients as sign-in clients (shared with the console's sign-in).
export { dingtalkSso, wecomSso };

export const handler = lazyHandler(() => {
  const rt = getRuntime('sso');
  const vendorClients = new Map<string, VendorSsoClient>();
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  return makeHandler({
    config: rt.tenants,
    logger: rt.logger,
    clock: rt.clock,
    mappings: stores.mappings,
    once: stores.once,
    oaLinkSecret: async (t) => (await rt.tenantSecret(t.id, 'oa')).linkSecret,
    signer: (t) => loadTenantSigner({ secrets: rt.secrets, stage: rt.stage, tenantId: t.id, logger: rt.logger }),
    vendorSso: async (t, vendor) => {
      const key = `${t.id}:${vendor}`;
      let c = vendorClients.get(key);
      if (!c) {
        c = vendor === 'dingtalk' ? dingtalkSso(createDingtalkClient(t, { secrets: rt.secrets, stage: rt.stage, logger: rt.logger })) : wecomSso(createWecomClient(t, { secrets: rt.secrets, stage: rt.stage, logger: rt.logger }));
        vendorClients.set(key, c);
      }
      return c;
    },
  });
});
