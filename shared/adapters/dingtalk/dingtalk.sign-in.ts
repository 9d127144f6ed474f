/**
 * DingTalk as a SignInIdentity (reference dingtalk.md §5): the OAuth page (QR on a PC,
 * silent inside DingTalk) returns `authCode`; the workbench's JSAPI gives a code for
 * topapi/v2/user/getuserinfo.
 */
import type { SignInIdentity } from '../../ports/sign-in-identity';
import type { DingtalkClient } from './dingtalk.client';

export class DingtalkSignIn implements SignInIdentity {
  constructor(private readonly client: Pick<DingtalkClient, 'buildLoginUrl' | 'getUserIdByOAuthCode' | 'getUserIdByAuthCode'>) {}

  loginUrl(input: { redirectUri: string; state: string }): string {
    return this.client.buildLoginUrl({ redirectUri: input.redirectUri, state: input.state });
  }

  async userIdFromCallback(query: Record<string, string | undefined>): Promise<string> {
    return (await this.client.getUserIdByOAuthCode(query.authCode ?? query.code ?? '')).userId;
  }

  async userIdFromJsapiCode(code: string): Promise<string> {
    return (await this.client.getUserIdByAuthCode(code)).userId;
  }
}
