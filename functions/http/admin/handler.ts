/**
 * The admin API, behind `ANY /admin/{proxy+}` with IAM authorization (SigV4; locally, loopback
 * callers only): `GET /admin/tenants` (no secrets: shared/use-cases/list-tenants.ts), the key
 * routes (keys.routes.ts) and, through `extend`, wired.routes.ts (sync, links, usage).
 */
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { json } from '../../../shared/http/http-response';
import { Router } from '../../../shared/http/router';
import { listTenants } from '../../../shared/use-cases/list-tenants';
import { getWiring } from '../../../shared/wiring/wiring';
import { registerKeysRoutes, type KeysRoutesDeps } from './keys.routes';
import { registerWiredRoutes } from './wired.routes';

/** `extend`: extra route registrations (sync, runs, mappings, links, usage). */
export type Deps = KeysRoutesDeps & { extend?: (router: Router) => void };

export function makeHandler(deps: Deps) {
  const router = new Router().on('GET', '/admin/tenants', async () => json(200, { tenants: listTenants(deps.config, deps.stage) }));
  registerKeysRoutes(router, deps);
  deps.extend?.(router);
  return httpHandler((event) => router.handle(event), { logger: deps.logger, exposeConfigDetails: true });
}

export const handler = lazyHandler(() => {
  const wiring = getWiring('admin');
  const { rt } = wiring;
  return makeHandler({ config: rt.tenants, logger: rt.logger, secrets: rt.secrets, stage: rt.stage, extend: (router: Router) => registerWiredRoutes(router, wiring) });
});
