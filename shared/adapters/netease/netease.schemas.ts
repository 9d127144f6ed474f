/**
 * Zod schemas for what the NetEase legacy API answers (reference netease-qiye-api.md §1-2),
 * and the mapping to the camelCase types the rest of the bridge uses. NetEase field names
 * (`unit_id`, `account_name`, `suc`, `con`) stop here.
 *
 * The schemas are lenient where the sources disagree or are silent: ids and numbers may
 * arrive as strings or numbers, optional fields may be absent or null, and unknown fields
 * are ignored.
 */
import { z } from 'zod';
import type { NeteaseAccount, NeteaseAccountStatus, NeteaseAccountSummary, NeteaseUnit } from '../../ports/netease-directory';
import type { NeteaseMailLogEntry, NeteaseMailLogs } from '../../ports/netease-mailbox';

const str = z.union([z.string(), z.number()]).transform((v) => String(v));
const optStr = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : String(v)));
const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform((v) => Number(v));
const optNum = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/), z.null(), z.literal('')])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : Number(v)));

/** `{suc, con, error_code, ver}` (§1 "Response"). `suc` has been seen compared with '1' (S2), so accept that too. */
export const envelopeSchema = z.object({
  suc: z.union([z.boolean(), z.literal(1), z.literal(0), z.literal('1'), z.literal('0'), z.literal('true'), z.literal('false')]).transform((v) => v === true || v === 1 || v === '1' || v === 'true'),
  con: z.unknown().optional(),
  error_code: optStr,
  ver: z.unknown().optional(),
});
export type NeteaseEnvelope = z.output<typeof envelopeSchema>;

/** A unit (department) as NetEase returns it (createUnit, getUnit, getUnitList items). */
export const unitConSchema = z.object({
  unit_id: str,
  unit_name: str,
  parent_id: optStr,
  unit_desc: optStr,
  rank: optNum,
});

export const unitListConSchema = z.array(unitConSchema);

/** getAccount / createAccount `con` (§2 Accounts). `unit_list` is unconfirmed in shape: ids or objects. */
export const accountConSchema = z.object({
  account_name: str,
  account_openid: optStr,
  nickname: optStr,
  mobile: optStr,
  job_no: optStr,
  domain_openid: optStr,
  org_openid: optStr,
  unit_id: optStr,
  unit_list: z.array(z.unknown()).nullish(),
  create_time: optNum,
  exp_time: optStr,
  quota: optStr,
  status: optNum,
  type: optNum,
});

/** unit/getAccountList `con` (§2 Units): `{count, list}`, 2000 per page. */
export const accountListConSchema = z.object({
  count: num,
  list: z
    .array(
      z.object({
        account_name: str,
        account_openid: optStr,
        nickname: optStr,
        mobile: optStr,
        job_no: optStr,
        create_time: optNum,
      }),
    )
    .nullish()
    .transform((l) => l ?? []),
});

/** mail/getReceivedMailLogs `con` (§2 Mail logs). */
export const mailLogsConSchema = z.object({
  total: optNum,
  list: z
    .array(
      z.object({
        mailfrom: optStr,
        mailto: optStr,
        subject: optStr,
        sendtime: optStr,
        sendip: optStr,
        mailsize: optNum,
        result: optStr,
      }),
    )
    .nullish()
    .transform((l) => l ?? []),
});

/** oaserver user/getUnreadMsg (§2 Unread count): `{status:"OK", count, msg?}`; status case varies (S2 "ok", S3 "OK"). */
export const unreadResponseSchema = z.object({
  status: str,
  count: optNum,
  msg: optStr,
});

// ---- domain-friendly types -------------------------------------------------------------

export interface NeteaseAccountPage {
  /** Total number of accounts matching, across all pages. */
  count: number;
  /** 1-based page number this page answers. */
  pageNum: number;
  accounts: NeteaseAccountSummary[];
}

export function toUnit(u: z.output<typeof unitConSchema>): NeteaseUnit {
  return omitUndefined({ unitId: u.unit_id, unitName: u.unit_name, parentId: u.parent_id, unitDesc: u.unit_desc, rank: u.rank });
}

export function toAccount(a: z.output<typeof accountConSchema>): NeteaseAccount {
  const status: NeteaseAccountStatus = a.status === undefined ? 'unknown' : a.status === 0 ? 'normal' : a.status === 1 ? 'suspended' : a.status === 2 ? 'deleted' : 'unknown';
  const unitIds = a.unit_list
    ?.map((u) => (typeof u === 'string' || typeof u === 'number' ? String(u) : u && typeof u === 'object' && 'unit_id' in u ? String((u as { unit_id: unknown }).unit_id) : undefined))
    .filter((u): u is string => u !== undefined);
  return omitUndefined({
    accountName: a.account_name,
    accountOpenId: a.account_openid,
    nickname: a.nickname,
    mobile: a.mobile,
    jobNo: a.job_no,
    unitId: a.unit_id,
    unitIds,
    createTime: a.create_time,
    expTime: a.exp_time,
    quota: a.quota,
    status,
    statusCode: a.status,
    isMailList: a.type === undefined ? undefined : a.type === 0,
  });
}

export function toAccountPage(c: z.output<typeof accountListConSchema>, pageNum: number): NeteaseAccountPage {
  return {
    count: c.count,
    pageNum,
    accounts: c.list.map((a) =>
      omitUndefined({ accountName: a.account_name, accountOpenId: a.account_openid, nickname: a.nickname, mobile: a.mobile, jobNo: a.job_no, createTime: a.create_time }),
    ),
  };
}

export function toMailLogs(c: z.output<typeof mailLogsConSchema>): NeteaseMailLogs {
  return {
    total: c.total ?? c.list.length,
    entries: c.list.map((e) => omitUndefined({ from: e.mailfrom, to: e.mailto, subject: e.subject, sentAt: e.sendtime, senderIp: e.sendip, sizeBytes: e.mailsize, result: e.result })),
  };
}

function omitUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}
