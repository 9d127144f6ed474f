/**
 * A vendor's DirectorySource seen as a ChannelDirectory (ids and match attributes only).
 *
 * Matching degrades with what the vendor returns (reference dingtalk.md §4, wecom.md §4):
 * DingTalk's topapi/v2/user/list gives job_number, mobile and org_email (where the org
 * fills them; the reference does not say when `hide_mobile` blanks the mobile); WeCom apps created after 2022-06-20 get no mobile or email
 * from user/get or user/list (only the member's own OAuth consent reveals them), so a
 * WeCom channel matches by job number (extattr) and `userid=loginName` only. Users left
 * without any attribute a rule uses end unmatched, and are reported.
 */
import type { Person } from '../domain/directory';
import type { ChannelUser } from '../domain/identity-match';
import type { ChannelDirectory } from '../ports/channel-directory';
import type { DirectorySource } from '../ports/directory-source';

export function directoryAsChannel(vendor: 'dingtalk' | 'wecom', source: DirectorySource): ChannelDirectory {
  return {
    vendor,
    async listUsers() {
      return (await source.fullSnapshot()).people.map(channelUserOf);
    },
    async getUser(userId) {
      if (!source.getPerson) throw new Error(`the ${vendor} directory cannot read one user`);
      const p = await source.getPerson(userId);
      // A member who left (WeCom status 5) is gone from the channel as far as links go.
      return p && p.status !== 'left' ? channelUserOf(p) : undefined;
    },
  };
}

function channelUserOf(p: Person): ChannelUser {
  return {
    userId: p.id,
    active: p.status === 'active',
    ...(p.jobNumber ? { jobNumber: p.jobNumber } : {}),
    ...(p.mobile ? { mobile: p.mobile } : {}),
    ...(p.email ? { email: p.email } : {}),
    ...(p.loginName ? { loginName: p.loginName } : {}),
  };
}
