/**
 * Sign-in through a channel that is not the directory source (an EKP tenant's DingTalk or
 * WeCom): the channel user id becomes a source person through the identity links. An
 * unlinked, ambiguous or unmatched user gets a refusal page saying so and whom to ask,
 * never another person's mailbox.
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { IdentityLinkStore } from '../../ports/identity-link-store';
import { SignInRefusedError } from './resolve-account';

/** The source person id linked to a channel user; refuses anyone else. */
export async function personOfChannelUser(input: { links: IdentityLinkStore; tenant: TenantConfig; channelId: string; channelUserId: string }): Promise<string> {
  const { tenant } = input;
  const link = await input.links.get(tenant.id, input.channelId, input.channelUserId);
  const ask = tenant.links.helpContact ? `请联系 ${tenant.links.helpContact}。Please contact ${tenant.links.helpContact}.` : '请联系您的管理员。Please contact your administrator.';
  if (link?.status === 'linked' && link.personId) return link.personId;
  if (link?.status === 'ambiguous') {
    throw new SignInRefusedError('SSO.LINK_AMBIGUOUS', `您的账号对应多位员工，无法确定您的邮箱。Your account matches more than one person in the company directory, so we cannot tell which mailbox is yours. ${ask}`);
  }
  throw new SignInRefusedError('SSO.NOT_LINKED', `您的账号尚未关联到公司通讯录中的员工。Your account is not linked to a person in the company directory yet. ${ask}`);
}
