/**
 * WeCom POST callbacks: XML envelope → verified inner message → neutral {@link ContactEvent}.
 *
 * Envelope (wecom.md §1): `<xml><ToUserName>corpid</ToUserName><AgentID>…</AgentID>
 * <Encrypt>…</Encrypt></xml>`. Inner message (wecom.md §3): `<xml>` with ToUserName,
 * FromUserName=sys, CreateTime (seconds), MsgType=event, Event=change_contact, ChangeType and
 * the ids (UserID / NewUserID / Id) plus personal fields we never copy.
 *
 * Both documents go through the strict safe-xml reader (no DTDs, entities or PIs).
 */
import { CallbackError, BadCallbackRequestError, MAX_CALLBACK_BYTES, WrongReceiverError, checkSize, sha256Hex } from '../../crypto/callback-crypto-common';
import { verifyAndDecrypt, type WecomCredentials } from '../../crypto/wecom-callback-crypto';
import { safeEventType, sourceIdSchema, type ContactChange, type ContactEvent } from '../../contracts/contact-event';
import { flatFields, parseSafeXml, type XmlElement } from './safe-xml';

export interface WecomDecryptMessageInput extends WecomCredentials {
  /** Decoded query parameters (msg_signature, timestamp, nonce); see parseRawQuery. */
  query: Readonly<Record<string, string | undefined>>;
  /** The raw POST body (XML). */
  body: string | Buffer;
  /** Current time, ms since the epoch. */
  now: number;
  /** Accepted clock difference in seconds (default 300). */
  windowSeconds?: number;
}

/** A verified, decrypted WeCom message. Holds decrypted personal data: never log it. */
export interface WecomMessage {
  root: XmlElement;
  /** The inner root's text children by name (ToUserName, Event, ChangeType, UserID…). */
  fields: ReadonlyMap<string, string>;
  /** The envelope's AgentID ('' or absent for the 通讯录同步 assistant). */
  agentId?: string;
}

/**
 * Verifies and decrypts one POST callback: size limit, safe XML envelope, signature over
 * `<Encrypt>`, timestamp window (seconds), decrypt, receiveid = corpId, envelope and inner
 * ToUserName = corpId (when present), safe XML inner message.
 *
 * @throws CallbackError TOO_LARGE, BAD_XML, UNSAFE_XML, BAD_REQUEST, BAD_SIGNATURE,
 *         STALE_TIMESTAMP, BAD_CIPHERTEXT, WRONG_RECEIVER.
 */
export function decryptMessage(input: WecomDecryptMessageInput): WecomMessage {
  const body = typeof input.body === 'string' ? input.body : Buffer.from(input.body).toString('utf8');
  checkSize(body, MAX_CALLBACK_BYTES, 'callback body');
  const envelope = parseSafeXml(body);
  if (envelope.name !== 'xml') throw new CallbackError('CALLBACK.BAD_XML', 'callback body root element must be "xml"');
  const outer = flatFields(envelope);
  const encrypt = outer.get('Encrypt');
  if (!encrypt) throw new BadCallbackRequestError('callback body has no Encrypt');

  const plaintext = verifyAndDecrypt({ ...input, encrypt });

  // The envelope's ToUserName is not signed; the receiveid inside the ciphertext already
  // matched. A mismatch still means the request was routed to the wrong tenant: refuse it.
  const to = outer.get('ToUserName');
  if (to !== undefined && to !== '' && to !== input.corpId) throw new WrongReceiverError('envelope ToUserName is another corp');

  const root = parseSafeXml(plaintext);
  if (root.name !== 'xml') throw new CallbackError('CALLBACK.BAD_XML', 'decrypted message root element must be "xml"');
  const fields = flatFields(root);
  const innerTo = fields.get('ToUserName');
  if (innerTo !== undefined && innerTo !== '' && innerTo !== input.corpId) throw new WrongReceiverError('message ToUserName is another corp');

  const agentId = outer.get('AgentID');
  return { root, fields, ...(agentId === undefined ? {} : { agentId }) };
}

/** Result of parsing one verified WeCom message. */
export type WecomEventParse =
  /** A contact change to enqueue. */
  | { type: 'contact'; event: ContactEvent }
  /** A recognized message we do not act on (text messages, update_tag, other events). */
  | { type: 'ignored'; eventType: string };

const CHANGE_TYPES: Record<string, { kind: ContactChange['kind']; action: ContactChange['action'] }> = {
  create_user: { kind: 'person', action: 'upsert' },
  update_user: { kind: 'person', action: 'upsert' },
  delete_user: { kind: 'person', action: 'delete' },
  create_party: { kind: 'department', action: 'upsert' },
  update_party: { kind: 'department', action: 'upsert' },
  delete_party: { kind: 'department', action: 'delete' },
};

function badPayload(message: string): CallbackError {
  return new CallbackError('CALLBACK.BAD_PAYLOAD', message);
}

function requireId(fields: ReadonlyMap<string, string>, name: string): string {
  const v = fields.get(name);
  if (!v) throw badPayload(`change_contact event has no ${name}`);
  if (!sourceIdSchema.safeParse(v).success) throw badPayload(`change_contact event has an invalid ${name}`);
  return v;
}

/** Canonical form of the element tree, for hashing (whitespace between elements is ignored). */
function canonical(e: XmlElement): unknown {
  return [e.name, e.text, e.children.map(canonical)];
}

/**
 * Classifies a verified message; turns Event=change_contact user/party changes into a
 * {@link ContactEvent}.
 *
 * NewUserID (update_user, wecom.md §3: a system-generated userid can be changed once) is a
 * **rename**: one change `{kind: person, id: <old>, action: upsert, newId: <new>}`. Treating it
 * as delete(old) + create(new) would delete the person's mailbox and its mail, then create an
 * empty one; the worker instead moves the mapping from old to new and re-reads the new id.
 *
 * Event identity (dedup): WeCom events carry no event id. The docs' FromUserName+CreateTime
 * (wecom.md §1) is not unique for contact events (FromUserName is always `sys`, and a bulk
 * import creates many users in the same second), so the identity is `sha256:` + hex of the
 * whole decrypted message (canonical element tree). A retry re-encrypts the same message, so
 * it hashes the same; two genuinely different changes never do.
 *
 * @throws CallbackError CALLBACK.BAD_PAYLOAD when a contact change lacks its id or the id is
 *         invalid.
 */
export function parseWecomEvent(message: Pick<WecomMessage, 'root' | 'fields'>): WecomEventParse {
  const { fields } = message;
  const msgType = fields.get('MsgType');
  const event = fields.get('Event');
  if (msgType !== 'event') return { type: 'ignored', eventType: safeEventType(`msg/${msgType ?? 'none'}`) };
  if (event !== 'change_contact') return { type: 'ignored', eventType: safeEventType(`event/${event ?? 'none'}`) };
  const changeType = fields.get('ChangeType') ?? '';
  const eventType = safeEventType(`change_contact/${changeType}`);
  const spec = CHANGE_TYPES[changeType];
  if (!spec) return { type: 'ignored', eventType };

  let change: ContactChange;
  if (spec.kind === 'person') {
    const id = requireId(fields, 'UserID');
    change = { kind: 'person', id, action: spec.action };
    if (changeType === 'update_user' && fields.get('NewUserID')) {
      const newId = requireId(fields, 'NewUserID');
      if (newId !== id) change.newId = newId;
    }
  } else {
    change = { kind: 'department', id: requireId(fields, 'Id'), action: spec.action };
  }

  const createTime = fields.get('CreateTime')?.trim();
  const occurredAt = createTime && /^\d{1,12}$/.test(createTime) ? Number(createTime) * 1000 : undefined;
  const eventId = 'sha256:' + sha256Hex(JSON.stringify(canonical(message.root)));
  return {
    type: 'contact',
    event: { vendor: 'wecom', eventId, eventType, ...(occurredAt === undefined ? {} : { occurredAt }), changes: [change] },
  };
}
