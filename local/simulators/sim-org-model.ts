/**
 * What the org models of the errcode-style simulators (DingTalk, WeCom) share: a tenant's
 * departments and users as plain JSON, looked up by department id and userid, with the
 * control API's removals. Each vendor names its own fields and its own refusals.
 */
import { ControlError } from './sim-http';

export abstract class SimOrgModel<D, U, S extends { departments: D[]; users: U[] }> {
  constructor(
    readonly s: S,
    protected readonly now: () => number,
  ) {}

  /** The department's id (DingTalk `dept_id`, WeCom `id`); the root is 1 on both. */
  protected abstract deptId(d: D): number;
  /** The department's parent id (DingTalk `parent_id`, WeCom `parentid`). */
  protected abstract parentOf(d: D): number | undefined;
  /** The vendor's refusal of a department id it does not know. */
  protected abstract unknownDept(id: number): Error;
  /** The vendor's refusal of a userid it does not know. */
  protected abstract unknownUser(userid: string): Error;
  /** The user, matched the way the vendor matches userids. */
  abstract findUser(userid: string): U | undefined;
  /** Direct members of a department. */
  abstract members(deptId: number): U[];

  dept(id: number): D {
    const d = this.s.departments.find((x) => this.deptId(x) === id);
    if (!d) throw this.unknownDept(id);
    return d;
  }

  hasDept(id: number): boolean {
    return this.s.departments.some((x) => this.deptId(x) === id);
  }

  user(userid: string): U {
    const u = this.findUser(userid);
    if (!u) throw this.unknownUser(userid);
    return u;
  }

  removeUser(userid: string): U {
    const u = this.findUser(userid);
    if (!u) throw new ControlError(404, `user ${userid} does not exist`);
    this.s.users.splice(this.s.users.indexOf(u), 1);
    return u;
  }

  /** Both vendors refuse to delete the root, or a department that still has sub-departments or members. */
  removeDepartment(id: number): D {
    if (id === 1) throw new ControlError(400, 'the root department cannot be removed');
    const d = this.s.departments.find((x) => this.deptId(x) === id);
    if (!d) throw new ControlError(404, `department ${id} does not exist`);
    if (this.s.departments.some((x) => this.parentOf(x) === id)) throw new ControlError(409, `department ${id} still has sub-departments`);
    if (this.members(id).length > 0) throw new ControlError(409, `department ${id} still has members`);
    this.s.departments.splice(this.s.departments.indexOf(d), 1);
    return d;
  }
}
