import { describe, expect, it } from 'vitest';
import { parseDingtalkEvent } from '../../shared/adapters/dingtalk/dingtalk-events';
import { encrypt, signature } from '../../shared/crypto/callback-crypto-common';
import { verifyAndDecrypt } from '../../shared/crypto/dingtalk-callback-crypto';
import { contactEventMessageSchema, toContactEventMessages } from '../../shared/contracts/contact-event';
import { codeOf, contact } from './callback-test-helpers';

describe('parseDingtalkEvent', () => {
  it('recognizes check_url (and the ISV suite checks) as URL checks', () => {
    expect(parseDingtalkEvent({ EventType: 'check_url' })).toEqual({ type: 'check_url', eventType: 'check_url' });
    expect(parseDingtalkEvent({ EventType: 'check_create_suite_url', Random: 'x' }).type).toBe('check_url');
  });

  it.each([
    ['user_add_org', 'person', 'upsert'],
    ['user_modify_org', 'person', 'upsert'],
    ['user_active_org', 'person', 'upsert'],
    ['user_leave_org', 'person', 'delete'],
  ] as const)('maps %s to a %s %s for every named user', (eventType, kind, action) => {
    const e = contact(parseDingtalkEvent({ EventType: eventType, TimeStamp: '1532670599144', CorpId: 'dingcorp', UserId: ['u1', 'u2'] }));
    expect(e.changes).toEqual([
      { kind, id: 'u1', action },
      { kind, id: 'u2', action },
    ]);
    expect(e).toMatchObject({ vendor: 'dingtalk', eventType, occurredAt: 1532670599144 });
  });

  it.each([
    ['org_dept_create', 'upsert'],
    ['org_dept_modify', 'upsert'],
    ['org_dept_remove', 'delete'],
  ] as const)('maps %s to department %s, turning numeric ids into strings', (eventType, action) => {
    const e = contact(parseDingtalkEvent({ EventType: eventType, DeptId: [600582447, 2] }));
    expect(e.changes).toEqual([
      { kind: 'department', id: '600582447', action },
      { kind: 'department', id: '2', action },
    ]);
  });

  it('reads the legacy, current-push and Stream shapes alike (keys matched case-insensitively)', () => {
    const legacy = contact(parseDingtalkEvent({ TimeStamp: '1532670599144', CorpId: 'ding1', UserId: ['a'], EventType: 'user_add_org' }));
    const current = contact(
      parseDingtalkEvent({ EventType: 'user_add_org', EventTime: 1700000000123, CorpId: 'ding1', BizId: 'b1', eventId: 'e-1', timeStamp: '1700000000000', userId: ['a'] }),
    );
    const stream = contact(
      parseDingtalkEvent({ eventUnifiedAppId: 'x', eventCorpId: 'ding1', eventType: 'user_add_org', eventId: 'e-2', eventBornTime: 1700000000456, data: { timeStamp: '1700000000000', userId: ['a'] } }),
    );
    const upperD = contact(parseDingtalkEvent({ EVENTTYPE: 'user_leave_org', UserID: ['a'], OptStaffId: 'admin' }));
    for (const e of [legacy, current, stream]) expect(e.changes).toEqual([{ kind: 'person', id: 'a', action: 'upsert' }]);
    expect(upperD.changes).toEqual([{ kind: 'person', id: 'a', action: 'delete' }]);
    expect(current.occurredAt).toBe(1700000000123);
    expect(stream.occurredAt).toBe(1700000000000);
    const dept = contact(parseDingtalkEvent({ eventType: 'org_dept_create', data: { deptId: [432825033] } }));
    expect(dept.changes).toEqual([{ kind: 'department', id: '432825033', action: 'upsert' }]);
  });

  it('merges ids from every spelling and removes duplicates', () => {
    const e = contact(parseDingtalkEvent({ EventType: 'user_add_org', UserId: ['a', 'b', 'a'], userId: 'c', data: { USERID: ['b', 'd'] } }));
    expect(e.changes.map((c) => c.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('uses the vendor eventId as the event identity when there is one', () => {
    expect(contact(parseDingtalkEvent({ EventType: 'user_add_org', eventId: 'a1b2c3', userId: ['u'] })).eventId).toBe('a1b2c3');
  });

  it('hashes type, timestamp, corp, BizId and ids when there is no eventId: stable, and distinct for distinct events', () => {
    const p = { EventType: 'user_add_org', TimeStamp: '1532670599144', CorpId: 'ding1', UserId: ['u2', 'u1'] };
    const a = contact(parseDingtalkEvent(p)).eventId;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(contact(parseDingtalkEvent({ ...p, UserId: ['u1', 'u2'] })).eventId).toBe(a); // order-insensitive
    expect(contact(parseDingtalkEvent({ ...p, TimeStamp: '1532670599145' })).eventId).not.toBe(a);
    expect(contact(parseDingtalkEvent({ ...p, UserId: ['u1'] })).eventId).not.toBe(a);
    expect(contact(parseDingtalkEvent({ ...p, EventType: 'user_leave_org' })).eventId).not.toBe(a);
    expect(contact(parseDingtalkEvent({ ...p, eventId: 'bad id with spaces' })).eventId).toMatch(/^sha256:/);
  });

  it('ignores (without error) event types it does not act on, including unknown ones', () => {
    for (const t of ['org_admin_add', 'org_admin_remove', 'org_remove', 'org_change', 'label_user_change', 'label_conf_add', 'bpms_task_change', 'something_new']) {
      expect(parseDingtalkEvent({ EventType: t, UserId: ['u'] })).toEqual({ type: 'ignored', eventType: t });
    }
    expect(parseDingtalkEvent({ EventType: 'weird type<script>' })).toEqual({ type: 'ignored', eventType: 'weird_type_script_' });
  });

  it('keeps ids only: diffInfo and other personal fields never reach the event', () => {
    const e = contact(
      parseDingtalkEvent({
        EventType: 'user_modify_org',
        eventId: 'e9',
        userId: ['u7'],
        diffInfo: [{ userid: 'u7', prev: { name: '张三', email: 'zs@acme.com' }, curr: { name: '张四', email: 'z4@acme.com', telephone: '13800000000' } }],
      }),
    );
    const text = JSON.stringify(e);
    for (const personal of ['张三', '张四', 'zs@acme.com', '13800000000', 'diffInfo']) expect(text).not.toContain(personal);
    const [msg] = toContactEventMessages(e, { tenantId: 'acme-dingtalk', receivedAt: 1 });
    expect(contactEventMessageSchema.parse(msg)).toEqual({
      v: 1,
      tenantId: 'acme-dingtalk',
      vendor: 'dingtalk',
      eventId: 'e9',
      eventType: 'user_modify_org',
      receivedAt: 1,
      changes: [{ kind: 'person', id: 'u7', action: 'upsert' }],
    });
  });

  it('refuses a payload naming another CorpId when the tenant corpId is given', () => {
    const p = { EventType: 'user_add_org', CorpId: 'dingother', UserId: ['u'] };
    expect(codeOf(() => parseDingtalkEvent(p, { corpId: 'dingmine' }))).toBe('CALLBACK.WRONG_RECEIVER');
    expect(parseDingtalkEvent(p, { corpId: 'dingother' }).type).toBe('contact');
    expect(codeOf(() => parseDingtalkEvent({ eventType: 'user_add_org', eventCorpId: 'dingother', data: { userId: ['u'] } }, { corpId: 'dingmine' }))).toBe(
      'CALLBACK.WRONG_RECEIVER',
    );
  });

  it.each([
    ['no EventType', { UserId: ['u'] }],
    ['no ids', { EventType: 'user_add_org' }],
    ['an empty id list', { EventType: 'user_leave_org', UserId: [] }],
    ['an object id', { EventType: 'user_add_org', UserId: [{ id: 'u' }] }],
    ['an empty id', { EventType: 'user_add_org', UserId: [''] }],
    ['a control character in an id', { EventType: 'user_add_org', UserId: ['a\nb'] }],
    ['a fractional dept id', { EventType: 'org_dept_create', DeptId: [1.5] }],
    ['an unsafe integer dept id', { EventType: 'org_dept_create', DeptId: [2 ** 60] }],
    ['an over-long id', { EventType: 'user_add_org', UserId: ['x'.repeat(257)] }],
  ])('refuses a contact payload with %s as CALLBACK.BAD_PAYLOAD', (_name, payload) => {
    expect(codeOf(() => parseDingtalkEvent(payload as Record<string, unknown>))).toBe('CALLBACK.BAD_PAYLOAD');
  });

  it('goes end to end: encrypted push → verified payload → contact event → queue message', () => {
    const token = 'tok';
    const aesKey = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
    const now = 1_760_000_000_000;
    const enc = encrypt(JSON.stringify({ EventType: 'org_dept_remove', TimeStamp: String(now), CorpId: 'dingcorp', DeptId: [42] }), 'dingapp', aesKey);
    const { payload } = verifyAndDecrypt({
      token,
      aesKey,
      appKey: 'dingapp',
      corpId: 'dingcorp',
      query: { signature: signature(token, String(now), 'n1', enc), timestamp: String(now), nonce: 'n1' },
      body: JSON.stringify({ encrypt: enc }),
      now,
    });
    const e = contact(parseDingtalkEvent(payload, { corpId: 'dingcorp' }));
    const msgs = toContactEventMessages(e, { tenantId: 'acme', receivedAt: now });
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ vendor: 'dingtalk', eventType: 'org_dept_remove', occurredAt: now, changes: [{ kind: 'department', id: '42', action: 'delete' }] });
  });
});
