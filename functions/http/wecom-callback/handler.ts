/**
 * GET|POST /callbacks/wecom/{tenant}: WeCom URL verification (GET) and encrypted change_contact callbacks (POST).
 * Until the WeCom integration lands this answers 501 "not configured yet" (WeCom
 * then reports the URL as failing, which is the truth), never a fake "success".
 */
import { lazyHandler, httpHandler } from '../../../shared/http/http-handler';
import { tenantFromPath } from '../../../shared/http/tenant';
import { NotConfiguredError } from '../../../shared/errors/app-error';
import { loadTenantsConfig } from '../../../shared/config/load-config';
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import { createLogger, type Logger } from '../../../shared/logging/logger';

export interface Deps {
  config: TenantsFile;
  logger: Logger;
}

export function makeHandler(deps: Deps) {
  return httpHandler(async (event) => {
    const tenant = tenantFromPath(event, deps.config);
    throw new NotConfiguredError(`WeCom callbacks are not available in this release (tenant ${tenant.id}).`, { code: 'CALLBACK.NOT_CONFIGURED' });
  }, { logger: deps.logger });
}

export const handler = lazyHandler(() => makeHandler({ config: loadTenantsConfig(), logger: createLogger({ fields: { fn: 'wecomCallback' } }) }));
