import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { ConfigError, NotConfiguredError } from '../../shared/errors/app-error';
import { getRuntime, readTenantSecret, resetRuntimeForTests } from '../../shared/runtime/runtime';

const SAVED = { ...process.env };

describe('getRuntime', () => {
  let secretsFile: string;

  beforeEach(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qiye-runtime-'));
    secretsFile = join(dir, 'secrets.json');
    Object.assign(process.env, {
      QIYE_STAGE: 'local',
      TABLE_NAME: 'qiye-bridge-local',
      QIYE_SECRETS_BACKEND: 'file',
      QIYE_SECRETS_FILE: secretsFile,
      QIYE_TENANTS_FILE: resolve('config/tenants.local.json'),
      QUEUE_URL_SYNC: 'http://127.0.0.1:1/000000000000/qiye-bridge-local-sync',
      AWS_REGION: 'us-east-1',
    });
    resetRuntimeForTests();
  });
  afterEach(() => {
    resetRuntimeForTests();
    process.env = { ...SAVED };
  });

  it('is built once per function and shares clients and config between functions', () => {
    const a = getRuntime('sso');
    expect(getRuntime('sso')).toBe(a);
    const b = getRuntime('admin');
    expect(b).not.toBe(a);
    expect(b.ddb).toBe(a.ddb);
    expect(b.jobs).toBe(a.jobs);
    expect(a.functionName).toBe('sso');
    expect(a.tableName).toBe('qiye-bridge-local');
    expect(a.stage).toBe('local');
    expect(a.secrets).toBeInstanceOf(FileSecretStore);
    expect(a.tenant('sandbox')?.netease.domain).toBe('sandbox.example.com');
    expect(a.tenant('nobody')).toBeUndefined();
  });

  it('fails at cold start with every environment problem listed', () => {
    delete process.env.TABLE_NAME;
    process.env.QIYE_STAGE = 'Not Valid!';
    const err = (() => {
      try {
        getRuntime('sso');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['TABLE_NAME', 'QIYE_STAGE']));
  });

  it('reads a tenant secret that matches its schema', async () => {
    const rt = getRuntime('sso');
    await rt.secrets.putJson('qiye-bridge/local/sandbox/oa', { linkSecret: 'sixteen-chars-or-more' });
    await expect(rt.tenantSecret('sandbox', 'oa')).resolves.toEqual({ linkSecret: 'sixteen-chars-or-more' });
  });

  it('names the missing secret, not its value, when it is absent', async () => {
    const rt = getRuntime('sso');
    const err = await rt.tenantSecret('sandbox', 'netease').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotConfiguredError);
    expect((err as NotConfiguredError).status).toBe(501);
    expect((err as NotConfiguredError).code).toBe('SECRET.NOT_CONFIGURED');
    expect((err as Error).message).toContain('qiye-bridge/local/sandbox/netease');
  });

  it('names the missing and invalid fields of a malformed secret without showing any value', async () => {
    const store = new FileSecretStore(secretsFile);
    await store.putJson('qiye-bridge/local/sandbox-dingtalk/dingtalk', { callbackToken: 'tok-VALUE-1', callbackAesKey: 'short-AES-VALUE' });
    const err = await readTenantSecret(store, 'local', 'sandbox-dingtalk', 'dingtalk').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotConfiguredError);
    const msg = (err as Error).message;
    expect(msg).toContain('qiye-bridge/local/sandbox-dingtalk/dingtalk');
    expect(msg).toMatch(/appSecret: is missing/);
    expect(msg).toMatch(/callbackAesKey: /);
    expect(msg).not.toContain('tok-VALUE-1');
    expect(msg).not.toContain('short-AES-VALUE');
    expect(JSON.stringify((err as NotConfiguredError).details)).not.toContain('VALUE');
  });
});
