/**
 * The item 6 (sandbox) over the real local stack: the EKP sandbox tenant of
 * config/tenants.local.json with its DingTalk channel, whose simulated org is derived from
 * the EKP simulator's people (local/simulators/dingtalk/dingtalk-sim.seed.ts). The first
 * start's sync and links pull (what local/start.ts runs), then an EKP person signs in from
 * the DingTalk workbench (H5: JSAPI code) into their mailbox on the NetEase simulator, the
 * ambiguous user is refused with whom to ask, and a new mail becomes a DingTalk work notice.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFirstSyncs, type FirstSyncReport } from '../../local/first-sync';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { RunningSimulator } from '../../local/simulators/simulator';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantsFileSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { saveEnv } from '../support/env';

const SANDBOX_PORTS: Record<string, number> = { netease: 3101, dingtalk: 3102, ekp: 3104 };
const DOMAIN = 'sandbox.example.com';

let dataDir: string;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;
const sims: RunningSimulator[] = [];
const restoreEnv = saveEnv('LOG_LEVEL');
let report: FirstSyncReport;
const lines: string[] = [];

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function notifyDrained(): Promise<void> {
  await waitFor(async () => {
    const q = (await stack.health()).checks.queues['qiye-bridge-local-notify'];
    return q !== undefined && (q.messages ?? 0) === 0 && (q.inFlight ?? 0) === 0;
  });
}

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  dataDir = await mkdtemp(join(tmpdir(), 'qiye-sandbox-links-'));
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  // Only the EKP sandbox tenant of the real sandbox file (the other two are not needed here).
  const file = JSON.parse(await readFile('config/tenants.local.json', 'utf8')) as { tenants: Array<{ id: string }> };
  let raw = JSON.stringify({ tenants: file.tenants.filter((t) => t.id === 'sandbox') });
  const draft = tenantsFileSchema.parse(JSON.parse(raw)).tenants;
  const common = { host: '127.0.0.1', port: 0, secrets, stage: 'local', dataDir: join(dataDir, 'simulators'), tenants: draft };
  netease = await startNeteaseSimulator(common);
  dingtalk = await startDingtalkSimulator(common);
  sims.push(netease, dingtalk, await startEkpSimulator(common));
  for (const sim of sims) raw = raw.replaceAll(`http://127.0.0.1:${SANDBOX_PORTS[sim.vendor]}`, sim.url);
  const tenantsFile = join(dataDir, 'tenants.local.json');
  await writeFile(tenantsFile, raw);
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, simulators: [], logger: createMemoryLogger('error') });
  expect(stack.handlerErrors).toEqual({});
  [report] = (await runFirstSyncs(stack, { out: (l) => lines.push(l) })) as [FirstSyncReport];
}, 120_000);

afterAll(async () => {
  restoreEnv();
  await stack?.stop();
  for (const sim of sims) await sim.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the EKP sandbox with its DingTalk channel', () => {
  it('the first start syncs EKP, pulls the links and prints how to sign in and get a notice', () => {
    expect(report.run).toMatchObject({ status: 'success' });
    const channel = report.links?.result?.channels[0];
    expect(channel).toMatchObject({ channelId: 'dingtalk', status: 'ok', users: 34, linked: 30, unmatched: 3, ambiguous: 1 });
    expect(lines).toContain('  links (sandbox) dingtalk: 34 users: 30 linked, 3 unmatched, 1 ambiguous  (npx qiye-bridge links list --tenant sandbox --status unmatched)');
    const ex = report.links!.example!;
    expect(lines.join('\n')).toContain(`${stack.urls.functionUrl}/sso/sandbox?via=dingtalk`);
    expect(lines.join('\n')).toContain(`"accountName":"${ex.accountName}"`);
  });

  it('an EKP person signs in from the DingTalk workbench (JSAPI code) into their own mailbox', async () => {
    const ex = report.links!.example!;
    const page = await fetch(`${stack.urls.functionUrl}/sso/sandbox?via=dingtalk&flow=h5`, { headers: { 'user-agent': 'Mozilla/5.0 DingTalk/7.0' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const back = JSON.parse(/var back = ("[^"]+")/.exec(html)![1]!) as string;
    const state = JSON.parse(/state = ("[^"]+")/.exec(html)![1]!) as string;
    // What dd.runtime.permission.requestAuthCode returns inside DingTalk, minted by the simulator.
    const minted = await fetch(`${dingtalk.url}/__sim/auth-code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'sandbox', userId: ex.channelUserId, kind: 'h5' }) });
    const { code } = (await minted.json()) as { code: string };
    const done = await fetch(`${back}&code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`, { redirect: 'manual' });
    expect(done.status).toBe(302);
    const entry = done.headers.get('location')!;
    expect(entry.startsWith(`${netease.url}/domain/oa/Entry?`)).toBe(true);
    const mailbox = await fetch(entry);
    expect(mailbox.status).toBe(200);
    expect(await mailbox.text()).toContain(`${ex.accountName}@${DOMAIN}`);
  });

  it('refuses the ambiguous DingTalk user (OAuth) with a page saying whom to ask', async () => {
    const ambiguous = report.links!.result!.channels[0]!.problems.filter((p) => p.status === 'ambiguous');
    expect(ambiguous).toHaveLength(1);
    expect(ambiguous[0]!.candidates).toHaveLength(2);
    const first = await fetch(`${stack.urls.functionUrl}/sso/sandbox?via=dingtalk`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const login = await fetch(`${first.headers.get('location')!}&userid=${encodeURIComponent(ambiguous[0]!.channelUserId)}`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const refused = await fetch(login.headers.get('location')!, { redirect: 'manual' });
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(text).toContain('more than one person');
    expect(text).toContain('IT 服务台 8000');
  });

  it('a new mail for the linked person becomes a DingTalk work notice to their DingTalk user', async () => {
    const ex = report.links!.example!;
    await stack.trigger('notifyPlanner'); // the baseline: unread counts recorded, nothing sent
    await notifyDrained();
    expect(dingtalk.state('sandbox').messages).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    netease.deliverMail(DOMAIN, ex.accountName, { from: 'ceo@partner.example.net', subject: '沙箱通知' });
    await stack.trigger('notifyPlanner');
    await waitFor(() => dingtalk.state('sandbox').messages === 1);
    await notifyDrained();
    const msg = dingtalk.messages('sandbox')[0]!;
    expect(msg.userIds).toEqual([ex.channelUserId]);
    expect((msg.msg.action_card as { title: string }).title).toBe('新邮件：沙箱通知');
  }, 60_000);
});
