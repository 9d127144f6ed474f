/**
 * Channels apart from the directory source, over the wire: an EKP-sourced tenant whose people
 * sign in and get notices through DingTalk (two orgs) and WeCom. The DingTalk, WeCom and
 * NetEase simulators answer over HTTP, links live in dynalite, the vendor clients are the
 * process's real ones (createTenantClients). The EKP side is the source's people as the
 * links job sees them (ids and match attributes), built here to overlap the channels.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../shared/adapters/aws/dynamo-link.store';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { findChannel } from '../../shared/config/channels';
import { parseTenantsConfig } from '../../shared/config/load-config';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { NotifyJob } from '../../shared/contracts/notify-job';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import type { Person } from '../../shared/domain/directory';
import { createMemoryLogger } from '../../shared/logging/logger';
import { systemClock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import type { StateStores } from '../../shared/ports/state-stores';
import { pullLinks, refreshChannelUsers } from '../../shared/use-cases/links/pull-links';
import type { LinksDeps } from '../../shared/use-cases/links/links-deps';
import { planNotifications } from '../../shared/use-cases/notify/plan-notifications';
import { processCallbackRecords, type ApplyContactEventsDeps } from '../../shared/use-cases/callbacks/apply-contact-events';
import { pullDueLinks } from '../../shared/use-cases/links/pull-due-links';
import { MemoryOnceStore } from '../../shared/adapters/memory/memory-once.store';
import { Router } from '../../shared/http/router';
import { registerLinksRoutes } from '../../functions/http/admin/links.routes';
import { createTenantClients, type TenantClients } from '../../shared/wiring/tenant-clients';
import { makeHandler } from '../../functions/http/sso/handler';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk/dingtalk.simulator';
import { startWecomSimulator } from '../../local/simulators/wecom/wecom.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { dynaliteTable } from '../support/dynalite-table';
import type { CallbackQueueMessage } from '../../shared/contracts/callback-queue';

const TABLE = 'qiye-bridge-channels-test';
const db = dynaliteTable(TABLE);
const secrets = new MemorySecrets({
  'qiye-bridge/local/eco/dingtalk': { appSecret: 'dt-main-secret' },
  'qiye-bridge/local/eco/dingtalk/sub': { appSecret: 'dt-sub-secret' },
  'qiye-bridge/local/eco/wecom': { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' },
});

let netease: RunningNeteaseSimulator;
let dt: RunningDingtalkSimulator;
let wc: Awaited<ReturnType<typeof startWecomSimulator>>;
let tenant: TenantConfig;
let stores: StateStores;
let links: DynamoLinkStore;
let clients: TenantClients;
let signer: Signer;
let ekpPeople: Person[];
let deps: LinksDeps;

function baseConfig(urls: { dt: string; wc: string; ne: string }) {
  return {
    id: 'eco',
    netease: { domain: 'eco.example.com', product: 'p1', region: 'hz', ssoEntryUrl: `${urls.ne}/domain/oa/Entry` },
    ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
    dingtalk: { corpId: 'dingmain', appKey: 'mainkey', agentId: '11', apiBaseUrl: urls.dt, newApiBaseUrl: urls.dt, loginBaseUrl: urls.dt },
    wecom: { corpId: 'wwmain', agentId: '22', apiBaseUrl: `${urls.wc}/cgi-bin`, oauthBaseUrl: urls.wc, loginBaseUrl: urls.wc },
    channels: [{ id: 'sub', vendor: 'dingtalk', corpId: 'dingsub', appKey: 'subkey', agentId: '33', apiBaseUrl: urls.dt, newApiBaseUrl: urls.dt, loginBaseUrl: urls.dt }],
    sync: { source: 'ekp' },
    links: { rules: ['jobNumber', 'mobile', 'email', 'userid=loginName'], helpContact: 'IT 服务台 8000' },
    notifications: { enabled: true, channel: 'dingtalk', tenantWide: true },
  };
}

function handler() {
  return makeHandler({
    config: { tenants: [tenant] },
    logger: createMemoryLogger(),
    clock: systemClock,
    mappings: stores.mappings,
    once: stores.once,
    links,
    oaLinkSecret: async () => 'link-secret-for-state-hmac-0123456789',
    signer: async () => signer,
    ssoBaseUrl: 'http://bridge.test',
    vendorSso: (t, v, c) => clients.signInIdentity(t, v, c),
    cas: () => {
      throw new Error('no CAS here');
    },
  });
}

function call(url: string, userAgent = 'Mozilla/5.0') {
  const u = new URL(url);
  const event = {
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: u.host, 'x-forwarded-proto': 'http', 'user-agent': userAgent },
    pathParameters: { tenant: u.pathname.split('/')[2] },
    requestContext: { requestId: 'r', domainName: u.hostname, http: { method: 'GET', path: u.pathname } },
  } as unknown as APIGatewayProxyEventV2;
  return handler()(event, {} as Context);
}

/** The whole vendor OAuth round trip for `userId`; the final answer of our SSO endpoint. */
async function signInVia(query: string, userId: string) {
  const first = await call(`http://bridge.test/sso/eco?${query}`);
  expect(first.statusCode).toBe(302);
  const res = await fetch(`${first.headers!.location as string}&userid=${encodeURIComponent(userId)}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return call(res.headers.get('location')!);
}

const accountOf = (res: { statusCode?: number; headers?: Record<string, unknown> }) => new URL(res.headers!.location as string).searchParams.get('account_name');

beforeAll(async () => {
  const pair = generateKeyPairSync(1024);
  signer = new Signer(pair.privateKeyHex);
  netease = await startNeteaseSimulator({ port: 0, keys: [{ domain: 'eco.example.com', product: 'p1', publicKeyHex: pair.publicKeyHex }] });
  // The simulators need the apps (appKey / corpId) only; the simulator serves the second org
  // (the extra channel `sub`) as an org of its own, `eco/sub`.
  const apps = parseTenantsConfig({ tenants: [baseConfig({ dt: 'http://x.test', wc: 'http://x.test', ne: 'http://x.test' })] }, 'test').tenants;
  dt = await startDingtalkSimulator({ port: 0, tenants: apps, people: 20, credentials: { eco: { appSecret: 'dt-main-secret' }, 'eco/sub': { appSecret: 'dt-sub-secret' } } });
  wc = await startWecomSimulator({ port: 0, tenants: [apps[0]!], people: 6, credentials: { eco: { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' } } });
  tenant = parseTenantsConfig({ tenants: [baseConfig({ dt: dt.url, wc: wc.url, ne: netease.url })] }, 'test').tenants[0]!;
  clients = createTenantClients({ secrets, stage: 'local' });
  stores = createMemoryStateStores();
  links = new DynamoLinkStore(db.doc, TABLE);

  // EKP's people: most DingTalk users by job number, some by mobile, two unmatched (15, 16),
  // one ambiguous (17: two EKP people share the mobile), the rest (18, 19) absent from EKP.
  const main = dt.state('eco').users;
  const sub = dt.state('eco/sub').users;
  const wcUsers = wc.state('eco').users;
  ekpPeople = [];
  main.slice(0, 15).forEach((u, i) => {
    ekpPeople.push({ id: `fd${i}`, displayName: u.name, departmentIds: [], status: 'active', ...(i < 10 ? { jobNumber: u.job_number } : { jobNumber: `E9${i}`, mobile: u.mobile }), ...(i < 4 ? { loginName: wcUsers[i]!.userid } : {}) });
  });
  ekpPeople.push({ id: 'fdA', displayName: 'A', departmentIds: [], status: 'active', mobile: main[17]!.mobile });
  ekpPeople.push({ id: 'fdB', displayName: 'B', departmentIds: [], status: 'active', mobile: main[17]!.mobile });
  // The subsidiary numbers its staff its own way (both simulated orgs would start at DT1001).
  for (const [i, u] of sub.entries()) {
    const r = await fetch(`${dt.url}/__sim/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'eco/sub', userid: u.userid, job_number: `SUB${i}` }) });
    expect(r.status).toBeLessThan(300);
  }
  sub.slice(0, 5).forEach((u, i) => ekpPeople.push({ id: `fs${i}`, displayName: u.name, departmentIds: [], status: 'active', jobNumber: `SUB${i}` }));
  for (const p of ekpPeople) {
    await stores.mappings.put({ tenantId: 'eco', source: 'ekp', objectType: 'person', sourceId: p.id, neteaseId: `m.${p.id}`, contentHash: 'h', status: 'active', lastRunId: 'r' });
  }
  netease.seed('eco.example.com', { accounts: ekpPeople.map((p) => ({ account_name: `m.${p.id}`, nickname: p.displayName })) });
  deps = { links, clock: systemClock, logger: createMemoryLogger(), sourcePeople: async () => ekpPeople, channelDirectory: (t, c) => clients.channelDirectory(t, c) };
}, 60_000);

afterAll(async () => {
  await Promise.all([netease?.stop(), dt?.stop(), wc?.stop()]);
});

describe('the links pull', () => {
  it('links each channel user to one EKP person, two DingTalk orgs and WeCom feeding one tenant, and reports the rest', async () => {
    const res = await pullLinks(deps, tenant);
    expect(res.status).toBe('ok');
    const by = Object.fromEntries(res.channels.map((c) => [c.channelId, c]));
    expect(by.dingtalk).toMatchObject({ users: 20, linked: 15, ambiguous: 1, unmatched: 4 });
    expect(by.dingtalk!.problems).toContainEqual({ channelUserId: dt.state('eco').users[17]!.userid, status: 'ambiguous', rule: 'mobile', candidates: ['fdA', 'fdB'] });
    expect(by.sub).toMatchObject({ users: 20, linked: 5, unmatched: 15 });
    // WeCom (a post-2022 app: no mobile or e-mail) links by userid=loginName.
    expect(by.wecom).toMatchObject({ linked: 4 });
    // Both ways: person fd0 is DingTalk user 0 and WeCom user 0.
    const mine = (await links.listByPerson('eco', 'fd0')).map((l) => `${l.channelId}/${l.channelUserId}`).sort();
    expect(mine).toEqual([`dingtalk/${dt.state('eco').users[0]!.userid}`, `wecom/${wc.state('eco').users[0]!.userid}`]);
    // A second pull changes nothing.
    const again = await pullLinks(deps, tenant);
    expect(again.channels.map((c) => c.written)).toEqual([0, 0, 0]);
  });
});

describe('sign-in through the links', () => {
  it('lands a DingTalk user (OAuth) and a workbench (H5) user in their own EKP mailboxes', async () => {
    const users = dt.state('eco').users;
    expect(accountOf(await signInVia('via=dingtalk', users[0]!.userid))).toBe('m.fd0');
    // H5: the page, then the JSAPI code (matched by mobile: user 12).
    const page = await call('http://bridge.test/sso/eco?via=dingtalk&flow=h5', 'Mozilla/5.0 DingTalk/7.0');
    expect(page.statusCode).toBe(200);
    const back = JSON.parse(/var back = ("[^"]+")/.exec(page.body!)![1]!) as string;
    const state = JSON.parse(/state = ("[^"]+")/.exec(page.body!)![1]!) as string;
    const code = dt.mintAuthCode(users[12]!.userid, { tenant: 'eco', kind: 'h5' });
    const done = await call(`${back}&code=${encodeURIComponent(code)}&state=${state}`);
    expect(done.statusCode).toBe(302);
    expect(accountOf(done)).toBe('m.fd12');
  });

  it('signs in a user of the second DingTalk org with that org\'s app, and a WeCom user', async () => {
    const first = await call('http://bridge.test/sso/eco?via=dingtalk&channel=sub');
    expect(new URL(first.headers!.location as string).searchParams.get('client_id')).toBe('subkey');
    expect(accountOf(await signInVia('via=dingtalk&channel=sub', dt.state('eco/sub').users[2]!.userid))).toBe('m.fs2');
    expect(accountOf(await signInVia('via=wecom', wc.state('eco').users[1]!.userid))).toBe('m.fd1');
  });

  it('refuses unmatched and ambiguous users with a page that says so and whom to ask', async () => {
    const users = dt.state('eco').users;
    const unmatched = await signInVia('via=dingtalk', users[15]!.userid);
    expect(unmatched.statusCode).toBe(403);
    expect(unmatched.headers!.location).toBeUndefined();
    expect(unmatched.body).toContain('not linked');
    expect(unmatched.body).toContain('IT 服务台 8000');
    const ambiguous = await signInVia('via=dingtalk', users[17]!.userid);
    expect(ambiguous.statusCode).toBe(403);
    expect(ambiguous.body).toContain('more than one person');
  });
});

describe('notices through the links', () => {
  it('plans DingTalk notices for the linked users of both orgs, each through its own app, and they arrive', async () => {
    const sent: OutgoingMessage[] = [];
    const jobs: JobQueue = { send: async (_q, m) => void sent.push(...m) };
    const plan = await planNotifications({ tenants: [tenant], mappings: stores.mappings, notifyStore: new MemoryNotifyStore(), jobs, clock: systemClock, logger: createMemoryLogger(), channelReady: async () => ({ ok: true }), links });
    expect(plan.tenants[0]).toMatchObject({ status: 'planned', people: 20 });
    // Each batch is sent twice (at once and 30 s later: the second poll); the immediate ones are the plan.
    expect(sent.filter((m) => m.delaySeconds === 30)).toHaveLength(sent.length / 2);
    const bodies = sent.filter((m) => !m.delaySeconds).map((m) => m.body as NotifyJob);
    const main = bodies.filter((j) => !j.channelId).flatMap((j) => j.people);
    const sub = bodies.filter((j) => j.channelId === 'sub').flatMap((j) => j.people);
    expect(main).toHaveLength(15);
    expect(main).toContainEqual({ userId: dt.state('eco').users[0]!.userid, account: 'm.fd0' });
    expect(sub).toContainEqual({ userId: dt.state('eco/sub').users[2]!.userid, account: 'm.fs2' });
    // Nobody unmatched or ambiguous is notified.
    expect(main.map((p) => p.userId)).not.toContain(dt.state('eco').users[17]!.userid);
    // Delivery: the sub org's app sends to its own user over the wire.
    const sender = await clients.noticeSender(tenant, 'dingtalk', 'sub');
    await sender.send(sub[0]!.userId, { kind: 'mail', subject: 'Quarterly report', from: 'boss@eco.example.com', sentAtText: '09:30', url: 'http://bridge.test/sso/eco?via=dingtalk&channel=sub' });
    expect(dt.messages('eco/sub').at(-1)!.delivered).toEqual([sub[0]!.userId]);
  });
});

describe('link freshness', () => {
  it('links a user added to DingTalk when the callback names them, and unlinks one who left', async () => {
    const channel = findChannel(tenant, 'dingtalk')!;
    const user = dt.state('eco').users[16]!; // unmatched so far
    ekpPeople.push({ id: 'fdNew', displayName: 'New', departmentIds: [], status: 'active', jobNumber: user.job_number });
    const r = await refreshChannelUsers(deps, tenant, channel, [user.userid, 'no-such-user']);
    expect(r).toMatchObject({ linked: 1, written: 1 });
    expect(await links.get('eco', 'dingtalk', user.userid)).toMatchObject({ status: 'linked', personId: 'fdNew', origin: 'callback' });
  });
});

describe('callback-driven links and the daily pull', () => {
  it('links a user added to DingTalk within 5 s of the user_add_org event reaching the callback worker', async () => {
    const res = await fetch(`${dt.url}/__sim/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'eco', name: '新同事', dept_id_list: [1], job_number: 'NEW-77' }) });
    expect(res.status).toBeLessThan(300);
    const added = dt.state('eco').users.find((u) => u.job_number === 'NEW-77')!;
    ekpPeople.push({ id: 'fdNew77', displayName: '新同事', departmentIds: [], status: 'active', jobNumber: 'NEW-77' });
    const worker: ApplyContactEventsDeps = {
      sync: { logger: createMemoryLogger(), clock: systemClock, tenants: () => [tenant] } as unknown as ApplyContactEventsDeps['sync'],
      dirty: undefined as unknown as ApplyContactEventsDeps['dirty'], // the sync path is never reached for a channel's events
      links: deps,
    };
    const message = { v: 1, tenantId: 'eco', vendor: 'dingtalk', eventId: 'evt-1', eventType: 'user_add_org', receivedAt: Date.now(), changes: [{ kind: 'person', id: added.userid, action: 'upsert' }] };
    const started = Date.now();
    const out = await processCallbackRecords(worker, [{ messageId: 'm1', body: message as CallbackQueueMessage }]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.failures).toEqual([]);
    expect(out.tenants[0]).toMatchObject({ outcome: 'idle', reason: 'identity links refreshed' });
    expect(await links.get('eco', 'dingtalk', added.userid)).toMatchObject({ status: 'linked', personId: 'fdNew77', origin: 'callback' });
  });

  it('pulls each tenant once a day from the scheduled tick', async () => {
    const once = new MemoryOnceStore();
    expect((await pullDueLinks({ ...deps, once }, [tenant])).map((r) => r.status)).toEqual(['ok']);
    expect(await pullDueLinks({ ...deps, once }, [tenant])).toEqual([]);
  });
});

describe('admin routes: links list | explain | import', () => {
  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const router = new Router();
    registerLinksRoutes(router, { config: { tenants: [tenant] } as never, links: deps });
    const [rawPath, rawQueryString = ''] = path.split('?');
    try {
      const res = await router.handle({ version: '2.0', rawPath, rawQueryString, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), isBase64Encoded: false, requestContext: { http: { method, path: rawPath } } } as never);
      return { status: res.statusCode, json: JSON.parse(String(res.body)) };
    } catch (err) {
      // The HTTP middleware maps errors to statuses (shared/http/http-handler.ts).
      return { status: (err as { status?: number }).status ?? 500, json: { error: (err as { code?: string }).code } };
    }
  };

  it('lists the unmatched users for an admin, explains a person, and imports a decision that sign-in then honours', async () => {
    const users = dt.state('eco').users;
    const unmatched = await admin('GET', '/admin/tenants/eco/links?channel=dingtalk&status=unmatched');
    expect(unmatched.status).toBe(200);
    expect(unmatched.json.links.map((l: { channelUserId: string }) => l.channelUserId)).toContain(users[18]!.userid);
    const explained = await admin('GET', '/admin/tenants/eco/links/explain/fd0');
    expect(explained.json.links.map((l: { channelId: string }) => l.channelId).sort()).toEqual(['dingtalk', 'wecom']);
    // A bad row refuses the whole file.
    const bad = await admin('POST', '/admin/tenants/eco/links/import', { rows: [{ channelId: 'dingtalk', channelUserId: users[18]!.userid, personId: 'fdA' }, { channelId: 'dingtalk', channelUserId: 'x', personId: 'nobody' }] });
    expect(bad).toMatchObject({ status: 400, json: { error: 'LINKS.BAD_IMPORT' } });
    expect(await links.get('eco', 'dingtalk', users[18]!.userid)).toMatchObject({ status: 'unmatched' });
    const ok = await admin('POST', '/admin/tenants/eco/links/import', { rows: [{ channelId: 'dingtalk', channelUserId: users[18]!.userid, personId: 'fdA' }] });
    expect(ok).toMatchObject({ status: 200, json: { written: 1 } });
    expect(accountOf(await signInVia('via=dingtalk', users[18]!.userid))).toBe('m.fdA');
    // The next pull keeps the admin's decision.
    await pullLinks(deps, tenant, { channelId: 'dingtalk' });
    expect(await links.get('eco', 'dingtalk', users[18]!.userid)).toMatchObject({ status: 'linked', personId: 'fdA', origin: 'import' });
  });
});
