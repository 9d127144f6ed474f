/**
 * Builds the two stacks of one deployment (stage) into a CDK App. Shared by infra/app.ts
 * (the `cdk` entry) and the infra tests, so the tests check exactly what is deployed.
 */
import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeployConfig, DeployTenants } from './deploy-config';
import { ServiceStack } from './stacks/service-stack';
import { StatefulStack } from './stacks/stateful-stack';

export interface BridgeStacks {
  stateful: StatefulStack;
  service: ServiceStack;
}

export function stackNames(stage: string): { stateful: string; service: string } {
  return { stateful: `QiyeBridge-${stage}-Stateful`, service: `QiyeBridge-${stage}-Service` };
}

export function defineBridgeApp(app: App, config: DeployConfig, tenants: DeployTenants): BridgeStacks {
  const names = stackNames(config.stage);
  const env = config.env;
  const stateful = new StatefulStack(app, names.stateful, {
    ...(env ? { env } : {}),
    description: `Qiye Mail Bridge (${config.stage}): table, queues, tenant secrets${config.staticEgress ? ', egress IPs' : ''}. Retained.`,
    stage: config.stage,
    tenants: tenants.config.tenants,
    egressIpCount: config.staticEgress ? config.natGateways : 0,
  });
  const service = new ServiceStack(app, names.service, {
    ...(env ? { env } : {}),
    description: `Qiye Mail Bridge (${config.stage}): functions, HTTP API, schedules, alarms.`,
    stage: config.stage,
    tenants: tenants.config.tenants,
    tenantsJson: tenants.bakedJson,
    syncRateMinutes: config.syncRateMinutes,
    scheduleKind: config.scheduleKind,
    logRetentionDays: config.logRetentionDays,
    logLevel: config.logLevel,
    alarmEmail: config.alarmEmail,
    egressEipAllocationIds: stateful.egress?.allocationIds,
  });
  service.addStackDependency(stateful, "the service stack uses the table, queues and secrets by name");
  for (const stack of [stateful, service]) {
    Tags.of(stack).add('app', 'qiye-mail-bridge');
    Tags.of(stack).add('stage', config.stage);
  }
  return { stateful, service };
}

/**
 * Register the cdk-nag AwsSolutions pack (v3: a CDK policy-validation plugin). It runs when
 * the app is synthesized; unacknowledged findings are reported by `cdk synth` and fail it.
 */
export function applyNagChecks(app: App): AwsSolutionsChecks {
  const pack = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(pack);
  return pack;
}
