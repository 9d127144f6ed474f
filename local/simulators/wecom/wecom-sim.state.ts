/**
 * One tenant's corp inside the WeCom simulator: departments, members and app messages,
 * with the reads the cgi-bin endpoints need and the edits the control API makes.
 */
import { createHash } from 'node:crypto';
import { ControlError } from '../sim-http';
import { SimOrgModel } from '../sim-org-model';
import type { SimWcDepartment, SimWcUser } from './wecom-sim.seed';

/** A refusal with WeCom's envelope: `{errcode, errmsg}`. */
export class WcSimError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    /** Extra envelope fields (message/send's invaliduser on 81013). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(errmsg);
  }
}

export interface SimAppMessage {
  msgId: string;
  agentId: number;
  at: number;
  msgtype: string;
  /** The type's payload, e.g. {title, description, url, btntxt} for textcard. */
  payload: Record<string, unknown>;
  /** Recipients as asked (`touser` split on "|"). */
  toUsers: string[];
  delivered: string[];
  /** Unknown userids (returned in invaliduser, lowercased). */
  invalid: string[];
  /** Over 30 per member per minute: WeCom drops these silently (§6). */
  dropped: string[];
  /** Same content within duplicate_check_interval (when enable_duplicate_check = 1). */
  duplicate: string[];
}

export interface WcTenantState {
  departments: SimWcDepartment[];
  users: SimWcUser[];
  messages: SimAppMessage[];
  nextMsgId: number;
  /** userid -> recent deliveries (ms epoch and content hash), for the per-minute cap and duplicate check. */
  recent: Record<string, Array<{ at: number; hash: string }>>;
}

export const PER_MEMBER_PER_MINUTE = 30;
/** Fields a self-built app created after 2022-06-20 no longer receives (reference §4). */
export const RESTRICTED_FIELDS = ['avatar', 'thumb_avatar', 'gender', 'mobile', 'email', 'biz_mail', 'qr_code', 'address'] as const;

export class WcOrgModel extends SimOrgModel<SimWcDepartment, SimWcUser, WcTenantState> {
  protected deptId(d: SimWcDepartment): number {
    return d.id;
  }

  protected parentOf(d: SimWcDepartment): number {
    return d.parentid;
  }

  protected unknownDept(id: number): Error {
    return new WcSimError(60123, `invalid party id ${id}`);
  }

  protected unknownUser(): Error {
    return new WcSimError(60111, `userid not found`);
  }

  /** WeCom userids are case-insensitive (stored lower-case). */
  findUser(userid: string): SimWcUser | undefined {
    const id = userid.toLowerCase();
    return this.s.users.find((u) => u.userid === id);
  }

  /** `id` and every department below it (all when undefined), as department/simplelist lists them. */
  subtree(id: number | undefined): SimWcDepartment[] {
    if (id === undefined) return [...this.s.departments];
    this.dept(id);
    const out: SimWcDepartment[] = [];
    const walk = (pid: number): void => {
      const d = this.s.departments.find((x) => x.id === pid);
      if (!d) return;
      out.push(d);
      for (const c of this.s.departments.filter((x) => x.parentid === pid && x.id !== pid)) walk(c.id);
    };
    walk(id);
    return out;
  }

  deptJson(d: SimWcDepartment): Record<string, unknown> {
    const leaders = this.s.users.filter((u) => u.department.some((id, i) => id === d.id && u.is_leader_in_dept[i] === 1)).map((u) => u.userid);
    return { id: d.id, name: d.name, ...(d.name_en ? { name_en: d.name_en } : {}), department_leader: leaders, parentid: d.parentid, order: d.order };
  }

  /** The departments an app whose visible range (可见范围) is `roots` sees: each root and everything below it. */
  visibleDepartmentIds(roots: readonly number[]): Set<number> {
    const out = new Set<number>();
    for (const r of roots) if (this.hasDept(r)) for (const d of this.subtree(r)) out.add(d.id);
    return out;
  }

  members(deptId: number): SimWcUser[] {
    return this.s.users.filter((u) => u.department.includes(deptId));
  }

  /** user/get's shape; `restricted` drops what post-2022-06-20 apps no longer get. */
  userJson(u: SimWcUser, restricted: boolean): Record<string, unknown> {
    const full: Record<string, unknown> = {
      userid: u.userid,
      name: u.name,
      department: u.department,
      order: u.order,
      position: u.position ?? '',
      mobile: u.mobile ?? '',
      gender: u.gender,
      email: u.email ?? '',
      biz_mail: u.biz_mail ?? '',
      is_leader_in_dept: u.is_leader_in_dept,
      direct_leader: u.direct_leader,
      avatar: '',
      thumb_avatar: '',
      telephone: u.telephone ?? '',
      alias: u.alias ?? '',
      address: '',
      open_userid: u.open_userid,
      main_department: u.main_department,
      extattr: u.extattr,
      status: u.status,
      qr_code: '',
    };
    if (restricted) for (const f of RESTRICTED_FIELDS) delete full[f];
    return full;
  }

  /** user/list_id rows: one per user × department, in a stable order. */
  listIdRows(): Array<{ userid: string; department: number }> {
    return this.s.users.flatMap((u) => u.department.map((department) => ({ userid: u.userid, department })));
  }

  // ---- edits (control API) --------------------------------------------------------------

  upsertUser(input: Partial<SimWcUser> & { userid: string }, openUserId: () => string): { created: boolean; user: SimWcUser } {
    const userid = input.userid.toLowerCase();
    const existing = this.findUser(userid);
    const department = input.department ?? existing?.department;
    if (!department || department.length === 0) throw new ControlError(400, 'department is required (at least one department id)');
    for (const id of department) if (!this.hasDept(id)) throw new ControlError(400, `department ${id} does not exist`);
    const main = input.main_department ?? (existing && department.includes(existing.main_department) ? existing.main_department : department[0]);
    if (main === undefined || !department.includes(main)) throw new ControlError(400, 'main_department must be one of department');
    const aligned = (xs: number[] | undefined, fill: number): number[] => department.map((_, i) => xs?.[i] ?? fill);
    if (existing) {
      const leaders = input.is_leader_in_dept ?? (input.department ? undefined : existing.is_leader_in_dept);
      Object.assign(existing, stripUndefined(input), {
        userid,
        department,
        main_department: main,
        order: aligned(input.order ?? (input.department ? undefined : existing.order), 0),
        is_leader_in_dept: aligned(leaders, 0),
      });
      return { created: false, user: existing };
    }
    if (!input.name) throw new ControlError(400, 'name is required for a new user');
    const user: SimWcUser = {
      gender: '0',
      direct_leader: [],
      status: 1,
      extattr: { attrs: [] },
      open_userid: openUserId(),
      ...stripUndefined(input),
      userid,
      name: input.name,
      department,
      main_department: main,
      order: aligned(input.order, 0),
      is_leader_in_dept: aligned(input.is_leader_in_dept, 0),
    };
    this.s.users.push(user);
    return { created: true, user };
  }

  upsertDepartment(input: { id?: number; name?: string; name_en?: string; parentid?: number; order?: number }): { created: boolean; department: SimWcDepartment } {
    const existing = input.id !== undefined ? this.s.departments.find((d) => d.id === input.id) : undefined;
    if (existing?.id === 1 && input.parentid !== undefined && input.parentid !== 0) throw new ControlError(400, 'the root department has no parent');
    const parent = existing?.id === 1 ? 0 : (input.parentid ?? existing?.parentid ?? 1);
    if (existing?.id !== 1) {
      if (!this.hasDept(parent)) throw new ControlError(400, `parent department ${parent} does not exist`);
      for (let p = parent; p !== 0; p = this.s.departments.find((d) => d.id === p)?.parentid ?? 0) {
        if (existing && p === existing.id) throw new ControlError(400, 'a department cannot move below itself');
      }
    }
    if (existing) {
      if (input.name !== undefined) existing.name = input.name;
      if (input.name_en !== undefined) existing.name_en = input.name_en;
      existing.parentid = parent;
      if (input.order !== undefined) existing.order = input.order;
      return { created: false, department: existing };
    }
    if (!input.name) throw new ControlError(400, 'name is required for a new department');
    const id = input.id ?? Math.max(...this.s.departments.map((d) => d.id)) + 1;
    const department: SimWcDepartment = { id, name: input.name, name_en: input.name_en, parentid: parent, order: input.order ?? 1000 };
    this.s.departments.push(department);
    return { created: true, department };
  }

  // ---- app messages (§6) ------------------------------------------------------------------

  recordMessage(input: { agentId: number; msgtype: string; payload: Record<string, unknown>; toUsers: string[]; duplicateCheckSeconds?: number }): SimAppMessage {
    const at = this.now();
    const hash = createHash('sha256').update(JSON.stringify([input.msgtype, input.payload])).digest('hex').slice(0, 16);
    const m: SimAppMessage = {
      msgId: `sim${this.s.nextMsgId++}`,
      agentId: input.agentId,
      at,
      msgtype: input.msgtype,
      payload: input.payload,
      toUsers: input.toUsers,
      delivered: [],
      invalid: [],
      dropped: [],
      duplicate: [],
    };
    for (const raw of input.toUsers) {
      const u = this.findUser(raw);
      if (!u) {
        m.invalid.push(raw.toLowerCase());
        continue;
      }
      const recent = (this.s.recent[u.userid] ?? []).filter((r) => at - r.at < 4 * 3600_000);
      if (input.duplicateCheckSeconds && recent.some((r) => r.hash === hash && at - r.at < (input.duplicateCheckSeconds as number) * 1000)) {
        m.duplicate.push(u.userid);
      } else if (recent.filter((r) => at - r.at < 60_000).length >= PER_MEMBER_PER_MINUTE) {
        m.dropped.push(u.userid);
      } else {
        recent.push({ at, hash });
        m.delivered.push(u.userid);
      }
      this.s.recent[u.userid] = recent;
    }
    this.s.messages.push(m);
    return m;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
