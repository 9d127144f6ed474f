/**
 * What the identity-link use cases need: the link store, the source's people (ids and match
 * attributes) and each channel's directory. The wiring builds these (shared/wiring/).
 */
import type { TenantChannel } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Person } from '../../domain/directory';
import type { Logger } from '../../logging/logger';
import type { ChannelDirectory } from '../../ports/channel-directory';
import type { Clock } from '../../ports/clock';
import type { IdentityLinkStore } from '../../ports/identity-link-store';

export interface LinksDeps {
  links: IdentityLinkStore;
  clock: Clock;
  logger: Logger;
  /** Every person of the tenant's directory source (the sync source's full read). */
  sourcePeople(tenant: TenantConfig): Promise<Person[]>;
  /** The directory of one of the tenant's channels. */
  channelDirectory(tenant: TenantConfig, channel: TenantChannel): Promise<ChannelDirectory>;
}
