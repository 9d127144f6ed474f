/**
 * DingTalk payloads (reference dingtalk.md §4-6), parsed at the adapter's edge and mapped
 * to the neutral directory model (shared/domain/directory.ts). Unknown fields are dropped;
 * only what we use is declared, so a new DingTalk field never breaks parsing.
 */
import { z } from 'zod';
import type { Department, Person } from '../../domain/directory';
import { errcodeEnvelopeSchema, optionalText } from '../http/errcode-api';

/** The oapi envelope: `{errcode, errmsg, …, request_id}`; 88 carries `sub_code`. */
export const oapiEnvelopeSchema = errcodeEnvelopeSchema.extend({
  sub_code: z.union([z.string(), z.number()]).optional(),
  sub_msg: z.string().optional(),
  request_id: z.string().optional(),
});
export type OapiEnvelope = z.output<typeof oapiEnvelopeSchema>;

const id = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** topapi/v2/department/listsub → result[] */
export const departmentSummarySchema = z.object({
  dept_id: id,
  name: z.string(),
  parent_id: id.optional(),
});
export type DingtalkDepartmentSummary = z.output<typeof departmentSummarySchema>;
export const listSubResultSchema = z.object({ result: z.array(departmentSummarySchema) });

/** topapi/v2/department/get → result */
export const departmentDetailSchema = departmentSummarySchema.extend({
  order: z.number().optional(),
  dept_manager_userid_list: z.array(z.string()).optional(),
  member_count: z.number().optional(),
});
export type DingtalkDepartmentDetail = z.output<typeof departmentDetailSchema>;
export const departmentGetResultSchema = z.object({ result: departmentDetailSchema });

/** A user as topapi/v2/user/list and topapi/v2/user/get return it (the fields we map). */
export const userSchema = z.object({
  userid: z.string().min(1),
  unionid: optionalText,
  name: z.string(),
  mobile: optionalText,
  state_code: optionalText,
  job_number: optionalText,
  title: optionalText,
  /** Personal email the member entered. */
  email: optionalText,
  /** The organisation's email for the member (企业邮箱). */
  org_email: optionalText,
  dept_id_list: z.array(id).default([]),
  /** Whether the member has activated DingTalk (not whether they are employed). */
  active: z.boolean().optional(),
  admin: z.boolean().optional(),
  boss: z.boolean().optional(),
  leader: z.boolean().optional(),
});
export type DingtalkUser = z.output<typeof userSchema>;

export const userListResultSchema = z.object({
  result: z.object({
    has_more: z.boolean(),
    next_cursor: z.number().int().optional(),
    list: z.array(userSchema).default([]),
  }),
});
export interface DingtalkUserPage {
  hasMore: boolean;
  nextCursor: number | undefined;
  list: DingtalkUser[];
}

export const userGetResultSchema = z.object({ result: userSchema });

/** topapi/v2/user/getuserinfo → result (§5). */
export const getUserInfoResultSchema = z.object({
  result: z.object({
    userid: z.string().min(1),
    unionid: optionalText,
    name: optionalText,
  }),
});

/** topapi/user/getbyunionid → result {contact_type, userid}; contact_type 1 = external contact. */
export const getByUnionIdResultSchema = z.object({
  result: z.object({
    userid: z.string().min(1),
    contact_type: z.number().int().optional(),
  }),
});

/** POST /v1.0/oauth2/userAccessToken (§5 step 2). */
export const userAccessTokenSchema = z.object({
  accessToken: z.string().min(1),
  expireIn: z.number().optional(),
  corpId: optionalText,
});

/** GET /v1.0/contact/users/me (§5 step 3). */
export const usersMeSchema = z.object({
  unionId: z.string().min(1),
});

/** New-API error body: `{code, message, requestid}` with an HTTP 4xx/5xx. */
export const newApiErrorSchema = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  requestid: z.string().optional(),
});

/** asyncsend_v2 → `{task_id}` (§6). A Long: keep it as a string. */
export const asyncSendResultSchema = z.object({
  task_id: z.union([z.number().int(), z.string().min(1)]).transform(String),
});

// ---- mapping to the neutral model ------------------------------------------------------

export const DINGTALK_ROOT_DEPT_ID = 1;

export function toDepartment(d: DingtalkDepartmentSummary & { order?: number | undefined }): Department {
  const isRoot = d.dept_id === DINGTALK_ROOT_DEPT_ID;
  return {
    id: String(d.dept_id),
    name: d.name,
    // The root (1) has no parent; DingTalk omits parent_id there (or could send 0).
    parentId: isRoot || !d.parent_id ? undefined : String(d.parent_id),
    // listsub has no order; department/get's order is ascending ("小的靠前").
    order: d.order ?? 0,
    status: 'active',
  };
}

/**
 * DingTalk user → Person.
 * - email: the organisation email (org_email) first, it is the one an admin manages;
 *   the member's personal `email` only when there is none.
 * - main department: v2 user/get and user/list have no main-department field (§4), so the
 *   first entry of dept_id_list is used.
 * - status: user/list and user/get only return current members, so every user read is
 *   `active`; `active: false` means "has not activated the DingTalk app yet", not "left".
 *   A member who left is gone: user/get answers 60121 and the source reports undefined.
 */
export function toPerson(u: DingtalkUser): Person {
  const departmentIds = u.dept_id_list.map(String);
  return {
    id: u.userid,
    loginName: u.userid,
    displayName: u.name,
    email: u.org_email ?? u.email,
    mobile: u.mobile,
    jobNumber: u.job_number,
    departmentIds,
    mainDepartmentId: departmentIds[0],
    status: 'active',
    // Used by policies only; DingTalk's `manager_userid` is on user/get alone, and a leaver
    // is gone from DingTalk (60121), so leaver forwarding uses leavers.fallback for DingTalk.
    ...(u.title ? { title: u.title } : {}),
  };
}
