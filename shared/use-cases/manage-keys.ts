/**
 * Manage a tenant's NetEase RSA key: generate, import, show (the public half), and load a
 * signer for the functions that call NetEase.
 *
 * The private key is stored as `{privateKeyHex}` (hex of PKCS#8 DER, the format NetEase's
 * kit uses: reference netease-qiye-api.md §6) in the tenant's `netease` secret
 * (`secretName(stage, tenant, 'netease')`). These functions return and log only the public
 * key: the operator registers it with NetEase (backend or support, §6 "Registration").
 * Driven by the CLI (`qiye-bridge keys ...`) and the admin route.
 */
import { createHash } from 'node:crypto';
import { secretName, secretSchemas } from '../config/secrets';
import { NotConfiguredError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import type { SecretStore } from '../ports/secret-store';
import { assertSupportedBits, generateKeyPair, parsePrivateKey, publicKeyHexToPem, type RsaKeyBits } from '../crypto/rsa-keys';
import { Signer } from '../crypto/netease-signing';

export interface KeyContext {
  secrets: SecretStore;
  stage: string;
  tenantId: string;
  logger?: Logger;
}

/** What key commands return: public material only. */
export interface TenantPublicKey {
  tenantId: string;
  bits: number;
  /** Hex of X.509 SubjectPublicKeyInfo DER: the form NetEase registers. */
  publicKeyHex: string;
  /** The same key as PEM "PUBLIC KEY". */
  publicKeyPem: string;
  /** SHA-256 of the public key DER, hex: to compare keys at a glance. */
  fingerprint: string;
}

/**
 * Generate a new key pair and store the private key in the tenant's `netease` secret,
 * replacing any previous one. Returns the public key, which must then be registered
 * with NetEase before API calls or SSO work again.
 *
 * @param bits 1024 (default; what every observed NetEase integration uses) or 2048 (unconfirmed, §6).
 */
export async function generateTenantKey(ctx: KeyContext & { bits?: RsaKeyBits }): Promise<TenantPublicKey> {
  const bits = ctx.bits ?? 1024;
  assertSupportedBits(bits);
  const pair = await generateKeyPair(bits);
  // Round-trip through the parser so what we store is exactly what signers will load.
  const key = parsePrivateKey(pair.privateKeyHex);
  await store(ctx, key.toPkcs8Hex());
  const result = describe(ctx.tenantId, key.bits, key.publicKeyHex);
  ctx.logger?.info('netease key generated', { tenant: ctx.tenantId, bits: key.bits, fingerprint: result.fingerprint });
  return result;
}

/**
 * Import an existing private key (e.g. one NetEase issued, or made with openssl) given as
 * hex DER (PKCS#8 or PKCS#1), base64 DER, or PEM ("PRIVATE KEY" / "RSA PRIVATE KEY").
 * It is normalized to PKCS#8 hex and stored. Bad input throws a KeyFormatError (a
 * ValidationError) and stores nothing.
 */
export async function importTenantKey(ctx: KeyContext & { keyText: string }): Promise<TenantPublicKey> {
  const key = parsePrivateKey(ctx.keyText);
  await store(ctx, key.toPkcs8Hex());
  const result = describe(ctx.tenantId, key.bits, key.publicKeyHex);
  ctx.logger?.info('netease key imported', { tenant: ctx.tenantId, bits: key.bits, format: key.format, fingerprint: result.fingerprint });
  return result;
}

/**
 * The public key of a private key given as text, storing nothing: for key rotation, where
 * the new public key is registered with NetEase before the new key is imported.
 * Bad input throws a KeyFormatError.
 */
export function inspectKey(tenantId: string, keyText: string): TenantPublicKey {
  const key = parsePrivateKey(keyText);
  return describe(tenantId, key.bits, key.publicKeyHex);
}

/**
 * The tenant's public key, derived from the stored private key.
 * @throws NotConfiguredError (code `NETEASE.KEY_NOT_CONFIGURED`) when no key is stored.
 */
export async function showTenantKey(ctx: KeyContext): Promise<TenantPublicKey> {
  const key = parsePrivateKey(await readPrivateKeyHex(ctx));
  return describe(ctx.tenantId, key.bits, key.publicKeyHex);
}

// Signers by secret-value fingerprint: parsing costs ~1 ms, signing far less, and warm
// Lambdas sign many requests. A rotated key has a new fingerprint, hence a new signer.
const signerCache = new Map<string, Signer>();

/**
 * A Signer for the tenant's stored key, cached while the stored value stays the same.
 * @throws NotConfiguredError when no key is stored; KeyFormatError when the stored value is unusable.
 */
export async function loadTenantSigner(ctx: KeyContext): Promise<Signer> {
  const hex = await readPrivateKeyHex(ctx);
  const id = createHash('sha256').update(`${ctx.stage}/${ctx.tenantId}/`).update(hex).digest('hex');
  let signer = signerCache.get(id);
  if (!signer) {
    signer = new Signer(hex);
    if (signerCache.size >= 100) signerCache.clear();
    signerCache.set(id, signer);
  }
  return signer;
}

async function readPrivateKeyHex(ctx: KeyContext): Promise<string> {
  const name = secretName(ctx.stage, ctx.tenantId, 'netease');
  const raw = await ctx.secrets.getJson(name);
  const parsed = secretSchemas.netease.safeParse(raw ?? {});
  if (!raw || !parsed.success) {
    const what = raw ? 'a malformed NetEase key' : 'no NetEase key';
    throw new NotConfiguredError(`Tenant "${ctx.tenantId}" has ${what} in secret ${name}; run \`qiye-bridge keys generate --tenant ${ctx.tenantId}\` or \`keys import\`.`, {
      code: 'NETEASE.KEY_NOT_CONFIGURED',
    });
  }
  return parsed.data.privateKeyHex;
}

async function store(ctx: KeyContext, privateKeyHex: string): Promise<void> {
  const name = secretName(ctx.stage, ctx.tenantId, 'netease');
  // Keep the open platform's authCode: rotating the key must not switch off department
  // moves. Nothing else is carried over from the previous value.
  const previous = await ctx.secrets.getJson(name);
  const authCode = typeof previous?.authCode === 'string' && previous.authCode ? previous.authCode : undefined;
  // Validate against the secret's schema before writing, so a bad value is never stored.
  const value = secretSchemas.netease.parse(authCode ? { privateKeyHex, authCode } : { privateKeyHex });
  await ctx.secrets.putJson(name, value);
}

function describe(tenantId: string, bits: number, publicKeyHex: string): TenantPublicKey {
  return {
    tenantId,
    bits,
    publicKeyHex,
    publicKeyPem: publicKeyHexToPem(publicKeyHex),
    fingerprint: createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex'),
  };
}
