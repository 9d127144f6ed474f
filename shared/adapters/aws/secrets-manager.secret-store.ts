/**
 * SecretStore on AWS Secrets Manager.
 *
 * Values are JSON objects (shapes in shared/config/secrets.ts). Reads are cached in
 * memory for a short while (default 60 s): a warm Lambda instance serves many requests
 * and values rotate rarely; a changed value is picked up within the TTL, and at once by
 * the instance that wrote it. Values never appear in logs or error messages; only names do.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { AppError, UpstreamError } from '../../errors/app-error';
import { systemClock, type Clock } from '../../ports/clock';
import type { SecretStore } from '../../ports/secret-store';

export interface SecretsManagerSecretStoreOptions {
  client?: SecretsManagerClient;
  /** Used only when no client is given; defaults to AWS_ENDPOINT_URL_SECRETS_MANAGER, then the SDK default. */
  endpoint?: string;
  region?: string;
  credentials?: SecretsManagerClientConfig['credentials'];
  cacheTtlMs?: number;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

interface CacheEntry {
  value: Record<string, unknown> | undefined;
  expires: number;
}

export class SecretsManagerSecretStore implements SecretStore {
  private readonly client: SecretsManagerClient;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly cache = new Map<string, CacheEntry>();

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
    this.ttlMs = options.cacheTtlMs ?? 60_000;
    this.clock = options.clock ?? systemClock;
  }

  /** The secret's JSON value; undefined when it does not exist or is empty. Cached for the TTL. */
  async getJson(name: string): Promise<Record<string, unknown> | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(name);
    if (hit && hit.expires > now) return hit.value && structuredClone(hit.value);

    let text: string | undefined;
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      text = out.SecretString;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') {
        text = undefined;
      } else {
        throw awsError('get', name, err);
      }
    }
    const value = text === undefined || text.trim() === '' ? undefined : parseObject(name, text);
    this.cache.set(name, { value, expires: now + this.ttlMs });
    return value && structuredClone(value);
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
    this.cache.set(name, { value: structuredClone(value), expires: this.clock.now() + this.ttlMs });
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
