/**
 * EKP elements -> the neutral directory model (shared/domain/directory.ts).
 *
 * - org (机构) and dept (部门) are both nodes of the department tree; `parent` links them.
 * - A person has exactly one `parent` (their main department). EKP expresses membership
 *   of further departments through posts (岗位): a post sits in a department (`parent`)
 *   and a person lists the posts they hold (`posts`). So a person's departments are the
 *   parent first, then the departments of their available posts, without repeats.
 * - Status (§A5): EKP deletes logically with `isAvailable=false`; for a person that is a
 *   leaver ("left"). An available person who may not log in (`canLogin=false`) or who
 *   is not a business account (`isBusiness=false`, only visible through the V2 calls) is
 *   "disabled". A department with `isAvailable=false` is "disabled".
 * - `no` (编号) of a person is the job number; `order` is fdOrder as a string (the display
 *   order, sync.displayOrder). A department's `thisLeader` is its manager (leaver
 *   forwarding); it may name a post rather than a person, which then matches no mailbox.
 */
import type { Department, Person } from '../../domain/directory';
import type { EkpElement } from './ekp.schema';

export function mapDepartment(el: EkpElement): Department {
  const dept: Department = {
    id: el.id,
    name: el.name,
    order: parseOrder(el.order),
    status: el.isAvailable === false ? 'disabled' : 'active',
  };
  if (el.parent) dept.parentId = el.parent;
  if (el.order !== undefined) dept.displayOrder = parseOrder(el.order);
  if (el.thisLeader) dept.managerIds = [el.thisLeader];
  return dept;
}

/**
 * @param postDepartment the department of an available post, by post id; posts not in
 *   it (unknown or disabled) add no department.
 */
export function mapPerson(el: EkpElement, postDepartment: ReadonlyMap<string, string>): Person {
  const departmentIds: string[] = [];
  if (el.parent) departmentIds.push(el.parent);
  for (const postId of el.posts) {
    const deptId = postDepartment.get(postId);
    if (deptId && !departmentIds.includes(deptId)) departmentIds.push(deptId);
  }
  const person: Person = {
    id: el.id,
    displayName: el.name,
    departmentIds,
    status: personStatus(el),
  };
  if (el.loginName) person.loginName = el.loginName;
  if (el.email) person.email = el.email;
  if (el.mobileNo) person.mobile = el.mobileNo;
  if (el.no) person.jobNumber = el.no;
  if (el.parent) person.mainDepartmentId = el.parent;
  if (el.order !== undefined) person.order = parseOrder(el.order);
  return person;
}

function personStatus(el: EkpElement): Person['status'] {
  if (el.isAvailable === false) return 'left';
  if (el.canLogin === false || el.isBusiness === false) return 'disabled';
  return 'active';
}

/** Department of each available post (posts are the only way to a second department). */
export function postDepartments(posts: Iterable<EkpElement>): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of posts) if (p.type === 'post' && p.isAvailable !== false && p.parent) map.set(p.id, p.parent);
  return map;
}

function parseOrder(order: string | undefined): number {
  if (order === undefined) return 0;
  const n = Number(order);
  return Number.isFinite(n) ? n : 0;
}
