/**
 * The public HTTP API (API Gateway v2) with every route in the manifest.
 *
 * Defaults: a `$default` stage with JSON access logs (no query strings: WeCom's URL
 * verification puts `echostr` and signatures there), stage throttling, and detailed
 * (per-route) metrics so each callback route can have its own 5xx alarm. Routes with
 * auth 'iam' use the IAM authorizer (SigV4); the others are public by design and verify
 * their own vendor signatures or signed links in the function.
 */
import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName, RouteSpec } from '../../shared/contracts/app-manifest';

export const DEFAULT_STAGE_NAME = '$default';

export interface BridgeHttpApiProps {
  stage: string;
  logRetention: RetentionDays;
  /**
   * Stage-wide throttling. DingTalk and WeCom send contact events in bursts when an org is
   * reorganised and retry what we refuse, so leave headroom above normal traffic.
   */
  throttle?: { rateLimit: number; burstLimit: number };
}

export class BridgeHttpApi extends Construct {
  readonly api: HttpApi;
  readonly defaultStage: HttpStage;
  /** Base URL of the API, with a trailing slash. */
  readonly url: string;
  /** Routes by manifest route, in ROUTES order. */
  readonly routes: Array<{ spec: RouteSpec; route: HttpRoute }> = [];
  private readonly integrations = new Map<FunctionName, HttpLambdaIntegration>();
  private readonly iamAuthorizer: IHttpRouteAuthorizer = new HttpIamAuthorizer();

  constructor(scope: Construct, id: string, props: BridgeHttpApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      apiName: `qiye-bridge-${props.stage}`,
      description: 'Qiye Mail Bridge: SSO, unread counts, DingTalk/WeCom contact callbacks, admin API',
      createDefaultStage: false,
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.defaultStage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: DEFAULT_STAGE_NAME,
      autoDeploy: true,
      detailedMetricsEnabled: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            authError: '$context.authorizer.error',
            iamUser: '$context.identity.userArn',
          }),
        ),
      },
    });
    this.url = this.defaultStage.url;
    new CfnOutput(this, 'HttpApiUrl', { key: 'HttpApiUrl', description: 'Base URL of the HTTP API', value: this.url });
  }

  /** Add the manifest routes, one Lambda integration per function. */
  addRoutes(routes: readonly RouteSpec[], functions: Partial<Record<FunctionName, IFunction>>): void {
    routes.forEach((spec) => {
      let integration = this.integrations.get(spec.fn);
      if (!integration) {
        const fn = functions[spec.fn];
        if (!fn) throw new Error(`Route ${spec.method} ${spec.path} names function ${spec.fn}, which is not defined`);
        integration = new HttpLambdaIntegration(`${spec.fn}Integration`, fn);
        this.integrations.set(spec.fn, integration);
      }
      const method = spec.method === 'ANY' ? HttpMethod.ANY : HttpMethod[spec.method];
      const id = `${spec.method}${spec.path}`.replace(/[^A-Za-z0-9]+/g, '-');
      const route = new HttpRoute(this, id, {
        httpApi: this.api,
        routeKey: HttpRouteKey.with(spec.path, method),
        integration,
        ...(spec.auth === 'iam' ? { authorizer: this.iamAuthorizer } : {}),
      });
      if (spec.auth === 'none') {
        Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicRouteReason(spec) });
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: `${publicRouteReason(spec)} Its callers (vendor servers, OA portal browsers) have no Cognito identity.`,
        });
      }
      this.routes.push({ spec, route });
    });
  }
}

function publicRouteReason(spec: RouteSpec): string {
  if (spec.fn === 'dingtalkCallback' || spec.fn === 'wecomCallback') {
    return `${spec.method} ${spec.path} is the vendor's webhook target: DingTalk/WeCom cannot sign AWS requests, so the function verifies the vendor's msg_signature (SHA-1 over token, timestamp, nonce, payload) and decrypts with the tenant's AES key before acting.`;
  }
  if (spec.fn === 'sso') {
    return `${spec.method} ${spec.path} is opened by employees' browsers from the OA; the function accepts only HMAC-signed, time-limited links, CAS tickets or vendor OAuth codes, and single-uses nonces.`;
  }
  return `${spec.method} ${spec.path} is called by the OA portal widget in employees' browsers, which carry no AWS credentials; the function authenticates the request itself, as the SSO route does, and returns unread counts only.`;
}
