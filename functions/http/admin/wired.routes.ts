/**
 * The admin routes that run on the process's wiring (sync and runs, identity links, usage),
 * registered the same way by the admin handler and by the CLI's in-process transport for a
 * deployed stage (cli/commands/sync.ts).
 */
import type { Router } from '../../../shared/http/router';
import type { Wiring } from '../../../shared/wiring/wiring';
import { registerLinksRoutes } from './links.routes';
import { registerSyncRoutes } from './sync.routes';
import { registerUsageRoutes } from './usage.routes';

export function registerWiredRoutes(router: Router, wiring: Pick<Wiring, 'rt' | 'syncDeps' | 'linksDeps' | 'usageDeps'>): void {
  registerSyncRoutes(router, { sync: wiring.syncDeps() });
  registerLinksRoutes(router, { config: wiring.rt.tenants, links: wiring.linksDeps() });
  registerUsageRoutes(router, wiring.usageDeps());
}
