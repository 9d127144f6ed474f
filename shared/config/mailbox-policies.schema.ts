/**
 * Tenant config for mailbox policies, display order and leaver forwarding (`sync.policies`,
 * `sync.displayOrder`, `sync.leavers`), spread into the `sync` schema of
 * tenant-config.schema.ts. The planner's types are in shared/domain/mailbox-policies.ts;
 * the README's "Tenant configuration" section documents every field.
 *
 * Every field is optional and off by default, so an existing tenant's runs do not change.
 */
import { z } from 'zod';

const flag = z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1 (the value NetEase takes)' });

const ADDRESS = /^[^\s@]+@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/i;
const address = z.string().trim().regex(ADDRESS, 'must be a mail address such as it-desk@acme.com');

const setSchema = z
  .object({
    /** NetEase `quota`; the unit is unconfirmed (the official demo sends 5120, read as MB). */
    quota: z.number().int().positive().max(10_000_000).optional(),
    /** NetEase `addr_visible` (address-book visibility), sent as given. */
    addrVisible: flag.optional(),
    /** NetEase `addr_right` (address-book right), sent as given. */
    addrRight: flag.optional(),
  })
  .strict()
  .refine((s) => s.quota !== undefined || s.addrVisible !== undefined || s.addrRight !== undefined, 'must set at least one of quota, addrVisible, addrRight');

const matchSchema = z.union(
  [
    z.object({ department: z.string().trim().min(1, 'must name a department (its source id or exact name)'), recursive: z.boolean().default(false) }).strict(),
    z
      .object({
        attribute: z.enum(['title', 'jobNumber', 'loginName', 'email']),
        equals: z.union([z.string().trim().min(1), z.array(z.string().trim().min(1)).min(1)]),
      })
      .strict(),
    z.object({ all: z.literal(true) }).strict(),
  ],
  { error: 'must be { department, recursive? }, { attribute, equals } or { all: true }' },
);

const ruleSchema = z
  .object({
    /** Shown in the plan and `explain`; default `policies[<index>]`. */
    name: z.string().trim().min(1).max(64).optional(),
    match: matchSchema,
    set: setSchema,
  })
  .strict();

export const policiesSchema = z.array(ruleSchema).max(200).superRefine((rules, ctx) => {
  const names = new Map<string, number>();
  rules.forEach((r, i) => {
    if (r.name === undefined) return;
    if (names.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicates policies[${names.get(r.name)}].name "${r.name}"` });
    else names.set(r.name, i);
  });
});

export const leaversSchema = z
  .object({
    /** `manager` (from the source) or a mail address; unset = no forwarding. */
    forwardTo: z
      .string()
      .trim()
      .refine((v) => v === 'manager' || ADDRESS.test(v), 'must be "manager" or a mail address such as it-desk@acme.com')
      .optional(),
    /** With `forwardTo: "manager"`: where mail goes when the source names no manager with a mailbox. */
    fallback: address.optional(),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.fallback !== undefined && l.forwardTo !== 'manager') ctx.addIssue({ code: 'custom', path: ['fallback'], message: 'is only used with forwardTo "manager"' });
  });

/** The `sync` fields, spread into the sync schema. */
export const mailboxPolicyShape = {
  /** Quota and address-book settings by department or attribute; first match wins. */
  policies: policiesSchema.default([]),
  /** Mirror the source's display order of units and people (updateUnitRank / updateAccountRank). */
  displayOrder: z.boolean().default(false),
  /** Leaver forwarding during the suspension grace period (opt-in). */
  leavers: leaversSchema.default({}),
};
