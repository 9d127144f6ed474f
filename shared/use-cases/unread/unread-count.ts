/**
 * The unread count for the OA portal ("您有 N 封新邮件"): who is asking is proven by a signed
 * OA link (as for SSO); the count comes from NetEase's oaserver getUnreadMsg and is cached
 * per person for a short time (tenant `unread.cacheSeconds`) so a busy portal doesn't
 * become a load on NetEase.
 */
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
  req: { tenant: TenantConfig; query: Record<string, string | undefined>; ssoBaseUrl: string; widget?: { baseUrl: string; path: string } },
): Promise<UnreadResult> {
  const { tenant } = req;
  const source = tenant.sync.source;
  if (!source) throw new NotConfiguredError(`Tenant "${tenant.id}" has no directory source, so no mailbox mapping.`, { code: 'UNREAD.NO_SOURCE' });
  const secret = await deps.oaLinkSecret(tenant);
  const link = await authenticateOaLink({ ...deps, oaLinkSecret: async () => secret }, tenant, req.query);
  const accountName = await resolveAccount({ tenant, mappings: deps.mappings, source, userId: link.user });
  const ssoLink = buildOaLink({ baseUrl: req.ssoBaseUrl, tenantId: tenant.id, secret, user: link.user, now: deps.clock.now() });
  // Each signed link works once: the widget reloads itself through a new one, signed here.
  const widgetLink = req.widget ? buildOaLink({ ...req.widget, tenantId: tenant.id, secret, user: link.user, now: deps.clock.now() }) : undefined;

  const hit = await deps.cache.get(tenant.id, 'unread', accountName);
  if (typeof hit === 'number') return { count: hit, cached: true, ssoLink, widgetLink };
  const count = await deps.unreadCount(tenant, accountName);
  if (tenant.unread.cacheSeconds > 0) await deps.cache.put(tenant.id, 'unread', accountName, count, tenant.unread.cacheSeconds);
  deps.logger.debug('unread count fetched', { tenant: tenant.id, accountName });
  return { count, cached: false, ssoLink, widgetLink };
}
