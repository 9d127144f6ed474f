/**
 * Who gets a notice when the notification channel is not the directory source (an EKP
 * tenant notifying through DingTalk): the channel users linked to a source person
 * (shared/ports/identity-link-store.ts) whose mapping is active or linked. Ambiguous and
 * unmatched users get nothing; a link to a person who left is inert (their mapping is
 * suspended or deleted).
 *
 * With several channels of the vendor (one DingTalk org per subsidiary), each person is
 * notified once, through the first channel in config order where they are linked; each
 * channel's people go out in their own jobs, sent with that channel's app.
 */
import { tenantChannels } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { NotifyChannel, NotifyPerson } from '../../contracts/notify-job';
import type { IdentityLinkStore } from '../../ports/identity-link-store';
import type { MappingRecord, MappingStore } from '../../ports/mapping-store';
import type { NotifyStore } from '../../ports/notify-store';
import type { SourceKind } from '../../ports/store-common';

/** Whether the tenant's channel of this vendor is the directory source itself (no links needed). */
export function hasNativeChannel(tenant: TenantConfig, vendor: NotifyChannel): boolean {
  return tenantChannels(tenant).some((c) => c.vendor === vendor && c.native);
}

export async function linkedRecipients(
  deps: { mappings: MappingStore; notifyStore: NotifyStore; links: IdentityLinkStore; eligible(m: MappingRecord): boolean },
  tenant: TenantConfig,
  vendor: NotifyChannel,
  source: SourceKind,
): Promise<Array<{ channelId?: string; people: NotifyPerson[] }>> {
  const channels = tenantChannels(tenant).filter((c) => c.vendor === vendor && !c.native);
  const optIns = new Set<string>();
  if (!tenant.notifications.tenantWide) for await (const o of deps.notifyStore.listOptIns(tenant.id, vendor)) optIns.add(o.sourceId);
  const accounts = new Set<string>();
  const groups: Array<{ channelId?: string; people: NotifyPerson[] }> = [];
  for (const channel of channels) {
    const people: NotifyPerson[] = [];
    for await (const link of deps.links.list(tenant.id, channel.id)) {
      if (link.status !== 'linked' || !link.personId) continue;
      if (!tenant.notifications.tenantWide && !optIns.has(link.channelUserId)) continue;
      const m = await deps.mappings.get({ tenantId: tenant.id, source, objectType: 'person', sourceId: link.personId });
      if (!m || !deps.eligible(m)) continue;
      const key = m.neteaseId.toLowerCase();
      if (accounts.has(key)) continue; // one notice per mailbox
      // The recipient is the channel user; the mailbox is the linked person's.
      if (!/^[^\u0000-\u001f\u007f,|\s]{1,128}$/.test(link.channelUserId)) continue;
      accounts.add(key);
      people.push({ userId: link.channelUserId, account: m.neteaseId });
    }
    groups.push({ ...(channel.id === vendor ? {} : { channelId: channel.id }), people });
  }
  return groups;
}
