/**
 * The item 6 (sandbox) over the real local stack: the EKP sandbox tenant of
 * config/tenants.local.json with its DingTalk channel, whose simulated org is derived from
 * the EKP simulator's people (local/simulators/dingtalk/dingtalk-sim.seed.ts). The first
 * start's sync and links pull (what local/start.ts runs), then an EKP person signs in from
 * the DingTalk workbench (H5: JSAPI code) into their mailbox on the NetEase simulator, the
 * ambiguous user is refused with whom to ask, and a new mail becomes a DingTalk work notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFirstLinksPulls } from '../../local/first-links';
import { runFirstSyncs, type FirstSyncReport } from '../../local/first-sync';
import { DynamoUsageStore } from '../../shared/adapters/aws/dynamo-usage.store';
import { usageMonth } from '../../shared/ports/usage-meter';
import type { RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import type { RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { LocalStack } from '../../local/stack';
import { saveEnv } from '../support/env';
import { startEkpSandboxStack, type EkpSandboxStack } from '../support/ekp-sandbox-stack';
import { notifyQueueDrained, waitFor } from '../support/wait-for';

const DOMAIN = 'sandbox.example.com';

let sandbox: EkpSandboxStack;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;
const restoreEnv = saveEnv('LOG_LEVEL');
let report: FirstSyncReport;
const lines: string[] = [];

const notifyDrained = (): Promise<void> => notifyQueueDrained(stack, 30_000);

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  sandbox = await startEkpSandboxStack({ prefix: 'qiye-sandbox-links-' });
  ({ stack, netease, dingtalk } = sandbox);
  [report] = (await runFirstSyncs(stack, { out: (l) => lines.push(l) })) as [FirstSyncReport];
}, 120_000);

afterAll(async () => {
  restoreEnv();
  await sandbox?.stop();
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

  it('the links pull runs on the functions\' wiring: its DingTalk user reads are counted in the usage table', async () => {
    const usage = new DynamoUsageStore(stack.clients.documents, stack.tableName);
    const month = usageMonth(Date.now());
    // Only the channel directory lists DingTalk users (the notify path sends, sign-in looks one user up).
    const userLists = async () => (await usage.counters('sandbox', month)).filter((c) => c.vendor === 'dingtalk' && c.api === 'topapi/v2/user/list').reduce((n, c) => n + c.calls, 0);
    const before = await userLists();
    const [again] = await runFirstLinksPulls(stack, [stack.tenants.tenants.find((t) => t.id === 'sandbox')!], () => undefined);
    expect(again!.result).toMatchObject({ status: 'ok' });
    // Counted on the process's one meter and written before the pull returns.
    expect(await userLists()).toBeGreaterThan(before);
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
    await waitFor(() => dingtalk.state('sandbox').messages === 1, 30_000);
    await notifyDrained();
    const msg = dingtalk.messages('sandbox')[0]!;
    expect(msg.userIds).toEqual([ex.channelUserId]);
    expect((msg.msg.action_card as { title: string }).title).toBe('新邮件：沙箱通知');
  }, 60_000);
});
