import { randomBytes } from 'node:crypto';
import * as wecomLib from '@wecom/crypto';
import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, signature } from '../../shared/crypto/callback-crypto-common';
import { encryptReply, parseRawQuery, verifyAndDecrypt, verifyUrl } from '../../shared/crypto/wecom-callback-crypto';
import { codeOf } from './callback-test-helpers';

/** wecom.md §2 Set B (企业号 era: Tencent PHP/C++ samples). */
const B = {
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'wx5823bf96d3bd56c7',
  verify: {
    msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    plaintext: '1616140317555161061',
  },
  post: {
    msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
    plaintext: [
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>',
      '<FromUserName><![CDATA[mycreate]]></FromUserName>',
      '<CreateTime>1409659813</CreateTime>',
      '<MsgType><![CDATA[text]]></MsgType>',
      '<Content><![CDATA[hello]]></Content>',
      '<MsgId>4561255354251345929</MsgId>',
      '<AgentID>218</AgentID>',
      '</xml>',
    ].join('\n'),
  },
};

/** wecom.md §2 Set A (WeCom era: sbzhu/weworkapi_python Sample.py). */
const A = {
  token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  aesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  corpId: 'ww1436e0e65a779aee',
  verify: {
    msg_signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
    timestamp: '1476416373',
    nonce: '47744683',
    echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
    plaintext: '1288432023552776189',
  },
  post: {
    msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
    timestamp: '1476422779',
    nonce: '1597212914',
    encrypt:
      'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
    plaintext:
      '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
  },
};

/** The GET query exactly as WeCom sends it: every value URL-encoded (%2F, %2B, %3D). */
function rawVerifyQuery(v: typeof A.verify): string {
  return `msg_signature=${v.msg_signature}&timestamp=${v.timestamp}&nonce=${v.nonce}&echostr=${encodeURIComponent(v.echostr)}`;
}

describe.each([
  ['Set A', A],
  ['Set B', B],
])('WeCom official vectors, %s (wecom.md §2)', (_name, set) => {
  /** The documented POST push, as verifyAndDecrypt takes it, at its own timestamp. */
  const postInput = () => ({
    token: set.token,
    aesKey: set.aesKey,
    corpId: set.corpId,
    query: { msg_signature: set.post.msg_signature, timestamp: set.post.timestamp, nonce: set.post.nonce },
    encrypt: set.post.encrypt,
    now: Number(set.post.timestamp) * 1000,
  });

  it('URL verification: signature matches and the echostr decrypts to the documented plaintext for the corp', () => {
    expect(signature(set.token, set.verify.timestamp, set.verify.nonce, set.verify.echostr)).toBe(set.verify.msg_signature);
    expect(decrypt(set.verify.echostr, set.aesKey)).toEqual({ message: set.verify.plaintext, receiveId: set.corpId });
  });

  it('URL verification through the raw, URL-encoded query string returns the bare plaintext', () => {
    const raw = rawVerifyQuery(set.verify);
    expect(raw).toMatch(/%2B|%2F|%3D/);
    const q = parseRawQuery(raw);
    const reply = verifyUrl({
      token: set.token,
      aesKey: set.aesKey,
      corpId: set.corpId,
      msg_signature: q.msg_signature,
      timestamp: q.timestamp,
      nonce: q.nonce,
      echostr: q.echostr,
      now: Number(set.verify.timestamp) * 1000 + 500,
    });
    expect(reply).toBe(set.verify.plaintext);
    expect(reply).not.toMatch(/^["\ufeff]|\n$/);
  });

  it('POST: signature over Encrypt matches, and it decrypts to the documented message for the corp', () => {
    expect(signature(set.token, set.post.timestamp, set.post.nonce, set.post.encrypt)).toBe(set.post.msg_signature);
    const message = verifyAndDecrypt(postInput());
    expect(message).toBe(set.post.plaintext);
  });

  it('re-encrypting with the recovered random prefix reproduces both ciphertexts byte for byte', () => {
    for (const [enc, msg] of [
      [set.verify.echostr, set.verify.plaintext],
      [set.post.encrypt, set.post.plaintext],
    ] as const) {
      const { random } = wecomLib.decrypt(set.aesKey, enc);
      expect(encrypt(msg, set.corpId, set.aesKey, random)).toBe(enc);
    }
  });

  it('refuses the vector for another corp, with a wrong token, or outside the time window', () => {
    const base = postInput();
    expect(codeOf(() => verifyAndDecrypt({ ...base, corpId: 'wwsomeoneelse' }))).toBe('CALLBACK.WRONG_RECEIVER');
    expect(codeOf(() => verifyAndDecrypt({ ...base, token: set.token + 'x' }))).toBe('CALLBACK.BAD_SIGNATURE');
    expect(codeOf(() => verifyAndDecrypt({ ...base, now: base.now + 301_000 }))).toBe('CALLBACK.STALE_TIMESTAMP');
    expect(codeOf(() => verifyAndDecrypt({ ...base, now: base.now - 301_000 }))).toBe('CALLBACK.STALE_TIMESTAMP');
  });
});

describe('the "+" pitfall (wecom.md §1)', () => {
  it('an echostr whose "+" arrives unencoded still verifies with parseRawQuery, but not with URLSearchParams', () => {
    const v = A.verify;
    expect(v.echostr).toContain('+');
    const raw = `msg_signature=${v.msg_signature}&timestamp=${v.timestamp}&nonce=${v.nonce}&echostr=${v.echostr.replace(/\//g, '%2F').replace(/=/g, '%3D')}`;
    const args = (echostr: string | null | undefined) => ({ token: A.token, aesKey: A.aesKey, corpId: A.corpId, msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce, echostr: echostr ?? undefined });
    expect(verifyUrl(args(parseRawQuery(raw).echostr))).toBe(v.plaintext);
    expect(codeOf(() => verifyUrl(args(new URLSearchParams(raw).get('echostr'))))).toBe('CALLBACK.BAD_SIGNATURE');
  });
});

describe('verifyUrl', () => {
  const v = B.verify;
  const args = { token: B.token, aesKey: B.aesKey, corpId: B.corpId, ...v };

  it('enforces the time window only when given a clock', () => {
    expect(verifyUrl(args)).toBe(v.plaintext);
    expect(codeOf(() => verifyUrl({ ...args, now: Date.UTC(2026, 0, 1) }))).toBe('CALLBACK.STALE_TIMESTAMP');
  });

  it.each(['msg_signature', 'timestamp', 'nonce', 'echostr'] as const)('refuses a request without %s as CALLBACK.BAD_REQUEST', (name) => {
    expect(codeOf(() => verifyUrl({ ...args, [name]: undefined }))).toBe('CALLBACK.BAD_REQUEST');
  });

  it('refuses a tampered echostr as a signature failure before decrypting anything', () => {
    expect(codeOf(() => verifyUrl({ ...args, echostr: v.echostr.replace('P9n', 'P9m') }))).toBe('CALLBACK.BAD_SIGNATURE');
  });
});

describe('interoperability with @wecom/crypto (an independent implementation)', () => {
  const randomKey = (): string => randomBytes(32).toString('base64').slice(0, 43);
  const messages = ['', 'x', '1616140317555161061', '<xml><Content>你好 😀</Content></xml>', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(1000)];

  it('decrypts what @wecom/crypto encrypts, for random keys and messages of awkward lengths', () => {
    for (let i = 0; i < 60; i++) {
      const key = randomKey();
      const msg = messages[i % messages.length] as string;
      const corp = 'ww' + randomBytes(8).toString('hex');
      expect(decrypt(wecomLib.encrypt(key, msg, corp), key)).toEqual({ message: msg, receiveId: corp });
    }
  });

  it('@wecom/crypto decrypts what we encrypt, and both produce identical ciphertexts for the same random', () => {
    for (let i = 0; i < 60; i++) {
      const key = randomKey();
      const msg = messages[i % messages.length] as string;
      const random = randomBytes(16);
      const ours = encrypt(msg, 'wwcorp', key, random);
      expect(wecomLib.decrypt(key, ours)).toMatchObject({ message: msg, id: 'wwcorp' });
      expect(ours).toBe(wecomLib.encrypt(key, msg, 'wwcorp', random));
    }
  });

  it('signatures agree with @wecom/crypto getSignature', () => {
    for (let i = 0; i < 50; i++) {
      const [t, ts, n, e] = [randomBytes(8).toString('hex'), String(1_700_000_000 + i), String(i * 7919), randomBytes(24).toString('base64')];
      expect(signature(t, ts, n, e)).toBe(wecomLib.getSignature(t, ts, n, e));
    }
  });

  it('our passive reply is accepted by @wecom/crypto: signature verifies and the plaintext is intact', () => {
    const reply = encryptReply({ token: A.token, aesKey: A.aesKey, corpId: A.corpId, plaintext: '<xml><Content>回复</Content></xml>', timestamp: '1476422779', nonce: '1597212914' });
    expect(wecomLib.getSignature(A.token, reply.TimeStamp, reply.Nonce, reply.Encrypt)).toBe(reply.MsgSignature);
    expect(wecomLib.decrypt(A.aesKey, reply.Encrypt)).toMatchObject({ message: '<xml><Content>回复</Content></xml>', id: A.corpId });
    expect(reply.xml).toBe(
      `<xml><Encrypt><![CDATA[${reply.Encrypt}]]></Encrypt><MsgSignature><![CDATA[${reply.MsgSignature}]]></MsgSignature><TimeStamp>1476422779</TimeStamp><Nonce><![CDATA[1597212914]]></Nonce></xml>`,
    );
  });

  it('where @wecom/crypto silently returns garbage, we refuse (it checks neither padding nor receiver)', () => {
    const key = randomKey();
    const junk = randomBytes(64).toString('base64');
    expect(() => wecomLib.decrypt(key, junk)).not.toThrow();
    expect(codeOf(() => decrypt(junk, key))).toBe('CALLBACK.BAD_CIPHERTEXT');
  });
});
