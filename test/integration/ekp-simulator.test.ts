/**
 * The EKP simulator itself: the sandbox org, EKP's paging and error semantics, auth
 * modes, the control API's input checks and persistence across restarts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EkpClient, createEkpClient } from '../../shared/adapters/ekp/ekp.client';
import { EkpDirectorySource } from '../../shared/adapters/ekp/ekp.directory-source';
import { EKP_ORG_SERVICE_PATH, type EkpWireElement } from '../../shared/adapters/ekp/ekp.schema';
import { loadTenantsFile } from '../../shared/config/load-config';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { UpstreamError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { SecretStore } from '../../shared/ports/secret-store';
import { ekpSimulator, startEkpSimulator, type RunningEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { generateOrg } from '../fixtures/org-generator';

function memorySecrets(initial: Record<string, Record<string, unknown>> = {}): SecretStore {
  const m = new Map(Object.entries(initial));
  return { getJson: async (n) => m.get(n), putJson: async (n, v) => void m.set(n, v) };
}

function tenantWith(id: string, ekp: Record<string, unknown>): TenantConfig {
  return tenantSchema.parse({ id, netease: { domain: `${id}.example.com`, product: `${id}_example_com`, region: 'hz' }, ekp: { baseUrl: 'http://127.0.0.1:9', ...ekp } });
}

const running: RunningEkpSimulator[] = [];
afterEach(async () => {
  while (running.length) await running.pop()?.stop();
});

async function start(opts: Parameters<typeof startEkpSimulator>[0]): Promise<RunningEkpSimulator> {
  const sim = await startEkpSimulator(opts);
  running.push(sim);
  return sim;
}

async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const small = generateOrg({ seed: 3, departments: 12, people: 40 });

describe('sandbox tenant', () => {
  const tenants = loadTenantsFile('config/tenants.local.json').tenants;
  const sandbox = tenants.find((t) => t.id === 'sandbox') as TenantConfig;
  const secrets = memorySecrets({ [secretName('local', 'sandbox', 'ekp')]: { password: 'sandbox-ekp-pass' } });
  let sim: RunningEkpSimulator;
  beforeAll(async () => {
    sim = (await ekpSimulator.start({ host: '127.0.0.1', port: 0, tenants, secrets, stage: 'local' })) as RunningEkpSimulator;
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('serves a seeded org of at least 200 people in 20 departments, read with the password from the SecretStore', async () => {
    expect(sim.tenantIds).toEqual(['sandbox']);
    const client = await createEkpClient({ tenant: { ...sandbox, ekp: { ...sandbox.ekp!, baseUrl: sim.url } }, secrets, stage: 'local' });
    const snap = await new EkpDirectorySource({ client }).fullSnapshot();
    expect(snap.people.length).toBeGreaterThanOrEqual(200);
    expect(snap.departments.length).toBeGreaterThanOrEqual(20);

    const names = new Map<string, Set<string | undefined>>();
    for (const d of snap.departments) names.set(d.name, (names.get(d.name) ?? new Set()).add(d.parentId));
    expect([...names.values()].some((parents) => parents.size >= 2)).toBe(true);
    expect(snap.people.some((p) => p.departmentIds.length === 2)).toBe(true);
    expect(snap.people.some((p) => p.status === 'left')).toBe(true);
    expect(snap.people.every((p) => !p.email || p.email.endsWith('@sandbox.example.com'))).toBe(true);
  });

  it('is the same org on every start (fixed seed)', async () => {
    const again = await ekpSimulator.start({ host: '127.0.0.1', port: 0, tenants, secrets, stage: 'local' });
    try {
      const a = (await call(`${sim.url}/__sim/state`, 'GET')).json;
      const b = (await call(`${again.url}/__sim/state`, 'GET')).json;
      expect(b.people).toEqual(a.people);
    } finally {
      await again.stop();
    }
  });

  it('never shows password hashes in its state view', async () => {
    const state = (await call(`${sim.url}/__sim/state`, 'GET')).json;
    expect(JSON.stringify(state)).not.toMatch(/"password"/);
  });
});

describe('EKP semantics', () => {
  const t = tenantWith('acme', { auth: { type: 'none' } });

  it('walks several requested types in order and cuts inside the first, skipping the later one (§A6 risk b)', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements } });
    const depts = small.ekp.elements.filter((e) => e.type === 'dept');
    const { json } = await call(`${sim.url}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, 'POST', { returnOrgType: '[{"type":"dept"},{"type":"person"}]', count: depts.length - 2 });
    const rows = JSON.parse(json.message as string) as EkpWireElement[];
    expect(rows).toHaveLength(depts.length - 2);
    expect(rows.every((r) => r.type === 'dept')).toBe(true);
    expect(json.timeStamp).toBe(rows.at(-1)?.alterTime);
  });

  it('raises count to the configured floor like a v16.0.5+ server', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements }, countFloor: 10_000 });
    const { json } = await call(`${sim.url}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, 'POST', { returnOrgType: '[{"type":"person"}]', count: 1 });
    expect(json.count).toBe(40);
  });

  it('answers request errors with returnState 1 and EKP text, which the client reports as non-retryable', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements } });
    const bad = await call(`${sim.url}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, 'POST', { returnOrgType: '[{"type":"role"}]', count: 10 });
    expect(bad.json.returnState).toBe(1);
    expect(bad.json.message).toMatch(/需要返回的组织架构类型设置不合法/);
    const zero = await call(`${sim.url}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, 'POST', { count: 0 });
    expect(zero.json.message).toBe('请求组织架构数据的条目数不能为空!');

    const client = new EkpClient({ tenantId: 'acme', config: { ...t.ekp!, baseUrl: sim.url }, credentials: {} });
    const err = await client.getUpdatedElements({ types: ['person'], count: 0 }).catch((e: unknown) => e);
    expect((err as UpstreamError).code).toBe('EKP.REQUEST_FAILED');
    expect((err as UpstreamError).retryable).toBe(false);
    expect((err as Error).message).toContain('条目数不能为空');
  });

  it('lists every element id, disabled ones included, from getElementsBaseInfo with the asked extra fields', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements } });
    const { json } = await call(`${sim.url}${EKP_ORG_SERVICE_PATH}/getElementsBaseInfo`, 'POST', { returnOrgType: '[{"type":"person"}]', returnType: '[{"type":"no"}]' });
    const rows = JSON.parse(json.message as string) as Array<Record<string, string>>;
    expect(rows).toHaveLength(40);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['id', 'lunid', 'name', 'no', 'type']);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(small.leaverIds));
  });

  it('serves tenants on different base paths from different orgs', async () => {
    const other = generateOrg({ seed: 4, departments: 5, people: 7 });
    const a = tenantWith('alpha', { baseUrl: 'http://127.0.0.1:9/ekp-a', auth: { type: 'none' } });
    const b = tenantWith('beta', { baseUrl: 'http://127.0.0.1:9/ekp-b', auth: { type: 'none' } });
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [a, b], orgs: { alpha: small.ekp.elements, beta: other.ekp.elements } });
    const count = async (prefix: string) => (await call(`${sim.url}${prefix}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, 'POST', { returnOrgType: '[{"type":"person"}]', count: 100 })).json.count;
    expect(await count('/ekp-a')).toBe(40);
    expect(await count('/ekp-b')).toBe(7);
    expect((await call(`${sim.url}/__sim/state?tenant=beta`, 'GET')).json.tenant).toBe('beta');
  });
});

describe('auth modes', () => {
  it('accepts the configured key header and refuses a wrong one', async () => {
    const t = tenantWith('keyed', { auth: { type: 'header', header: 'X-Api-Key' } });
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { keyed: small.ekp.elements }, credentials: { keyed: { apiKey: 'k-123456' } } });
    const config = { ...t.ekp!, baseUrl: sim.url };
    const ok = await new EkpClient({ tenantId: 'keyed', config, credentials: { apiKey: 'k-123456' } }).getUpdatedElements({ types: ['org'], count: 10 });
    expect(ok.records.length).toBeGreaterThan(0);
    const err = await new EkpClient({ tenantId: 'keyed', config, credentials: { apiKey: 'wrong' } }).getUpdatedElements({ types: ['org'], count: 10 }).catch((e: unknown) => e);
    expect((err as UpstreamError).code).toBe('EKP.AUTH_FAILED');
  });

  it('refuses Basic calls while the tenant has no ekp secret, and says why in its own log', async () => {
    const t = tenantWith('nosecret', { auth: { type: 'basic', username: 'mail-bridge' } });
    const log = createMemoryLogger('debug');
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { nosecret: small.ekp.elements }, secrets: memorySecrets(), logger: log });
    const res = await fetch(`${sim.url}${EKP_ORG_SERVICE_PATH}/getUpdatedElements`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('mail-bridge:guess').toString('base64')}` }, body: '{"count":1}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="null"');
    expect(log.lines.some((l) => String(l.reason).includes('create its ekp secret'))).toBe(true);
  });
});

describe('control API', () => {
  const t = tenantWith('acme', { auth: { type: 'none' } });

  it('rejects bad input with 400 and changes nothing', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements } });
    const before = (await call(`${sim.url}/__sim/state`, 'GET')).json;
    const dept = small.departments[4]!.id;
    const bad = [
      { name: '无部门' },
      { name: '错部门', departmentIds: ['nope'] },
      { people: [{ name: '好人', departmentIds: [dept] }, { name: '坏人', departmentIds: [dept], email: 'not-an-email' }] },
      { people: [{ name: '好人', departmentIds: [dept] }, { name: '错部门', departmentIds: ['nope'] }] },
      { name: '多余字段', departmentIds: [dept], salary: 1 },
    ];
    for (const body of bad) {
      const res = await call(`${sim.url}/__sim/people`, 'POST', body);
      expect(res.status).toBe(400);
      expect(String(res.json.error)).toMatch(/invalid body|required|unknown department/);
    }
    const dupLogin = await call(`${sim.url}/__sim/people`, 'POST', { people: [{ name: '甲', loginName: 'same', departmentIds: [dept] }, { name: '乙', loginName: 'SAME', departmentIds: [dept] }] });
    expect(dupLogin.status).toBe(409);
    const takenLogin = await call(`${sim.url}/__sim/people`, 'POST', { name: '丙', loginName: small.people[0]!.loginName, departmentIds: [dept] });
    expect(takenLogin.status).toBe(409);
    expect((await call(`${sim.url}/__sim/people/nobody`, 'DELETE')).status).toBe(404);
    expect((await call(`${sim.url}/__sim/departments/${small.departments[0]!.id}?physical=true`, 'DELETE')).status).toBe(409);
    const after = (await call(`${sim.url}/__sim/state`, 'GET')).json;
    expect(after).toEqual(before);
  });

  it('bumps alterTime on every change and never moves it backwards', async () => {
    const sim = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements } });
    const p = small.people[5]!;
    const times: string[] = [];
    for (let i = 0; i < 5; i++) times.push(((await call(`${sim.url}/__sim/people`, 'POST', { id: p.id, jobNumber: `J${i}` })).json.people as Array<{ alterTime: string }>)[0]!.alterTime);
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
  });

  it('keeps the org across restarts when given a dataDir, and reset restores the seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekp-sim-'));
    try {
      const first = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements }, dataDir: dir });
      const added = (await call(`${first.url}/__sim/people`, 'POST', { name: '持久化', departmentIds: [small.departments[3]!.id] })).json;
      const id = (added.people as Array<{ id: string }>)[0]!.id;
      await first.stop();
      running.length = 0;

      const second = await start({ host: '127.0.0.1', port: 0, tenants: [t], orgs: { acme: small.ekp.elements }, dataDir: dir });
      const state = (await call(`${second.url}/__sim/state`, 'GET')).json;
      expect((state.people as Array<{ id: string; name: string }>).find((p) => p.id === id)?.name).toBe('持久化');

      await call(`${second.url}/__sim/reset`, 'POST');
      const reset = (await call(`${second.url}/__sim/state`, 'GET')).json;
      expect((reset.people as unknown[]).length).toBe(40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
