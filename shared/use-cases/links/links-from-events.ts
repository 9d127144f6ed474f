/**
 * Contact callbacks of a channel that is not the directory source (an EKP tenant's DingTalk
 * or WeCom, through the existing callback routes): they never touch the sync, they re-link
 * the people they name at once (pull-links.ts refreshChannelUsers), so a user added in
 * DingTalk is linked within seconds. A renamed WeCom user (newId) is re-read under the new
 * id and the old id's link goes. Department events change no link and are skipped.
 */
import { findChannel } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { ContactEventMessage } from '../../contracts/contact-event';
import type { LinksDeps } from './links-deps';
import { refreshChannelUsers, type ChannelLinksReport } from './pull-links';

/** Re-link the people the events name; throws (retryably where the vendor or store is down) on failure. */
export async function linksFromContactEvents(deps: LinksDeps, tenant: TenantConfig, messages: readonly ContactEventMessage[]): Promise<ChannelLinksReport[]> {
  const reports: ChannelLinksReport[] = [];
  for (const vendor of ['dingtalk', 'wecom'] as const) {
    // The callback routes serve the top-level section's app: that channel's users.
    const channel = findChannel(tenant, vendor, vendor);
    if (!channel || channel.native) continue;
    const ids = messages.filter((m) => m.vendor === vendor).flatMap((m) => m.changes.filter((c) => c.kind === 'person').flatMap((c) => (c.newId ? [c.id, c.newId] : [c.id])));
    if (ids.length > 0) reports.push(await refreshChannelUsers(deps, tenant, channel, ids));
  }
  return reports;
}
