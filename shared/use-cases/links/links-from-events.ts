/**
 * Contact callbacks of a channel that is not the directory source (an EKP tenant's DingTalk
 * or WeCom on the tenant's callback route, or an extra channel's events on its own route
 * `/callbacks/<vendor>/<tenant>/<channel>`): they never touch the sync, they re-link
 * the people they name at once (pull-links.ts refreshChannelUsers), so a user added in
 * DingTalk is linked within seconds. A renamed WeCom user (newId) is re-read under the new
 * id and the old id's link goes. Department events change no link and are skipped.
 */
import { findChannel, type TenantChannel } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { ContactEventMessage } from '../../contracts/contact-event';
import type { LinksDeps } from './links-deps';
import { refreshChannelUsers, type ChannelLinksReport } from './pull-links';

/** Re-link the people the events name; throws (retryably where the vendor or store is down) on failure. */
export async function linksFromContactEvents(deps: LinksDeps, tenant: TenantConfig, messages: readonly ContactEventMessage[]): Promise<ChannelLinksReport[]> {
  const reports: ChannelLinksReport[] = [];
  // A message names its channel (an extra one's route) or none (the top-level section's app).
  const byChannel = new Map<string, { channel: TenantChannel; ids: string[] }>();
  for (const m of messages) {
    const channel = findChannel(tenant, m.vendor, m.channelId ?? m.vendor);
    // Unknown (the channel left the config since the event was queued), or the source itself.
    if (!channel || channel.native) continue;
    const ids = m.changes.filter((c) => c.kind === 'person').flatMap((c) => (c.newId ? [c.id, c.newId] : [c.id]));
    const entry = byChannel.get(channel.id) ?? { channel, ids: [] };
    entry.ids.push(...ids);
    byChannel.set(channel.id, entry);
  }
  for (const { channel, ids } of byChannel.values()) if (ids.length > 0) reports.push(await refreshChannelUsers(deps, tenant, channel, ids));
  return reports;
}
