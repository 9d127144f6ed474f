/**
 * RSA keys for NetEase enterprise mail: generation, parsing of every format a tenant
 * may hand us, and conversion to the format we store (hex of PKCS#8 DER).
 *
 * Formats (reference netease-qiye-api.md §6):
 * - NetEase's Java demo kit (S1) prints keys as hex of DER: the public key as X.509
 *   SubjectPublicKeyInfo (prefix `30819f300d06092a864886f70d010101050003818d00…` for 1024
 *   bits), the private key as PKCS#8 (prefix `3082027x020100300d06…`). That is what the
 *   tenant secret stores (`privateKeyHex`) and what NetEase's backend takes for registration.
 * - The PHP kit (S3) uses PEM PKCS#1 ("RSA PRIVATE KEY") of the same key, and openssl
 *   users usually hold PEM PKCS#8 ("PRIVATE KEY"). We accept all four, plus base64 DER.
 *
 * node-forge does the ASN.1 parsing and format conversion (this folder is the only place
 * that imports it); node:crypto does key generation and signing because it is native and
 * fast, and produces byte-identical DER (checked in test/unit/rsa-keys.test.ts).
 *
 * Key material never appears in errors, logs, `JSON.stringify` or `util.inspect` output.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import forge from 'node-forge';
import { ValidationError } from '../errors/app-error';

/** Key sizes we generate and accept. Every observed NetEase key is 1024-bit; 2048 is unconfirmed (§6, Open questions §4). */
export const SUPPORTED_KEY_BITS = [1024, 2048] as const;
export type RsaKeyBits = (typeof SUPPORTED_KEY_BITS)[number];

/** Which textual form a private key arrived in. */
export type PrivateKeyFormat = 'pkcs8-der-hex' | 'pkcs1-der-hex' | 'pkcs8-der-base64' | 'pkcs1-der-base64' | 'pkcs8-pem' | 'pkcs1-pem';

/** A freshly generated key pair, both halves hex of DER (the NetEase demo-kit format). */
export interface GeneratedKeyPair {
  /** PKCS#8 DER, lowercase hex. Secret: store it, never log it. */
  privateKeyHex: string;
  /** X.509 SubjectPublicKeyInfo DER, lowercase hex: what NetEase registers. */
  publicKeyHex: string;
  bits: RsaKeyBits;
}

const TRIED_FORMATS = 'hex of DER (PKCS#8 or PKCS#1), base64 of DER, PEM "PRIVATE KEY" (PKCS#8) and PEM "RSA PRIVATE KEY" (PKCS#1)';

/** An invalid key. Codes: KEY.INVALID, KEY.UNSUPPORTED_SIZE, KEY.ENCRYPTED, KEY.NOT_PRIVATE. */
export class KeyFormatError extends ValidationError {
  constructor(code: string, message: string, cause?: unknown) {
    super(message, { code, cause });
  }
}

/**
 * A parsed RSA private key. The DER lives in a private field: it does not show up in
 * `JSON.stringify`, `console.log` or error messages. Export it explicitly with
 * {@link RsaPrivateKey.toPkcs8Hex} (to store it) and nowhere else.
 */
export class RsaPrivateKey {
  readonly #pkcs8: Buffer;
  #keyObject: KeyObject | undefined;
  /** Modulus size in bits. */
  readonly bits: number;
  /** The form the key was given in. */
  readonly format: PrivateKeyFormat;
  /** The public half, hex of SubjectPublicKeyInfo DER. */
  readonly publicKeyHex: string;

  /** @internal use {@link parsePrivateKey}. */
  constructor(pkcs8Der: Buffer, bits: number, format: PrivateKeyFormat, publicKeyHex: string) {
    this.#pkcs8 = pkcs8Der;
    this.bits = bits;
    this.format = format;
    this.publicKeyHex = publicKeyHex;
  }

  /** Normalized PKCS#8 DER as lowercase hex: the value stored in the tenant's `netease` secret. */
  toPkcs8Hex(): string {
    return this.#pkcs8.toString('hex');
  }

  /** PEM "PRIVATE KEY" (PKCS#8), e.g. for openssl. */
  toPkcs8Pem(): string {
    return derToPem(this.#pkcs8, 'PRIVATE KEY');
  }

  /** PEM "RSA PRIVATE KEY" (PKCS#1), the form the NetEase PHP kit loads. */
  toPkcs1Pem(): string {
    const key = forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(this.#pkcs8.toString('binary')))) as forge.pki.rsa.PrivateKey;
    return derToPem(Buffer.from(forge.asn1.toDer(forge.pki.privateKeyToAsn1(key)).getBytes(), 'binary'), 'RSA PRIVATE KEY');
  }

  /** The public key as PEM "PUBLIC KEY". */
  publicKeyPem(): string {
    return publicKeyHexToPem(this.publicKeyHex);
  }

  /** A node:crypto KeyObject for signing, created once and cached. */
  keyObject(): KeyObject {
    this.#keyObject ??= createPrivateKey({ key: this.#pkcs8, format: 'der', type: 'pkcs8' });
    return this.#keyObject;
  }

  /**
   * SHA1withRSA (PKCS#1 v1.5) by node-forge, pure JavaScript: the fallback where the
   * platform's OpenSSL refuses SHA-1 signatures, and an independent implementation for tests.
   * Returns the raw signature bytes.
   */
  signSha1WithForge(data: string): Buffer {
    const key = forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(this.#pkcs8.toString('binary')))) as forge.pki.rsa.PrivateKey;
    const md = forge.md.sha1.create();
    md.update(data, 'utf8');
    return Buffer.from(key.sign(md), 'binary');
  }

  toJSON(): Record<string, unknown> {
    return { type: 'RsaPrivateKey', bits: this.bits, format: this.format, privateKey: '[redacted]' };
  }

  toString(): string {
    return `[RsaPrivateKey ${this.bits} bits]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A parsed RSA public key. */
export interface RsaPublicKey {
  bits: number;
  /** SubjectPublicKeyInfo DER, lowercase hex. */
  hex: string;
  pem: string;
  keyObject: KeyObject;
}

/**
 * Generate a key pair with node-forge, as the brief asks. forge hands the prime search to
 * Node's native crypto when it is there (its `_detectNodeCrypto`), so this is as fast as
 * OpenSSL and does not block the event loop in the async form. The DER written is what
 * NetEase's Java kit uses (reference §6): PKCS#8 with rsaEncryption + NULL parameters for
 * the private key, SubjectPublicKeyInfo for the public key, exponent 65537.
 */
export async function generateKeyPair(bits: RsaKeyBits = 1024): Promise<GeneratedKeyPair> {
  assertSupportedBits(bits);
  const pair = await new Promise<forge.pki.rsa.KeyPair>((resolve, reject) =>
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (err, kp) => (err ? reject(err) : resolve(kp))),
  );
  return encodePair(pair, bits);
}

/** Synchronous {@link generateKeyPair} (tests and scripts). */
export function generateKeyPairSync(bits: RsaKeyBits = 1024): GeneratedKeyPair {
  assertSupportedBits(bits);
  return encodePair(forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }), bits);
}

function encodePair(pair: forge.pki.rsa.KeyPair, bits: RsaKeyBits): GeneratedKeyPair {
  const pkcs8 = forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(pair.privateKey))).getBytes();
  return { privateKeyHex: forge.util.bytesToHex(pkcs8), publicKeyHex: publicKeyHexFromForge(pair.publicKey), bits };
}

/**
 * Parse a private key given as hex DER (PKCS#8 or PKCS#1), base64 DER, PEM "PRIVATE KEY"
 * or PEM "RSA PRIVATE KEY". Whitespace (line breaks from copy and paste) is ignored.
 * Throws {@link KeyFormatError} naming the formats tried; the message never contains the input.
 *
 * @param options.allowedBits key sizes to accept (default {@link SUPPORTED_KEY_BITS}).
 */
export function parsePrivateKey(input: string, options: { allowedBits?: readonly number[] } = {}): RsaPrivateKey {
  if (typeof input !== 'string' || input.trim() === '') throw new KeyFormatError('KEY.INVALID', `No private key given; expected ${TRIED_FORMATS}.`);
  const text = input.trim();
  let der: Buffer;
  let encoding: 'hex' | 'base64' | 'pem';
  let pemLabel: string | undefined;
  if (text.startsWith('-----BEGIN')) {
    const pem = decodePem(text);
    pemLabel = pem.label;
    if (pem.label === 'ENCRYPTED PRIVATE KEY' || pem.encrypted) {
      throw new KeyFormatError('KEY.ENCRYPTED', 'The private key is encrypted with a passphrase; decrypt it first (openssl pkey -in key.pem -out plain.pem) and import the plain key.');
    }
    if (pem.label === 'PUBLIC KEY' || pem.label === 'RSA PUBLIC KEY' || pem.label === 'CERTIFICATE') {
      throw new KeyFormatError('KEY.NOT_PRIVATE', `This is a ${pem.label}, not a private key; import the private key (the public key is derived from it).`);
    }
    if (pem.label !== 'PRIVATE KEY' && pem.label !== 'RSA PRIVATE KEY') {
      throw new KeyFormatError('KEY.INVALID', `Unsupported PEM block "${pem.label}"; expected ${TRIED_FORMATS}.`);
    }
    der = pem.der;
    encoding = 'pem';
  } else {
    const compact = text.replace(/\s+/g, '');
    if (/^[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) {
      der = Buffer.from(compact, 'hex');
      encoding = 'hex';
    } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
      der = Buffer.from(compact, 'base64');
      encoding = 'base64';
    } else {
      throw new KeyFormatError('KEY.INVALID', `Not a recognizable private key (neither hex, base64 nor PEM); expected ${TRIED_FORMATS}.`);
    }
  }

  const structure = derStructure(der);
  if (structure === 'unknown') {
    throw new KeyFormatError('KEY.INVALID', `The ${encoding === 'pem' ? `PEM "${pemLabel}"` : encoding} content is not an RSA private key in PKCS#8 or PKCS#1 DER; tried ${TRIED_FORMATS}.`);
  }
  if (pemLabel === 'PRIVATE KEY' && structure !== 'pkcs8') throw new KeyFormatError('KEY.INVALID', 'PEM "PRIVATE KEY" must hold PKCS#8; this one holds something else.');
  if (pemLabel === 'RSA PRIVATE KEY' && structure !== 'pkcs1') throw new KeyFormatError('KEY.INVALID', 'PEM "RSA PRIVATE KEY" must hold PKCS#1; this one holds something else.');

  let key: forge.pki.rsa.PrivateKey;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
    // privateKeyFromAsn1 accepts PKCS#8 (rsaEncryption only) and PKCS#1.
    key = forge.pki.privateKeyFromAsn1(asn1) as forge.pki.rsa.PrivateKey;
  } catch (err) {
    // forge's messages describe the structure, never the bytes; still, keep ours generic.
    throw new KeyFormatError('KEY.INVALID', `The key is not a valid RSA private key (${structure === 'pkcs8' ? 'PKCS#8' : 'PKCS#1'} structure could not be read; an EC or DSA key is not supported).`, err);
  }

  const bits = key.n.bitLength();
  const allowed = options.allowedBits ?? SUPPORTED_KEY_BITS;
  if (!allowed.includes(bits)) {
    throw new KeyFormatError('KEY.UNSUPPORTED_SIZE', `The key is ${bits}-bit; supported sizes are ${allowed.join(' and ')} bits (NetEase keys are 1024-bit).`);
  }

  // Normalize to PKCS#8 DER (what the secret stores), re-encoded canonically by forge.
  const pkcs8 = Buffer.from(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes(), 'binary');
  const publicKeyHex = publicKeyHexFromForge(forge.pki.setRsaPublicKey(key.n, key.e));

  // Refuse a corrupted key at import rather than sign with it: the components must agree
  // (what `openssl rsa -check` tests), and OpenSSL must load it and derive the same public key.
  if (!componentsConsistent(key)) throw new KeyFormatError('KEY.INVALID', 'The RSA private key is inconsistent (its components do not form a valid key).');
  try {
    const ko = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const derived = createPublicKey(ko).export({ type: 'spki', format: 'der' }).toString('hex');
    if (derived !== publicKeyHex) throw new Error('public key mismatch');
  } catch (err) {
    throw new KeyFormatError('KEY.INVALID', 'The RSA private key could not be loaded (its components do not form a valid key).', err);
  }

  const format: PrivateKeyFormat = encoding === 'pem' ? (structure === 'pkcs8' ? 'pkcs8-pem' : 'pkcs1-pem') : (`${structure}-der-${encoding}` as PrivateKeyFormat);
  return new RsaPrivateKey(pkcs8, bits, format, publicKeyHex);
}

/** The public key (hex of SubjectPublicKeyInfo DER) of a private key in any accepted format. */
export function publicKeyFromPrivate(input: string | RsaPrivateKey): string {
  return (typeof input === 'string' ? parsePrivateKey(input) : input).publicKeyHex;
}

/**
 * Parse a public key: hex or base64 of SubjectPublicKeyInfo DER (or PKCS#1 RSAPublicKey DER),
 * PEM "PUBLIC KEY" or PEM "RSA PUBLIC KEY". Returns it normalized to SubjectPublicKeyInfo.
 */
export function parsePublicKey(input: string): RsaPublicKey {
  const text = typeof input === 'string' ? input.trim() : '';
  let der: Buffer;
  try {
    if (text.startsWith('-----BEGIN')) {
      const pem = decodePem(text);
      if (pem.label !== 'PUBLIC KEY' && pem.label !== 'RSA PUBLIC KEY') throw new Error(`unsupported PEM block "${pem.label}"`);
      der = pem.der;
    } else {
      const compact = text.replace(/\s+/g, '');
      if (/^[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) der = Buffer.from(compact, 'hex');
      else if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) der = Buffer.from(compact, 'base64');
      else throw new Error('neither hex, base64 nor PEM');
    }
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
    // publicKeyFromAsn1 accepts SubjectPublicKeyInfo and PKCS#1 RSAPublicKey.
    const key = forge.pki.publicKeyFromAsn1(asn1) as forge.pki.rsa.PublicKey;
    const hex = publicKeyHexFromForge(key);
    return { bits: key.n.bitLength(), hex, pem: publicKeyHexToPem(hex), keyObject: createPublicKey({ key: Buffer.from(hex, 'hex'), format: 'der', type: 'spki' }) };
  } catch (err) {
    throw new KeyFormatError('KEY.INVALID', `Not a usable RSA public key (${(err as Error).message.slice(0, 80)}); expected hex or base64 of SubjectPublicKeyInfo DER, PEM "PUBLIC KEY" or PEM "RSA PUBLIC KEY".`, err);
  }
}

/** PEM "PUBLIC KEY" from hex of SubjectPublicKeyInfo DER. */
export function publicKeyHexToPem(publicKeyHex: string): string {
  return derToPem(Buffer.from(publicKeyHex, 'hex'), 'PUBLIC KEY');
}

/** PEM "PRIVATE KEY" from hex of PKCS#8 DER (for openssl; treat the result as a secret). */
export function privateKeyHexToPem(privateKeyHex: string): string {
  return parsePrivateKey(privateKeyHex).toPkcs8Pem();
}

/** Wrap DER in a PEM block with 64-character lines. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Throws unless `bits` is a key size we generate. */
export function assertSupportedBits(bits: number): asserts bits is RsaKeyBits {
  if (!(SUPPORTED_KEY_BITS as readonly number[]).includes(bits)) {
    throw new KeyFormatError('KEY.UNSUPPORTED_SIZE', `Key size ${String(bits)} is not supported; use ${SUPPORTED_KEY_BITS.join(' or ')} bits.`);
  }
}

/** n = p*q, e*d = 1 mod (p-1) and (q-1), and the CRT values match d and q (as `openssl rsa -check`). */
function componentsConsistent(k: forge.pki.rsa.PrivateKey): boolean {
  const one = forge.jsbn.BigInteger.ONE;
  const p1 = k.p.subtract(one);
  const q1 = k.q.subtract(one);
  return (
    k.p.multiply(k.q).equals(k.n) &&
    k.e.multiply(k.d).mod(p1).equals(one) &&
    k.e.multiply(k.d).mod(q1).equals(one) &&
    k.d.mod(p1).equals(k.dP) &&
    k.d.mod(q1).equals(k.dQ) &&
    k.qInv.multiply(k.q).mod(k.p).equals(one)
  );
}

function publicKeyHexFromForge(key: forge.pki.rsa.PublicKey): string {
  return forge.util.bytesToHex(forge.asn1.toDer(forge.pki.publicKeyToAsn1(key)).getBytes());
}

/** Decode one PEM block; tolerant of keys pasted on a single line or with CRLF. */
function decodePem(text: string): { label: string; der: Buffer; encrypted: boolean } {
  const m = /^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/.exec(text);
  if (!m || m[1] !== m[3]) throw new KeyFormatError('KEY.INVALID', `Malformed PEM (BEGIN/END lines missing or not matching); expected ${TRIED_FORMATS}.`);
  const label = m[1] ?? '';
  let body = m[2] ?? '';
  // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ...") mean a legacy encrypted PKCS#1 key.
  const encrypted = /Proc-Type:\s*4,ENCRYPTED/i.test(body);
  body = body.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
  if (!encrypted && !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new KeyFormatError('KEY.INVALID', `PEM "${label}" body is not base64.`);
  return { label, der: Buffer.from(body, 'base64'), encrypted };
}

/**
 * Tell PKCS#8 (SEQUENCE { INTEGER 0, SEQUENCE { OID … }, OCTET STRING }) from PKCS#1
 * (SEQUENCE { INTEGER 0, INTEGER n, INTEGER e, … }) by the type of the second element.
 */
function derStructure(der: Buffer): 'pkcs8' | 'pkcs1' | 'unknown' {
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
    const items = asn1.value;
    if (asn1.tagClass !== forge.asn1.Class.UNIVERSAL || asn1.type !== forge.asn1.Type.SEQUENCE || !Array.isArray(items) || items.length < 3) return 'unknown';
    const second = items[1];
    if (!second || typeof second === 'string') return 'unknown';
    if (second.type === forge.asn1.Type.SEQUENCE && items.length >= 3 && items[2] && typeof items[2] !== 'string' && items[2].type === forge.asn1.Type.OCTETSTRING) return 'pkcs8';
    if (second.type === forge.asn1.Type.INTEGER && items.length >= 9) return 'pkcs1';
    return 'unknown';
  } catch {
    return 'unknown';
  }
}
