/**
 * The one place where the planner's mapping types (UnitMapping, AccountMapping) meet the
 * MappingStore's records (MappingRecord), and where the applier's MappingUpdates are written.
 *
 * Layout of a MappingRecord:
 * - department: neteaseId = unit_id; contentHash = hash(name, parentUnitId) (what the
 *   planner compares: the applied unit name and parent); status active | deleted;
 *   meta = { name, sourceName, parentUnitId?, parentSourceId? }.
 * - person: neteaseId = account_name; contentHash = AccountMapping.profileHash (the hash of
 *   nickname, mobile, job number last sent: no personal values are stored);
 *   status active | suspended | deleted; suspendedAt; meta = { unitId, deletedAt?, policyHash?,
 *   policyRule?, rank?, forwardHash?, aliases? } (unit meta also holds rank?; `aliases`: the
 *   aliases the bridge added, comma-separated local parts).
 * - a department's mailing list rides on its record: meta.mlName, mlDisplay, mlHash
 *   (address, display name, members hash: plan/maillists.ts).
 * `adopted` marks objects linked to pre-existing NetEase objects (first run or CSV import);
 * the store's `linked` status reads as active (the planner has no separate state for it).
 */
import { hashFields } from '../../domain/content-hash';
import type { DirectoryObjectType } from '../../domain/directory';
import { carriedAliases, carriedMailList, type MappingUpdate } from '../../domain/mapping-updates';
import type { AccountMapping, AccountStatus, MappingState, UnitMapping } from '../../domain/sync-plan';
import type { MappingRecord, MappingSnapshot, MappingStore, MappingWrite } from '../../ports/mapping-store';
import { ConflictError, type SourceKind } from '../../ports/store-common';

export interface MappingContext {
  tenantId: string;
  source: SourceKind;
  /** Written as lastRunId. */
  runId: string;
}

export function unitToWrite(ctx: MappingContext, m: UnitMapping, adopted: boolean | undefined): MappingWrite {
  const meta: Record<string, string> = { name: m.name, sourceName: m.sourceName };
  if (m.parentUnitId !== undefined) meta.parentUnitId = m.parentUnitId;
  if (m.parentSourceId !== undefined) meta.parentSourceId = m.parentSourceId;
  if (m.rank !== undefined) meta.rank = String(m.rank);
  if (m.mailList) Object.assign(meta, { mlName: m.mailList.name, mlDisplay: m.mailList.displayName, mlHash: m.mailList.membersHash });
  const write: MappingWrite = {
    tenantId: ctx.tenantId,
    source: ctx.source,
    objectType: 'department',
    sourceId: m.sourceId,
    neteaseId: m.unitId,
    contentHash: hashFields(['unit/v1', m.name, m.parentUnitId]),
    status: m.status === 'deleted' ? 'deleted' : 'active',
    lastRunId: ctx.runId,
    meta,
  };
  if (adopted) write.adopted = true;
  return write;
}

export function accountToWrite(ctx: MappingContext, m: AccountMapping, adopted: boolean | undefined): MappingWrite {
  const meta: Record<string, string> = { unitId: m.unitId };
  if (m.deletedAt !== undefined) meta.deletedAt = String(m.deletedAt);
  writePolicyMeta(m, meta);
  if (m.aliases && m.aliases.length > 0) meta.aliases = m.aliases.join(',');
  const write: MappingWrite = {
    tenantId: ctx.tenantId,
    source: ctx.source,
    objectType: 'person',
    sourceId: m.sourceId,
    neteaseId: m.accountName,
    contentHash: m.profileHash,
    status: m.status,
    lastRunId: ctx.runId,
    meta,
  };
  if (m.suspendedAt !== undefined) write.suspendedAt = m.suspendedAt;
  if (adopted) write.adopted = true;
  return write;
}

export function recordToUnit(r: MappingRecord): UnitMapping {
  const meta = r.meta ?? {};
  const m: UnitMapping = {
    sourceId: r.sourceId,
    unitId: r.neteaseId,
    name: meta.name ?? r.neteaseId,
    sourceName: meta.sourceName ?? meta.name ?? r.neteaseId,
    status: r.status === 'deleted' ? 'deleted' : 'active',
  };
  if (meta.parentUnitId !== undefined) m.parentUnitId = meta.parentUnitId;
  if (meta.parentSourceId !== undefined) m.parentSourceId = meta.parentSourceId;
  const rank = meta.rank === undefined ? NaN : Number(meta.rank);
  if (Number.isFinite(rank)) m.rank = rank;
  if (meta.mlName !== undefined) m.mailList = { name: meta.mlName, displayName: meta.mlDisplay ?? '', membersHash: meta.mlHash ?? '' };
  return m;
}

export function recordToAccount(r: MappingRecord): AccountMapping {
  const meta = r.meta ?? {};
  const status: AccountStatus = r.status === 'suspended' ? 'suspended' : r.status === 'deleted' ? 'deleted' : 'active';
  const m: AccountMapping = {
    sourceId: r.sourceId,
    accountName: r.neteaseId,
    profileHash: r.contentHash,
    unitId: meta.unitId ?? 'default',
    status,
  };
  if (r.suspendedAt !== undefined) m.suspendedAt = r.suspendedAt;
  const deletedAt = meta.deletedAt === undefined ? NaN : Number(meta.deletedAt);
  if (Number.isFinite(deletedAt)) m.deletedAt = deletedAt;
  readPolicyMeta(meta, m);
  if (meta.aliases) m.aliases = meta.aliases.split(',').filter((a) => a !== '');
  return m;
}

/** Mailbox policy fields of a person's meta (plan/policies.ts, rank.ts, forwarding.ts): hashes, a rule label and a rank. */
function writePolicyMeta(m: AccountMapping, meta: Record<string, string>): void {
  if (m.policyHash !== undefined) meta.policyHash = m.policyHash;
  if (m.policyRule !== undefined) meta.policyRule = m.policyRule;
  if (m.rank !== undefined) meta.rank = String(m.rank);
  if (m.forwardHash !== undefined) meta.forwardHash = m.forwardHash;
}

function readPolicyMeta(meta: Record<string, string>, m: AccountMapping): void {
  if (meta.policyHash !== undefined) m.policyHash = meta.policyHash;
  if (meta.policyRule !== undefined) m.policyRule = meta.policyRule;
  const rank = meta.rank === undefined ? NaN : Number(meta.rank);
  if (Number.isFinite(rank)) m.rank = rank;
  if (meta.forwardHash !== undefined) m.forwardHash = meta.forwardHash;
}

/** The planner's input from everything the store holds for the tenant and source. */
export function toMappingState(snapshot: MappingSnapshot): MappingState {
  return {
    units: [...snapshot.department.values()].map(recordToUnit),
    accounts: [...snapshot.person.values()].map(recordToAccount),
  };
}

export async function loadMappingState(store: MappingStore, tenantId: string, source: SourceKind): Promise<MappingState> {
  return toMappingState(await store.loadAll(tenantId, source, { pageSize: 1000 }));
}

const MAX_CONFLICT_RETRIES = 8;

/**
 * Write the mapping updates of one applied operation, one item each, with optimistic
 * concurrency: read the record, patch it, put it conditioned on its version, and on a lost
 * race (two operations of one person in the same phase, e.g. update and move) read again.
 * `adopted` is set by links and kept by later updates.
 */
export async function writeMappingUpdates(store: MappingStore, ctx: MappingContext, updates: readonly MappingUpdate[], options: { adopted?: boolean } = {}): Promise<void> {
  for (const u of updates) {
    const objectType: DirectoryObjectType = u.type === 'unit' ? 'department' : 'person';
    const key = { tenantId: ctx.tenantId, source: ctx.source, objectType, sourceId: u.sourceId };
    for (let attempt = 0; ; attempt++) {
      const current = await store.get(key);
      const adopted = options.adopted ?? current?.adopted;
      let write: MappingWrite;
      if ('put' in u) {
        // A put keeps the department's list / the person's bridge-added aliases (mapping-updates.ts).
        write =
          u.type === 'unit'
            ? unitToWrite(ctx, { ...carriedMailList(current && recordToUnit(current)), ...(u.put as UnitMapping) }, adopted)
            : accountToWrite(ctx, { ...carriedAliases(current && recordToAccount(current)), ...(u.put as AccountMapping) }, adopted);
      } else {
        // An update of an object that was never recorded is an applier bug (dependsOn guarantees the order).
        if (!current) throw new Error(`no ${objectType} mapping for ${u.sourceId} to update`);
        if (u.type === 'unit') {
          const row = recordToUnit(current);
          Object.assign(row, u.set);
          for (const k of u.unset ?? []) delete row[k];
          write = unitToWrite(ctx, row, adopted);
        } else {
          const row = recordToAccount(current);
          Object.assign(row, u.set);
          for (const k of u.unset ?? []) delete row[k];
          write = accountToWrite(ctx, row, adopted);
        }
      }
      try {
        await store.put(write, { expected: { version: current?.version ?? 0 } });
        break;
      } catch (err) {
        if (err instanceof ConflictError && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }
}
