/**
 * DingTalk contact events: decrypted push payloads → neutral {@link ContactEvent}s.
 *
 * Three payload shapes exist (dingtalk.md §3): legacy `{"EventType","TimeStamp","CorpId",
 * "UserId":[…]}`, current HTTP push `{"EventType","EventTime","CorpId","BizId","eventId",
 * "timeStamp","userId":[…]}`, and Stream `{"eventType","eventId","eventCorpId","data":{…}}`.
 * Keys are therefore matched case-insensitively (UserId/UserID/userId, DeptId/deptId…), both
 * at the top level and inside `data`. Dept ids arrive as numbers in some captures, strings
 * elsewhere; both become strings.
 *
 * Only ids are kept. user_modify_org's `diffInfo` (names, e-mails, phones) is ignored on
 * purpose: the worker re-reads the user from the directory API.
 */
import { CallbackError, WrongReceiverError, sha256Hex } from '../../crypto/callback-crypto-common';
import { safeEventType, sourceIdSchema, uniqueChanges, type ContactChange, type ContactEvent } from '../../contracts/contact-event';

/** Result of parsing one decrypted DingTalk payload. */
export type DingtalkEventParse =
  /** URL check (console save): answer encrypted "success", enqueue nothing. */
  | { type: 'check_url'; eventType: string }
  /** A contact change to enqueue. */
  | { type: 'contact'; event: ContactEvent }
  /** A recognized payload we do not act on (org_admin_add, label_*, …): acknowledge it. */
  | { type: 'ignored'; eventType: string };

/**
 * `check_url` is what saving the URL sends (V1's plaintext). The suite variants are what ISV
 * apps get (V3); harmless to answer the same way.
 */
const CHECK_TYPES = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);

const CONTACT_TYPES: Record<string, { kind: ContactChange['kind']; action: ContactChange['action'] }> = {
  user_add_org: { kind: 'person', action: 'upsert' },
  user_modify_org: { kind: 'person', action: 'upsert' },
  // Re-activation: the user is (again) a member; re-read and apply.
  user_active_org: { kind: 'person', action: 'upsert' },
  user_leave_org: { kind: 'person', action: 'delete' },
  org_dept_create: { kind: 'department', action: 'upsert' },
  org_dept_modify: { kind: 'department', action: 'upsert' },
  org_dept_remove: { kind: 'department', action: 'delete' },
};

/** Field-name lookups that ignore case, over the top level and the Stream `data` object. */
class Fields {
  private readonly map = new Map<string, unknown[]>();
  constructor(payload: Record<string, unknown>) {
    this.add(payload);
    const data = this.first('data');
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) this.add(data as Record<string, unknown>);
  }
  private add(obj: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(obj)) {
      const key = k.toLowerCase();
      const list = this.map.get(key);
      if (list) list.push(v);
      else this.map.set(key, [v]);
    }
  }
  all(...names: string[]): unknown[] {
    return names.flatMap((n) => this.map.get(n) ?? []);
  }
  first(...names: string[]): unknown {
    return this.all(...names)[0];
  }
  firstString(...names: string[]): string | undefined {
    const v = this.all(...names).find((x) => (typeof x === 'string' && x !== '') || typeof x === 'number');
    return v === undefined ? undefined : String(v);
  }
}

function badPayload(message: string): CallbackError {
  return new CallbackError('CALLBACK.BAD_PAYLOAD', message);
}

/** Ids from `["a","b"]`, `[600582447]`, `"a"` or `600582447`; every key spelling is merged. */
function collectIds(values: unknown[]): string[] {
  const out: string[] = [];
  const push = (v: unknown): void => {
    let id: string;
    if (typeof v === 'string') id = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) id = String(v);
    else throw badPayload('event names an id that is neither a string nor a safe integer');
    if (!sourceIdSchema.safeParse(id).success) throw badPayload('event names an invalid id');
    out.push(id);
  };
  for (const v of values) {
    if (Array.isArray(v)) v.forEach(push);
    else if (v !== undefined && v !== null) push(v);
  }
  return out;
}

/** ms timestamps as numbers or digit strings; values below 1e12 are seconds. */
function toMs(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n;
}

const VENDOR_EVENT_ID = /^[\x21-\x7e]{1,128}$/;

export interface DingtalkParseOptions {
  /** When given, a payload naming another CorpId is refused (CALLBACK.WRONG_RECEIVER). */
  corpId?: string;
}

/**
 * Classifies and parses one decrypted DingTalk payload (see verifyAndDecrypt).
 *
 * Event identity (for deduplication): the payload's `eventId` (current pushes and Stream
 * carry one, dingtalk.md §1 "幂等"); legacy payloads have none, so it is
 * `sha256:` + hex of [EventType, timestamp, CorpId, BizId, kind, sorted ids]. A retried push
 * re-encrypts the same payload, so both identities are stable across retries.
 *
 * @throws CallbackError CALLBACK.BAD_PAYLOAD when EventType is missing or a contact event
 *         names no ids or invalid ids; CALLBACK.WRONG_RECEIVER on a foreign CorpId.
 */
export function parseDingtalkEvent(payload: Record<string, unknown>, options: DingtalkParseOptions = {}): DingtalkEventParse {
  const f = new Fields(payload);
  const rawType = f.firstString('eventtype');
  if (rawType === undefined) throw badPayload('payload has no EventType');
  if (CHECK_TYPES.has(rawType)) return { type: 'check_url', eventType: rawType };

  if (options.corpId !== undefined) {
    const corpIds = f.all('corpid', 'eventcorpid').filter((v) => v !== undefined && v !== null && v !== '');
    if (corpIds.some((c) => c !== options.corpId)) throw new WrongReceiverError('event names another CorpId');
  }

  const spec = CONTACT_TYPES[rawType];
  if (!spec) return { type: 'ignored', eventType: safeEventType(rawType) };

  const ids = [...new Set(collectIds(f.all(spec.kind === 'person' ? 'userid' : 'deptid')))];
  if (ids.length === 0) throw badPayload('contact event names no ids');
  const changes = uniqueChanges(ids.map((id) => ({ kind: spec.kind, id, action: spec.action })));

  const rawTime = f.firstString('eventtime', 'timestamp', 'eventborntime');
  const occurredAt = toMs(rawTime);
  const vendorId = f.firstString('eventid');
  const eventId =
    vendorId !== undefined && VENDOR_EVENT_ID.test(vendorId)
      ? vendorId
      : 'sha256:' +
        sha256Hex(JSON.stringify(['dingtalk', rawType, rawTime ?? '', f.firstString('corpid', 'eventcorpid') ?? '', f.firstString('bizid') ?? '', spec.kind, [...ids].sort()]));

  return {
    type: 'contact',
    event: { vendor: 'dingtalk', eventId, eventType: rawType, ...(occurredAt === undefined ? {} : { occurredAt }), changes },
  };
}
