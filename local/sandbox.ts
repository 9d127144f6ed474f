/**
 * Sandbox provisioning for the local stack: every secret a local tenant needs is created
 * on first start (and kept in <data>/secrets.json afterwards), so `npm start` works with
 * no manual step. Real deployments never run this: there, operators create keys with
 * `qiye-bridge keys generate|import` and put vendor secrets in Secrets Manager.
 *
 * A tenant with `netease.openPlatform` also gets a random open-platform `authCode` in its
 * `netease` secret (added to an existing secret that lacks one, keeping its key): the
 * NetEase simulator reads it from the same store, so unit moves work locally.
 */
import { randomBytes } from 'node:crypto';
import { deploymentSecretName, tenantSecretRefs, type SecretKind } from '../shared/config/secrets';
import type { TenantConfig } from '../shared/config/tenant-config.schema';
import type { Logger } from '../shared/logging/logger';
import type { SecretStore } from '../shared/ports/secret-store';
import { generateTenantKey } from '../shared/use-cases/manage-keys';

/** A 43-character WXBizMsgCrypt-style AES key (base64 of 32 bytes without the padding). */
export function randomAesKey(): string {
  return randomBytes(32).toString('base64').slice(0, 43);
}

function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Returns the secret names it created (never values). */
export async function provisionSandboxSecrets(opts: { tenants: readonly TenantConfig[]; secrets: SecretStore; stage: string; logger?: Logger }): Promise<string[]> {
  const created: string[] = [];
  // The console's deployment key (session cookies, break-glass links).
  const deployment = deploymentSecretName(opts.stage);
  if ((await opts.secrets.getJson(deployment)) === undefined) {
    await opts.secrets.putJson(deployment, { key: randomSecret(32) });
    created.push(deployment);
    opts.logger?.info('sandbox secret created', { secret: deployment });
  }
  for (const tenant of opts.tenants) {
    // Extra channels (`channels[]`) get their own vendor secret, like the top-level sections.
    for (const { kind, name } of tenantSecretRefs(opts.stage, tenant)) {
      if (kind === 'netease' && tenant.netease.openPlatform) {
        if (await provisionNetease(tenant, name, opts)) created.push(name);
        continue;
      }
      if ((await opts.secrets.getJson(name)) !== undefined) continue;
      if (kind === 'netease') {
        await generateTenantKey({ secrets: opts.secrets, stage: opts.stage, tenantId: tenant.id, bits: tenant.netease.keyBits });
      } else {
        const value = sandboxValue(kind);
        // A group robot's webhook cannot be invented: the deployer puts a real one in.
        if (value === undefined) continue;
        await opts.secrets.putJson(name, value);
      }
      created.push(name);
      opts.logger?.info('sandbox secret created', { tenant: tenant.id, secret: name });
    }
  }
  return created;
}

/** The key (when missing) and the open-platform authCode (when missing). True when something was stored. */
async function provisionNetease(tenant: TenantConfig, name: string, opts: { secrets: SecretStore; stage: string; logger?: Logger }): Promise<boolean> {
  let changed = false;
  if ((await opts.secrets.getJson(name)) === undefined) {
    await generateTenantKey({ secrets: opts.secrets, stage: opts.stage, tenantId: tenant.id, bits: tenant.netease.keyBits });
    opts.logger?.info('sandbox secret created', { tenant: tenant.id, secret: name });
    changed = true;
  }
  const value = (await opts.secrets.getJson(name)) ?? {};
  if (typeof value.authCode !== 'string' || value.authCode === '') {
    await opts.secrets.putJson(name, { ...value, authCode: randomSecret(24) });
    opts.logger?.info('sandbox open-platform authCode created', { tenant: tenant.id, secret: name });
    changed = true;
  }
  return changed;
}

function sandboxValue(kind: Exclude<SecretKind, 'netease'>): Record<string, unknown> | undefined {
  switch (kind) {
    case 'alerts':
      return undefined;
    case 'oa':
      return { linkSecret: randomSecret(32) };
    case 'ekp':
      return { password: randomSecret(16) };
    case 'dingtalk':
      return { appSecret: randomSecret(32), callbackToken: randomSecret(12), callbackAesKey: randomAesKey() };
    case 'wecom':
      return { contactSecret: randomSecret(32), appSecret: randomSecret(32), callbackToken: randomSecret(12), callbackAesKey: randomAesKey() };
  }
}
