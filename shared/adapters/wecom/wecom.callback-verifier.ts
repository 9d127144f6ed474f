/**
 * The WeCom CallbackVerifier (wecom.md §1, §3), for the shared accept flow
 * (shared/use-cases/callbacks/accept-callback.ts).
 *
 * - `GET /callbacks/wecom/{tenant}?msg_signature&timestamp&nonce&echostr`: URL verification.
 *   Verified, decrypted, and the bare plaintext is the whole response body (no quotes, BOM or
 *   newline) within 1 s.
 * - `POST` with `<xml><ToUserName/><AgentID/><Encrypt/></xml>`: change_contact events.
 *   Answered HTTP 200 with an empty body: WeCom treats only 200 as success and does not retry
 *   a 200 with an empty body (wecom.md §1, 96466); no passive reply is needed for contact
 *   events.
 */
import { decryptMessage, parseWecomEvent } from './wecom-events';
import { BadCallbackRequestError, isCallbackError } from '../../crypto/callback-crypto-common';
import { verifyUrl } from '../../crypto/wecom-callback-crypto';
import { safeEventType } from '../../contracts/contact-event';
import type { CallbackVerifier, CallbackVerifyInput, ReplyBody, VerifiedCallback } from '../../ports/callback-verifier';

const EMPTY_OK: ReplyBody = { contentType: 'text/plain; charset=utf-8', body: '' };

/**
 * Verifies, decrypts and classifies one WeCom request for the tenant's corp (receiveid =
 * corpId). The signed timestamp window applies to the URL verification too: WeCom sends it
 * the moment the admin saves the URL.
 */
function verifyWecom(input: CallbackVerifyInput): VerifiedCallback {
  const corp = input.tenant.wecom;
  if (!corp) throw new Error('the WeCom verifier was called for a tenant without WeCom');
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
}

/** Verifies WeCom callbacks; see {@link verifyWecom}. */
export class WecomCallbackVerifier implements CallbackVerifier {
  readonly vendor = 'wecom' as const;
  verify(input: CallbackVerifyInput): VerifiedCallback {
    return verifyWecom(input);
  }
}
