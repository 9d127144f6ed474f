/**
 * GET /unread/{tenant}: JSON {count} for the OA portal, authenticated by a signed OA link.
 * GET /unread/{tenant}/widget: an embeddable page ("您有 N 封新邮件") linking to SSO
 * (shared/http/unread-widget.ts, with the CORS and CSP rules).
 */
import type { TenantsFile } from '../../../shared/config/tenant-config.schema';
import type { Context } from 'aws-lambda';
import { httpHandler, lazyHandler, type HttpEvent } from '../../../shared/http/http-handler';
import { json } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import { unreadCorsHeaders, widgetResponse } from '../../../shared/http/unread-widget';
import { unreadCount, type UnreadDeps } from '../../../shared/use-cases/unread/unread-count';
import { getWiring } from '../../../shared/wiring/wiring';

export interface Deps extends UnreadDeps {
  config: TenantsFile;
}

const isWidget = (event: HttpEvent) => event.rawPath.endsWith('/widget');

export function makeHandler(deps: Deps) {
  const serve = async (event: HttpEvent) => {
    const tenant = tenantFromPath(event, deps.config);
    const cors = unreadCorsHeaders(tenant, event.headers?.origin);
    const result = await unreadCount(deps, { tenant, query: singleQuery(event), widget: isWidget(event) });
    return isWidget(event) ? widgetResponse(tenant, result, cors) : json(200, { count: result.count, cached: result.cached, ssoUrl: result.ssoLink }, cors);
  };
  // The widget is a page inside the portal: its errors are pages too; the JSON route answers JSON.
  const jsonRoute = httpHandler(serve, { logger: deps.logger });
  const widgetRoute = httpHandler(serve, { logger: deps.logger, htmlErrors: true });
  return (event: HttpEvent, context: Context) => (isWidget(event) ? widgetRoute(event, context) : jsonRoute(event, context));
}

export const handler = lazyHandler(() => makeHandler(getWiring('unread').unreadDeps()));
