/**
 * Build the callback a vendor would send, correctly signed and encrypted with a tenant's
 * callback token and AES key, and judge the answer the way the vendor would. Used by
 * `qiye-bridge simulate callback` (a newcomer watches a new colleague get a mailbox), the
 * callbacks benchmark and tests; simulators may use it to push events.
 *
 * Payload shapes follow the references: DingTalk's current HTTP push shape (dingtalk.md §3,
 * shape 2: EventType, EventTime, CorpId, eventId, timeStamp, userId / deptId), WeCom's
 * change_contact XML (wecom.md §3) in the POST envelope (wecom.md §1). Ids only: real
 * callbacks may carry names and phones, which the bridge ignores anyway.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { CONTACT_EVENT_VENDORS, sourceIdSchema, type ContactEventVendor } from '../../contracts/contact-event';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { decrypt, encrypt, randomAlnum, signature, verifySignature } from '../../crypto/callback-crypto-common';
import { ValidationError } from '../../errors/app-error';

/** DingTalk events (dingtalk.md §3) and what they name; check_url is the console's URL check. */
export const DINGTALK_SIMULATED_EVENTS = {
  user_add_org: 'user',
  user_modify_org: 'user',
  user_leave_org: 'user',
  user_active_org: 'user',
  org_dept_create: 'dept',
  org_dept_modify: 'dept',
  org_dept_remove: 'dept',
  check_url: 'none',
} as const;

/** WeCom change_contact ChangeTypes (wecom.md §3); verify_url is the GET URL verification. */
export const WECOM_SIMULATED_EVENTS = {
  create_user: 'user',
  update_user: 'user',
  delete_user: 'user',
  create_party: 'dept',
  update_party: 'dept',
  delete_party: 'dept',
  verify_url: 'none',
} as const;

export type SimulatedEvent = keyof typeof DINGTALK_SIMULATED_EVENTS | keyof typeof WECOM_SIMULATED_EVENTS;

/** Which vendor an event name belongs to (the names do not overlap), or undefined. */
export function vendorOfEvent(event: string): ContactEventVendor | undefined {
  if (Object.prototype.hasOwnProperty.call(DINGTALK_SIMULATED_EVENTS, event)) return 'dingtalk';
  if (Object.prototype.hasOwnProperty.call(WECOM_SIMULATED_EVENTS, event)) return 'wecom';
  return undefined;
}

export interface SimulateCallbackInput {
  /** For an extra channel, the tenant as that channel sees it (shared/config/channels.ts channelView). */
  tenant: TenantConfig;
  /** An extra channel's id: the callback goes to its own route `/callbacks/<vendor>/<tenant>/<channel>`. */
  channelId?: string;
  /** The tenant's (or the extra channel's) callbackToken and callbackAesKey. */
  token: string;
  aesKey: string;
  event: SimulatedEvent;
  /** User ids (user events) or department ids (department events). DingTalk takes several. */
  ids?: readonly string[];
  /** WeCom update_user only: the NewUserID (the userid was changed). */
  newUserId?: string;
  /** ms since the epoch. */
  now: number;
  /** DingTalk: the eventId to send (default random): the same id twice is a vendor retry. */
  eventId?: string;
}

export interface SimulatedCallback {
  vendor: ContactEventVendor;
  method: 'GET' | 'POST';
  /** `/callbacks/<vendor>/<tenant>`, or `/callbacks/<vendor>/<tenant>/<channel>` for an extra channel */
  path: string;
  /** URL-encoded, without `?`. */
  rawQuery: string;
  body: string;
  contentType: string;
  /**
   * Judges the HTTP answer as the vendor would: DingTalk needs 200 and a correctly signed
   * encrypted "success" for its receiver; WeCom POST needs 200; WeCom GET needs the echostr
   * plaintext as the whole body.
   */
  verdict(status: number, body: string): { acknowledged: boolean; detail: string };
}

/**
 * Builds one signed, encrypted callback for the tenant.
 * @throws ValidationError for an event of a vendor the tenant does not have, missing or
 *         invalid ids, or --new-user on anything but update_user.
 */
export function buildSimulatedCallback(input: SimulateCallbackInput): SimulatedCallback {
  const vendor = vendorOfEvent(input.event);
  if (!vendor) throw new ValidationError(`Unknown event "${input.event}".`);
  const ids = [...(input.ids ?? [])];
  for (const id of ids) {
    if (!sourceIdSchema.safeParse(id).success) throw new ValidationError('Ids must be 1-256 characters without control characters.');
  }
  const needs = vendor === 'dingtalk' ? DINGTALK_SIMULATED_EVENTS[input.event as keyof typeof DINGTALK_SIMULATED_EVENTS] : WECOM_SIMULATED_EVENTS[input.event as keyof typeof WECOM_SIMULATED_EVENTS];
  if (needs === 'none' && ids.length > 0) throw new ValidationError(`${input.event} names no user or department.`);
  if (needs !== 'none' && ids.length === 0) throw new ValidationError(`${input.event} needs --${needs} <id>.`);
  if (vendor === 'wecom' && ids.length > 1) throw new ValidationError('A WeCom change_contact event names one user or department.');
  if (input.newUserId !== undefined && input.event !== 'update_user') throw new ValidationError('--new-user only goes with update_user.');
  const path = `/callbacks/${vendor}/${encodeURIComponent(input.tenant.id)}${input.channelId === undefined ? '' : `/${encodeURIComponent(input.channelId)}`}`;
  return vendor === 'dingtalk' ? buildDingtalk(input, ids, needs, path) : buildWecom(input, ids, needs, path);
}

const q = (params: Array<[string, string]>): string => params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

function buildDingtalk(input: SimulateCallbackInput, ids: string[], needs: string, path: string): SimulatedCallback {
  const app = input.tenant.dingtalk;
  if (!app) throw new ValidationError(`Tenant "${input.tenant.id}" has no DingTalk app; ${input.event} is a DingTalk event.`);
  let payload: Record<string, unknown>;
  if (input.event === 'check_url') {
    payload = { EventType: 'check_url' };
  } else {
    payload = {
      EventType: input.event,
      EventTime: input.now,
      CorpId: app.corpId,
      eventId: input.eventId ?? randomBytes(16).toString('hex'),
      timeStamp: String(input.now),
      // Department ids are numbers in DingTalk's payloads (dingtalk.md §3).
      ...(needs === 'user' ? { userId: ids } : { deptId: ids.map((id) => (/^\d{1,15}$/.test(id) ? Number(id) : id)) }),
    };
  }
  const enc = encrypt(JSON.stringify(payload), app.appKey, input.aesKey);
  const timestamp = String(input.now);
  const nonce = randomAlnum(8);
  return {
    vendor: 'dingtalk',
    method: 'POST',
    path,
    rawQuery: q([['signature', signature(input.token, timestamp, nonce, enc)], ['timestamp', timestamp], ['nonce', nonce]]),
    body: JSON.stringify({ encrypt: enc }),
    contentType: 'application/json',
    verdict(status, body) {
      if (status !== 200) return { acknowledged: false, detail: `HTTP ${status}` };
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return { acknowledged: false, detail: 'the answer is not JSON' };
      }
      const { msg_signature: sig, timeStamp, nonce: n, encrypt: e } = r;
      if (typeof sig !== 'string' || typeof timeStamp !== 'string' || typeof n !== 'string' || typeof e !== 'string') {
        return { acknowledged: false, detail: 'the answer lacks msg_signature, timeStamp, nonce or encrypt' };
      }
      if (!verifySignature(sig, input.token, timeStamp, n, e)) return { acknowledged: false, detail: 'the answer\'s msg_signature does not verify' };
      try {
        const d = decrypt(e, input.aesKey);
        if (d.receiveId !== app.appKey) return { acknowledged: false, detail: 'the answer is encrypted for another receiver' };
        if (d.message !== 'success') return { acknowledged: false, detail: 'the answer does not decrypt to "success" (DingTalk error 71009)' };
      } catch {
        return { acknowledged: false, detail: 'the answer does not decrypt' };
      }
      return { acknowledged: true, detail: 'encrypted "success" verified' };
    },
  };
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function buildWecom(input: SimulateCallbackInput, ids: string[], needs: string, path: string): SimulatedCallback {
  const corp = input.tenant.wecom;
  if (!corp) throw new ValidationError(`Tenant "${input.tenant.id}" has no WeCom corp; ${input.event} is a WeCom event.`);
  const timestamp = String(Math.floor(input.now / 1000)); // WeCom timestamps are seconds
  const nonce = String(randomInt(100_000_000, 2_000_000_000));

  if (input.event === 'verify_url') {
    const plaintext = String(randomInt(1, 2 ** 47)) + String(randomInt(1_000_000, 9_999_999));
    const echostr = encrypt(plaintext, corp.corpId, input.aesKey);
    return {
      vendor: 'wecom',
      method: 'GET',
      path,
      // encodeURIComponent turns '+' into %2B, as WeCom does (wecom.md §1).
      rawQuery: q([['msg_signature', signature(input.token, timestamp, nonce, echostr)], ['timestamp', timestamp], ['nonce', nonce], ['echostr', echostr]]),
      body: '',
      contentType: 'text/plain',
      verdict(status, body) {
        if (status !== 200) return { acknowledged: false, detail: `HTTP ${status}` };
        return body === plaintext ? { acknowledged: true, detail: 'echostr plaintext returned' } : { acknowledged: false, detail: 'the answer is not the bare echostr plaintext' };
      },
    };
  }

  const id = ids[0] as string;
  const inner =
    `<xml><ToUserName>${xmlEscape(corp.corpId)}</ToUserName><FromUserName>sys</FromUserName><CreateTime>${timestamp}</CreateTime>` +
    `<MsgType>event</MsgType><Event>change_contact</Event><ChangeType>${input.event}</ChangeType>` +
    (needs === 'user' ? `<UserID>${xmlEscape(id)}</UserID>` : `<Id>${xmlEscape(id)}</Id>`) +
    (input.newUserId !== undefined ? `<NewUserID>${xmlEscape(input.newUserId)}</NewUserID>` : '') +
    `</xml>`;
  const enc = encrypt(inner, corp.corpId, input.aesKey);
  return {
    vendor: 'wecom',
    method: 'POST',
    path,
    rawQuery: q([['msg_signature', signature(input.token, timestamp, nonce, enc)], ['timestamp', timestamp], ['nonce', nonce]]),
    body: `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><AgentID><![CDATA[${corp.agentId}]]></AgentID><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
    contentType: 'text/xml',
    verdict(status, body) {
      // Only HTTP 200 is success for WeCom; the body may be empty (wecom.md §1).
      if (status !== 200) return { acknowledged: false, detail: `HTTP ${status}` };
      return { acknowledged: true, detail: body === '' ? 'HTTP 200, empty body' : 'HTTP 200' };
    },
  };
}

/** The vendors a tenant can receive callbacks from. */
export function callbackVendorsOf(tenant: TenantConfig): ContactEventVendor[] {
  return CONTACT_EVENT_VENDORS.filter((v) => tenant[v] !== undefined);
}
