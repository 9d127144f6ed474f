/**
 * GET /unread/{tenant}: JSON {count} for the OA portal, authenticated by a signed OA link.
 * GET /unread/{tenant}/widget: an embeddable page ("您有 N 封新邮件") linking to SSO.
 * CORS: only origins listed in the tenant's unread.corsOrigins ("*" allows any).
 */
import type { TenantConfig, TenantsFile } from '../../../shared/config/tenant-config.schema';
import type { Context } from 'aws-lambda';
import { httpHandler, lazyHandler, type HttpEvent } from '../../../shared/http/http-handler';
import { escapeHtml, html, json } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import { unreadCount, type UnreadDeps } from '../../../shared/use-cases/unread/unread-count';
import { getWiring } from '../../../shared/wiring/wiring';

export interface Deps extends UnreadDeps {
  config: TenantsFile;
}

export function makeHandler(deps: Deps) {
  const serve = async (event: HttpEvent) => {
    const tenant = tenantFromPath(event, deps.config);
    const widget = isWidget(event);
    const cors = corsHeaders(tenant, event.headers?.origin);
    const result = await unreadCount(deps, { tenant, query: singleQuery(event), widget });
    if (!widget) return json(200, { count: result.count, cached: result.cached, ssoUrl: result.ssoLink }, cors);
    return html(200, widgetPage(result.count, result.ssoLink, result.widgetLink!, tenant.unread.cacheSeconds, tenant.sso.windowSeconds), {
      ...cors,
      'content-security-policy': widgetCsp(tenant),
    });
  };
  // The widget is a page inside the portal: its errors are pages too; the JSON route answers JSON.
  const jsonRoute = httpHandler(serve, { logger: deps.logger });
  const widgetRoute = httpHandler(serve, { logger: deps.logger, htmlErrors: true });
  return (event: HttpEvent, context: Context) => (isWidget(event) ? widgetRoute(event, context) : jsonRoute(event, context));
}

function isWidget(event: HttpEvent): boolean {
  return event.rawPath.endsWith('/widget');
}

function corsHeaders(tenant: TenantConfig, origin: string | undefined): Record<string, string> {
  const allowed = tenant.unread.corsOrigins;
  if (!origin || allowed.length === 0) return {};
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  return allowed.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}

/**
 * The widget lives in an iframe on the OA portal: the portal origins the tenant lists in
 * unread.corsOrigins may frame it ("*" any); with none listed, only this site may.
 */
export function widgetCsp(tenant: TenantConfig): string {
  const origins = tenant.unread.corsOrigins;
  const ancestors = origins.includes('*') ? '*' : origins.length > 0 ? origins.join(' ') : "'self'";
  return `default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors ${ancestors}`;
}

/**
 * Both links in the page are signed for one use within the tenant's window (default 5
 * minutes): the page reloads itself through its fresh widget link before that window
 * closes, so the "open mailbox" link it shows is always valid.
 */
function widgetPage(count: number, ssoLink: string, widgetLink: string, cacheSeconds: number, windowSeconds: number): string {
  const refresh = Math.max(30, Math.min(windowSeconds - 30, cacheSeconds || windowSeconds - 30));
  const text = count > 0 ? `您有 <b>${count}</b> 封新邮件` : '没有新邮件';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh};url=${escapeHtml(widgetLink)}">
<title>邮箱</title><style>body{margin:0;font:14px system-ui,"PingFang SC","Microsoft YaHei",sans-serif}a{color:#1a56db;text-decoration:none}b{color:#d03801}</style></head>
<body><a href="${escapeHtml(ssoLink)}" target="_blank" rel="noopener">&#9993; ${text}</a></body></html>`;
}

export const handler = lazyHandler(() => makeHandler(getWiring('unread').unreadDeps()));
