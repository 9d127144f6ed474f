/**
 * Shared set-up for the infra tests: build the real app (infra/bridge-app.ts) with the
 * context from cdk.json plus overrides, exactly as `cdk synth` does, and read the templates.
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) except where a test asks for it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import { applyNagChecks, defineBridgeApp, type BridgeStacks } from '../../infra/bridge-app';
import { loadDeployTenants, readDeployConfig, type DeployConfig, type DeployTenants } from '../../infra/deploy-config';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_TENANTS = join(REPO_ROOT, 'test/infra/fixtures/tenants.infra.json');

/** The context `cdk synth` gets from cdk.json (feature flags and deployment defaults). */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

export interface Synthesized {
  app: App;
  config: DeployConfig;
  tenants: DeployTenants;
  stacks: BridgeStacks;
  stateful: Template;
  service: Template;
  /** cdk-nag AwsSolutions findings (unacknowledged only). */
  nag: PolicyValidationPluginReport;
}

export function synthBridge(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'qiye-infra-')),
    context: { ...CDK_JSON_CONTEXT, stage: 'test', tenantsFile: FIXTURE_TENANTS, ...context, 'aws:cdk:bundling-stacks': [] },
  });
  // An empty process env: no CDK_DEFAULT_* or QIYE_TENANTS_FILE leaking in from the shell.
  const config = readDeployConfig((k) => app.node.tryGetContext(k), {});
  const tenants = loadDeployTenants(config.tenantsFile);
  const stacks = defineBridgeApp(app, config, tenants);
  const stateful = Template.fromStack(stacks.stateful);
  const service = Template.fromStack(stacks.service);
  // Registered after the templates are read, so a finding fails the nag test with its
  // details instead of aborting the synthesis every other test needs.
  const pack = applyNagChecks(app);
  return { app, config, tenants, stacks, stateful, service, nag: pack.validateScope(app) };
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export function resources(t: Template, type: string): Record<string, CfnResource> {
  return t.findResources(type) as Record<string, CfnResource>;
}

/**
 * Render a CloudFormation value as a readable string: `Fn::Join` is concatenated, `Ref`
 * becomes `${Name}`, `Fn::GetAtt` becomes `${Name.Attr}`. Good enough to compare ARNs.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if ('Ref' in o) return `\${${String(o.Ref)}}`;
    if ('Fn::GetAtt' in o) return `\${${(o['Fn::GetAtt'] as string[]).join('.')}}`;
    return JSON.stringify(o);
  }
  return String(value);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every Allow statement of the inline policies attached to a role, with resources flattened. */
export function roleStatements(t: Template, roleLogicalId: string): Array<{ actions: string[]; resources: string[] }> {
  const out: Array<{ actions: string[]; resources: string[] }> = [];
  for (const policy of Object.values(resources(t, 'AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties?.Roles as unknown[]).map(flatten);
    if (!roles.includes(`\${${roleLogicalId}}`)) continue;
    const doc = policy.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const s of doc.Statement) {
      if (s.Effect !== 'Allow') continue;
      out.push({ actions: asArray(s.Action), resources: asArray(s.Resource as unknown[]).map(flatten) });
    }
  }
  return out;
}

/** Resources a role may use `action` on. */
export function allowedResources(t: Template, roleLogicalId: string, action: string): string[] {
  return roleStatements(t, roleLogicalId)
    .filter((s) => s.actions.includes(action))
    .flatMap((s) => s.resources)
    .sort();
}

/** Logical ids of a function and its role, by physical function name. */
export function functionByName(t: Template, name: string): { id: string; props: Record<string, unknown>; roleId: string } {
  const fns = resources(t, 'AWS::Lambda::Function');
  const hit = Object.entries(fns).find(([, r]) => r.Properties?.FunctionName === name);
  if (!hit) throw new Error(`no function named ${name}; have ${Object.values(fns).map((f) => String(f.Properties?.FunctionName)).join(', ')}`);
  const [id, r] = hit;
  const role = (r.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return { id, props: r.Properties ?? {}, roleId: role };
}
