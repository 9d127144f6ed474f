/**
 * One Secrets Manager secret per tenant and secret kind (shared/config/secrets.ts), created
 * EMPTY: the template carries a name and a description, never a value.
 *
 * Why the L1 CfnSecret: the L2 `Secret` without a value generates a random password string,
 * which is not the JSON object our secret schemas expect and would look "configured".
 * CloudFormation creates a secret with no version when both SecretString and
 * GenerateSecretString are omitted; the operator then puts the JSON value with the CLI
 * (`qiye-bridge keys ...` or `aws secretsmanager put-secret-value`), and until then the
 * functions report the tenant's capability as "not configured".
 *
 * Secrets are retained: deleting the stack must never delete a tenant's private key.
 */
import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { secretKindsFor, secretName, type SecretKind } from '../../shared/config/secrets';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';

const KIND_DESCRIPTIONS: Record<SecretKind, string> = {
  netease: 'NetEase RSA private key (JSON {privateKeyHex})',
  oa: 'OA signed-link HMAC secret (JSON {linkSecret})',
  ekp: 'Landray EKP credentials (JSON {password} or {apiKey})',
  dingtalk: 'DingTalk app secret and callback token/AES key (JSON)',
  wecom: 'WeCom contact/app secrets and callback token/AES key (JSON)',
  alerts: 'Console alerts group robot webhook URL and signing secret (JSON {robotWebhookUrl, signSecret?})',
};

export interface TenantSecretsProps {
  stage: string;
  tenants: readonly TenantConfig[];
}

export interface TenantSecretRef {
  tenantId: string;
  kind: SecretKind;
  name: string;
  resource: CfnSecret;
}

export class TenantSecrets extends Construct {
  readonly secrets: readonly TenantSecretRef[];

  constructor(scope: Construct, id: string, props: TenantSecretsProps) {
    super(scope, id);
    const secrets: TenantSecretRef[] = [];
    for (const tenant of props.tenants) {
      for (const kind of secretKindsFor(tenant)) {
        const name = secretName(props.stage, tenant.id, kind);
        const resource = new CfnSecret(this, `${tenant.id}-${kind}`, {
          name,
          description: `qiye-bridge ${props.stage} / tenant ${tenant.id}: ${KIND_DESCRIPTIONS[kind]}. Created empty; set the value with the qiye-bridge CLI.`,
          tags: [
            { key: 'qiye-bridge:tenant', value: tenant.id },
            { key: 'qiye-bridge:secret-kind', value: kind },
          ],
        });
        resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
        secrets.push({ tenantId: tenant.id, kind, name, resource });
      }
    }
    this.secrets = secrets;

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'These hold vendor-issued credentials (NetEase RSA key registered in the NetEase console, DingTalk/WeCom app secrets and callback keys) that can only be rotated at the vendor; automatic rotation would break the integration. The operator rotates them with the documented `qiye-bridge keys` procedure.',
    });
  }
}

/**
 * The ARN of a tenant secret, from its name. Secrets Manager appends `-` and 6 random
 * characters to every secret ARN; `-??????` matches exactly those (AWS's documented way to
 * name one secret in a policy), so no other secret whose name merely starts the same way
 * matches. Composing the ARN from the name keeps the service stack free of references to
 * individual secrets: adding or removing a tenant never blocks on a cross-stack export.
 */
export function tenantSecretArn(scope: Construct, stage: string, tenantId: string, kind: SecretKind): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretName(stage, tenantId, kind)}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** ARNs of the secrets of `kinds` that exist for each tenant (a tenant without DingTalk has no dingtalk secret). */
export function tenantSecretArns(scope: Construct, stage: string, tenants: readonly TenantConfig[], kinds: readonly SecretKind[]): string[] {
  const arns: string[] = [];
  for (const tenant of tenants) {
    const present = secretKindsFor(tenant);
    for (const kind of kinds) if (present.includes(kind)) arns.push(tenantSecretArn(scope, stage, tenant.id, kind));
  }
  return arns;
}
