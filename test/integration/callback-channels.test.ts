/**
 * The callback routes of extra channels (`/callbacks/<vendor>/<tenant>/<channel>`), at the
 * handler (real makeHandler, events built as the local gateway builds them): a WeCom tenant
 * with a second corp. Its URL verification and events are checked with that corp's own token,
 * AES key and corp id (@wecom/crypto signs and encrypts here, not our code), its messages name
 * the channel, and its events are deduplicated under a key of their own.
 */
import { randomBytes } from 'node:crypto';
import * as wecomLib from '@wecom/crypto';
import { describe, expect, it } from 'vitest';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { wecomContactXml, wecomEnvelope, type CallbackRequest, type CallbackTenant } from '../fixtures/bad-callbacks';
import { NOW, createHarness, type Harness } from './callback-harness';

const LABS: CallbackTenant = { token: 'labs' + randomBytes(6).toString('hex'), aesKey: randomBytes(32).toString('base64').slice(0, 43), receiverId: 'wwlabscorp0000001' };
const ts = String(Math.floor(NOW / 1000));

/** The sandbox WeCom tenant plus an extra corp `labs`, and labs' callback secret. */
function harnessWithLabs(): Harness {
  const h = createHarness();
  const i = h.config.tenants.findIndex((t) => t.id === 'sandbox-wecom');
  const raw = JSON.parse(JSON.stringify(h.config.tenants[i])) as Record<string, unknown>;
  const [withLabs] = parseTenantsConfig({ tenants: [{ ...raw, channels: [{ id: 'labs', vendor: 'wecom', corpId: LABS.receiverId, agentId: '1000009' }] }] }, 'test').tenants;
  (h.config.tenants as unknown[])[i] = withLabs;
  h.secrets.set('sandbox-wecom/wecom/labs', { callbackToken: LABS.token, callbackAesKey: LABS.aesKey });
  return h;
}

function post(t: CallbackTenant, xml: string, nonce: string): CallbackRequest {
  const enc = wecomLib.encrypt(t.aesKey, xml, t.receiverId);
  return { method: 'POST', rawQuery: `msg_signature=${wecomLib.getSignature(t.token, ts, nonce, enc)}&timestamp=${ts}&nonce=${nonce}`, body: wecomEnvelope(enc, t.receiverId, '1000009'), contentType: 'text/xml' };
}

describe('an extra WeCom corp\'s callback route', () => {
  it('answers the URL verification with its own keys, and refuses the first corp\'s keys', async () => {
    const h = harnessWithLabs();
    const echostr = wecomLib.encrypt(LABS.aesKey, '4242', LABS.receiverId);
    const sig = wecomLib.getSignature(LABS.token, ts, '77', echostr);
    const get = (sigValue: string): CallbackRequest => ({ method: 'GET', rawQuery: `msg_signature=${sigValue}&timestamp=${ts}&nonce=77&echostr=${encodeURIComponent(echostr)}`, body: '', contentType: 'text/plain' });
    expect(await h.send('wecom', get(sig), { channelId: 'labs' })).toMatchObject({ status: 200, body: '4242' });
    // The same request on the first corp's URL: signed with the wrong token there.
    expect((await h.send('wecom', get(sig))).status).toBe(401);
    // The first corp's token on labs' URL.
    const main = h.tenants.wecom;
    const mainEcho = wecomLib.encrypt(main.aesKey, '4242', main.receiverId);
    const mainGet: CallbackRequest = { method: 'GET', rawQuery: `msg_signature=${wecomLib.getSignature(main.token, ts, '77', mainEcho)}&timestamp=${ts}&nonce=77&echostr=${encodeURIComponent(mainEcho)}`, body: '', contentType: 'text/plain' };
    expect((await h.send('wecom', mainGet, { channelId: 'labs' })).status).toBe(401);
  });

  it('queues its events naming the channel, and refuses an event for another corp id signed with its keys', async () => {
    const h = harnessWithLabs();
    const xml = wecomContactXml({ corpId: LABS.receiverId, changeType: 'create_user', userId: 'labs-user', createTime: Number(ts) });
    expect(await h.send('wecom', post(LABS, xml, '1001'), { channelId: 'labs' })).toMatchObject({ status: 200 });
    expect(h.queue.contactEvents()).toEqual([expect.objectContaining({ tenantId: 'sandbox-wecom', vendor: 'wecom', channelId: 'labs', changes: [{ kind: 'person', id: 'labs-user', action: 'upsert' }] })]);
    // labs' keys, but encrypted for the first corp's id: not this URL's corp.
    const other = { ...LABS, receiverId: h.tenants.wecom.receiverId };
    const wrong = await h.send('wecom', post(other, wecomContactXml({ corpId: other.receiverId, userId: 'x', createTime: Number(ts) }), '1002'), { channelId: 'labs' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'CALLBACK.WRONG_RECEIVER' });
    expect(h.queue.contactEvents()).toHaveLength(1);
  });

  it('a vendor retry on the extra corp\'s URL is queued once, deduplicated under a key naming the channel', async () => {
    const h = harnessWithLabs();
    const main = h.tenants.wecom;
    const same = (corpId: string) => wecomContactXml({ corpId, changeType: 'delete_user', userId: 'zhangsan', createTime: Number(ts) });
    expect((await h.send('wecom', post(main, same(main.receiverId), '2001'))).status).toBe(200);
    expect((await h.send('wecom', post(LABS, same(LABS.receiverId), '2002'), { channelId: 'labs' })).status).toBe(200);
    // A vendor retry on labs' URL: acknowledged, not queued again.
    expect((await h.send('wecom', post(LABS, same(LABS.receiverId), '2003'), { channelId: 'labs' })).status).toBe(200);
    expect(h.queue.contactEvents().map((m) => m.channelId ?? '(top-level)')).toEqual(['(top-level)', 'labs']);
    // The top-level app keeps its key shape; the channel's is apart (WeCom ids are content hashes).
    const keys = [...new Set(h.onceCalls.map((c) => c.key.replace(/sha256:[0-9a-f]+/, 'sha256:…')))];
    expect(keys).toEqual(['wecom:sha256:…', 'wecom/labs:sha256:…']);
  });

  it('answers the same 404 for a channel the tenant does not have, and for the top-level id as a channel', async () => {
    const h = harnessWithLabs();
    const xml = wecomContactXml({ corpId: LABS.receiverId, userId: 'u', createTime: Number(ts) });
    for (const channelId of ['nope', 'wecom']) {
      const res = await h.send('wecom', post(LABS, xml, '3001'), { channelId });
      expect(res.status, channelId).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'TENANT.UNKNOWN' });
    }
    // A DingTalk route naming the WeCom channel: not a DingTalk channel.
    expect((await h.send('dingtalk', post(LABS, xml, '3002'), { tenantId: 'sandbox-wecom', channelId: 'labs' })).status).toBe(404);
    expect(h.onceCalls).toEqual([]);
  });
});
