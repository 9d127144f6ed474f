/**
 * WeCom callbacks (wecom.md §1, §3) over the shared accept flow.
 *
 * - `GET /callbacks/wecom/{tenant}?msg_signature&timestamp&nonce&echostr`: URL verification.
 *   Verified, decrypted, and the bare plaintext is the whole response body (no quotes, BOM or
 *   newline) within 1 s.
 * - `POST` with `<xml><ToUserName/><AgentID/><Encrypt/></xml>`: change_contact events.
 *   Answered HTTP 200 with an empty body: WeCom treats only 200 as success and does not retry
 *   a 200 with an empty body (wecom.md §1, 96466); no passive reply is needed for contact
 *   events.
 */
import { decryptMessage, parseWecomEvent } from '../../adapters/wecom/wecom-events';
import { BadCallbackRequestError, isCallbackError } from '../../crypto/callback-crypto-common';
import { verifyUrl } from '../../crypto/wecom-callback-crypto';
import { safeEventType } from '../../contracts/contact-event';
import { acceptCallback, type AcceptCallbackDeps, type CallbackHttpRequest, type CallbackReply, type ReplyBody, type VendorStep, type VerifiedCallback } from './accept-callback';

const EMPTY_OK: ReplyBody = { contentType: 'text/plain; charset=utf-8', body: '' };

/**
 * Verifies, decrypts and classifies one WeCom request for the tenant's corp (receiveid =
 * corpId). The signed timestamp window applies to the URL verification too: WeCom sends it
 * the moment the admin saves the URL.
 */
export const wecomStep: VendorStep = (input): VerifiedCallback => {
  const corp = input.tenant.wecom;
  if (!corp) throw new Error('wecomStep called for a tenant without WeCom');
  const credentials = { token: input.token, aesKey: input.aesKey, corpId: corp.corpId };

  if (input.method === 'GET') {
    const plaintext = verifyUrl({
      ...credentials,
      msg_signature: input.query.msg_signature,
      timestamp: input.query.timestamp,
      nonce: input.query.nonce,
      echostr: input.query.echostr,
      now: input.now,
      windowSeconds: input.windowSeconds,
    });
    return { kind: 'answer', outcome: 'url_verified', eventType: 'verify_url', reply: () => ({ contentType: 'text/plain; charset=utf-8', body: plaintext }) };
  }
  if (input.method !== 'POST') throw new BadCallbackRequestError('WeCom callbacks are GET (URL verification) or POST requests');

  const message = decryptMessage({ ...credentials, query: input.query, body: input.body, now: input.now, windowSeconds: input.windowSeconds });
  const ack = (): ReplyBody => EMPTY_OK;
  let parsed;
  try {
    parsed = parseWecomEvent(message);
  } catch (err) {
    if (isCallbackError(err, 'CALLBACK.BAD_PAYLOAD')) {
      return { kind: 'unusable', eventType: safeEventType(`change_contact/${message.fields.get('ChangeType') ?? 'none'}`), error: err, ack };
    }
    throw err;
  }
  return parsed.type === 'contact' ? { kind: 'contact', event: parsed.event, ack } : { kind: 'ignored', eventType: parsed.eventType, ack };
};

/** Accepts one WeCom callback request (GET verification or POST event); see {@link acceptCallback}. */
export function acceptWecomCallback(deps: AcceptCallbackDeps, req: CallbackHttpRequest): Promise<CallbackReply> {
  return acceptCallback(deps, 'wecom', wecomStep, req);
}
