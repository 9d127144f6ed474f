/**
 * reReadChanges: turn the objects contact events named (dirty entries) into the sync
 * engine's `changes` view, from the source's CURRENT state. Callbacks arrive out of order
 * and carry ids only (dingtalk.md §3, wecom.md §3), so what an event said is never trusted:
 * each object is read again (DirectorySource.getPerson / getDepartment) and the plan is
 * made from what the source holds now.
 *
 * Rules:
 * - Found: an upsert (`people` / `departments`), whatever the event was. A person the source
 *   marks left or disabled (WeCom status 5 / 2) is planned by the sync rules (suspended).
 * - Gone (the source answers "no such user / department"): a deletion ONLY when we map it
 *   (a person with any mapping, a department with an active unit). A gone object we never
 *   mapped is ignored: a late user_add_org for someone who has left since, or a callback
 *   for an id the source never had, creates nothing. Deleted people are suspended by the
 *   planner (deletion waits for the grace period of a full run); a gone department's unit
 *   is deleted once empty.
 * - Departments the read objects need: a person's departments and a department's parent
 *   that we do not map yet (a department created a moment ago whose own event comes later,
 *   or has not been applied yet) are read too, walking up until a mapped unit or the root,
 *   so the planner can place them instead of skipping the person as "scope unknown". At
 *   most `maxAncestorReads` such reads per run; beyond that the planner skips what it cannot
 *   place and the next full sync does it.
 * - WeCom NewUserID (update_user renamed the userid; wecom.md §3: "a system-generated userid
 *   can be changed once"): the same member under a new id. When the source confirms it (the
 *   old id is gone, the new one exists), the old id's mapping moves to the new id, so the
 *   person keeps their mailbox instead of getting a second one while the first is
 *   suspended. The mailbox keeps its name (the planner notes the naming-rule drift). The move
 *   is two conditional writes (the store has no transactions): the new mapping first, then
 *   the old one's removal; an interruption between them leaves both pointing at the same
 *   account, which the retry of this run completes (the entry stays dirty until the run
 *   has started). If the new id is already mapped to another account (a full sync got there
 *   first), nothing moves and both ids follow the ordinary rules. When the source does not
 *   confirm the rename (the old id still exists), both ids are ordinary upserts.
 */
import type { Department, DirectoryChanges, Person } from '../../domain/directory';
import type { DirectorySource } from '../../ports/directory-source';
import { NotConfiguredError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import { mapLimit } from '../../lib/map-limit';
import type { DirtyEntry } from '../../ports/dirty-store';
import type { MappingKey, MappingStore } from '../../ports/mapping-store';
import type { RunStore } from '../../ports/run-store';
import type { SourceKind } from '../../ports/store-common';

export interface ReReadInput {
  tenantId: string;
  source: DirectorySource;
  entries: readonly DirtyEntry[];
  mappings: MappingStore;
  /** For the rename's per-object result. */
  runs: RunStore;
  runId: string;
  clock: Clock;
  logger: Logger;
  /** Source reads in flight at once (the client's rate limiter still paces them). */
  readConcurrency: number;
  /** Most extra department reads (unmapped departments of read objects, and their parents). */
  maxAncestorReads: number;
}

/**
 * Sorts the re-read objects: the ones the source still has are `found`; a gone one is a
 * deletion only when `deletable` (we map it and it is not deleted already). Counts both.
 */
async function sortReRead<T>(read: ReadonlyMap<string, T | undefined>, found: T[], deleted: string[], counts: ReReadStats['people'], deletable: (id: string) => Promise<boolean>): Promise<void> {
  for (const [id, object] of read) {
    if (object) {
      found.push(object);
      counts.found++;
      continue;
    }
    counts.gone++;
    if (await deletable(id)) {
      deleted.push(id);
      counts.deleted++;
    }
  }
}

export interface ReReadStats {
  people: { read: number; found: number; gone: number; deleted: number };
  departments: { read: number; found: number; gone: number; deleted: number };
  /** Extra department reads for placement. */
  ancestors: number;
  /** Mappings moved to a renamed id. */
  renamed: number;
}

export interface ReReadResult {
  changes: DirectoryChanges;
  stats: ReReadStats;
}

/** Re-reads the entries' objects and builds the changes view; see the module doc. */
export async function reReadChanges(input: ReReadInput): Promise<ReReadResult> {
  const { source, tenantId } = input;
  if (!source.getPerson || !source.getDepartment) {
    throw new NotConfiguredError(`the ${source.kind} source cannot read single objects; contact events cannot be applied`, { code: 'CALLBACK.SOURCE_CANNOT_REREAD' });
  }
  const getPerson = source.getPerson.bind(source);
  const getDepartment = source.getDepartment.bind(source);
  const kind = source.kind as SourceKind;
  const log = input.logger;
  const mappingOf = (objectType: 'person' | 'department', sourceId: string) => input.mappings.get(mappingKey(tenantId, kind, objectType, sourceId));

  // ---- read what the events named -------------------------------------------------------
  const personIds = new Set<string>();
  const departmentIds = new Set<string>();
  for (const e of input.entries) {
    if (e.kind === 'person') {
      personIds.add(e.id);
      if (e.newId !== undefined) personIds.add(e.newId);
    } else departmentIds.add(e.id);
  }
  const people = new Map<string, Person | undefined>();
  const departments = new Map<string, Department | undefined>();
  await mapLimit([...personIds], input.readConcurrency, async (id) => void people.set(id, await getPerson(id)));
  await mapLimit([...departmentIds], input.readConcurrency, async (id) => void departments.set(id, await getDepartment(id)));

  // ---- renames (before the gone check: a moved mapping is no longer under the old id) ----
  let renamed = 0;
  for (const e of input.entries) {
    if (e.kind !== 'person' || e.newId === undefined) continue;
    if (people.get(e.id) !== undefined || people.get(e.newId) === undefined) continue; // not confirmed by the source
    if (await moveMapping(input, kind, e.id, e.newId)) renamed++;
  }

  // ---- the view -----------------------------------------------------------------------------
  const changes: DirectoryChanges = { departments: [], people: [], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} };
  const stats: ReReadStats = {
    people: { read: people.size, found: 0, gone: 0, deleted: 0 },
    departments: { read: departments.size, found: 0, gone: 0, deleted: 0 },
    ancestors: 0,
    renamed,
  };
  // Never create anything for a person the source no longer has; suspend only whom we map.
  await sortReRead(people, changes.people, changes.deletedPersonIds, stats.people, async (id) => (await mappingOf('person', id)) !== undefined);
  await sortReRead(departments, changes.departments, changes.deletedDepartmentIds, stats.departments, async (id) => {
    const m = await mappingOf('department', id);
    return m !== undefined && m.status !== 'deleted';
  });

  // ---- departments needed to place what was read ------------------------------------------
  const known = new Set<string>(changes.departments.map((d) => d.id));
  const gone = new Set<string>(changes.deletedDepartmentIds);
  const mappedActive = new Map<string, boolean>();
  const isMappedActive = async (id: string): Promise<boolean> => {
    let v = mappedActive.get(id);
    if (v === undefined) {
      const m = await mappingOf('department', id);
      v = m !== undefined && m.status !== 'deleted';
      mappedActive.set(id, v);
    }
    return v;
  };
  const pending: string[] = [];
  for (const p of changes.people) if (p.status === 'active') pending.push(...p.departmentIds);
  for (const d of changes.departments) if (d.parentId !== undefined) pending.push(d.parentId);
  let budgetNoted = false;
  while (pending.length > 0) {
    const id = pending.pop() as string;
    if (known.has(id) || gone.has(id) || departments.has(id)) continue;
    known.add(id);
    if (await isMappedActive(id)) continue;
    if (stats.ancestors >= input.maxAncestorReads) {
      if (!budgetNoted) log.warn('department reads for placement stopped at the limit; the next full sync places the rest', { limit: input.maxAncestorReads });
      budgetNoted = true;
      continue;
    }
    stats.ancestors++;
    const d = await getDepartment(id);
    departments.set(id, d);
    if (!d) continue;
    changes.departments.push(d);
    if (d.parentId !== undefined) pending.push(d.parentId);
  }
  return { changes, stats };
}

/** Moves the person mapping of `oldId` to `newId` (module doc). @returns true when a mapping moved. */
async function moveMapping(input: ReReadInput, source: SourceKind, oldId: string, newId: string): Promise<boolean> {
  const { mappings, tenantId, runId } = input;
  const oldKey = mappingKey(tenantId, source, 'person', oldId);
  const old = await mappings.get(oldKey);
  if (!old) return false;
  const target = await mappings.get(mappingKey(tenantId, source, 'person', newId));
  if (target) {
    if (target.neteaseId.toLowerCase() !== old.neteaseId.toLowerCase()) {
      input.logger.warn('renamed person not moved: the new id is mapped to another account', { oldId, newId });
      return false;
    }
    // An earlier attempt wrote the new mapping and stopped before removing the old one.
    await mappings.delete(oldKey, { expected: { version: old.version } });
  } else {
    const { version: _version, updatedAt: _updatedAt, ...write } = old;
    await mappings.put({ ...write, sourceId: newId, lastRunId: runId }, { expected: { version: 0 } });
    await mappings.delete(oldKey, { expected: { version: old.version } });
  }
  await input.runs.putResult({
    tenantId,
    runId,
    objectType: 'person',
    sourceId: newId,
    operation: 'mapping.rename',
    outcome: 'applied',
    neteaseId: old.neteaseId,
    message: `the source renamed ${oldId} to ${newId}; the mailbox follows the person`,
    at: input.clock.now(),
  });
  input.logger.info('renamed person: mapping moved', { oldId, newId });
  return true;
}

function mappingKey(tenantId: string, source: SourceKind, objectType: 'person' | 'department', sourceId: string): MappingKey {
  return { tenantId, source, objectType, sourceId };
}
