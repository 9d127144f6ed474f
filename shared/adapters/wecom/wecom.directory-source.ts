/**
 * WeCom as a directory source (reference wecom.md §4).
 *
 * Departments: department/simplelist (ids, parents, order), then department/get for each
 * name; both contact secret first (it sees the whole tree, and the 2022 rule leaves these
 * two open to contact-sync IPs added after 2022-08-15), app secret as the fallback.
 *
 * Members, two strategies:
 * - `list_id` (default when the tenant has the 通讯录同步 secret): the roster comes from
 *   user/list_id (contact secret only, cursor paging), the details from user/list per
 *   department that has members (app secret first, see wecom.client.ts): one call per
 *   department instead of one user/get per member (6,000 members in 300 departments: 300
 *   calls, not 6,000 at 20/s). A roster member no user/list returned (their department's
 *   list refused with both secrets, 60011 / 60020 / 48002, or too large, 45029) is read with
 *   user/get; one that cannot be read fails the snapshot, since leaving them out would
 *   delete their mailbox. The roster is what makes the snapshot complete even when the
 *   app's visible range misses someone.
 * - `department` (default otherwise): user/list per department simplelist returned, which a
 *   self-built app may call for its visible range.
 * People in several departments are merged by userid. Any other failed call fails the
 * snapshot (never a partial one).
 *
 * Callbacks carry ids only (for URLs set after 2022-08-15, §3), so the callback worker
 * re-reads with getPerson / getDepartment (app secret first for people): undefined when
 * WeCom answers 60111 / 60123.
 */
import type { Department, DirectorySnapshot, Person } from '../../domain/directory';
import type { DirectorySource } from '../../ports/directory-source';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { mapLimit } from '../../lib/map-limit';
import type { WecomClient } from './wecom.client';
import { WecomErrcode, isWecomError, isWecomSecretRefusal } from './wecom.errors';
import { toDepartment, toPerson, type WecomUser } from './wecom.schemas';

export type WecomMemberStrategy = 'list_id' | 'department';

export interface WecomDirectorySourceOptions {
  /** Default: `list_id` when the tenant has the contact sync secret, else `department`. */
  memberStrategy?: WecomMemberStrategy;
  /** user/list_id page size (1-10000). */
  listIdLimit?: number;
  /** Calls in flight at once; the client's rate limiter still caps calls per second. */
  concurrency?: number;
  clock?: Clock;
}

export class WecomDirectorySource implements DirectorySource {
  readonly kind = 'wecom' as const;
  private readonly concurrency: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: WecomClient,
    private readonly options: WecomDirectorySourceOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.clock = options.clock ?? systemClock;
  }

  /** Reads every department and member; throws if any call fails (never returns a partial snapshot). */
  async fullSnapshot(): Promise<DirectorySnapshot> {
    const takenAt = this.clock.now();
    const ids = await this.client.listDepartmentIds();
    const details = await mapLimit(ids, this.concurrency, (d) => this.client.getDepartment(d.id));
    const departments: Department[] = [];
    ids.forEach((d, i) => {
      const detail = details[i];
      // A department deleted between simplelist and get is simply gone.
      if (detail) departments.push(toDepartment({ ...d, name: detail.name }));
    });

    const strategy = this.options.memberStrategy ?? ((await this.client.hasContactSecret()) ? 'list_id' : 'department');
    const people = strategy === 'list_id' ? await this.peopleByRoster() : await this.peopleByDepartment(departments);
    return { departments, people, complete: true, takenAt };
  }

  /** Current state of one member (status may be disabled or left), or undefined if WeCom no longer has them. */
  async getPerson(id: string): Promise<Person | undefined> {
    const u = await this.client.getUser(id);
    return u ? toPerson(u) : undefined;
  }

  /** Current state of one department, or undefined if WeCom no longer has it. */
  async getDepartment(id: string): Promise<Department | undefined> {
    if (!/^\d{1,12}$/.test(id)) return undefined; // WeCom department ids are numbers
    const d = await this.client.getDepartment(Number(id));
    return d ? toDepartment(d) : undefined;
  }

  /** Roster from user/list_id, details from user/list per department, user/get for the rest (module doc). */
  private async peopleByRoster(): Promise<Person[]> {
    const roster = new Set<string>();
    const deptIds = new Set<number>();
    let cursor: string | undefined;
    do {
      const page = await this.client.listUserIds({ cursor, limit: this.options.listIdLimit });
      for (const row of page.rows) {
        roster.add(row.userid);
        deptIds.add(row.department);
      }
      cursor = page.nextCursor;
    } while (cursor);

    const users = new Map<string, WecomUser>();
    const lists = await mapLimit([...deptIds], this.concurrency, async (id) => {
      try {
        return await this.client.listDepartmentUsers(id);
      } catch (err) {
        // Refused with every secret (outside the app's visible range and the contact secret
        // barred from user/list), the department was deleted since list_id, or too large to
        // list: its members are read one by one below.
        if (isWecomSecretRefusal(err) || isWecomError(err, 'notFound') || (isWecomError(err) && err.errcode === WecomErrcode.RESPONSE_TOO_LARGE)) return [];
        throw err;
      }
    });
    // Members added after list_id ran are real members too: keep them.
    for (const u of lists.flat()) if (!users.has(u.userid)) users.set(u.userid, u);

    const missing = [...roster].filter((id) => !users.has(id));
    const fetched = await mapLimit(missing, this.concurrency, (id) => this.client.getUser(id));
    // undefined = deleted between list_id and get: gone, not an error. A refusal throws.
    for (const u of fetched) if (u && !users.has(u.userid)) users.set(u.userid, u);
    return [...users.values()].map(toPerson);
  }

  private async peopleByDepartment(departments: readonly Department[]): Promise<Person[]> {
    const lists = await mapLimit(departments, this.concurrency, (d) => this.client.listDepartmentUsers(Number(d.id)));
    const people = new Map<string, Person>();
    for (const u of lists.flat()) if (!people.has(u.userid)) people.set(u.userid, toPerson(u));
    return [...people.values()];
  }
}
