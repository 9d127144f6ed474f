/**
 * The CLI on a deployed stage runs the admin routes in its own process, on the admin
 * function's wiring for that stage (shared/wiring/stage.ts): over the real wire, DynamoDB is
 * dynalite (the stage's table), SQS is fauxqs (the stage's queues, found by name), Secrets
 * Manager is the HTTP stub, and the tenant's WeCom source and DingTalk channel are the
 * simulators. A `links pull` reads both vendors; their calls must be counted in the stage's
 * usage table by the time the command returns, as a function's would.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk/dingtalk.simulator';
import { startWecomSimulator } from '../../local/simulators/wecom/wecom.simulator';
import { startQueues, type RunningQueues } from '../../local/queues';
import { DynamoUsageStore } from '../../shared/adapters/aws/dynamo-usage.store';
import { tableName } from '../../shared/adapters/aws/table-definition';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { secretName } from '../../shared/config/secrets';
import { usageMonth } from '../../shared/ports/usage-meter';
import { startSecretsManagerStub, type StubRequest } from '../fixtures/secrets-manager-stub';
import { dynaliteTable } from '../support/dynalite-table';
import { saveEnv } from '../support/env';
import { tempDirs } from '../support/temp-dirs';

const STAGE = 'clitest';
const db = dynaliteTable(tableName(STAGE));
const SECRETS: Record<string, unknown> = {
  [secretName(STAGE, 'eco', 'dingtalk')]: { appSecret: 'dt-app-secret' },
  [secretName(STAGE, 'eco', 'wecom')]: { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' },
};

const restoreEnv = saveEnv(
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
  'QIYE_TENANTS_FILE',
);
const mkdtemp = tempDirs();
let sqs: RunningQueues;
let stub: Awaited<ReturnType<typeof startSecretsManagerStub>>;
let dt: RunningDingtalkSimulator;
let wc: Awaited<ReturnType<typeof startWecomSimulator>>;

function tenantJson(urls: { dt: string; wc: string }) {
  return {
    id: 'eco',
    netease: { domain: 'eco.example.com', product: 'p1', region: 'hz', ssoEntryUrl: 'http://127.0.0.1:9/domain/oa/Entry' },
    wecom: { corpId: 'wwmain', agentId: '22', apiBaseUrl: `${urls.wc}/cgi-bin`, oauthBaseUrl: urls.wc, loginBaseUrl: urls.wc },
    dingtalk: { corpId: 'dingmain', appKey: 'mainkey', agentId: '11', apiBaseUrl: urls.dt, newApiBaseUrl: urls.dt, loginBaseUrl: urls.dt },
    sync: { source: 'wecom' },
    links: { rules: ['mobile', 'email'] },
  };
}

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  const apps = parseTenantsConfig({ tenants: [tenantJson({ dt: 'http://x.test', wc: 'http://x.test' })] }, 'test').tenants;
  dt = await startDingtalkSimulator({ port: 0, tenants: apps, people: 6, credentials: { eco: { appSecret: 'dt-app-secret' } } });
  wc = await startWecomSimulator({ port: 0, tenants: apps, people: 6, credentials: { eco: { appSecret: 'wc-app-secret', contactSecret: 'wc-contact-secret' } } });
  sqs = await startQueues({ port: 0, stage: STAGE });
  stub = await startSecretsManagerStub((req: StubRequest) => {
    const value = req.op === 'GetSecretValue' ? SECRETS[req.input.SecretId ?? ''] : undefined;
    if (value === undefined) return [400, { __type: 'ResourceNotFoundException', message: `no ${req.op} ${req.input.SecretId}` }];
    return [200, { Name: req.input.SecretId, SecretString: JSON.stringify(value), VersionId: 'v1' }];
  });
  const dir = await mkdtemp(join(tmpdir(), 'qiye-cli-stage-'));
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify({ tenants: [tenantJson({ dt: dt.url, wc: wc.url })] }));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    QIYE_TENANTS_FILE: tenantsFile,
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}, 60_000);

afterAll(async () => {
  restoreEnv();
  await Promise.all([dt?.stop(), wc?.stop(), sqs?.stop(), stub?.close()]);
});

describe('the CLI on a deployed stage (the admin wiring of shared/wiring/stage.ts)', () => {
  it('links pull reads WeCom and DingTalk and has every call counted in the stage\'s usage table when it returns', async () => {
    const usage = new DynamoUsageStore(db.doc, tableName(STAGE));
    const month = usageMonth(Date.now());
    expect(await usage.counters('eco', month)).toEqual([]);

    const r = await cli('links', 'pull', '--tenant', 'eco', '--stage', STAGE);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dingtalk: ok, 6 users/m);

    const counters = await usage.counters('eco', month);
    const calls = (vendor: string, cls: string) => counters.filter((c) => c.vendor === vendor && c.cls === cls).reduce((n, c) => n + c.calls, 0);
    // The DingTalk channel's user list is metered; WeCom has no monthly quota (wecom.metering.ts),
    // so the WeCom source's full read is counted as free calls, per API.
    expect(calls('dingtalk', 'metered')).toBeGreaterThan(0);
    expect(calls('wecom', 'free')).toBeGreaterThan(0);
    expect(counters.map((c) => c.api)).toEqual(expect.arrayContaining(['gettoken', 'user/list']));
    // What the CLI's usage command then reports from the same table.
    const report = await cli('usage', '--tenant', 'eco', '--stage', STAGE);
    expect(report.code, report.err).toBe(0);
    expect(report.out).toMatch(/dingtalk/);
    expect(report.out).toMatch(/wecom/);
  }, 60_000);

  it('sync run queues its request on the stage\'s plan queue, found by name', async () => {
    const r = await cli('sync', 'run', '--tenant', 'eco', '--stage', STAGE);
    expect(r.code, r.err).toBe(0);
    const requestId = /request ([0-9a-f-]{36})/.exec(r.out)?.[1];
    expect(requestId).toBeDefined();
    const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queues.plan.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(got.Messages?.map((m) => m.Body).join('\n')).toContain(requestId!);
  }, 30_000);
});
