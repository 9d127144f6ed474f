/**
 * What a function's wiring needs at cold start, built once per process:
 * environment, tenant config, logger, DynamoDB document client and table name, job
 * queue, secret store, clock, and a checked reader of per-tenant secrets.
 *
 * Handlers do not call it directly: the composition root (shared/wiring/wiring.ts,
 * `getWiring('<function name>')`) builds on it and hands each handler its use case's
 * dependencies. A bad environment or tenant config throws a
 * ConfigError listing every problem, so the function fails at init instead of serving
 * half-configured. In the local stack all functions share one process: the heavy parts
 * (clients, config) are shared, each function gets its own named logger.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/aws/dynamodb-client';
import { SecretsManagerSecretStore } from '../adapters/aws/secrets-manager.secret-store';
import { SqsJobQueue } from '../adapters/aws/sqs.job-queue';
import { FileSecretStore } from '../adapters/local/file.secret-store';
import { loadEnv, type BridgeEnv } from '../config/env';
import { findTenant, loadTenantsConfig } from '../config/load-config';
import { secretName, secretSchemas, type SecretKind, type SecretValue } from '../config/secrets';
import type { TenantConfig, TenantsFile } from '../config/tenant-config.schema';
import { NotConfiguredError } from '../errors/app-error';
import { createLogger, type Logger } from '../logging/logger';
import { systemClock, type Clock } from '../ports/clock';
import type { JobQueue } from '../ports/job-queue';
import type { SecretStore } from '../ports/secret-store';

export interface Runtime {
  readonly functionName: string;
  readonly env: BridgeEnv;
  /** QIYE_STAGE: part of every resource and secret name. */
  readonly stage: string;
  readonly tenants: TenantsFile;
  /** JSON logger whose lines carry `function`. */
  readonly logger: Logger;
  readonly ddb: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly jobs: JobQueue;
  readonly secrets: SecretStore;
  readonly clock: Clock;
  /** The tenant's config, or undefined when it is not declared. */
  tenant(id: string): TenantConfig | undefined;
  /**
   * The tenant's secret of this kind (with `channelId`: that extra channel's secret of this
   * vendor kind), validated against its schema.
   * @throws NotConfiguredError naming the secret and the missing/invalid fields (never values).
   */
  tenantSecret<K extends SecretKind>(tenantId: string, kind: K, channelId?: string): Promise<SecretValue<K>>;
}

/** What every runtime of a process shares: the config and the clients. */
export interface RuntimeCore {
  env: BridgeEnv;
  tenants: TenantsFile;
  ddb: DynamoDBDocumentClient;
  jobs: JobQueue;
  secrets: SecretStore;
}

let core: RuntimeCore | undefined;
const runtimes = new Map<string, Runtime>();

/**
 * The process's runtime for `functionName` (defaults to AWS_LAMBDA_FUNCTION_NAME), built
 * on first call and memoized.
 */
export function getRuntime(functionName: string = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown'): Runtime {
  const existing = runtimes.get(functionName);
  if (existing) return existing;
  core ??= buildCore(process.env);
  const c = core;
  const runtime = runtimeOf(functionName, c, createLogger({ level: c.env.LOG_LEVEL, fields: { function: functionName, stage: c.env.QIYE_STAGE } }));
  runtimes.set(functionName, runtime);
  return runtime;
}

/**
 * A runtime over a core the caller built: a process that is not a function, such as the CLI
 * acting on a deployed stage (shared/wiring/stage.ts). Not memoized: the caller keeps it.
 */
export function runtimeOf(functionName: string, c: RuntimeCore, logger: Logger): Runtime {
  const stage = c.env.QIYE_STAGE;
  return {
    functionName,
    env: c.env,
    stage,
    tenants: c.tenants,
    logger,
    ddb: c.ddb,
    tableName: c.env.TABLE_NAME,
    jobs: c.jobs,
    secrets: c.secrets,
    clock: systemClock,
    tenant: (id) => findTenant(c.tenants, id),
    tenantSecret: (tenantId, kind, channelId) => readTenantSecret(c.secrets, stage, tenantId, kind, channelId),
  };
}

/** Forget the memoized runtime (tests, and the local stack when it restarts in-process). */
export function resetRuntimeForTests(): void {
  core?.ddb.destroy();
  core = undefined;
  runtimes.clear();
}

function buildCore(processEnv: NodeJS.ProcessEnv): RuntimeCore {
  const env = loadEnv(processEnv);
  const tenants = loadTenantsConfig(processEnv);
  const secrets: SecretStore = env.QIYE_SECRETS_BACKEND === 'file' ? new FileSecretStore(env.QIYE_SECRETS_FILE) : new SecretsManagerSecretStore({ env: processEnv });
  return {
    env,
    tenants,
    ddb: createDocumentClient({ env: processEnv }),
    jobs: new SqsJobQueue({ env: processEnv }),
    secrets,
  };
}

/**
 * Read and validate one tenant secret.
 * @throws NotConfiguredError (501, code SECRET.NOT_CONFIGURED) when the secret is absent or
 *   its JSON does not match `secretSchemas[kind]`; the message names the secret and the
 *   fields at fault, never a value.
 */
export async function readTenantSecret<K extends SecretKind>(store: SecretStore, stage: string, tenantId: string, kind: K, channelId?: string): Promise<SecretValue<K>> {
  const name = secretName(stage, tenantId, kind, channelId);
  const value = await store.getJson(name);
  if (value === undefined) {
    throw new NotConfiguredError(`Secret "${name}" is not set (tenant "${tenantId}", ${kind})`, {
      code: 'SECRET.NOT_CONFIGURED',
      details: { secret: name, tenant: tenantId, kind },
    });
  }
  const result = secretSchemas[kind].safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.') || '(root)';
      const missing = issue.code === 'invalid_type' && getAt(value, issue.path) === undefined;
      // zod messages describe the expectation, not the input (reportInput is off), so they are safe to show.
      return `${field}: ${missing ? 'is missing' : issue.message}`;
    });
    throw new NotConfiguredError(`Secret "${name}" is invalid: ${problems.join('; ')}`, {
      code: 'SECRET.NOT_CONFIGURED',
      details: { secret: name, tenant: tenantId, kind, fields: result.error.issues.map((i) => i.path.map(String).join('.')) },
    });
  }
  return result.data as SecretValue<K>;
}

function getAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = value;
  for (const seg of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
