/** `links list` and `links explain`: what the link store says, for admins. */
import { linkedChannels } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { NotFoundError } from '../../errors/app-error';
import type { IdentityLink, IdentityLinkStore, LinkStatus } from '../../ports/identity-link-store';

/** The links of one channel (or every linked channel), optionally only one status; at most `limit`. */
export async function listLinks(links: IdentityLinkStore, tenant: TenantConfig, q: { channelId?: string; status?: LinkStatus; limit?: number }): Promise<{ links: IdentityLink[]; truncated: boolean }> {
  const channels = linkedChannels(tenant).filter((c) => q.channelId === undefined || c.id === q.channelId);
  if (q.channelId !== undefined && channels.length === 0) throw new NotFoundError(`Tenant ${tenant.id} has no linked channel "${q.channelId}".`, { code: 'LINKS.NO_CHANNEL' });
  const limit = q.limit ?? 1000;
  const out: IdentityLink[] = [];
  for (const c of channels) {
    for await (const l of links.list(tenant.id, c.id)) {
      if (q.status && l.status !== q.status) continue;
      if (out.length >= limit) return { links: out, truncated: true };
      out.push(l);
    }
  }
  return { links: out, truncated: false };
}

/**
 * A person's links: `id` is a source person id (their links in every channel), or
 * `<channelId>:<channelUserId>` (that channel user's link, whatever its status).
 */
export async function explainLinks(links: IdentityLinkStore, tenant: TenantConfig, id: string): Promise<{ personId?: string; links: IdentityLink[] }> {
  const sep = id.indexOf(':');
  const channel = sep > 0 ? linkedChannels(tenant).find((c) => c.id === id.slice(0, sep)) : undefined;
  if (channel) {
    const l = await links.get(tenant.id, channel.id, id.slice(sep + 1));
    return { ...(l?.personId ? { personId: l.personId } : {}), links: l ? [l] : [] };
  }
  return { personId: id, links: await links.listByPerson(tenant.id, id) };
}
