/**
 * WeCom callbacks (WXBizMsgCrypt, wecom.md §1): URL verification, message verification and
 * decryption, passive replies. The crypto is shared with DingTalk (callback-crypto-common.ts);
 * the XML envelope is read in shared/adapters/wecom/wecom-events.ts.
 *
 * - GET  `?msg_signature&timestamp&nonce&echostr`: verify over echostr, decrypt, answer the
 *   bare plaintext within 1 s (no quotes, BOM or newline).
 * - POST `?msg_signature&timestamp&nonce`, XML body whose `<Encrypt>` is signed and decrypted.
 * - receiveid must be the corpId (enterprise apps and the 通讯录同步 assistant).
 * - Timestamps are seconds.
 */
import { BadCallbackRequestError, MAX_CALLBACK_BYTES, WrongReceiverError, checkSize, encrypt, openSigned, parseRawQuery, parseTimestamp, randomNonce, requireSignedParams, signature, toKey } from './callback-crypto-common';

export { parseRawQuery };

export interface WecomCredentials {
  /** The callback Token. */
  token: string;
  /** The 43-character EncodingAESKey, or the decoded 32-byte key. */
  aesKey: string | Buffer;
  /** The corp id: the receiveid every ciphertext must end with. */
  corpId: string;
}

export interface WecomVerifyUrlInput extends WecomCredentials {
  msg_signature: string | undefined;
  timestamp: string | undefined;
  nonce: string | undefined;
  /**
   * The echostr, properly URL-decoded: `%2B` → `+`, and a literal `+` kept as `+` (never a
   * space). Use parseRawQuery on the raw query string, not URLSearchParams (wecom.md §1 pitfall).
   */
  echostr: string | undefined;
  /**
   * Current time in ms. When given, the timestamp window is enforced as for messages; WeCom
   * sends the verification as the admin saves the URL, so the timestamp is fresh.
   */
  now?: number;
  windowSeconds?: number;
}

/**
 * URL verification (GET). Returns the bare plaintext to send back as the whole response body.
 * @throws CallbackError BAD_REQUEST, TOO_LARGE, BAD_SIGNATURE, STALE_TIMESTAMP,
 *         BAD_CIPHERTEXT or WRONG_RECEIVER.
 */
export function verifyUrl(input: WecomVerifyUrlInput): string {
  const key = toKey(input.aesKey); // config problems surface first, whatever the request
  const signed = requireSignedParams(input.msg_signature, input.timestamp, input.nonce);
  if (!input.echostr) throw new BadCallbackRequestError('missing echostr parameter');
  return openForCorp(input, key, signed, input.echostr, 'echostr', input.now);
}

export interface WecomDecryptInput extends WecomCredentials {
  /** Query parameters: msg_signature, timestamp, nonce. */
  query: Readonly<Record<string, string | undefined>>;
  /** The `<Encrypt>` value from the POST body. */
  encrypt: string;
  /** Current time, ms since the epoch. */
  now: number;
  windowSeconds?: number;
}

/**
 * Verifies the signature over `Encrypt`, the timestamp window (seconds), decrypts and checks
 * receiveid = corpId. Returns the inner XML text (never log it).
 * @throws CallbackError BAD_REQUEST, TOO_LARGE, BAD_SIGNATURE, STALE_TIMESTAMP,
 *         BAD_CIPHERTEXT or WRONG_RECEIVER.
 */
export function verifyAndDecrypt(input: WecomDecryptInput): string {
  const key = toKey(input.aesKey);
  const signed = requireSignedParams(input.query.msg_signature, input.query.timestamp, input.query.nonce);
  if (!input.encrypt) throw new BadCallbackRequestError('missing Encrypt');
  return openForCorp(input, key, signed, input.encrypt, 'Encrypt', input.now);
}

/** The rest of both checks: size, signature, window (seconds), decryption, receiveid = corpId. */
function openForCorp(
  input: WecomCredentials & { windowSeconds?: number },
  key: Buffer,
  signed: { sig: string; timestamp: string; nonce: string },
  ciphertext: string,
  what: string,
  now: number | undefined,
): string {
  checkSize(ciphertext, MAX_CALLBACK_BYTES, what);
  const timestampMs = parseTimestamp(signed.timestamp, 's');
  const { message, receiveId } = openSigned({ ...signed, token: input.token, key, timestampMs, ciphertext, now, windowSeconds: input.windowSeconds });
  if (receiveId !== input.corpId) throw new WrongReceiverError();
  return message;
}

export interface WecomReply {
  Encrypt: string;
  MsgSignature: string;
  TimeStamp: string;
  Nonce: string;
  /** The reply as WeCom expects it in the HTTP body. */
  xml: string;
}

/**
 * A passive (encrypted) reply, signed over [token, TimeStamp, Nonce, Encrypt] (wecom.md §1).
 * Contact callbacks need none (HTTP 200 with an empty body is not retried); this exists for
 * message callbacks and for tests against @wecom/crypto.
 */
export function encryptReply(
  input: WecomCredentials & { plaintext: string; timestamp: string; nonce?: string; random16?: Buffer | string },
): WecomReply {
  const nonce = input.nonce ?? randomNonce(10);
  // Both go into the XML unescaped: digits only for the timestamp, alphanumerics for the nonce.
  if (!/^[A-Za-z0-9]{1,64}$/.test(nonce)) throw new TypeError('reply nonce must be 1-64 alphanumerics');
  parseTimestamp(input.timestamp, 's');
  const Encrypt = encrypt(input.plaintext, input.corpId, input.aesKey, input.random16);
  const MsgSignature = signature(input.token, input.timestamp, nonce, Encrypt);
  // Base64, hex and an alphanumeric nonce never contain "]]>", so plain CDATA wrapping is safe.
  const xml =
    `<xml><Encrypt><![CDATA[${Encrypt}]]></Encrypt><MsgSignature><![CDATA[${MsgSignature}]]></MsgSignature>` +
    `<TimeStamp>${input.timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`;
  return { Encrypt, MsgSignature, TimeStamp: input.timestamp, Nonce: nonce, xml };
}
