/**
 * WeCom as a SignInIdentity (reference wecom.md §5): in-client OAuth inside WeCom, the PC
 * login page elsewhere; both return `code`, which auth/getuserinfo turns into the UserID.
 */
import type { SignInIdentity } from '../../ports/sign-in-identity';
import type { WecomClient } from './wecom.client';

export class WecomSignIn implements SignInIdentity {
  constructor(private readonly client: Pick<WecomClient, 'buildOAuthUrl' | 'buildPcLoginUrl' | 'getUserIdByCode'>) {}

  loginUrl({ redirectUri, state, inApp }: { redirectUri: string; state: string; inApp: boolean }): string {
    return inApp ? this.client.buildOAuthUrl({ redirectUri, state }) : this.client.buildPcLoginUrl({ redirectUri, state });
  }

  async userIdFromCallback(query: Record<string, string | undefined>): Promise<string> {
    return (await this.client.getUserIdByCode(query.code ?? '')).userId;
  }
}
