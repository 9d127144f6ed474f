/**
 * The NetEase client against the NetEase simulator over real HTTP on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NeteaseApiError, NeteaseClient, neteaseRateLimiter, type NeteaseClientOptions, type NeteaseClientSettings } from '../../shared/adapters/netease';
import { RateLimiterRegistry } from '../../shared/adapters/http/rate-limiter';
import { ValidationError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { rejectionOf } from './vendor-sim-helpers';

const DOMAIN = 'acme.com';
const PRODUCT = 'acme_com';
const key = generateKeyPairSync(1024);
const signer = new Signer(key.privateKeyHex);
let sim: RunningNeteaseSimulator;

const fastRetry: NeteaseClientOptions = { retryBaseDelayMs: 1, retryMaxDelayMs: 5 };

function settings(overrides: Partial<NeteaseClientSettings> = {}): NeteaseClientSettings {
  return {
    domain: DOMAIN,
    product: PRODUCT,
    region: 'hz',
    apiBaseUrl: `${sim.url}/qiyeservice/api`,
    unreadUrl: `${sim.url}/oaserver/user/getUnreadMsg`,
    requestsPerSecond: 1000,
    timeoutMs: 5000,
    maxRetries: 3,
    ...overrides,
  };
}

function client(overrides: Partial<NeteaseClientSettings> = {}, options: NeteaseClientOptions = {}, withSigner: Signer = signer): NeteaseClient {
  return new NeteaseClient(settings(overrides), withSigner, { ...fastRetry, ...options });
}

const failure = (p: Promise<unknown>): Promise<NeteaseApiError> => rejectionOf(p, NeteaseApiError);

beforeAll(async () => {
  sim = await startNeteaseSimulator({ keys: [{ domain: DOMAIN, product: PRODUCT, publicKeyHex: key.publicKeyHex }], pageSize: 3 });
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

describe('units and accounts', () => {
  it('creates a unit tree and an account in it; the mailbox exists with the given fields', async () => {
    const c = client();
    const parent = await c.createUnit({ unitName: '研发中心', unitDesc: 'R&D = research & development' });
    const child = await c.createUnit({ unitName: '平台组', parentId: parent.unitId });
    expect(parent).toMatchObject({ unitName: '研发中心', unitDesc: 'R&D = research & development' });
    expect(parent.parentId).toBeUndefined();
    expect(child.parentId).toBe(parent.unitId);

    const acc = await c.createAccount({ accountName: 'zhang.san', password: 'Init-Pass-123', nickname: '张三 & Co', unitId: child.unitId, mobile: '13800000000', jobNo: 'E001' });
    expect(acc).toMatchObject({ accountName: 'zhang.san', nickname: '张三 & Co', unitId: child.unitId, status: 'normal', mobile: '13800000000', jobNo: 'E001' });

    const fetched = await c.getAccount('zhang.san');
    expect(fetched).toMatchObject({ accountName: 'zhang.san', status: 'normal', statusCode: 0, unitId: child.unitId, isMailList: false });
    expect(sim.state(DOMAIN).accounts['zhang.san']?.nickname).toBe('张三 & Co');

    const units = await c.getUnitList();
    expect(units.map((u) => u.unitName).sort()).toEqual(['平台组', '研发中心']);
    expect(await c.getUnit(child.unitId)).toMatchObject({ unitName: '平台组', parentId: parent.unitId });
  });

  it('updates, ranks and renames units; moves, updates and changes the password of accounts', async () => {
    const c = client();
    const a = await c.createUnit({ unitName: 'A' });
    const b = await c.createUnit({ unitName: 'B' });
    await c.createAccount({ accountName: 'li.si', password: 'x-Pass-1', nickname: 'Li' });
    expect((await c.getAccount('li.si')).unitId).toMatch(/_default$/);

    await c.updateUnit(a.unitId, { unitName: 'A2', unitDesc: 'renamed' });
    await c.updateUnitRank(b.unitId, -1);
    await c.moveUnit('li.si', a.unitId);
    await c.updateAccount('li.si', { nickname: '李四', mobile: '13900000000' });
    await c.updatePassword('li.si', 'New-Pass-2');

    expect(await c.getUnit(a.unitId)).toMatchObject({ unitName: 'A2', unitDesc: 'renamed' });
    expect((await c.getUnitList())[0]?.unitId).toBe(b.unitId);
    expect(await c.getAccount('li.si')).toMatchObject({ unitId: a.unitId, nickname: '李四', mobile: '13900000000' });
    expect(sim.state(DOMAIN).accounts['li.si']?.password_sets).toBe(2);
  });

  it('refuses a duplicate unit name at once (kind duplicate, not retried)', async () => {
    const c = client();
    await c.createUnit({ unitName: 'Sales' });
    const err = await failure(c.createUnit({ unitName: 'Sales' }));
    expect(err).toMatchObject({ kind: 'duplicate', code: 'NETEASE.DUPLICATE', errorCode: 'UNIT.EXIST', retryable: false, afterRetry: false });
    expect(sim.calls({ path: 'unit/createUnit' })).toHaveLength(2);
    expect(sim.state(DOMAIN).units).toSatisfy((u: object) => Object.keys(u).length === 1);
  });

  it('refuses a duplicate account', async () => {
    const c = client();
    await c.createAccount({ accountName: 'wang.wu', password: 'p-Pass-1', nickname: 'W' });
    const err = await failure(c.createAccount({ accountName: 'Wang.Wu', password: 'p-Pass-1', nickname: 'W2' }));
    expect(err.kind).toBe('duplicate');
    expect(sim.state(DOMAIN).accounts['wang.wu']?.nickname).toBe('W');
  });

  it('refuses to delete a unit that still has an account or a child unit, and deletes it once empty', async () => {
    const c = client();
    const parent = await c.createUnit({ unitName: 'Parent' });
    const child = await c.createUnit({ unitName: 'Child', parentId: parent.unitId });
    await c.createAccount({ accountName: 'member', password: 'p-Pass-1', nickname: 'M', unitId: child.unitId });

    expect((await failure(c.deleteUnit(child.unitId))).kind).toBe('notEmpty');
    expect((await failure(c.deleteUnit(parent.unitId))).kind).toBe('notEmpty');
    expect(Object.keys(sim.state(DOMAIN).units)).toHaveLength(2);

    await c.moveUnit('member', 'default');
    await c.deleteUnit(child.unitId);
    await c.deleteUnit(parent.unitId);
    expect(await c.getUnitList()).toEqual([]);
    expect((await failure(c.getUnit(parent.unitId))).kind).toBe('notFound');
  });

  it('suspends, soft-deletes and recovers an account', async () => {
    const c = client();
    await c.createAccount({ accountName: 'leaver', password: 'p-Pass-1', nickname: 'L' });
    await c.suspendAccount('leaver');
    expect((await c.getAccount('leaver')).status).toBe('suspended');
    await c.recoverAccount('leaver');
    expect((await c.getAccount('leaver')).status).toBe('normal');
    await c.deleteAccountSim('leaver');
    expect((await c.getAccount('leaver')).status).toBe('deleted');
    await c.recoverAccount('leaver');
    expect((await c.getAccount('leaver')).status).toBe('normal');
  });

  it('reports an unknown account as notFound immediately, without retrying', async () => {
    const err = await failure(client().getAccount('nobody'));
    expect(err).toMatchObject({ kind: 'notFound', code: 'NETEASE.NOT_FOUND', retryable: false });
    expect(sim.calls({ path: 'account/getAccount' })).toHaveLength(1);
  });

  it('refuses a full address as account name before calling NetEase', async () => {
    await expect(client().getAccount('a@acme.com')).rejects.toBeInstanceOf(ValidationError);
    expect(sim.calls()).toHaveLength(0);
  });
});

describe('getAccountList paging', () => {
  beforeEach(() => {
    sim.seed(DOMAIN, {
      units: [{ unit_name: 'HQ' }, { unit_name: 'Branch', parent_name: 'HQ' }],
      accounts: [
        ...Array.from({ length: 5 }, (_, i) => ({ account_name: `hq${i}`, unit_name: 'HQ' })),
        ...Array.from({ length: 3 }, (_, i) => ({ account_name: `br${i}`, unit_name: 'Branch' })),
        { account_name: 'floating' },
      ],
    });
  });

  it('answers one page with the total count', async () => {
    const page = await client().getAccountList({ pageNum: 2 });
    expect(page).toMatchObject({ count: 9, pageNum: 2 });
    expect(page.accounts).toHaveLength(3);
  });

  it('collects every account across pages exactly once', async () => {
    const all = await client().getAllAccounts();
    expect(all.map((a) => a.accountName).sort()).toEqual(['br0', 'br1', 'br2', 'floating', 'hq0', 'hq1', 'hq2', 'hq3', 'hq4']);
    expect(sim.calls({ path: 'unit/getAccountList' }).map((c) => c.params.page_num)).toEqual(['1', '2', '3']);
  });

  it('restricts to a unit, and with recursive to its sub-units too (recuion=true)', async () => {
    const hq = (await client().getUnitList()).find((u) => u.unitName === 'HQ');
    const only = await client().getAllAccounts({ unitId: hq?.unitId });
    const deep = await client().getAllAccounts({ unitId: hq?.unitId, recursive: true });
    expect(only).toHaveLength(5);
    expect(deep).toHaveLength(8);
    expect(sim.calls({ path: 'unit/getAccountList' }).some((c) => c.params.recuion === 'true')).toBe(true);
  });
});

describe('retries, throttling and timeouts', () => {
  it('retries injected server errors, throttling and dropped connections, then succeeds', async () => {
    const c = client();
    sim.setFaults({ failNext: { count: 1, kind: 'error' } });
    await c.createUnit({ unitName: 'One' });
    sim.setFaults({ failNext: { count: 1, kind: 'throttle' } });
    await c.createUnit({ unitName: 'Two' });
    sim.setFaults({ failNext: { count: 1, kind: 'drop' } });
    await c.createUnit({ unitName: 'Three' });

    expect(sim.calls({ path: 'unit/createUnit' }).map((x) => x.outcome)).toEqual(['HTTP 500', 'ok', 'REQUEST.RATE_LIMITED', 'ok', 'dropped', 'ok']);
    expect(Object.values(sim.state(DOMAIN).units).map((u) => u.unit_name)).toEqual(['One', 'Two', 'Three']);
  });

  it('signs every attempt afresh (each retry carries a new time and a valid signature)', async () => {
    let t = Date.now();
    const clock = { now: () => (t += 1000) };
    sim.setFaults({ failNext: { count: 2, kind: 'error' } });
    await client({}, { clock }).getUnitList();
    const times = sim.calls({ path: 'unit/getUnitList' }).map((x) => x.params.time);
    expect(new Set(times).size).toBe(3);
  });

  it('gives up after maxRetries with a retryable error', async () => {
    sim.setFaults({ failNext: { count: 10, kind: 'error' } });
    const err = await failure(client({ maxRetries: 2 }).getUnitList());
    expect(err).toMatchObject({ kind: 'server', retryable: true, httpStatus: 500, afterRetry: true });
    expect(sim.calls({ path: 'unit/getUnitList' })).toHaveLength(3);
  });

  it('times out a slow answer with a retryable UPSTREAM.TIMEOUT', async () => {
    sim.setFaults({ latencyMs: 1500 });
    const err = await failure(client({ timeoutMs: 150, maxRetries: 0 }).getUnitList());
    expect(err).toMatchObject({ kind: 'timeout', code: 'UPSTREAM.TIMEOUT', retryable: true });
  });

  it('keeps calls per second under the tenant limit', async () => {
    const c = client({ requestsPerSecond: 20 });
    await Promise.all(Array.from({ length: 11 }, () => c.getUnitList()));
    const at = sim.calls({ path: 'unit/getUnitList' }).map((x) => x.at);
    expect(at).toHaveLength(11);
    // 11 calls at 20/s need at least 10 intervals of 50 ms; allow timer slack below.
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(400);
  });
  it('shares one budget between clients of the same tenant through the registry', async () => {
    const registry = new RateLimiterRegistry();
    const make = () => client({ requestsPerSecond: 20 }, { limiter: neteaseRateLimiter(registry, 'acme', { requestsPerSecond: 20 }) });
    const [a, b] = [make(), make()];
    await Promise.all(Array.from({ length: 6 }, () => [a.getUnitList(), b.getUnitList()]).flat());
    const at = sim.calls({ path: 'unit/getUnitList' }).map((x) => x.at);
    expect(at).toHaveLength(12);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(450);
  });
});

describe('authentication failures are not retried', () => {
  it('a stale clock gets TIME.EXPIRED (kind auth)', async () => {
    const clock = fixedClock(Date.now() - 10 * 60_000);
    const err = await failure(client({}, { clock }).getUnitList());
    expect(err).toMatchObject({ kind: 'auth', errorCode: 'TIME.EXPIRED', retryable: false });
    expect(sim.calls()).toHaveLength(1);
  });

  it('a key NetEase does not know gets SIGN.INVALID', async () => {
    const other = new Signer(generateKeyPairSync().privateKeyHex);
    const err = await failure(client({}, {}, other).getUnitList());
    expect(err).toMatchObject({ kind: 'auth', errorCode: 'SIGN.INVALID', code: 'NETEASE.AUTH_FAILED' });
  });

  it('a wrong product gets PRODUCT.INVALID', async () => {
    expect((await failure(client({ product: 'someone_else' }).getUnitList())).errorCode).toBe('PRODUCT.INVALID');
  });
});

describe('mail logs and unread count', () => {
  it('reads unread counts and received-mail logs delivered by the simulator', async () => {
    const c = client();
    await c.createAccount({ accountName: 'reader', password: 'p-Pass-1', nickname: 'R' });
    expect(await c.getUnreadCount('reader')).toBe(0);
    sim.deliverMail(DOMAIN, 'reader', { from: 'boss@example.net', subject: '季度报告' });
    sim.deliverMail(DOMAIN, 'reader', { subject: 'Second' });
    expect(await c.getUnreadCount('reader', { type: 1 })).toBe(2);
    const unreadCall = sim.calls({ path: 'getUnreadMsg' }).at(-1);
    expect(unreadCall?.params).not.toHaveProperty('product');
    expect(unreadCall?.params.format).toBe('json');

    const logs = await c.getReceivedMailLogs({ accounts: ['reader'], start: new Date(Date.now() - 3600_000), end: new Date(Date.now() + 3600_000) });
    expect(logs.total).toBe(2);
    expect(logs.entries[0]).toMatchObject({ from: 'boss@example.net', to: 'reader@acme.com', subject: '季度报告', result: '1' });
    const none = await c.getReceivedMailLogs({ accounts: 'reader', start: '2000-01-01', end: '2000-01-02' });
    expect(none.entries).toEqual([]);
  });

  it('reports an unknown mailbox on the unread endpoint as notFound', async () => {
    expect((await failure(client().getUnreadCount('ghost'))).kind).toBe('notFound');
  });
});

describe('secrets stay out of logs, errors and the call record', () => {
  it('never shows the password or the signature', async () => {
    const logger = createMemoryLogger('debug');
    const c = client({}, { logger });
    const password = 'Sup3r-Secret-Passw0rd';
    sim.setFaults({ failNext: { count: 1, kind: 'error' } });
    await c.createAccount({ accountName: 'safe', password, nickname: 'S' });
    const err = await failure(c.createAccount({ accountName: 'safe', password, nickname: 'S' }));

    const signatures = sim.calls().map((x) => x.params.sign);
    expect(signatures.every((s) => s === '[redacted]')).toBe(true);
    expect(sim.calls().every((x) => x.params.password === '[redacted]')).toBe(true);
    const shown = JSON.stringify(logger.lines) + err.message + JSON.stringify(err) + JSON.stringify(err.details);
    expect(shown).not.toContain(password);
    expect(shown).not.toMatch(/[0-9a-f]{256}/);
    expect(logger.lines.some((l) => l.msg === 'netease call will be retried' && l.operation === 'account/createAccount')).toBe(true);
  });
});

describe('unread endpoint answers from other servers', () => {
  let other: Server;
  let answer = '';
  beforeAll(async () => {
    other = createServer((_req, res) => res.end(answer));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => new Promise<void>((r) => other.close(() => r())));

  const unreadClient = (): NeteaseClient => client({ unreadUrl: `http://127.0.0.1:${(other.address() as AddressInfo).port}/oaserver/user/getUnreadMsg`, maxRetries: 0 });

  it('compares the status case-insensitively ("ok" as S2 sees it)', async () => {
    answer = '{"status":"ok","count":"7"}';
    expect(await unreadClient().getUnreadCount('x')).toBe(7);
  });

  it('maps a non-JSON answer to badResponse', async () => {
    answer = '<html>gateway</html>';
    expect((await failure(unreadClient().getUnreadCount('x'))).kind).toBe('badResponse');
  });
});
