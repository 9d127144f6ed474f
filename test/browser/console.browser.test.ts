/**
 * The operator console in headless Chromium (Debian's `chromium`, driven by playwright-core;
 * no browser is ever downloaded) against the whole local stack: the console function behind
 * the local HTTP API, the DingTalk simulator for sign-in and alerts, NetEase's simulator, the
 * sync planner and worker through fauxqs.
 *
 * Covers: sign-in through the DingTalk simulator (QR / picker page) with a Secure, HttpOnly,
 * SameSite=Strict `__Host-` cookie; a parked run raising an alert in the DingTalk simulator
 * whose link opens the run; approving it and seeing it applied; an auditor refused Approve
 * by the server (and the refusal in the audit log); a POST without the CSRF token refused;
 * a `<script>` in a person's name shown as text.
 *
 * Without /usr/bin/chromium (and outside CI) the suite is skipped with a loud message; in CI
 * (`CI` set) a missing browser fails it. `QIYE_SCREENSHOTS=1` writes docs/console/*.png.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFirstSync } from '../../local/first-sync';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import type { RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { DynamoConsoleStore } from '../../shared/adapters/aws/dynamo-console.store';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { RunRecord } from '../../shared/ports/run-store';
import { startWiredSimulators } from '../support/wired-simulators';

const CHROMIUM = process.env.QIYE_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`CI must run the browser tests, but ${CHROMIUM} is missing (.ci/run installs Debian's chromium).`);
if (!haveChromium) console.warn(`\n*** SKIPPING the console browser tests: ${CHROMIUM} not found (apt-get install chromium). CI runs them. ***\n`);

const TENANT = 'console-dt';
const DOMAIN = 'consoledt.example.com';
const EVIL = '<script>alert("x")</script>';
const SCREENSHOTS = process.env.QIYE_SCREENSHOTS === '1';

let dataDir: string;
let wired: { stop(): Promise<void> } | undefined;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
let dingtalk: RunningDingtalkSimulator;
let browser: Browser;
let adminId: string;
let auditorId: string;
let evilId: string;

const tenantJson = (neteaseUrl: string, dingtalkUrl: string, admins: string[] = [], auditors: string[] = []) => ({
  id: TENANT,
  displayName: 'Console test (DingTalk)',
  netease: { domain: DOMAIN, product: 'consoledt', region: 'hz', apiBaseUrl: `${neteaseUrl}/qiyeservice/api`, ssoEntryUrl: `${neteaseUrl}/domain/oa/Entry`, unreadUrl: `${neteaseUrl}/oaserver/user/getUnreadMsg`, requestsPerSecond: 200 },
  dingtalk: { corpId: 'dingconsolecorp', appKey: 'dingconsoleappkey', agentId: '1000001', apiBaseUrl: dingtalkUrl, newApiBaseUrl: `${dingtalkUrl}/api`, loginBaseUrl: `${dingtalkUrl}/login` },
  // Two leavers of 13 park the run (count rule), so the test can approve it.
  sync: { source: 'dingtalk', accountNameRule: 'emailLocalPart', deleteThreshold: { count: 1, percent: 100, minimum: 0 } },
  console: { admins, auditors, alerts: { channel: 'dingtalk' } },
});

async function untilRun(predicate: (r: RunRecord) => boolean, ms = 45_000): Promise<RunRecord> {
  const runs = createDynamoStateStores(stack.clients.documents, stack.tableName).runs;
  const end = Date.now() + ms;
  for (;;) {
    const found = (await runs.list(TENANT, { limit: 5 })).items.find(predicate);
    if (found) return found;
    if (Date.now() > end) throw new Error('no matching run');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function signIn(context: BrowserContext, userId: string): Promise<Page> {
  const page = await context.newPage();
  page.on('dialog', () => {
    throw new Error('a dialog opened: script ran in the console');
  });
  await page.goto(`${stack.urls.gateway}/console?lang=en`);
  await page.click(`a[href="/console/signin/${TENANT}/dingtalk"]`);
  // The DingTalk simulator's QR / picker page.
  await page.selectOption('select[name="userid"]', userId);
  await Promise.all([page.waitForURL(`${stack.urls.gateway}/console`), page.click('button[type="submit"]')]);
  await page.waitForSelector(`[data-tenant="${TENANT}"]`);
  return page;
}

const csrfOf = (page: Page) => page.getAttribute('form[action="/console/signout"] input[name="_csrf"]', 'value');

beforeAll(async () => {
  if (!haveChromium) return;
  process.env.LOG_LEVEL = 'error';
  const started = await startWiredSimulators({ prefix: 'qiye-console-', tenant: tenantJson, startSource: (draft, secrets) => startDingtalkSimulator({ port: 0, tenants: [draft], secrets, stage: 'local', people: 12 }) });
  ({ dataDir, netease, source: dingtalk } = started);
  wired = started;
  const { tenantsFile } = started;
  const users = dingtalk.state(TENANT).users;
  adminId = users[0]!.userid;
  auditorId = users[1]!.userid;
  const created = await fetch(`${dingtalk.url}/__sim/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: TENANT, name: EVIL, org_email: `evil@${DOMAIN}`, dept_id_list: [1] }) });
  expect(created.status).toBe(201);
  evilId = dingtalk.state(TENANT).users.find((u) => u.name === EVIL)!.userid;
  // The tenant again, now naming its console admin and auditor (their ids exist only now).
  await writeFile(tenantsFile, JSON.stringify({ tenants: [tenantJson(netease.url, dingtalk.url, [`dingtalk:${adminId}`], [`dingtalk:${auditorId}`])] }));
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, simulators: [], logger: createMemoryLogger('error') });
  expect(stack.handlerErrors).toEqual({});
  expect((await runFirstSync(stack, { tenantId: TENANT })).run?.status).toBe('success');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await wired?.stop();
});

describe.skipIf(!haveChromium)('the operator console in Chromium', () => {
  it('signs in through the DingTalk simulator with a Secure, HttpOnly, SameSite=Strict session cookie', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, adminId);
    const cookie = (await context.cookies()).find((c) => c.name === '__Host-qb_console');
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.textContent('header')).toContain(`dingtalk:${adminId}@${TENANT}`);
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/console/overview.png', fullPage: true });
    await context.close();
  });

  it('alerts the admins of a parked run in the DingTalk simulator; the alert opens the run; Approve applies it', async () => {
    for (const u of dingtalk.state(TENANT).users.slice(-3, -1)) await fetch(`${dingtalk.url}/__sim/users/${u.userid}?tenant=${TENANT}`, { method: 'DELETE' });
    const context = await browser.newContext();
    const page = await signIn(context, adminId);
    // Sync now (full) from the console.
    await page.selectOption(`[data-tenant="${TENANT}"] select[name="mode"]`, 'full');
    await Promise.all([page.waitForURL(/\/runs$/), page.click(`[data-tenant="${TENANT}"] form[action$="/sync"] button`)]);
    const parked = await untilRun((r) => r.status === 'awaiting_approval');

    await stack.trigger('alerts');
    const notice = dingtalk.messages(TENANT).find((m) => JSON.stringify(m.msg).includes(parked.runId));
    expect(notice?.delivered).toEqual([adminId]);
    const link = /\((http[^)\s]+\/console\/t\/[^)\s]+)\)/.exec(JSON.stringify(notice!.msg))![1]!.replace(/\\+/g, '');
    expect(link).toBe(`${stack.urls.gateway}/console/t/${TENANT}/runs/${parked.runId}`);
    // One alert per parked run, however often the schedule runs.
    await stack.trigger('alerts');
    expect(dingtalk.messages(TENANT).filter((m) => JSON.stringify(m.msg).includes(parked.runId))).toHaveLength(1);

    await page.goto(link);
    expect(await page.textContent('#run-status')).toContain('awaiting_approval');
    expect(await page.locator('#destructive tr').count()).toBe(3); // header + the two leavers
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/console/parked-run.png', fullPage: true });
    await Promise.all([page.waitForURL(link), page.click('form[action$="/approve"] button')]);
    const done = await untilRun((r) => r.runId === parked.runId && !['awaiting_approval', 'applying', 'planning'].includes(r.status));
    expect(done.status).toBe('success');
    expect(done.counts.suspended).toBe(2);
    await page.reload();
    expect(await page.textContent('#run-status')).toContain('success');
    expect(await page.textContent('main')).toContain(`console dingtalk:${adminId}@${TENANT}`);
    await context.close();
  }, 90_000);

  it('refuses Approve to an auditor on the server, and records the refusal', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, auditorId);
    const run = (await untilRun(() => true)).runId;
    await page.goto(`${stack.urls.gateway}/console/t/${TENANT}/runs/${run}`);
    expect(await page.locator('form[action$="/approve"]').count()).toBe(0); // hidden for the role...
    const csrf = await csrfOf(page);
    // ...and refused by the server when posted anyway, with a valid session and CSRF token.
    const res = await page.request.post(`${stack.urls.gateway}/console/t/${TENANT}/runs/${run}/approve`, { form: { _csrf: csrf! }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    const audit = await new DynamoConsoleStore(stack.clients.documents, stack.tableName).listAudit(TENANT);
    expect(audit.items[0]).toMatchObject({ action: 'run.approve', outcome: 'refused', actor: `dingtalk:${auditorId}@${TENANT}` });
    await page.goto(`${stack.urls.gateway}/console/t/${TENANT}/audit`);
    expect(await page.textContent('main table')).toContain('refused');
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/console/audit.png', fullPage: true });
    await context.close();
  });

  it('refuses a POST without the CSRF token and starts nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, adminId);
    const before = (await createDynamoStateStores(stack.clients.documents, stack.tableName).runs.list(TENANT, { limit: 50 })).items.length;
    const res = await page.request.post(`${stack.urls.gateway}/console/t/${TENANT}/sync`, { form: { mode: 'full' }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('CSRF');
    await new Promise((r) => setTimeout(r, 1500)); // a queued request would have become a run by now
    expect((await createDynamoStateStores(stack.clients.documents, stack.tableName).runs.list(TENANT, { limit: 50 })).items.length).toBe(before);
    await context.close();
  });

  it('shows a <script> in a person\'s name as text (search and explain)', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, adminId);
    await page.goto(`${stack.urls.gateway}/console/t/${TENANT}/mappings?q=script&names=1`);
    expect(await page.textContent('#hits')).toContain(EVIL);
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/console/mappings.png', fullPage: true });
    await page.goto(`${stack.urls.gateway}/console/t/${TENANT}/explain/${evilId}?type=person`);
    expect(await page.textContent('#display-name')).toBe(EVIL);
    expect(await page.locator('script').count()).toBe(0);
    await context.close();
  });
});
