/**
 * Landray EKP simulator: the org export REST service (reference sync-and-ekp.md Part A)
 * on loopback, for the local stack and the tests.
 *
 * Serves, per tenant (the path of the tenant's ekp.baseUrl selects it; "" for the root):
 * - POST {prefix}/api/sys-organization/sysSynchroGetOrg/getUpdatedElements
 * - POST {prefix}/api/sys-organization/sysSynchroGetOrg/getElementsBaseInfo
 *   with EKP's payload shapes (the rows JSON-encoded inside `message`, person rows with
 *   a `password` hash) and the v16.0.5+ paging (see ekp-org-store.ts), including cuts in
 *   the middle of a millisecond.
 * - Auth as the tenant configures it (§A7): Basic with the configured user name and the
 *   password from the tenant's ekp secret (or a test-supplied one), a key header, or none.
 *   Failures answer 401 like EKP's RestApiAuthFilter.
 *
 * Control API (tests and demos; `?tenant=<id>` picks the tenant, default the first):
 *   POST   /__sim/people            one person, or {people:[...]} sharing one alterTime
 *   POST   /__sim/departments       one department, or {departments:[...]}
 *   DELETE /__sim/people/:id        a leaver (isAvailable=false); ?physical=true purges the row
 *   DELETE /__sim/departments/:id   disable; ?physical=true deletes an empty department
 *   GET    /__sim/state             counts and rows (without password hashes)
 *   POST   /__sim/faults            {errorRate, latencyMs, truncateAfterPages, feedOmits}
 *   POST   /__sim/reset             back to the seeded org, faults cleared
 *
 * The seeded org comes from test/fixtures/org-generator.ts with a fixed seed per tenant
 * (the sandbox tenant: 240 people in 24 departments). With a dataDir the orgs persist in
 * `<dataDir>/ekp-simulator.json`, so the local stack keeps its EKP across restarts.
 *
 * Deviation: a real v16.0.5+ server raises every `count` to at least 10000; the
 * simulator honours the requested count (countFloor 0) so a 240-person org still pages.
 * Pass countFloor: 10000 to reproduce the server exactly.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { EKP_ORG_SERVICE_PATH, EKP_ORG_TYPES, EKP_RETURN_STATE, type EkpOrgType, type EkpWireElement } from '../../../shared/adapters/ekp/ekp.schema';
import { normalizeEkpTime } from '../../../shared/adapters/ekp/ekp-time';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { secretName } from '../../../shared/config/secrets';
import type { Logger } from '../../../shared/logging/logger';
import { seedEkpOrg } from './ekp-sim.seed';
import type { RunningSimulator, SimulatorModule, SimulatorStartOptions } from '../simulator';
import { describeIssues, JAVA_JSON_TYPE, listen, readBody, sendJson, sleep } from '../sim-http';
import { loadTenantStates, simStateFile } from '../sim-persist';
import { EkpOrgStore, SimInputError, type StoreSnapshot } from './ekp-org-store';

const STATE_FILE = 'ekp-simulator.json';

export interface EkpSimulatorOptions extends SimulatorStartOptions {
  /** Credentials per tenant id, used instead of the SecretStore (tests). */
  credentials?: Record<string, { password?: string; apiKey?: string }>;
  /** Org per tenant id (EKP rows), instead of the generated default. */
  orgs?: Record<string, readonly EkpWireElement[]>;
  /** Lowest `count` the server uses (10000 on a real v16.0.5+ server); default 0. */
  countFloor?: number;
}

export interface SimFaults {
  /** Share of API calls answered with HTTP 500 (0..1). */
  errorRate: number;
  /** Delay before every API answer. */
  latencyMs: number;
  /** After this many successful getUpdatedElements answers, every further one fails with 500. */
  truncateAfterPages: number | null;
  /**
   * Ids getUpdatedElements leaves out while getElementsBaseInfo still lists them: the rows
   * a v16.0.5+ server loses when a page cut falls inside a millisecond (§A6 risk (a)).
   */
  feedOmits: string[];
}

export interface RunningEkpSimulator extends RunningSimulator {
  /** Tenant ids served, the default (control API) first. */
  tenantIds: string[];
}

interface TenantSlot {
  tenant: TenantConfig;
  prefix: string;
  seed: readonly EkpWireElement[];
  store: EkpOrgStore;
  faults: SimFaults;
  feedPagesServed: number;
}

const NO_FAULTS: SimFaults = { errorRate: 0, latencyMs: 0, truncateAfterPages: null, feedOmits: [] };

// ---------------------------------------------------------------- control API input
const personEdit = z
  .object({
    id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/).optional(),
    name: z.string().trim().min(1).max(100).optional(),
    loginName: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only').optional(),
    email: z.string().email().nullable().optional(),
    mobile: z.string().regex(/^\+?[0-9][0-9 -]{4,19}$/).nullable().optional(),
    jobNumber: z.string().trim().max(32).nullable().optional(),
    departmentIds: z.array(z.string().min(1)).min(1).optional(),
    mainDepartmentId: z.string().min(1).optional(),
    status: z.enum(['active', 'disabled', 'left']).optional(),
    password: z.string().min(1).max(200).optional(),
  })
  .strict();
const departmentEdit = z
  .object({
    id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/).optional(),
    name: z.string().trim().min(1).max(100).optional(),
    parentId: z.string().min(1).nullable().optional(),
    order: z.number().int().min(0).max(1e9).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    type: z.enum(['org', 'dept']).optional(),
  })
  .strict();
const peopleBody = z.union([z.object({ people: z.array(personEdit).min(1).max(10_000) }).strict(), personEdit]);
const departmentsBody = z.union([z.object({ departments: z.array(departmentEdit).min(1).max(10_000) }).strict(), departmentEdit]);
const faultsBody = z
  .object({
    errorRate: z.number().min(0).max(1).optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    truncateAfterPages: z.number().int().min(0).nullable().optional(),
    feedOmits: z.array(z.string().min(1)).max(10_000).optional(),
  })
  .strict();

export async function startEkpSimulator(opts: EkpSimulatorOptions): Promise<RunningEkpSimulator> {
  const logger = opts.logger?.child({ simulator: 'ekp' });
  const stage = opts.stage ?? 'local';
  const countFloor = opts.countFloor ?? 0;
  // Saved at once after each edit (edits are few: tests and demos).
  const state = simStateFile({
    dataDir: opts.dataDir,
    fileName: STATE_FILE,
    snapshot: () => ({ v: 1, tenants: Object.fromEntries(slots.map((s) => [s.tenant.id, s.store.toSnapshot()])) }),
  });
  const save = state.flush;
  const persisted = state.path ? loadState(state.path, logger) : {};

  const slots: TenantSlot[] = [];
  for (const tenant of opts.tenants) {
    if (!tenant.ekp) continue;
    const seed = opts.orgs?.[tenant.id] ?? seedOrg(tenant);
    const saved = persisted[tenant.id];
    const store = saved ? new EkpOrgStore(saved) : EkpOrgStore.fromElements(seed);
    slots.push({ tenant, prefix: new URL(tenant.ekp.baseUrl).pathname.replace(/\/+$/, ''), seed, store, faults: { ...NO_FAULTS }, feedPagesServed: 0 });
  }
  for (let i = 0; i < slots.length; i++) {
    const dup = slots.findIndex((s, j) => j < i && s.prefix === (slots[i] as TenantSlot).prefix);
    if (dup >= 0) logger?.warn('two tenants share an EKP path; the first one answers the API', { tenant: slots[i]?.tenant.id, shadowedBy: slots[dup]?.tenant.id });
  }
  // Longest prefix first, so /t/a is not taken by the root tenant.
  const byPrefix = [...slots].sort((a, b) => b.prefix.length - a.prefix.length);

  save();

  const expectedSecret = async (tenant: TenantConfig): Promise<{ password?: string; apiKey?: string }> => {
    const given = opts.credentials?.[tenant.id];
    if (given) return given;
    const value = opts.secrets ? await opts.secrets.getJson(secretName(stage, tenant.id, 'ekp')) : undefined;
    return { password: typeof value?.password === 'string' ? value.password : undefined, apiKey: typeof value?.apiKey === 'string' ? value.apiKey : undefined };
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof SimInputError ? err.status : 500;
      if (status === 500) logger?.error('ekp simulator failed', { error: err as Error });
      if (!res.headersSent) send(res, status, { error: (err as Error).message });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname.replace(/\/+$/, '');

    // ------------------------------------------------ control API
    const simAt = path.indexOf('/__sim/');
    if (simAt >= 0) {
      const prefix = path.slice(0, simAt);
      const wanted = url.searchParams.get('tenant');
      const slot = wanted ? slots.find((s) => s.tenant.id === wanted) : (byPrefix.find((s) => s.prefix === prefix) ?? slots[0]);
      if (!slot) return send(res, 404, { error: wanted ? `unknown tenant ${wanted}` : 'no EKP tenant is served' });
      return control(req, res, slot, path.slice(simAt + '/__sim'.length), url);
    }

    // ------------------------------------------------ EKP REST
    const slot = byPrefix.find((s) => path.startsWith(`${s.prefix}${EKP_ORG_SERVICE_PATH}/`));
    if (!slot) return send(res, 404, { status: 404, error: 'Not Found', path: url.pathname });
    const op = path.slice(`${slot.prefix}${EKP_ORG_SERVICE_PATH}/`.length);
    if (req.method !== 'POST') return send(res, 405, { status: 405, error: 'Method Not Allowed' });
    if (slot.faults.latencyMs > 0) await sleep(slot.faults.latencyMs);
    const denied = await authenticate(req, slot.tenant, await expectedSecret(slot.tenant));
    if (denied) {
      logger?.info('ekp simulator refused a call', { tenant: slot.tenant.id, op, reason: denied });
      res.setHeader('www-authenticate', 'Basic realm="null"');
      return send(res, 401, { status: 401, error: '401 UNAUTHORIZED' });
    }
    if (slot.faults.errorRate > 0 && Math.random() < slot.faults.errorRate) return send(res, 500, { status: 500, error: 'INTERNAL SERVER ERROR' });
    const body = await readJson(req);

    if (op === 'getUpdatedElements') {
      const t = slot.faults.truncateAfterPages;
      if (t !== null && slot.feedPagesServed >= t) return send(res, 500, { status: 500, error: 'INTERNAL SERVER ERROR' });
      const answer = updatedElements(slot.store, body, countFloor, new Set(slot.faults.feedOmits));
      if (answer.returnState === EKP_RETURN_STATE.SUCCESS) slot.feedPagesServed++;
      logger?.debug('ekp simulator feed page', { tenant: slot.tenant.id, rows: answer.count });
      return send(res, 200, answer);
    }
    if (op === 'getElementsBaseInfo') return send(res, 200, elementsBaseInfo(slot.store, body));
    return send(res, 404, { status: 404, error: 'Not Found', path: url.pathname });
  }

  async function control(req: IncomingMessage, res: ServerResponse, slot: TenantSlot, route: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const physical = url.searchParams.get('physical') === 'true';
    const changed = (result: unknown) => {
      save();
      send(res, 200, { tenant: slot.tenant.id, ...(result as object), latestAlterTime: slot.store.latestAlterTime() });
    };
    if (method === 'GET' && route === '/state') return send(res, 200, stateOf(slot));
    if (method === 'POST' && route === '/people') {
      const input = parseInput(peopleBody, await readJson(req));
      return changed({ people: slot.store.upsertPeople('people' in input ? input.people : [input]) });
    }
    if (method === 'POST' && route === '/departments') {
      const input = parseInput(departmentsBody, await readJson(req));
      return changed({ departments: slot.store.upsertDepartments('departments' in input ? input.departments : [input]) });
    }
    const personId = /^\/people\/([^/]+)$/.exec(route)?.[1];
    if (method === 'DELETE' && personId) {
      const id = decodeURIComponent(personId);
      if (physical) {
        slot.store.purgePerson(id);
        return changed({ purged: id });
      }
      return changed({ people: [slot.store.leave(id)] });
    }
    const deptId = /^\/departments\/([^/]+)$/.exec(route)?.[1];
    if (method === 'DELETE' && deptId) return changed({ departments: [slot.store.removeDepartment(decodeURIComponent(deptId), physical)] });
    if (method === 'POST' && route === '/faults') {
      const input = parseInput(faultsBody, await readJson(req));
      slot.faults = { ...NO_FAULTS, ...input, truncateAfterPages: input.truncateAfterPages ?? null, feedOmits: input.feedOmits ?? [] };
      slot.feedPagesServed = 0;
      return send(res, 200, { tenant: slot.tenant.id, faults: slot.faults });
    }
    if (method === 'POST' && route === '/reset') {
      slot.store = EkpOrgStore.fromElements(slot.seed);
      slot.faults = { ...NO_FAULTS };
      slot.feedPagesServed = 0;
      return changed({ reset: true, counts: slot.store.counts() });
    }
    return send(res, 404, { error: `no control route ${method} /__sim${route}` });
  }

  const http = await listen(server, opts.host, opts.port);
  const { url, port } = http;
  logger?.info('ekp simulator listening', { url, tenants: slots.map((s) => s.tenant.id) });
  return {
    vendor: 'ekp',
    url,
    port,
    tenantIds: slots.map((s) => s.tenant.id),
    stop: () => http.close(),
  };
}

/** The SimulatorModule the local stack starts. */
export const ekpSimulator: SimulatorModule = {
  vendor: 'ekp',
  start: (opts) => startEkpSimulator(opts),
};

// ---------------------------------------------------------------- EKP operations
interface EkpAnswer {
  returnState: number;
  message: string | null;
  count: number;
  timeStamp: string | null;
}

function fail(message: string): EkpAnswer {
  return { returnState: EKP_RETURN_STATE.FAIL, message, count: 0, timeStamp: null };
}

/** Parse returnOrgType like checkNullIfNecessary: a JSON array of {type}; empty = all types. */
function orgTypes(raw: unknown): EkpOrgType[] | string {
  if (raw === undefined || raw === null || raw === '') return [...EKP_ORG_TYPES];
  const bad = `需要返回的组织架构类型设置不合法,传入的信息为:${String(raw)}`;
  let arr: unknown;
  try {
    arr = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    return bad;
  }
  if (!Array.isArray(arr)) return bad;
  const out: EkpOrgType[] = [];
  for (const item of arr) {
    const t = typeof item === 'object' && item ? String((item as { type?: unknown }).type ?? '').toLowerCase() : '';
    if (!(EKP_ORG_TYPES as readonly string[]).includes(t)) return bad;
    out.push(t as EkpOrgType);
  }
  return out.length > 0 ? out : [...EKP_ORG_TYPES];
}

function updatedElements(store: EkpOrgStore, body: unknown, countFloor: number, omit: ReadonlySet<string>): EkpAnswer {
  if (!body || typeof body !== 'object') return fail('请求组织架构数据上下文不能为空!');
  const ctx = body as { count?: unknown; returnOrgType?: unknown; beginTimeStamp?: unknown; endTimeStamp?: unknown };
  const count = Number(ctx.count ?? 0);
  if (!Number.isInteger(count) || Math.max(count, countFloor) <= 0) return fail('请求组织架构数据的条目数不能为空!');
  const types = orgTypes(ctx.returnOrgType);
  if (typeof types === 'string') return fail(types);
  const time = (v: unknown): string | undefined | null => {
    if (v === undefined || v === null || v === '') return undefined;
    return typeof v === 'string' ? (normalizeEkpTime(v) ?? null) : null;
  };
  const begin = time(ctx.beginTimeStamp);
  const end = time(ctx.endTimeStamp);
  // The real server hands a malformed time to the database and fails with a 500.
  if (begin === null || end === null) throw new Error('timestamp is not yyyy-MM-dd HH:mm:ss.SSS');
  const page = store.updatedElements({ types, count, countFloor, begin, end, omit });
  return { returnState: EKP_RETURN_STATE.SUCCESS, message: JSON.stringify(page.rows), count: page.rows.length, timeStamp: page.timeStamp ?? null };
}

function elementsBaseInfo(store: EkpOrgStore, body: unknown): EkpAnswer {
  const ctx = (body && typeof body === 'object' ? body : {}) as { returnOrgType?: unknown; returnType?: unknown };
  const types = orgTypes(ctx.returnOrgType);
  if (typeof types === 'string') return fail(types);
  const extra: Array<'no' | 'order' | 'keyword'> = [];
  if (ctx.returnType !== undefined && ctx.returnType !== null && ctx.returnType !== '') {
    let arr: unknown;
    try {
      arr = typeof ctx.returnType === 'string' ? JSON.parse(ctx.returnType) : ctx.returnType;
    } catch {
      arr = undefined;
    }
    const bad = fail(`需要返回的组织架构基本信息设置不合法,传入的信息为:${String(ctx.returnType)}`);
    if (!Array.isArray(arr)) return bad;
    for (const item of arr) {
      const t = typeof item === 'object' && item ? String((item as { type?: unknown }).type ?? '').toLowerCase() : '';
      if (t !== 'no' && t !== 'order' && t !== 'keyword') return bad;
      extra.push(t);
    }
  }
  const rows = store.baseInfo(types, extra);
  return { returnState: EKP_RETURN_STATE.SUCCESS, message: JSON.stringify(rows), count: rows.length, timeStamp: null };
}

/** Undefined when allowed; otherwise a short reason for the simulator's own log. */
async function authenticate(req: IncomingMessage, tenant: TenantConfig, expected: { password?: string; apiKey?: string }): Promise<string | undefined> {
  const auth = tenant.ekp?.auth;
  if (!auth || auth.type === 'none') return undefined;
  if (auth.type === 'header') {
    const got = req.headers[auth.header.toLowerCase()];
    if (!expected.apiKey) return 'no apiKey configured for this tenant';
    return typeof got === 'string' && same(got, expected.apiKey) ? undefined : 'bad or missing key header';
  }
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return 'no Basic authorization header';
  if (!expected.password) return 'no ekp password configured for this tenant (create its ekp secret)';
  const token = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = token.indexOf(':');
  if (colon < 0) return 'malformed Basic token';
  const ok = same(token.slice(0, colon), auth.username) && same(token.slice(colon + 1), expected.password);
  return ok ? undefined : 'wrong user name or password';
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------- helpers
function seedOrg(tenant: TenantConfig): readonly EkpWireElement[] {
  return seedEkpOrg(tenant).ekp.elements;
}

function stateOf(slot: TenantSlot) {
  // Password hashes stay inside the simulator: the state view leaves them out.
  const strip = ({ password: _password, ...rest }: EkpWireElement) => rest;
  const rows = slot.store.ordered();
  return {
    tenant: slot.tenant.id,
    latestAlterTime: slot.store.latestAlterTime(),
    counts: slot.store.counts(),
    faults: slot.faults,
    departments: rows.filter((r) => r.type === 'org' || r.type === 'dept').map(strip),
    posts: rows.filter((r) => r.type === 'post').map(strip),
    people: rows.filter((r) => r.type === 'person').map(strip),
  };
}

function parseInput<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new SimInputError(400, `invalid body: ${describeIssues(r.error).join('; ')}`);
  return r.data;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text === undefined) throw new SimInputError(400, 'body too large');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new SimInputError(400, 'body is not JSON');
  }
}

/** EKP answers JSON the way its Java server writes the content type. */
function send(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, JAVA_JSON_TYPE);
}

function loadState(path: string, logger: Logger | undefined): Record<string, StoreSnapshot> {
  return loadTenantStates<StoreSnapshot>(
    path,
    (snap) => {
      if (!Array.isArray(snap.elements)) throw new Error('elements missing');
    },
    (err) => logger?.warn('ekp simulator state file unreadable; starting from the seeded org', { path, error: err.message }),
  );
}
