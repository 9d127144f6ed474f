/**
 * The DingTalk CallbackVerifier: HTTP push callbacks (dingtalk.md §1, §3), for the shared
 * accept flow (shared/use-cases/callbacks/accept-callback.ts).
 *
 * `POST /callbacks/dingtalk/{tenant}?signature|msg_signature=…&timestamp|timeStamp=…&nonce=…`
 * with `{"encrypt":"…"}`. Every accepted push, check_url included, is answered with HTTP 200
 * and the JSON `{msg_signature, timeStamp, nonce, encrypt}` of an encrypted "success" (anything
 * else counts as a failed push, error 71009), within 1500 ms, so the work here is only crypto,
 * one dedup lease and one queue send.
 */
import { parseDingtalkEvent } from './dingtalk-events';
import { BadCallbackRequestError, isCallbackError } from '../../crypto/callback-crypto-common';
import { encryptReply, verifyAndDecrypt } from '../../crypto/dingtalk-callback-crypto';
import type { CallbackVerifier, CallbackVerifyInput, ReplyBody, VerifiedCallback } from '../../ports/callback-verifier';

/**
 * Verifies, decrypts and classifies one DingTalk push for the tenant's app.
 *
 * The receiver id is the app's appKey (new-console event subscription), with the corpId
 * accepted as a fallback (legacy register_call_back; dingtalk.md §1, open question 2). The
 * reply is encrypted for whichever of the two the push was addressed to, so DingTalk can
 * decrypt it. A payload naming another CorpId is refused (CALLBACK.WRONG_RECEIVER).
 */
function verifyDingtalk(input: CallbackVerifyInput): VerifiedCallback {
  const app = input.tenant.dingtalk;
  // acceptCallback only calls the verifier for tenants with a dingtalk section.
  if (!app) throw new Error('the DingTalk verifier was called for a tenant without DingTalk');
  if (input.method !== 'POST') throw new BadCallbackRequestError('DingTalk callbacks are POST requests');
  const verified = verifyAndDecrypt({
    token: input.token,
    aesKey: input.aesKey,
    appKey: app.appKey,
    corpId: app.corpId,
    query: input.query,
    body: input.body,
    now: input.now,
    windowSeconds: input.windowSeconds,
  });
  const receiveId = verified.receiver === 'appKey' ? app.appKey : app.corpId;
  // Built only when sent; a fresh nonce per reply, as the reference code does ([CC]).
  const ack = (): ReplyBody => ({
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(encryptReply({ token: input.token, aesKey: input.aesKey, receiveId, now: input.now })),
  });

  let parsed;
  try {
    parsed = parseDingtalkEvent(verified.payload, { corpId: app.corpId });
  } catch (err) {
    if (isCallbackError(err, 'CALLBACK.BAD_PAYLOAD')) return { kind: 'unusable', eventType: eventTypeOf(verified.payload), error: err, ack };
    throw err;
  }
  switch (parsed.type) {
    case 'check_url':
      return { kind: 'answer', outcome: 'check_url', eventType: parsed.eventType, reply: ack };
    case 'ignored':
      return { kind: 'ignored', eventType: parsed.eventType, ack };
    case 'contact':
      return { kind: 'contact', event: parsed.event, ack };
  }
}

/** A loggable name for an unusable payload's event type (short identifier or "unknown"). */
function eventTypeOf(payload: Record<string, unknown>): string {
  for (const [k, v] of Object.entries(payload)) {
    if (k.toLowerCase() === 'eventtype' && typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v)) return v;
  }
  return 'unknown';
}

/** Verifies DingTalk callbacks; see {@link verifyDingtalk}. */
export class DingtalkCallbackVerifier implements CallbackVerifier {
  readonly vendor = 'dingtalk' as const;
  verify(input: CallbackVerifyInput): VerifiedCallback {
    return verifyDingtalk(input);
  }
}
