import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CallbackError,
  MAX_CALLBACK_BYTES,
  checkTimestamp,
  decodeAesKey,
  decrypt,
  encrypt,
  parseRawQuery,
  parseTimestamp,
  signature,
  verifySignature,
} from '../../shared/crypto/callback-crypto-common';
import { AppError } from '../../shared/errors/app-error';
import { codeOf } from './callback-test-helpers';

const randomAesKey = (): string => randomBytes(32).toString('base64').slice(0, 43);

/** Raw AES with the callback key and no padding, to craft plaintexts that break one rule. */
function rawEncrypt(plain: Buffer, aesKey: string): string {
  const key = decodeAesKey(aesKey);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

function frame(msg: Buffer, receiver: string, len = msg.length): Buffer {
  const l = Buffer.alloc(4);
  l.writeUInt32BE(len, 0);
  return Buffer.concat([Buffer.from('0123456789abcdef'), l, msg, Buffer.from(receiver)]);
}

describe('decodeAesKey', () => {
  it('decodes a 43-character key to 32 bytes, accepting non-canonical last characters like real keys', () => {
    // DingTalk V1's key ends in "7", whose low 4 bits are not zero.
    expect(decodeAesKey('Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7')).toHaveLength(32);
    expect(decodeAesKey(randomAesKey())).toHaveLength(32);
  });

  it.each([
    ['too short', 'abc'],
    ['44 characters with padding', randomBytes(32).toString('base64')],
    ['42 characters', randomAesKey().slice(0, 42)],
    ['url-safe alphabet', randomAesKey().slice(0, 42) + '-'],
    ['a space', ' ' + randomAesKey().slice(1)],
    ['empty', ''],
  ])('refuses a key that is %s with CALLBACK.BAD_AES_KEY, without echoing it', (_name, key) => {
    try {
      decodeAesKey(key);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as CallbackError).code).toBe('CALLBACK.BAD_AES_KEY');
      expect((err as CallbackError).expose).toBe(false);
      if (key.length > 3) expect((err as Error).message).not.toContain(key);
    }
  });
});

describe('encrypt / decrypt', () => {
  it('round-trips messages of every length around the 32-byte pad boundary (pad 1..32)', () => {
    const key = randomAesKey();
    for (let n = 0; n <= 80; n++) {
      const msg = 'x'.repeat(n);
      const c = encrypt(msg, 'ww-corp', key);
      const raw = Buffer.from(c, 'base64');
      expect(raw.length % 32).toBe(0);
      expect(decrypt(c, key)).toEqual({ message: msg, receiveId: 'ww-corp' });
    }
  });

  it('uses UTF-8 byte lengths, so Chinese names and emoji survive (unlike dingtalk-encrypt)', () => {
    const key = randomAesKey();
    const msg = '{"name":"张三","note":"😀 ok"}';
    expect(decrypt(encrypt(msg, '企业微信corp', key), key)).toEqual({ message: msg, receiveId: '企业微信corp' });
  });

  it('round-trips with 200 random keys, messages and receivers', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomAesKey();
      const msg = randomBytes(i % 97).toString('hex');
      const receiver = 'r' + randomBytes(i % 13).toString('hex');
      expect(decrypt(encrypt(msg, receiver, key), key)).toEqual({ message: msg, receiveId: receiver });
    }
  });

  it('accepts a decoded Buffer key and is deterministic given the random prefix', () => {
    const aes = randomAesKey();
    const a = encrypt('m', 'r', aes, Buffer.from('aaaabbbbccccdddd'));
    const b = encrypt('m', 'r', decodeAesKey(aes), 'aaaabbbbccccdddd');
    expect(a).toBe(b);
    expect(encrypt('m', 'r', aes)).not.toBe(encrypt('m', 'r', aes));
  });

  it('accepts 16-byte-block padding as produced by the Go and Rust ports', () => {
    const key = randomAesKey();
    const body = frame(Buffer.from('hello'), 'corp'); // 29 bytes
    const pad = 16 - (body.length % 16);
    const c = rawEncrypt(Buffer.concat([body, Buffer.alloc(pad, pad)]), key);
    expect(decrypt(c, key)).toEqual({ message: 'hello', receiveId: 'corp' });
  });

  const key = randomAesKey();
  const good = encrypt('{"EventType":"user_add_org"}', 'corp', key);
  const goodBytes = Buffer.from(good, 'base64');
  const body = frame(Buffer.from('secret-plaintext'), 'corp');
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['not base64', '!!!!' + good.slice(4)],
    ['whitespace inside', good.slice(0, 8) + ' ' + good.slice(9)],
    ['url-safe base64', good.replace(/\+/g, '-').replace(/\//g, '_') + (/[+/]/.test(good) ? '' : '-AAA')],
    ['length not a multiple of 4', good.slice(0, -1)],
    ['one AES block', goodBytes.subarray(0, 16).toString('base64')],
    ['not a whole AES block', goodBytes.subarray(0, 40).toString('base64')],
    ['pad byte 0', rawEncrypt(Buffer.concat([body, Buffer.alloc(63 - body.length, 27), Buffer.from([0])]), key)],
    ['pad byte 33', rawEncrypt(Buffer.concat([body, Buffer.alloc(Math.ceil((body.length + 33) / 32) * 32 - body.length, 33)]), key)],
    ['unequal pad bytes', rawEncrypt(Buffer.concat([body, Buffer.from([3]), Buffer.alloc(63 - body.length, 64 - body.length)]), key)],
    ['length field beyond the data', rawEncrypt(pad32(frame(Buffer.from('abc'), 'corp', 1000)), key)],
    ['header shorter than 20 bytes', rawEncrypt(pad32(Buffer.alloc(12, 65)), key)],
    ['message not UTF-8', rawEncrypt(pad32(frame(Buffer.from([0xff, 0xfe]), 'corp')), key)],
    ['wrong key', encrypt('{"a":1}', 'corp', randomAesKey())],
  ];
  it.each(cases)('refuses a ciphertext with %s as CALLBACK.BAD_CIPHERTEXT', (_name, c) => {
    expect(codeOf(() => decrypt(c, key))).toBe('CALLBACK.BAD_CIPHERTEXT');
  });

  it('refuses a ciphertext over the size limit as CALLBACK.TOO_LARGE before decoding it', () => {
    expect(codeOf(() => decrypt('A'.repeat(MAX_CALLBACK_BYTES + 4), key))).toBe('CALLBACK.TOO_LARGE');
  });

  it('property: every truncation of a valid ciphertext is refused', () => {
    for (let cut = 1; cut < good.length; cut++) {
      expect(codeOf(() => decrypt(good.slice(0, good.length - cut), key))).toBe('CALLBACK.BAD_CIPHERTEXT');
    }
    for (let blocks = 1; blocks * 16 <= goodBytes.length; blocks++) {
      const c = goodBytes.subarray(0, goodBytes.length - blocks * 16).toString('base64');
      expect(codeOf(() => decrypt(c, key))).toBe('CALLBACK.BAD_CIPHERTEXT');
    }
  });

  it('property: random keys never decrypt another key\'s ciphertext', () => {
    for (let i = 0; i < 300; i++) expect(codeOf(() => decrypt(good, randomAesKey()))).toBe('CALLBACK.BAD_CIPHERTEXT');
  });

  it('property: flipping any bit of the last block breaks the padding check', () => {
    for (let bit = 0; bit < 128; bit++) {
      const b = Buffer.from(goodBytes);
      const at = b.length - 16 + (bit >> 3);
      b[at] = (b[at] as number) ^ (1 << (bit & 7));
      const code = codeOf(() => decrypt(b.toString('base64'), key));
      // The last block is pad bytes only when pad >= 16; otherwise a flip may land in the
      // receiver id, which decrypts but no longer matches (vendor code then says WRONG_RECEIVER).
      if (code === undefined) expect(decrypt(b.toString('base64'), key).receiveId).not.toBe('corp');
      else expect(code).toBe('CALLBACK.BAD_CIPHERTEXT');
    }
  });

  it('never puts the plaintext, key or receiver in an error message', () => {
    const secret = 'secret-plaintext';
    const c = rawEncrypt(pad32(frame(Buffer.from(secret), 'corp', 9999)), key);
    try {
      decrypt(c, key);
      expect.unreachable();
    } catch (err) {
      const text = JSON.stringify({ m: (err as Error).message, d: (err as CallbackError).details });
      expect(text).not.toContain(secret);
      expect(text).not.toContain(key);
      expect(text).not.toContain('corp');
    }
  });
});

function pad32(b: Buffer): Buffer {
  const p = 32 - (b.length % 32);
  return Buffer.concat([b, Buffer.alloc(p, p)]);
}

describe('signature', () => {
  it('is SHA1 over the four strings sorted as plain strings, lowercase hex', () => {
    // DingTalk V1 (dingtalk.md §2).
    expect(
      signature('mryue', '1608001896814', 'WL4PK6yA', '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3'),
    ).toBe('03044561471240d4a14bb09372dfcfd4fd0e40cb');
    // Argument order does not matter: the four are sorted.
    expect(signature('b', 'a', 'd', 'c')).toBe(signature('a', 'b', 'c', 'd'));
  });

  it('verifies in constant time, ignoring hex case, and refuses anything else', () => {
    const s = signature('t', '1', 'n', 'e');
    expect(verifySignature(s, 't', '1', 'n', 'e')).toBe(true);
    expect(verifySignature(s.toUpperCase(), 't', '1', 'n', 'e')).toBe(true);
    expect(verifySignature(s, 't', '1', 'n', 'f')).toBe(false);
    expect(verifySignature(s.slice(1), 't', '1', 'n', 'e')).toBe(false);
    expect(verifySignature(undefined, 't', '1', 'n', 'e')).toBe(false);
    expect(verifySignature(s + '00', 't', '1', 'n', 'e')).toBe(false);
  });
});

describe('timestamps', () => {
  it('parses ms, seconds and (auto) either, and refuses non-digits', () => {
    expect(parseTimestamp('1608001896814', 'ms')).toBe(1608001896814);
    expect(parseTimestamp('1409659813', 's')).toBe(1409659813000);
    expect(parseTimestamp('1409659813', 'auto')).toBe(1409659813000);
    expect(parseTimestamp('1608001896814', 'auto')).toBe(1608001896814);
    for (const bad of ['', '-1', '1.5', '1e3', ' 1', '0x10', '12345678901234567']) {
      expect(codeOf(() => parseTimestamp(bad, 'ms'))).toBe('CALLBACK.BAD_REQUEST');
    }
  });

  it('accepts the window edges and refuses beyond them in both directions', () => {
    const now = 1_700_000_000_000;
    expect(codeOf(() => checkTimestamp(now - 300_000, now, 300))).toBeUndefined();
    expect(codeOf(() => checkTimestamp(now + 300_000, now, 300))).toBeUndefined();
    expect(codeOf(() => checkTimestamp(now - 300_001, now, 300))).toBe('CALLBACK.STALE_TIMESTAMP');
    expect(codeOf(() => checkTimestamp(now + 300_001, now, 300))).toBe('CALLBACK.STALE_TIMESTAMP');
    expect(codeOf(() => checkTimestamp(now - 3_600_000, now, 7200))).toBeUndefined();
  });
});

describe('parseRawQuery', () => {
  it('decodes %2B to "+" and keeps a literal "+" (form decoding would make it a space)', () => {
    const q = parseRawQuery('echostr=ab%2Bcd+ef%2F%3D&nonce=1');
    expect(q.echostr).toBe('ab+cd+ef/=');
    // The pitfall this avoids (wecom.md §1): URLSearchParams turns the literal "+" into a space.
    expect(new URLSearchParams('echostr=ab%2Bcd+ef').get('echostr')).toBe('ab+cd ef');
  });

  it('accepts a leading "?", empty values and names without "="', () => {
    expect({ ...parseRawQuery('?a=&b&c=3') }).toEqual({ a: '', b: '', c: '3' });
    expect({ ...parseRawQuery('') }).toEqual({});
  });

  it('refuses repeated parameters, bad escapes and oversized queries', () => {
    expect(codeOf(() => parseRawQuery('msg_signature=a&msg_signature=b'))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => parseRawQuery('a=%zz'))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => parseRawQuery('a=%E4%B8'))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => parseRawQuery('a=' + 'x'.repeat(9000)))).toBe('CALLBACK.TOO_LARGE');
  });

  it('is not fooled by __proto__ as a parameter name', () => {
    const q = parseRawQuery('__proto__=x&nonce=1');
    expect(q.__proto__).toBe('x');
    expect(({} as Record<string, unknown>).nonce).toBeUndefined();
  });
});
