/**
 * The notify worker (its real handler, makeHandler) against the NetEase, DingTalk and WeCom
 * simulators over HTTP on loopback: mail delivered in the NetEase simulator becomes exactly
 * one vendor message, with subject, sender and a link to our SSO endpoint; limits, retries
 * and refusals behave as the worker promises; subjects and senders never reach the logs.
 * One clock drives the simulators and the worker, so windows and limits are exact.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { DingtalkClient } from '../../shared/adapters/dingtalk';
import { NeteaseClient } from '../../shared/adapters/netease';
import { WecomClient } from '../../shared/adapters/wecom';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { NotifyChannel, NotifyJob } from '../../shared/contracts/notify-job';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { noMetrics } from '../../shared/ports/metrics';
import type { StateStores } from '../../shared/ports/state-stores';
import { dingtalkSender } from '../../shared/adapters/dingtalk/dingtalk.notice-sender';
import { wecomSender } from '../../shared/adapters/wecom/wecom.notice-sender';
import type { NotifyOptions } from '../../shared/use-cases/notify/check-new-mail';
import { INBOX_MODULE } from '../../shared/use-cases/notify/notification-link';
import { makeHandler } from '../../functions/queue/notify-worker/handler';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startWecomSimulator, type RunningWecomSimulator } from '../../local/simulators/wecom';

const DT = { id: 'acme-dt', domain: 'acme-dt.example.com', product: 'acme_dt' };
const WC = { id: 'acme-wc', domain: 'acme-wc.example.com', product: 'acme_wc' };
const DT_SECRET = 'dt-app-secret-for-notify-tests';
const WC_SECRET = 'wc-app-secret-for-notify-tests';
const SSO_BASE = 'https://bridge.example.com';
// 10:00 China time on a weekday: far from both the UTC and the China day boundary.
const T0 = Date.UTC(2024, 4, 6, 2, 0, 0);
const clock = fixedClock(T0);
const now = () => clock.now();
// The simulators' per-second API limits would trip on a clock that stands still.
const NO_API_LIMIT = { limit: 1_000_000, windowMs: 1000 };

let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;
let wecom: RunningWecomSimulator;
let signer: Signer;
let tenants: TenantConfig[];
let stores: StateStores;
let notifyStore: MemoryNotifyStore;
let dtClient: DingtalkClient;
let wcClient: WecomClient;
let logger: ReturnType<typeof createMemoryLogger>;
/** Vendor user ids of the seeded orgs, and the mailboxes they own. */
let dtUser: string;
let dtUser2: string;
let wcUser: string;

function tenant(channel: NotifyChannel): TenantConfig {
  return tenants.find((t) => t.id === (channel === 'dingtalk' ? DT.id : WC.id))!;
}

function worker(options: Partial<NotifyOptions> = {}, extra: { mailbox?: boolean; digestMinutes?: number } = {}) {
  const client = (t: TenantConfig) => new NeteaseClient(t.netease, signer, { clock, logger, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
  return makeHandler({
    ...(extra.mailbox ? { mailbox: async (t: TenantConfig) => client(t) } : {}),
    ...(extra.digestMinutes ? { digestMinutes: async () => extra.digestMinutes! } : {}),
    tenant: (id) => tenants.find((t) => t.id === id),
    notifyStore,
    once: stores.once,
    cache: stores.cache,
    clock,
    logger,
    metrics: noMetrics,
    ssoBaseUrl: SSO_BASE,
    mailLogs: async (t) => new NeteaseClient(t.netease, signer, { clock, logger, retryBaseDelayMs: 1, retryMaxDelayMs: 5 }),
    sender: async (_t, ch) => (ch === 'dingtalk' ? dingtalkSender(dtClient) : wecomSender(wcClient)),
    options,
  });
}

let seq = 0;
function event(channel: NotifyChannel, people: Array<{ userId: string; account: string }>): SQSEvent {
  const job: NotifyJob = { v: 1, tenantId: tenant(channel).id, runId: '20240506T020000000Z-test', channel, plannedAt: now(), people };
  return {
    Records: [{ messageId: `m${++seq}`, receiptHandle: 'r', body: JSON.stringify(job), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' }],
  } as unknown as SQSEvent;
}

const dtPeople = () => [{ userId: dtUser, account: 'zhangsan' }];
const wcPeople = () => [{ userId: wcUser, account: 'lisi' }];

function deliver(channel: NotifyChannel, account: string, mail: { from: string; subject: string }) {
  return netease.deliverMail(channel === 'dingtalk' ? DT.domain : WC.domain, account, mail);
}

/** The notice's link opens our SSO entry for `tenantId`, saying which channel it came through; returns it parsed. */
function expectSsoLink(url: string, tenantId: string, via: NotifyChannel): URL {
  const link = new URL(url);
  expect(`${link.origin}${link.pathname}`).toBe(`${SSO_BASE}/sso/${tenantId}`);
  expect(link.searchParams.get('via')).toBe(via);
  return link;
}

/** Nothing personal in any log line: the subjects and senders of the test mails. */
function expectNoPersonalDataInLogs(...secrets: string[]) {
  const text = JSON.stringify(logger.lines);
  for (const s of secrets) expect(text).not.toContain(s);
}

beforeAll(async () => {
  const pair = generateKeyPairSync(1024);
  signer = new Signer(pair.privateKeyHex);
  netease = await startNeteaseSimulator({
    port: 0,
    now,
    keys: [
      { domain: DT.domain, product: DT.product, publicKeyHex: pair.publicKeyHex },
      { domain: WC.domain, product: WC.product, publicKeyHex: pair.publicKeyHex },
    ],
  });
  const base = [
    tenantSchema.parse({
      id: DT.id,
      netease: { domain: DT.domain, product: DT.product, region: 'hz' },
      dingtalk: { corpId: 'dingacme0001', appKey: 'dingacmeappkey0001', agentId: '2000001' },
      sync: { source: 'dingtalk' },
      notifications: { enabled: true, channel: 'dingtalk', tenantWide: true },
    }),
    tenantSchema.parse({
      id: WC.id,
      netease: { domain: WC.domain, product: WC.product, region: 'hz' },
      wecom: { corpId: 'wwacme0001', agentId: '1000002' },
      sync: { source: 'wecom' },
      notifications: { enabled: true, channel: 'wecom', tenantWide: true },
    }),
  ];
  dingtalk = await startDingtalkSimulator({ port: 0, now, tenants: base, credentials: { [DT.id]: { appSecret: DT_SECRET } }, rateLimit: NO_API_LIMIT });
  wecom = await startWecomSimulator({ port: 0, now, tenants: base, credentials: { [WC.id]: { appSecret: WC_SECRET, contactSecret: 'contact' } }, rateLimit: NO_API_LIMIT });
  tenants = base.map((t) =>
    tenantSchema.parse({
      id: t.id,
      netease: { domain: t.netease.domain, product: t.netease.product, region: 'hz', apiBaseUrl: `${netease.url}/qiyeservice/api`, maxRetries: 1 },
      ...(t.dingtalk ? { dingtalk: { corpId: t.dingtalk.corpId, appKey: t.dingtalk.appKey, agentId: t.dingtalk.agentId, apiBaseUrl: dingtalk.url, newApiBaseUrl: `${dingtalk.url}/api`, loginBaseUrl: `${dingtalk.url}/login` } } : {}),
      ...(t.wecom ? { wecom: { corpId: t.wecom.corpId, agentId: t.wecom.agentId, apiBaseUrl: `${wecom.url}/cgi-bin`, oauthBaseUrl: `${wecom.url}/oauth`, loginBaseUrl: `${wecom.url}/login` } } : {}),
      sync: t.sync,
      notifications: t.notifications,
    }),
  );
});

afterAll(async () => {
  await Promise.all([netease?.stop(), dingtalk?.stop(), wecom?.stop()]);
});

beforeEach(() => {
  clock.set(T0);
  netease.reset();
  netease.setConfig({ mailLogLimit: null, mailLogNewestFirst: false });
  dingtalk.reset();
  wecom.reset();
  netease.seed(DT.domain, { accounts: [{ account_name: 'zhangsan', nickname: '张三' }, { account_name: 'wangwu', nickname: '王五' }] });
  netease.seed(WC.domain, { accounts: [{ account_name: 'lisi', nickname: '李四' }] });
  const dtUsers = dingtalk.state(DT.id).users;
  dtUser = dtUsers[0]!.userid;
  dtUser2 = dtUsers[1]!.userid;
  wcUser = wecom.state(WC.id).users[0]!.userid;
  stores = createMemoryStateStores({ clock });
  notifyStore = new MemoryNotifyStore({ clock });
  logger = createMemoryLogger();
  dtClient = new DingtalkClient({ tenantId: DT.id, config: tenant('dingtalk').dingtalk!, appSecret: async () => DT_SECRET, clock, logger, retryBaseDelayMs: 1, retryMaxDelayMs: 5, maxRetries: 2 });
  wcClient = new WecomClient({ tenantId: WC.id, config: tenant('wecom').wecom!, secrets: async () => ({ appSecret: WC_SECRET, contactSecret: 'contact' }), clock, logger, retryBaseDelayMs: 1, retryMaxDelayMs: 5, maxRetries: 2 });
});

describe('new mail -> DingTalk work notification', () => {
  it('sends exactly one action card with subject, sender and a link to /sso/<tenant>?via=dingtalk, and nothing on the next poll', async () => {
    const first = await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(first.batchItemFailures).toEqual([]);
    expect(dingtalk.messages(DT.id)).toHaveLength(0);

    clock.advance(30_000);
    deliver('dingtalk', 'zhangsan', { from: 'boss@partner.example.net', subject: '季度预算审批' });
    clock.advance(90_000);
    expect((await worker()(event('dingtalk', dtPeople()), {} as never)).batchItemFailures).toEqual([]);

    const messages = dingtalk.messages(DT.id);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.userIds).toEqual([dtUser]);
    expect(m.delivered).toEqual([dtUser]);
    expect(m.msgtype).toBe('action_card');
    const card = m.msg.action_card as { title: string; markdown: string; single_title: string; single_url: string };
    expect(card.title).toBe('新邮件：季度预算审批');
    expect(card.markdown).toContain('季度预算审批');
    expect(card.markdown).toContain('boss@partner');
    expect(card.single_title).toBe('查看邮件');
    const link = expectSsoLink(card.single_url, DT.id, 'dingtalk');
    expect(link.searchParams.get('module')).toBe(INBOX_MODULE);

    // The next polls: same mail still in the log, nothing new to say.
    clock.advance(120_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(120_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
    expectNoPersonalDataInLogs('季度预算审批', 'boss@partner');
  });

  it('opens the mail itself: the id found with mailbox/listMessages goes into the link as mid', async () => {
    await worker({}, { mailbox: true })(event('dingtalk', dtPeople()), {} as never);
    clock.advance(30_000);
    deliver('dingtalk', 'zhangsan', { from: 'boss@partner.example.net', subject: '合同签署' });
    clock.advance(20_000);
    deliver('dingtalk', 'zhangsan', { from: 'hr@acme.example.com', subject: '体检通知' });
    clock.advance(30_000);
    await worker({}, { mailbox: true })(event('dingtalk', dtPeople()), {} as never);
    const links = dingtalk.messages(DT.id).map((m) => new URL((m.msg.action_card as { single_url: string }).single_url));
    expect(links).toHaveLength(2);
    const box = (await new NeteaseClient(tenant('dingtalk').netease, signer, { clock }).listMessages('zhangsan')).reverse();
    expect(links.map((l) => l.searchParams.get('mid'))).toEqual(box.map((m) => m.id));
    expect(links.every((l) => l.searchParams.get('module') === null)).toBe(true);
  });

  it('falls back to the inbox when two mails match the log entry (same subject, sender and second)', async () => {
    await worker({}, { mailbox: true })(event('dingtalk', dtPeople()), {} as never);
    clock.advance(30_000);
    deliver('dingtalk', 'zhangsan', { from: 'bot@ci.example.net', subject: '构建失败' });
    deliver('dingtalk', 'zhangsan', { from: 'bot@ci.example.net', subject: '构建失败' });
    clock.advance(30_000);
    await worker({}, { mailbox: true })(event('dingtalk', dtPeople()), {} as never);
    const links = dingtalk.messages(DT.id).map((m) => new URL((m.msg.action_card as { single_url: string }).single_url));
    // The log cannot tell the two apart either: one notice, opening the inbox.
    expect(links).toHaveLength(1);
    expect(links[0]!.searchParams.get('mid')).toBeNull();
    expect(links[0]!.searchParams.get('module')).toBe(INBOX_MODULE);
  });

  it('in digest mode sends the first mail at once and folds the rest of the window into one message', async () => {
    const w = worker({}, { mailbox: true, digestMinutes: 30 });
    await w(event('dingtalk', dtPeople()), {} as never);
    clock.advance(30_000);
    deliver('dingtalk', 'zhangsan', { from: 'a@x.example.net', subject: '一' });
    clock.advance(30_000);
    await w(event('dingtalk', dtPeople()), {} as never);
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
    for (const subject of ['二', '三', '四']) {
      clock.advance(60_000);
      deliver('dingtalk', 'zhangsan', { from: 'a@x.example.net', subject });
      clock.advance(30_000);
      await w(event('dingtalk', dtPeople()), {} as never);
    }
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
    clock.advance(30 * 60_000);
    await w(event('dingtalk', dtPeople()), {} as never);
    const messages = dingtalk.messages(DT.id);
    expect(messages).toHaveLength(2);
    expect(JSON.stringify(messages[1]!.msg)).toContain('3');
  });

  it('never notifies mail that arrived before the mailbox was first checked', async () => {
    clock.set(T0 - 60_000);
    deliver('dingtalk', 'zhangsan', { from: 'old@partner.example.net', subject: '旧邮件' });
    clock.set(T0);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(60_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(120_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(dingtalk.messages(DT.id)).toHaveLength(0);
    // A new mail after the first check still comes through.
    deliver('dingtalk', 'zhangsan', { from: 'new@partner.example.net', subject: '新的' });
    clock.advance(60_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(dingtalk.messages(DT.id).map((m) => (m.msg.action_card as { title: string }).title)).toEqual(['新邮件：新的']);
  });

  it('attributes mail to the right person when one NetEase call covers several mailboxes', async () => {
    const people = [
      { userId: dtUser, account: 'zhangsan' },
      { userId: dtUser2, account: 'wangwu' },
    ];
    await worker()(event('dingtalk', people), {} as never);
    clock.advance(5_000);
    deliver('dingtalk', 'wangwu', { from: 'a@x.example', subject: '给王五' });
    deliver('dingtalk', 'zhangsan', { from: 'b@x.example', subject: '给张三' });
    clock.advance(60_000);
    await worker()(event('dingtalk', people), {} as never);
    const got = dingtalk.messages(DT.id).map((m) => [m.userIds[0], (m.msg.action_card as { title: string }).title]);
    expect(got).toEqual(expect.arrayContaining([[dtUser2, '新邮件：给王五'], [dtUser, '新邮件：给张三']]));
    expect(got).toHaveLength(2);
    expect(netease.calls({ path: '/qiyeservice/api/mail/getReceivedMailLogs' })).toHaveLength(1);
  });

  it('folds mail beyond the daily cap into one "您有 N 封新邮件" message, then waits for the next day', async () => {
    const limits = { dingtalk: [{ name: 'd', periodMs: 24 * 3600_000, offsetMs: 8 * 3600_000, cap: 3 }], wecom: [] };
    const w = worker({ limits });
    await w(event('dingtalk', dtPeople()), {} as never);
    clock.advance(1000);
    for (let i = 1; i <= 5; i++) deliver('dingtalk', 'zhangsan', { from: `s${i}@x.example`, subject: `主题${i}` });
    clock.advance(60_000);
    await w(event('dingtalk', dtPeople()), {} as never);
    const titles = () => dingtalk.messages(DT.id).map((m) => (m.msg.action_card as { title: string }).title);
    // Cap 3: two mails on their own, the other three in one summary; nothing dropped.
    expect(titles()).toEqual(['新邮件：主题1', '新邮件：主题2', '您有 3 封新邮件']);
    expect((dingtalk.messages(DT.id)[2]!.msg.action_card as { markdown: string }).markdown).toContain('主题5');
    expect(dingtalk.messages(DT.id).every((m) => m.forbidden.length === 0)).toBe(true);

    // Budget spent: a new mail waits (the watermark stays), and goes out the next day.
    deliver('dingtalk', 'zhangsan', { from: 'late@x.example', subject: '晚到' });
    clock.advance(120_000);
    await w(event('dingtalk', dtPeople()), {} as never);
    expect(titles()).toHaveLength(3);
    // Just after midnight China time (16:00 UTC): a new day's budget.
    clock.set(Date.UTC(2024, 4, 6, 16, 2, 0));
    await w(event('dingtalk', dtPeople()), {} as never);
    expect(titles()).toEqual(['新邮件：主题1', '新邮件：主题2', '您有 3 封新邮件', '新邮件：晚到']);
    expectNoPersonalDataInLogs('主题1', '主题5', '晚到', 's1@x.example');
  });

  it('fails the record on a retryable vendor error, keeps the watermark, and sends once when retried', async () => {
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(1000);
    deliver('dingtalk', 'zhangsan', { from: 'c@x.example', subject: '重试' });
    clock.advance(60_000);
    const before = (await notifyStore.getWatermarks(DT.id, ['zhangsan'])).get('zhangsan')!;
    // DingTalk "system busy" for every attempt the client makes (1 + 2 retries) and more.
    dingtalk.setFaults({ tenant: DT.id, failNext: { errcode: -1, count: 10, api: 'topapi/message/corpconversation/asyncsend_v2' } });
    const ev = event('dingtalk', dtPeople());
    const failed = await worker()(ev, {} as never);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: ev.Records[0]!.messageId }]);
    expect(dingtalk.messages(DT.id)).toHaveLength(0);
    expect((await notifyStore.getWatermarks(DT.id, ['zhangsan'])).get('zhangsan')!.until).toBe(before.until);

    // SQS delivers the same record again (receive count 2, 3... then the DLQ): still failing.
    expect((await worker()(ev, {} as never)).batchItemFailures).toHaveLength(1);
    dingtalk.setFaults({ tenant: DT.id, clear: true });
    expect((await worker()(ev, {} as never)).batchItemFailures).toEqual([]);
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
    expect((await notifyStore.getWatermarks(DT.id, ['zhangsan'])).get('zhangsan')!.until).toBe(clock.now());
    // A duplicate delivery of the record changes nothing.
    await worker()(ev, {} as never);
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
  });

  it('keeps every watermark and acknowledges when DingTalk refuses the whole tenant (IP whitelist)', async () => {
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(1000);
    deliver('dingtalk', 'zhangsan', { from: 'd@x.example', subject: '白名单' });
    clock.advance(60_000);
    dingtalk.setFaults({ tenant: DT.id, ipNotWhitelisted: true });
    const res = await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(res.batchItemFailures).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'error' && String(l.code) === 'DINGTALK.IP_NOT_WHITELISTED')).toBe(true);
    dingtalk.setFaults({ tenant: DT.id, clear: true });
    clock.advance(120_000);
    await worker()(event('dingtalk', dtPeople()), {} as never);
    expect(dingtalk.messages(DT.id).map((m) => (m.msg.action_card as { title: string }).title)).toEqual(['新邮件：白名单']);
  });

  it('fails the record when NetEase is unavailable, and catches up on the retry', async () => {
    await worker()(event('dingtalk', dtPeople()), {} as never);
    clock.advance(1000);
    deliver('dingtalk', 'zhangsan', { from: 'e@x.example', subject: '网易故障' });
    clock.advance(60_000);
    netease.setFaults({ failNext: { count: 2, kind: 'error' } });
    const ev = event('dingtalk', dtPeople());
    expect((await worker()(ev, {} as never)).batchItemFailures).toHaveLength(1);
    expect(dingtalk.messages(DT.id)).toHaveLength(0);
    expect((await worker()(ev, {} as never)).batchItemFailures).toEqual([]);
    expect(dingtalk.messages(DT.id)).toHaveLength(1);
  });
});

describe('a NetEase mail log shorter than its total (no paging in the API)', () => {
  const titles = () => dingtalk.messages(DT.id).map((m) => [m.userIds[0], (m.msg.action_card as { title: string }).title]);

  for (const newestFirst of [false, true]) {
    it(`announces every mail of several mailboxes in one poll when each answer is cut to 2 entries (${newestFirst ? 'newest' : 'oldest'} first)`, async () => {
      netease.setConfig({ mailLogLimit: 2, mailLogNewestFirst: newestFirst });
      const people = [
        { userId: dtUser, account: 'zhangsan' },
        { userId: dtUser2, account: 'wangwu' },
      ];
      await worker()(event('dingtalk', people), {} as never);
      for (let i = 1; i <= 3; i++) {
        clock.advance(7_000);
        deliver('dingtalk', 'zhangsan', { from: `z${i}@x.example`, subject: `张${i}` });
        deliver('dingtalk', 'wangwu', { from: `w${i}@x.example`, subject: `王${i}` });
      }
      clock.advance(30_000);
      expect((await worker()(event('dingtalk', people), {} as never)).batchItemFailures).toEqual([]);
      const expected = [1, 2, 3].flatMap((i) => [
        [dtUser, `新邮件：张${i}`],
        [dtUser2, `新邮件：王${i}`],
      ]);
      expect(titles()).toEqual(expect.arrayContaining(expected));
      expect(titles()).toHaveLength(6);
      expect(logger.lines.some((l) => l.level === 'warn' && String(l.msg).startsWith('netease returned fewer log entries than its total'))).toBe(true);

      // The next poll has nothing new to say: no mail is announced twice.
      clock.advance(120_000);
      await worker()(event('dingtalk', people), {} as never);
      expect(titles()).toHaveLength(6);
      expectNoPersonalDataInLogs('张1', '王3', 'z1@x.example');
    });
  }

  it('with a small query budget, holds the watermark where the log was read completely and catches up over the next polls', async () => {
    netease.setConfig({ mailLogLimit: 2, mailLogNewestFirst: true });
    const w = worker({ maxLogQueries: 3 });
    await w(event('dingtalk', dtPeople()), {} as never);
    for (let i = 1; i <= 6; i++) {
      clock.advance(10_000);
      deliver('dingtalk', 'zhangsan', { from: `s${i}@x.example`, subject: `邮件${i}` });
    }
    const lastMailAt = clock.now();
    clock.advance(20_000);
    const polled = clock.now();
    await w(event('dingtalk', dtPeople()), {} as never);
    // Not everything was read: the watermark did not jump to now.
    expect((await notifyStore.getWatermarks(DT.id, ['zhangsan'])).get('zhangsan')!.until).toBeLessThan(polled);
    for (let poll = 0; poll < 6; poll++) {
      clock.advance(60_000);
      await w(event('dingtalk', dtPeople()), {} as never);
    }
    // Every mail announced exactly once, and the watermark is past them all again.
    const got = titles().map(([, t]) => t);
    expect([...got].sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `新邮件：邮件${i}`).sort());
    expect((await notifyStore.getWatermarks(DT.id, ['zhangsan'])).get('zhangsan')!.until).toBeGreaterThan(lastMailAt);
    const last = logger.lines.filter((l) => l.msg === 'new-mail check').pop();
    expect(last).toMatchObject({ logQueries: 1, logIncompletePeople: 0 });
  });
});

describe('new mail -> WeCom textcard', () => {
  it('sends one textcard with title, sender, subject, the SSO link and 查看邮件', async () => {
    await worker()(event('wecom', wcPeople()), {} as never);
    clock.advance(2000);
    deliver('wecom', 'lisi', { from: 'hr@partner.example.net', subject: '入职<资料>' });
    clock.advance(60_000);
    await worker()(event('wecom', wcPeople()), {} as never);
    const messages = wecom.messages(WC.id);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.msgtype).toBe('textcard');
    expect(m.delivered).toEqual([wcUser]);
    const card = m.payload as { title: string; description: string; url: string; btntxt: string };
    expect(card.title).toBe('新邮件：入职<资料>');
    expect(card.description).toContain('hr@partner.example.net');
    // User text is escaped: WeCom renders a few tags in descriptions.
    expect(card.description).toContain('入职&lt;资料&gt;');
    expect(card.btntxt).toBe('查看邮件');
    expectSsoLink(card.url, WC.id, 'wecom');
    clock.advance(120_000);
    await worker()(event('wecom', wcPeople()), {} as never);
    expect(wecom.messages(WC.id)).toHaveLength(1);
    expectNoPersonalDataInLogs('入职', 'hr@partner');
  });

  it('stays under 30 messages per member per minute: the rest becomes one summary, nothing is dropped', async () => {
    const w = worker({ maxDetailedPerPoll: 100 });
    await w(event('wecom', wcPeople()), {} as never);
    clock.advance(1000);
    for (let i = 1; i <= 40; i++) deliver('wecom', 'lisi', { from: `p${i}@x.example`, subject: `批量${i}` });
    clock.advance(30_000);
    await w(event('wecom', wcPeople()), {} as never);
    const msgs = wecom.messages(WC.id);
    expect(msgs).toHaveLength(30);
    expect(msgs.every((m) => m.dropped.length === 0 && m.duplicate.length === 0)).toBe(true);
    const last = msgs[29]!.payload as { title: string; description: string };
    expect(last.title).toBe('您有 11 封新邮件');
    expect(last.description).toContain('批量40');

    // Within the same minute the budget is gone: a new mail waits, then goes out later.
    deliver('wecom', 'lisi', { from: 'q@x.example', subject: '稍后' });
    clock.advance(10_000);
    await w(event('wecom', wcPeople()), {} as never);
    expect(wecom.messages(WC.id)).toHaveLength(30);
    clock.advance(125_000);
    await w(event('wecom', wcPeople()), {} as never);
    expect(wecom.messages(WC.id).map((m) => (m.payload as { title: string }).title).slice(30)).toEqual(['新邮件：稍后']);
    expect(wecom.messages(WC.id).every((m) => m.dropped.length === 0)).toBe(true);
  });

  it('folds a burst into a summary after a few messages per poll', async () => {
    await worker()(event('wecom', wcPeople()), {} as never);
    clock.advance(1000);
    for (let i = 1; i <= 12; i++) deliver('wecom', 'lisi', { from: `r${i}@x.example`, subject: `群发${i}` });
    clock.advance(60_000);
    await worker()(event('wecom', wcPeople()), {} as never);
    expect(wecom.messages(WC.id).map((m) => (m.payload as { title: string }).title)).toEqual([
      '新邮件：群发1',
      '新邮件：群发2',
      '新邮件：群发3',
      '新邮件：群发4',
      '您有 8 封新邮件',
    ]);
  });

  it('logs, counts and acknowledges a person WeCom does not know, without retrying them', async () => {
    const ghost = [{ userId: 'nobody-here', account: 'lisi' }];
    await worker()(event('wecom', ghost), {} as never);
    clock.advance(1000);
    deliver('wecom', 'lisi', { from: 'f@x.example', subject: '没人收' });
    clock.advance(60_000);
    const res = await worker()(event('wecom', ghost), {} as never);
    expect(res.batchItemFailures).toEqual([]);
    const warn = logger.lines.find((l) => l.msg === 'notification refused for this person; their new mail is marked handled');
    expect(warn).toMatchObject({ userId: 'nobody-here', account: 'lisi', code: 'WECOM.NO_VALID_RECIPIENTS' });
    const summary = logger.lines.filter((l) => l.msg === 'new-mail check').pop();
    expect(summary).toMatchObject({ failedPeople: 1, messages: 0 });
    // Not tried again on the next poll.
    const callsBefore = wecom.state(WC.id).calls['message/send'] ?? 0;
    clock.advance(120_000);
    await worker()(event('wecom', ghost), {} as never);
    expect(wecom.state(WC.id).calls['message/send'] ?? 0).toBe(callsBefore);
    expectNoPersonalDataInLogs('没人收', 'f@x.example');
  });

  it('refuses a malformed queue message without touching anything', async () => {
    const ev = event('wecom', wcPeople());
    (ev.Records[0] as { body: string }).body = JSON.stringify({ v: 2, tenantId: WC.id });
    const res = await worker()(ev, {} as never);
    // Acknowledged (not retried): it will not read better next time.
    expect(res.batchItemFailures).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'error' && JSON.stringify(l).includes('QUEUE.BAD_MESSAGE'))).toBe(true);
    expect(await notifyStore.getWatermarks(WC.id, ['lisi'])).toEqual(new Map());
    expect(netease.calls({ path: '/qiyeservice/api/mail/getReceivedMailLogs' })).toHaveLength(0);
  });
});
