import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  generateKeyPairSync,
  KeyFormatError,
  parsePrivateKey,
  parsePublicKey,
  privateKeyHexToPem,
  publicKeyFromPrivate,
  publicKeyHexToPem,
} from '../../shared/crypto/rsa-keys';

let dir: string;
const openssl = (...args: string[]): Buffer => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rsa-keys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generateKeyPair', () => {
  it('produces the NetEase demo-kit formats: hex SubjectPublicKeyInfo and hex PKCS#8 DER (reference §6 prefixes)', async () => {
    const pair = await generateKeyPair();
    expect(pair.bits).toBe(1024);
    expect(pair.publicKeyHex.startsWith('30819f300d06092a864886f70d010101050003818d00308189028181')).toBe(true);
    expect(pair.privateKeyHex).toMatch(/^3082027[0-9a-f]020100300d06092a864886f70d0101010500/);
    expect(pair.publicKeyHex).toBe(pair.publicKeyHex.toLowerCase());
  });

  it('generates 2048-bit keys on request and refuses other sizes', async () => {
    const pair = await generateKeyPair(2048);
    expect(parsePrivateKey(pair.privateKeyHex).bits).toBe(2048);
    await expect(generateKeyPair(512 as never)).rejects.toThrow(/not supported/);
  });

  it('writes keys openssl reads: the public key DER via pkey -pubin, the private key DER via rsa', () => {
    const pair = generateKeyPairSync();
    writeFileSync(join(dir, 'gen-pub.der'), Buffer.from(pair.publicKeyHex, 'hex'));
    writeFileSync(join(dir, 'gen-key.der'), Buffer.from(pair.privateKeyHex, 'hex'));
    const pubText = openssl('pkey', '-pubin', '-inform', 'DER', '-in', join(dir, 'gen-pub.der'), '-noout', '-text').toString();
    expect(pubText).toMatch(/Public-Key: \(1024 bit\)/);
    const check = openssl('rsa', '-inform', 'DER', '-in', join(dir, 'gen-key.der'), '-check', '-noout').toString();
    expect(check).toMatch(/RSA key ok/);
    // openssl derives the same public key from our private key.
    const derived = openssl('pkey', '-inform', 'DER', '-in', join(dir, 'gen-key.der'), '-pubout', '-outform', 'DER');
    expect(derived.toString('hex')).toBe(pair.publicKeyHex);
    // and our PEM helper output is what openssl prints for the public key.
    const pem = openssl('pkey', '-pubin', '-inform', 'DER', '-in', join(dir, 'gen-pub.der'), '-outform', 'PEM').toString();
    expect(publicKeyHexToPem(pair.publicKeyHex)).toBe(pem);
  });
});

describe('parsePrivateKey with openssl-generated keys', () => {
  let pkcs1Pem: string;
  let pkcs8Pem: string;
  let pkcs1DerHex: string;
  let pkcs8DerHex: string;
  let opensslPubHex: string;

  beforeAll(() => {
    const pkcs1File = join(dir, 'trad.pem');
    openssl('genrsa', '-traditional', '-out', pkcs1File, '1024');
    pkcs1Pem = readFileSync(pkcs1File, 'utf8');
    pkcs8Pem = openssl('pkcs8', '-topk8', '-nocrypt', '-in', pkcs1File).toString();
    pkcs1DerHex = openssl('rsa', '-traditional', '-in', pkcs1File, '-outform', 'DER').toString('hex');
    pkcs8DerHex = openssl('pkcs8', '-topk8', '-nocrypt', '-in', pkcs1File, '-outform', 'DER').toString('hex');
    opensslPubHex = openssl('pkey', '-in', pkcs1File, '-pubout', '-outform', 'DER').toString('hex');
  });

  it('accepts PKCS#1 PEM, PKCS#8 PEM, PKCS#1 DER hex and PKCS#8 DER hex, each giving the public key openssl prints', () => {
    expect(pkcs1Pem).toContain('BEGIN RSA PRIVATE KEY');
    expect(pkcs8Pem).toContain('BEGIN PRIVATE KEY');
    const cases = [
      [pkcs1Pem, 'pkcs1-pem'],
      [pkcs8Pem, 'pkcs8-pem'],
      [pkcs1DerHex, 'pkcs1-der-hex'],
      [pkcs8DerHex, 'pkcs8-der-hex'],
    ] as const;
    for (const [text, format] of cases) {
      const key = parsePrivateKey(text);
      expect(key.format).toBe(format);
      expect(key.bits).toBe(1024);
      expect(key.publicKeyHex).toBe(opensslPubHex);
      // Normalized to the PKCS#8 DER openssl produces for the same key.
      expect(key.toPkcs8Hex()).toBe(pkcs8DerHex);
    }
  });

  it('accepts openssl genpkey output (PKCS#8 PEM) and ignores pasted whitespace, CRLF and upper-case hex', () => {
    const file = join(dir, 'genpkey.pem');
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', file);
    const pem = readFileSync(file, 'utf8');
    const pub = openssl('pkey', '-in', file, '-pubout', '-outform', 'DER').toString('hex');
    expect(parsePrivateKey(pem.replace(/\n/g, '\r\n')).publicKeyHex).toBe(pub);
    const oneLine = pem.replace(/\n(?!-----END)/g, ' ');
    expect(parsePrivateKey(oneLine).publicKeyHex).toBe(pub);
    const spacedHex = pkcs8DerHex.toUpperCase().replace(/(.{64})/g, '$1\n  ');
    expect(parsePrivateKey(spacedHex).publicKeyHex).toBe(opensslPubHex);
  });

  it('converts back: toPkcs1Pem and toPkcs8Pem are byte-identical to openssl', () => {
    const key = parsePrivateKey(pkcs8DerHex);
    expect(key.toPkcs1Pem()).toBe(pkcs1Pem);
    expect(key.toPkcs8Pem()).toBe(pkcs8Pem);
    expect(privateKeyHexToPem(pkcs8DerHex)).toBe(pkcs8Pem);
    expect(publicKeyFromPrivate(pkcs1Pem)).toBe(opensslPubHex);
  });

  it('parses public keys in hex, PEM and PKCS#1 PEM to the same SubjectPublicKeyInfo', () => {
    const rsaPubPem = openssl('rsa', '-in', join(dir, 'trad.pem'), '-RSAPublicKey_out').toString();
    expect(rsaPubPem).toContain('BEGIN RSA PUBLIC KEY');
    for (const text of [opensslPubHex, publicKeyHexToPem(opensslPubHex), rsaPubPem]) {
      const pub = parsePublicKey(text);
      expect(pub.hex).toBe(opensslPubHex);
      expect(pub.bits).toBe(1024);
    }
  });

  it('refuses an encrypted key with advice to decrypt it, naming no key material', () => {
    const file = join(dir, 'enc.pem');
    openssl('pkcs8', '-topk8', '-in', join(dir, 'trad.pem'), '-passout', 'pass:secret-pass', '-out', file);
    const text = readFileSync(file, 'utf8');
    expect(() => parsePrivateKey(text)).toThrow(expect.objectContaining({ code: 'KEY.ENCRYPTED' }));
  });

  it('refuses an EC key clearly', () => {
    const file = join(dir, 'ec.pem');
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);
    const err = catchError(() => parsePrivateKey(readFileSync(file, 'utf8')));
    expect(err).toBeInstanceOf(KeyFormatError);
    expect((err as Error).message).toMatch(/not a valid RSA private key|EC/);
  });
});

describe('parsePrivateKey with bad input', () => {
  const key = generateKeyPairSync();

  it.each([
    ['empty', ''],
    ['garbage', 'not a key at all!'],
    ['odd-length hex', key.privateKeyHex.slice(0, -1)],
    ['truncated DER', key.privateKeyHex.slice(0, 400)],
    ['a public key given as private', key.publicKeyHex],
    ['a PEM public key', publicKeyHexToPem(key.publicKeyHex)],
    ['mismatched PEM armour', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'],
  ])('refuses %s with a KeyFormatError that names the formats tried and never echoes the input', (_name, input) => {
    const err = catchError(() => parsePrivateKey(input));
    expect(err).toBeInstanceOf(KeyFormatError);
    const msg = (err as Error).message;
    if (input.length > 40) expect(msg).not.toContain(input.slice(10, 40));
    expect(msg).not.toContain(key.privateKeyHex.slice(400, 460));
    expect((err as KeyFormatError).status).toBe(400);
  });

  it('names the accepted formats when nothing matches', () => {
    expect(() => parsePrivateKey('@@@')).toThrow(/PKCS#8.*PKCS#1.*PRIVATE KEY.*RSA PRIVATE KEY/);
  });

  it('refuses a corrupted key whose components do not match', () => {
    // Flip a byte inside the private exponent: the ASN.1 still parses, the key is wrong.
    const hex = key.privateKeyHex;
    const pos = Math.floor(hex.length * 0.6);
    const corrupted = hex.slice(0, pos) + (hex[pos] === '0' ? '1' : '0') + hex.slice(pos + 1);
    expect(() => parsePrivateKey(corrupted)).toThrow(KeyFormatError);
  });

  it('refuses unsupported sizes', () => {
    const small = execFileSync('openssl', ['genrsa', '-traditional', '768'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(() => parsePrivateKey(small)).toThrow(expect.objectContaining({ code: 'KEY.UNSUPPORTED_SIZE' }));
  });

  it('never shows key material in JSON, inspect or string output', () => {
    const parsed = parsePrivateKey(key.privateKeyHex);
    const shown = [JSON.stringify(parsed), inspect(parsed), String(parsed), JSON.stringify({ nested: parsed })].join('\n');
    expect(shown).not.toContain(key.privateKeyHex.slice(400, 460));
    expect(shown).toContain('1024');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
