import { describe, expect, it } from 'vitest';
import { CallbackError, decrypt, encrypt, signature } from '../../shared/crypto/callback-crypto-common';
import { encryptReply, verifyAndDecrypt, type DingtalkVerifyInput } from '../../shared/crypto/dingtalk-callback-crypto';
import { codeOf } from './callback-test-helpers';

/** dingtalk.md §2, copied exactly. */
const V1 = {
  token: 'mryue',
  aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
  receiver: 'ding6ccabc44d2c8d38b',
  timestamp: '1608001896814',
  nonce: 'WL4PK6yA',
  signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
  plaintext: '{"EventType":"check_url"}',
  encrypt: '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
  random: 'l7Y3EcX2CU5w8av3',
  pad: 31,
};
const V2 = {
  token: 'tokenxxxx',
  aesKey: 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus',
  receiver: 'dingxxxxxx',
  timestamp: '1605695694141',
  nonce: 'WelUQl6bCqcBa2fM',
  signature: 'f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc',
  plaintext: 'success',
  encrypt: 'X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==',
  pad: 27,
};
const V3 = {
  token: '123456',
  aesKey: '4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij',
  receiver: 'suite4xxxxxxxxxxxxxxx',
  timestamp: '1445827045067',
  nonce: 'nEXhMP4r',
  signature: '5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0',
  plaintext: '{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}',
  encrypt:
    '1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==',
  pad: 22,
};
/** V4: derived "success" reply with V1's parameters and random prefix aaaabbbbccccdddd. */
const V4 = {
  encrypt: 'WriYdpwgW9R3hQnNQCWb99OFF54g0q8jTnsnENNcQVQtGNNNONLnnaRRsyJDkd9rdVbNdMyRj842O3VhNVQOmw==',
  msg_signature: '976c3d87779e1226ef62b26faf308bef50edc62d',
};

describe('DingTalk official vectors (dingtalk.md §2)', () => {
  it.each([
    ['V1', V1],
    ['V2', V2],
    ['V3', V3],
  ])('%s: signature, plaintext and receiver id match', (_name, v) => {
    expect(signature(v.token, v.timestamp, v.nonce, v.encrypt)).toBe(v.signature);
    expect(decrypt(v.encrypt, v.aesKey)).toEqual({ message: v.plaintext, receiveId: v.receiver });
  });

  it.each([
    ['V1', V1],
    ['V2', V2],
    ['V3', V3],
  ])('%s: uses a 32-byte pad block with the documented pad value', (_name, v) => {
    // Ciphertext length = 20 header + msg + receiver + pad, a multiple of 32.
    const len = Buffer.from(v.encrypt, 'base64').length;
    expect(len % 32).toBe(0);
    expect(len - 20 - Buffer.byteLength(v.plaintext) - Buffer.byteLength(v.receiver)).toBe(v.pad);
  });

  it('V1: re-encrypting with the recovered random prefix reproduces the ciphertext byte for byte', () => {
    expect(encrypt(V1.plaintext, V1.receiver, V1.aesKey, V1.random)).toBe(V1.encrypt);
  });

  it('V1: verifyAndDecrypt accepts the console check_url push addressed to the appKey', () => {
    const r = verifyAndDecrypt({
      token: V1.token,
      aesKey: V1.aesKey,
      appKey: V1.receiver,
      query: { signature: V1.signature, timestamp: V1.timestamp, nonce: V1.nonce },
      body: JSON.stringify({ encrypt: V1.encrypt }),
      now: Number(V1.timestamp) + 1500,
    });
    expect(r).toEqual({ payload: { EventType: 'check_url' }, receiver: 'appKey', timestampMs: 1608001896814 });
  });

  it('V3: verifyAndDecrypt returns the ISV suite check payload', () => {
    const r = verifyAndDecrypt({
      token: V3.token,
      aesKey: V3.aesKey,
      appKey: V3.receiver,
      query: { msg_signature: V3.signature, timeStamp: V3.timestamp, nonce: V3.nonce },
      body: { encrypt: V3.encrypt },
      now: Number(V3.timestamp),
    });
    expect(r.payload).toEqual(JSON.parse(V3.plaintext));
  });

  it('V2: a non-JSON plaintext ("success") verifies but is refused as CALLBACK.BAD_PAYLOAD', () => {
    const input: DingtalkVerifyInput = {
      token: V2.token,
      aesKey: V2.aesKey,
      appKey: V2.receiver,
      query: { signature: V2.signature, timestamp: V2.timestamp, nonce: V2.nonce },
      body: JSON.stringify({ encrypt: V2.encrypt }),
      now: Number(V2.timestamp),
    };
    expect(codeOf(() => verifyAndDecrypt(input))).toBe('CALLBACK.BAD_PAYLOAD');
  });

  it('V4: encryptReply reproduces the derived "success" reply exactly', () => {
    const reply = encryptReply({
      token: V1.token,
      aesKey: V1.aesKey,
      receiveId: V1.receiver,
      now: Number(V1.timestamp),
      nonce: V1.nonce,
      random16: 'aaaabbbbccccdddd',
    });
    expect(reply).toEqual({ msg_signature: V4.msg_signature, timeStamp: V1.timestamp, nonce: V1.nonce, encrypt: V4.encrypt });
    // Exact key casing DingTalk reads: snake msg_signature, camel timeStamp.
    expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  });
});

describe('verifyAndDecrypt', () => {
  const aesKey = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
  const token = 'tok-dingtalk';
  const appKey = 'dingappkey0001';
  const corpId = 'dingcorp0001';
  const now = 1_760_000_000_000;

  function push(plaintext: string, receiver = appKey, ts = String(now), nonce = 'nonce123') {
    const enc = encrypt(plaintext, receiver, aesKey);
    return { ts, nonce, enc, sig: signature(token, ts, nonce, enc) };
  }
  const base = (p: ReturnType<typeof push>, extra: Partial<DingtalkVerifyInput> = {}): DingtalkVerifyInput => ({
    token,
    aesKey,
    appKey,
    corpId,
    query: { signature: p.sig, timestamp: p.ts, nonce: p.nonce },
    body: JSON.stringify({ encrypt: p.enc }),
    now,
    ...extra,
  });

  it('accepts both parameter spellings (msg_signature/timeStamp and signature/timestamp)', () => {
    const p = push('{"EventType":"user_add_org","UserId":["u1"]}');
    expect(verifyAndDecrypt(base(p)).payload).toEqual({ EventType: 'user_add_org', UserId: ['u1'] });
    expect(verifyAndDecrypt(base(p, { query: { msg_signature: p.sig, timeStamp: p.ts, nonce: p.nonce } })).receiver).toBe('appKey');
  });

  it('accepts a push addressed to the corpId (legacy registration) and says so', () => {
    const p = push('{"EventType":"user_add_org","UserId":["u1"]}', corpId);
    expect(verifyAndDecrypt(base(p)).receiver).toBe('corpId');
    expect(codeOf(() => verifyAndDecrypt(base(p, { corpId: undefined })))).toBe('CALLBACK.WRONG_RECEIVER');
  });

  it('refuses a push for another receiver', () => {
    expect(codeOf(() => verifyAndDecrypt(base(push('{"EventType":"x"}', 'dingother'))))).toBe('CALLBACK.WRONG_RECEIVER');
  });

  it('reads second-resolution timestamps as seconds, and refuses stale ones in either unit', () => {
    const sec = push('{"EventType":"x"}', appKey, String(Math.floor(now / 1000) - 10));
    expect(verifyAndDecrypt(base(sec)).timestampMs).toBe((Math.floor(now / 1000) - 10) * 1000);
    const staleMs = push('{"EventType":"x"}', appKey, String(now - 301_000));
    expect(codeOf(() => verifyAndDecrypt(base(staleMs)))).toBe('CALLBACK.STALE_TIMESTAMP');
    expect(verifyAndDecrypt(base(staleMs, { windowSeconds: 600 })).receiver).toBe('appKey');
    const staleS = push('{"EventType":"x"}', appKey, String(Math.floor(now / 1000) - 3600));
    expect(codeOf(() => verifyAndDecrypt(base(staleS)))).toBe('CALLBACK.STALE_TIMESTAMP');
  });

  it('checks the signature before the timestamp, so a forged stale push is a signature failure', () => {
    const p = push('{"EventType":"x"}', appKey, String(now - 86_400_000));
    expect(codeOf(() => verifyAndDecrypt(base(p, { token: 'wrong' })))).toBe('CALLBACK.BAD_SIGNATURE');
  });

  it('refuses missing parameters and malformed bodies as CALLBACK.BAD_REQUEST', () => {
    const p = push('{"EventType":"x"}');
    expect(codeOf(() => verifyAndDecrypt(base(p, { query: { timestamp: p.ts, nonce: p.nonce } })))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => verifyAndDecrypt(base(p, { query: { signature: p.sig, nonce: p.nonce } })))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => verifyAndDecrypt(base(p, { query: { signature: p.sig, timestamp: p.ts } })))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => verifyAndDecrypt(base(p, { body: 'not json' })))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => verifyAndDecrypt(base(p, { body: { Encrypt: p.enc } })))).toBe('CALLBACK.BAD_REQUEST');
    expect(codeOf(() => verifyAndDecrypt(base(p, { body: null })))).toBe('CALLBACK.BAD_REQUEST');
  });

  it('accepts the body as a Buffer', () => {
    const p = push('{"EventType":"x"}');
    expect(verifyAndDecrypt(base(p, { body: Buffer.from(JSON.stringify({ encrypt: p.enc })) })).payload).toEqual({ EventType: 'x' });
  });

  it('refuses a body over 64 KiB as CALLBACK.TOO_LARGE', () => {
    const p = push('{"EventType":"x"}');
    const body = JSON.stringify({ encrypt: p.enc, pad: 'x'.repeat(70_000) });
    expect(codeOf(() => verifyAndDecrypt(base(p, { body })))).toBe('CALLBACK.TOO_LARGE');
  });

  it('fails on a misconfigured aesKey with a non-exposed CALLBACK.BAD_AES_KEY, whatever the request', () => {
    const p = push('{"EventType":"x"}');
    try {
      verifyAndDecrypt(base(p, { aesKey: 'short' }));
      expect.unreachable();
    } catch (err) {
      expect((err as CallbackError).code).toBe('CALLBACK.BAD_AES_KEY');
      expect((err as CallbackError).status).toBe(500);
      expect((err as CallbackError).expose).toBe(false);
    }
  });

  it('encryptReply output verifies and decrypts back to "success" with fresh nonce and timestamp', () => {
    const r1 = encryptReply({ token, aesKey, receiveId: appKey, now });
    const r2 = encryptReply({ token, aesKey, receiveId: appKey, now: now + 1 });
    expect(r1.timeStamp).toBe(String(now));
    expect(r1.nonce).not.toBe(r2.nonce);
    expect(signature(token, r1.timeStamp, r1.nonce, r1.encrypt)).toBe(r1.msg_signature);
    expect(decrypt(r1.encrypt, aesKey)).toEqual({ message: 'success', receiveId: appKey });
  });
});
