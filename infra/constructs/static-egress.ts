/**
 * Static egress: the functions that call vendor APIs leave AWS through NAT gateways with
 * fixed Elastic IPs, so a customer can whitelist them at NetEase (API IP whitelist), in
 * the DingTalk developer console (服务器出口IP) and in WeCom (企业可信IP, required for
 * self-built apps created after 2022).
 *
 * Two constructs, in two stacks:
 * - EgressAddresses (stateful stack, retained): the Elastic IPs. They outlive the VPC, so
 *   redeploying or replacing the service stack never changes the whitelisted addresses.
 * - StaticEgress (service stack): a VPC with public subnets holding the NAT gateways
 *   (using those EIPs), private subnets for the functions, VPC flow logs, a free DynamoDB
 *   gateway endpoint, and a security group that allows only outbound TCP on the ports the
 *   tenant config's vendor URLs use (plus 443 for AWS APIs).
 */
import { CfnOutput, Fn, RemovalPolicy } from 'aws-cdk-lib';
import {
  CfnEIP,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  IpAddresses,
  NatProvider,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { FunctionName } from '../../shared/contracts/app-manifest';

/**
 * Which functions call vendor APIs and therefore run in the private subnets. A
 * Record over every FunctionName, so a new function cannot be added to the manifest
 * without deciding here.
 */
export const CALLS_VENDOR_APIS: Record<FunctionName, boolean> = {
  console: true, // DingTalk/WeCom OAuth code exchange, CAS, token checks, explain's source read
  alerts: true, // DingTalk work notices, WeCom app messages, group robot webhooks
  sso: true, // DingTalk/WeCom OAuth code exchange, CAS ticket validation
  unread: true, // NetEase getUnreadMsg
  dingtalkCallback: false, // verifies, acknowledges and enqueues: no outbound vendor call
  wecomCallback: false, // same
  admin: true, // NetEase key checks and account look-ups
  syncPlanner: true, // reads EKP / DingTalk / WeCom directories, NetEase accounts
  syncWorker: true, // writes to NetEase
  callbackWorker: true, // re-reads DingTalk / WeCom objects
  notifyPlanner: false, // reads our table, enqueues checks: no outbound vendor call
  notifyWorker: true, // NetEase mail logs, DingTalk / WeCom messages
};

export interface EgressAddressesProps {
  stage: string;
  count: number;
}

export class EgressAddresses extends Construct {
  readonly allocationIds: string[];
  readonly publicIps: string[];

  constructor(scope: Construct, id: string, props: EgressAddressesProps) {
    super(scope, id);
    const eips = Array.from({ length: props.count }, (_, i) => {
      const eip = new CfnEIP(this, `Eip${i + 1}`, {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `qiye-bridge-${props.stage}-egress-${i + 1}` }],
      });
      // Customers whitelist these addresses at the vendors; never release them implicitly.
      eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return eip;
    });
    this.allocationIds = eips.map((e) => e.attrAllocationId);
    this.publicIps = eips.map((e) => e.attrPublicIp);
    new CfnOutput(this, 'EgressIps', {
      key: 'EgressIps',
      description: 'Static egress IPs of the vendor-calling functions: whitelist them at NetEase, DingTalk and WeCom.',
      value: Fn.join(',', this.publicIps),
    });
  }
}

export interface StaticEgressProps {
  /** One NAT gateway per allocation id, in as many AZs. */
  eipAllocationIds: string[];
  /** Outbound TCP ports the functions may use (see egressPorts()). */
  ports: readonly number[];
  logRetention: RetentionDays;
}

export class StaticEgress extends Construct {
  readonly vpc: Vpc;
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: StaticEgressProps) {
    super(scope, id);
    const natGateways = props.eipAllocationIds.length;
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.80.0.0/20'),
      // Two AZs: environment-agnostic stacks can only address two, and one NAT per AZ
      // is the most this needs.
      maxAzs: 2,
      natGateways,
      natGatewayProvider: NatProvider.gateway({ eipAllocationIds: props.eipAllocationIds }),
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(new LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN })),
      trafficType: FlowLogTrafficType.ALL,
    });
    // DynamoDB traffic stays off the NAT (free gateway endpoint, no NAT data charge).
    this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets: [{ subnetType: SubnetType.PRIVATE_WITH_EGRESS }] });

    this.securityGroup = new SecurityGroup(this, 'FunctionSg', {
      vpc: this.vpc,
      description: 'qiye-bridge vendor-calling functions: outbound HTTPS/HTTP to vendor and AWS APIs only, no inbound',
      allowAllOutbound: false,
    });
    for (const port of props.ports) this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(port), `vendor/AWS APIs on ${port}`);
  }
}

/**
 * The outbound TCP ports the functions need: 443 for AWS APIs, plus the port of every
 * server-side vendor URL in the tenant config (a self-hosted EKP or CAS often listens on
 * 8080 or 8443). Browser-only URLs (NetEase SSO entry) are not called by the functions.
 */
export function egressPorts(tenants: readonly TenantConfig[]): number[] {
  const ports = new Set<number>([443]);
  const add = (url: string | undefined) => {
    if (!url) return;
    const u = new URL(url);
    ports.add(u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443);
  };
  for (const t of tenants) {
    add(t.netease.apiBaseUrl);
    add(t.netease.unreadUrl);
    add(t.ekp?.baseUrl);
    add(t.dingtalk?.apiBaseUrl);
    add(t.dingtalk?.newApiBaseUrl);
    add(t.wecom?.apiBaseUrl);
    add(t.sso.cas?.baseUrl);
  }
  return [...ports].sort((a, b) => a - b);
}
