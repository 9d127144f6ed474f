/**
 * Environment of every function, read once at cold start. CDK sets these in AWS; the
 * local stack sets them before it imports the handlers.
 */
import { z } from 'zod';
import { ConfigError } from '../errors/app-error';
import { zodProblems } from './load-config';
import { publicBaseUrlSchema } from './public-url';

const envSchema = z.object({
  /** Deployment stage; part of every resource and secret name. */
  QIYE_STAGE: z.string().regex(/^[a-z0-9-]{1,20}$/, 'must be 1-20 characters of a-z, 0-9 and -').default('local'),
  TABLE_NAME: z.string().min(3),
  QUEUE_URL_SYNC: z.string().url().optional(),
  QUEUE_URL_CALLBACK: z.string().url().optional(),
  QUEUE_URL_NOTIFY: z.string().url().optional(),
  /** `aws` = Secrets Manager; `file` = the local JSON file store (QIYE_SECRETS_FILE). */
  QIYE_SECRETS_BACKEND: z.enum(['aws', 'file']).default('aws'),
  QIYE_SECRETS_FILE: z.string().min(1).optional(),
  /** Public base URL of the HTTP API (stack output HttpApiUrl), used to build links. */
  QIYE_PUBLIC_BASE_URL: publicBaseUrlSchema.optional(),
  /** Public base URL of the SSO Function URL (stack output SsoFunctionUrl), when known; the local stack sets it. */
  QIYE_SSO_BASE_URL: publicBaseUrlSchema.optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Seconds without progress after which a sync run is taken over (SyncOptions.stuckAfterMs; default 600). Tests use a few seconds. */
  QIYE_SYNC_STUCK_SECONDS: z.coerce.number().int().min(1).max(86_400).optional(),
  /** Seconds an operation being applied stays leased to its delivery (SyncOptions.opLeaseSeconds; default 120). Crash tests use less. */
  QIYE_SYNC_OP_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).optional(),
});

export type BridgeEnv = z.output<typeof envSchema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): BridgeEnv {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new ConfigError('Function environment is invalid:', zodProblems(result.error, 'env'));
  const e = result.data;
  if (e.QIYE_SECRETS_BACKEND === 'file' && !e.QIYE_SECRETS_FILE) {
    throw new ConfigError('Function environment is invalid:', [{ file: 'env', path: 'QIYE_SECRETS_FILE', reason: 'is required when QIYE_SECRETS_BACKEND=file' }]);
  }
  return e;
}
