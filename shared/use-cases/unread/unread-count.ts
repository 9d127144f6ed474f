/**
 * The unread count for the OA portal ("您有 N 封新邮件"): who is asking is proven by a signed
 * OA link (as for SSO); the count comes from NetEase's oaserver getUnreadMsg and is cached
 * per person for a short time (tenant `unread.cacheSeconds`) so a busy portal doesn't
 * become a load on NetEase.
 */
import { publicUrl } from '../../config/public-url';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { NotConfiguredError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { CacheStore } from '../../ports/cache-store';
import type { MappingStore } from '../../ports/mapping-store';
import type { OnceStore } from '../../ports/once-store';
import { buildOaLink } from '../sso/oa-link';
import { resolveAccount } from '../sso/resolve-account';
import { authenticateOaLink } from '../sso/sign-in';

export interface UnreadDeps {
  mappings: MappingStore;
  once: OnceStore;
  cache: CacheStore;
  clock: Clock;
  logger: Logger;
  oaLinkSecret(tenant: TenantConfig): Promise<string>;
  /** NetEase's unread count for an account (the NeteaseClient's getUnreadCount). */
  unreadCount(tenant: TenantConfig, accountName: string): Promise<number>;
  /** The deployment's SSO Function URL (stack output), for the "open mailbox" link when the tenant sets no sso.publicBaseUrl. */
  ssoBaseUrl?: string;
  /** The deployment's HTTP API URL (stack output): the widget's own address, and the SSO fallback (it serves /sso/{tenant} too). */
  apiBaseUrl?: string;
}

export interface UnreadResult {
  count: number;
  /** True when the count came from the cache. */
  cached: boolean;
  /** A fresh signed SSO link for the same person (the widget's "open mailbox" link). */
  ssoLink: string;
  /** A fresh signed link to the widget itself (its refresh target), when asked for. */
  widgetLink?: string;
}

export async function unreadCount(
  deps: UnreadDeps,
  req: { tenant: TenantConfig; query: Record<string, string | undefined>; widget?: boolean },
): Promise<UnreadResult> {
  const { tenant } = req;
  const source = tenant.sync.source;
  if (!source) throw new NotConfiguredError(`Tenant "${tenant.id}" has no directory source, so no mailbox mapping.`, { code: 'UNREAD.NO_SOURCE' });
  const secret = await deps.oaLinkSecret(tenant);
  const link = await authenticateOaLink({ ...deps, oaLinkSecret: async () => secret }, tenant, req.query);
  const accountName = await resolveAccount({ tenant, mappings: deps.mappings, source, userId: link.user });
  // Links come from the configured public base URLs (shared/config/public-url.ts), never from the request's Host.
  const ssoBase = publicUrl([tenant.sso.publicBaseUrl, deps.ssoBaseUrl, deps.apiBaseUrl], '', 'the unread count\'s sign-in link');
  const ssoLink = buildOaLink({ baseUrl: ssoBase, tenantId: tenant.id, secret, user: link.user, now: deps.clock.now() });
  // Each signed link works once: the widget reloads itself through a new one, signed here.
  const widgetLink = req.widget
    ? buildOaLink({ baseUrl: publicUrl([deps.apiBaseUrl], '', 'the unread widget'), path: `/unread/${encodeURIComponent(tenant.id)}/widget`, tenantId: tenant.id, secret, user: link.user, now: deps.clock.now() })
    : undefined;

  const hit = await deps.cache.get(tenant.id, 'unread', accountName);
  if (typeof hit === 'number') return { count: hit, cached: true, ssoLink, widgetLink };
  const count = await deps.unreadCount(tenant, accountName);
  if (tenant.unread.cacheSeconds > 0) await deps.cache.put(tenant.id, 'unread', accountName, count, tenant.unread.cacheSeconds);
  deps.logger.debug('unread count fetched', { tenant: tenant.id, accountName });
  return { count, cached: false, ssoLink, widgetLink };
}
