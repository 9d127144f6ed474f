/**
 * A second DingTalk org of one tenant, over the wire through the real local stack: the EKP
 * sandbox tenant with an extra channel `sub` (its own org in the DingTalk simulator, its own
 * app secret and callback keys, its own match rules). A `user_add_org` sent by
 * `qiye-bridge simulate callback --channel sub` to `/callbacks/dingtalk/sandbox/sub` is
 * verified with sub's keys, queued (fauxqs), picked up by the callback worker, and the new
 * user is linked in dynalite within 5 s. A callback for sub signed with the first org's keys
 * is refused and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateCallback } from '../../cli/commands/simulate';
import { createContext } from '../../cli/context';
import type { RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { seedEkpOrg } from '../../local/simulators/ekp/ekp-sim.seed';
import type { LocalStack } from '../../local/stack';
import { DynamoLinkStore } from '../../shared/adapters/aws/dynamo-link.store';
import { channelView, findChannel } from '../../shared/config/channels';
import { secretName } from '../../shared/config/secrets';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { buildSimulatedCallback } from '../../shared/use-cases/callbacks/simulate-callback';
import { saveEnv } from '../support/env';
import { startEkpSandboxStack, type EkpSandboxStack } from '../support/ekp-sandbox-stack';
import { waitFor } from '../support/wait-for';

const SUB = {
  id: 'sub',
  vendor: 'dingtalk',
  corpId: 'dingsandboxsub0001',
  appKey: 'dingsandboxsubkey01',
  agentId: '1000005',
  apiBaseUrl: 'http://127.0.0.1:3102',
  newApiBaseUrl: 'http://127.0.0.1:3102/api',
  loginBaseUrl: 'http://127.0.0.1:3102/login',
  // The subsidiary's job numbers are its own: match only by them here (per-channel rules).
  links: { rules: ['jobNumber'] },
};

let sandbox: EkpSandboxStack;
let stack: LocalStack;
let dingtalk: RunningDingtalkSimulator;
let tenant: TenantConfig;
let links: DynamoLinkStore;
const restoreEnv = saveEnv('LOG_LEVEL');

/** A new user in the sub org (simulator control API), carrying `jobNumber`. */
async function addSubUser(name: string, jobNumber: string): Promise<string> {
  const res = await fetch(`${dingtalk.url}/__sim/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'sandbox/sub', name, dept_id_list: [1], job_number: jobNumber }) });
  expect(res.status).toBeLessThan(300);
  return dingtalk.state('sandbox/sub').users.find((u) => u.job_number === jobNumber)!.userid;
}

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  sandbox = await startEkpSandboxStack({ prefix: 'qiye-channel-callbacks-', edit: (t) => ({ ...t, channels: [SUB] }) });
  ({ stack, dingtalk } = sandbox);
  tenant = stack.tenants.tenants[0]!;
  links = new DynamoLinkStore(stack.clients.documents, stack.tableName);
}, 120_000);

afterAll(async () => {
  restoreEnv();
  await sandbox?.stop();
});

describe('a second DingTalk org of one tenant, through its own callback route', () => {
  it('the sandbox provisions the sub org\'s own secret, and the simulator serves it as an org of its own', async () => {
    const main = await stack.clients.secrets.getJson(secretName('local', 'sandbox', 'dingtalk'));
    const sub = await stack.clients.secrets.getJson(secretName('local', 'sandbox', 'dingtalk', 'sub'));
    expect(sub).toMatchObject({ appSecret: expect.any(String), callbackToken: expect.any(String), callbackAesKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/) });
    expect(sub!.callbackAesKey).not.toBe(main!.callbackAesKey);
    expect(dingtalk.state('sandbox/sub')).toMatchObject({ corpId: SUB.corpId, appKey: SUB.appKey });
  });

  it('links a user added to the second org within 5 s of its user_add_org (simulate callback --channel sub)', async () => {
    const person = seedEkpOrg(tenant).people.filter((p) => p.status === 'active' && p.jobNumber).at(-1)!;
    const userId = await addSubUser('子公司新同事', person.jobNumber!);
    const out: string[] = [];
    const err: string[] = [];
    const ctx = createContext('local', { out: (l) => out.push(l), err: (l) => err.push(l) }, { QIYE_DATA_DIR: stack.dataDir, QIYE_TENANTS_FILE: stack.tenantsFile });
    const started = Date.now();
    const code = await simulateCallback.run({ values: { url: stack.urls.gateway, tenant: 'sandbox', channel: 'sub', event: 'user_add_org', user: userId }, positionals: [] }, ctx);
    expect(err).toEqual([]);
    expect(code ?? 0).toBe(0);
    expect(out.join('\n')).toContain(`${stack.urls.gateway}/callbacks/dingtalk/sandbox/sub`);
    const link = await waitFor(async () => {
      const l = await links.get('sandbox', 'sub', userId);
      return l?.status === 'linked' ? l : undefined;
    }, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(link).toMatchObject({ personId: person.id, rule: 'jobNumber', origin: 'callback' });
    // The first org has no such user: nothing was linked there.
    expect(await links.get('sandbox', 'dingtalk', userId)).toBeUndefined();
  }, 30_000);

  it('refuses a callback for the second org signed with the first org\'s keys, and links nobody', async () => {
    const person = seedEkpOrg(tenant).people.filter((p) => p.status === 'active' && p.jobNumber).at(-2)!;
    const userId = await addSubUser('伪造测试', person.jobNumber!);
    const main = (await stack.clients.secrets.getJson(secretName('local', 'sandbox', 'dingtalk'))) as { callbackToken: string; callbackAesKey: string };
    const sub = (await stack.clients.secrets.getJson(secretName('local', 'sandbox', 'dingtalk', 'sub'))) as { callbackToken: string; callbackAesKey: string };
    const subView = channelView(tenant, findChannel(tenant, 'dingtalk', 'sub')!);
    const send = async (cb: ReturnType<typeof buildSimulatedCallback>) => {
      const r = await fetch(`${stack.urls.gateway}${cb.path}?${cb.rawQuery}`, { method: cb.method, headers: { 'content-type': cb.contentType }, body: cb.body });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as { error?: string } };
    };
    const base = { event: 'user_add_org' as const, ids: [userId], now: Date.now() };
    // Org 1's keys on org 2's route (the forger knows org 1's token and key, not org 2's).
    const forged = await send(buildSimulatedCallback({ ...base, tenant: subView, channelId: 'sub', token: main.callbackToken, aesKey: main.callbackAesKey }));
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('CALLBACK.BAD_SIGNATURE');
    // Org 2's keys on org 1's route: refused too (each route checks only its own org's keys).
    const crossed = await send(buildSimulatedCallback({ ...base, tenant: subView, token: sub.callbackToken, aesKey: sub.callbackAesKey }));
    expect(crossed.status).toBe(401);
    // Routes that name no extra channel of this tenant: the same 404 as an unknown tenant.
    for (const path of ['/callbacks/dingtalk/sandbox/nope', '/callbacks/dingtalk/sandbox/dingtalk']) {
      const r = await fetch(`${stack.urls.gateway}${path}`, { method: 'POST', body: '{}' });
      expect(r.status, path).toBe(404);
    }
    // Nothing was queued for the worker: the user stays unlinked (a real event would link it in well under 2 s).
    await new Promise((r) => setTimeout(r, 2000));
    expect(await links.get('sandbox', 'sub', userId)).toBeUndefined();
  }, 30_000);
});
