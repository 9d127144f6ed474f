/**
 * GET /sso/{tenant} (HTTP API) and the SSO Function URL (`/sso/<tenant>`): signed OA link
 * or CAS -> 302 to the tenant's signed NetEase entry URL. Errors are HTML pages.
 */
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { html, redirect } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import type { Logger } from '../../../shared/logging/logger';
import { signIn, type SignInDeps } from '../../../shared/use-cases/sso/sign-in';
import { getWiring } from '../../../shared/wiring/wiring';

export interface Deps extends SignInDeps {
  config: TenantsFile;
  logger: Logger;
}

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const tenant = tenantFromPath(event, deps.config);
      const result = await signIn(deps, { tenant, query: singleQuery(event), userAgent: event.headers?.['user-agent'] });
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

export const handler = lazyHandler(() => makeHandler(getWiring('sso').signInDeps()));
