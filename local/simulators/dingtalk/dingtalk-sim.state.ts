/**
 * One tenant's organisation inside the DingTalk simulator: departments, users and the
 * work notifications sent to them, with the reads the topapi endpoints need and the
 * edits the control API makes. Plain JSON so it persists as is.
 */
import { createHash } from 'node:crypto';
import { ControlError } from '../sim-http';
import { SimOrgModel } from '../sim-org-model';
import type { SimDtDepartment, SimDtUser } from './dingtalk-sim.seed';

/** A refusal with DingTalk's envelope: `{errcode, errmsg}`. */
export class DtSimError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(errmsg);
  }
}


export interface SimWorkMessage {
  taskId: number;
  agentId: number;
  at: number;
  msgtype: string;
  msg: Record<string, unknown>;
  /** Recipients as asked (userid_list). */
  userIds: string[];
  /** Recipients DingTalk would deliver to. */
  delivered: string[];
  /** Unknown userids. */
  invalid: string[];
  /** Filtered by DingTalk's limits (§6): 143106 same content today, 143105 over 500 today. */
  forbidden: Array<{ userid: string; code: 143105 | 143106 }>;
}

export interface DtTenantState {
  departments: SimDtDepartment[];
  users: SimDtUser[];
  messages: SimWorkMessage[];
  nextTaskId: number;
  /** Per user and UTC day: how many notifications and which contents (hashes) were delivered. */
  sentLog: Record<string, { day: string; count: number; contents: string[] }>;
}

export const DAILY_CAP = 500;
export const USER_PAGE_MAX = 100;

export class DtOrgModel extends SimOrgModel<SimDtDepartment, SimDtUser, DtTenantState> {
  protected deptId(d: SimDtDepartment): number {
    return d.dept_id;
  }

  protected parentOf(d: SimDtDepartment): number | undefined {
    return d.parent_id;
  }

  protected unknownDept(): Error {
    return new DtSimError(60003, '部门不存在');
  }

  protected unknownUser(): Error {
    return new DtSimError(60121, '找不到该用户');
  }

  findUser(userid: string): SimDtUser | undefined {
    return this.s.users.find((x) => x.userid === userid);
  }

  children(id: number): SimDtDepartment[] {
    return this.s.departments.filter((d) => d.parent_id === id).sort((a, b) => a.order - b.order || a.dept_id - b.dept_id);
  }

  /** Direct members of a department, in a stable order (the cursor is an offset into it). */
  members(id: number): SimDtUser[] {
    return this.s.users.filter((u) => u.dept_id_list.includes(id));
  }

  // ---- topapi shapes (reference dingtalk.md §4) -------------------------------------------

  listSub(deptId: number): unknown[] {
    this.dept(deptId);
    return this.children(deptId).map((d) => ({ dept_id: d.dept_id, name: d.name, parent_id: d.parent_id, create_dept_group: false, auto_add_user: false }));
  }

  deptDetail(deptId: number): Record<string, unknown> {
    const d = this.dept(deptId);
    const members = this.members(deptId);
    return {
      dept_id: d.dept_id,
      name: d.name,
      ...(d.parent_id !== undefined ? { parent_id: d.parent_id } : {}),
      order: d.order,
      source_identifier: '',
      create_dept_group: false,
      auto_add_user: false,
      dept_manager_userid_list: members.filter((u) => u.leader).map((u) => u.userid),
      hide_dept: false,
      outer_dept: false,
      member_count: members.length,
    };
  }

  /** The full user object (user/get); user/list entries are the same minus the role fields. */
  userDetail(u: SimDtUser, withRoles: boolean): Record<string, unknown> {
    const base: Record<string, unknown> = {
      userid: u.userid,
      unionid: u.unionid,
      name: u.name,
      avatar: '',
      state_code: u.state_code,
      mobile: u.mobile ?? '',
      hide_mobile: false,
      telephone: '',
      job_number: u.job_number ?? '',
      title: u.title ?? '',
      email: u.email ?? '',
      org_email: u.org_email ?? '',
      work_place: '',
      remark: '',
      dept_id_list: u.dept_id_list,
      dept_order: 0,
      extension: '{}',
      hired_date: u.hired_date,
      active: u.active,
      admin: u.admin,
      boss: u.boss,
      leader: u.leader,
      exclusive_account: false,
    };
    if (!withRoles) return base;
    return {
      ...base,
      manager_userid: '',
      dept_order_list: u.dept_id_list.map((dept_id) => ({ dept_id, order: 0 })),
      leader_in_dept: u.dept_id_list.map((dept_id) => ({ dept_id, leader: u.leader })),
      role_list: [],
      real_authed: true,
      senior: false,
      union_emp_ext: {},
    };
  }

  userList(deptId: number, cursor: number, size: number): Record<string, unknown> {
    this.dept(deptId);
    const all = this.members(deptId);
    const page = all.slice(cursor, cursor + size);
    const hasMore = cursor + size < all.length;
    return { has_more: hasMore, ...(hasMore ? { next_cursor: cursor + size } : {}), list: page.map((u) => this.userDetail(u, false)) };
  }

  // ---- edits (control API) --------------------------------------------------------------

  upsertUser(input: Partial<SimDtUser> & { userid: string }, newUnionId: () => string): { created: boolean; user: SimDtUser } {
    const existing = this.findUser(input.userid);
    const deptIds = input.dept_id_list ?? existing?.dept_id_list;
    if (!deptIds || deptIds.length === 0) throw new ControlError(400, 'dept_id_list is required (at least one department)');
    for (const id of deptIds) if (!this.hasDept(id)) throw new ControlError(400, `department ${id} does not exist`);
    if (existing) {
      const updated: SimDtUser = { ...existing, ...stripUndefined(input), dept_id_list: deptIds };
      Object.assign(existing, updated);
      return { created: false, user: existing };
    }
    if (!input.name) throw new ControlError(400, 'name is required for a new user');
    const user: SimDtUser = {
      unionid: newUnionId(),
      state_code: '86',
      active: true,
      admin: false,
      boss: false,
      leader: false,
      ...stripUndefined(input),
      userid: input.userid,
      name: input.name,
      dept_id_list: deptIds,
    };
    this.s.users.push(user);
    return { created: true, user };
  }

  upsertDepartment(input: { dept_id?: number; name?: string; parent_id?: number; order?: number }): { created: boolean; department: SimDtDepartment } {
    const existing = input.dept_id !== undefined ? this.s.departments.find((d) => d.dept_id === input.dept_id) : undefined;
    const parent = input.parent_id ?? existing?.parent_id ?? 1;
    if (existing?.dept_id === 1 && input.parent_id !== undefined) throw new ControlError(400, 'the root department has no parent');
    if (existing?.dept_id !== 1) {
      if (!this.hasDept(parent)) throw new ControlError(400, `parent department ${parent} does not exist`);
      // No cycles: the new parent must not be the department itself or below it.
      for (let p: number | undefined = parent; p !== undefined; p = this.s.departments.find((d) => d.dept_id === p)?.parent_id) {
        if (existing && p === existing.dept_id) throw new ControlError(400, 'a department cannot move below itself');
      }
    }
    if (existing) {
      if (input.name !== undefined) existing.name = input.name;
      if (existing.dept_id !== 1) existing.parent_id = parent;
      if (input.order !== undefined) existing.order = input.order;
      return { created: false, department: existing };
    }
    if (!input.name) throw new ControlError(400, 'name is required for a new department');
    const id = input.dept_id ?? Math.max(...this.s.departments.map((d) => d.dept_id)) + 7;
    const department: SimDtDepartment = { dept_id: id, name: input.name, parent_id: parent, order: input.order ?? this.children(parent).length + 1 };
    this.s.departments.push(department);
    return { created: true, department };
  }

  // ---- work notifications (§6) ------------------------------------------------------------

  recordNotification(agentId: number, userIds: string[], msg: Record<string, unknown>): SimWorkMessage {
    const at = this.now();
    const day = new Date(at).toISOString().slice(0, 10);
    const hash = createHash('sha256').update(JSON.stringify(msg)).digest('hex').slice(0, 16);
    const m: SimWorkMessage = { taskId: this.s.nextTaskId++, agentId, at, msgtype: String(msg.msgtype), msg, userIds, delivered: [], invalid: [], forbidden: [] };
    for (const id of userIds) {
      if (!this.findUser(id)) {
        m.invalid.push(id);
        continue;
      }
      const log = this.s.sentLog[id]?.day === day ? (this.s.sentLog[id] as DtTenantState['sentLog'][string]) : { day, count: 0, contents: [] };
      if (log.contents.includes(hash)) m.forbidden.push({ userid: id, code: 143106 });
      else if (log.count >= DAILY_CAP) m.forbidden.push({ userid: id, code: 143105 });
      else {
        log.count++;
        log.contents.push(hash);
        m.delivered.push(id);
      }
      this.s.sentLog[id] = log;
    }
    this.s.messages.push(m);
    return m;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
