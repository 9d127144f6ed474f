/**
 * The Landray EKP directory source: the DirectorySource port over the org export feed
 * (reference sync-and-ekp.md Part A).
 *
 * Reads, per EKP type and in this order: org + dept (the department tree), post (only to
 * learn which department each post is in: a person's second department is the
 * department of a post they hold), person. Every type is drained on its own with the
 * tie-safe loop in ekp.feed.ts.
 *
 * Deletions (§A5: EKP deletes logically; physical deletes never appear in the feed):
 * - fullSnapshot cross-checks its ids against getElementsBaseInfo, read first: an id EKP
 *   lists that the drain did not return (the v16.0.5+ cut losing rows that share a
 *   millisecond, §A6 risk (a)) makes the snapshot incomplete (`complete: false`, no
 *   watermarks), so the planner deletes nobody on it and the next run reads again
 *   (sync-and-ekp.md "Ideas" #2: deletes only from a verified full snapshot).
 * - changesSince reports physical deletions when `knownIds` is given (the mapping table's
 *   ids): known ids getElementsBaseInfo no longer lists.
 *
 * getPerson / getDepartment are deliberately not implemented: the feed has no lookup by
 * id (its only filters are type, begin/end alterTime and isBusiness, §A2), so "one
 * person" would cost a read of the whole person feed. EKP sends no callbacks either, so
 * nothing needs a single-object re-read; callers fall back to changesSince.
 */
import type { Department, DirectoryChanges, DirectoryObjectType, DirectorySnapshot, Person } from '../../domain/directory';
import type { DirectorySource } from '../../ports/directory-source';
import type { Logger } from '../../logging/logger';
import { systemClock, type Clock } from '../../ports/clock';
import type { EkpClient } from './ekp.client';
import { decodeWatermark, drainFeed, encodeWatermark, type CursorSet, type DrainResult, type FeedCursor } from './ekp.feed';
import { mapDepartment, mapPerson, postDepartments } from './ekp.mapper';
import type { EkpOrgType } from './ekp.schema';

/** EKP types behind each neutral watermark key. */
const DEPARTMENT_TYPES = ['org', 'dept'] as const satisfies readonly EkpOrgType[];
const PERSON_TYPES = ['person'] as const satisfies readonly EkpOrgType[];

/** Ids the sync already knows (its mapping table), to compare with what still exists in EKP. */
export interface KnownIds {
  departmentIds: Iterable<string>;
  personIds: Iterable<string>;
}

export interface EkpDirectorySourceOptions {
  client: Pick<EkpClient, 'getUpdatedElements' | 'getElementsBaseInfo' | 'config'>;
  logger?: Logger;
  clock?: Clock;
  /** Rows per feed call; default the tenant's ekp.pageSize. */
  pageSize?: number;
  /** Largest `count` asked when one millisecond holds more rows than a page; default 100000. */
  maxPageSize?: number;
  /**
   * When given, changesSince also reports physical deletions: known ids that
   * getElementsBaseInfo no longer lists (§A5). Without it, deleted*Ids stay empty and
   * physical deletions are found by the periodic full reconcile.
   */
  knownIds?: () => Promise<KnownIds>;
}

/** A full snapshot plus the watermarks to continue from with changesSince. */
export interface EkpDirectorySnapshot extends DirectorySnapshot {
  watermarks: Partial<Record<DirectoryObjectType, string>>;
}

export class EkpDirectorySource implements DirectorySource {
  readonly kind = 'ekp' as const;
  private readonly client: EkpDirectorySourceOptions['client'];
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;
  private readonly pageSize: number;
  private readonly maxPageSize: number | undefined;
  private readonly knownIds: EkpDirectorySourceOptions['knownIds'];

  constructor(opts: EkpDirectorySourceOptions) {
    this.client = opts.client;
    this.logger = opts.logger?.child({ vendor: 'ekp' });
    this.clock = opts.clock ?? systemClock;
    this.pageSize = opts.pageSize ?? opts.client.config.pageSize;
    this.maxPageSize = opts.maxPageSize;
    this.knownIds = opts.knownIds;
  }

  /**
   * Reads every page of org, dept, post and person. Any failed call throws (after the
   * client's retries), so a partial pull never reaches the planner as a complete one.
   * `complete: true` also needs every department and person id that getElementsBaseInfo
   * lists to be in the drain (module doc); otherwise the snapshot is incomplete, carries
   * no watermarks, and a warning says how many ids were missing.
   */
  async fullSnapshot(): Promise<EkpDirectorySnapshot> {
    const takenAt = this.clock.now();
    const started = Date.now();
    // Read before the drain: an element created meanwhile is then only in the drain (fine),
    // never only in the id list (which would look like a row the feed lost).
    const existing = await this.existingIds();
    const orgs = await this.drain('org', undefined);
    const depts = await this.drain('dept', undefined);
    const posts = await this.drain('post', undefined);
    const persons = await this.drain('person', undefined);
    const postDept = postDepartments(posts.records);
    const departments = [...orgs.records, ...depts.records].map(mapDepartment);
    const people = persons.records.map((p) => mapPerson(p, postDept));
    const missing = {
      departmentIds: notIn(existing.departmentIds, departments),
      personIds: notIn(existing.personIds, people),
    };
    const complete = missing.departmentIds.length === 0 && missing.personIds.length === 0;
    this.logger?.info('ekp full snapshot read', {
      departments: departments.length,
      people: people.length,
      posts: posts.records.length,
      calls: orgs.calls + depts.calls + posts.calls + persons.calls + 1,
      complete,
      ms: Date.now() - started,
    });
    if (!complete) {
      this.logger?.warn('ekp full snapshot is incomplete: getElementsBaseInfo lists elements the feed did not return; no deletions on this snapshot, watermarks not advanced', {
        missingDepartments: missing.departmentIds.length,
        missingPeople: missing.personIds.length,
        // Ids only (no names): enough to look them up in EKP.
        sampleDepartmentIds: missing.departmentIds.slice(0, 10),
        samplePersonIds: missing.personIds.slice(0, 10),
      });
      // The drain's watermarks would claim rows it never returned (§A6): keep the stored ones.
      return { departments, people, complete: false, takenAt, watermarks: {} };
    }
    return {
      departments,
      people,
      complete: true,
      takenAt,
      watermarks: {
        department: encodeWatermark(cursors({ org: orgs.cursor, dept: depts.cursor })),
        person: encodeWatermark(cursors({ person: persons.cursor })),
      },
    };
  }

  /**
   * Everything that changed at or after the watermarks (inclusive re-read, de-duplicated,
   * see ekp.feed.ts), as neutral records, with the watermarks to store once they are
   * applied. Leavers and disabled departments arrive as ordinary changes with status
   * left/disabled, because EKP deletes logically (§A5). Physical deletions are reported
   * only when `knownIds` was given.
   *
   * Known limit: a change made only on a post (moving a post to another department)
   * changes the departments of its holders without touching their person rows; those
   * people are corrected at their next own change or by the periodic full reconcile.
   */
  async changesSince(watermarks: Partial<Record<DirectoryObjectType, string>>): Promise<DirectoryChanges> {
    const deptFrom = decodeWatermark(watermarks.department, DEPARTMENT_TYPES, 'department');
    const personFrom = decodeWatermark(watermarks.person, PERSON_TYPES, 'person');
    const orgs = await this.drain('org', deptFrom.org);
    const depts = await this.drain('dept', deptFrom.dept);
    const persons = await this.drain('person', personFrom.person);

    // Posts are read only when a changed person holds one: the feed cannot look posts up
    // by id, so this is a full read of the (small) post list.
    let postDept = new Map<string, string>();
    if (persons.records.some((p) => p.posts.length > 0)) postDept = postDepartments((await this.drain('post', undefined)).records);

    const departments: Department[] = [...orgs.records, ...depts.records].map(mapDepartment);
    const people: Person[] = persons.records.map((p) => mapPerson(p, postDept));
    const deleted = this.knownIds ? await this.findDeleted(await this.knownIds()) : { departmentIds: [], personIds: [] };

    this.logger?.info('ekp changes read', { departments: departments.length, people: people.length, deletedDepartments: deleted.departmentIds.length, deletedPeople: deleted.personIds.length });
    return {
      departments,
      people,
      deletedDepartmentIds: deleted.departmentIds,
      deletedPersonIds: deleted.personIds,
      watermarks: {
        department: encodeWatermark(cursors({ org: orgs.cursor ?? deptFrom.org, dept: depts.cursor ?? deptFrom.dept })),
        person: encodeWatermark(cursors({ person: persons.cursor ?? personFrom.person })),
      },
    };
  }

  /**
   * Ids of every department (org + dept) and person that exists in EKP now, disabled ones
   * included, from getElementsBaseInfo (§A5: "deletion detection by heterogeneous systems").
   */
  async existingIds(): Promise<{ departmentIds: Set<string>; personIds: Set<string> }> {
    const rows = await this.client.getElementsBaseInfo(['org', 'dept', 'person']);
    const departmentIds = new Set<string>();
    const personIds = new Set<string>();
    for (const r of rows) {
      if (r.type === 'person') personIds.add(r.id);
      else if (r.type === 'org' || r.type === 'dept') departmentIds.add(r.id);
    }
    return { departmentIds, personIds };
  }

  /**
   * Known ids that EKP no longer has at all (physically deleted). Note that the non-V2
   * getElementsBaseInfo lists only business elements (isBusiness=true), so a person made
   * non-business also shows up here, which for mail is the same outcome.
   */
  async findDeleted(known: KnownIds): Promise<{ departmentIds: string[]; personIds: string[] }> {
    const existing = await this.existingIds();
    return {
      departmentIds: [...known.departmentIds].filter((id) => !existing.departmentIds.has(id)),
      personIds: [...known.personIds].filter((id) => !existing.personIds.has(id)),
    };
  }

  private drain(type: EkpOrgType, from: FeedCursor | undefined): Promise<DrainResult> {
    return drainFeed(this.client, type, from, { pageSize: this.pageSize, maxPageSize: this.maxPageSize, logger: this.logger?.child({ ekpType: type }) });
  }
}

/** Ids of `ids` that none of `have` carries, in id order. */
function notIn(ids: ReadonlySet<string>, have: ReadonlyArray<{ id: string }>): string[] {
  const got = new Set(have.map((x) => x.id));
  return [...ids].filter((id) => !got.has(id)).sort();
}

function cursors(c: CursorSet): CursorSet {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

