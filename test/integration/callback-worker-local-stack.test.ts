/**
 * The callback worker as deployed, on the local stack: the real handler modules and their
 * production wiring (DynamoDB dirty store and sync stores on dynalite, SQS on fauxqs with the
 * manifest's pollers, the DingTalk and NetEase simulators on random ports through a temp
 * tenants file). A signed DingTalk callback sent to the gateway becomes a mailbox; a leave
 * becomes a suspension; nothing is left waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFirstSync } from '../../local/first-sync';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import type { RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { DynamoDirtyStore } from '../../shared/adapters/aws/dynamo-dirty.store';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { createMemoryLogger } from '../../shared/logging/logger';
import { readTenantSecret } from '../../shared/runtime/runtime';
import { buildSimulatedCallback, type SimulatedEvent } from '../../shared/use-cases/callbacks/simulate-callback';
import { saveEnv } from '../support/env';
import { startWiredSimulators } from '../support/wired-simulators';

const TENANT = 'cbwire';
const DOMAIN = 'cbwire.example.com';
let dataDir: string;
let wired: { stop(): Promise<void> } | undefined;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;

const tenantJson = (neteaseUrl: string, dingtalkUrl: string) => ({
  id: TENANT,
  netease: { domain: DOMAIN, product: 'cbwire_product', region: 'hz', apiBaseUrl: `${neteaseUrl}/qiyeservice/api`, ssoEntryUrl: `${neteaseUrl}/domain/oa/Entry`, unreadUrl: `${neteaseUrl}/oaserver/user/getUnreadMsg`, requestsPerSecond: 200 },
  dingtalk: { corpId: 'dingcbwirecorp', appKey: 'dingcbwireappkey', agentId: '1000001', apiBaseUrl: dingtalkUrl, newApiBaseUrl: `${dingtalkUrl}/api`, loginBaseUrl: `${dingtalkUrl}/login` },
  // One leaver of 11 is 9%: above the default 5% threshold a callback run would park for approval.
  sync: { source: 'dingtalk', accountNameRule: 'emailLocalPart', deleteThreshold: { count: 50, percent: 20 } },
});

const restoreEnv = saveEnv('LOG_LEVEL');
beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  const started = await startWiredSimulators({ prefix: 'qiye-cbworker-', tenant: tenantJson, startSource: (draft, secrets) => startDingtalkSimulator({ port: 0, tenants: [draft], secrets, stage: 'local', people: 10 }) });
  ({ dataDir, netease, source: dingtalk } = started);
  wired = started;
  const { tenantsFile } = started;
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, simulators: [], logger: createMemoryLogger('error') });
  expect(stack.handlerErrors).toEqual({});
  const first = await runFirstSync(stack, { tenantId: TENANT });
  expect(first.run?.status).toBe('success');
}, 60_000);

afterAll(async () => {
  restoreEnv();
  await stack?.stop();
  await wired?.stop();
});

async function callback(event: SimulatedEvent, userId: string): Promise<void> {
  const s = await readTenantSecret(stack.clients.secrets, 'local', TENANT, 'dingtalk');
  const tenant = stack.tenants.tenants[0]!;
  const cb = buildSimulatedCallback({ tenant, token: s.callbackToken!, aesKey: s.callbackAesKey!, event, ids: [userId], now: Date.now() });
  const res = await fetch(`${stack.urls.gateway}${cb.path}?${cb.rawQuery}`, { method: cb.method, headers: { 'content-type': cb.contentType }, body: cb.body });
  expect(cb.verdict(res.status, await res.text()).acknowledged).toBe(true);
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the callback worker on the local stack', () => {
  it('a signed user_add_org becomes a mailbox, a user_leave_org a suspension, and nothing is left waiting', async () => {
    const added = await fetch(`${dingtalk.url}/__sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: TENANT, userid: 'wire01', name: '线上新人', org_email: `wire01@${DOMAIN}`, dept_id_list: [1] }),
    });
    expect(added.status).toBeLessThan(300);
    await callback('user_add_org', 'wire01');
    const account = await until('the mailbox', () => netease.state(DOMAIN).accounts.wire01);
    expect(account).toMatchObject({ nickname: '线上新人', status: 0 });

    const removed = await fetch(`${dingtalk.url}/__sim/users/wire01?tenant=${TENANT}`, { method: 'DELETE' });
    expect(removed.status).toBeLessThan(300);
    await callback('user_leave_org', 'wire01');
    await until('the suspension', () => (netease.state(DOMAIN).accounts.wire01?.status === 1 ? true : undefined));

    const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
    // NetEase shows the suspension as soon as the call is made; the run finishes (results
    // recorded, lock released) just after: wait for that, not for a fixed time.
    const runs = await until('both callback runs to finish', async () => {
      const r = (await stores.runs.list(TENANT)).items.filter((x) => x.trigger === 'callback');
      return r.length === 2 && r.every((x) => x.status !== 'planning' && x.status !== 'applying') ? r : undefined;
    });
    expect(runs.map((r) => r.status)).toEqual(['success', 'success']);
    expect(await new DynamoDirtyStore(stack.clients.documents, stack.tableName).list(TENANT, 'dingtalk')).toEqual([]);
    expect(await stores.locks.get(TENANT, 'sync')).toBeUndefined();
  }, 30_000);
});
