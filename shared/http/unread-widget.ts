/**
 * The unread widget (`GET /unread/{tenant}/widget`): the small page the OA portal embeds
 * ("您有 N 封新邮件", linking to SSO), its Content-Security-Policy, and the CORS headers of
 * both unread routes. Served by functions/http/unread/handler.ts; the count and the signed
 * links come from shared/use-cases/unread/unread-count.ts.
 */
import type { TenantConfig } from '../config/tenant-config.schema';
import type { UnreadResult } from '../use-cases/unread/unread-count';
import { escapeHtml, html, type HttpResult } from './http-response';

/** CORS: only origins listed in the tenant's unread.corsOrigins ("*" allows any). */
export function unreadCorsHeaders(tenant: TenantConfig, origin: string | undefined): Record<string, string> {
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

/** The widget's answer: the page, with the CORS headers given and its CSP. */
export function widgetResponse(tenant: TenantConfig, result: UnreadResult, cors: Record<string, string>): HttpResult {
  return html(200, widgetPage(result.count, result.ssoLink, result.widgetLink!, tenant.unread.cacheSeconds, tenant.sso.windowSeconds), {
    ...cors,
    'content-security-policy': widgetCsp(tenant),
  });
}

/**
 * Both links in the page are signed for one use within the tenant's window (default 5
 * minutes): the page reloads itself through its fresh widget link before that window
 * closes, so the "open mailbox" link it shows is always valid.
 */
export function widgetPage(count: number, ssoLink: string, widgetLink: string, cacheSeconds: number, windowSeconds: number): string {
  const refresh = Math.max(30, Math.min(windowSeconds - 30, cacheSeconds || windowSeconds - 30));
  const text = count > 0 ? `您有 <b>${count}</b> 封新邮件` : '没有新邮件';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh};url=${escapeHtml(widgetLink)}">
<title>邮箱</title><style>body{margin:0;font:14px system-ui,"PingFang SC","Microsoft YaHei",sans-serif}a{color:#1a56db;text-decoration:none}b{color:#d03801}</style></head>
<body><a href="${escapeHtml(ssoLink)}" target="_blank" rel="noopener">&#9993; ${text}</a></body></html>`;
}
