/**
 * The DingTalk and WeCom callback handlers (makeHandler with in-memory stores and a recording
 * queue): every contact event type becomes one queue message with the right changes; URL
 * checks are answered in the form each vendor verifies (checked with our helpers and with
 * @wecom/crypto, an independent implementation); replays enqueue once; a queue outage is a
 * 5xx that the vendor's retry recovers from; nothing decrypted or secret reaches the logs.
 */
import { randomBytes } from 'node:crypto';
import * as wecomLib from '@wecom/crypto';
import { describe, expect, it } from 'vitest';
import { decrypt, signature } from '../../shared/crypto/callback-crypto-common';
import { EVENT_LEASE_SECONDS } from '../../shared/use-cases/callbacks/accept-callback';
import { dingtalkPayload, makeValidCallback, wecomContactXml, wecomEnvelope, type CallbackRequest, type CallbackTenant } from '../fixtures/bad-callbacks';
import { NOW, TENANT_IDS, allLogText, createHarness, type Harness } from './callback-harness';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Asserts a DingTalk reply is the signed, encrypted "success" for `receiveId`; both implementations agree. */
function expectDingtalkSuccess(body: string, t: CallbackTenant, receiveId: string): void {
  const r = JSON.parse(body) as Record<string, string>;
  expect(Object.keys(r).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  expect(r.msg_signature).toBe(signature(t.token, r.timeStamp as string, r.nonce as string, r.encrypt as string));
  expect(decrypt(r.encrypt as string, t.aesKey)).toEqual({ message: 'success', receiveId });
  // Independently: @wecom/crypto implements the same WXBizMsgCrypt scheme (32-byte padding).
  expect(wecomLib.getSignature(t.token, r.timeStamp as string, r.nonce as string, r.encrypt as string)).toBe(r.msg_signature);
  expect(wecomLib.decrypt(t.aesKey, r.encrypt as string)).toMatchObject({ message: 'success', id: receiveId });
}

function dingtalkRequest(h: Harness, plaintext: string, seed = plaintext, receiver?: string): CallbackRequest {
  const t = receiver ? { ...h.tenants.dingtalk, receiverId: receiver } : h.tenants.dingtalk;
  return makeValidCallback({ vendor: 'dingtalk', tenant: t, now: NOW, plaintext, seed });
}

/** A WeCom POST encrypted and signed by @wecom/crypto, not by our code. */
function wecomLibPost(t: CallbackTenant, innerXml: string, nonce = String(1e9 + Math.floor(Math.random() * 1e9))): CallbackRequest {
  const enc = wecomLib.encrypt(t.aesKey, innerXml, t.receiverId);
  const ts = String(Math.floor(NOW / 1000));
  const sig = wecomLib.getSignature(t.token, ts, nonce, enc);
  return { method: 'POST', rawQuery: `msg_signature=${sig}&timestamp=${ts}&nonce=${nonce}`, body: wecomEnvelope(enc, t.receiverId, '1000002'), contentType: 'text/xml' };
}

const createTime = Math.floor(NOW / 1000);

// ---------------------------------------------------------------------------------------------

describe('DingTalk contact events', () => {
  const cases = [
    { eventType: 'user_add_org', userIds: ['u-add'], change: { kind: 'person', id: 'u-add', action: 'upsert' } },
    { eventType: 'user_modify_org', userIds: ['u-mod'], change: { kind: 'person', id: 'u-mod', action: 'upsert' } },
    { eventType: 'user_active_org', userIds: ['u-act'], change: { kind: 'person', id: 'u-act', action: 'upsert' } },
    { eventType: 'user_leave_org', userIds: ['u-left'], change: { kind: 'person', id: 'u-left', action: 'delete' } },
    { eventType: 'org_dept_create', deptIds: [600582447], change: { kind: 'department', id: '600582447', action: 'upsert' } },
    { eventType: 'org_dept_modify', deptIds: [432825033], change: { kind: 'department', id: '432825033', action: 'upsert' } },
    { eventType: 'org_dept_remove', deptIds: [7], change: { kind: 'department', id: '7', action: 'delete' } },
  ] as const;

  it.each(cases)('$eventType becomes one queue message naming the $change.kind, answered with the encrypted "success"', async (c) => {
    const h = createHarness();
    const plaintext = dingtalkPayload({
      eventType: c.eventType,
      ...('userIds' in c ? { userIds: [...c.userIds] } : { deptIds: [...c.deptIds] }),
      eventId: `evt-${c.eventType}`,
      corpId: 'dingsandboxcorp0001',
      now: NOW,
    });
    const res = await h.send('dingtalk', dingtalkRequest(h, plaintext));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.contactEvents()).toEqual([
      { v: 1, tenantId: 'sandbox-dingtalk', vendor: 'dingtalk', eventId: `evt-${c.eventType}`, eventType: c.eventType, receivedAt: NOW, occurredAt: NOW, changes: [c.change] },
    ]);
    expect(await h.stores.once.get('sandbox-dingtalk', 'event', `dingtalk:evt-${c.eventType}`)).toMatchObject({ state: 'completed' });
  });

  it('reads the current push shape (camelCase keys, several ids) and keeps ids only', async () => {
    const h = createHarness();
    const payload = JSON.stringify({
      EventType: 'user_modify_org',
      EventTime: NOW - 1000,
      CorpId: 'dingsandboxcorp0001',
      BizId: 'biz-1',
      eventId: 'a1b2c3',
      timeStamp: String(NOW - 1000),
      userId: ['u1', 'u2', 'u1'],
      diffInfo: { prev: { name: '张三', email: 'zhang@example.com' }, curr: { name: '张三丰' }, userid: 'u1' },
    });
    expect((await h.send('dingtalk', dingtalkRequest(h, payload))).status).toBe(200);
    const [msg] = h.queue.contactEvents();
    expect(msg?.changes).toEqual([
      { kind: 'person', id: 'u1', action: 'upsert' },
      { kind: 'person', id: 'u2', action: 'upsert' },
    ]);
    expect(JSON.stringify(h.queue.sent)).not.toMatch(/zhang|张三/);
  });

  it('splits a batch of 1,200 ids into three messages of one event', async () => {
    const h = createHarness();
    const userIds = Array.from({ length: 1200 }, (_, i) => `bulk-${i}`);
    const res = await h.send('dingtalk', dingtalkRequest(h, dingtalkPayload({ eventType: 'user_add_org', userIds, eventId: 'evt-bulk', corpId: 'dingsandboxcorp0001', now: NOW })));
    expect(res.status).toBe(200);
    const msgs = h.queue.contactEvents();
    expect(msgs.map((m) => [m.eventId, m.changes.length])).toEqual([
      ['evt-bulk', 500],
      ['evt-bulk#1', 500],
      ['evt-bulk#2', 200],
    ]);
    expect(msgs.flatMap((m) => m.changes.map((c) => c.id))).toEqual(userIds);
  });

  it('answers check_url with the encrypted "success" and enqueues nothing', async () => {
    const h = createHarness();
    const res = await h.send('dingtalk', dingtalkRequest(h, '{"EventType":"check_url"}'));
    expect(res.status).toBe(200);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.sent).toEqual([]);
  });

  it('accepts pushes addressed to the corpId (legacy subscriptions) and encrypts the reply for the corpId', async () => {
    const h = createHarness();
    const res = await h.send('dingtalk', dingtalkRequest(h, '{"EventType":"check_url"}', 'corp', 'dingsandboxcorp0001'));
    expect(res.status).toBe(200);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxcorp0001');
  });

  it('acknowledges events it does not act on, enqueues nothing, and counts them in a log line', async () => {
    const h = createHarness();
    const res = await h.send('dingtalk', dingtalkRequest(h, JSON.stringify({ EventType: 'org_admin_add', UserId: ['boss'], CorpId: 'dingsandboxcorp0001' })));
    expect(res.status).toBe(200);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.sent).toEqual([]);
    expect(h.logger.lines).toContainEqual(expect.objectContaining({ msg: 'callback ignored', tenant: 'sandbox-dingtalk', vendor: 'dingtalk', eventType: 'org_admin_add' }));
  });

  it('acknowledges an authentic event that names no ids (BAD_PAYLOAD) without enqueuing or recording it', async () => {
    const h = createHarness();
    const res = await h.send('dingtalk', dingtalkRequest(h, JSON.stringify({ EventType: 'user_add_org', eventId: 'evt-empty', UserId: [] })));
    expect(res.status).toBe(200);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.sent).toEqual([]);
    expect(await h.stores.once.get('sandbox-dingtalk', 'event', 'dingtalk:evt-empty')).toBeUndefined();
    expect(h.logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'callback unusable', code: 'CALLBACK.BAD_PAYLOAD', eventType: 'user_add_org' }));
  });

  it('accepts a body that API Gateway delivered base64-encoded', async () => {
    const h = createHarness();
    const res = await h.send('dingtalk', makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW, userId: 'b64' }), { base64: true });
    expect(res.status).toBe(200);
    expect(h.queue.contactEvents().map((m) => m.changes[0]?.id)).toEqual(['b64']);
  });
});

describe('WeCom contact events and URL verification', () => {
  const cases = [
    { changeType: 'create_user', userId: 'zhangsan', change: { kind: 'person', id: 'zhangsan', action: 'upsert' } },
    { changeType: 'update_user', userId: 'lisi', change: { kind: 'person', id: 'lisi', action: 'upsert' } },
    { changeType: 'update_user', userId: 'wangwu', newUserId: 'wangwu2', change: { kind: 'person', id: 'wangwu', action: 'upsert', newId: 'wangwu2' } },
    { changeType: 'delete_user', userId: 'zhaoliu', change: { kind: 'person', id: 'zhaoliu', action: 'delete' } },
    { changeType: 'create_party', partyId: '12', change: { kind: 'department', id: '12', action: 'upsert' } },
    { changeType: 'update_party', partyId: '13', change: { kind: 'department', id: '13', action: 'upsert' } },
    { changeType: 'delete_party', partyId: '14', change: { kind: 'department', id: '14', action: 'delete' } },
  ] as const;

  it.each(cases)('$changeType ($change.id) encrypted by @wecom/crypto becomes one queue message, answered with an empty 200', async (c) => {
    const h = createHarness();
    const inner = wecomContactXml({
      corpId: 'wwsandboxcorp00001',
      changeType: c.changeType,
      createTime,
      ...('userId' in c ? { userId: c.userId } : {}),
      ...('newUserId' in c ? { newUserId: c.newUserId } : {}),
      ...('partyId' in c ? { partyId: c.partyId } : {}),
      // Personal fields WeCom sends on create_user; none of it may reach the queue.
      extra: '<Name><![CDATA[张三]]></Name><Mobile>13800000000</Mobile><Email><![CDATA[zs@example.com]]></Email>',
    });
    const res = await h.send('wecom', wecomLibPost(h.tenants.wecom, inner));
    expect(res).toMatchObject({ status: 200, body: '' });
    const msgs = h.queue.contactEvents();
    expect(msgs).toEqual([
      {
        v: 1,
        tenantId: 'sandbox-wecom',
        vendor: 'wecom',
        eventId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        eventType: `change_contact/${c.changeType}`,
        receivedAt: NOW,
        occurredAt: createTime * 1000,
        changes: [c.change],
      },
    ]);
    expect(JSON.stringify(h.queue.sent)).not.toMatch(/13800000000|zs@example|张三/);
  });

  it('answers the URL verification with the bare decrypted echostr, even when it contains "+" and "/"', async () => {
    const h = createHarness();
    const t = h.tenants.wecom;
    // Find an echostr (made by @wecom/crypto) whose base64 has both '+' and '/'.
    let echostr = '';
    let plain = '';
    for (let i = 0; !(echostr.includes('+') && echostr.includes('/')); i++) {
      plain = String(1e18 + i * 7919);
      echostr = wecomLib.encrypt(t.aesKey, plain, t.receiverId, randomBytes(16));
    }
    const ts = String(Math.floor(NOW / 1000));
    const sig = wecomLib.getSignature(t.token, ts, '263014780', echostr);
    const encoded = `msg_signature=${sig}&timestamp=${ts}&nonce=263014780&echostr=${encodeURIComponent(echostr)}`;
    const res = await h.send('wecom', { method: 'GET', rawQuery: encoded, body: '', contentType: 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.body).toBe(plain); // no quotes, BOM or newline
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // A client that left '+' unencoded still verifies (a literal '+' is not a space).
    const literal = `msg_signature=${sig}&timestamp=${ts}&nonce=263014780&echostr=${echostr.replace(/\//g, '%2F').replace(/=/g, '%3D')}`;
    expect(literal).toContain('+');
    expect(await h.send('wecom', { method: 'GET', rawQuery: literal, body: '', contentType: 'text/plain' })).toMatchObject({ status: 200, body: plain });
    expect(h.queue.sent).toEqual([]);
  });

  it('acknowledges update_tag and plain messages without enqueuing them', async () => {
    const h = createHarness();
    const tag = `<xml><ToUserName><![CDATA[wwsandboxcorp00001]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[update_tag]]></ChangeType><TagId>1</TagId><AddUserItems><![CDATA[a,b]]></AddUserItems></xml>`;
    const text = `<xml><ToUserName><![CDATA[wwsandboxcorp00001]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1</MsgId><AgentID>1000002</AgentID></xml>`;
    for (const xml of [tag, text]) expect(await h.send('wecom', wecomLibPost(h.tenants.wecom, xml))).toMatchObject({ status: 200, body: '' });
    expect(h.queue.sent).toEqual([]);
    expect(h.logger.lines.filter((l) => l.msg === 'callback ignored').map((l) => l.eventType)).toEqual(['change_contact/update_tag', 'msg/text']);
  });
});

describe('deduplication and delivery', () => {
  it.each(['dingtalk', 'wecom'] as const)('%s: a replayed callback is acknowledged twice and enqueued once', async (vendor) => {
    const h = createHarness();
    const req = makeValidCallback({ vendor, tenant: h.tenants[vendor], now: NOW, userId: 'replayed' });
    const first = await h.send(vendor, req);
    const second = await h.send(vendor, req);
    expect([first.status, second.status]).toEqual([200, 200]);
    if (vendor === 'dingtalk') expectDingtalkSuccess(second.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.contactEvents()).toHaveLength(1);
    expect(h.logger.lines.filter((l) => l.msg === 'callback duplicate')).toHaveLength(1);
  });

  it.each(['dingtalk', 'wecom'] as const)('%s: when the queue is down the answer is a 5xx, nothing is recorded, and the vendor\'s retry is enqueued', async (vendor) => {
    const h = createHarness();
    const req = makeValidCallback({ vendor, tenant: h.tenants[vendor], now: NOW, userId: 'outage' });
    h.queue.failures = 1;
    const failed = await h.send(vendor, req);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.body).not.toContain('success');
    expect(h.queue.sent).toEqual([]);
    const eventId = vendor === 'dingtalk' ? 'evt-outage' : undefined;
    if (eventId) expect(await h.stores.once.get(TENANT_IDS[vendor], 'event', `dingtalk:${eventId}`)).toBeUndefined();

    h.clock.advance(2_000); // the vendor retries a little later, same bytes
    const retried = await h.send(vendor, req);
    expect(retried.status).toBe(200);
    expect(h.queue.contactEvents().map((m) => m.changes[0]?.id)).toEqual(['outage']);
    expect(h.queue.calls).toBe(2);
    expect(h.logger.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'request failed' }));
  });

  it('a retry arriving while the same event is being accepted gets a 503, and is enqueued once the lease is gone', async () => {
    const h = createHarness();
    // Another request holds the event's lease (accepting it right now, or crashed mid-way).
    await h.stores.once.begin('sandbox-dingtalk', 'event', 'dingtalk:evt-racing', { leaseSeconds: EVENT_LEASE_SECONDS, ttlSeconds: 3600 });
    const req = makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW, userId: 'racing' });
    expect((await h.send('dingtalk', req)).status).toBe(503);
    expect(h.queue.sent).toEqual([]);
    h.clock.advance((EVENT_LEASE_SECONDS + 1) * 1000);
    // A vendor retry re-signs with a fresh timestamp.
    const retry = makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: h.clock.now(), userId: 'racing', seed: 'retry' });
    expect((await h.send('dingtalk', retry)).status).toBe(200);
    expect(h.queue.contactEvents()).toHaveLength(1);
  });
});

describe('tenants and configuration', () => {
  it('answers every unknown tenant, and tenants without that vendor, with the same 404 and does nothing', async () => {
    const h = createHarness();
    const req = makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW });
    const bodies = new Set<string>();
    for (const id of ['nosuch', 'sandbox-dingtalk-x', 'SANDBOX-DINGTALK', 'sandbox-wecom', '..', 'x'.repeat(80)]) {
      const res = await h.send('dingtalk', req, { tenantId: id });
      expect(res.status, id).toBe(404);
      const body = JSON.parse(res.body) as Record<string, string>;
      delete body.requestId;
      bodies.add(JSON.stringify(body));
    }
    expect([...bodies]).toEqual([JSON.stringify({ error: 'TENANT.UNKNOWN', message: 'Unknown callback endpoint.' })]);
    expect(h.queue.sent).toEqual([]);
  });

  it('answers 501 when callbacks are not configured, naming the missing secret fields (never values) only in the log', async () => {
    const h = createHarness();
    h.secrets.set('sandbox-wecom/wecom', { callbackToken: h.tenants.wecom.token });
    const res = await h.send('wecom', makeValidCallback({ vendor: 'wecom', tenant: h.tenants.wecom, now: NOW }));
    expect(res.status).toBe(501);
    const body = JSON.parse(res.body) as { error: string; message: string };
    expect(body.error).toBe('CALLBACK.NOT_CONFIGURED');
    // The caller is anonymous (whoever reaches the URL): no secret names or fields for them.
    expect(body.message).not.toContain('callbackAesKey');
    const logs = h.logger.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(logs).toContain('callbackAesKey');
    expect(logs).not.toContain(h.tenants.wecom.token);
    expect(body.message).not.toContain(h.tenants.wecom.token);
    expect(h.queue.sent).toEqual([]);
  });

  it('queues contact events for a tenant that syncs from another source: they refresh its identity links', async () => {
    const h = createHarness();
    const base = h.deps.tenant('sandbox-dingtalk');
    if (!base) throw new Error('sandbox-dingtalk missing from config/tenants.local.json');
    // The handler reads the tenant through deps at request time.
    h.deps.tenant = (id: string) => (id === base.id ? { ...base, sync: { ...base.sync, source: 'ekp' as const } } : undefined);
    const res = await h.send('dingtalk', makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW }));
    expect(res.status).toBe(200);
    expectDingtalkSuccess(res.body, h.tenants.dingtalk, 'dingsandboxappkey01');
    expect(h.queue.contactEvents()).toHaveLength(1);
  });
});

describe('logs', () => {
  it('carry tenant, vendor, outcome and counts, never ids, decrypted content, tokens or keys', async () => {
    const h = createHarness();
    await h.send('dingtalk', makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW, userId: 'secret-person-id' }));
    await h.send('wecom', wecomLibPost(h.tenants.wecom, wecomContactXml({ corpId: 'wwsandboxcorp00001', userId: 'another-person-id', createTime, extra: '<Name>王五</Name>' })));
    await h.send('wecom', { ...makeValidCallback({ vendor: 'wecom', tenant: h.tenants.wecom, now: NOW, userId: 'refused-person-id' }), rawQuery: 'msg_signature=' + '0'.repeat(40) + `&timestamp=${Math.floor(NOW / 1000)}&nonce=1` });
    expect(h.queue.contactEvents()).toHaveLength(2);
    const text = allLogText(h);
    for (const forbidden of ['secret-person-id', 'another-person-id', 'refused-person-id', '王五', '<xml', 'CDATA', h.tenants.dingtalk.token, h.tenants.dingtalk.aesKey, h.tenants.wecom.token, h.tenants.wecom.aesKey]) {
      expect(text).not.toContain(forbidden);
    }
    expect(h.logger.lines).toContainEqual(expect.objectContaining({ msg: 'callback accepted', tenant: 'sandbox-dingtalk', vendor: 'dingtalk', eventType: 'user_add_org', ids: 1 }));
    expect(h.logger.lines).toContainEqual(expect.objectContaining({ msg: 'callback refused', tenant: 'sandbox-wecom', vendor: 'wecom', code: 'CALLBACK.BAD_SIGNATURE' }));
  });
});

describe('metrics', () => {
  it('counts accepted, ignored and refused callbacks by vendor, with the tenant when it is a valid id', async () => {
    // Prepare
    const h = createHarness();
    // Act: one contact event, one event we do not act on, one forged signature, one unknown tenant.
    await h.send('dingtalk', makeValidCallback({ vendor: 'dingtalk', tenant: h.tenants.dingtalk, now: NOW }));
    await h.send('dingtalk', dingtalkRequest(h, JSON.stringify({ EventType: 'org_admin_add', UserId: ['boss'], CorpId: 'dingsandboxcorp0001' })));
    await h.send('wecom', { ...makeValidCallback({ vendor: 'wecom', tenant: h.tenants.wecom, now: NOW }), rawQuery: 'msg_signature=' + '0'.repeat(40) + `&timestamp=${Math.floor(NOW / 1000)}&nonce=1` });
    await h.send('wecom', makeValidCallback({ vendor: 'wecom', tenant: h.tenants.wecom, now: NOW }), { tenantId: 'nosuch' });
    // Assess
    expect(h.deps.metrics.counts).toEqual([
      { name: 'CallbacksAccepted', value: 1, dimensions: { vendor: 'dingtalk', tenant: 'sandbox-dingtalk' } },
      { name: 'CallbacksIgnored', value: 1, dimensions: { vendor: 'dingtalk', tenant: 'sandbox-dingtalk' } },
      { name: 'CallbacksRefused', value: 1, dimensions: { vendor: 'wecom', code: 'CALLBACK.BAD_SIGNATURE', tenant: 'sandbox-wecom' } },
      { name: 'CallbacksRefused', value: 1, dimensions: { vendor: 'wecom', code: 'TENANT.UNKNOWN', tenant: 'nosuch' } },
    ]);
  });
});
