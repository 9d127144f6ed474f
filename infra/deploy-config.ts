/**
 * Deployment options for the CDK app, read from CDK context (cdk.json `context`, or
 * `cdk synth -c key=value`) and validated with zod before any construct is created.
 * A bad value stops synth with every problem listed, the same way a bad tenant file does.
 *
 * Context values given with `-c` arrive as strings and values in cdk.json arrive typed,
 * so numbers and booleans accept both forms ("15" and 15, "true" and true).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TENANTS_FILE, loadTenantsFile, zodProblems } from '../shared/config/load-config';
import type { TenantsFile } from '../shared/config/tenant-config.schema';
import { DEFAULT_INCREMENTAL_MINUTES } from '../shared/contracts/app-manifest';
import { ConfigError } from '../shared/errors/app-error';

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * 180 days: the PRC Cybersecurity Law (Art. 21) asks operators to keep network logs for at
 * least six months, and the customers of this bridge are Chinese enterprises.
 */
export const DEFAULT_LOG_RETENTION_DAYS = 180;

/** The context keys this app reads; anything else in the context belongs to the CDK. */
export const CONTEXT_KEYS = [
  'stage',
  'tenantsFile',
  'account',
  'region',
  'syncRateMinutes',
  'scheduleKind',
  'alarmEmail',
  'staticEgress',
  'natGateways',
  'logRetentionDays',
  'logLevel',
  'nag',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** `-c key=` gives an empty string: treat it as "not set" for optional keys. */
const unsetIfEmpty = (v: unknown) => (v === '' || v === null ? undefined : v);

const flag = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean({ error: 'must be true or false' }),
);

const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

/** Default minutes between EKP incremental runs (tenants may set sync.schedule.incrementalMinutes). */
const DEFAULT_SYNC_RATE = DEFAULT_INCREMENTAL_MINUTES;

export const deployContextSchema = z.object({
  /** Same rule as QIYE_STAGE in shared/config/env.ts: it is part of every physical name. */
  stage: z.string().regex(/^[a-z0-9-]{1,20}$/, 'must be 1-20 characters of a-z, 0-9 and -').default('prod'),
  tenantsFile: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  account: z.preprocess(unsetIfEmpty, z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional()),
  region: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, 'must be an AWS region code such as ap-east-1 or cn-north-1')
      .optional(),
  ),
  syncRateMinutes: wholeNumber(1, 1440).default(DEFAULT_SYNC_RATE),
  /**
   * Tenant sync schedules: `scheduler` (EventBridge Scheduler, cron in the tenant's time zone)
   * or `rules` (EventBridge rules, cron shifted to UTC). Default: rules in the China regions,
   * where Scheduler availability is unconfirmed (toolchain.md), scheduler elsewhere.
   */
  scheduleKind: z.preprocess(unsetIfEmpty, z.enum(['scheduler', 'rules']).optional()),
  alarmEmail: z.preprocess(unsetIfEmpty, z.email('must be an email address').optional()),
  staticEgress: flag.default(false),
  /** NAT gateways (one Elastic IP each) when staticEgress is on; 2 spreads over two AZs. */
  natGateways: wholeNumber(1, 2).default(1),
  logRetentionDays: wholeNumber(1, 3653)
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (CloudWatch Logs retention values)`,
    })
    .default(DEFAULT_LOG_RETENTION_DAYS),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Run the cdk-nag AwsSolutions checks on every synth (errors fail the synth). */
  nag: flag.default(true),
});

export type DeployContext = z.output<typeof deployContextSchema>;

export interface DeployConfig extends Omit<DeployContext, 'tenantsFile' | 'account' | 'region' | 'scheduleKind'> {
  /** Resolved: the context's, else rules in cn-* regions, else scheduler. */
  scheduleKind: 'scheduler' | 'rules';
  /** Absolute path of the tenant config file. */
  tenantsFile: string;
  /** Stack environment; undefined means environment-agnostic stacks. */
  env: { account?: string; region?: string } | undefined;
}

/**
 * Read and validate this app's context keys.
 *
 * @param getContext usually `(k) => app.node.tryGetContext(k)`
 * @param env process environment: QIYE_TENANTS_FILE and CDK_DEFAULT_ACCOUNT/REGION
 * @throws ConfigError listing every invalid key
 */
export function readDeployConfig(getContext: (key: ContextKey) => unknown, env: NodeJS.ProcessEnv = process.env): DeployConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value = getContext(key);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = deployContextSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `CDK context is invalid (${parsed.error.issues.length} problem(s)); fix cdk.json or the -c options:`,
      zodProblems(parsed.error, 'cdk context'),
    );
  }
  const { tenantsFile, account, region, scheduleKind, ...rest } = parsed.data;
  // CDK_DEFAULT_* are used only as a pair: without credentials the CLI still sets
  // CDK_DEFAULT_REGION=us-east-1, and baking that guess into the templates (asset bucket,
  // ARNs) would break a deployment to any other region. Then the stacks stay
  // environment-agnostic and take the region of whatever deploys them.
  const defaultAccount = nonEmpty(env.CDK_DEFAULT_ACCOUNT);
  const defaultRegion = nonEmpty(env.CDK_DEFAULT_REGION);
  const defaultsUsable = !account && !region && defaultAccount && defaultRegion;
  const acct = account ?? (defaultsUsable ? defaultAccount : undefined);
  const reg = region ?? (defaultsUsable ? defaultRegion : undefined);
  return {
    ...rest,
    scheduleKind: scheduleKind ?? (reg?.startsWith('cn-') ? 'rules' : 'scheduler'),
    // Precedence: explicit context, then the same variable the functions and CLI honour.
    tenantsFile: resolve(tenantsFile ?? nonEmpty(env.QIYE_TENANTS_FILE) ?? DEFAULT_TENANTS_FILE),
    env: acct || reg ? { ...(acct ? { account: acct } : {}), ...(reg ? { region: reg } : {}) } : undefined,
  };
}

export interface DeployTenants {
  /** Absolute path the config was read from. */
  file: string;
  /** The validated config (defaults applied). */
  config: TenantsFile;
  /**
   * The file's own JSON document, re-serialized compactly: what is baked into every bundle
   * as `__QIYE_TENANTS__` and validated again at cold start by loadTenantsConfig().
   * The raw document rather than the parsed output, so the functions apply the schema's
   * defaults and transforms themselves, with the code they were bundled with.
   */
  bakedJson: string;
}

/**
 * Load the tenant config for a deployment with loadTenantsFile() (every problem listed in
 * a ConfigError) and keep its raw document for baking into the bundles.
 */
export function loadDeployTenants(file: string): DeployTenants {
  const config = loadTenantsFile(file);
  // Already read and validated above, so this parse cannot fail on a file that is not
  // being rewritten under us.
  const bakedJson = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
  return { file, config, bakedJson };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() ? v.trim() : undefined;
}
