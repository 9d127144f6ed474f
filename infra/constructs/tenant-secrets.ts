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
import { CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { deploymentSecretName, tenantSecretRefs, type SecretKind } from '../../shared/config/secrets';
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
  /** An extra channel's secret (`channels[].id`); absent for the tenant's own secret of `kind`. */
  channelId?: string;
  name: string;
  resource: CfnSecret;
}

export class TenantSecrets extends Construct {
  readonly secrets: readonly TenantSecretRef[];

  constructor(scope: Construct, id: string, props: TenantSecretsProps) {
    super(scope, id);
    const secrets: TenantSecretRef[] = [];
    for (const tenant of props.tenants) {
      for (const ref of tenantSecretRefs(props.stage, tenant)) {
        const { kind, channelId, name } = ref;
        // The tenant's own secrets keep their construct ids (a changed id would replace them);
        // `.` appears in no tenant or channel id, so a channel's id cannot collide with them.
        const resource = new CfnSecret(this, channelId === undefined ? `${tenant.id}-${kind}` : `${tenant.id}-${kind}.${channelId}`, {
          name,
          description: `qiye-bridge ${props.stage} / tenant ${tenant.id}${channelId === undefined ? '' : ` / channel ${channelId}`}: ${KIND_DESCRIPTIONS[kind]}. Created empty; set the value with the qiye-bridge CLI.`,
          tags: [
            { key: 'qiye-bridge:tenant', value: tenant.id },
            { key: 'qiye-bridge:secret-kind', value: kind },
            ...(channelId === undefined ? [] : [{ key: 'qiye-bridge:channel', value: channelId }]),
          ],
        });
        resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
        secrets.push({ tenantId: tenant.id, kind, ...(channelId === undefined ? {} : { channelId }), name, resource });
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
 * The ARN of a tenant secret, from its name (secretName()). Secrets Manager appends `-` and 6
 * random characters to every secret ARN; `-??????` matches exactly those (AWS's documented
 * way to name one secret in a policy), so no other secret whose name merely starts the same
 * way matches (`.../dingtalk-??????` does not match an extra channel's `.../dingtalk/sub-…`).
 * Composing the ARN from the name keeps the service stack free of references to individual
 * secrets: adding or removing a tenant never blocks on a cross-stack export.
 */
export function tenantSecretArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The ARN of the deployment secret (console keys), from its name (see tenantSecretArn). */
export function deploymentSecretArn(scope: Construct, stage: string): string {
  return Stack.of(scope).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${deploymentSecretName(stage)}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * The deployment's own secret: `{"key": "<48 random characters>"}`, generated by Secrets
 * Manager at creation and retained. The console derives its session-cookie and break-glass
 * keys from it; replacing the value signs every operator out and voids unused links.
 */
export class DeploymentSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      secretName: deploymentSecretName(props.stage),
      description: `qiye-bridge ${props.stage}: console session and break-glass link key (JSON {key}). Generated; never shown.`,
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'key', passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating this key signs every console operator out and voids unused break-glass links; it is rotated by hand (put a new random value) when an operator leaves, not on a schedule.',
    });
  }
}

/**
 * ARNs of the secrets of `kinds` that exist for each tenant (a tenant without DingTalk has no
 * dingtalk secret), its extra channels' secrets of those kinds included.
 */
export function tenantSecretArns(scope: Construct, stage: string, tenants: readonly TenantConfig[], kinds: readonly SecretKind[]): string[] {
  return tenants.flatMap((tenant) => tenantSecretRefs(stage, tenant).filter((ref) => kinds.includes(ref.kind)).map((ref) => tenantSecretArn(scope, ref.name)));
}
