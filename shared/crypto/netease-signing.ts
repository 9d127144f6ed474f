/**
 * NetEase legacy API request signing and SSO `enc` (reference netease-qiye-api.md §1, §3).
 *
 * - API `sign`: every parameter except `sign`, keys sorted by ascending ASCII, raw
 *   (not URL-encoded) UTF-8 values joined as `k=v&k=v`, signed SHA1withRSA (PKCS#1 v1.5),
 *   lowercase hex (256 characters for a 1024-bit key). Optional parameters are omitted
 *   entirely rather than sent empty (S2), so {@link compactParams} drops undefined, null and
 *   '' values BEFORE signing, and the caller sends exactly the compacted set.
 * - SSO `enc`: the same signature over `account_name + domain + time`, no separators.
 * - The unread endpoint (oaserver getUnreadMsg) signs its own parameter set the same way,
 *   without `product` (§2 "Unread count").
 *
 * Signing uses node:crypto (`RSA-SHA1` with a cached KeyObject); if the platform's OpenSSL
 * refuses SHA-1 signatures (some hardened crypto policies do) it falls back to node-forge,
 * which yields the identical signature because PKCS#1 v1.5 is deterministic.
 */
import { createSign, createVerify, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { parsePrivateKey, parsePublicKey, type RsaPrivateKey } from './rsa-keys';

/** A parameter value as callers give it; numbers and booleans are sent as their string form. */
export type NeteaseParamValue = string | number | boolean | null | undefined;
export type NeteaseParams = Readonly<Record<string, NeteaseParamValue>>;

/**
 * The parameters actually sent: `sign` removed, undefined/null/'' dropped (optional
 * parameters are omitted, not sent empty: §1 step 3), the rest stringified.
 */
export function compactParams(params: NeteaseParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'sign' || v === undefined || v === null || v === '') continue;
    out[k] = typeof v === 'string' ? v : String(v);
  }
  return out;
}

/**
 * The string NetEase signs: parameters (minus `sign` and empty optionals) sorted by key in
 * ascending ASCII order, joined `k=v` with `&`, values raw (no URL-encoding).
 */
export function canonicalString(params: NeteaseParams): string {
  const compact = compactParams(params);
  // Plain code-unit comparison: ASCII order for the ASCII keys NetEase uses, and
  // independent of the process locale (localeCompare would not be).
  const keys = Object.keys(compact).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k}=${compact[k]}`).join('&');
}

/** The string an SSO `enc` signs: `account_name + domain + time`, concatenated (§3). */
export function ssoEncData(accountName: string, domain: string, time: number | string): string {
  return `${accountName}${domain}${String(time)}`;
}

/** Anything that can sign for a tenant; the NeteaseClient depends on this, not on a key. */
export interface NeteaseSigner {
  /** SHA1withRSA (PKCS#1 v1.5) signature of the UTF-8 bytes of `data`, lowercase hex. */
  sign(data: string): string;
}

/**
 * SHA1withRSA signature of `data` (UTF-8), lowercase hex.
 * @param privateKey a parsed key, or a key in any format {@link parsePrivateKey} accepts.
 */
export function signSha1Rsa(privateKey: RsaPrivateKey | string, data: string): string {
  const key = typeof privateKey === 'string' ? parsePrivateKey(privateKey) : privateKey;
  return signWithKey(key, data);
}

/**
 * Verify a hex SHA1withRSA signature. Returns false (never throws) for a malformed or
 * wrong-length signature. RSA verification recomputes and compares the whole encoded
 * message inside OpenSSL; nothing here branches on secret data.
 * @param publicKey a KeyObject, or hex/base64 SubjectPublicKeyInfo DER or PEM.
 */
export function verifySha1Rsa(publicKey: KeyObject | string, data: string, hexSignature: string): boolean {
  if (typeof hexSignature !== 'string' || !/^[0-9a-fA-F]+$/.test(hexSignature) || hexSignature.length % 2 !== 0) return false;
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey).keyObject : publicKey;
  const sig = Buffer.from(hexSignature, 'hex');
  const size = key.asymmetricKeyDetails?.modulusLength;
  if (size !== undefined && sig.length !== Math.ceil(size / 8)) return false;
  try {
    return createVerify('RSA-SHA1').update(data, 'utf8').verify(key, sig);
  } catch {
    return false;
  }
}

/** SSO `enc` for the Entry URL: hex SHA1withRSA over `account_name + domain + time` (§3). */
export function ssoEnc(privateKey: RsaPrivateKey | string | NeteaseSigner, accountName: string, domain: string, time: number | string): string {
  const data = ssoEncData(accountName, domain, time);
  if (typeof privateKey === 'object' && 'sign' in privateKey && typeof privateKey.sign === 'function') return privateKey.sign(data);
  return signSha1Rsa(privateKey as RsaPrivateKey | string, data);
}

/**
 * A tenant's signer. It parses the private key once, keeps it in a private field (the
 * raw key never leaves it: no getter, redacted in JSON and inspect output) and signs with
 * a cached node:crypto KeyObject, so each signature costs well under a millisecond for
 * a 1024-bit key.
 */
export class Signer implements NeteaseSigner {
  readonly #key: RsaPrivateKey;
  /** The public half, hex of SubjectPublicKeyInfo DER (safe to show and log). */
  readonly publicKeyHex: string;
  readonly bits: number;

  constructor(privateKey: RsaPrivateKey | string) {
    this.#key = typeof privateKey === 'string' ? parsePrivateKey(privateKey) : privateKey;
    this.publicKeyHex = this.#key.publicKeyHex;
    this.bits = this.#key.bits;
    // Create the KeyObject now so the first request does not pay for it.
    this.#key.keyObject();
  }

  /** @inheritdoc */
  sign(data: string): string {
    return signWithKey(this.#key, data);
  }

  /**
   * Sign a parameter set: returns the compacted parameters to send, with `sign` added.
   * Send exactly these (URL-encoded on the wire), or the signature will not verify.
   */
  signParams(params: NeteaseParams): Record<string, string> {
    const compact = compactParams(params);
    return { ...compact, sign: this.sign(canonicalString(compact)) };
  }

  /** SSO `enc` over `account_name + domain + time`. */
  ssoEnc(accountName: string, domain: string, time: number | string): string {
    return this.sign(ssoEncData(accountName, domain, time));
  }

  toJSON(): Record<string, unknown> {
    return { type: 'Signer', bits: this.bits, publicKeyHex: this.publicKeyHex };
  }

  [inspect.custom](): string {
    return `[Signer ${this.bits} bits]`;
  }
}

// Whether node:crypto accepted an RSA-SHA1 signature on this platform; undefined until tried.
let nativeSha1: boolean | undefined;

function signWithKey(key: RsaPrivateKey, data: string): string {
  if (nativeSha1 !== false) {
    try {
      const sig = createSign('RSA-SHA1').update(data, 'utf8').sign(key.keyObject());
      nativeSha1 = true;
      return sig.toString('hex');
    } catch (err) {
      // Only a platform refusal (unsupported digest) switches to forge for good; a first
      // failure of any other kind is rethrown.
      if (nativeSha1 === true || !/digest|unsupported|invalid/i.test((err as Error).message)) throw err;
      nativeSha1 = false;
    }
  }
  return key.signSha1WithForge(data).toString('hex');
}
