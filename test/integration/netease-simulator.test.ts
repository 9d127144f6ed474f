/**
 * The NetEase simulator over raw HTTP: it must refuse every kind of tampering (so tests
 * that pass against it mean something), serve SSO Entry and unread like NetEase, and
 * offer the control API the local stack and tests use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canonicalString, signSha1Rsa, ssoEnc } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import type { SecretStore } from '../../shared/ports/secret-store';
import { generateTenantKey } from '../../shared/use-cases/manage-keys';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';

const DOMAIN = 'acme.com';
const PRODUCT = 'acme_com';
const key = generateKeyPairSync();
const otherKey = generateKeyPairSync();
let sim: RunningNeteaseSimulator;

interface Envelope {
  suc: boolean;
  con: unknown;
  error_code?: string;
}

/** Sign `params` (plus domain, product, time) with `privateKeyHex`, then let `tamper` change what is sent. */
function signed(params: Record<string, string>, opts: { privateKeyHex?: string; time?: number; tamper?: (p: Record<string, string>) => void } = {}): Record<string, string> {
  const all: Record<string, string> = { domain: DOMAIN, product: PRODUCT, time: String(opts.time ?? Date.now()), ...params };
  all.sign = signSha1Rsa(opts.privateKeyHex ?? key.privateKeyHex, canonicalString(all));
  opts.tamper?.(all);
  return all;
}

async function post(base: string, operation: string, params: Record<string, string>, how: 'body' | 'query' = 'body'): Promise<{ status: number; json: Envelope }> {
  const form = new URLSearchParams(params).toString();
  const url = `${base}/qiyeservice/api/${operation}${how === 'query' ? `?${form}` : ''}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: how === 'body' ? form : '' });
  return { status: res.status, json: (await res.json()) as Envelope };
}

const api = (operation: string, params: Record<string, string>, how: 'body' | 'query' = 'body') => post(sim.url, operation, params, how);

async function control(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sim = await startNeteaseSimulator({ keys: [{ domain: DOMAIN, product: PRODUCT, publicKeyHex: key.publicKeyHex }] });
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

describe('signature verification on every API call', () => {
  it('accepts a correctly signed call, with parameters in the body or in the query string', async () => {
    const a = await api('unit/createUnit', signed({ unit_name: '研发 & 测试 = R&D' }));
    expect(a.json).toMatchObject({ suc: true, con: { unit_name: '研发 & 测试 = R&D' } });
    const b = await api('unit/createUnit', signed({ unit_name: 'Query Style' }), 'query');
    expect(b.json.suc).toBe(true);
    expect(Object.values(sim.state(DOMAIN).units).map((u) => u.unit_name)).toEqual(['研发 & 测试 = R&D', 'Query Style']);
  });

  it.each([
    ['a changed parameter', (p: Record<string, string>) => void (p.unit_name = 'Evil')],
    ['a removed parameter', (p: Record<string, string>) => void delete p.unit_desc],
    ['an added parameter', (p: Record<string, string>) => void (p.parent_id = '1001')],
    ['a missing sign', (p: Record<string, string>) => void delete p.sign],
    ['a truncated sign', (p: Record<string, string>) => void (p.sign = (p.sign ?? '').slice(0, 200))],
  ])('refuses %s with SIGN.INVALID and changes nothing', async (_name, tamper) => {
    const res = await api('unit/createUnit', signed({ unit_name: 'Legit', unit_desc: 'desc' }, { tamper }));
    expect(res.json).toMatchObject({ suc: false, error_code: 'SIGN.INVALID' });
    expect(sim.state(DOMAIN).units).toEqual({});
  });

  it('refuses a signature made with another key', async () => {
    const res = await api('unit/createUnit', signed({ unit_name: 'X' }, { privateKeyHex: otherKey.privateKeyHex }));
    expect(res.json.error_code).toBe('SIGN.INVALID');
    expect(sim.state(DOMAIN).units).toEqual({});
  });

  it('refuses a stale or far-future time even when correctly signed', async () => {
    expect((await api('unit/getUnitList', signed({}, { time: Date.now() - 6 * 60_000 }))).json.error_code).toBe('TIME.EXPIRED');
    expect((await api('unit/getUnitList', signed({}, { time: Date.now() + 6 * 60_000 }))).json.error_code).toBe('TIME.EXPIRED');
    expect((await api('unit/getUnitList', signed({}, { time: Date.now() - 4 * 60_000 }))).json.suc).toBe(true);
  });

  it('refuses an unknown domain and a product that does not match the domain', async () => {
    expect((await api('unit/getUnitList', signed({ domain: 'other.com' }))).json.error_code).toBe('DOMAIN.NOTEXIST');
    expect((await api('unit/getUnitList', signed({ product: 'other_com' }))).json.error_code).toBe('PRODUCT.INVALID');
  });

  it('answers unknown actions 404 and non-POST 405', async () => {
    expect((await api('unit/explode', signed({}))).status).toBe(404);
    const res = await fetch(`${sim.url}/qiyeservice/api/unit/getUnitList?${new URLSearchParams(signed({}))}`);
    expect(res.status).toBe(405);
  });
});

describe('business rules', () => {
  it('keeps unit names unique within the domain, also under different parents', async () => {
    const parent = await api('unit/createUnit', signed({ unit_name: 'P' }));
    const parentId = (parent.json.con as { unit_id: string }).unit_id;
    await api('unit/createUnit', signed({ unit_name: 'Team' }));
    const dup = await api('unit/createUnit', signed({ unit_name: 'Team', parent_id: parentId }));
    expect(dup.json.error_code).toBe('UNIT.EXIST');
  });

  it('requires the documented parameters', async () => {
    expect((await api('account/createAccount', signed({ account_name: 'x', nickname: 'X' }))).json.error_code).toBe('PARAM.MISSING');
    expect((await api('account/createAccount', signed({ account_name: 'bad name', nickname: 'X', password: 'p' }))).json.error_code).toBe('PARAM.INVALID');
  });

  it('purges a soft-deleted account after 7 days', async () => {
    let now = Date.now();
    const timed = await startNeteaseSimulator({ keys: [{ domain: DOMAIN, product: PRODUCT, publicKeyHex: key.publicKeyHex }], now: () => now });
    try {
      timed.seed(DOMAIN, { accounts: [{ account_name: 'old' }] });
      await post(timed.url, 'account/deleteAccountSim', signed({ account_name: 'old' }, { time: now }));
      now += 6 * 24 * 3600_000;
      expect((await post(timed.url, 'account/getAccount', signed({ account_name: 'old' }, { time: now }))).json).toMatchObject({ suc: true, con: { status: 2 } });
      now += 2 * 24 * 3600_000;
      expect((await post(timed.url, 'account/recoverAccount', signed({ account_name: 'old' }, { time: now }))).json.error_code).toBe('ACCOUNT.NOTEXIST');
    } finally {
      await timed.stop();
    }
  });
});

describe('SSO Entry (reference §3)', () => {
  beforeEach(() => {
    sim.seed(DOMAIN, { accounts: [{ account_name: 'zhang.san', nickname: '张三' }, { account_name: 'paused', status: 1 }, { account_name: 'gone', status: 2 }] });
  });

  const entry = (params: Record<string, string>, method: 'GET' | 'POST' = 'GET') => {
    const form = new URLSearchParams(params).toString();
    return method === 'GET'
      ? fetch(`${sim.url}/domain/oa/Entry?${form}`)
      : fetch(`${sim.url}/domain/oa/Entry`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  };
  const ssoParams = (account: string, opts: { time?: number; privateKeyHex?: string } = {}): Record<string, string> => {
    const time = String(opts.time ?? Date.now());
    return { domain: DOMAIN, account_name: account, time, enc: ssoEnc(opts.privateKeyHex ?? key.privateKeyHex, account, DOMAIN, time), lang: '0' };
  };

  it('signs a valid user in and names the requested mid or module (GET and POST)', async () => {
    const res = await entry({ ...ssoParams('zhang.san'), mid: '1:1tbiAQ' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('已登录 / Signed in as zhang.san@acme.com');
    expect(html).toContain('mid: 1:1tbiAQ');
    const post = await entry({ ...ssoParams('zhang.san'), module: 'mbox.ListModule|{"fid":1}' }, 'POST');
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('module: mbox.ListModule|{&quot;fid&quot;:1}');
  });

  it('refuses a bad enc, another key, a stale time, a suspended, a deleted and an unknown account', async () => {
    const bad = { ...ssoParams('zhang.san'), enc: ssoParams('paused').enc ?? '' };
    expect((await entry(bad)).status).toBe(403);
    expect((await entry(ssoParams('zhang.san', { privateKeyHex: otherKey.privateKeyHex }))).status).toBe(403);
    const stale = await entry(ssoParams('zhang.san', { time: Date.now() - 10 * 60_000 }));
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('Link expired');
    const suspended = await entry(ssoParams('paused'));
    expect(suspended.status).toBe(403);
    expect(await suspended.text()).toContain('suspended');
    expect((await entry(ssoParams('gone'))).status).toBe(404);
    expect((await entry(ssoParams('nobody'))).status).toBe(404);
    expect((await entry({ domain: DOMAIN })).status).toBe(400);
    const entryCalls = sim.calls({ path: '/domain/oa/Entry' });
    expect(entryCalls.length).toBeGreaterThan(0);
    expect(entryCalls.every((c) => c.params.enc === undefined || c.params.enc === '[redacted]')).toBe(true);
  });
});

describe('unread endpoint (reference §2 "Unread count")', () => {
  const unread = async (params: Record<string, string>) => {
    const res = await fetch(`${sim.url}/oaserver/user/getUnreadMsg`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    return (await res.json()) as { status: string; count?: number; msg?: string };
  };
  const unreadParams = (account: string): Record<string, string> => {
    const p: Record<string, string> = { account_name: account, domain: DOMAIN, time: String(Date.now()), format: 'json' };
    p.sign = signSha1Rsa(key.privateKeyHex, canonicalString(p));
    return p;
  };

  it('answers {status:"OK", count} from the counter, signed without product', async () => {
    sim.seed(DOMAIN, { accounts: [{ account_name: 'reader', unread: 4 }] });
    expect(await unread(unreadParams('reader'))).toEqual({ status: 'OK', count: 4 });
    await control('/__sim/deliver', { domain: DOMAIN, accountName: 'reader', subject: 'hi' });
    expect((await unread(unreadParams('reader'))).count).toBe(5);
    await control('/__sim/unread', { domain: DOMAIN, accountName: 'reader', count: 0 });
    expect((await unread(unreadParams('reader'))).count).toBe(0);
  });

  it('refuses a tampered request', async () => {
    sim.seed(DOMAIN, { accounts: [{ account_name: 'reader' }, { account_name: 'boss', unread: 9 }] });
    const p = unreadParams('reader');
    p.account_name = 'boss';
    expect(await unread(p)).toEqual({ status: 'FAIL', msg: 'SIGN.INVALID' });
  });
});

describe('keys from the SecretStore', () => {
  it('derives a tenant key from the stored private key; no key is a clear signature error; rotation takes effect', async () => {
    const values = new Map<string, Record<string, unknown>>();
    const secrets: SecretStore = { getJson: async (n) => values.get(n), putJson: async (n, v) => void values.set(n, v) };
    const tenantSim = await startNeteaseSimulator({ tenants: [{ id: 'sandbox', netease: { domain: 'sandbox.example.com', product: 'sandbox_example_com' } }], secrets, stage: 'local' });
    try {
      const call = (privateKeyHex: string) =>
        post(tenantSim.url, 'unit/getUnitList', signed({ domain: 'sandbox.example.com', product: 'sandbox_example_com' }, { privateKeyHex }));
      expect((await call(key.privateKeyHex)).json.error_code).toBe('SIGN.KEY_NOT_REGISTERED');

      await generateTenantKey({ secrets, stage: 'local', tenantId: 'sandbox' });
      const first = String(values.get('qiye-bridge/local/sandbox/netease')?.privateKeyHex);
      expect((await call(first)).json.suc).toBe(true);
      expect((await call(key.privateKeyHex)).json.error_code).toBe('SIGN.INVALID');

      await generateTenantKey({ secrets, stage: 'local', tenantId: 'sandbox' });
      expect((await call(first)).json.error_code).toBe('SIGN.INVALID');
    } finally {
      await tenantSim.stop();
    }
  });
});

describe('control API', () => {
  it('seeds, shows state and records calls without secrets', async () => {
    const seeded = await control('/__sim/seed', { domain: DOMAIN, units: [{ unit_name: 'HQ' }], accounts: [{ account_name: 'adopt.me', unit_name: 'HQ', job_no: 'E9' }] });
    expect(seeded.status).toBe(200);
    await api('account/createAccount', signed({ account_name: 'new', nickname: 'N', password: 'Pa55-word' }));
    const state = await control(`/__sim/state?domain=${DOMAIN}`);
    expect(Object.keys(state.json.accounts as object).sort()).toEqual(['adopt.me', 'new']);
    expect(JSON.stringify(state.json)).not.toContain('Pa55-word');
    const calls = (await control('/__sim/calls')).json.calls as Array<{ params: Record<string, string> }>;
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({ account_name: 'new', password: '[redacted]', sign: '[redacted]' });
  });

  it('injects faults reproducibly from a seed', async () => {
    const outcomes = async () => {
      await control('/__sim/reset', {});
      await control('/__sim/faults', { errorRate: 0.5, seed: 7 });
      for (let i = 0; i < 12; i++) await api('unit/getUnitList', signed({}));
      return ((await control('/__sim/calls')).json.calls as Array<{ outcome: string }>).map((c) => c.outcome);
    };
    const first = await outcomes();
    expect(first).toContain('HTTP 500');
    expect(first).toContain('ok');
    expect(await outcomes()).toEqual(first);
  });

  it('refuses bad control input with 400', async () => {
    expect((await control('/__sim/faults', { errorRate: 2 })).status).toBe(400);
    expect((await control('/__sim/faults', '{nope')).status).toBe(400);
    expect((await control('/__sim/deliver', { domain: DOMAIN, accountName: 'ghost' })).status).toBe(404);
  });
});

describe('persistence', () => {
  it('keeps mailboxes across a restart when given a dataDir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'netease-sim-'));
    try {
      const opts = { dataDir, keys: [{ domain: DOMAIN, product: PRODUCT, publicKeyHex: key.publicKeyHex }] };
      const first = await startNeteaseSimulator(opts);
      await post(first.url, 'account/createAccount', signed({ account_name: 'keeper', nickname: 'K', password: 'p' }));
      await first.stop();
      const second = await startNeteaseSimulator(opts);
      try {
        expect((await post(second.url, 'account/getAccount', signed({ account_name: 'keeper' }))).json).toMatchObject({ suc: true, con: { account_name: 'keeper' } });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
