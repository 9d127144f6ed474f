import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString, compactParams, signSha1Rsa, Signer, ssoEnc, ssoEncData, verifySha1Rsa } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync, parsePrivateKey, publicKeyHexToPem } from '../../shared/crypto/rsa-keys';

const key = generateKeyPairSync(1024);
const otherKey = generateKeyPairSync(1024);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netease-signing-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Verify with openssl, an implementation independent of ours. */
function opensslVerifies(publicKeyHex: string, data: string, hexSig: string): boolean {
  const pub = join(dir, 'pub.pem');
  const sig = join(dir, 'sig.bin');
  const txt = join(dir, 'data.txt');
  writeFileSync(pub, publicKeyHexToPem(publicKeyHex));
  writeFileSync(sig, Buffer.from(hexSig, 'hex'));
  writeFileSync(txt, data, 'utf8');
  try {
    const out = execFileSync('openssl', ['dgst', '-sha1', '-verify', pub, '-signature', sig, txt], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return out.trim() === 'Verified OK';
  } catch {
    return false; // openssl exits 1 with "Verification failure"
  }
}

describe('canonicalString (reference §1)', () => {
  it('matches the demo-kit example strings (S2): keys in ASCII order, k=v joined with &', () => {
    expect(canonicalString({ time: '1418559787507', product: 'abc_com', mobile: '13612312312', domain: 'abc.com', account_name: 'zhangsan' })).toBe(
      'account_name=zhangsan&domain=abc.com&mobile=13612312312&product=abc_com&time=1418559787507',
    );
    expect(canonicalString({ accounts: 'zhangsan', domain: 'abc.com', end: '2014-12-31', product: 'abc_com', start: '2014-12-01', time: 1418560371694 })).toBe(
      'accounts=zhangsan&domain=abc.com&end=2014-12-31&product=abc_com&start=2014-12-01&time=1418560371694',
    );
  });

  it('sorts by ASCII code, not locale: upper case before lower case, underscore between them', () => {
    expect(canonicalString({ b: '1', B: '2', a_b: '3', ab: '4', a: '5' })).toBe('B=2&a=5&a_b=3&ab=4&b=1');
  });

  it('leaves out sign and optional parameters that are undefined, null or empty', () => {
    expect(canonicalString({ unit_name: 'Sales', parent_id: undefined, unit_desc: '', mobile: null, sign: 'abc', domain: 'a.com' })).toBe('domain=a.com&unit_name=Sales');
    expect(compactParams({ a: 0, b: false, c: '', d: undefined })).toEqual({ a: '0', b: 'false' });
  });

  it('uses raw values: Chinese, &, = and spaces are not encoded in the signed string, only on the wire', () => {
    const params = { domain: 'a.com', unit_name: '研发部 R&D=1', unit_desc: 'a+b c', time: '1' };
    expect(canonicalString(params)).toBe('domain=a.com&time=1&unit_desc=a+b c&unit_name=研发部 R&D=1');
    const wire = new URLSearchParams(compactParams(params)).toString();
    expect(wire).toBe('domain=a.com&unit_name=%E7%A0%94%E5%8F%91%E9%83%A8+R%26D%3D1&unit_desc=a%2Bb+c&time=1');
    // What a server decodes from the wire gives back the signed string.
    expect(canonicalString(Object.fromEntries(new URLSearchParams(wire)))).toBe(canonicalString(params));
  });
});

describe('signSha1Rsa / verifySha1Rsa', () => {
  const data = canonicalString({ account_name: 'zhang.san', domain: 'acme.com', nickname: '张三 & 李四', product: 'acme_com', time: '1700000000000' });

  it('gives 256 lowercase hex characters for a 1024-bit key that openssl verifies (Verified OK)', () => {
    const sig = signSha1Rsa(key.privateKeyHex, data);
    expect(sig).toMatch(/^[0-9a-f]{256}$/);
    expect(opensslVerifies(key.publicKeyHex, data, sig)).toBe(true);
    expect(opensslVerifies(key.publicKeyHex, data.replace('zhang.san', 'li.si'), sig)).toBe(false);
  });

  it('is the same signature node-forge computes (PKCS#1 v1.5 is deterministic)', () => {
    const parsed = parsePrivateKey(key.privateKeyHex);
    expect(signSha1Rsa(parsed, data)).toBe(parsed.signSha1WithForge(data).toString('hex'));
  });

  it('signs the same with the key in PKCS#8 hex or PKCS#1 PEM (Java and PHP kits hold the same key differently)', () => {
    expect(signSha1Rsa(parsePrivateKey(key.privateKeyHex).toPkcs1Pem(), data)).toBe(signSha1Rsa(key.privateKeyHex, data));
  });

  it('verifies its own signatures and refuses tampering, other keys and malformed signatures', () => {
    const sig = signSha1Rsa(key.privateKeyHex, data);
    expect(verifySha1Rsa(key.publicKeyHex, data, sig)).toBe(true);
    expect(verifySha1Rsa(key.publicKeyHex, data, sig.toUpperCase())).toBe(true);
    expect(verifySha1Rsa(key.publicKeyHex, data + 'x', sig)).toBe(false);
    expect(verifySha1Rsa(otherKey.publicKeyHex, data, sig)).toBe(false);
    expect(verifySha1Rsa(key.publicKeyHex, data, sig.slice(2))).toBe(false);
    expect(verifySha1Rsa(key.publicKeyHex, data, 'zz' + sig.slice(2))).toBe(false);
    expect(verifySha1Rsa(key.publicKeyHex, data, '')).toBe(false);
  });

  it('signs 2048-bit keys with 512 hex characters, verified by openssl', () => {
    const big = generateKeyPairSync(2048);
    const sig = signSha1Rsa(big.privateKeyHex, data);
    expect(sig).toHaveLength(512);
    expect(opensslVerifies(big.publicKeyHex, data, sig)).toBe(true);
  });
});

describe('ssoEnc (reference §3)', () => {
  it('signs account_name + domain + time concatenated, and openssl verifies it', () => {
    const enc = ssoEnc(key.privateKeyHex, 'zhang.san', 'acme.com', 1700000000000);
    expect(ssoEncData('zhang.san', 'acme.com', 1700000000000)).toBe('zhang.sanacme.com1700000000000');
    expect(opensslVerifies(key.publicKeyHex, 'zhang.sanacme.com1700000000000', enc)).toBe(true);
    expect(opensslVerifies(key.publicKeyHex, 'zhang.san&acme.com&1700000000000', enc)).toBe(false);
  });
});

describe('Signer', () => {
  const signer = new Signer(key.privateKeyHex);

  it('signs like signSha1Rsa and exposes only the public key', () => {
    expect(signer.sign('abc')).toBe(signSha1Rsa(key.privateKeyHex, 'abc'));
    expect(signer.publicKeyHex).toBe(key.publicKeyHex);
    expect(signer.ssoEnc('a', 'b.com', '1')).toBe(ssoEnc(key.privateKeyHex, 'a', 'b.com', '1'));
  });

  it('signParams returns the compacted parameters plus a sign that verifies over their canonical string', () => {
    const sent = signer.signParams({ domain: 'a.com', unit_name: '销售', parent_id: undefined, time: 5 });
    expect(Object.keys(sent).sort()).toEqual(['domain', 'sign', 'time', 'unit_name']);
    expect(verifySha1Rsa(key.publicKeyHex, canonicalString(sent), sent.sign ?? '')).toBe(true);
  });

  it('never reveals the private key through JSON, inspect or enumeration', () => {
    const shown = [JSON.stringify(signer), inspect(signer, { showHidden: true, depth: 5 }), Object.values(signer).join(' ')].join('\n');
    // Hex 400-460 lies inside the private exponent d (the modulus, before it, is public).
    expect(shown).not.toContain(key.privateKeyHex.slice(400, 460));
  });
});
