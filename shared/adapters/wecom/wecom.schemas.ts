/**
 * WeCom payloads (reference wecom.md §4-6), parsed at the adapter's edge and mapped to the
 * neutral directory model. Only the fields we use are declared; others are dropped.
 *
 * Which fields arrive depends on the secret (reference §4, 2022 restrictions):
 * - 通讯录同步 (contact sync) secret: the whole organisation, every field, from IPs trusted
 *   before 2022-08-15. IPs added later may only call user/list_id and
 *   department/simplelist (ids and memberships, no names or emails).
 * - A self-built app's secret: only its visible range (可见范围); apps created after
 *   2022-06-20 get no avatar, gender, mobile, email, biz_mail or address from user/get or
 *   user/list (they need per-member privateinfo consent). user/list_id is not allowed.
 * So every user field except userid and department is optional here.
 */
import { z } from 'zod';
import type { Department, Person, PersonStatus } from '../../domain/directory';
import { errcodeEnvelopeSchema, optionalText } from '../http/errcode-api';

/** `{errcode, errmsg, …}`; some answers leave errcode out on success, so it defaults to 0. */
export const envelopeSchema = errcodeEnvelopeSchema.extend({
  errcode: z.number().int().default(0),
});
export type WecomEnvelope = z.output<typeof envelopeSchema>;


/** department/simplelist → department_id[] */
export const departmentIdSchema = z.object({
  id: z.number().int(),
  parentid: z.number().int().default(0),
  order: z.number().default(0),
});
export type WecomDepartmentId = z.output<typeof departmentIdSchema>;
export const simpleListSchema = z.object({ department_id: z.array(departmentIdSchema).default([]) });

/** department/list → department[]; department/get → department */
export const departmentSchema = departmentIdSchema.extend({
  name: z.string().default(''),
  name_en: optionalText,
  department_leader: z.array(z.string()).optional(),
});
export type WecomDepartment = z.output<typeof departmentSchema>;
export const departmentListSchema = z.object({ department: z.array(departmentSchema).default([]) });
export const departmentGetSchema = z.object({ department: departmentSchema });

/** user/list_id → {next_cursor, dept_user[]}; one row per user × department. */
export const listIdSchema = z.object({
  next_cursor: optionalText,
  dept_user: z.array(z.object({ userid: z.string().min(1), department: z.number().int() })).default([]),
});

const extAttrSchema = z.object({
  type: z.number().int().optional(),
  name: z.string(),
  text: z.object({ value: z.string().optional() }).optional(),
  web: z.object({ url: z.string().optional(), title: z.string().optional() }).optional(),
});

/** user/get and user/list entries (96255). */
export const userSchema = z.object({
  userid: z.string().min(1),
  name: z.string().optional(),
  department: z.array(z.number().int()).default([]),
  order: z.array(z.number()).optional(),
  position: optionalText,
  mobile: optionalText,
  gender: z.union([z.string(), z.number()]).optional(),
  email: optionalText,
  /** The member's WeCom / Tencent Exmail mailbox (§7), not the NetEase one. */
  biz_mail: optionalText,
  is_leader_in_dept: z.array(z.number()).optional(),
  direct_leader: z.array(z.string()).optional(),
  telephone: optionalText,
  alias: optionalText,
  main_department: z.number().int().optional(),
  /** 1 active, 2 disabled, 4 not activated, 5 left (§3). */
  status: z.number().int().optional(),
  extattr: z.object({ attrs: z.array(extAttrSchema).default([]) }).optional(),
});
export type WecomUser = z.output<typeof userSchema>;
export const userListSchema = z.object({ userlist: z.array(userSchema).default([]) });

/** auth/getuserinfo (96442): a member gets userid; a non-member openid. Legacy spelling UserId. */
export const getUserInfoSchema = z.object({
  userid: optionalText,
  UserId: optionalText,
  user_ticket: optionalText,
  openid: optionalText,
  OpenId: optionalText,
});

/** message/send response (90236). Recipient lists are `|`-joined strings. */
export const messageSendSchema = z.object({
  invaliduser: optionalText,
  invalidparty: optionalText,
  invalidtag: optionalText,
  unlicenseduser: optionalText,
  msgid: optionalText,
  response_code: optionalText,
});

// ---- mapping to the neutral model ------------------------------------------------------

export const WECOM_ROOT_DEPT_ID = 1;

export function toDepartment(d: { id: number; parentid: number; order: number; name?: string }): Department {
  return {
    id: String(d.id),
    name: d.name ?? '',
    // The root's parentid is 0.
    parentId: d.parentid && d.id !== WECOM_ROOT_DEPT_ID ? String(d.parentid) : undefined,
    // WeCom sorts by order descending ("order值大的排序靠前"); our model sorts ascending.
    order: d.order ? -d.order : 0,
    // Every WeCom department read (simplelist, department/get) carries `order`: display order too.
    displayOrder: d.order ? -d.order : 0,
    status: 'active',
  };
}

const STATUS: Record<number, PersonStatus> = {
  1: 'active',
  2: 'disabled',
  // 4 = invited but not yet activated WeCom: still a member who should get a mailbox.
  4: 'active',
  5: 'left',
};

/** Names under which organisations keep the employee number in extattr (WeCom has no field for it). */
const JOB_NUMBER_ATTRS = new Set(['工号', '员工编号', '员工工号', 'job number', 'jobnumber', 'employee id', 'employee number']);

/**
 * WeCom user → Person.
 * - email: the `email` field (the address an admin entered, e.g. the NetEase mailbox).
 *   `biz_mail` is WeCom's own Tencent mailbox, so it is never used as the NetEase address.
 * - jobNumber: a text extattr named 工号 (or similar), if the organisation keeps one.
 * - mainDepartmentId: main_department, else the first department.
 */
export function toPerson(u: WecomUser): Person {
  const departmentIds = u.department.map(String);
  const jobAttr = u.extattr?.attrs.find((a) => JOB_NUMBER_ATTRS.has(a.name.trim().toLowerCase()));
  return {
    id: u.userid,
    loginName: u.userid,
    displayName: u.name ?? u.userid,
    email: u.email,
    mobile: u.mobile,
    jobNumber: jobAttr?.text?.value || undefined,
    departmentIds,
    mainDepartmentId: u.main_department !== undefined ? String(u.main_department) : departmentIds[0],
    status: STATUS[u.status ?? 1] ?? 'active',
    ...personExtras(u, departmentIds),
  };
}

/**
 * Title (`position`), manager (`direct_leader`, first entry) and the display order in the
 * main department (`order[]` is aligned with `department[]`, 96255; WeCom sorts descending,
 * our model ascending, as for departments).
 */
function personExtras(u: WecomUser, departmentIds: string[]): Pick<Person, 'title' | 'managerId' | 'order'> {
  const out: Pick<Person, 'title' | 'managerId' | 'order'> = {};
  if (u.position) out.title = u.position;
  if (u.direct_leader?.[0]) out.managerId = u.direct_leader[0];
  const main = u.main_department !== undefined ? String(u.main_department) : departmentIds[0];
  const at = main === undefined ? -1 : departmentIds.indexOf(main);
  const order = at >= 0 ? u.order?.[at] : undefined;
  if (order !== undefined) out.order = order ? -order : 0;
  return out;
}
