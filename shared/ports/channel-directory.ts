/**
 * ChannelDirectory: the users of one channel (a DingTalk org or WeCom corp the tenant's
 * people sign in through), ids and match attributes only, for the identity links
 * (shared/use-cases/links/). Owned by the links use cases; implemented by
 * dingtalk.channel-directory.ts and wecom.channel-directory.ts over the existing vendor
 * clients (so their calls share the tenant's limiter and are counted like every other
 * vendor call), picked per tenant and channel by the wiring (shared/wiring/tenant-clients.ts).
 */
import type { ChannelUser } from '../domain/identity-match';

export interface ChannelDirectory {
  readonly vendor: 'dingtalk' | 'wecom';
  /** Every user of the channel. Throws on any upstream failure (never a partial list). */
  listUsers(): Promise<ChannelUser[]>;
  /** One user, or undefined when the channel no longer has them (callbacks re-read). */
  getUser(userId: string): Promise<ChannelUser | undefined>;
}
