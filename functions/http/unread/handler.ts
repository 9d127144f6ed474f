/**
 * GET /unread/{tenant}: JSON {count} for the OA portal, authenticated by a signed OA link.
 * GET /unread/{tenant}/widget: an embeddable page ("您有 N 封新邮件") linking to SSO.
 * CORS: only origins listed in the tenant's unread.corsOrigins ("*" allows any).
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { NeteaseClient, neteaseRateLimiter } from '../../../shared/adapters/netease';
import { RateLimiterRegistry } from '../../../shared/adapters/http/rate-limiter';
import type { TenantConfig, TenantsFile } from '../../../shared/config/tenant-config.schema';
import { httpHandler, lazyHandler, type HttpEvent } from '../../../shared/http/http-handler';
import { escapeHtml, html, json } from '../../../shared/http/http-response';
import { selfUrl, singleQuery } from '../../../shared/http/query';
import { tenantFromPath } from '../../../shared/http/tenant';
import { getRuntime } from '../../../shared/runtime/runtime';
import { loadTenantSigner } from '../../../shared/use-cases/manage-keys';
import { unreadCount, type UnreadDeps } from '../../../shared/use-cases/unread/unread-count';

export interface Deps extends UnreadDeps {
  config: TenantsFile;
  /** Base URL SSO links point to; default: this API's own origin. */
  ssoBaseUrl?: string;
}

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const tenant = tenantFromPath(event, deps.config);
      const widget = event.rawPath.endsWith('/widget');
      const cors = corsHeaders(tenant, event.headers?.origin);
      const ssoBaseUrl = deps.ssoBaseUrl ?? new URL(selfUrl(event)).origin;
      const result = await unreadCount(deps, { tenant, query: singleQuery(event), ssoBaseUrl });
      if (!widget) return json(200, { count: result.count, cached: result.cached, ssoUrl: result.ssoLink }, cors);
      return html(200, widgetPage(result.count, result.ssoLink, tenant.unread.cacheSeconds), cors);
    },
    { logger: deps.logger },
  );
}

function corsHeaders(tenant: TenantConfig, origin: string | undefined): Record<string, string> {
  const allowed = tenant.unread.corsOrigins;
  if (!origin || allowed.length === 0) return {};
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  return allowed.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}

/**
 * The widget refreshes itself before its SSO link's window closes: the link inside is
 * signed for one use within the tenant's window (default 5 minutes).
 */
function widgetPage(count: number, ssoLink: string, cacheSeconds: number): string {
  const refresh = Math.max(60, Math.min(240, cacheSeconds || 240));
  const text = count > 0 ? `您有 <b>${count}</b> 封新邮件` : '没有新邮件';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh}">
<title>邮箱</title><style>body{margin:0;font:14px system-ui,"PingFang SC","Microsoft YaHei",sans-serif}a{color:#1a56db;text-decoration:none}b{color:#d03801}</style></head>
<body><a href="${escapeHtml(ssoLink)}" target="_blank" rel="noopener">&#9993; ${text}</a></body></html>`;
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('unread');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  const limiters = new RateLimiterRegistry();
  const clients = new Map<string, NeteaseClient>();
  const client = async (t: TenantConfig) => {
    const signer = await loadTenantSigner({ secrets: rt.secrets, stage: rt.stage, tenantId: t.id });
    let c = clients.get(t.id);
    // A rotated key gives a new Signer object: rebuild the client then.
    if (!c || (c as unknown as { signer: unknown }).signer !== signer) {
      c = new NeteaseClient(t.netease, signer, { limiter: neteaseRateLimiter(limiters, t.id, t.netease), logger: rt.logger });
      clients.set(t.id, c);
    }
    return c;
  };
  return makeHandler({
    config: rt.tenants,
    logger: rt.logger,
    clock: rt.clock,
    mappings: stores.mappings,
    once: stores.once,
    cache: stores.cache,
    ssoBaseUrl: rt.env.QIYE_SSO_BASE_URL,
    oaLinkSecret: async (t) => (await rt.tenantSecret(t.id, 'oa')).linkSecret,
    unreadCount: async (t, account) => (await client(t)).getUnreadCount(account),
  });
});

export type { HttpEvent };
