import { describe, expect, it } from 'vitest';
import {
  MAX_CHANGES_PER_MESSAGE,
  contactEventMessageSchema,
  parseContactEventMessage,
  toContactEventMessages,
  uniqueChanges,
  type ContactEvent,
} from '../../shared/contracts/contact-event';

const event: ContactEvent = {
  vendor: 'wecom',
  eventId: 'sha256:' + 'a'.repeat(64),
  eventType: 'change_contact/update_user',
  occurredAt: 1_760_000_000_000,
  changes: [{ kind: 'person', id: 'old', action: 'upsert', newId: 'new' }],
};

describe('contact event queue message (v1)', () => {
  it('builds a valid v1 message that survives a JSON round trip through the queue', () => {
    const [msg] = toContactEventMessages(event, { tenantId: 'acme-wecom', receivedAt: 1_760_000_000_500 });
    expect(msg).toEqual({
      v: 1,
      tenantId: 'acme-wecom',
      vendor: 'wecom',
      eventId: event.eventId,
      eventType: 'change_contact/update_user',
      receivedAt: 1_760_000_000_500,
      occurredAt: 1_760_000_000_000,
      changes: [{ kind: 'person', id: 'old', action: 'upsert', newId: 'new' }],
    });
    expect(parseContactEventMessage(JSON.stringify(msg))).toEqual(msg);
  });

  it('splits a large DingTalk batch into messages of at most 500 changes with derived event ids', () => {
    const big: ContactEvent = {
      vendor: 'dingtalk',
      eventId: 'evt-1',
      eventType: 'user_add_org',
      changes: Array.from({ length: 1201 }, (_, i) => ({ kind: 'person' as const, id: `u${i}`, action: 'upsert' as const })),
    };
    const msgs = toContactEventMessages(big, { tenantId: 'acme', receivedAt: 1 });
    expect(msgs.map((m) => [m.eventId, m.changes.length])).toEqual([
      ['evt-1', MAX_CHANGES_PER_MESSAGE],
      ['evt-1#1', MAX_CHANGES_PER_MESSAGE],
      ['evt-1#2', 201],
    ]);
    expect(msgs.flatMap((m) => m.changes.map((c) => c.id))).toEqual(big.changes.map((c) => c.id));
  });

  it('refuses extra fields, so no personal data or decrypted body can ride along', () => {
    const [msg] = toContactEventMessages(event, { tenantId: 'acme', receivedAt: 1 });
    expect(contactEventMessageSchema.safeParse({ ...msg, body: '<xml>…</xml>' }).success).toBe(false);
    expect(contactEventMessageSchema.safeParse({ ...msg, changes: [{ kind: 'person', id: 'u', action: 'upsert', name: '张三' }] }).success).toBe(false);
  });

  it.each([
    ['version 2', { v: 2 }],
    ['a bad tenant id', { tenantId: 'Not A Tenant' }],
    ['an unknown vendor', { vendor: 'ekp' }],
    ['no changes', { changes: [] }],
    ['an empty id', { changes: [{ kind: 'person', id: '', action: 'upsert' }] }],
    ['a control character in an id', { changes: [{ kind: 'person', id: 'a\nb', action: 'delete' }] }],
    ['newId on a department', { changes: [{ kind: 'department', id: '1', action: 'upsert', newId: '2' }] }],
    ['newId on a delete', { changes: [{ kind: 'person', id: 'a', action: 'delete', newId: 'b' }] }],
    ['newId equal to id', { changes: [{ kind: 'person', id: 'a', action: 'upsert', newId: 'a' }] }],
    ['an unknown action', { changes: [{ kind: 'person', id: 'a', action: 'purge' }] }],
    ['an event type with spaces', { eventType: 'user add' }],
    ['a fractional receivedAt', { receivedAt: 1.5 }],
  ])('refuses a message with %s', (_name, patch) => {
    const [msg] = toContactEventMessages(event, { tenantId: 'acme', receivedAt: 1 });
    expect(contactEventMessageSchema.safeParse({ ...msg, ...patch }).success).toBe(false);
  });

  it('fails at the producer, not the worker, when an event holds an invalid id', () => {
    expect(() => toContactEventMessages({ ...event, changes: [{ kind: 'person', id: '', action: 'upsert' }] }, { tenantId: 'acme', receivedAt: 1 })).toThrow();
  });

  it('uniqueChanges keeps the first change per kind and id', () => {
    expect(
      uniqueChanges([
        { kind: 'person', id: '1', action: 'upsert' },
        { kind: 'department', id: '1', action: 'upsert' },
        { kind: 'person', id: '1', action: 'delete' },
      ]),
    ).toEqual([
      { kind: 'person', id: '1', action: 'upsert' },
      { kind: 'department', id: '1', action: 'upsert' },
    ]);
  });
});
