/**
 * SecretStore on AWS Secrets Manager, read through Powertools Parameters' SecretsProvider
 * (@aws-lambda-powertools/parameters/secrets), which caches each value for `maxAge`.
 *
 * Values are JSON objects (shapes in shared/config/secrets.ts). Reads are cached in
 * memory for a short while (default 60 s): a warm Lambda instance serves many requests
 * and values rotate rarely; a changed value is picked up within the TTL, and at once by
 * the instance that wrote it. A missing secret is cached too (as "no value"), so a tenant
 * without an optional secret does not cost a call per request. Values never appear in logs
 * or error messages; only names do. JSON is parsed here, not by the provider's `json`
 * transform: its error message quotes part of the value.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { AppError, UpstreamError } from '../../errors/app-error';
import type { SecretStore } from '../../ports/secret-store';

export interface SecretsManagerSecretStoreOptions {
  client?: SecretsManagerClient;
  /** Used only when no client is given; defaults to AWS_ENDPOINT_URL_SECRETS_MANAGER, then the SDK default. */
  endpoint?: string;
  region?: string;
  credentials?: SecretsManagerClientConfig['credentials'];
  /** How long a value is served from memory (default 60 s; whole seconds, rounded up; 0 = no cache). */
  cacheTtlMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** What the provider caches for a secret that does not exist (it caches no `undefined`). */
const MISSING = '';

/**
 * SecretsProvider that answers a missing secret with MISSING instead of an error, so that
 * the answer is cached like any other, and that can seed its cache after our own write.
 */
class BridgeSecretsProvider extends SecretsProvider {
  protected override async _get(name: string, options?: Parameters<SecretsProvider['get']>[1]): Promise<string | Uint8Array | undefined> {
    try {
      return await super._get(name, options);
    } catch (err) {
      if (err instanceof ResourceNotFoundException || errorName(err) === 'ResourceNotFoundException') return MISSING;
      throw err;
    }
  }

  /** The cache key BaseProvider.get uses for a get without transform: `[name, undefined].toString()`. */
  remember(name: string, text: string, maxAge: number): void {
    this.addToCache([name, undefined].toString(), text, maxAge);
  }
}

export class SecretsManagerSecretStore implements SecretStore {
  private readonly provider: BridgeSecretsProvider;
  private readonly client: SecretsManagerClient;
  private readonly maxAge: number;

  constructor(options: SecretsManagerSecretStoreOptions = {}) {
    const env = options.env ?? process.env;
    if (options.client) {
      this.client = options.client;
    } else {
      const config: SecretsManagerClientConfig = {};
      const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_SECRETS_MANAGER || undefined);
      if (endpoint) config.endpoint = endpoint;
      if (options.region) config.region = options.region;
      if (options.credentials) config.credentials = options.credentials;
      this.client = new SecretsManagerClient(config);
    }
    this.provider = new BridgeSecretsProvider({ awsSdkV3Client: this.client });
    // The provider keeps whole seconds (ExpirableValue uses Date#setSeconds).
    this.maxAge = Math.max(0, Math.ceil((options.cacheTtlMs ?? 60_000) / 1000));
  }

  /** The secret's JSON value; undefined when it does not exist or is empty. Cached for the TTL. */
  async getJson(name: string): Promise<Record<string, unknown> | undefined> {
    let text: string | Uint8Array | undefined;
    try {
      text = await this.provider.get(name, { maxAge: this.maxAge });
    } catch (err) {
      // GetParameterError wraps the SDK's error as its cause.
      throw awsError('get', name, (err as Error).cause ?? err);
    }
    if (text instanceof Uint8Array) throw new AppError('SECRET.INVALID_JSON', `Secret "${name}" holds binary data, not JSON`);
    // Parsed on every read: each caller gets its own object, as before.
    return text === undefined || text.trim() === '' ? undefined : parseObject(name, text);
  }

  /**
   * Replace the value (PutSecretValue). A secret that does not exist yet is created
   * (CreateSecret), so the port's "create or replace" holds; in AWS the stateful stack
   * normally creates every tenant secret, so this fallback is rare.
   */
  async putJson(name: string, value: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify(value);
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: text }));
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw awsError('put', name, err);
      try {
        await this.client.send(new CreateSecretCommand({ Name: name, SecretString: text }));
      } catch (createErr) {
        throw awsError('create', name, createErr);
      }
    }
    // The writer sees its own write at once; other instances within the TTL.
    this.provider.remember(name, text, this.maxAge);
  }
}

function parseObject(name: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Do not chain the SyntaxError as cause: its message quotes part of the value.
    throw new AppError('SECRET.INVALID_JSON', `Secret "${name}" does not hold valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('SECRET.INVALID_JSON', `Secret "${name}" does not hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function errorName(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'name' in err ? String((err as { name: unknown }).name) : undefined;
}

const NOT_RETRYABLE = new Set(['AccessDeniedException', 'InvalidParameterException', 'InvalidRequestException', 'ValidationException', 'DecryptionFailure']);

function awsError(op: 'get' | 'put' | 'create', name: string, err: unknown): UpstreamError {
  const code = errorName(err) ?? 'Error';
  return new UpstreamError('aws', 'AWS.SECRETS_MANAGER', `Secrets Manager could not ${op} secret "${name}" (${code})`, {
    cause: err,
    retryable: !NOT_RETRYABLE.has(code),
  });
}
