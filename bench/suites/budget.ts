/**
 * `npm run bench -- budget`: vendor API calls per month at the defaults, counted by the
 * metering classification (shared/adapters/dingtalk/dingtalk.metering.ts, wecom.metering.ts)
 * through the real code against the simulators over HTTP, then extrapolated from simulated
 * days to a month. Nothing is hard-coded: every figure is a count of requests the clients
 * sent (BufferedUsageMeter -> MemoryUsageStore), which the simulators also received.
 *
 * Directory (per org size and source):
 * - the tenant's schedules are the deployed ones (tenantSyncSchedules from its default config:
 *   nightly full run at 02:00 Asia/Shanghai for DingTalk/WeCom); for each simulated day the
 *   occurrences of each schedule are computed from its cron and each is run through the real
 *   planner use case (runTenantSchedule -> startSyncRun -> the sync worker into the NetEase
 *   simulator);
 * - 50 directory changes a day: a person edited in the simulator, its contact event queued as
 *   the callback route does, and the real callback worker (dirty-object coalescing, re-read)
 *   and sync worker run after each event (no batching luck: one run per event);
 * - the initial full sync is a one-off and not counted in the month.
 * Month = the simulated days' calls / days x 30. "Previous default" = the same org with a
 * full snapshot every 15 minutes (the old global schedule): 96 x the measured full run a day.
 *
 * Notices (per person, then x people): the real notify worker (check-new-mail, find-message,
 * the DingTalk / WeCom sender) against the NetEase simulator's mail log and mailbox, for a
 * sample of people over one working day (20 mails each, 09:00-18:00 China time, random
 * seeded arrival), polled every 30 s (the 1-minute schedule plus the 30 s delayed second poll)
 * on a simulated clock. Month = per person-day x people x 22 working days. Latency per mail =
 * the simulated wait until the poll that sent its notice + that poll's real handler time
 * (SQS delivery and NetEase's own log delay are not simulated: the reference documents
 * neither). "Opens the mail" = notices whose link carries `mid`.
 *
 * Scale: BENCH_BUDGET_SIZES (default "1000:100,10000:1000" = people:departments),
 * BENCH_BUDGET_DAYS (default 2), BENCH_BUDGET_NOTICE_PEOPLE (default 20).
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { MemoryUsageStore } from '../../shared/adapters/memory/memory-usage.store';
import { DingtalkClient } from '../../shared/adapters/dingtalk';
import { NeteaseClient } from '../../shared/adapters/netease';
import { WecomClient } from '../../shared/adapters/wecom';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { tenantSyncSchedules } from '../../shared/contracts/app-manifest';
import type { NotifyChannel, NotifyJob } from '../../shared/contracts/notify-job';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { cronOccurrences, parseCron } from '../../shared/domain/cron';
import { createLogger } from '../../shared/logging/logger';
import { fixedClock, systemClock } from '../../shared/ports/clock';
import { usageMonth } from '../../shared/ports/usage-meter';
import { noMetrics } from '../../shared/ports/metrics';
import { dingtalkSender } from '../../shared/adapters/dingtalk/dingtalk.notice-sender';
import { wecomSender } from '../../shared/adapters/wecom/wecom.notice-sender';
import { runTenantSchedule, startSyncRun } from '../../shared/use-cases/sync';
import { BufferedUsageMeter } from '../../shared/use-cases/usage/buffered-meter';
import { makeHandler as makeNotifyWorker } from '../../functions/queue/notify-worker/handler';
import { startDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startWecomSimulator } from '../../local/simulators/wecom';
import { createCallbackWorld, personChange, UnpacedLimiters } from '../../test/integration/callback-worker-harness';
import { markdownTable, percentile } from '../table';

const SIZES = (process.env.BENCH_BUDGET_SIZES ?? '1000:100,10000:1000').split(',').map((s) => s.split(':').map(Number) as [number, number]);
const DAYS = envInt('BENCH_BUDGET_DAYS', 2);
const NOTICE_PEOPLE = envInt('BENCH_BUDGET_NOTICE_PEOPLE', 20);
const MAILS_PER_DAY = 20;
const CHANGES_PER_DAY = 50;
const WORKING_DAYS = 22;
const MONTH_DAYS = 30;
const FREE_QUOTA = 10_000;
/** Larger orgs are planned as dry runs (measureSync); BENCH_BUDGET_APPLY_MAX. */
const APPLY_MAX_PEOPLE = envInt('BENCH_BUDGET_APPLY_MAX', 2000);
const DAY = 86_400_000;
const quiet = createLogger({ level: 'error' });

type Vendor = 'dingtalk' | 'wecom';

interface SyncMeasure {
  vendor: Vendor;
  people: number;
  departments: number;
  /** Metered and all calls per simulated day. */
  meteredPerDay: number;
  callsPerDay: number;
  fullRunCalls: number;
  fullRunsPerDay: number;
  changeCalls: number;
  /** Changes counted at the applied org's per-change cost (see measureSync). */
  changesEstimated: boolean;
}

interface NoticeMeasure {
  vendor: Vendor;
  digest: boolean;
  /** Per person and working day. */
  meteredPerPersonDay: number;
  callsPerPersonDay: number;
  notices: number;
  mails: number;
  withMid: number;
  latencies: number[];
}

function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}

function newMeter() {
  const store = new MemoryUsageStore();
  const meter = new BufferedUsageMeter({ store, clock: systemClock, logger: quiet, quotaOf: () => FREE_QUOTA });
  const totals = async () => {
    await meter.flush();
    let metered = 0;
    let all = 0;
    // Counters of every tenant of this meter, this month and the next (a run across midnight of the 1st).
    for (const month of new Set([usageMonth(Date.now()), usageMonth(Date.now() + 2 * DAY)])) {
      for (const t of tenantsSeen) {
        for (const x of await store.counters(t, month)) {
          all += x.calls;
          if (x.cls === 'metered') metered += x.calls;
        }
      }
    }
    return { metered, all };
  };
  const tenantsSeen = new Set<string>();
  const counting = {
    record: (c: Parameters<BufferedUsageMeter['record']>[0]) => {
      tenantsSeen.add(c.tenantId);
      meter.record(c);
    },
    quotaExhausted: (i: Parameters<BufferedUsageMeter['quotaExhausted']>[0]) => meter.quotaExhausted(i),
  };
  return { meter: counting, totals };
}

/**
 * `perChange` undefined: the org is synced into NetEase first and every run is applied. With
 * `perChange` (large orgs, where applying 10,000 mailboxes would take the bench most of an
 * hour on a shared machine): the scheduled full runs are planned for real but as dry runs
 * (the same source reads: the metered calls do not depend on applying), and the 50 changes
 * a day are counted at the per-change cost measured on the applied org (one re-read per
 * changed person, whatever the org's size).
 */
async function measureSync(netease: RunningNeteaseSimulator, vendor: Vendor, people: number, departments: number, perChange?: number): Promise<SyncMeasure> {
  const m = newMeter();
  const world = await createCallbackWorld({ vendor, netease, people, extraDepartments: Math.max(0, departments - 8), meter: m.meter });
  const PUMP = { timeoutMs: 30 * 60_000 };
  try {
    if (perChange === undefined) {
      const { run } = await startSyncRun(world.sync, { tenantId: world.tenant.id, trigger: 'manual', mode: 'full' });
      await world.pump({ only: ['sync'], ...PUMP });
      const first = await world.stores.runs.get(world.tenant.id, run.runId);
      if (first?.status !== 'success' && first?.status !== 'warning') throw new Error(`initial sync of ${world.tenant.id} ended ${first?.status}`);
    }
    const base = await m.totals();
    const schedules = tenantSyncSchedules([world.tenant]);
    const users = vendor === 'dingtalk' ? world.dingtalk!.state(world.tenant.id).users.map((u) => u.userid) : world.wecom!.state(world.tenant.id).users.map((u) => u.userid);
    let fullRuns = 0;
    let fullRunCalls = 0;
    let changeCalls = 0;
    const day0 = Date.UTC(2026, 11, 7) - 8 * 3600_000; // a Monday, 00:00 in Beijing
    for (let d = 0; d < DAYS; d++) {
      const from = day0 + d * DAY;
      for (const s of schedules) {
        const runs = s.cron ? cronOccurrences(parseCron(s.cron), s.timezone, from, from + DAY).length : Math.floor(1440 / s.rateMinutes!);
        for (let i = 0; i < runs; i++) {
          const before = (await m.totals()).all;
          if (perChange === undefined) {
            const r = await runTenantSchedule(world.sync, { tenantId: world.tenant.id, kind: s.kind });
            if (!r.runId) throw new Error(`scheduled run not started: ${r.skipped ?? JSON.stringify(r.error)}`);
            await world.pump({ only: ['sync'], ...PUMP });
          } else {
            await startSyncRun(world.sync, { tenantId: world.tenant.id, trigger: 'schedule', mode: s.kind, dryRun: true });
          }
          if (s.kind === 'full') {
            fullRuns++;
            fullRunCalls = (await m.totals()).all - before;
          }
        }
      }
      const before = (await m.totals()).all;
      if (perChange !== undefined) {
        changeCalls += perChange * CHANGES_PER_DAY;
        continue;
      }
      for (let i = 0; i < CHANGES_PER_DAY; i++) {
        const id = users[(d * CHANGES_PER_DAY + i * 7) % users.length]!;
        await world.control('POST', 'users', vendor === 'dingtalk' ? { userid: id, title: `职位${d}-${i}` } : { userid: id, position: `职位${d}-${i}` });
        await world.enqueue({ eventType: vendor === 'dingtalk' ? 'user_modify_org' : 'update_user', changes: [personChange(id)] });
        await world.pump(PUMP);
      }
      changeCalls += (await m.totals()).all - before;
    }
    const after = await m.totals();
    const estimated = perChange === undefined ? 0 : perChange * CHANGES_PER_DAY * DAYS;
    return {
      vendor,
      people,
      departments,
      // Changes of a dry-run org are metered calls too (user/get): added at the measured rate.
      meteredPerDay: (after.metered - base.metered + (vendor === 'dingtalk' ? estimated : 0)) / DAYS,
      callsPerDay: (after.all - base.all + estimated) / DAYS,
      changesEstimated: perChange !== undefined,
      fullRunCalls,
      fullRunsPerDay: fullRuns / DAYS,
      changeCalls: changeCalls / DAYS,
    };
  } finally {
    await world.stop();
  }
}

/** Build ids for the day's mails: [person index, arrival ms], seeded. */
function mailPlan(people: number, dayStart: number): Array<[number, number]> {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Array<[number, number]> = [];
  for (let p = 0; p < people; p++) for (let i = 0; i < MAILS_PER_DAY; i++) out.push([p, dayStart + 9 * 3600_000 + Math.floor(rnd() * 9 * 3600_000)]);
  return out.sort((a, b) => a[1] - b[1]);
}

async function measureNotices(vendor: Vendor, digest: boolean): Promise<NoticeMeasure> {
  const day = Date.UTC(2026, 11, 7) - 8 * 3600_000; // Monday 00:00 Beijing
  const clock = fixedClock(day + 8 * 3600_000);
  const now = () => clock.now();
  const id = `bn-${vendor}-${digest ? 'd' : 'n'}`;
  const domain = `${id}.example.com`;
  const pair = generateKeyPairSync(1024);
  const signer = new Signer(pair.privateKeyHex);
  const netease = await startNeteaseSimulator({ port: 0, now, keys: [{ domain, product: 'p', publicKeyHex: pair.publicKeyHex }] });
  const base = tenantSchema.parse({
    id,
    netease: { domain, product: 'p', region: 'hz' },
    ...(vendor === 'dingtalk' ? { dingtalk: { corpId: 'dingbench', appKey: 'dingbenchkey', agentId: '2000001' } } : { wecom: { corpId: 'wwbench', agentId: '1000002' } }),
    sync: { source: vendor },
    notifications: { enabled: true, channel: vendor, tenantWide: true, ...(digest ? { digestMinutes: 60 } : {}) },
  });
  const limit = { limit: 1_000_000, windowMs: 1000 };
  const dt = vendor === 'dingtalk' ? await startDingtalkSimulator({ port: 0, now, tenants: [base], credentials: { [id]: { appSecret: 's' } }, rateLimit: limit, people: NOTICE_PEOPLE }) : undefined;
  const wc = vendor === 'wecom' ? await startWecomSimulator({ port: 0, now, tenants: [base], credentials: { [id]: { appSecret: 's', contactSecret: 'c' } }, rateLimit: limit, people: NOTICE_PEOPLE }) : undefined;
  try {
    const tenant: TenantConfig = tenantSchema.parse({
      id,
      netease: { domain, product: 'p', region: 'hz', apiBaseUrl: `${netease.url}/qiyeservice/api`, requestsPerSecond: 1000 },
      ...(dt ? { dingtalk: { corpId: 'dingbench', appKey: 'dingbenchkey', agentId: '2000001', apiBaseUrl: dt.url, newApiBaseUrl: `${dt.url}/api`, loginBaseUrl: `${dt.url}/login` } } : {}),
      ...(wc ? { wecom: { corpId: 'wwbench', agentId: '1000002', apiBaseUrl: `${wc.url}/cgi-bin`, oauthBaseUrl: `${wc.url}/oauth`, loginBaseUrl: `${wc.url}/login` } } : {}),
      sync: { source: vendor },
      notifications: base.notifications,
    });
    const userIds = dt ? dt.state(id).users.map((u) => u.userid) : wc!.state(id).users.map((u) => u.userid);
    const accounts = userIds.map((_, i) => `user${i}`);
    netease.seed(domain, { accounts: accounts.map((a) => ({ account_name: a, nickname: a })) });
    const m = newMeter();
    const limiters = new UnpacedLimiters();
    const stores = createMemoryStateStores({ clock });
    const client = new NeteaseClient(tenant.netease, signer, { clock, logger: quiet });
    const sender = dt
      ? dingtalkSender(new DingtalkClient({ tenantId: id, config: tenant.dingtalk!, appSecret: async () => 's', clock, logger: quiet, limiters, meter: m.meter }))
      : wecomSender(new WecomClient({ tenantId: id, config: tenant.wecom!, secrets: async () => ({ appSecret: 's', contactSecret: 'c' }), clock, logger: quiet, limiters, meter: m.meter }));
    const worker = makeNotifyWorker({
      tenant: () => tenant,
      notifyStore: new MemoryNotifyStore({ clock }),
      once: stores.once,
      cache: stores.cache,
      clock,
      logger: quiet,
      metrics: noMetrics,
      ssoBaseUrl: 'https://bridge.example.com',
      mailLogs: async () => client,
      mailbox: async () => client,
      digestMinutes: async (t) => t.notifications.digestMinutes,
      sender: async () => sender,
    });
    const job: NotifyJob = { v: 1, tenantId: id, runId: '20261207T000000000Z-bench', channel: vendor as NotifyChannel, plannedAt: now(), people: userIds.map((u, i) => ({ userId: u, account: accounts[i]! })) };
    const event = { Records: [{ messageId: 'm', receiptHandle: 'r', body: JSON.stringify(job), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' }] } as unknown as SQSEvent;
    const messagesOf = () => (dt ? dt.messages(id).map((x) => ({ to: x.userIds[0]!, url: String((x.msg.action_card as { single_url?: string } | undefined)?.single_url ?? JSON.stringify(x.msg)) })) : wc!.messages(id).map((x) => ({ to: x.toUsers[0] ?? '', url: String(x.payload.url ?? '') })));
    const plan = mailPlan(userIds.length, day);
    const pending: number[][] = userIds.map(() => []);
    const latencies: number[] = [];
    let next = 0;
    let seen = 0;
    // First poll before any mail: every mailbox's watermark starts.
    await worker(event, {} as Context);
    for (let t = day + 9 * 3600_000; t <= day + 19 * 3600_000; t += 30_000) {
      while (next < plan.length && plan[next]![1] <= t) {
        const [p, at] = plan[next++]!;
        clock.set(at);
        netease.deliverMail(domain, accounts[p]!, { from: `sender${p}@partner.example.net`, subject: `报告 ${p}-${next}` });
        pending[p]!.push(at);
      }
      clock.set(t);
      const started = performance.now();
      await worker(event, {} as Context);
      const ms = performance.now() - started;
      const all = messagesOf();
      for (const msg of all.slice(seen)) {
        const p = userIds.indexOf(msg.to);
        if (p < 0) continue;
        for (const at of pending[p]!) latencies.push(t - at + ms);
        pending[p] = [];
      }
      seen = all.length;
    }
    const all = messagesOf();
    const totals = await m.totals();
    return {
      vendor,
      digest,
      meteredPerPersonDay: totals.metered / userIds.length,
      callsPerPersonDay: totals.all / userIds.length,
      notices: all.length,
      mails: plan.length,
      withMid: all.filter((x) => /[?&]mid=/.test(x.url)).length,
      latencies,
    };
  } finally {
    await Promise.all([netease.stop(), dt?.stop(), wc?.stop()]);
  }
}

export async function run(): Promise<{ table: string; summary: string }> {
  const savedLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'error';
  const netease = await startNeteaseSimulator({});
  const sync: SyncMeasure[] = [];
  const notices: NoticeMeasure[] = [];
  try {
    for (const vendor of ['dingtalk', 'wecom'] as const) {
      let perChange: number | undefined;
      for (const [p, d] of SIZES) {
        const m = await measureSync(netease, vendor, p, d, p > APPLY_MAX_PEOPLE ? perChange : undefined);
        if (!m.changesEstimated) perChange = m.changeCalls / CHANGES_PER_DAY;
        sync.push(m);
      }
    }
    for (const vendor of ['dingtalk', 'wecom'] as const) for (const digest of [false, true]) notices.push(await measureNotices(vendor, digest));
  } finally {
    await netease.stop();
    if (savedLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = savedLevel;
  }

  const rows: Array<Array<string | number>> = [];
  for (const s of sync) {
    const syncMonth = Math.round(s.meteredPerDay * MONTH_DAYS);
    const allMonth = Math.round(s.callsPerDay * MONTH_DAYS);
    const label = `${s.vendor} ${s.people.toLocaleString('en')} / ${s.departments.toLocaleString('en')}`;
    const counted = s.vendor === 'dingtalk' ? syncMonth : allMonth;
    const quota = s.vendor === 'dingtalk' ? `${((syncMonth / FREE_QUOTA) * 100).toFixed(0)}% of 10,000` : 'no monthly quota';
    rows.push([label, 'off', '-', counted, s.vendor === 'dingtalk' ? 'metered' : 'all (free)', quota, `${s.fullRunsPerDay}/day x ${s.fullRunCalls} + ${Math.round(s.changeCalls)} for ${CHANGES_PER_DAY} changes${s.changesEstimated ? ' (dry-run full runs; changes at the applied org per-change cost)' : ''}`]);
    const previous = Math.round((96 * s.fullRunCalls + s.changeCalls) * MONTH_DAYS);
    rows.push([label, 'off (previous default: full run every 15 min)', '-', previous, s.vendor === 'dingtalk' ? 'metered' : 'all (free)', s.vendor === 'dingtalk' ? `${((previous / FREE_QUOTA) * 100).toFixed(0)}% of 10,000` : 'no monthly quota', '96 full runs a day']);
    for (const n of notices.filter((x) => x.vendor === s.vendor)) {
      const perMonth = (s.vendor === 'dingtalk' ? n.meteredPerPersonDay : n.callsPerPersonDay) * s.people * WORKING_DAYS;
      const total = Math.round(counted + perMonth);
      rows.push([label, `on (${MAILS_PER_DAY} mails/person/working day)`, n.digest ? 'on (60 min)' : 'off', total, s.vendor === 'dingtalk' ? 'metered' : 'all (free)', s.vendor === 'dingtalk' ? `${((total / FREE_QUOTA) * 100).toFixed(0)}% of 10,000` : 'no monthly quota', `notices ${Math.round(perMonth)}`]);
    }
  }
  const table = [
    '### Vendor API calls per month at defaults (directory: nightly full run + 50 changes a day via callbacks)',
    '',
    markdownTable(['org (people / departments)', 'notices', 'digest', 'calls / month', 'counted', 'vs free quota', 'made of'], rows),
    '',
    `### Notices: one working day, ${NOTICE_PEOPLE} people x ${MAILS_PER_DAY} mails, polled every 30 s (1-minute schedule + 30 s delayed poll)`,
    '',
    markdownTable(
      ['channel', 'digest', 'mails', 'notices', 'open the mail (mid)', 'arrival -> notice p50 (s)', 'p95 (s)', 'max (s)', 'metered calls / person / day'],
      notices.map((n) => [
        n.vendor,
        n.digest ? 'on (60 min)' : 'off',
        n.mails,
        n.notices,
        `${n.withMid} (${((n.withMid / Math.max(1, n.notices)) * 100).toFixed(0)}%)`,
        (percentile(n.latencies, 50) / 1000).toFixed(1),
        (percentile(n.latencies, 95) / 1000).toFixed(1),
        (Math.max(...n.latencies) / 1000).toFixed(1),
        n.meteredPerPersonDay.toFixed(1),
      ]),
    ),
  ].join('\n');
  const dt1k = sync.find((s) => s.vendor === 'dingtalk' && s.people === SIZES[0]![0])!;
  const dtOff = Math.round(dt1k.meteredPerDay * MONTH_DAYS);
  const off = notices.find((n) => n.vendor === 'dingtalk' && !n.digest)!;
  const p95 = percentile(off.latencies, 95) / 1000;
  const midShare = off.withMid / Math.max(1, off.notices);
  const summary = `DingTalk ${dt1k.people} people / ${dt1k.departments} departments, notices off: ${dtOff} metered calls a month (target <= 8,000: ${dtOff <= 8000 ? 'met' : 'NOT met'}); notices p95 ${p95.toFixed(1)} s (target < 60: ${p95 < 60 ? 'met' : 'NOT met'}); ${(midShare * 100).toFixed(0)}% of notices open the mail (target >= 90%: ${midShare >= 0.9 ? 'met' : 'NOT met'}). Simulated ${DAYS} day(s) of directory work, one working day of notices.`;
  return { table, summary };
}
