/**
 * EkpDirectorySource + EkpClient over HTTP against the EKP simulator.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEkpClient, EkpClient } from '../../shared/adapters/ekp/ekp.client';
import { EkpDirectorySource, type EkpDirectorySnapshot } from '../../shared/adapters/ekp/ekp.directory-source';
import { MemoryMappingStore } from '../../shared/adapters/memory/memory-mapping.store';
import { knownIdsFromMappings } from '../../shared/wiring/sync';
import { createTenantClients } from '../../shared/wiring/tenant-clients';
import { EKP_ORG_SERVICE_PATH } from '../../shared/adapters/ekp/ekp.schema';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { secretName } from '../../shared/config/secrets';
import { NotConfiguredError, UpstreamError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { SecretStore } from '../../shared/ports/secret-store';
import type { Department, Person } from '../../shared/domain/directory';
import { startEkpSimulator, type RunningEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { generateOrg } from '../fixtures/org-generator';

const STAGE = 'test';
const POLICY_PASSWORD = 'ekp-rest-policy-Pa55';

function memorySecrets(initial: Record<string, Record<string, unknown>> = {}): SecretStore {
  const m = new Map(Object.entries(initial));
  return { getJson: async (n) => m.get(n), putJson: async (n, v) => void m.set(n, v) };
}

const baseTenant = tenantSchema.parse({
  id: 'acme',
  netease: { domain: 'acme.example.com', product: 'acme_example_com', region: 'hz' },
  // Host and port are replaced by the simulator's once it listens.
  ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'basic', username: 'mail-bridge' }, pageSize: 10 },
});

const org = generateOrg({ seed: 77, departments: 24, people: 240, domain: 'acme.example.com' });
const seededPasswords = org.ekp.elements.filter((e) => e.type === 'person').map((e) => e.password as string);

let sim: RunningEkpSimulator;
let tenant: TenantConfig;
const secrets = memorySecrets({ [secretName(STAGE, 'acme', 'ekp')]: { password: POLICY_PASSWORD } });
const simLog = createMemoryLogger('debug');

beforeAll(async () => {
  sim = await startEkpSimulator({ host: '127.0.0.1', port: 0, tenants: [baseTenant], secrets, stage: STAGE, orgs: { acme: org.ekp.elements }, logger: simLog });
  tenant = { ...baseTenant, ekp: { ...baseTenant.ekp!, baseUrl: sim.url } };
});
afterAll(async () => {
  await sim?.stop();
});
beforeEach(async () => {
  await control('POST', '/__sim/reset');
  simLog.lines.length = 0;
});

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const noSleep = { sleep: async () => {} };

async function makeSource(opts: { logger?: ReturnType<typeof createMemoryLogger>; knownIds?: () => Promise<{ departmentIds: string[]; personIds: string[] }> } = {}) {
  const client = await createEkpClient({ tenant, secrets, stage: STAGE, logger: opts.logger, retry: noSleep });
  return new EkpDirectorySource({ client, logger: opts.logger, knownIds: opts.knownIds });
}

const byId = <T extends { id: string }>(xs: readonly T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));

describe('EkpDirectorySource.fullSnapshot', () => {
  it('returns exactly the seeded organisation, complete', async () => {
    const source = await makeSource();
    const snap = await source.fullSnapshot();

    expect(snap.complete).toBe(true);
    expect(snap.departments).toHaveLength(24);
    expect(snap.people).toHaveLength(240);
    expect(byId(snap.departments)).toEqual(byId(org.departments));
    expect(byId(snap.people)).toEqual(byId(org.people));
  });

  it('keeps same-name departments apart, gives the two-department person both, and marks the leaver as left', async () => {
    const snap = await (await makeSource()).fullSnapshot();
    const [a, b] = org.sameNameDepartmentIds!;
    const da = snap.departments.find((d) => d.id === a) as Department;
    const db = snap.departments.find((d) => d.id === b) as Department;
    expect(da.name).toBe(db.name);
    expect(da.parentId).not.toBe(db.parentId);

    const multi = snap.people.find((p) => p.id === org.multiDepartmentPersonIds[0]) as Person;
    expect(multi.departmentIds).toHaveLength(2);
    expect(multi.mainDepartmentId).toBe(multi.departmentIds[0]);

    const leaver = snap.people.find((p) => p.id === org.leaverIds[0]) as Person;
    expect(leaver.status).toBe('left');
    const disabled = snap.people.find((p) => p.id === org.disabledIds[0]) as Person;
    expect(disabled.status).toBe('disabled');
  });

  it('is incomplete, without watermarks, and says how many ids are missing when the feed loses elements getElementsBaseInfo lists', async () => {
    const log = createMemoryLogger('debug');
    const source = await makeSource({ logger: log });
    const lostPerson = org.people.find((p) => p.status === 'active') as Person;
    const lostDept = org.departments.find((d) => d.parentId) as Department;
    // The v16.0.5+ cut inside a millisecond loses rows (§A6 risk a): EKP still lists them by id.
    await control('POST', '/__sim/faults', { feedOmits: [lostPerson.id, lostDept.id] });

    const snap = await source.fullSnapshot();
    expect(snap.people.map((p) => p.id)).not.toContain(lostPerson.id);
    // Deletions are computed only from a complete snapshot: this one must not delete anyone.
    expect(snap.complete).toBe(false);
    // Its watermarks would claim the lost rows were read.
    expect(snap.watermarks).toEqual({});
    const warn = log.lines.find((l) => l.level === 'warn' && String(l.msg).startsWith('ekp full snapshot is incomplete'));
    expect(warn).toMatchObject({ missingPeople: 1, missingDepartments: 1, samplePersonIds: [lostPerson.id], sampleDepartmentIds: [lostDept.id] });

    // Once the feed returns everything again, the snapshot is complete and verified.
    await control('POST', '/__sim/faults', {});
    const whole = await source.fullSnapshot();
    expect(whole.complete).toBe(true);
    expect(whole.watermarks.person).toBeTruthy();
  });

  it('throws instead of returning a partial snapshot when the server fails midway', async () => {
    const source = await makeSource();
    await control('POST', '/__sim/faults', { truncateAfterPages: 5 });
    const err = await source.fullSnapshot().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('EKP.UNAVAILABLE');
    expect((err as UpstreamError).retryable).toBe(true);
  });

  it('retries transient errors, then gives up with a retryable error when they persist', async () => {
    const log = createMemoryLogger('debug');
    const source = await makeSource({ logger: log });
    await control('POST', '/__sim/faults', { errorRate: 1 });
    const err = await source.fullSnapshot().catch((e: unknown) => e);
    expect((err as UpstreamError).code).toBe('EKP.UNAVAILABLE');
    expect((err as UpstreamError).retryable).toBe(true);
    // The first call was tried 1 + 3 times, then the snapshot gave up (no later call made).
    expect(log.lines.filter((l) => l.msg === 'ekp call failed, retrying')).toHaveLength(3);
  });
});

describe('EkpDirectorySource.changesSince', () => {
  it('reports nothing when nothing changed since the snapshot', async () => {
    const source = await makeSource();
    const snap = await source.fullSnapshot();
    const changes = await source.changesSince(snap.watermarks);
    expect(changes.people).toEqual([]);
    expect(changes.departments).toEqual([]);
    expect(changes.watermarks).toEqual(snap.watermarks);
  });

  it('returns exactly the records changed after the watermark', async () => {
    const source = await makeSource();
    const snap = await source.fullSnapshot();
    const active = org.people.find((p) => p.status === 'active' && p.departmentIds.length === 1) as Person;
    const toLeave = org.people.filter((p) => p.status === 'active' && p.id !== active.id)[3] as Person;
    const [deptA, deptB] = org.departments.slice(5, 7) as [Department, Department];
    const root = org.departments.find((d) => !d.parentId) as Department;

    await control('POST', '/__sim/people', { id: active.id, mobile: '13911112222' });
    const added = (await control('POST', '/__sim/people', { name: '欧阳晓明', loginName: 'ouyangxiaoming', email: 'ouyangxiaoming@acme.example.com', departmentIds: [deptA.id, deptB.id] })) as { people: Array<{ id: string }> };
    await control('DELETE', `/__sim/people/${toLeave.id}`);
    const newDept = (await control('POST', '/__sim/departments', { name: '数字化转型办公室', parentId: root.id, order: 99 })) as { departments: Array<{ id: string }> };
    const newPersonId = added.people[0]!.id;
    const newDeptId = newDept.departments[0]!.id;

    const changes = await source.changesSince(snap.watermarks);
    expect(changes.people.map((p) => p.id).sort()).toEqual([active.id, newPersonId, toLeave.id].sort());
    expect(changes.departments.map((d) => d.id)).toEqual([newDeptId]);
    expect(changes.people.find((p) => p.id === active.id)?.mobile).toBe('13911112222');
    expect(changes.people.find((p) => p.id === newPersonId)).toMatchObject({ displayName: '欧阳晓明', departmentIds: [deptA.id, deptB.id], mainDepartmentId: deptA.id, status: 'active' });
    expect(changes.people.find((p) => p.id === toLeave.id)?.status).toBe('left');
    expect(changes.departments[0]).toEqual({ id: newDeptId, name: '数字化转型办公室', parentId: root.id, order: 99, displayOrder: 99, status: 'active' });

    // Applying the new watermarks: the next call sees nothing new.
    const again = await source.changesSince(changes.watermarks);
    expect(again.people).toEqual([]);
    expect(again.departments).toEqual([]);
  });

  it('loses no row and duplicates none when more than a page shares one alterTime across a cut', async () => {
    const source = await makeSource();
    const snap = await source.fullSnapshot();
    const dept = org.departments[3] as Department;
    // Three single changes first, so the 10-row page cut falls inside the batch.
    for (const p of org.people.slice(10, 13)) await control('POST', '/__sim/people', { id: p.id, jobNumber: `J${p.id.slice(-4)}` });
    const batch = Array.from({ length: 25 }, (_, i) => ({ name: `批量${i}`, loginName: `bulk${i}`, departmentIds: [dept.id] }));
    const res = (await control('POST', '/__sim/people', { people: batch })) as { people: Array<{ id: string; alterTime: string }> };
    expect(new Set(res.people.map((p) => p.alterTime)).size).toBe(1);

    // The documented loop (begin = last timeStamp) loses rows here: the trap is real.
    const naive = await naivePersonDrain(10);
    expect(naive.length).toBeLessThan(240 + 25);

    const changes = await source.changesSince(snap.watermarks);
    const ids = changes.people.map((p) => p.id);
    expect(ids).toHaveLength(28);
    expect(new Set(ids).size).toBe(28);
    for (const p of res.people) expect(ids).toContain(p.id);

    const full = await source.fullSnapshot();
    expect(full.people).toHaveLength(265);
    expect(new Set(full.people.map((p) => p.id)).size).toBe(265);
  });

  it('reports physically deleted people and departments through getElementsBaseInfo', async () => {
    const root = org.departments.find((d) => !d.parentId) as Department;
    const created = (await control('POST', '/__sim/departments', { name: '临时项目组', parentId: root.id })) as { departments: Array<{ id: string }> };
    const tempDept = created.departments[0]!.id;
    const snap = await (await makeSource()).fullSnapshot();
    const known = { departmentIds: snap.departments.map((d) => d.id), personIds: snap.people.map((p) => p.id) };
    const gone = org.people.find((p) => p.status === 'active') as Person;

    await control('DELETE', `/__sim/people/${gone.id}?physical=true`);
    await control('DELETE', `/__sim/departments/${tempDept}?physical=true`);

    const source = await makeSource({ knownIds: async () => known });
    const changes = await source.changesSince(snap.watermarks);
    expect(changes.deletedPersonIds).toEqual([gone.id]);
    expect(changes.deletedDepartmentIds).toEqual([tempDept]);
    // The feed itself never mentions a physical delete (§A5).
    expect(changes.people.map((p) => p.id)).not.toContain(gone.id);
  });
});

describe('the EKP source built by createTenantClients', () => {
  it('reports physical deletions of mapped ids in changesSince, from the ids the mapping store holds', async () => {
    const mappings = new MemoryMappingStore();
    const adapters = createTenantClients({ secrets, stage: STAGE, knownIds: (t, source) => knownIdsFromMappings(mappings, t.id, source) });
    const source = await adapters.directorySource(tenant);
    const snap = (await source.fullSnapshot()) as EkpDirectorySnapshot;
    expect(snap.complete).toBe(true);
    // What a first sync run would have written: a mapping per department and person.
    const write = (objectType: 'department' | 'person', sourceId: string, status: 'active' | 'deleted' = 'active') =>
      mappings.put({ tenantId: tenant.id, source: 'ekp', objectType, sourceId, neteaseId: `n-${sourceId}`.toLowerCase(), contentHash: 'h', status, lastRunId: 'r1' });
    for (const d of snap.departments) await write('department', d.id);
    for (const p of snap.people) await write('person', p.id);
    // A tombstone of someone deleted long ago: already handled, never reported again.
    await write('person', 'long-gone-person', 'deleted');

    const gone = org.people.find((p) => p.status === 'active') as Person;
    await control('DELETE', `/__sim/people/${gone.id}?physical=true`);

    const changes = await source.changesSince!(snap.watermarks);
    expect(changes.deletedPersonIds).toEqual([gone.id]);
    expect(changes.deletedDepartmentIds).toEqual([]);
  });
});

describe('EKP wire format and secrets', () => {
  it('receives the rows as a JSON string inside the JSON body, and the client parses it twice', async () => {
    const raw = await rawCall('getUpdatedElements', { returnOrgType: '[{"type":"person"}]', count: 5 });
    expect(raw.returnState).toBe(2);
    expect(typeof raw.message).toBe('string');
    const inner = JSON.parse(raw.message as string) as Array<Record<string, unknown>>;
    expect(inner).toHaveLength(5);
    expect(inner.some((r) => typeof r.password === 'string')).toBe(true);

    const client = await createEkpClient({ tenant, secrets, stage: STAGE });
    const page = await client.getUpdatedElements({ types: ['person'], count: 5 });
    expect(page.records.map((r) => r.id)).toEqual(inner.map((r) => r.id));
    expect(page.records.every((r) => !('password' in r))).toBe(true);
  });

  it('never puts a password hash into the model or the logs', async () => {
    const log = createMemoryLogger('debug');
    const source = await makeSource({ logger: log });
    const snap = await source.fullSnapshot();
    const someone = org.people.find((p) => p.status === 'active') as Person;
    await control('POST', '/__sim/people', { id: someone.id, password: 'fresh-hash-0f1e2d3c4b5a' });
    const changes = await source.changesSince(snap.watermarks);
    expect(changes.people.map((p) => p.id)).toEqual([someone.id]);

    const haystack = [JSON.stringify(snap), JSON.stringify(changes), ...log.lines.map((l) => JSON.stringify(l)), ...simLog.lines.map((l) => JSON.stringify(l))].join('\n');
    expect(log.lines.length).toBeGreaterThan(0);
    for (const pw of [...seededPasswords, 'fresh-hash-0f1e2d3c4b5a', POLICY_PASSWORD]) expect(haystack).not.toContain(pw);
    expect(haystack).not.toMatch(/"password"/);
    // The hashes really are on the wire, so the check above could have failed.
    const raw = await rawCall('getUpdatedElements', { returnOrgType: '[{"type":"person"}]', count: 300 });
    const untouched = org.ekp.elements.find((e) => e.type === 'person' && e.id !== someone.id)?.password as string;
    expect((raw.message as string).includes(untouched)).toBe(true);
  });

  it('fails a wrong password at once with a clear, non-retryable error that names no secret', async () => {
    const log = createMemoryLogger('debug');
    const client = new EkpClient({ tenantId: 'acme', config: tenant.ekp!, credentials: { password: 'not-the-password' }, logger: log, retry: noSleep });
    const err = await client.getUpdatedElements({ types: ['dept'], count: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('EKP.AUTH_FAILED');
    expect((err as UpstreamError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/HTTP 401/);
    expect((err as Error).message).not.toContain('not-the-password');
    // Exactly one refused call: no retries on an auth failure.
    expect(simLog.lines.filter((l) => l.msg === 'ekp simulator refused a call')).toHaveLength(1);
    expect(log.lines.filter((l) => l.msg === 'ekp call failed, retrying')).toHaveLength(0);
  });

  it('explains a 200 HTML login page instead of failing on JSON, and does not retry it', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'text/html;charset=UTF-8' });
      res.end('<html><body><form action="/j_acegi_security_check">登录</form></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const client = new EkpClient({ tenantId: 'acme', config: { ...tenant.ekp!, baseUrl: `http://127.0.0.1:${port}` }, credentials: { password: POLICY_PASSWORD }, retry: noSleep });
      const err = await client.getUpdatedElements({ types: ['person'], count: 10 }).catch((e: unknown) => e);
      expect((err as UpstreamError).code).toBe('EKP.BAD_RESPONSE');
      expect((err as UpstreamError).retryable).toBe(false);
      expect((err as Error).message).toMatch(/login form/);
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('refuses to build a client when the tenant secret has no password', async () => {
    const err = await createEkpClient({ tenant, secrets: memorySecrets(), stage: STAGE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotConfiguredError);
    expect((err as NotConfiguredError).code).toBe('EKP.SECRET_MISSING');
  });
});

async function rawCall(op: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${sim.url}${EKP_ORG_SERVICE_PATH}/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`mail-bridge:${POLICY_PASSWORD}`).toString('base64')}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The loop from EKP's help page: begin = previous timeStamp; stop when count < asked. */
async function naivePersonDrain(pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  let begin: string | undefined;
  for (;;) {
    const raw = await rawCall('getUpdatedElements', { returnOrgType: '[{"type":"person"}]', count: pageSize, ...(begin ? { beginTimeStamp: begin } : {}) });
    const rows = JSON.parse(raw.message as string) as Array<{ id: string }>;
    ids.push(...rows.map((r) => r.id));
    if (rows.length < pageSize) return ids;
    begin = raw.timeStamp as string;
  }
}
