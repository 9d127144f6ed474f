/**
 * Per-tenant secrets: what exists, what it is called, what shape its JSON value has.
 *
 * One secret per tenant and concern, so each function is granted only what it reads
 * (the callback functions never see the RSA key). Names are the same in AWS Secrets
 * Manager and in the local file store: `qiye-bridge/<stage>/<tenant>/<kind>`.
 * Values are JSON objects; a missing secret or field is reported as "not configured".
 */
import { z } from 'zod';
import { NotConfiguredError } from '../errors/app-error';
import type { TenantConfig } from './tenant-config.schema';

export const SECRET_KINDS = ['netease', 'oa', 'ekp', 'dingtalk', 'wecom', 'alerts'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export const secretSchemas = {
  /** The tenant's RSA private key, hex of PKCS#8 DER (the format NetEase issues), and the optional open-platform authCode. */
  netease: z
    .object({
      privateKeyHex: z.string().regex(/^[0-9a-f]+$/i, 'must be hex').min(64),
      /** The open-platform app's authCode (only with `netease.openPlatform` in the tenant config). */
      authCode: z.string().min(1).optional(),
    })
    .strict(),
  /** The OA link HMAC secret and, for CAS, nothing secret is needed. */
  oa: z.object({ linkSecret: z.string().min(16, 'must be at least 16 characters') }).strict(),
  /** EKP: Basic-auth password or the key for the header. */
  ekp: z.object({ password: z.string().min(1).optional(), apiKey: z.string().min(1).optional() }).strict(),
  dingtalk: z
    .object({
      appSecret: z.string().min(1),
      callbackToken: z.string().min(1).optional(),
      /** 43 characters of base64 without padding (DingTalk's aes_key). */
      callbackAesKey: z.string().length(43).optional(),
    })
    .strict(),
  wecom: z
    .object({
      /** The 通讯录同步 secret (directory reads); see README on the 2022 restrictions. */
      contactSecret: z.string().min(1).optional(),
      /** The self-built app's secret (OAuth, app messages). */
      appSecret: z.string().min(1).optional(),
      callbackToken: z.string().min(1).optional(),
      callbackAesKey: z.string().length(43).optional(),
    })
    .strict(),
  /**
   * A group robot for console alerts (tenant `console.alerts.channel: robot`). The webhook URL
   * carries the robot's token, so it is a secret; `signSecret` is DingTalk's 加签 secret (SEC…).
   */
  alerts: z
    .object({
      robotWebhookUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
      signSecret: z.string().min(1).optional(),
    })
    .strict(),
} satisfies Record<SecretKind, z.ZodType>;

export type SecretValue<K extends SecretKind> = z.output<(typeof secretSchemas)[K]>;

export const SECRET_PREFIX = 'qiye-bridge';

/**
 * The name of a tenant secret: `qiye-bridge/<stage>/<tenant>/<kind>`, and for an extra channel
 * (`channels[]` in the tenant config, kind = its vendor) `qiye-bridge/<stage>/<tenant>/<kind>/<channelId>`.
 * The one place names are made: the CDK stack creates and grants these names, the functions'
 * wiring reads them, `qiye-bridge secrets set` writes them. A channel id equal to the kind is
 * the top-level section (shared/config/channels.ts), so it names the tenant's own secret.
 * Our naming; Secrets Manager allows `/` in names and the reference is silent.
 */
export function secretName(stage: string, tenantId: string, kind: SecretKind, channelId?: string): string {
  const base = `${SECRET_PREFIX}/${stage}/${tenantId}/${kind}`;
  return channelId === undefined || channelId === kind ? base : `${base}/${channelId}`;
}

/** One secret a tenant needs: a kind, and for an extra channel its id. */
export interface TenantSecretRef {
  kind: SecretKind;
  /** Set for an extra channel's secret (`channels[].id`); absent for the tenant's own secret of `kind`. */
  channelId?: string;
  /** secretName() of the above. */
  name: string;
}

/**
 * Every secret the tenant needs, named: one per kind its sections configure (secretKindsFor),
 * then one per extra channel (`channels[]`, kind = the channel's vendor) in config order.
 * Used by the CDK stack (create, grant), `secrets set`, the console and the local sandbox.
 */
export function tenantSecretRefs(stage: string, tenant: TenantConfig): TenantSecretRef[] {
  return [
    ...secretKindsFor(tenant).map((kind) => ({ kind, name: secretName(stage, tenant.id, kind) })),
    ...tenant.channels.map((c) => ({ kind: c.vendor, channelId: c.id, name: secretName(stage, tenant.id, c.vendor, c.id) })),
  ];
}

/**
 * Read and check one tenant secret (vendor clients read theirs lazily, at first use). A missing
 * secret, or one that does not match its schema, throws NotConfiguredError with `code`, naming
 * the secret and the fields at fault, never a value.
 */
export async function readTenantSecret<K extends SecretKind>(
  secrets: { getJson(name: string): Promise<Record<string, unknown> | undefined> },
  /** `name`: another secret of the same kind than the tenant's (an extra channel, shared/config/channels.ts). */
  where: { stage: string; tenantId: string; kind: K; code: string; name?: string | undefined },
): Promise<SecretValue<K>> {
  const name = where.name ?? secretName(where.stage, where.tenantId, where.kind);
  const raw = await secrets.getJson(name);
  if (!raw) throw new NotConfiguredError(`Secret ${name} is missing`, { code: where.code });
  const parsed = secretSchemas[where.kind].safeParse(raw);
  if (!parsed.success) throw new NotConfiguredError(`Secret ${name} is malformed at ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`, { code: where.code });
  return parsed.data as SecretValue<K>;
}

/** Which secrets a tenant needs, from the sections it configures. */
export function secretKindsFor(tenant: TenantConfig): SecretKind[] {
  const kinds: SecretKind[] = ['netease', 'oa'];
  if (tenant.ekp) kinds.push('ekp');
  if (tenant.dingtalk) kinds.push('dingtalk');
  if (tenant.wecom) kinds.push('wecom');
  if (tenant.console.alerts.channel === 'robot') kinds.push('alerts');
  return kinds;
}

/**
 * The deployment's own secret (not a tenant's): `{"key": "<random>"}`, from which the
 * console derives its session-cookie and break-glass link keys. `_` cannot start a tenant
 * id, so the name never collides with a tenant secret.
 */
export const deploymentSecretSchema = z.object({ key: z.string().min(32, 'must be at least 32 characters') }).strict();

export function deploymentSecretName(stage: string): string {
  return `${SECRET_PREFIX}/${stage}/_deployment/console`;
}
