/**
 * A tenant's channels: the DingTalk orgs and WeCom corps where its people sign in and get
 * notices, apart from the directory source (`sync.source`).
 *
 * - The top-level `dingtalk` / `wecom` sections are channels with ids `dingtalk` / `wecom`
 *   (today's configs load unchanged; a DingTalk-sourced tenant is its own channel).
 * - `channels[]` adds more, each with its own id (e.g. one DingTalk org per subsidiary).
 *
 * A channel is "native" when its vendor is the sync source and it is the top-level section:
 * its user ids ARE the source ids, so it needs no identity links. Every other channel maps
 * its users to source people through the link store (shared/ports/identity-link-store.ts).
 */
import { secretName } from './secrets';
import type { TenantConfig } from './tenant-config.schema';

export type ChannelVendor = 'dingtalk' | 'wecom';
type DingtalkSettings = NonNullable<TenantConfig['dingtalk']>;
type WecomSettings = NonNullable<TenantConfig['wecom']>;

interface ChannelCommon {
  id: string;
  native: boolean;
  /** The identity-match rules of this channel: its own `links.rules`, else the tenant's. */
  rules: readonly string[];
}

export type TenantChannel = (ChannelCommon & { vendor: 'dingtalk'; settings: DingtalkSettings }) | (ChannelCommon & { vendor: 'wecom'; settings: WecomSettings });

/** Every channel of the tenant, top-level sections first, then `channels[]` in config order. */
export function tenantChannels(tenant: TenantConfig): TenantChannel[] {
  const out: TenantChannel[] = [];
  const rules = tenant.links.rules;
  if (tenant.dingtalk) out.push({ id: 'dingtalk', vendor: 'dingtalk', settings: tenant.dingtalk, native: tenant.sync.source === 'dingtalk', rules });
  if (tenant.wecom) out.push({ id: 'wecom', vendor: 'wecom', settings: tenant.wecom, native: tenant.sync.source === 'wecom', rules });
  for (const c of tenant.channels) {
    const { id, vendor, links, ...settings } = c;
    const own = { id, native: false, rules: links?.rules ?? rules };
    if (vendor === 'dingtalk') out.push({ ...own, vendor, settings: settings as DingtalkSettings });
    else out.push({ ...own, vendor, settings: settings as WecomSettings });
  }
  return out;
}

/** The channel `id`, or the first channel of `vendor` when no id is given; undefined when none. */
export function findChannel(tenant: TenantConfig, vendor: ChannelVendor, id?: string): TenantChannel | undefined {
  return tenantChannels(tenant).find((c) => c.vendor === vendor && (id === undefined || c.id === id));
}

/** The channels whose users need identity links (every channel that is not the source itself). */
export function linkedChannels(tenant: TenantConfig): TenantChannel[] {
  return tenantChannels(tenant).filter((c) => !c.native);
}

/**
 * The tenant as one channel sees it: its vendor section replaced by the channel's settings,
 * so the existing vendor clients, callback verifiers and sign-in pages work unchanged.
 */
export function channelView(tenant: TenantConfig, channel: TenantChannel): TenantConfig {
  return channel.vendor === 'dingtalk' ? { ...tenant, dingtalk: channel.settings } : { ...tenant, wecom: channel.settings };
}

/**
 * The secret holding a channel's app secret (and callback token / AES key): the vendor's tenant
 * secret for the top-level section (`qiye-bridge/<stage>/<tenant>/dingtalk`),
 * `.../<vendor>/<channelId>` for an extra channel (same JSON shape as the vendor's secret).
 * Named by secretName(), like every tenant secret.
 */
export function channelSecretName(stage: string, tenantId: string, channel: Pick<TenantChannel, 'id' | 'vendor'>): string {
  return secretName(stage, tenantId, channel.vendor, channel.id);
}
