/**
 * One real bundle, built by BridgeFunction with the local esbuild exactly as `cdk synth`
 * builds the deployed functions, then loaded by Node (an ESM .mjs, the way Lambda's
 * nodejs22.x runtime loads it). Proves the createRequire banner, the bundled SDK and the
 * baked tenant config work, which template assertions cannot.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, ArnFormat, Stack } from 'aws-cdk-lib';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { build } from 'esbuild';
import { FUNCTIONS, QUEUES, queueName, type FunctionSpec, type QueueName } from '../../shared/contracts/app-manifest';
import { BridgeFunction, ESM_REQUIRE_BANNER, functionName } from '../../infra/constructs/bridge-function';
import { loadDeployTenants } from '../../infra/deploy-config';
import { FIXTURE_TENANTS, REPO_ROOT } from './infra-helpers';

const PROBE: FunctionSpec = {
  ...FUNCTIONS.sso,
  name: 'unread', // any FunctionName; only the physical name and entry matter here
  entry: 'test/infra/fixtures/bundle-probe.ts',
  description: 'bundling probe',
};

const tenants = loadDeployTenants(FIXTURE_TENANTS);
let outdir: string;
const bundles: Record<string, string> = {};

/** Import a bundle in a fresh Node process and optionally call its handler. */
function runBundle(file: string, call: boolean) {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)});
    const out = { handlerType: typeof m.handler };
    if (${call}) out.result = await m.handler({}, {});
    process.stdout.write(JSON.stringify(out));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(), // nothing resolvable from the repository: the bundle must be self-contained
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: '--enable-source-maps',
      QIYE_STAGE: 'test',
      TABLE_NAME: 'qiye-bridge-test',
      QIYE_SECRETS_BACKEND: 'aws',
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'error',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'qiye-bundle-'));
  // Bundling on (the default outside `cdk synth --exclusively`), only for this small stack.
  const app = new App({ outdir });
  const stack = new Stack(app, 'BundleProbe');
  const table = TableV2.fromTableName(stack, 'Table', 'qiye-bridge-test');
  const queues = Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((q) => [q, Queue.fromQueueArn(stack, q, stack.formatArn({ service: 'sqs', resource: queueName('test', q), arnFormat: ArnFormat.NO_RESOURCE_NAME }))]),
  ) as Record<QueueName, IQueue>;
  const common = { stage: 'test', tenants: tenants.config.tenants, tenantsJson: tenants.bakedJson, table, queues, logRetention: RetentionDays.ONE_DAY, logLevel: 'error' as const };
  new BridgeFunction(stack, 'Sso', { ...common, spec: FUNCTIONS.sso });
  new BridgeFunction(stack, 'Probe', { ...common, spec: PROBE });
  const assembly = app.synth();
  const template = assembly.getStackByName('BundleProbe').template as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const hash = String(r.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles[r.Properties.FunctionName] = join(outdir, `asset.${hash}`, 'index.mjs');
  }
}, 120_000);

describe('ESM bundles built by BridgeFunction', () => {
  it('produces a minified .mjs with a source map and the createRequire banner first', () => {
    for (const file of Object.values(bundles)) {
      expect(existsSync(file)).toBe(true);
      expect(existsSync(`${file}.map`)).toBe(true);
      const code = readFileSync(file, 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
    }
  });

  it('loads and runs the probe under Node: node-forge, the bundled AWS SDK and the baked tenant config all work', () => {
    const file = bundles[functionName('test', PROBE)]!;
    const code = readFileSync(file, 'utf8');
    // The SDK is inside the bundle, not imported from the Lambda runtime.
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    const r = runBundle(file, true);
    expect(r.stderr).not.toMatch(/Dynamic require/);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { handlerType: string; result: { sha256: string; randomBytes: number; sqsRegion: string; tenants: string[] } };
    expect(out.handlerType).toBe('function');
    expect(out.result.sha256).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(out.result.randomBytes).toBe(16);
    expect(out.result.sqsRegion).toBe('ap-east-1');
    expect(out.result.tenants).toEqual(['acme', 'globex-cn']);
  });

  it('loads the real SSO handler bundle under Node and exports `handler`', () => {
    const file = bundles[functionName('test', FUNCTIONS.sso)]!;
    const r = runBundle(file, false);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ handlerType: 'function' });
  });

  it('without the banner the same probe fails to load (the check above can fail)', async () => {
    const outfile = join(outdir, 'no-banner', 'index.mjs');
    await build({
      entryPoints: [join(REPO_ROOT, PROBE.entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      define: { __QIYE_TENANTS__: JSON.stringify(tenants.bakedJson) },
      outfile,
      logLevel: 'silent',
    });
    const r = runBundle(outfile, true);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Dynamic require of "\w+" is not supported/);
  });
});
