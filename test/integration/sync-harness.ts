/**
 * A sync engine harness for tests and the sync benchmark: memory state stores, the real
 * NetEase client talking HTTP to the NetEase simulator, an in-memory directory source the
 * test edits, and an in-process SQS stand-in that delivers through the REAL sync worker
 * handler (functions/queue/sync-worker/handler.ts: sqsBatchHandler + applyBatch) with
 * SQS's semantics: at-least-once, failed records come back (receive count), and go to a
 * DLQ after maxReceiveCount. It can deliver records twice on purpose.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { makeHandler as makeWorker } from '../../functions/queue/sync-worker/handler';
import { NeteaseClient, type NeteaseClientOptions } from '../../shared/adapters/netease';
import { NeteaseOpenClient } from '../../shared/adapters/netease/netease-open.client';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { FUNCTIONS, type QueueName } from '../../shared/contracts/app-manifest';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import type { Department, DirectoryChanges, DirectoryObjectType, DirectorySnapshot, Person } from '../../shared/domain/directory';
import type { DirectorySource } from '../../shared/ports/directory-source';
import { createMemoryLogger, type Logger } from '../../shared/logging/logger';
import type { Clock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import type { RunRecord } from '../../shared/ports/run-store';
import type { StateStores } from '../../shared/ports/state-stores';
import { startSyncRun, type StartSyncInput, type SyncDeps, type SyncOptions } from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { DomainState } from '../../local/simulators/netease/netease-sim.state';
import { deliverBatch, type SqsWorker } from '../support/sqs-events';
import { oneTenantSyncDeps } from '../support/sync-deps';

// ---------------------------------------------------------------------------------------
// An editable directory source
// ---------------------------------------------------------------------------------------

/**
 * A directory the test edits. fullSnapshot returns a copy; changesSince lists what changed
 * after a watermark (a per-type sequence number), like a change feed.
 */
export class MemoryDirectorySource implements DirectorySource {
  readonly kind = 'ekp' as const;
  private seq = 0;
  private readonly departments = new Map<string, { d: Department; at: number }>();
  private readonly people = new Map<string, { p: Person; at: number }>();
  /** Make the next full reads return this instead (an empty or half-size org); undefined = the real one. */
  override?: { departments: Department[]; people: Person[] };
  reads = 0;
  withChangeFeed = true;

  constructor(departments: readonly Department[] = [], people: readonly Person[] = []) {
    for (const d of departments) this.putDepartment(d);
    for (const p of people) this.putPerson(p);
  }

  putDepartment(d: Department): void {
    this.departments.set(d.id, { d: structuredClone(d), at: ++this.seq });
  }
  putPerson(p: Person): void {
    this.people.set(p.id, { p: structuredClone(p), at: ++this.seq });
  }
  person(id: string): Person {
    const e = this.people.get(id);
    if (!e) throw new Error(`no person ${id}`);
    return structuredClone(e.p);
  }
  department(id: string): Department {
    const e = this.departments.get(id);
    if (!e) throw new Error(`no department ${id}`);
    return structuredClone(e.d);
  }
  /** Edit a person (marks it changed). */
  editPerson(id: string, edit: (p: Person) => void): void {
    const p = this.person(id);
    edit(p);
    this.putPerson(p);
  }
  editDepartment(id: string, edit: (d: Department) => void): void {
    const d = this.department(id);
    edit(d);
    this.putDepartment(d);
  }
  allDepartments(): Department[] {
    return [...this.departments.values()].map((e) => structuredClone(e.d));
  }
  allPeople(): Person[] {
    return [...this.people.values()].map((e) => structuredClone(e.p));
  }

  async fullSnapshot(): Promise<DirectorySnapshot & { watermarks: Partial<Record<DirectoryObjectType, string>> }> {
    this.reads++;
    const o = this.override;
    return {
      departments: o ? structuredClone(o.departments) : this.allDepartments(),
      people: o ? structuredClone(o.people) : this.allPeople(),
      complete: true,
      takenAt: Date.now(),
      watermarks: { department: String(this.seq), person: String(this.seq) },
    };
  }

  get changesSince(): DirectorySource['changesSince'] {
    if (!this.withChangeFeed) return undefined;
    return async (wm) => {
      this.reads++;
      const dFrom = Number(wm.department ?? 0);
      const pFrom = Number(wm.person ?? 0);
      const changes: DirectoryChanges = {
        departments: [...this.departments.values()].filter((e) => e.at > dFrom).map((e) => structuredClone(e.d)),
        people: [...this.people.values()].filter((e) => e.at > pFrom).map((e) => structuredClone(e.p)),
        deletedDepartmentIds: [],
        deletedPersonIds: [],
        watermarks: { department: String(this.seq), person: String(this.seq) },
      };
      return changes;
    };
  }
}

// ---------------------------------------------------------------------------------------
// An in-process SQS stand-in
// ---------------------------------------------------------------------------------------

/** Records per sync worker invocation in AWS and the local stack. */
const SYNC_WORKER_BATCH_SIZE = FUNCTIONS.syncWorker.consumes?.batchSize ?? 10;

interface QueuedMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  /** Invisible until then (ms epoch): the visibility timeout after a failed receive. */
  visibleAt?: number;
}

export interface DrainOptions {
  /** Invocations at once (Lambda's maxConcurrency). Default 5. */
  concurrency?: number;
  /** Records per invocation (the mapping's batch size). Default FUNCTIONS.syncWorker.consumes.batchSize. */
  batchSize?: number;
  /** Share of records delivered twice (at once, to two invocations). Default 0. */
  duplicateRate?: number;
  /** Receives before a record goes to the DLQ. Default 5 (QUEUES.sync.maxReceiveCount); the harness's worker is told the same. */
  maxReceiveCount?: number;
  /** Deterministic randomness for duplicates. */
  random?: () => number;
  /** Stop after this many ms (a stuck test fails instead of hanging). Default 120 s. */
  timeoutMs?: number;
  /** Real ms before a failed record is visible again (SQS's visibility timeout, shortened). Default 50. */
  visibilityMs?: number;
}

export class InProcessQueue implements JobQueue {
  readonly ready: QueuedMessage[] = [];
  readonly dlq: QueuedMessage[] = [];
  sent = 0;
  deliveries = 0;
  private nextId = 1;

  /** Bodies sent to the `plan` queue (on-demand requests; the recovery's fresh plans). Not delivered. */
  readonly planned: unknown[] = [];

  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    if (queue === 'plan') {
      this.planned.push(...messages.map((m) => m.body));
      return;
    }
    if (queue !== 'sync') throw new Error(`unexpected queue ${queue}`);
    for (const m of messages) {
      this.ready.push({ messageId: `m-${this.nextId++}`, body: JSON.stringify(m.body), receiveCount: 0 });
      this.sent++;
    }
  }

  /** Deliver until the queue is empty and nothing is in flight. */
  async drain(worker: SqsWorker, opts: DrainOptions = {}): Promise<void> {
    const concurrency = opts.concurrency ?? 5;
    const batchSize = opts.batchSize ?? SYNC_WORKER_BATCH_SIZE;
    const maxReceive = opts.maxReceiveCount ?? 5;
    const random = opts.random ?? Math.random;
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    const inFlight = new Set<Promise<void>>();
    // A duplicate delivery is the same SQS message handed out twice: it is never requeued
    // on its own (the original delivery decides whether the message comes back).
    const invoke = async (batch: QueuedMessage[], duplicate: boolean): Promise<void> => {
      this.deliveries += batch.length;
      // Lambda's context: the deadline guard (sqs-batch.ts reserveMs) sees the function's timeout.
      const deadline = Date.now() + FUNCTIONS.syncWorker.timeoutSeconds * 1000;
      const failed = await deliverBatch(worker, batch, 'sync', { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as Context);
      if (duplicate) return;
      for (const m of batch) {
        if (!failed.has(m.messageId)) continue;
        if (m.receiveCount >= maxReceive) this.dlq.push(m);
        else this.ready.push({ ...m, visibleAt: Date.now() + (opts.visibilityMs ?? 50) });
      }
    };
    const takeVisible = (): QueuedMessage[] => {
      const now = Date.now();
      const out: QueuedMessage[] = [];
      for (let i = 0; i < this.ready.length && out.length < batchSize; ) {
        if ((this.ready[i]!.visibleAt ?? 0) <= now) out.push(...this.ready.splice(i, 1));
        else i++;
      }
      return out;
    };
    while (this.ready.length > 0 || inFlight.size > 0) {
      if (Date.now() > deadline) throw new Error(`queue drain timed out (${this.ready.length} ready, ${inFlight.size} in flight)`);
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight);
        continue;
      }
      const batch = takeVisible();
      if (batch.length === 0) {
        const wait = new Promise((r) => setTimeout(r, 5));
        await (inFlight.size > 0 ? Promise.race([...inFlight, wait]) : wait);
        continue;
      }
      for (const m of batch) m.receiveCount++;
      const dupes = batch.filter(() => random() < (opts.duplicateRate ?? 0)).map((m) => ({ ...m }));
      for (const [b, duplicate] of dupes.length > 0 ? ([[batch, false], [dupes, true]] as const) : ([[batch, false]] as const)) {
        const p = invoke(b, duplicate).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------

/**
 * One NetEase simulator for a test file's tests, started before them (register at the top
 * level of the file); the harnesses passed to `keep` stop after them, then the simulator.
 */
export function fileSimulator(seed: number): { readonly sim: RunningNeteaseSimulator; keep(h: SyncHarness): SyncHarness } {
  let sim: RunningNeteaseSimulator | undefined;
  const kept: SyncHarness[] = [];
  beforeAll(async () => {
    sim = await startNeteaseSimulator({ seed });
  });
  afterAll(async () => {
    for (const h of kept) await h.stop();
    await sim?.stop();
  });
  return {
    get sim() {
      if (!sim) throw new Error('the simulator starts in beforeAll');
      return sim;
    },
    keep: (h) => (kept.push(h), h),
  };
}

/**
 * Registers an open-platform app for `domain` on the simulator and returns its client (fast
 * retries, no pacing): what the wiring adds to a tenant with `netease.openPlatform`.
 */
export function openPlatformClient(sim: RunningNeteaseSimulator, tenantId: string, domain: string, allowedIps?: string[]): NeteaseOpenClient {
  const app = { domain, appId: `${tenantId}-app`, orgOpenId: `${tenantId}-org`, authCode: `${tenantId}-auth`, ...(allowedIps ? { allowedIps } : {}) };
  sim.registerOpenApp(app);
  return new NeteaseOpenClient(
    { baseUrl: sim.url, appId: app.appId, orgOpenId: app.orgOpenId, domain, timeoutMs: 5000, maxRetries: 2, requestsPerSecond: 1000 },
    { authCode: async () => app.authCode, retryBaseDelayMs: 1, retryMaxDelayMs: 5 },
  );
}

/**
 * A harness for a new tenant on `sim` whose domain has an open-platform app registered;
 * `wrapApi` composes the tenant's API from the legacy one and that app's client.
 */
export async function createOpenPlatformHarness(opts: {
  sim: RunningNeteaseSimulator;
  tenantId: string;
  org: { departments: Department[]; people: Person[] };
  allowedIps?: string[];
  wrapApi: (api: NeteaseDirectory, open: NeteaseOpenClient) => NeteaseDirectory;
} & Pick<HarnessOptions, 'sync' | 'netease'>): Promise<SyncHarness> {
  const domain = `${opts.tenantId}.example.com`;
  const open = openPlatformClient(opts.sim, opts.tenantId, domain, opts.allowedIps);
  return createSyncHarness({
    sim: opts.sim,
    tenantId: opts.tenantId,
    domain,
    source: new MemoryDirectorySource(opts.org.departments, opts.org.people),
    ...(opts.sync ? { sync: opts.sync } : {}),
    ...(opts.netease ? { netease: opts.netease } : {}),
    wrapApi: (api) => opts.wrapApi(api, open),
  });
}

/** An active source department (test data). */
export const dept = (id: string, name: string, parentId?: string): Department => ({ id, name, order: 0, status: 'active', ...(parentId ? { parentId } : {}) });

/** An active source person in one department, mailed at example.com (test data). */
export const person = (id: string, dept: string, extra: Partial<Person> = {}): Person => ({ id, displayName: `Person ${id}`, email: `${id}@example.com`, departmentIds: [dept], mainDepartmentId: dept, status: 'active', ...extra });

export interface HarnessOptions {
  tenantId?: string;
  domain?: string;
  /** tenant.sync overrides. */
  sync?: Record<string, unknown>;
  /** tenant.netease overrides (e.g. openPlatform). */
  netease?: Record<string, unknown>;
  requestsPerSecond?: number;
  maxRetries?: number;
  options?: Partial<SyncOptions>;
  /** Share one simulator between harnesses (benchmarks); default: start one. */
  sim?: RunningNeteaseSimulator;
  /** Base URL the client talks to (a proxy in front of the simulator); default the simulator's. */
  apiBaseUrl?: string;
  logger?: Logger;
  clientOptions?: NeteaseClientOptions;
  source?: MemoryDirectorySource;
  /** Wrap the API (count calls, inject failures). */
  wrapApi?: (api: NeteaseDirectory) => NeteaseDirectory;
}

const KEY = generateKeyPairSync(1024);

export interface SyncHarness {
  tenant: TenantConfig;
  sim: RunningNeteaseSimulator;
  ownsSim: boolean;
  stores: StateStores;
  queue: InProcessQueue;
  source: MemoryDirectorySource;
  clock: Clock & { advance(ms: number): void; set(ms: number): void };
  deps: SyncDeps;
  api: NeteaseClient;
  worker: ReturnType<typeof makeWorker>;
  logger: Logger;
  /** Start a run and deliver its batches until the queue is idle; returns the run as it ended. */
  run(input?: Partial<StartSyncInput>, drain?: DrainOptions): Promise<{ run: RunRecord; planText: string }>;
  drain(opts?: DrainOptions): Promise<void>;
  /** NetEase's state for the tenant's domain. */
  netease(): DomainState;
  /** Calls that change NetEase (everything but get* / list) since `since` (a `mark()`). */
  writeCalls(since?: number): Array<{ path: string; outcome: string }>;
  /** A time after every call made so far (the simulator records ms), for writeCalls(since). */
  mark(): Promise<number>;
  stop(): Promise<void>;
}

/** The NetEase APIs that change NetEase's state (the sync bench counts the same ones). */
export const MAIL_WRITE_APIS = ['addAccountAlias', 'deleteAccountAlias', 'createMaillist', 'updateMaillist', 'deleteMaillist'] as const;
export const WRITE_APIS = ['createUnit', 'updateUnit', 'deleteUnit', 'updateUnitRank', 'updateAccountRank', 'createAccount', 'updateAccount', 'updatePassword', 'moveUnit', 'suspendAccount', 'recoverAccount', 'deleteAccountSim', ...MAIL_WRITE_APIS] as const;
export const WRITE_PATHS = new RegExp(`/(${WRITE_APIS.join('|')})$`);

export async function createSyncHarness(opts: HarnessOptions = {}): Promise<SyncHarness> {
  const tenantId = opts.tenantId ?? 'acme';
  const domain = opts.domain ?? `${tenantId}.example.com`;
  const ownsSim = !opts.sim;
  const sim = opts.sim ?? (await startNeteaseSimulator({}));
  sim.registerKey(domain, `${tenantId}_product`, KEY.publicKeyHex);
  const apiBaseUrl = opts.apiBaseUrl ?? `${sim.url}/qiyeservice/api`;
  const tenant = tenantSchema.parse({
    id: tenantId,
    netease: {
      domain,
      product: `${tenantId}_product`,
      region: 'hz',
      apiBaseUrl,
      unreadUrl: `${sim.url}/oaserver/user/getUnreadMsg`,
      requestsPerSecond: opts.requestsPerSecond ?? 1000,
      timeoutMs: 5000,
      maxRetries: opts.maxRetries ?? 2,
      ...opts.netease,
    },
    ekp: { baseUrl: 'http://127.0.0.1:9/ekp', auth: { type: 'none' } },
    // The fixtures' people have addresses at example.com, the company's domain beside the NetEase one.
    sync: { source: 'ekp', acceptedEmailDomains: ['example.com'], ...opts.sync },
  });
  // Real time plus an offset the test can move forward (grace periods, lease expiry).
  let offset = 0;
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms), set: (ms: number) => void (offset = ms - Date.now()) };
  const stores = createMemoryStateStores({ clock });
  const queue = new InProcessQueue();
  const source = opts.source ?? new MemoryDirectorySource();
  const logger = opts.logger ?? createMemoryLogger('error');
  const api = new NeteaseClient(tenant.netease, new Signer(KEY.privateKeyHex), { retryBaseDelayMs: 2, retryMaxDelayMs: 20, ...opts.clientOptions });
  const wrapped: NeteaseDirectory = opts.wrapApi ? opts.wrapApi(api) : api;
  const deps = oneTenantSyncDeps({ stores, jobs: queue, clock, logger, options: { opLeaseSeconds: 30, ...opts.options } }, tenant, source, wrapped);
  const worker = makeWorker({ sync: deps });
  // The worker knows the queue's maxReceiveCount (its last delivery gives up on failing operations).
  const drain = (d?: DrainOptions) => queue.drain(d?.maxReceiveCount !== undefined ? makeWorker({ sync: deps, maxReceiveCount: d.maxReceiveCount }) : worker, d);
  return {
    tenant,
    sim,
    ownsSim,
    stores,
    queue,
    source,
    clock,
    deps,
    api,
    worker,
    logger,
    drain,
    async run(input = {}, d) {
      const started = await startSyncRun(deps, { tenantId, trigger: 'manual', ...input });
      await drain(d);
      const run = (await stores.runs.get(tenantId, started.run.runId))!;
      return { run, planText: started.planText };
    },
    netease: () => sim.state(domain),
    async mark() {
      const t = Date.now();
      while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
      return Date.now();
    },
    writeCalls(since = 0) {
      return sim
        .calls({ domain })
        .filter((c) => c.at >= since && WRITE_PATHS.test(c.path))
        .map((c) => ({ path: c.path.split('/').pop()!, outcome: c.outcome }));
    },
    async stop() {
      if (ownsSim) await sim.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Drift check: NetEase against the source
// ---------------------------------------------------------------------------------------

/**
 * Differences between what NetEase holds and what the source says it should hold, for a
 * tenant with no scope filters and the emailLocalPart rule: every active department has one
 * unit under its parent's unit; every active person with an email has exactly one active
 * mailbox (named by the mapping) with their display name, in their main department's unit;
 * nobody else has an active mailbox; no unit exists that no department owns.
 * `unmanaged` names mailboxes/units that existed before the bridge (left alone).
 */
export async function driftCheck(h: Pick<SyncHarness, 'netease' | 'stores' | 'tenant' | 'source'>, unmanaged: { accounts?: Iterable<string>; units?: Iterable<string> } = {}): Promise<string[]> {
  const problems: string[] = [];
  const state = h.netease();
  const snap = await h.stores.mappings.loadAll(h.tenant.id, 'ekp');
  const departments = h.source.allDepartments().filter((d) => d.status === 'active');
  const people = h.source.allPeople();
  const unitOfDept = new Map<string, string>();
  for (const d of departments) {
    const m = snap.department.get(d.id);
    if (!m || m.status === 'deleted') {
      problems.push(`department ${d.id} has no unit mapping`);
      continue;
    }
    unitOfDept.set(d.id, m.neteaseId);
    const unit = state.units[m.neteaseId];
    if (!unit) {
      problems.push(`department ${d.id}: unit ${m.neteaseId} missing in NetEase`);
      continue;
    }
    if (!unit.unit_name.startsWith(d.name.trim())) problems.push(`department ${d.id}: unit named ${unit.unit_name}, expected ${d.name}`);
  }
  for (const d of departments) {
    const unitId = unitOfDept.get(d.id);
    if (!unitId || !state.units[unitId]) continue;
    const parentUnit = d.parentId ? unitOfDept.get(d.parentId) : undefined;
    if ((state.units[unitId]!.parent_id ?? undefined) !== parentUnit) problems.push(`department ${d.id}: unit ${unitId} is under ${state.units[unitId]!.parent_id ?? 'top'}, expected ${parentUnit ?? 'top'}`);
  }
  const ownedUnits = new Set(unitOfDept.values());
  const unmanagedUnits = new Set(unmanaged.units ?? []);
  for (const u of Object.values(state.units)) if (!ownedUnits.has(u.unit_id) && !unmanagedUnits.has(u.unit_name)) problems.push(`unit ${u.unit_id} (${u.unit_name}) is owned by no department`);
  const names = new Set<string>();
  const expectedActive = new Set<string>();
  for (const p of people) {
    const m = snap.person.get(p.id);
    if (p.status !== 'active' || !p.email) {
      if (m && state.accounts[m.neteaseId.toLowerCase()]?.status === 0) problems.push(`person ${p.id} (${p.status}) still has an active mailbox ${m.neteaseId}`);
      continue;
    }
    if (!m) {
      problems.push(`person ${p.id} has no mailbox mapping`);
      continue;
    }
    const name = m.neteaseId.toLowerCase();
    if (names.has(name)) problems.push(`mailbox ${name} is mapped twice`);
    names.add(name);
    expectedActive.add(name);
    const acc = state.accounts[name];
    if (!acc) {
      problems.push(`person ${p.id}: mailbox ${name} missing in NetEase`);
      continue;
    }
    if (acc.status !== 0) problems.push(`person ${p.id}: mailbox ${name} has status ${acc.status}`);
    if (acc.nickname !== p.displayName.trim()) problems.push(`person ${p.id}: mailbox ${name} nickname differs`);
    const main = p.mainDepartmentId !== undefined && p.departmentIds.includes(p.mainDepartmentId) ? p.mainDepartmentId : p.departmentIds[0];
    const unit = main !== undefined ? unitOfDept.get(main) : undefined;
    const defaultUnit = `${state.domainId}_default`;
    if ((unit ?? defaultUnit) !== acc.unit_id) problems.push(`person ${p.id}: mailbox ${name} is in unit ${acc.unit_id}, expected ${unit ?? defaultUnit}`);
  }
  const unmanagedAccounts = new Set([...(unmanaged.accounts ?? [])].map((a) => a.toLowerCase()));
  for (const a of Object.values(state.accounts)) {
    const n = a.account_name.toLowerCase();
    if (a.status === 0 && !expectedActive.has(n) && !unmanagedAccounts.has(n)) problems.push(`mailbox ${n} is active but no active person owns it`);
  }
  return problems;
}
