/**
 * New-mail notifications through the local stack as deployed: the real notify planner and
 * worker handlers built from the environment (getRuntime), dynalite, fauxqs with the
 * local event source mapping, the file secret store, and the NetEase / WeCom / DingTalk
 * simulators on random loopback ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { provisionSandboxSecrets } from '../../local/sandbox';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startWecomSimulator, type RunningWecomSimulator } from '../../local/simulators/wecom';
import { notifyTenantsJson, type NotifyTenantsOptions } from '../fixtures/notify-tenants';
import { saveEnv } from '../support/env';
import { notifyQueueDrained, waitFor } from '../support/wait-for';

let dataDir: string;
let stack: LocalStack | undefined;
let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;
let wecom: RunningWecomSimulator;
let secrets: FileSecretStore;
const restoreEnv = saveEnv('LOG_LEVEL');

const drained = (): Promise<void> => notifyQueueDrained(stack!);

const TENANTS: NotifyTenantsOptions = { prefix: 'e2e', agentIds: ['4000001', '4000002'], wecomTenantWide: false };

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  dataDir = mkdtempSync(join(tmpdir(), 'notify-stack-'));
  secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const base = notifyTenantsJson(TENANTS).map((t) => tenantSchema.parse(t));
  await provisionSandboxSecrets({ tenants: base, secrets, stage: 'local' });
  netease = await startNeteaseSimulator({ port: 0, tenants: base, secrets, stage: 'local' });
  dingtalk = await startDingtalkSimulator({ port: 0, tenants: base, secrets, stage: 'local' });
  wecom = await startWecomSimulator({ port: 0, tenants: base, secrets, stage: 'local' });
  const tenantsFile = join(dataDir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify({ tenants: notifyTenantsJson(TENANTS, { netease: netease.url, dingtalk: dingtalk.url, wecom: wecom.url }) }));
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, simulators: [], schedule: false, logger: createMemoryLogger('error') });
  expect(stack.handlerErrors).toEqual({});
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([netease?.stop(), dingtalk?.stop(), wecom?.stop()]);
  restoreEnv();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('notifications on the local stack', () => {
  it('planner -> queue -> worker -> vendor: one message per new mail with a link to the SSO function URL, opt-ins respected, a missing secret skipped', async () => {
    const s = stack!;
    const stores = createDynamoStateStores(s.clients.documents, s.tableName);
    const dtUsers = dingtalk.state('e2e-dt').users.slice(0, 2).map((u) => u.userid);
    const wcUsers = wecom.state('e2e-wc').users.slice(0, 2).map((u) => u.userid);
    netease.seed('e2e-dt.example.com', { accounts: [{ account_name: 'dt0' }, { account_name: 'dt1' }] });
    netease.seed('e2e-wc.example.com', { accounts: [{ account_name: 'wc0' }, { account_name: 'wc1' }] });
    for (const [i, u] of dtUsers.entries()) await stores.mappings.put({ tenantId: 'e2e-dt', source: 'dingtalk', objectType: 'person', sourceId: u, neteaseId: `dt${i}`, contentHash: 'h', status: 'active', lastRunId: 'e2e' });
    for (const [i, u] of wcUsers.entries()) await stores.mappings.put({ tenantId: 'e2e-wc', source: 'wecom', objectType: 'person', sourceId: u, neteaseId: `wc${i}`, contentHash: 'h', status: 'active', lastRunId: 'e2e' });
    // WeCom tenant: notifications for people who opted in only.
    const { DynamoNotifyStore } = await import('../../shared/adapters/aws/dynamo-notify.store');
    await new DynamoNotifyStore(s.clients.documents, s.tableName).setOptIn('e2e-wc', 'wecom', wcUsers[1]!, true);

    const first = (await s.trigger('notifyPlanner')) as { tenants: Array<{ tenantId: string; people: number; batches: number }> };
    expect(first.tenants.map((t) => [t.tenantId, t.people, t.batches])).toEqual([
      ['e2e-dt', 2, 1],
      ['e2e-wc', 1, 1],
    ]);
    await drained();
    await new Promise((r) => setTimeout(r, 1100));

    netease.deliverMail('e2e-dt.example.com', 'dt1', { from: 'ceo@partner.example.net', subject: '董事会纪要' });
    netease.deliverMail('e2e-wc.example.com', 'wc0', { from: 'x@partner.example.net', subject: '没有订阅' });
    netease.deliverMail('e2e-wc.example.com', 'wc1', { from: 'y@partner.example.net', subject: '已订阅' });
    await s.trigger('notifyPlanner');
    await waitFor(() => dingtalk.state('e2e-dt').messages === 1 && wecom.state('e2e-wc').messages === 1);
    await drained();

    const dt = dingtalk.messages('e2e-dt')[0]!;
    expect(dt.userIds).toEqual([dtUsers[1]]);
    const card = dt.msg.action_card as { title: string; single_url: string };
    expect(card.title).toBe('新邮件：董事会纪要');
    const link = new URL(card.single_url);
    expect(`${link.origin}${link.pathname}`).toBe(`${s.urls.functionUrl}/sso/e2e-dt`);
    expect(link.searchParams.get('via')).toBe('dingtalk');
    const wc = wecom.messages('e2e-wc')[0]!;
    expect(wc.toUsers).toEqual([wcUsers[1]]);
    expect((wc.payload as { title: string }).title).toBe('新邮件：已订阅');

    // The next run finds nothing new.
    await s.trigger('notifyPlanner');
    await drained();
    expect(dingtalk.state('e2e-dt').messages).toBe(1);
    expect(wecom.state('e2e-wc').messages).toBe(1);

    // A tenant whose channel secret disappears is skipped by the planner (no crash).
    await secrets.putJson(secretName('local', 'e2e-dt', 'dingtalk'), {});
    const third = (await s.trigger('notifyPlanner')) as { tenants: Array<{ tenantId: string; status: string; reason?: string }> };
    expect(third.tenants.find((t) => t.tenantId === 'e2e-dt')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('qiye-bridge/local/e2e-dt/dingtalk') });
    expect(third.tenants.find((t) => t.tenantId === 'e2e-wc')).toMatchObject({ status: 'planned' });
    await drained();
  }, 60_000);
});
