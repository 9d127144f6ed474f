/**
 * Tenant config of the mail features (`sync.mailLists`, `sync.aliases`), mirrored field for
 * field by shared/domain/mail-features.ts (MailListSettings, AliasSettings).
 *
 * Mailing lists need NetEase's open platform (its `maillist/*` calls, reference §4): a
 * tenant that enables them without `netease.openPlatform` is refused here, at config
 * validation. (A configured open platform whose authCode secret is missing is found only at
 * run time: the plan then reports the lists as unavailable.)
 */
import { z } from 'zod';

/** A prefix / suffix of a list address: characters NetEase local parts take. */
const affix = z.string().regex(/^[a-z0-9._-]{0,20}$/, 'must be up to 20 characters of a-z, 0-9, ".", "_" and "-"');

export const mailListsSchema = z
  .object({
    enabled: z.boolean().default(false),
    naming: z
      .object({
        /** `pinyin`: the pinyin of the department's unit name; `id`: the source department id (a code). */
        rule: z.enum(['pinyin', 'id']).default('pinyin'),
        prefix: affix.default(''),
        suffix: affix.default(''),
      })
      .strict()
      .default({ rule: 'pinyin', prefix: '', suffix: '' }),
    /** Members include the people of every sub-department. */
    includeSubDepartments: z.boolean().default(false),
  })
  .strict();

export const aliasesSchema = z.discriminatedUnion('rule', [
  /** The local part of a source field: `email` (the tenant's domain only), `loginName` or `jobNumber`. */
  z.object({ rule: z.literal('field'), field: z.enum(['email', 'loginName', 'jobNumber']) }).strict(),
  /** The pinyin of the person's display name, e.g. 张三 -> zhangsan. */
  z.object({ rule: z.literal('pinyin') }).strict(),
]);

/** Cross-field checks for the tenant's superRefine: lists need the open platform. */
export function checkMailFeatures(t: { netease: { openPlatform?: unknown }; sync: { mailLists?: { enabled: boolean } } }, ctx: z.RefinementCtx): void {
  if (t.sync.mailLists?.enabled && !t.netease.openPlatform) {
    ctx.addIssue({ code: 'custom', path: ['sync', 'mailLists', 'enabled'], message: 'needs netease.openPlatform: NetEase offers mailing lists only through its open platform (maillist/*)' });
  }
}
