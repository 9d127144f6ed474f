/**
 * DingTalk as a directory source (reference dingtalk.md §4).
 *
 * A full snapshot walks the department tree from the root (1) with
 * topapi/v2/department/listsub, then pages each department's direct members with
 * topapi/v2/user/list (cursor). People in several departments are listed once per
 * department and merged by userid. Any failed call fails the snapshot: a partial pull
 * must never look complete, or the planner would suspend everyone it missed.
 *
 * Callbacks carry ids only (§3), so the callback worker re-reads the current state with
 * getPerson / getDepartment: undefined means DingTalk no longer has the object (60121 /
 * 33012 for users, 60003 for departments; see dingtalk.errors.ts).
 */
import { UpstreamError } from '../../errors/app-error';
import type { Department, DirectorySnapshot, Person } from '../../domain/directory';
import type { DirectorySource } from '../../ports/directory-source';
import type { Clock } from '../../ports/clock';
import { systemClock } from '../../ports/clock';
import { mapLimit } from '../../lib/map-limit';
import { DINGTALK_USER_PAGE_MAX, type DingtalkClient } from './dingtalk.client';
import { DINGTALK_ROOT_DEPT_ID, toDepartment, toPerson } from './dingtalk.schemas';

export interface DingtalkDirectorySourceOptions {
  /** topapi/v2/user/list page size (1-100). */
  pageSize?: number;
  /** Departments read in parallel; the client's rate limiter still caps calls per second. */
  concurrency?: number;
  clock?: Clock;
}

export class DingtalkDirectorySource implements DirectorySource {
  readonly kind = 'dingtalk' as const;
  private readonly pageSize: number;
  private readonly concurrency: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: DingtalkClient,
    options: DingtalkDirectorySourceOptions = {},
  ) {
    this.pageSize = options.pageSize ?? DINGTALK_USER_PAGE_MAX;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.clock = options.clock ?? systemClock;
  }

  /** Reads every department and member; throws if any call fails (never returns a partial snapshot). */
  async fullSnapshot(): Promise<DirectorySnapshot> {
    const takenAt = this.clock.now();
    const root = await this.client.getDepartment(DINGTALK_ROOT_DEPT_ID);
    if (!root) {
      throw new UpstreamError('dingtalk', 'DINGTALK.ROOT_NOT_VISIBLE', `dingtalk: the root department of tenant ${this.client.tenantId} is not visible to the app; set the app's 通讯录 range to the whole organisation`);
    }
    const departments = new Map<number, Department>([[DINGTALK_ROOT_DEPT_ID, toDepartment({ ...root, parent_id: undefined })]]);

    // Breadth-first over the tree, one level at a time.
    let level = [DINGTALK_ROOT_DEPT_ID];
    while (level.length > 0) {
      const children = await mapLimit(level, this.concurrency, (id) => this.client.listSubDepartments(id));
      const next: number[] = [];
      for (const child of children.flat()) {
        if (departments.has(child.dept_id)) continue; // defensive: never loop on a bad tree
        departments.set(child.dept_id, toDepartment(child));
        next.push(child.dept_id);
      }
      level = next;
    }

    const people = new Map<string, Person>();
    await mapLimit([...departments.keys()], this.concurrency, async (deptId) => {
      for await (const page of this.client.departmentUsers(deptId, this.pageSize)) {
        for (const u of page) if (!people.has(u.userid)) people.set(u.userid, toPerson(u));
      }
    });

    return { departments: [...departments.values()], people: [...people.values()], complete: true, takenAt };
  }

  /** Current state of one member, or undefined if DingTalk no longer has them. */
  async getPerson(id: string): Promise<Person | undefined> {
    const u = await this.client.getUser(id);
    return u ? toPerson(u) : undefined;
  }

  /** Current state of one department, or undefined if DingTalk no longer has it. */
  async getDepartment(id: string): Promise<Department | undefined> {
    // DingTalk department ids are numbers; anything else cannot exist there.
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const d = await this.client.getDepartment(Number(id));
    return d ? toDepartment(d) : undefined;
  }
}
