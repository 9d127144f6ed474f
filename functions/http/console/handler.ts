/**
 * The operator console, served by the bridge itself: `ANY /console` and `ANY /console/{proxy+}`
 * on the HTTP API (no IAM: the console signs people in with the tenant's own identity, and a
 * break-glass link for deployment admins). Server-rendered pages, no script, a strict CSP.
 * Routes: signin.routes.ts (sign-in, sign-out) and tenant.routes.ts (pages and actions).
 */
import { errorPage } from '../../../shared/console-ui/pages-main';
import { pickLang } from '../../../shared/console-ui/i18n';
import { isAppError } from '../../../shared/errors/app-error';
import { httpHandler, lazyHandler, type HttpEvent } from '../../../shared/http/http-handler';
import { Router } from '../../../shared/http/router';
import { getWiring } from '../../../shared/wiring/wiring';
import { htmlResult, type ConsoleDeps } from './console-context';
import { registerSignInRoutes } from './signin.routes';
import { registerTenantRoutes } from './tenant.routes';

export function makeRouter(deps: ConsoleDeps): Router {
  const router = new Router();
  registerSignInRoutes(router, deps);
  registerTenantRoutes(router, deps);
  return router;
}

export function makeHandler(deps: ConsoleDeps) {
  const router = makeRouter(deps);
  return httpHandler(
    async (event: HttpEvent) => {
      try {
        return await router.handle(event);
      } catch (err) {
        // Refusals (4xx) as console pages; anything else goes to the generic 500 of httpHandler.
        if (!isAppError(err) || !err.expose || err.status >= 500) throw err;
        deps.logger.warn('console request refused', { route: event.rawPath, code: err.code, status: err.status });
        const lang = pickLang(undefined, undefined, event.headers?.['accept-language']);
        return htmlResult(err.status, errorPage({ lang, path: event.rawPath }, err.status, err.message, err.code));
      }
    },
    { logger: deps.logger, htmlErrors: true },
  );
}

export const handler = lazyHandler(() => makeHandler(getWiring('console').consoleDeps()));
