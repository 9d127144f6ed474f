/**
 * In-memory world for the callback worker's use-case tests: memory state and dirty stores on
 * one clock, an editable DingTalk-kind directory source with single-object reads, queues
 * that record what is sent, and mappings seeded with the sync engine's own codec (as a first
 * full sync would have left them). No network: NetEase must not be called while planning a
 * callback run, and `netease` throws to prove it.
 */
import { MemoryDirtyStore } from '../../shared/adapters/memory/memory-dirty.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { QueueName } from '../../shared/contracts/app-manifest';
import type { ContactChange, ContactEventMessage } from '../../shared/contracts/contact-event';
import { desiredProfile, profileHash } from '../../shared/domain/account-profile';
import type { Department, DirectorySnapshot, Person } from '../../shared/domain/directory';
import type { DirectorySource } from '../../shared/ports/directory-source';
import type { SyncPlan } from '../../shared/domain/sync-plan';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import type { StateStores } from '../../shared/ports/state-stores';
import { callbackQueueMessageSchema } from '../../shared/contracts/callback-queue';
import { processCallbackRecords, type CallbackWorkerOptions } from '../../shared/use-cases/callbacks/apply-contact-events';
import { PLAN_DOC, type SyncDeps } from '../../shared/use-cases/sync';
import { accountToWrite, unitToWrite } from '../../shared/use-cases/sync/mapping-codec';

export const T0 = Date.UTC(2024, 4, 6, 2, 0, 0);

/** A DingTalk-kind source the test edits; reads can be made to fail or to run a hook. */
export class EditableSource implements DirectorySource {
  readonly kind = 'dingtalk' as const;
  readonly people = new Map<string, Person>();
  readonly departments = new Map<string, Department>();
  reads: string[] = [];
  failWith?: Error;
  onRead?: (kind: 'person' | 'department', id: string) => Promise<void> | void;

  async fullSnapshot(): Promise<DirectorySnapshot> {
    return { departments: [...this.departments.values()], people: [...this.people.values()], complete: true, takenAt: Date.now() };
  }
  getPerson(id: string): Promise<Person | undefined> {
    return this.read('person', id, this.people);
  }
  getDepartment(id: string): Promise<Department | undefined> {
    return this.read('department', id, this.departments);
  }
  /** One re-read: recorded, failed when `failWith` is set, and a copy (callers may not edit the source). */
  private async read<T>(kind: 'person' | 'department', id: string, from: Map<string, T>): Promise<T | undefined> {
    this.reads.push(`${kind}:${id}`);
    if (this.failWith) throw this.failWith;
    await this.onRead?.(kind, id);
    const found = from.get(id);
    return found ? structuredClone(found) : undefined;
  }
  putPerson(p: Partial<Person> & { id: string }): void {
    this.people.set(p.id, { displayName: p.id, departmentIds: ['1'], status: 'active', email: `${p.id}@acme.example.com`, ...p });
  }
}

export class RecordingQueue implements JobQueue {
  readonly sent: Array<{ queue: QueueName; body: unknown }> = [];
  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) this.sent.push({ queue, body: structuredClone(m.body) });
  }
  on(queue: QueueName): unknown[] {
    return this.sent.filter((s) => s.queue === queue).map((s) => s.body);
  }
  take(queue: QueueName): unknown[] {
    const out = this.on(queue);
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i]!.queue === queue) this.sent.splice(i, 1);
    return out;
  }
}

export function dingtalkTenant(id = 'acme', sync: Record<string, unknown> = {}): TenantConfig {
  return tenantSchema.parse({
    id,
    netease: { domain: `${id}.example.com`, product: `${id}_product`, region: 'hz' },
    dingtalk: { corpId: 'dingacme', appKey: 'dingacmekey', agentId: '1' },
    sync: { source: 'dingtalk', deleteThreshold: { count: 50, percent: 100 }, ...sync },
  });
}

export interface World {
  tenant: TenantConfig;
  clock: ReturnType<typeof fixedClock>;
  stores: StateStores;
  dirty: MemoryDirtyStore;
  source: EditableSource;
  queue: RecordingQueue;
  logger: ReturnType<typeof createMemoryLogger>;
  sync: SyncDeps;
  tenants: TenantConfig[];
  options: Partial<CallbackWorkerOptions>;
  /** Process records as one invocation. */
  process(...bodies: unknown[]): ReturnType<typeof processCallbackRecords>;
  /** The plan a run stored. */
  plan(runId: string): Promise<SyncPlan>;
  /** Seed mappings as a first full sync of the current source would have left them. */
  seedMappings(): Promise<void>;
}

let messageSeq = 0;

export function createWorld(opts: { tenant?: TenantConfig; options?: Partial<CallbackWorkerOptions> } = {}): World {
  const tenant = opts.tenant ?? dingtalkTenant();
  const clock = fixedClock(T0);
  const stores = createMemoryStateStores({ clock });
  const dirty = new MemoryDirtyStore({ clock });
  const source = new EditableSource();
  source.departments.set('1', { id: '1', name: 'Acme', order: 0, status: 'active' });
  source.departments.set('2', { id: '2', name: 'R&D', parentId: '1', order: 1, status: 'active' });
  const queue = new RecordingQueue();
  const logger = createMemoryLogger('debug');
  const tenants = [tenant];
  const sync: SyncDeps = {
    stores,
    jobs: queue,
    clock,
    logger,
    tenants: () => tenants,
    directory: async () => source,
    netease: async () => {
      throw new Error('a callback run must not call NetEase while planning');
    },
  };
  const options = { ...opts.options };
  const world: World = {
    tenant,
    clock,
    stores,
    dirty,
    source,
    queue,
    logger,
    sync,
    tenants,
    options,
    process: (...bodies) =>
      processCallbackRecords(
        { sync, dirty, options },
        bodies.map((b) => ({ messageId: `m-${++messageSeq}`, body: callbackQueueMessageSchema.parse(b) })),
      ),
    plan: async (runId) => (await stores.plans.getDocument(tenant.id, runId, PLAN_DOC)) as SyncPlan,
    async seedMappings() {
      const ctx = { tenantId: tenant.id, source: 'dingtalk' as const, runId: '20240101T000000000Z-seed' };
      const unitIds = new Map<string, string>();
      for (const d of source.departments.values()) unitIds.set(d.id, `u${d.id}`);
      for (const d of source.departments.values()) {
        const parentUnitId = d.parentId ? unitIds.get(d.parentId) : undefined;
        await stores.mappings.put(
          unitToWrite(ctx, { sourceId: d.id, unitId: unitIds.get(d.id)!, name: d.name, sourceName: d.name, status: 'active', ...(parentUnitId ? { parentUnitId, parentSourceId: d.parentId! } : {}) }, false),
        );
      }
      for (const p of source.people.values()) {
        const name = p.email!.split('@')[0]!;
        const main = p.mainDepartmentId ?? p.departmentIds[0]!;
        await stores.mappings.put(accountToWrite(ctx, { sourceId: p.id, accountName: name, profileHash: profileHash(desiredProfile(p, name)), unitId: unitIds.get(main)!, status: 'active' }, false));
      }
    },
  };
  return world;
}

/** A world whose source holds `people` (in department 2) and whose mappings already hold the whole source. */
export async function seededWorld(people: Array<[id: string, displayName: string]>, opts: Parameters<typeof createWorld>[0] = {}): Promise<World> {
  const w = createWorld(opts);
  for (const [id, displayName] of people) w.source.putPerson({ id, displayName, departmentIds: ['2'] });
  await w.seedMappings();
  return w;
}

/** A contact event message as the callback routes enqueue it. */
export function event(tenantId: string, eventType: string, changes: ContactChange[], extra: Partial<ContactEventMessage> = {}): ContactEventMessage {
  return { v: 1, tenantId, vendor: 'dingtalk', eventId: `evt-${++messageSeq}`, eventType, receivedAt: T0, changes, ...extra };
}

export const person = (id: string, action: 'upsert' | 'delete' = 'upsert', newId?: string): ContactChange => ({ kind: 'person', id, action, ...(newId ? { newId } : {}) });
export const department = (id: string, action: 'upsert' | 'delete' = 'upsert'): ContactChange => ({ kind: 'department', id, action });

/** Operation kinds of a plan, as `kind sourceId`. */
export function ops(plan: SyncPlan): string[] {
  return plan.operations.map((o) => `${o.kind} ${o.sourceId}`).sort();
}
