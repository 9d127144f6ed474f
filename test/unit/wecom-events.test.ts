import * as wecomLib from '@wecom/crypto';
import { describe, expect, it } from 'vitest';
import { decryptMessage, parseWecomEvent, type WecomDecryptMessageInput } from '../../shared/adapters/wecom/wecom-events';
import { encrypt, signature } from '../../shared/crypto/callback-crypto-common';
import { toContactEventMessages } from '../../shared/contracts/contact-event';
import { wecomContactXml, wecomEnvelope } from '../fixtures/bad-callbacks';
import { codeOf, contact } from './callback-test-helpers';

const token = 'wecom-token';
const aesKey = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const corpId = 'wwsandboxcorp00001';
const now = 1_760_000_000_000;
const ts = String(now / 1000);

/** A POST as WeCom sends it, encrypted by the independent @wecom/crypto implementation. */
function post(inner: string, o: { nonce?: string; toUserName?: string; agentId?: string; key?: string; corp?: string } = {}): WecomDecryptMessageInput {
  const nonce = o.nonce ?? '1372623149';
  const enc = wecomLib.encrypt(o.key ?? aesKey, inner, o.corp ?? corpId);
  return {
    token,
    aesKey,
    corpId,
    query: { msg_signature: signature(token, ts, nonce, enc), timestamp: ts, nonce },
    body: wecomEnvelope(enc, o.toUserName ?? corpId, o.agentId ?? ''),
    now,
  };
}

const createTime = now / 1000;

describe('decryptMessage (official vectors)', () => {
  it('Set B: reads the envelope as the PHP sample posts it and returns the inner fields', () => {
    const enc =
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==';
    const msg = decryptMessage({
      token: 'QDG6eK',
      aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
      corpId: 'wx5823bf96d3bd56c7',
      query: { msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6', timestamp: '1409659813', nonce: '1372623149' },
      body: `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
      now: 1409659813_000,
    });
    expect(msg.agentId).toBe('218');
    expect(Object.fromEntries(msg.fields)).toEqual({
      ToUserName: 'wx5823bf96d3bd56c7',
      FromUserName: 'mycreate',
      CreateTime: '1409659813',
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
      AgentID: '218',
    });
    // A text message is not a contact event: acknowledged and ignored.
    expect(parseWecomEvent(msg)).toEqual({ type: 'ignored', eventType: 'msg/text' });
  });

  it('Set A: reads UTF-8 content (你好) through the whole path', () => {
    const enc =
      'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+';
    const msg = decryptMessage({
      token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
      aesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
      corpId: 'ww1436e0e65a779aee',
      query: { msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e', timestamp: '1476422779', nonce: '1597212914' },
      body: wecomEnvelope(enc, 'ww1436e0e65a779aee', '1000002'),
      now: 1476422779_000,
    });
    expect(msg.fields.get('Content')).toBe('你好');
    expect(msg.fields.get('FromUserName')).toBe('ChenJiaShun');
  });
});

describe('parseWecomEvent (change_contact)', () => {
  it.each([
    ['create_user', { userId: 'zhangsan' }, { kind: 'person', id: 'zhangsan', action: 'upsert' }],
    ['update_user', { userId: 'zhangsan' }, { kind: 'person', id: 'zhangsan', action: 'upsert' }],
    ['delete_user', { userId: 'zhangsan' }, { kind: 'person', id: 'zhangsan', action: 'delete' }],
    ['create_party', { partyId: '2' }, { kind: 'department', id: '2', action: 'upsert' }],
    ['update_party', { partyId: '2' }, { kind: 'department', id: '2', action: 'upsert' }],
    ['delete_party', { partyId: '2' }, { kind: 'department', id: '2', action: 'delete' }],
  ] as const)('maps %s to the right change', (changeType, ids, expected) => {
    const e = contact(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType, createTime, ...ids })))));
    expect(e.changes).toEqual([expected]);
    expect(e).toMatchObject({ vendor: 'wecom', eventType: `change_contact/${changeType}`, occurredAt: now });
  });

  it('treats update_user with NewUserID as a rename of the same person, not a delete and a create', () => {
    const e = contact(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType: 'update_user', userId: 'old-id', newUserId: 'new-id', createTime })))));
    expect(e.changes).toEqual([{ kind: 'person', id: 'old-id', action: 'upsert', newId: 'new-id' }]);
    const same = contact(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType: 'update_user', userId: 'x', newUserId: 'x', createTime })))));
    expect(same.changes).toEqual([{ kind: 'person', id: 'x', action: 'upsert' }]);
  });

  it('keeps ids only: names, mobiles, e-mails and ExtAttr never reach the event or the queue message', () => {
    const personal =
      '<Name><![CDATA[张三]]></Name><Mobile><![CDATA[13800000000]]></Mobile><Email><![CDATA[zhangsan@acme.com]]></Email>' +
      '<Department><![CDATA[1,2,3]]></Department><ExtAttr><Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item></ExtAttr>';
    const e = contact(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, userId: 'zhangsan', createTime, extra: personal })))));
    const text = JSON.stringify(toContactEventMessages(e, { tenantId: 'acme-wecom', receivedAt: now }));
    for (const p of ['张三', '13800000000', 'zhangsan@acme.com', '爱好', '旅游', '1,2,3']) expect(text).not.toContain(p);
    expect(text).toContain('zhangsan');
  });

  it('ignores other change types (update_tag), other events and plain messages', () => {
    expect(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType: 'update_tag', createTime }))))).toEqual({ type: 'ignored', eventType: 'change_contact/update_tag' });
    const other = `<xml><ToUserName>${corpId}</ToUserName><FromUserName>sys</FromUserName><CreateTime>${createTime}</CreateTime><MsgType>event</MsgType><Event>enter_agent</Event></xml>`;
    expect(parseWecomEvent(decryptMessage(post(other)))).toEqual({ type: 'ignored', eventType: 'event/enter_agent' });
  });

  it('identifies an event by its content: a re-encrypted retry has the same id, a different change a different one', () => {
    const inner = wecomContactXml({ corpId, userId: 'u1', createTime });
    const first = contact(parseWecomEvent(decryptMessage(post(inner, { nonce: '1' })))).eventId;
    const retry = contact(parseWecomEvent(decryptMessage(post(inner, { nonce: '2' })))).eventId;
    // Whitespace between elements does not change the identity either.
    const spaced = contact(parseWecomEvent(decryptMessage(post(inner.replace(/(<\/[A-Za-z]+>)(?=<)/g, '$1\n'), { nonce: '3' })))).eventId;
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(retry).toBe(first);
    expect(spaced).toBe(first);
    // Two users created in the same second (same FromUserName and CreateTime) stay distinct.
    const other = contact(parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, userId: 'u2', createTime }))))).eventId;
    expect(other).not.toBe(first);
  });

  it('refuses contact changes without their id as CALLBACK.BAD_PAYLOAD', () => {
    expect(codeOf(() => parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType: 'delete_user', createTime })))))).toBe('CALLBACK.BAD_PAYLOAD');
    expect(codeOf(() => parseWecomEvent(decryptMessage(post(wecomContactXml({ corpId, changeType: 'create_party', createTime })))))).toBe('CALLBACK.BAD_PAYLOAD');
  });
});

describe('decryptMessage refusals', () => {
  const inner = wecomContactXml({ corpId, userId: 'u1', createTime });

  it('refuses a message encrypted for another corp, even when everything else is right', () => {
    expect(codeOf(() => decryptMessage(post(inner, { corp: 'wwother' })))).toBe('CALLBACK.WRONG_RECEIVER');
  });

  it('refuses an envelope or inner ToUserName of another corp', () => {
    expect(codeOf(() => decryptMessage(post(inner, { toUserName: 'wwother' })))).toBe('CALLBACK.WRONG_RECEIVER');
    expect(codeOf(() => decryptMessage(post(wecomContactXml({ corpId: 'wwother', userId: 'u1', createTime }))))).toBe('CALLBACK.WRONG_RECEIVER');
  });

  it('refuses a wrong key, a bad signature and a stale timestamp', () => {
    expect(codeOf(() => decryptMessage(post(inner, { key: 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus' })))).toBe('CALLBACK.BAD_CIPHERTEXT');
    const p = post(inner);
    expect(codeOf(() => decryptMessage({ ...p, token: 'other' }))).toBe('CALLBACK.BAD_SIGNATURE');
    expect(codeOf(() => decryptMessage({ ...p, now: now + 3_600_000 }))).toBe('CALLBACK.STALE_TIMESTAMP');
    expect(decryptMessage({ ...p, now: now + 3_600_000, windowSeconds: 7200 }).fields.get('UserID')).toBe('u1');
  });

  it('refuses DTDs in the envelope before any crypto, and in the decrypted message after it', () => {
    const p = post(inner);
    expect(codeOf(() => decryptMessage({ ...p, body: `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${p.body as string}` }))).toBe('CALLBACK.UNSAFE_XML');
    expect(codeOf(() => decryptMessage(post(`<!DOCTYPE x [<!ENTITY e "y">]>${inner}`)))).toBe('CALLBACK.UNSAFE_XML');
  });

  it('refuses a body over 64 KiB, including as a Buffer', () => {
    const p = post(inner);
    const big = (p.body as string).replace('</xml>', `<Pad>${'x'.repeat(66_000)}</Pad></xml>`);
    expect(codeOf(() => decryptMessage({ ...p, body: big }))).toBe('CALLBACK.TOO_LARGE');
    expect(codeOf(() => decryptMessage({ ...p, body: Buffer.from(big) }))).toBe('CALLBACK.TOO_LARGE');
    expect(decryptMessage({ ...p, body: Buffer.from(p.body as string) }).fields.get('UserID')).toBe('u1');
  });

  it('encrypts with our own code too: round trip through encrypt → decryptMessage', () => {
    const enc = encrypt(inner, corpId, aesKey);
    const msg = decryptMessage({ token, aesKey, corpId, query: { msg_signature: signature(token, ts, '9', enc), timestamp: ts, nonce: '9' }, body: wecomEnvelope(enc, corpId), now });
    expect(msg.fields.get('ChangeType')).toBe('create_user');
  });
});
