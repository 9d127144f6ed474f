import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { secretName } from '../../shared/config/secrets';
import { NotConfiguredError, ValidationError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { SecretStore } from '../../shared/ports/secret-store';
import { canonicalString, verifySha1Rsa } from '../../shared/crypto/netease-signing';
import { generateKeyPairSync, parsePrivateKey } from '../../shared/crypto/rsa-keys';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { generateTenantKey, importTenantKey, loadTenantSigner, showTenantKey } from '../../shared/use-cases/manage-keys';

/** In-memory SecretStore (the port), recording writes. */
function memorySecrets(initial: Record<string, Record<string, unknown>> = {}): SecretStore & { values: Map<string, Record<string, unknown>>; writes: number } {
  const values = new Map(Object.entries(initial));
  const store = {
    values,
    writes: 0,
    async getJson(name: string) {
      return values.get(name);
    },
    async putJson(name: string, value: Record<string, unknown>) {
      store.writes++;
      values.set(name, structuredClone(value));
    },
  };
  return store;
}

const stage = 'test';
const tenantId = 'acme';
const name = secretName(stage, tenantId, 'netease');

describe('generateTenantKey', () => {
  it('stores the private key as PKCS#8 hex under the tenant netease secret and returns only the public key', async () => {
    const secrets = memorySecrets();
    const logger = createMemoryLogger();
    const result = await generateTenantKey({ secrets, stage, tenantId, bits: 1024, logger });

    const stored = secrets.values.get(name);
    expect(Object.keys(stored ?? {})).toEqual(['privateKeyHex']);
    const key = parsePrivateKey(String(stored?.privateKeyHex));
    expect(key.format).toBe('pkcs8-der-hex');
    expect(key.publicKeyHex).toBe(result.publicKeyHex);
    expect(result.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(result.bits).toBe(1024);

    const privateHex = String(stored?.privateKeyHex);
    const everythingShown = JSON.stringify(result) + JSON.stringify(logger.lines);
    expect(everythingShown).not.toContain(privateHex.slice(400, 460));
    expect(logger.lines.some((l) => l.msg === 'netease key generated' && l.fingerprint === result.fingerprint)).toBe(true);
  });

  it('replaces an existing key (rotation) and reports the new public key', async () => {
    const secrets = memorySecrets();
    const first = await generateTenantKey({ secrets, stage, tenantId });
    const second = await generateTenantKey({ secrets, stage, tenantId });
    expect(second.publicKeyHex).not.toBe(first.publicKeyHex);
    expect((await showTenantKey({ secrets, stage, tenantId })).publicKeyHex).toBe(second.publicKeyHex);
  });

  it('refuses an unsupported size and stores nothing', async () => {
    const secrets = memorySecrets();
    await expect(generateTenantKey({ secrets, stage, tenantId, bits: 4096 as never })).rejects.toBeInstanceOf(ValidationError);
    expect(secrets.writes).toBe(0);
  });
});

describe('importTenantKey', () => {
  it('normalizes an openssl PKCS#1 PEM key to PKCS#8 hex and returns the public key openssl derives', async () => {
    const pem = execFileSync('openssl', ['genrsa', '-traditional', '1024'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const pkcs8Hex = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER'], { input: pem, stdio: ['pipe', 'pipe', 'ignore'] }).toString('hex');
    const opensslPub = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: pem, stdio: ['pipe', 'pipe', 'ignore'] }).toString('hex');
    const secrets = memorySecrets();

    const result = await importTenantKey({ secrets, stage, tenantId, keyText: pem });

    expect(result.publicKeyHex).toBe(opensslPub);
    expect(secrets.values.get(name)).toEqual({ privateKeyHex: pkcs8Hex });
  });

  it('accepts the hex PKCS#8 a NetEase kit prints', async () => {
    const pair = generateKeyPairSync();
    const secrets = memorySecrets();
    const result = await importTenantKey({ secrets, stage, tenantId, keyText: pair.privateKeyHex });
    expect(result.publicKeyHex).toBe(pair.publicKeyHex);
  });

  it('refuses garbage with a clear error and leaves the stored key untouched', async () => {
    const pair = generateKeyPairSync();
    const secrets = memorySecrets({ [name]: { privateKeyHex: pair.privateKeyHex } });
    await expect(importTenantKey({ secrets, stage, tenantId, keyText: 'definitely-not-a-key' })).rejects.toThrow(/PKCS#8/);
    expect(secrets.writes).toBe(0);
    expect((await showTenantKey({ secrets, stage, tenantId })).publicKeyHex).toBe(pair.publicKeyHex);
  });
});

describe('showTenantKey and loadTenantSigner', () => {
  it('answer NotConfiguredError naming the secret and the command when no key is stored', async () => {
    const secrets = memorySecrets();
    const err = await showTenantKey({ secrets, stage, tenantId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotConfiguredError);
    expect((err as NotConfiguredError).code).toBe('NETEASE.KEY_NOT_CONFIGURED');
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toContain('keys generate');
    await expect(loadTenantSigner({ secrets, stage, tenantId })).rejects.toBeInstanceOf(NotConfiguredError);
  });

  it('treat a malformed stored value as not configured', async () => {
    const secrets = memorySecrets({ [name]: { privateKeyHex: 'xyz' } });
    await expect(showTenantKey({ secrets, stage, tenantId })).rejects.toThrow(/malformed/);
  });

  it('loadTenantSigner signs with the stored key, reuses the signer, and follows a rotation', async () => {
    const secrets = memorySecrets();
    const first = await generateTenantKey({ secrets, stage, tenantId });
    const s1 = await loadTenantSigner({ secrets, stage, tenantId });
    const data = canonicalString({ domain: 'acme.com', time: 1 });
    expect(verifySha1Rsa(first.publicKeyHex, data, s1.sign(data))).toBe(true);
    expect(await loadTenantSigner({ secrets, stage, tenantId })).toBe(s1);

    const second = await generateTenantKey({ secrets, stage, tenantId });
    const s2 = await loadTenantSigner({ secrets, stage, tenantId });
    expect(s2).not.toBe(s1);
    expect(verifySha1Rsa(second.publicKeyHex, data, s2.sign(data))).toBe(true);
  });
});

describe('key rotation keeps the open-platform authCode', () => {
  it('replaces the key and keeps authCode in the same secret', async () => {
    const name = 'qiye-bridge/local/acme/netease';
    const secrets = new MemorySecrets({ [name]: { privateKeyHex: 'ab'.repeat(40), authCode: 'open-platform-code' } });
    const values = secrets.values;
    const key = await generateTenantKey({ secrets, stage: 'local', tenantId: 'acme', bits: 1024 });
    const stored = values.get(name)!;
    expect(stored.authCode).toBe('open-platform-code');
    expect(stored.privateKeyHex).not.toBe('ab'.repeat(40));
    expect(key.publicKeyHex).toMatch(/^30819f/);
  });
});
