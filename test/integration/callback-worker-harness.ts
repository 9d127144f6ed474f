/**
 * A world for the callback worker over the wire: the DingTalk or WeCom simulator (the
 * tenant's directory, read over HTTP by the real client and directory source), the NetEase
 * simulator (written over HTTP by the real NetEase client), memory state and dirty stores,
 * and an in-process SQS stand-in with the `callback` and `sync` queues that delivers through
 * the REAL handlers (functions/queue/callback-worker and functions/queue/sync-worker) with
 * SQS's semantics: batches, concurrency, at-least-once, failed records redelivered and
 * moved to a DLQ after maxReceiveCount, optional duplicate deliveries.
 */
import type { CallMeter } from '../../shared/ports/usage-meter';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { makeHandler as makeCallbackWorker } from '../../functions/queue/callback-worker/handler';
import { makeHandler as makeSyncWorker } from '../../functions/queue/sync-worker/handler';
import { DingtalkClient } from '../../shared/adapters/dingtalk';
import { DingtalkDirectorySource } from '../../shared/adapters/dingtalk/dingtalk.directory-source';
import { RateLimiterRegistry, type RateLimiter, type RateLimiterOptions } from '../../shared/adapters/http/rate-limiter';
import { MemoryDirtyStore } from '../../shared/adapters/memory/memory-dirty.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { NeteaseClient } from '../../shared/adapters/netease';
import { WecomClient } from '../../shared/adapters/wecom';
import { WecomDirectorySource } from '../../shared/adapters/wecom/wecom.directory-source';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { QueueName } from '../../shared/contracts/app-manifest';
import type { ContactChange, ContactEventMessage } from '../../shared/contracts/contact-event';
import { Signer } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync } from '../../shared/crypto/rsa-keys';
import type { DirectorySource } from '../../shared/ports/directory-source';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import type { RunRecord } from '../../shared/ports/run-store';
import type { StateStores } from '../../shared/ports/state-stores';
import type { CallbackWorkerOptions } from '../../shared/use-cases/callbacks/apply-contact-events';
import { deliverBatch, type SqsWorker } from '../support/sqs-events';
import { startSyncRun, type SyncDeps } from '../../shared/use-cases/sync';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import type { RunningNeteaseSimulator } from '../../local/simulators/netease';
import { startWecomSimulator, type RunningWecomSimulator } from '../../local/simulators/wecom';
import { WRITE_PATHS } from './sync-harness';
import { oneTenantSyncDeps } from '../support/sync-deps';

// ---------------------------------------------------------------------------------------
// Two queues, delivered to the real handlers
// ---------------------------------------------------------------------------------------

interface Queued {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
}

type Worker = SqsWorker;

export interface PumpOptions {
  /** Share of records delivered twice at once (SQS at-least-once). Default 0. */
  duplicateRate?: number;
  /** Only these queues are delivered (the others keep their messages). Default both. */
  only?: QueueName[];
  /** Give up after this long. Default 60 s. */
  timeoutMs?: number;
}

export class TwoQueues implements JobQueue {
  readonly ready: Record<'callback' | 'sync', Queued[]> = { callback: [], sync: [] };
  readonly dlq: Record<'callback' | 'sync', Queued[]> = { callback: [], sync: [] };
  /** Every message ever sent, per queue. */
  readonly sentCount: Record<'callback' | 'sync', number> = { callback: 0, sync: 0 };
  deliveries = 0;
  private nextId = 1;
  private seed = 7;

  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    if (queue !== 'callback' && queue !== 'sync') throw new Error(`unexpected queue ${queue}`);
    for (const m of messages) {
      this.ready[queue].push({ messageId: `${queue}-${this.nextId++}`, body: JSON.stringify(m.body), receiveCount: 0, visibleAt: 0 });
      this.sentCount[queue]++;
    }
  }

  /** Deterministic randomness for duplicates. */
  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    return this.seed / 2 ** 31;
  }

  /** Deliver until both queues are empty and nothing is in flight (batch 10, 5 invocations per queue, as in the manifest). */
  async pump(workers: Record<'callback' | 'sync', Worker>, opts: PumpOptions = {}): Promise<void> {
    const queues = (opts.only ?? ['callback', 'sync']) as Array<'callback' | 'sync'>;
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    const inFlight: Record<'callback' | 'sync', Set<Promise<void>>> = { callback: new Set(), sync: new Set() };
    const invoke = async (q: 'callback' | 'sync', batch: Queued[], duplicate: boolean): Promise<void> => {
      this.deliveries += batch.length;
      const failed = await deliverBatch(workers[q], batch, q);
      if (duplicate) return;
      for (const m of batch) {
        if (!failed.has(m.messageId)) continue;
        if (m.receiveCount >= 5) this.dlq[q].push(m);
        else this.ready[q].push({ ...m, visibleAt: Date.now() + 20 });
      }
    };
    const busy = () => queues.some((q) => this.ready[q].length > 0 || inFlight[q].size > 0);
    while (busy()) {
      if (Date.now() > deadline) throw new Error(`pump timed out: ${queues.map((q) => `${q} ${this.ready[q].length} ready / ${inFlight[q].size} in flight`).join(', ')}`);
      let started = false;
      for (const q of queues) {
        if (inFlight[q].size >= 5) continue;
        const now = Date.now();
        const batch: Queued[] = [];
        for (let i = 0; i < this.ready[q].length && batch.length < 10; ) {
          if (this.ready[q][i]!.visibleAt <= now) batch.push(...this.ready[q].splice(i, 1));
          else i++;
        }
        if (batch.length === 0) continue;
        started = true;
        for (const m of batch) m.receiveCount++;
        const dupes = batch.filter(() => this.random() < (opts.duplicateRate ?? 0)).map((m) => ({ ...m }));
        for (const [b, dup] of dupes.length > 0 ? ([[batch, false], [dupes, true]] as const) : ([[batch, false]] as const)) {
          const p = invoke(q, b, dup).finally(() => inFlight[q].delete(p));
          inFlight[q].add(p);
        }
      }
      if (!started) {
        const all = [...inFlight.callback, ...inFlight.sync];
        const tick = new Promise((r) => setTimeout(r, 2));
        await (all.length > 0 ? Promise.race([...all, tick]) : tick);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------

/** No client-side pacing: the vendors' per-second limits are the clients' own tests' concern. */
/** Limiters that never wait (the simulators run with no rate limit; counts do not depend on pacing). */
export class UnpacedLimiters extends RateLimiterRegistry {
  override get(_key: string, _opts: RateLimiterOptions): RateLimiter {
    return { acquire: async () => undefined };
  }
}

const KEY = generateKeyPairSync(1024);
const NO_API_LIMIT = { limit: 1_000_000, windowMs: 1000 };
let worlds = 0;

export interface CallbackWorld {
  vendor: 'dingtalk' | 'wecom';
  tenant: TenantConfig;
  netease: RunningNeteaseSimulator;
  dingtalk?: RunningDingtalkSimulator;
  wecom?: RunningWecomSimulator;
  stores: StateStores;
  dirty: MemoryDirtyStore;
  queues: TwoQueues;
  sync: SyncDeps;
  source: DirectorySource;
  logger: ReturnType<typeof createMemoryLogger>;
  /** The initial full sync (what `sync run --full` does), applied. */
  firstSync(): Promise<RunRecord>;
  /** Put contact event messages on the callback queue, as the callback routes do. */
  enqueue(...events: Array<Omit<ContactEventMessage, 'v' | 'tenantId' | 'vendor' | 'receivedAt' | 'eventId'> & { eventId?: string }>): Promise<ContactEventMessage[]>;
  pump(opts?: PumpOptions): Promise<void>;
  /** NetEase write calls (create/update/suspend...) since `since`, as `path account-or-unit`. */
  writes(since: number): string[];
  /** A time after every call made so far. */
  mark(): Promise<number>;
  /** The vendor simulator's control API. */
  control(method: 'POST' | 'DELETE', path: string, body?: Record<string, unknown>): Promise<unknown>;
  runs(trigger?: RunRecord['trigger']): Promise<RunRecord[]>;
  /** The NetEase account a source person is mapped to. */
  accountOf(sourceId: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function createCallbackWorld(opts: {
  vendor: 'dingtalk' | 'wecom';
  netease: RunningNeteaseSimulator;
  people?: number;
  /** Departments added to the simulator's seeded tree (benchmarks). */
  extraDepartments?: number;
  /** Counts the vendor clients' calls (bench/suites/budget.ts). */
  meter?: CallMeter;
  sync?: Record<string, unknown>;
  options?: Partial<CallbackWorkerOptions>;
}): Promise<CallbackWorld> {
  const n = ++worlds;
  const id = `cb${n}-${opts.vendor}`;
  const domain = `${id}.example.com`;
  const product = `${id.replace(/-/g, '_')}_p`;
  opts.netease.registerKey(domain, product, KEY.publicKeyHex);
  const draft = tenantSchema.parse({
    id,
    netease: { domain, product, region: 'hz' },
    ...(opts.vendor === 'dingtalk' ? { dingtalk: { corpId: `dingcorp${n}`, appKey: `dingappkey${n}`, agentId: '1' } } : { wecom: { corpId: `wwcorp${n}`, agentId: '1000002' } }),
    sync: { source: opts.vendor },
  });
  const dingtalk = opts.vendor === 'dingtalk' ? await startDingtalkSimulator({ port: 0, tenants: [draft], credentials: { [id]: { appSecret: 'dt-secret' } }, rateLimit: NO_API_LIMIT, people: opts.people ?? 12, extraDepartments: opts.extraDepartments ?? 0 }) : undefined;
  const wecom = opts.vendor === 'wecom' ? await startWecomSimulator({ port: 0, tenants: [draft], credentials: { [id]: { appSecret: 'wc-app', contactSecret: 'wc-contact' } }, rateLimit: NO_API_LIMIT, people: opts.people ?? 12, extraDepartments: opts.extraDepartments ?? 0 }) : undefined;
  const tenant = tenantSchema.parse({
    id,
    netease: { domain, product, region: 'hz', apiBaseUrl: `${opts.netease.url}/qiyeservice/api`, requestsPerSecond: 1000, maxRetries: 2 },
    ...(dingtalk ? { dingtalk: { corpId: `dingcorp${n}`, appKey: `dingappkey${n}`, agentId: '1', apiBaseUrl: dingtalk.url, newApiBaseUrl: `${dingtalk.url}/api`, loginBaseUrl: `${dingtalk.url}/login` } } : {}),
    ...(wecom ? { wecom: { corpId: `wwcorp${n}`, agentId: '1000002', apiBaseUrl: `${wecom.url}/cgi-bin`, oauthBaseUrl: `${wecom.url}/oauth`, loginBaseUrl: `${wecom.url}/login` } } : {}),
    sync: { source: opts.vendor, accountNameRule: opts.vendor === 'wecom' ? 'loginName' : 'emailLocalPart', deleteThreshold: { count: 50, percent: 100 }, ...opts.sync },
  });
  const logger = createMemoryLogger('warn');
  const limiters = new UnpacedLimiters();
  const source: DirectorySource = dingtalk
    ? new DingtalkDirectorySource(new DingtalkClient({ tenantId: id, config: tenant.dingtalk!, appSecret: async () => 'dt-secret', logger, limiters, retryBaseDelayMs: 1, retryMaxDelayMs: 5, maxRetries: 2, ...(opts.meter ? { meter: opts.meter } : {}) }))
    : new WecomDirectorySource(new WecomClient({ tenantId: id, config: tenant.wecom!, secrets: async () => ({ appSecret: 'wc-app', contactSecret: 'wc-contact' }), logger, limiters, retryBaseDelayMs: 1, retryMaxDelayMs: 5, maxRetries: 2, ...(opts.meter ? { meter: opts.meter } : {}) }));
  const stores = createMemoryStateStores();
  const dirty = new MemoryDirtyStore();
  const queues = new TwoQueues();
  const api = new NeteaseClient(tenant.netease, new Signer(KEY.privateKeyHex), { retryBaseDelayMs: 2, retryMaxDelayMs: 20 });
  const sync = oneTenantSyncDeps({ stores, jobs: queues, clock: { now: () => Date.now() }, logger, options: { opLeaseSeconds: 30 } }, tenant, source, api);
  const workers = { callback: makeCallbackWorker({ sync, dirty, ...(opts.options ? { options: opts.options } : {}) }), sync: makeSyncWorker({ sync }) };
  const sim = dingtalk ?? wecom!;
  let eventSeq = 0;
  const world: CallbackWorld = {
    vendor: opts.vendor,
    tenant,
    netease: opts.netease,
    ...(dingtalk ? { dingtalk } : {}),
    ...(wecom ? { wecom } : {}),
    stores,
    dirty,
    queues,
    sync,
    source,
    logger,
    async firstSync() {
      const { run } = await startSyncRun(sync, { tenantId: id, trigger: 'manual', mode: 'full' });
      await queues.pump(workers, { only: ['sync'] });
      return (await stores.runs.get(id, run.runId))!;
    },
    async enqueue(...events) {
      const messages = events.map((e): ContactEventMessage => ({ v: 1, tenantId: id, vendor: opts.vendor, receivedAt: Date.now(), eventId: e.eventId ?? `evt-${n}-${++eventSeq}`, eventType: e.eventType, changes: e.changes }));
      await queues.send('callback', messages.map((body) => ({ body })));
      return messages;
    },
    pump: (p) => queues.pump(workers, p),
    writes(since) {
      return opts.netease
        .calls({ domain })
        .filter((c) => c.at >= since && WRITE_PATHS.test(c.path))
        .map((c) => `${c.path.split('/').pop()} ${c.params.account_name ?? c.params.unit_name ?? c.params.unit_id ?? ''}`.trim());
    },
    async mark() {
      const t = Date.now();
      while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
      return Date.now();
    },
    async control(method, path, body) {
      const res = await fetch(`${sim.url}/__sim/${path}${method === 'DELETE' ? `?tenant=${id}` : ''}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify({ tenant: id, ...body }) } : {}),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`simulator control ${method} ${path}: HTTP ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async runs(trigger) {
      const all = (await stores.runs.list(id, { limit: 1000 })).items;
      return trigger ? all.filter((r) => r.trigger === trigger) : all;
    },
    async accountOf(sourceId) {
      return (await stores.mappings.get({ tenantId: id, source: opts.vendor, objectType: 'person', sourceId }))?.neteaseId;
    },
    async stop() {
      await dingtalk?.stop();
      await wecom?.stop();
    },
  };
  return world;
}

/** Shorthands for contact changes. */
export const personChange = (id: string, action: 'upsert' | 'delete' = 'upsert', newId?: string): ContactChange => ({ kind: 'person', id, action, ...(newId ? { newId } : {}) });
export const departmentChange = (id: string, action: 'upsert' | 'delete' = 'upsert'): ContactChange => ({ kind: 'department', id, action });
