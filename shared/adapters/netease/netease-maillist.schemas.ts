/**
 * NetEase payloads of the mail features: account aliases (legacy API, reference
 * netease-qiye-api.md §2) and mailing lists (open platform `maillist/*`, §4), parsed at the
 * edge and mapped to the port's terms (shared/ports/netease-maillists.ts).
 *
 * Sources: §2 lists `getAccountAliasList` (✔) and §4 says the open platform's returns
 * `data.alias`; a public open-platform integration (lengmuning/feishu-netease-mail-selfservice,
 * N2) reads `data.alias` as a list of addresses. Unconfirmed: the legacy `con` shape. We
 * accept an array of strings, `{alias: [...]}` or null, each entry a local part or a full
 * address (only the tenant's domain counts).
 */
import { z } from 'zod';

export const aliasListConSchema = z.union([z.array(z.string()), z.object({ alias: z.array(z.string()).nullish() }).passthrough(), z.null()]);

/** Lowercase local parts of the tenant's domain; other domains are dropped. */
export function toAliasNames(con: z.output<typeof aliasListConSchema>, domain: string): string[] {
  const raw = con === null ? [] : Array.isArray(con) ? con : (con.alias ?? []);
  const out = new Set<string>();
  for (const a of raw) {
    const v = a.trim().toLowerCase();
    const at = v.indexOf('@');
    if (at < 0) out.add(v);
    else if (v.slice(at + 1) === domain.toLowerCase()) out.add(v.slice(0, at));
  }
  out.delete('');
  return [...out].sort();
}

/**
 * One page of `/api/open/maillist/getMaillistList` (Unconfirmed: name and shape chosen to
 * mirror unit/getAccountList's `{count, list}`; see netease-open.client.ts).
 */
export const openMaillistPageSchema = z
  .object({
    count: z.number().int().nonnegative(),
    list: z.array(z.object({ accountName: z.string().min(1), name: z.string().nullish() }).passthrough()).default([]),
  })
  .passthrough();

/** `/api/open/maillist/getMaillistMember` (Unconfirmed): `{members: [address...]}`. */
export const openMaillistMembersSchema = z.object({ members: z.array(z.string()).default([]) }).passthrough();

/** Write calls answer with `data` null or an object we do not read. */
export const openIgnoredDataSchema = z.unknown();
