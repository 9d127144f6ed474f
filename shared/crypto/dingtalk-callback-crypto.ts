/**
 * DingTalk HTTP push callbacks (DingCallbackCrypto, dingtalk.md §1): verify, decrypt, reply.
 *
 * Request: `POST <url>?signature=…&timestamp=…&nonce=…` with body `{"encrypt":"…"}`.
 * Reply:   HTTP 200 `{"msg_signature","timeStamp","nonce","encrypt"}`, encrypt = Enc("success")
 *          (note the casing: snake msg_signature, camel timeStamp).
 *
 * The crypto itself is shared with WeCom (callback-crypto-common.ts).
 */
import { z } from 'zod';
import { BadCallbackRequestError, CallbackError, MAX_CALLBACK_BYTES, WrongReceiverError, checkSize, encrypt, openSigned, parseTimestamp, pickParam, randomNonce, requireSignedParams, signature, toKey } from './callback-crypto-common';

export interface DingtalkVerifyInput {
  /** The app's callback token (事件订阅 Token). */
  token: string;
  /** The 43-character aes_key, or the decoded 32-byte key. */
  aesKey: string | Buffer;
  /** Receiver id of the new-console event subscription (企业自建应用-事件订阅 → appKey). */
  appKey: string;
  /**
   * Accepted as a fallback receiver: legacy `register_call_back` subscriptions encrypt for the
   * corpId, and which one live pushes use is an open question (dingtalk.md §1, open question 2).
   */
  corpId?: string;
  /** Decoded query parameters (see parseRawQuery). */
  query: Readonly<Record<string, string | undefined>>;
  /** The raw body string, or the already-parsed JSON object. */
  body: unknown;
  /** Current time, ms since the epoch. */
  now: number;
  /** Accepted clock difference in seconds (default 300). */
  windowSeconds?: number;
}

export interface DingtalkVerified {
  /** The decrypted JSON object. Never log it (it is the decrypted callback body). */
  payload: Record<string, unknown>;
  /** Which configured id the ciphertext was addressed to. */
  receiver: 'appKey' | 'corpId';
  /** The signed timestamp, in ms since the epoch. */
  timestampMs: number;
}

const bodySchema = z.object({ encrypt: z.string().min(1) });

/**
 * Verifies and decrypts one DingTalk push.
 *
 * Accepts both parameter spellings: `msg_signature` (preferred) or `signature`, `timeStamp`
 * (preferred) or `timestamp` — the [CC] README reads them in that order (dingtalk.md §1).
 * Timestamps are ms; a value under 1e12 is read as seconds ("may be in ms or s"). The
 * signature is always computed over the literal string received.
 *
 * @returns the decrypted JSON object and which receiver id matched.
 * @throws CallbackError with code BAD_REQUEST, TOO_LARGE, BAD_SIGNATURE, STALE_TIMESTAMP,
 *         BAD_CIPHERTEXT, WRONG_RECEIVER or BAD_PAYLOAD (decrypted text is not a JSON object).
 */
export function verifyAndDecrypt(input: DingtalkVerifyInput): DingtalkVerified {
  const key = toKey(input.aesKey); // config problems surface first, whatever the request
  const signed = requireSignedParams(pickParam(input.query, 'msg_signature', 'signature'), pickParam(input.query, 'timeStamp', 'timestamp'), pickParam(input.query, 'nonce'), 'signature');
  const timestampMs = parseTimestamp(signed.timestamp, 'auto');
  const ciphertext = readEncrypt(input.body);
  const { message, receiveId } = openSigned({ ...signed, token: input.token, key, timestampMs, ciphertext, now: input.now, windowSeconds: input.windowSeconds });
  let receiver: DingtalkVerified['receiver'];
  if (receiveId === input.appKey) receiver = 'appKey';
  else if (input.corpId !== undefined && input.corpId !== '' && receiveId === input.corpId) receiver = 'corpId';
  else throw new WrongReceiverError();

  return { payload: parseJsonObject(message), receiver, timestampMs };
}

function readEncrypt(body: unknown): string {
  let value: unknown = body;
  if (typeof body === 'string') {
    checkSize(body, MAX_CALLBACK_BYTES, 'callback body');
    try {
      value = JSON.parse(body);
    } catch (cause) {
      throw new BadCallbackRequestError('callback body is not JSON', { cause });
    }
  } else if (Buffer.isBuffer(body)) {
    return readEncrypt(body.toString('utf8'));
  }
  const parsed = bodySchema.safeParse(value);
  if (!parsed.success) throw new BadCallbackRequestError('callback body must be a JSON object with a string "encrypt"');
  checkSize(parsed.data.encrypt, MAX_CALLBACK_BYTES, 'encrypt');
  return parsed.data.encrypt;
}

function parseJsonObject(message: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch (cause) {
    throw new CallbackError('CALLBACK.BAD_PAYLOAD', 'decrypted payload is not JSON', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CallbackError('CALLBACK.BAD_PAYLOAD', 'decrypted payload is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The JSON DingTalk expects back (exact key casing, dingtalk.md §1). */
export interface DingtalkReply {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

export interface DingtalkReplyInput {
  token: string;
  aesKey: string | Buffer;
  /** The receiver id the push was addressed to (echo `receiver` from verifyAndDecrypt). */
  receiveId: string;
  /** Defaults to "success": anything else fails with 71009 (dingtalk.md §1). */
  plaintext?: string;
  /** Reply timestamp, ms since the epoch ([CC] generates a fresh one). */
  now: number;
  /** Defaults to a fresh random alphanumeric nonce. */
  nonce?: string;
  /** Fixed random prefix, for known-answer tests only. */
  random16?: Buffer | string;
}

/** Encrypts and signs the reply to a push (by default the mandatory "success"). */
export function encryptReply(input: DingtalkReplyInput): DingtalkReply {
  const timeStamp = String(Math.trunc(input.now));
  const nonce = input.nonce ?? randomNonce(16);
  const enc = encrypt(input.plaintext ?? 'success', input.receiveId, input.aesKey, input.random16);
  return { msg_signature: signature(input.token, timeStamp, nonce, enc), timeStamp, nonce, encrypt: enc };
}
