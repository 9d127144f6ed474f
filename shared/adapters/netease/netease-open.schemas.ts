/**
 * Zod schemas for what the NetEase open platform (https://api.qiye.163.com, reference
 * netease-qiye-api.md §4) answers, and the mapping to camelCase types. Open-platform field
 * names (`unitParentId`, `accessTokenExpiredTime`) stop here.
 *
 * The facts behind these shapes come from community integrations (N1-N5), not from a
 * published NetEase specification, so the schemas are lenient: codes and ids may arrive as
 * numbers or strings, optional fields may be absent or null, unknown fields are ignored.
 */
import { z } from 'zod';

const str = z.union([z.string(), z.number()]).transform((v) => String(v));
const optStr = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : String(v)));
const optNum = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/), z.null(), z.literal('')])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : Number(v)));

/**
 * `{code, success, message, data}` (§4 "Envelope"). `code` 0 is success; N4's sample shows
 * `success` as the string 'true', so both spellings are accepted.
 */
export const openEnvelopeSchema = z.object({
  code: z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v)),
  success: z
    .union([z.boolean(), z.literal('true'), z.literal('false')])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === true || v === 'true')),
  message: z.string().nullish(),
  data: z.unknown().optional(),
});
export type OpenEnvelope = z.output<typeof openEnvelopeSchema>;

/** `yyyy-MM-dd HH:mm:ss`, China time (§4 acquireToken). */
export const CHINA_TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** /api/pub/token/acquireToken `data` (§4 "Tokens", N2-N5). */
export const acquireTokenDataSchema = z.object({
  accessToken: z.string().min(1),
  accessTokenExpiredTime: z.string().regex(CHINA_TIME_RE, 'must be yyyy-MM-dd HH:mm:ss'),
  // Returned, but not used: a fresh acquireToken costs the same one call as a refresh (see the client).
  refreshToken: z.string().nullish(),
  refreshTokenExpiredTime: z.string().nullish(),
});

/** One item of /api/open/unit/getUnitList (§4 "Units"). */
export const openUnitSchema = z.object({
  unitId: str,
  unitName: str,
  unitParentId: optStr,
  unitOpenId: optStr,
  rank: optNum,
  unitDesc: optStr,
});

export const openUnitListSchema = z
  .array(openUnitSchema)
  .nullish()
  .transform((l) => l ?? []);

/** One row of /api/open/unit/getAccountList (§4 "Units"): status 0 normal, 1 disabled, 2 deleted, 4 resigned, 5 handover, 6 handover done. */
export const openAccountSchema = z.object({
  accountName: str,
  accountOpenId: optStr,
  name: optStr,
  mobile: optStr,
  jobNumber: optStr,
  unitId: optStr,
  status: optNum,
});
export type NeteaseOpenAccount = z.output<typeof openAccountSchema>;

export const openAccountPageSchema = z.object({
  count: z.number().int().min(0),
  list: z.array(openAccountSchema).nullish().transform((l) => l ?? []),
});

/** /api/open/unit/moveUnit `data`: N4 reads `data.unitId`; tolerate nothing at all. */
export const moveUnitDataSchema = z.object({ unitId: optStr }).nullish();

/**
 * What the open platform's moveUnit is sent as the parent for "the top level". No source
 * documents it: N4 (the only moveUnit caller found) sets `'root'` for a move to the top
 * (under a key that looks like a typo, `parentId`), while createUnit takes the top level
 * by omitting its parent. We follow N4's value in `unitParentId`. If NetEase expects
 * something else it answers a parameter or not-found code, the move fails non-retryably
 * and nothing changes; the operator sees it in the run log.
 */
export const OPEN_TOP_LEVEL_PARENT = 'root';

/** A unit as the open platform lists it. Top-level units have no parentId. */
export interface NeteaseOpenUnit {
  unitId: string;
  unitName: string;
  parentId?: string;
  unitOpenId?: string;
  rank?: number;
  unitDesc?: string;
}

export function toOpenUnit(u: z.output<typeof openUnitSchema>): NeteaseOpenUnit {
  const out: NeteaseOpenUnit = { unitId: u.unitId, unitName: u.unitName };
  // A top-level unit's parent: absent, empty, or the marker we send for the top level.
  if (u.unitParentId !== undefined && u.unitParentId !== OPEN_TOP_LEVEL_PARENT) out.parentId = u.unitParentId;
  if (u.unitOpenId !== undefined) out.unitOpenId = u.unitOpenId;
  if (u.rank !== undefined) out.rank = u.rank;
  if (u.unitDesc !== undefined) out.unitDesc = u.unitDesc;
  return out;
}

/** ms epoch of a `yyyy-MM-dd HH:mm:ss` China-time string (UTC+8, no daylight saving time). */
export function parseChinaTime(value: string): number {
  const m = CHINA_TIME_RE.exec(value);
  if (!m) throw new RangeError('not a yyyy-MM-dd HH:mm:ss time');
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3600_000;
  // Date.UTC rolls over out-of-range fields (month 13, day 32): refuse those instead.
  const back = new Date(ms + 8 * 3600_000);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi) {
    throw new RangeError('not a valid calendar time');
  }
  return ms;
}
