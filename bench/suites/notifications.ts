/**
 * New-mail notifications on the local stack, end to end: the real notify planner and
 * worker handlers (dynalite, fauxqs with the local event source mapping, the file secret
 * store), the NetEase simulator's received-mail log, and the DingTalk / WeCom simulators
 * recording the messages, all over HTTP on loopback.
 *
 * 1. Throughput: PEOPLE mailboxes per tenant, MAILS mails delivered (deliverMail) across
 *    them, then the planner runs; measured from the planner run to the last vendor message
 *    recorded. The planner is re-run when the queue is drained and messages are still
 *    missing (a worker invocation stops starting people near its timeout and leaves them
 *    to the next poll, as it does in AWS every 2 minutes).
 * 2. Detection latency: one mail at a time, deliverMail -> planner run -> vendor message
 *    recorded. In production add the wait for the next scheduled planner run (every
 *    2 minutes: 1 minute on average, 2 at worst).
 *
 * Vendor limits shape the numbers on purpose: DingTalk allows 20 calls/s per app and API
 * (asyncsend_v2 included, dingtalk.md §4), and one work notification carries one mail, so
 * DingTalk throughput per tenant is capped near 20 mails/s; WeCom's per-API limit is
 * 10,000/min per corp (wecom.md §4), the tenant's client limit is set to 100/s here.
 *
 * Scale: BENCH_NOTIFY_PEOPLE (default 500), BENCH_NOTIFY_MAILS (default 2000),
 * BENCH_NOTIFY_LATENCY_SAMPLES (default 20).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { NotifyChannel } from '../../shared/contracts/notify-job';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { provisionSandboxSecrets } from '../../local/sandbox';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startWecomSimulator, type RunningWecomSimulator } from '../../local/simulators/wecom';
import { notifyTenantsJson, type NotifyTenantsOptions } from '../../test/fixtures/notify-tenants';
import { markdownTable, percentile } from '../table';
import { saveEnv } from '../../test/support/env';

const PEOPLE = envInt('BENCH_NOTIFY_PEOPLE', 500);
const MAILS = envInt('BENCH_NOTIFY_MAILS', 2000);
const LATENCY_SAMPLES = envInt('BENCH_NOTIFY_LATENCY_SAMPLES', 20);
const STAGE = 'local';

interface Scenario {
  channel: NotifyChannel;
  tenant: TenantConfig;
  /** Vendor user ids, index i <-> NetEase account `user<i>`. */
  userIds: string[];
  recorded(): number;
  lastText(): string;
}

interface ThroughputRow {
  channel: NotifyChannel;
  mails: number;
  messages: number;
  seconds: number;
  plannerRuns: number;
  neteaseCalls: number;
}

export async function run(): Promise<{ table: string; summary: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-notify-'));
  const restoreEnv = saveEnv('LOG_LEVEL');
  // The handlers log one line per batch; keep the bench output to the table.
  process.env.LOG_LEVEL = 'error';
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const tenants: NotifyTenantsOptions = { prefix: 'bench', agentIds: ['3000001', '3000002'], wecomTenantWide: true, rates: { netease: 200, dingtalk: 20, wecom: 100 } };
  const base = notifyTenantsJson(tenants).map((t) => tenantSchema.parse(t));
  await provisionSandboxSecrets({ tenants: base, secrets, stage: STAGE });

  let netease: RunningNeteaseSimulator | undefined;
  let dingtalk: RunningDingtalkSimulator | undefined;
  let wecom: RunningWecomSimulator | undefined;
  let stack: LocalStack | undefined;
  try {
    netease = await startNeteaseSimulator({ port: 0, tenants: base, secrets, stage: STAGE });
    dingtalk = await startDingtalkSimulator({ port: 0, tenants: base, secrets, stage: STAGE, people: PEOPLE });
    wecom = await startWecomSimulator({ port: 0, tenants: base, secrets, stage: STAGE, people: PEOPLE });
    const tenantsFile = join(dataDir, 'tenants.json');
    const doc = { tenants: notifyTenantsJson(tenants, { netease: netease.url, dingtalk: dingtalk.url, wecom: wecom.url }) };
    writeFileSync(tenantsFile, JSON.stringify(doc, null, 1));
    stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, simulators: [], schedule: false, logger: quietLogger() });
    if (Object.keys(stack.handlerErrors).length > 0) throw new Error(`handlers failed to load: ${JSON.stringify(stack.handlerErrors)}`);

    const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
    const dt = dingtalk;
    const wc = wecom;
    const scenarios: Scenario[] = [
      {
        channel: 'dingtalk',
        tenant: stack.tenants.tenants.find((t) => t.id === 'bench-dt')!,
        userIds: dt.state('bench-dt').users.slice(0, PEOPLE).map((u) => u.userid),
        recorded: () => dt.state('bench-dt').messages,
        lastText: () => JSON.stringify(dt.messages('bench-dt').at(-1)?.msg ?? {}),
      },
      {
        channel: 'wecom',
        tenant: stack.tenants.tenants.find((t) => t.id === 'bench-wc')!,
        userIds: wc.state('bench-wc').users.slice(0, PEOPLE).map((u) => u.userid),
        recorded: () => wc.state('bench-wc').messages,
        lastText: () => JSON.stringify(wc.messages('bench-wc').at(-1)?.payload ?? {}),
      },
    ];
    for (const s of scenarios) {
      if (s.userIds.length < PEOPLE) throw new Error(`${s.channel} simulator has only ${s.userIds.length} people`);
      netease.seed(s.tenant.netease.domain, { accounts: s.userIds.map((_, i) => ({ account_name: `user${i}`, nickname: `用户${i}` })) });
      for (let i = 0; i < PEOPLE; i++) {
        await stores.mappings.put({ tenantId: s.tenant.id, source: s.channel, objectType: 'person', sourceId: s.userIds[i]!, neteaseId: `user${i}`, contentHash: 'bench', status: 'active', lastRunId: 'bench' });
      }
    }

    // First poll: every mailbox starts being watched (no mail is notified yet).
    const st = stack;
    const firstPoll = performance.now();
    await st.trigger('notifyPlanner');
    await drained(st);
    const firstPollSecs = (performance.now() - firstPoll) / 1000;
    // Mail must be sent after the first check's second (NetEase times have 1 s precision).
    await sleep(1100);

    const rows: ThroughputRow[] = [];
    const latencies: Record<NotifyChannel, number[]> = { dingtalk: [], wecom: [] };
    for (const s of scenarios) {
      const nc = netease;
      const before = s.recorded();
      const callsBefore = nc.calls({ domain: s.tenant.netease.domain, path: '/qiyeservice/api/mail/getReceivedMailLogs' }).length;
      // MAILS mails spread over the people; at most 5 per person stay individual messages.
      for (let m = 0; m < MAILS; m++) {
        const i = m % PEOPLE;
        nc.deliverMail(s.tenant.netease.domain, `user${i}`, { from: `sender${m}@partner.example.net`, subject: `Bench mail ${m}` });
      }
      const expected = expectedMessages(MAILS, PEOPLE);
      const t0 = performance.now();
      let plannerRuns = 0;
      while (s.recorded() - before < expected) {
        await st.trigger('notifyPlanner');
        plannerRuns++;
        await drained(st);
        if (plannerRuns > 20) throw new Error(`${s.channel}: only ${s.recorded() - before} of ${expected} messages after 20 planner runs`);
      }
      const seconds = (performance.now() - t0) / 1000;
      const neteaseCalls = nc.calls({ domain: s.tenant.netease.domain, path: '/qiyeservice/api/mail/getReceivedMailLogs' }).length - callsBefore;
      rows.push({ channel: s.channel, mails: MAILS, messages: s.recorded() - before, seconds, plannerRuns, neteaseCalls });

      // Detection latency: one mail at a time.
      await sleep(1100);
      for (let k = 0; k < LATENCY_SAMPLES; k++) {
        const i = (k * 37) % PEOPLE;
        const count = s.recorded();
        const subject = `Latency probe ${s.channel} ${k}`;
        const tA = performance.now();
        nc.deliverMail(s.tenant.netease.domain, `user${i}`, { from: 'probe@partner.example.net', subject });
        await st.trigger('notifyPlanner');
        await waitFor(() => s.recorded() > count, 30_000);
        latencies[s.channel].push(performance.now() - tA);
        if (!s.lastText().includes(subject)) throw new Error(`${s.channel}: the recorded message is not the probe mail`);
        await drained(st);
        // Keep consecutive probes in distinct seconds for the same person.
        await sleep(20);
      }
    }

    const table = [
      markdownTable(
        ['throughput (real planner + worker, simulators over HTTP)', 'people', 'mails', 'vendor messages', 'seconds', 'mails/s', 'planner runs', 'NetEase log calls'],
        rows.map((r) => [r.channel, PEOPLE, r.mails, r.messages, r.seconds, r.mails / r.seconds, r.plannerRuns, r.neteaseCalls]),
      ),
      '',
      markdownTable(
        ['detection latency: deliverMail -> planner -> vendor message recorded', 'samples', 'p50 ms', 'p95 ms', 'max ms'],
        (['dingtalk', 'wecom'] as const).map((c) => [c, latencies[c].length, percentile(latencies[c], 50), percentile(latencies[c], 95), Math.max(...latencies[c])]),
      ),
      '',
      `First poll (${PEOPLE * 2} mailboxes start being watched, nothing sent): ${firstPollSecs.toFixed(2)} s.`,
      'Production latency = the above + the wait for the next planner run (every 2 min: 1 min on average, 2 min at worst).',
    ].join('\n');
    const dtRow = rows.find((r) => r.channel === 'dingtalk')!;
    const wcRow = rows.find((r) => r.channel === 'wecom')!;
    const summary =
      `Notifications: DingTalk ${(dtRow.mails / dtRow.seconds).toFixed(1)} mails/s (capped by 20 asyncsend_v2 calls/s per app), ` +
      `WeCom ${(wcRow.mails / wcRow.seconds).toFixed(1)} mails/s; detection p95 ${percentile(latencies.dingtalk, 95).toFixed(0)} ms (DingTalk) / ` +
      `${percentile(latencies.wecom, 95).toFixed(0)} ms (WeCom) after the planner runs, plus up to 2 min schedule wait.`;
    return { table, summary };
  } finally {
    await stack?.stop();
    await Promise.all([netease?.stop(), dingtalk?.stop(), wecom?.stop()]);
    restoreEnv();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Per person: up to 5 mails are messages of their own; more become 4 + one summary. */
function expectedMessages(mails: number, people: number): number {
  let total = 0;
  for (let i = 0; i < people; i++) {
    const n = Math.floor(mails / people) + (i < mails % people ? 1 : 0);
    total += n <= 5 ? n : 5;
  }
  return total;
}

/** The notify queue is empty and nothing is in flight. */
async function drained(stack: LocalStack): Promise<void> {
  await waitFor(async () => {
    const h = await stack.health();
    const q = h.checks.queues['qiye-bridge-local-notify'];
    return q !== undefined && (q.messages ?? 0) === 0 && (q.inFlight ?? 0) === 0;
  }, 300_000, 50);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}

function quietLogger() {
  const noop = () => {};
  const l = { debug: noop, info: noop, warn: noop, error: noop, child: () => l };
  return l;
}
