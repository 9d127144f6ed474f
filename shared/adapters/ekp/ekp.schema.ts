/**
 * Landray EKP "组织架构接出" (org export) REST payloads, validated at the edge.
 *
 * Facts from reference sync-and-ekp.md Part A (EKP src `SysSynchroGetOrgWebServiceImp`,
 * `SysOrgWebserviceConstant`, `sysOrg_out_rest_help.jsp`):
 * - REST: `POST {ekp}/api/sys-organization/sysSynchroGetOrg/{op}` with a JSON context body (§A1).
 * - Response `{returnState: 0 none | 1 fail | 2 ok, message, count, timeStamp}` (§A3).
 * - `message` is the error text, or the result rows as a JSON array *encoded as a string*:
 *   the body is parsed once, then `message` is parsed again (§A3).
 * - Keys whose value is null are usually left out, but some (hierarchyId, isExternal) are
 *   written as JSON null, so every optional field here accepts null (§A4).
 * - Person rows carry `password` (a hash). It is removed while `message` is parsed, before
 *   any object of ours holds it, and no schema here has a field for it (§A4).
 */
import { z } from 'zod';
import { normalizeEkpTime } from './ekp-time';

/** Base path of the org export REST service (§A1). */
export const EKP_ORG_SERVICE_PATH = '/api/sys-organization/sysSynchroGetOrg';

/** Element types, in the order the v16.0.5+ server walks them when several are requested (§A6). */
export const EKP_ORG_TYPES = ['org', 'dept', 'post', 'group', 'person'] as const;
export type EkpOrgType = (typeof EKP_ORG_TYPES)[number];

/** returnState values (SysOrgWebserviceConstant.OPT_ORG_STATUS_*). */
export const EKP_RETURN_STATE = { NOOPT: 0, FAIL: 1, SUCCESS: 2 } as const;

/**
 * One element exactly as EKP serialises it (keys of SysOrgWebserviceConstant). This is the
 * wire shape: the simulator and the fixtures produce it; the client never keeps it
 * (it parses into {@link EkpElement}, which has no password).
 */
export interface EkpWireElement {
  id: string;
  lunid: string;
  name: string;
  type: EkpOrgType;
  isAvailable: boolean;
  isBusiness: boolean;
  isExternal: boolean | null;
  /** `yyyy-MM-dd HH:mm:ss.SSS` */
  alterTime: string;
  no?: string;
  /** fdOrder as a string (EKP writes `String.valueOf(fdOrder)`). */
  order?: string;
  keyword?: string;
  memo?: string;
  hierarchyId: string | null;
  orgEmail?: string;
  langProps?: Record<string, string>;
  /** org/dept/post/person: the parent org or dept id. */
  parent?: string;
  thisLeader?: string;
  superLeader?: string;
  /** post: the people holding it. */
  persons?: string[];
  /** person: the posts they hold. */
  posts?: string[];
  loginName?: string;
  loginNameLower?: string;
  nickName?: string;
  email?: string;
  mobileNo?: string;
  workPhone?: string;
  sex?: 'M' | 'F';
  isActivated?: boolean;
  canLogin?: boolean;
  /** The password hash EKP includes for persons. Dropped by our client at ingress. */
  password?: string;
  customProps?: Record<string, string>;
}

/** Keys that look like a password or a password hash (password, initPassword, fdPwd...). */
export const PASSWORD_LIKE_KEY = /pass|pwd/i;

/** JSON.parse reviver that deletes password-like keys as the object is built. */
function dropPasswords(key: string, value: unknown): unknown {
  return PASSWORD_LIKE_KEY.test(key) ? undefined : value;
}

/** Remove password-like keys from an already-parsed value (for a `message` that is not a string). */
function scrubPasswords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubPasswords);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!PASSWORD_LIKE_KEY.test(k)) out[k] = scrubPasswords(v);
    return out;
  }
  return value;
}

/** The outer response body (first parse). */
export const ekpEnvelopeSchema = z.object({
  returnState: z.coerce.number().int(),
  // A string (rows as JSON, or error text), or null/absent when nothing happened. A few
  // gateways re-serialise it as a real array; accept that too.
  message: z.union([z.string(), z.array(z.unknown())]).nullish(),
  count: z.coerce.number().int().min(0).nullish(),
  timeStamp: z.string().nullish(),
});
export type EkpEnvelope = z.output<typeof ekpEnvelopeSchema>;

/** Thrown by {@link parseEkpMessageRows} when `message` is not a JSON array. */
export class EkpMessageFormatError extends Error {}

/**
 * The second parse: `message` holds the result rows as a JSON array encoded in a string
 * (§A3). Password-like keys are dropped by the reviver while parsing, so the hash never
 * reaches an object we keep, log or map.
 */
export function parseEkpMessageRows(message: EkpEnvelope['message']): unknown[] {
  if (message === undefined || message === null || message === '') return [];
  if (Array.isArray(message)) return scrubPasswords(message) as unknown[];
  let rows: unknown;
  try {
    rows = JSON.parse(message, dropPasswords);
  } catch {
    // Never echo the text: it may be a row dump.
    throw new EkpMessageFormatError(`message is not JSON (${message.length} characters)`);
  }
  if (!Array.isArray(rows)) throw new EkpMessageFormatError(`message is JSON but not an array (${typeof rows})`);
  return rows;
}

// EKP's JSON writer (json-simple) emits Java Booleans as true/false; some deployments put
// a gateway in front that stringifies them. Accept both.
const boolish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const optText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : String(v).trim() || undefined));
const idList = z
  .array(z.union([z.string(), z.number()]).transform(String))
  .nullish()
  .transform((v) => v ?? []);

const ekpTime = z.string().transform((s, ctx) => {
  const t = normalizeEkpTime(s);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is not yyyy-MM-dd HH:mm:ss.SSS' });
    return z.NEVER;
  }
  return t;
});

/**
 * One row of getUpdatedElements, as we keep it: only the fields we use, alterTime
 * normalised, unknown keys (langProps, customProps, range...) stripped.
 */
export const ekpElementSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  name: optText.transform((v) => v ?? ''),
  type: z.enum(EKP_ORG_TYPES),
  isAvailable: boolish.nullish(),
  isBusiness: boolish.nullish(),
  alterTime: ekpTime,
  no: optText,
  order: optText,
  parent: optText,
  /** org/dept: the leader (§A4), used as the department's manager for leaver forwarding. */
  thisLeader: optText,
  hierarchyId: optText,
  posts: idList,
  persons: idList,
  loginName: optText,
  email: optText,
  mobileNo: optText,
  isActivated: boolish.nullish(),
  canLogin: boolish.nullish(),
});
export type EkpElement = z.output<typeof ekpElementSchema>;

/** One row of getElementsBaseInfo: `{id, lunid, name, type}` plus no/order/keyword when asked (§A5). */
export const ekpBaseInfoSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  name: optText,
  type: z.enum(EKP_ORG_TYPES),
});
export type EkpBaseInfo = z.output<typeof ekpBaseInfoSchema>;

/** The request context of getUpdatedElements (SysSynchroGetOrgContext, §A2). */
export interface EkpUpdatedElementsRequest {
  /** A JSON array encoded as a string, e.g. `[{"type":"person"}]`. */
  returnOrgType: string;
  count: number;
  beginTimeStamp?: string;
  endTimeStamp?: string;
}

/** Encode the `returnOrgType` string EKP expects. */
export function encodeReturnOrgType(types: readonly EkpOrgType[]): string {
  return JSON.stringify(types.map((type) => ({ type })));
}
