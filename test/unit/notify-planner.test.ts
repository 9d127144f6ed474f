/**
 * The notify planner: which people of which tenants are fanned out, in what batches, and
 * which tenants are skipped (with a warning that says why). In-memory stores, a recording
 * job queue, a fixed clock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { secretSchemas } from '../../shared/config/secrets';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { notifyJobSchema, type NotifyJob } from '../../shared/contracts/notify-job';
import { NotConfiguredError, UpstreamError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import type { MappingStatus } from '../../shared/ports/mapping-store';
import { isRunId } from '../../shared/ports/run-store';
import type { StateStores } from '../../shared/ports/state-stores';
import { planNotifications, type PlanNotificationsDeps } from '../../shared/use-cases/notify/plan-notifications';
import { secretChannelCheck } from '../../shared/wiring/wiring';

const clock = fixedClock(Date.UTC(2024, 4, 6, 2, 0, 0));

function tenant(id: string, over: Record<string, unknown> = {}): TenantConfig {
  return tenantSchema.parse({
    id,
    netease: { domain: `${id}.example.com`, product: id, region: 'hz' },
    dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' },
    sync: { source: 'dingtalk' },
    notifications: { enabled: true, channel: 'dingtalk', tenantWide: true },
    ...over,
  });
}

class RecordingQueue implements JobQueue {
  sent: Array<{ queue: string; messages: readonly OutgoingMessage[] }> = [];
  failFor = new Set<string>();
  async send(queue: 'sync' | 'callback' | 'notify', messages: readonly OutgoingMessage[]): Promise<void> {
    const tenantId = (messages[0]?.body as NotifyJob | undefined)?.tenantId ?? '';
    if (this.failFor.has(tenantId)) throw new UpstreamError('sqs', 'UPSTREAM.SQS', `2 of ${messages.length} messages could not be sent`, { retryable: true });
    this.sent.push({ queue, messages });
  }
  jobs(tenantId?: string): NotifyJob[] {
    return this.sent.flatMap((s) => s.messages.map((m) => m.body as NotifyJob)).filter((j) => !tenantId || j.tenantId === tenantId);
  }
}

let stores: StateStores;
let notifyStore: MemoryNotifyStore;
let queue: RecordingQueue;
let logger: ReturnType<typeof createMemoryLogger>;

async function person(tenantId: string, sourceId: string, account: string, status: MappingStatus = 'active', source: 'dingtalk' | 'wecom' | 'ekp' = 'dingtalk') {
  await stores.mappings.put({ tenantId, source, objectType: 'person', sourceId, neteaseId: account, contentHash: 'h', status, lastRunId: 'r' });
}

function deps(tenants: TenantConfig[], over: Partial<PlanNotificationsDeps> = {}): PlanNotificationsDeps {
  // secondPollDelaySeconds 0: these tests count the planned batches once (the second poll has its own test).
  return { tenants, mappings: stores.mappings, notifyStore, jobs: queue, clock, logger, channelReady: async () => ({ ok: true }), secondPollDelaySeconds: 0, ...over };
}

beforeEach(() => {
  stores = createMemoryStateStores({ clock });
  notifyStore = new MemoryNotifyStore({ clock });
  queue = new RecordingQueue();
  logger = createMemoryLogger();
});

describe('notify planner', () => {
  it('fans every active or linked person of a tenant-wide tenant out in batches of 50', async () => {
    for (let i = 0; i < 118; i++) await person('acme', `u${i}`, `user${i}`);
    await person('acme', 'linked1', 'linked.one', 'linked');
    await person('acme', 'gone1', 'gone.one', 'suspended');
    await person('acme', 'gone2', 'gone.two', 'deleted');
    await person('acme', 'ekp1', 'ekp.one', 'active', 'ekp');
    const result = await planNotifications(deps([tenant('acme')]));

    const jobs = queue.jobs('acme');
    expect(queue.sent.every((s) => s.queue === 'notify')).toBe(true);
    expect(jobs.map((j) => j.people.length)).toEqual([50, 50, 19]);
    for (const j of jobs) expect(notifyJobSchema.parse(j)).toEqual(j);
    expect(jobs.every((j) => j.v === 1 && j.channel === 'dingtalk' && j.plannedAt === clock.now() && isRunId(j.runId))).toBe(true);
    const accounts = jobs.flatMap((j) => j.people.map((p) => p.account));
    expect(new Set(accounts).size).toBe(119);
    expect(accounts).toContain('linked.one');
    expect(accounts).not.toContain('gone.one');
    expect(accounts).not.toContain('gone.two');
    expect(accounts).not.toContain('ekp.one');
    expect(jobs.flatMap((j) => j.people).find((p) => p.account === 'user7')).toEqual({ userId: 'u7', account: 'user7' });
    expect(result).toMatchObject({ status: 'ok', people: 119, batches: 3, tenants: [{ tenantId: 'acme', status: 'planned', people: 119, batches: 3 }] });
  });

  it('checks a mailbox once even when two source ids point at it', async () => {
    await person('acme', 'u1', 'Zhang.San');
    await person('acme', 'u2', 'zhang.san');
    await planNotifications(deps([tenant('acme')]));
    expect(queue.jobs().flatMap((j) => j.people)).toHaveLength(1);
  });

  it('without the tenant-wide switch, fans out only people who opted in and are still active', async () => {
    for (let i = 0; i < 10; i++) await person('acme', `u${i}`, `user${i}`);
    await person('acme', 'left', 'left.one', 'suspended');
    await notifyStore.setOptIn('acme', 'dingtalk', 'u3', true);
    await notifyStore.setOptIn('acme', 'dingtalk', 'u7', true);
    await notifyStore.setOptIn('acme', 'dingtalk', 'left', true);
    await notifyStore.setOptIn('acme', 'dingtalk', 'no-mapping', true);
    await notifyStore.setOptIn('acme', 'dingtalk', 'u8', true);
    await notifyStore.setOptIn('acme', 'dingtalk', 'u8', false);
    const t = tenant('acme', { notifications: { enabled: true, channel: 'dingtalk', tenantWide: false } });
    await planNotifications(deps([t]));
    expect(queue.jobs().flatMap((j) => j.people.map((p) => p.userId)).sort()).toEqual(['u3', 'u7']);
  });

  it('uses the configured batch size and refuses an impossible one', async () => {
    for (let i = 0; i < 7; i++) await person('acme', `u${i}`, `user${i}`);
    await planNotifications(deps([tenant('acme')], { batchSize: 3 }));
    expect(queue.jobs().map((j) => j.people.length)).toEqual([3, 3, 1]);
    await expect(planNotifications(deps([tenant('acme')], { batchSize: 101 }))).rejects.toMatchObject({ code: 'NOTIFY.BAD_BATCH_SIZE' });
  });

  it('skips a tenant whose channel secret is missing, with a warning, and plans the others', async () => {
    await person('acme', 'u1', 'user1');
    await person('beta', 'u1', 'user1');
    const result = await planNotifications(
      deps([tenant('acme'), tenant('beta')], {
        channelReady: async (t) => (t.id === 'acme' ? { ok: false, reason: 'Secret "qiye-bridge/local/acme/dingtalk" is not set' } : { ok: true }),
      }),
    );
    expect(queue.jobs('acme')).toHaveLength(0);
    expect(queue.jobs('beta')).toHaveLength(1);
    expect(result.tenants).toEqual([
      expect.objectContaining({ tenantId: 'acme', status: 'skipped', reason: expect.stringContaining('qiye-bridge/local/acme/dingtalk') }),
      expect.objectContaining({ tenantId: 'beta', status: 'planned', people: 1 }),
    ]);
    const warn = logger.lines.find((l) => l.level === 'warn' && l.tenant === 'acme');
    expect(String(warn?.msg)).toContain('credentials are not usable');
  });

  it('skips a tenant whose channel is not its directory source (no vendor user ids to send to)', async () => {
    const t = tenantSchema.parse({
      id: 'mixed',
      netease: { domain: 'mixed.example.com', product: 'm', region: 'hz' },
      ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
      dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' },
      sync: { source: 'ekp' },
      notifications: { enabled: true, channel: 'dingtalk', tenantWide: true },
    });
    await person('mixed', 'e1', 'user1', 'active', 'ekp');
    const result = await planNotifications(deps([t]));
    expect(queue.sent).toHaveLength(0);
    expect(result.tenants[0]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('directory source is ekp') });
  });

  it('ignores tenants with notifications off', async () => {
    await person('off', 'u1', 'user1');
    const result = await planNotifications(deps([tenant('off', { notifications: { enabled: false } })]));
    expect(result.tenants).toEqual([]);
    expect(queue.sent).toHaveLength(0);
  });

  it('reports a tenant whose batches could not be queued, and still plans the others', async () => {
    await person('acme', 'u1', 'user1');
    await person('beta', 'u1', 'user1');
    queue.failFor.add('acme');
    const result = await planNotifications(deps([tenant('acme'), tenant('beta')]));
    expect(result.status).toBe('partial');
    expect(result.tenants.map((t) => [t.tenantId, t.status])).toEqual([
      ['acme', 'failed'],
      ['beta', 'planned'],
    ]);
    expect(queue.jobs('beta')).toHaveLength(1);
  });

  it('a tenant with nobody to check sends nothing', async () => {
    const result = await planNotifications(deps([tenant('empty')]));
    expect(queue.sent).toHaveLength(0);
    expect(result.tenants[0]).toMatchObject({ status: 'planned', people: 0, batches: 0 });
  });
});

describe('channel secret check (planner wiring)', () => {
  const t = tenant('acme');
  it('is ready when the secret holds an appSecret', async () => {
    const check = secretChannelCheck({ tenantSecret: async () => secretSchemas.dingtalk.parse({ appSecret: 's' }) as never });
    expect(await check(t, 'dingtalk')).toEqual({ ok: true });
  });
  it('names the missing secret, never a value', async () => {
    const check = secretChannelCheck({
      tenantSecret: async () => {
        throw new NotConfiguredError('Secret "qiye-bridge/local/acme/dingtalk" is not set (tenant "acme", dingtalk)', { code: 'SECRET.NOT_CONFIGURED' });
      },
    });
    expect(await check(t, 'dingtalk')).toEqual({ ok: false, reason: expect.stringContaining('qiye-bridge/local/acme/dingtalk') });
  });
  it('is not ready when the WeCom secret lacks the app secret that sends messages', async () => {
    const check = secretChannelCheck({ tenantSecret: async () => secretSchemas.wecom.parse({ contactSecret: 'only-contacts' }) as never });
    expect(await check(t, 'wecom')).toEqual({ ok: false, reason: expect.stringContaining('no appSecret') });
  });
  it('lets other failures through (the planner reports the tenant as failed)', async () => {
    const check = secretChannelCheck({
      tenantSecret: async () => {
        throw new UpstreamError('secretsmanager', 'UPSTREAM.UNAVAILABLE', 'throttled', { retryable: true });
      },
    });
    await expect(check(t, 'dingtalk')).rejects.toMatchObject({ code: 'UPSTREAM.UNAVAILABLE' });
  });
});

describe('polls within a minute', () => {
  it('sends every batch twice: at once, and again 30 s later through the queue delay', async () => {
    await person('acme', 'u1', 'user1');
    await planNotifications(deps([tenant('acme')], { secondPollDelaySeconds: 30 }));
    const messages = queue.sent.flatMap((x) => x.messages);
    const now = messages.filter((m) => !m.delaySeconds);
    const later = messages.filter((m) => m.delaySeconds === 30);
    expect(now.length).toBeGreaterThan(0);
    expect(later.map((m) => m.body)).toEqual(now.map((m) => m.body));
  });

  it('skips a tenant whose channel quota is spent, saying so', async () => {
    const { MemoryUsageStore } = await import('../../shared/adapters/memory/memory-usage.store');
    const { usageMonth } = await import('../../shared/ports/usage-meter');
    const usage = new MemoryUsageStore();
    await person('acme', 'u1', 'user1');
    await usage.markExhausted('acme', { vendor: 'dingtalk', month: usageMonth(clock.now()), at: clock.now(), api: 'topapi/message/corpconversation/asyncsend_v2', quotaAtExhaustion: 10_000 });
    const result = await planNotifications(deps([tenant('acme')], { usage }));
    expect(result.tenants[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/DingTalk's monthly API quota is spent/) });
    expect(queue.sent).toEqual([]);
  });
});
