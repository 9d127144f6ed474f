/**
 * The callback crypto DingTalk and WeCom share (WXBizMsgCrypt style), written once.
 *
 * - Key: base64decode(aesKey43 + "=") = 32 bytes, AES-256-CBC, IV = key[0..16]
 *   (dingtalk.md §1, wecom.md §1).
 * - Plaintext: random(16) ‖ msg_len (uint32 big-endian, UTF-8 byte length) ‖ msg ‖ receiveId,
 *   PKCS#7-padded to a **32-byte** block by hand (the cipher runs with auto padding off: the
 *   vendors' pad values go up to 32, which OpenSSL's 16-byte PKCS#7 check rejects).
 * - Signature: lowercase hex SHA1 of [token, timestamp, nonce, encrypt] sorted as plain
 *   strings and concatenated. The same function signs replies.
 *
 * Every failure is a {@link CallbackError} with a stable `CALLBACK.*` code. Messages are terse
 * and never contain the plaintext, the key, the token or the expected signature (echoing the
 * expected signature would turn an error response into a signing oracle).
 *
 * Order of checks for an incoming callback (see the vendor modules): parameters → size →
 * signature → timestamp window → decrypt → receiver. The signature is checked before any
 * decryption, so the padding checks below are not reachable by an unauthenticated caller
 * (no padding oracle) and need not be constant-time.
 */
import { createCipheriv, createDecipheriv, createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { AppError, type AppErrorOptions } from '../errors/app-error';

// ---------------------------------------------------------------------------------------------
// Errors

export const CALLBACK_ERROR_CODES = [
  'CALLBACK.BAD_REQUEST',
  'CALLBACK.TOO_LARGE',
  'CALLBACK.BAD_SIGNATURE',
  'CALLBACK.STALE_TIMESTAMP',
  'CALLBACK.BAD_CIPHERTEXT',
  'CALLBACK.WRONG_RECEIVER',
  'CALLBACK.BAD_XML',
  'CALLBACK.UNSAFE_XML',
  'CALLBACK.BAD_PAYLOAD',
  'CALLBACK.BAD_AES_KEY',
] as const;
export type CallbackErrorCode = (typeof CALLBACK_ERROR_CODES)[number];

/** HTTP status per code. Caller mistakes are 4xx; a bad configured key is our fault (500). */
const STATUS: Record<CallbackErrorCode, number> = {
  'CALLBACK.BAD_REQUEST': 400,
  'CALLBACK.TOO_LARGE': 413,
  'CALLBACK.BAD_SIGNATURE': 401,
  'CALLBACK.STALE_TIMESTAMP': 401,
  'CALLBACK.BAD_CIPHERTEXT': 400,
  'CALLBACK.WRONG_RECEIVER': 401,
  'CALLBACK.BAD_XML': 400,
  'CALLBACK.UNSAFE_XML': 400,
  'CALLBACK.BAD_PAYLOAD': 400,
  'CALLBACK.BAD_AES_KEY': 500,
};

/**
 * A callback that must be refused (or a callback key that cannot be used). Never retryable:
 * the same bytes fail the same way. Messages are safe to show (no request data in them).
 */
export class CallbackError extends AppError {
  declare readonly code: CallbackErrorCode;
  constructor(code: CallbackErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code], retryable: false, ...options });
  }
}

/**
 * The class of one CALLBACK.* error: its code, the message it carries when the thrower gives
 * none, and option defaults. Each error below is its own class (callers and tests tell them
 * apart with instanceof, and `name` is the subclass's name).
 */
function callbackErrorClass(code: CallbackErrorCode, defaultMessage: string, defaults: AppErrorOptions = {}) {
  return class extends CallbackError {
    constructor(message = defaultMessage, options?: AppErrorOptions) {
      super(code, message, { ...defaults, ...options });
    }
  };
}

/** Missing, duplicated or malformed parameters or body (before any crypto). */
export class BadCallbackRequestError extends callbackErrorClass('CALLBACK.BAD_REQUEST', 'callback request is malformed') {}
/** Body or parameter over the size limit. */
export class CallbackTooLargeError extends callbackErrorClass('CALLBACK.TOO_LARGE', 'callback is too large') {}
/** The signature does not match the token, timestamp, nonce and ciphertext. */
export class BadSignatureError extends callbackErrorClass('CALLBACK.BAD_SIGNATURE', 'callback signature does not match') {}
/** The (signed) timestamp is outside the accepted window: a replay or a badly skewed clock. */
export class StaleTimestampError extends callbackErrorClass('CALLBACK.STALE_TIMESTAMP', 'callback timestamp is outside the accepted window') {}
/** Not valid base64, wrong length, bad padding, impossible length field or not UTF-8. */
export class BadCiphertextError extends callbackErrorClass('CALLBACK.BAD_CIPHERTEXT', 'callback ciphertext is malformed') {}
/** Decrypted fine but addressed to another receiver (corp, app): another tenant's callback. */
export class WrongReceiverError extends callbackErrorClass('CALLBACK.WRONG_RECEIVER', 'callback is addressed to another receiver') {}
/** The configured aesKey cannot be a callback key (43 base64 characters). Not shown to callers: it is our configuration. */
export class BadAesKeyError extends callbackErrorClass('CALLBACK.BAD_AES_KEY', 'the configured callback aesKey is not usable', { expose: false }) {}

export function isCallbackError(err: unknown, code?: CallbackErrorCode): err is CallbackError {
  return err instanceof CallbackError && (code === undefined || err.code === code);
}

// ---------------------------------------------------------------------------------------------
// Limits

/**
 * Largest callback body we accept. Contact events are a few hundred bytes; 64 KiB leaves room
 * for a DingTalk batch of user ids while bounding the work an unauthenticated caller can cause.
 */
export const MAX_CALLBACK_BYTES = 64 * 1024;
/** Largest base64 ciphertext: the whole body limit (the ciphertext is most of the body). */
export const MAX_CIPHERTEXT_B64_CHARS = MAX_CALLBACK_BYTES;
/** The vendors pad to 32-byte blocks (dingtalk.md §1, wecom.md §1). */
export const PAD_BLOCK = 32;
/** Default accepted clock difference between the vendor's timestamp and ours. */
export const DEFAULT_WINDOW_SECONDS = 300;

const RANDOM_LEN = 16;
const LEN_FIELD = 4;
const HEADER = RANDOM_LEN + LEN_FIELD;
/** Smallest ciphertext: 20 header bytes + at least 1 pad byte rounds up to two AES blocks. */
const MIN_CIPHERTEXT_BYTES = 32;

// ---------------------------------------------------------------------------------------------
// Key

const AES_KEY_43 = /^[A-Za-z0-9+/]{43}$/;

/**
 * Decodes a 43-character EncodingAESKey / aes_key into the 32-byte AES-256 key.
 *
 * The last character carries only 2 significant bits; real keys (e.g. dingtalk.md V1, ending
 * in `7`) have the unused bits set, so non-canonical endings must be accepted, as every
 * official implementation does.
 *
 * @throws BadAesKeyError (CALLBACK.BAD_AES_KEY) on a wrong length or character set. The
 *         message names the problem, never the key.
 */
export function decodeAesKey(aesKey: string): Buffer {
  if (typeof aesKey !== 'string') throw new BadAesKeyError('aesKey must be a string of 43 base64 characters');
  if (aesKey.length !== 43) {
    throw new BadAesKeyError(`aesKey must be exactly 43 base64 characters (got ${aesKey.length})`);
  }
  if (!AES_KEY_43.test(aesKey)) {
    throw new BadAesKeyError('aesKey contains characters outside the base64 alphabet [A-Za-z0-9+/]');
  }
  const key = Buffer.from(aesKey + '=', 'base64');
  // Cannot happen after the checks above; kept as a guard against a Buffer behaviour change.
  if (key.length !== 32) throw new BadAesKeyError('aesKey does not decode to 32 bytes');
  return key;
}

/** Accepts an aesKey string or an already-decoded 32-byte key. */
export function toKey(key: string | Buffer): Buffer {
  if (typeof key === 'string') return decodeAesKey(key);
  if (!Buffer.isBuffer(key) || key.length !== 32) throw new BadAesKeyError('AES key must be 32 bytes');
  return key;
}

// ---------------------------------------------------------------------------------------------
// Encrypt / decrypt

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random alphanumeric string (the official DingTalk code uses alphanumerics for the random
 * prefix and nonces, and some ports decode the whole plaintext as text, so we stay ASCII).
 */
export function randomAlnum(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/**
 * Encrypts `plaintext` for `receiveId`: random16 ‖ len ‖ msg ‖ receiveId, 32-byte PKCS#7,
 * AES-256-CBC, base64. `random16` makes the output deterministic (known-answer tests).
 */
export function encrypt(plaintext: string | Buffer, receiveId: string, key: string | Buffer, random16?: Buffer | string): string {
  const k = toKey(key);
  const random = random16 === undefined ? Buffer.from(randomAlnum(RANDOM_LEN), 'latin1') : Buffer.from(random16 as Buffer);
  if (random.length !== RANDOM_LEN) throw new TypeError('random16 must be exactly 16 bytes');
  const msg = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const len = Buffer.alloc(LEN_FIELD);
  len.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = PAD_BLOCK - (body.length % PAD_BLOCK); // 1..32, a full block when already aligned
  const padded = Buffer.concat([body, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', k, k.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

export interface Decrypted {
  /** The message (UTF-8). Never log it: it is the decrypted callback body. */
  message: string;
  /** The trailing receiver id (corpId / appKey / suiteKey). */
  receiveId: string;
}

/** Standard base64, canonical length (multiple of 4), padding only at the end. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decrypts and unframes a callback ciphertext. Does NOT check the signature or the receiver:
 * callers verify the signature first and compare `receiveId` after.
 *
 * @throws BadCiphertextError (CALLBACK.BAD_CIPHERTEXT): not strict base64; not a multiple of 16
 *         bytes or under 32; pad value outside 1..32 or pad bytes unequal; msg_len larger than
 *         what follows the header; message or receiver not valid UTF-8.
 * @throws CallbackTooLargeError over {@link MAX_CIPHERTEXT_B64_CHARS}.
 */
export function decrypt(ciphertextB64: string, key: string | Buffer): Decrypted {
  const k = toKey(key);
  if (typeof ciphertextB64 !== 'string' || ciphertextB64.length === 0) throw new BadCiphertextError('ciphertext is empty');
  if (ciphertextB64.length > MAX_CIPHERTEXT_B64_CHARS) throw new CallbackTooLargeError('ciphertext is too large');
  // Buffer.from(..., 'base64') silently skips junk characters; a strict check first.
  if (!BASE64.test(ciphertextB64)) throw new BadCiphertextError('ciphertext is not valid base64');
  const data = Buffer.from(ciphertextB64, 'base64');
  if (data.length < MIN_CIPHERTEXT_BYTES || data.length % 16 !== 0) {
    throw new BadCiphertextError('ciphertext length is not a positive multiple of the AES block size');
  }
  const decipher = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);

  // Manual PKCS#7 over a 32-byte block: pad value 1..32 and every pad byte equal to it.
  // Go/Rust ports pad to 16 (dingtalk.md §1); their values 1..16 are a subset, so accepted.
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > PAD_BLOCK) throw new BadCiphertextError('ciphertext padding is invalid');
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw new BadCiphertextError('ciphertext padding is invalid');
  }
  const content = plain.subarray(0, plain.length - pad);
  if (content.length < HEADER) throw new BadCiphertextError('decrypted data is shorter than its header');
  const msgLen = content.readUInt32BE(RANDOM_LEN);
  if (msgLen > content.length - HEADER) throw new BadCiphertextError('decrypted length field is out of bounds');
  try {
    return {
      message: utf8.decode(content.subarray(HEADER, HEADER + msgLen)),
      receiveId: utf8.decode(content.subarray(HEADER + msgLen)),
    };
  } catch (cause) {
    throw new BadCiphertextError('decrypted data is not valid UTF-8', { cause });
  }
}

// ---------------------------------------------------------------------------------------------
// Signature

/** Lowercase hex SHA1 of the four strings sorted (plain code-unit sort) and concatenated. */
export function signature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join(''), 'utf8').digest('hex');
}

const SHA1_HEX = /^[0-9a-fA-F]{40}$/;

/**
 * Constant-time comparison of a received signature with the expected one. Hex case is ignored
 * (vendors send lowercase; case carries no information).
 */
export function verifySignature(received: string | undefined, token: string, timestamp: string, nonce: string, encrypt: string): boolean {
  if (typeof received !== 'string' || !SHA1_HEX.test(received)) return false;
  const expected = Buffer.from(signature(token, timestamp, nonce, encrypt), 'hex');
  return timingSafeEqual(expected, Buffer.from(received, 'hex'));
}

/** {@link verifySignature}, throwing BadSignatureError (CALLBACK.BAD_SIGNATURE) on mismatch. */
export function assertSignature(received: string | undefined, token: string, timestamp: string, nonce: string, encrypt: string): void {
  if (!verifySignature(received, token, timestamp, nonce, encrypt)) throw new BadSignatureError();
}

// ---------------------------------------------------------------------------------------------
// Timestamps and parameters

const DIGITS = /^\d{1,16}$/;

/**
 * Parses a signed timestamp string into ms since the epoch.
 * `unit` 'ms' or 's' is the vendor's documented unit; 'auto' treats values below 1e12
 * (i.e. before 2001 in ms, after 33658 AD in s) as seconds (dingtalk.md §1: "may be ms or s").
 */
export function parseTimestamp(value: string, unit: 'ms' | 's' | 'auto'): number {
  if (!DIGITS.test(value)) throw new BadCallbackRequestError('timestamp must be a decimal integer');
  const n = Number(value);
  if (unit === 's' || (unit === 'auto' && n < 1e12)) return n * 1000;
  return n;
}

/**
 * Refuses timestamps more than `windowSeconds` away from `nowMs`, in either direction.
 * @throws StaleTimestampError (CALLBACK.STALE_TIMESTAMP)
 */
export function checkTimestamp(timestampMs: number, nowMs: number, windowSeconds: number = DEFAULT_WINDOW_SECONDS): void {
  if (!(windowSeconds > 0)) throw new TypeError('windowSeconds must be positive');
  if (!Number.isFinite(timestampMs) || Math.abs(nowMs - timestampMs) > windowSeconds * 1000) throw new StaleTimestampError();
}

const NONCE = /^[\x21-\x7e]{1,128}$/;

/** Nonces are short printable ASCII strings (digits for WeCom, alphanumerics for DingTalk). */
export function checkNonce(nonce: string): void {
  if (!NONCE.test(nonce)) throw new BadCallbackRequestError('nonce must be 1-128 printable ASCII characters');
}

/** The three signed parameters, each required (BAD_REQUEST names the one missing); the nonce checked. */
export function requireSignedParams(sig: string | undefined, timestamp: string | undefined, nonce: string | undefined, sigName = 'msg_signature'): { sig: string; timestamp: string; nonce: string } {
  if (!sig) throw new BadCallbackRequestError(`missing ${sigName} parameter`);
  if (!timestamp) throw new BadCallbackRequestError('missing timestamp parameter');
  if (!nonce) throw new BadCallbackRequestError('missing nonce parameter');
  checkNonce(nonce);
  return { sig, timestamp, nonce };
}

/**
 * What every signed callback passes once its parameters and ciphertext are read, cheapest
 * refusal first: the signature over the ciphertext, the timestamp window (when `now` is
 * given), then decryption. The caller checks the receiver id: which ids are accepted is the
 * vendor's rule.
 */
export function openSigned(input: { token: string; key: Buffer; sig: string; timestamp: string; nonce: string; timestampMs: number; ciphertext: string; now?: number; windowSeconds?: number }): Decrypted {
  assertSignature(input.sig, input.token, input.timestamp, input.nonce, input.ciphertext);
  if (input.now !== undefined) checkTimestamp(input.timestampMs, input.now, input.windowSeconds ?? DEFAULT_WINDOW_SECONDS);
  return decrypt(input.ciphertext, input.key);
}

/** Largest raw query string we parse (an echostr is ~100 characters). */
export const MAX_QUERY_CHARS = 8 * 1024;

/**
 * Parses a raw query string (`a=1&b=2`, without the leading `?`) the RFC 3986 way:
 * `%XX` sequences are decoded (`%2B` → `+`) and a literal `+` STAYS a `+`.
 *
 * Why not URLSearchParams / querystring: they apply form encoding and turn `+` into a space
 * (wecom.md §1 pitfall). WeCom sends `%2B`, so both work for well-formed requests, but a
 * signature and a base64 echostr/encrypt never contain a space while base64 does contain `+`:
 * keeping `+` is right whenever a gateway or client left it unencoded, and turning it into a
 * space can only break verification. Handlers should pass the gateway's raw query string
 * (API Gateway v2 `rawQueryString`) here rather than pre-decoded parameters.
 *
 * Duplicate names are refused (parameter pollution: which `msg_signature` would we check?).
 * @throws BadCallbackRequestError on bad `%` escapes, duplicates or an oversized query.
 */
export function parseRawQuery(rawQuery: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let raw = rawQuery ?? '';
  if (raw.startsWith('?')) raw = raw.slice(1);
  if (raw.length > MAX_QUERY_CHARS) throw new CallbackTooLargeError('query string is too large');
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName);
      value = decodeURIComponent(rawValue);
    } catch (cause) {
      throw new BadCallbackRequestError('query string has an invalid percent-encoding', { cause });
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) throw new BadCallbackRequestError('query string repeats a parameter');
    out[name] = value;
  }
  return out;
}

/** First non-empty value among several accepted spellings of one parameter. */
export function pickParam(query: Readonly<Record<string, string | undefined>>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = Object.prototype.hasOwnProperty.call(query, n) ? query[n] : undefined;
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** Refuses strings whose UTF-8 size is over `max` bytes (cheap length test first). */
export function checkSize(value: string, max: number, what: string): void {
  if (value.length > max || (value.length * 3 > max && Buffer.byteLength(value, 'utf8') > max)) {
    throw new CallbackTooLargeError(`${what} is larger than ${max} bytes`);
  }
}

/** A short hex digest used as an event identity where the vendor gives none. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A random nonce for replies. */
export function randomNonce(length = 16): string {
  return randomAlnum(length);
}
