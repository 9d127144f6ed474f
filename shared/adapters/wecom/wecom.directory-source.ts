/**
 * WeCom as a directory source (reference wecom.md §4).
 *
 * Departments: department/simplelist (ids, parents, order: callable with either secret,
 * even from contact-sync IPs added after 2022-08-15), then department/get for each name.
 *
 * Members, two strategies:
 * - `list_id` (default when the tenant has the 通讯录同步 secret): user/list_id pages the
 *   whole roster by cursor, then user/get reads each member's details;
 * - `department` (default otherwise): user/list per department, which a self-built app
 *   may call for its visible range.
 * People in several departments are merged by userid. Any failed call fails the snapshot.
 *
 * Callbacks carry ids only (for URLs set after 2022-08-15, §3), so the callback worker
 * re-reads with getPerson / getDepartment: undefined when WeCom answers 60111 / 60123.
 */
import type { Department, DirectorySnapshot, DirectorySource, Person } from '../../domain/directory';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { mapLimit } from '../http/map-limit';
import type { WecomClient } from './wecom.client';
import { toDepartment, toPerson } from './wecom.schemas';

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
    const people = strategy === 'list_id' ? await this.peopleByListId() : await this.peopleByDepartment(departments);
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

  private async peopleByListId(): Promise<Person[]> {
    const userIds = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.client.listUserIds({ cursor, limit: this.options.listIdLimit });
      for (const row of page.rows) userIds.add(row.userid);
      cursor = page.nextCursor;
    } while (cursor);
    const users = await mapLimit([...userIds], this.concurrency, (id) => this.client.getUser(id));
    // undefined = deleted between list_id and get: gone, not an error.
    return users.filter((u) => u !== undefined).map(toPerson);
  }

  private async peopleByDepartment(departments: readonly Department[]): Promise<Person[]> {
    const lists = await mapLimit(departments, this.concurrency, (d) => this.client.listDepartmentUsers(Number(d.id)));
    const people = new Map<string, Person>();
    for (const u of lists.flat()) if (!people.has(u.userid)) people.set(u.userid, toPerson(u));
    return [...people.values()];
  }
}
