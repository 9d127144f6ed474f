/**
 * The EKP simulator's seeded org per tenant (local/fixtures/org-generator.ts): the sandbox
 * tenant's from a fixed seed, so every developer sees the same people, others from their id.
 *
 * A tenant whose DingTalk section is a linked channel (an EKP-sourced tenant, like the
 * sandbox) also gets two active people sharing one mobile, so the DingTalk simulator can
 * seed exactly one ambiguous user (dingtalk-sim.seed.ts derives its org from these people).
 */
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { generateOrg, type GeneratedOrg } from '../../fixtures/org-generator';
import { hashSeed } from '../sim-random';

/** Seed of the sandbox tenant's org: fixed, so every developer sees the same people. */
export const SANDBOX_EKP_SEED = 20240611;
export const DEFAULT_SIM_ORG = { departments: 24, people: 240 } as const;

export type EkpSeedTenant = Pick<TenantConfig, 'id'> & { netease: { domain: string }; sync?: { source?: string }; dingtalk?: unknown };

/** Whether the tenant's DingTalk users are linked to EKP people (not a DingTalk-sourced tenant). */
export function hasLinkedDingtalk(tenant: EkpSeedTenant): boolean {
  return tenant.dingtalk !== undefined && tenant.sync?.source === 'ekp';
}

/** The tenant's seeded EKP org (same tenant → same org). */
export function seedEkpOrg(tenant: EkpSeedTenant): GeneratedOrg {
  const options = { seed: tenant.id === 'sandbox' ? SANDBOX_EKP_SEED : hashSeed(tenant.id), ...DEFAULT_SIM_ORG, domain: tenant.netease.domain };
  const plain = generateOrg(options);
  if (!hasLinkedDingtalk(tenant)) return plain;
  // The last two active people share the first one's mobile (the generator's statuses do
  // not depend on mobiles, so the second generation keeps them).
  const active = plain.people.map((p, i) => ({ p, i })).filter(({ p }) => p.status === 'active');
  const pair = active.slice(-2).map(({ i }) => i) as [number, number];
  return generateOrg({ ...options, sharedMobile: pair });
}
