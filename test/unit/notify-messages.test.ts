/**
 * The pieces of a notification: the SSO link, the DingTalk and WeCom renderings, mail
 * identity and attribution from NetEase log entries, per-person budgets, and how vendor
 * errors are sorted into retry / person / tenant.
 */
import { describe, expect, it } from 'vitest';
import { DingtalkApiError } from '../../shared/adapters/dingtalk/dingtalk.errors';
import { assertMessageSize } from '../../shared/adapters/dingtalk/dingtalk.messages';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { WecomApiError } from '../../shared/adapters/wecom/wecom.errors';
import { notifyJobSchema } from '../../shared/contracts/notify-job';
import { parseRecordBody } from '../../shared/lambda/sqs-batch';
import { NotConfiguredError, ValidationError } from '../../shared/errors/app-error';
import { fixedClock } from '../../shared/ports/clock';
import { dingtalkMessage, dingtalkSender, dingtalkSendScope } from '../../shared/adapters/dingtalk/dingtalk.notice-sender';
import { wecomCard, wecomSender, wecomSendScope } from '../../shared/adapters/wecom/wecom.notice-sender';
import { toSendError } from '../../shared/errors/notify-send-error';
import { attributeEntries, formatChinaTime, mailIdentity, parseChinaTime, recipientLocalParts } from '../../shared/use-cases/notify/new-mail';
import { buildNotificationLink, INBOX_MODULE } from '../../shared/use-cases/notify/notification-link';
import type { Notice } from '../../shared/domain/notice';
import { CHANNEL_LIMITS, loadBudget } from '../../shared/use-cases/notify/rate-budget';

const URL_ = 'https://bridge.example.com/sso/acme?via=dingtalk&module=x';
const mail = (over: Partial<Extract<Notice, { kind: 'mail' }>> = {}): Notice => ({ kind: 'mail', subject: '周报', from: 'a@b.example', sentAtText: '2024-05-06 10:00:01', url: URL_, ...over });

describe('notification link', () => {
  it('points at /sso/<tenant> with via and the inbox module when there is no mail id', () => {
    const url = new URL(buildNotificationLink({ ssoBaseUrl: 'https://sso.example.com/', tenantId: 'acme', via: 'wecom' }));
    expect(`${url.origin}${url.pathname}`).toBe('https://sso.example.com/sso/acme');
    expect(Object.fromEntries(url.searchParams)).toEqual({ via: 'wecom', module: INBOX_MODULE });
  });
  it('opens one mail when its id is known, and keeps a base path', () => {
    const url = new URL(buildNotificationLink({ ssoBaseUrl: 'https://api.example.com/prod', tenantId: 'acme', via: 'dingtalk', mid: '1tbi&x' }));
    expect(url.pathname).toBe('/prod/sso/acme');
    expect(Object.fromEntries(url.searchParams)).toEqual({ via: 'dingtalk', mid: '1tbi&x' });
  });
  it('refuses a base that is not an http(s) URL', () => {
    expect(() => buildNotificationLink({ ssoBaseUrl: 'javascript:alert(1)', tenantId: 'a', via: 'wecom' })).toThrow(ValidationError);
    expect(() => buildNotificationLink({ ssoBaseUrl: 'not a url', tenantId: 'a', via: 'wecom' })).toThrow(ValidationError);
  });
});

describe('DingTalk action card', () => {
  it('shows subject, sender and time, with a 查看邮件 button to the link', () => {
    const m = dingtalkMessage(mail());
    expect(m.msgtype).toBe('action_card');
    if (m.msgtype !== 'action_card') throw new Error('unreachable');
    expect(m.action_card.title).toBe('新邮件：周报');
    expect(m.action_card.markdown).toContain('周报');
    expect(m.action_card.markdown).toContain('a@b\\.example');
    expect(m.action_card.single_title).toBe('查看邮件');
    expect(m.action_card.single_url).toBe(URL_);
  });
  it('escapes markdown in subjects so a mail cannot inject links', () => {
    const m = dingtalkMessage(mail({ subject: '[点我](https://evil.example)' }));
    if (m.msgtype !== 'action_card') throw new Error('unreachable');
    expect(m.action_card.markdown).not.toContain('[点我](https://evil.example)');
    expect(m.action_card.markdown).toContain('\\[点我\\]\\(https://evil\\.example\\)');
  });
  it('stays within 2048 bytes for any subject and is unique per mail (DingTalk drops same-day repeats)', () => {
    const long = dingtalkMessage(mail({ subject: '很长的主题'.repeat(400), from: `${'x'.repeat(300)}@example.com` }));
    expect(() => assertMessageSize(long)).not.toThrow();
    const a = JSON.stringify(dingtalkMessage(mail({ sentAtText: '2024-05-06 10:00:01' })));
    const b = JSON.stringify(dingtalkMessage(mail({ sentAtText: '2024-05-06 10:05:00' })));
    expect(a).not.toBe(b);
  });
  it('summarises folded mail with the count, the newest subject and the time span', () => {
    const m = dingtalkMessage({ kind: 'summary', count: 7, latest: { subject: '最后一封', from: 'z@x.example', sentAtText: '2024-05-06 10:09:00' }, firstAtText: '2024-05-06 10:01:00', url: URL_ });
    if (m.msgtype !== 'action_card') throw new Error('unreachable');
    expect(m.action_card.title).toBe('您有 7 封新邮件');
    expect(m.action_card.markdown).toContain('最后一封');
    expect(m.action_card.markdown).toContain('10:01:00');
  });
  it('never sends a mail body: only subject, sender, time and link are rendered', () => {
    const m = JSON.stringify(dingtalkMessage(mail()));
    expect(Object.keys(JSON.parse(m).action_card).sort()).toEqual(['markdown', 'single_title', 'single_url', 'title']);
  });
});

describe('WeCom textcard', () => {
  it('has a title, an escaped description with sender and subject, the url and 查看邮件', () => {
    const c = wecomCard(mail({ subject: '<b>a&b</b>', from: '"Boss" <boss@x.example>' }));
    expect(c.title).toBe('新邮件：<b>a&b</b>');
    expect(c.description).toContain('&lt;b&gt;a&amp;b&lt;/b&gt;');
    expect(c.description).toContain('&quot;Boss&quot; &lt;boss@x.example&gt;');
    expect(c.buttonText).toBe('查看邮件');
    expect(c.url).toBe(URL_);
  });
  it('cuts very long subjects before rendering', () => {
    const c = wecomCard(mail({ subject: '长'.repeat(1000) }));
    expect([...c.title].length).toBeLessThanOrEqual(110);
  });
});

describe('senders', () => {
  it('sends one DingTalk message to exactly the one user', async () => {
    const calls: unknown[] = [];
    await dingtalkSender({ sendWorkNotification: async (input) => (calls.push(input), { taskId: '1' }) }).send('u1', mail());
    expect(calls).toEqual([{ userIds: ['u1'], msg: dingtalkMessage(mail()) }]);
  });
  it('turns a WeCom invaliduser answer into a refusal for that person', async () => {
    const s = wecomSender({ sendTextCard: async () => ({ msgId: undefined, invalidUsers: ['zhangsan'], unlicensedUsers: [] }) });
    await expect(s.send('ZhangSan', mail())).rejects.toMatchObject({ scope: 'person', code: 'NOTIFY.RECIPIENT_INVALID' });
  });
});

describe('vendor errors -> what the worker does', () => {
  const dt = (kind: ConstructorParameters<typeof DingtalkApiError>[0]['kind']) => new DingtalkApiError({ tenantId: 't', appKey: 'k', api: 'topapi/message/corpconversation/asyncsend_v2', kind });
  const wc = (kind: ConstructorParameters<typeof WecomApiError>[0]['kind']) => new WecomApiError({ tenantId: 't', corpId: 'c', api: 'message/send', kind });
  it.each([
    ['dingtalk throttled', dt('throttled'), 'retry'],
    ['dingtalk server', dt('server'), 'retry'],
    ['dingtalk user not found', dt('notFound'), 'person'],
    ['dingtalk IP whitelist', dt('ipNotWhitelisted'), 'tenant'],
    ['dingtalk credentials', dt('credentials'), 'tenant'],
    ['dingtalk monthly quota', dt('quota'), 'tenant'],
    ['wecom throttled', wc('throttled'), 'retry'],
    ['wecom 81013 nobody valid', wc('noRecipients'), 'person'],
    ['wecom agent mismatch', wc('misconfigured'), 'tenant'],
    ['wecom permission', wc('permission'), 'tenant'],
    ['missing secret', new NotConfiguredError('Secret x is missing', { code: 'DINGTALK.SECRET_MISSING' }), 'tenant'],
    ['bad message', new ValidationError('url must be an http(s) URL', { code: 'DINGTALK.INVALID_MESSAGE' }), 'person'],
    ['network reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'retry'],
  ])('%s -> %s', (_name, err, scope) => {
    expect(toSendError(err, dingtalkSendScope, wecomSendScope).scope).toBe(scope);
  });
});

describe('NetEase log entries -> new mail', () => {
  it('reads sendtime as China time', () => {
    expect(parseChinaTime('2024-05-06 10:00:01')).toBe(Date.UTC(2024, 4, 6, 2, 0, 1));
    expect(formatChinaTime(Date.UTC(2024, 4, 6, 2, 0, 1))).toBe('2024-05-06 10:00:01');
    expect(parseChinaTime('yesterday')).toBeUndefined();
  });
  it('finds recipients in the usual address forms', () => {
    expect(recipientLocalParts('"张三" <Zhang.San@acme.com>; li@acme.com,wang@acme.com')).toEqual(['zhang.san', 'li', 'wang']);
  });
  it('gives a stable identity that changes with any of its parts', () => {
    const id = mailIdentity('a', '2024-05-06 10:00:01', 'x@y', 's');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(mailIdentity('A', '2024-05-06 10:00:01', 'x@y', 's')).toBe(id);
    expect(mailIdentity('a', '2024-05-06 10:00:02', 'x@y', 's')).not.toBe(id);
    expect(mailIdentity('a', '2024-05-06 10:00:01', 'x@y', 't')).not.toBe(id);
  });
  it('attributes delivered entries to batch accounts and counts the rest', () => {
    const at = '2024-05-06 10:00:01';
    const r = attributeEntries(
      [
        { to: 'a@acme.com', sentAt: at, subject: '1', from: 'f', result: '1' },
        { to: 'a@acme.com;b@acme.com', sentAt: at, subject: '2', from: 'f', result: '1' },
        { to: 'a@acme.com', sentAt: at, subject: 'bounce', result: '0' },
        { to: 'list@acme.com', sentAt: at, subject: 'list', result: '1' },
        { to: 'b@acme.com', sentAt: 'garbage', subject: 'x', result: '1' },
        { to: 'b@acme.com', sentAt: at, subject: 'no result field' },
      ],
      new Set(['a', 'b']),
    );
    expect(r.byAccount.get('a')?.map((m) => m.subject)).toEqual(['1', '2']);
    expect(r.byAccount.get('b')?.map((m) => m.subject)).toEqual(['2', 'no result field']);
    expect(r).toMatchObject({ notDelivered: 1, unattributed: 1, unreadable: 1 });
  });
});

describe('per-person budgets', () => {
  it('WeCom: 30 per member across a sliding minute', async () => {
    const clock = fixedClock(Date.UTC(2024, 4, 6, 2, 0, 50));
    const { cache } = createMemoryStateStores({ clock });
    const load = () => loadBudget(cache, { tenantId: 't', channel: 'wecom', account: 'a', now: clock.now() });
    const b1 = await load();
    expect(b1.remaining).toBe(30);
    b1.consume(20);
    await b1.save();
    clock.advance(20_000); // next minute bucket; the previous one still counts
    const b2 = await load();
    expect(b2.remaining).toBe(10);
    b2.consume(10);
    expect(b2.remaining).toBe(0);
    await b2.save();
    clock.advance(60_000);
    expect((await load()).remaining).toBe(20);
    clock.advance(60_000);
    expect((await load()).remaining).toBe(30);
  });
  it('DingTalk: 500 per user per China day', async () => {
    const clock = fixedClock(Date.UTC(2024, 4, 6, 15, 59, 0)); // 23:59 China time
    const { cache } = createMemoryStateStores({ clock });
    const load = () => loadBudget(cache, { tenantId: 't', channel: 'dingtalk', account: 'a', now: clock.now() });
    expect(CHANNEL_LIMITS.dingtalk[0]!.cap).toBe(500);
    const b = await load();
    b.consume(500);
    await b.save();
    expect((await load()).remaining).toBe(0);
    clock.advance(2 * 60_000); // 00:01 China time, still the same UTC day
    expect((await load()).remaining).toBe(500);
  });
});

describe('notify queue message', () => {
  it('accepts a v1 job and refuses anything else, naming fields but not values', () => {
    const parse = (body: string) => parseRecordBody(notifyJobSchema, { body } as never);
    expect(parse(JSON.stringify({ v: 1, tenantId: 'acme', runId: 'r', channel: 'wecom', plannedAt: 1, people: [{ userId: 'u', account: 'a' }] }))).toMatchObject({ tenantId: 'acme' });
    let bad: unknown;
    try {
      parse(JSON.stringify({ v: 1, tenantId: 'acme', runId: 'r', channel: 'wecom', plannedAt: 1, people: [{ userId: 'u', account: 'secret@x.com' }] }));
    } catch (err) {
      bad = err;
    }
    expect(bad).toMatchObject({ code: 'QUEUE.BAD_MESSAGE', retryable: false });
    expect((bad as Error).message).toContain('people.0.account');
    expect((bad as Error).message).not.toContain('secret@x.com');
    expect(() => parse('{')).toThrow(/not JSON/);
    expect(() => parse(JSON.stringify({ v: 2 }))).toThrow(/v: invalid_value/);
  });
});
