/**
 * Deployment options (CDK context) and the tenant config gate of infra/app.ts: bad input
 * stops synth with every problem listed (file, path, reason) and a non-zero exit, and
 * nothing is synthesized.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors/app-error';
import { DEFAULT_INCREMENTAL_MINUTES } from '../../shared/contracts/app-manifest';
import { DEFAULT_LOG_RETENTION_DAYS, loadDeployTenants, readDeployConfig } from '../../infra/deploy-config';
import { egressPorts } from '../../infra/constructs/static-egress';
import { FIXTURE_TENANTS, REPO_ROOT } from './infra-helpers';

const ctx = (values: Record<string, unknown>) => (key: string) => values[key];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('readDeployConfig', () => {
  it('defaults to stage prod, config/tenants.json, the manifest sync rate, no static egress, 180-day logs, nag on', () => {
    const c = readDeployConfig(ctx({}), {});
    expect(c).toMatchObject({
      stage: 'prod',
      syncRateMinutes: DEFAULT_INCREMENTAL_MINUTES,
      scheduleKind: 'scheduler',
      staticEgress: false,
      natGateways: 1,
      logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
      logLevel: 'info',
      nag: true,
      env: undefined,
    });
    expect(c.tenantsFile).toBe(resolve('config/tenants.json'));
    expect(c.alarmEmail).toBeUndefined();
  });

  it('accepts -c strings for numbers and booleans, and treats an empty optional as unset', () => {
    const c = readDeployConfig(ctx({ stage: 'staging-2', syncRateMinutes: '5', staticEgress: 'true', natGateways: '2', logRetentionDays: '365', nag: 'false', alarmEmail: '' }), {});
    expect(c).toMatchObject({ stage: 'staging-2', syncRateMinutes: 5, staticEgress: true, natGateways: 2, logRetentionDays: 365, nag: false });
    expect(c.alarmEmail).toBeUndefined();
  });

  it('lists every invalid key at once, with its path and reason', () => {
    const err = configError(() =>
      readDeployConfig(
        ctx({ stage: 'Prod_1', syncRateMinutes: '0', staticEgress: 'yes', logRetentionDays: 100, alarmEmail: 'ops-at-acme', account: '1234', region: 'mars', natGateways: 3 }),
        {},
      ),
    );
    const byPath = Object.fromEntries(err.problems.map((p) => [p.path, p.reason]));
    expect(Object.keys(byPath).sort()).toEqual(['account', 'alarmEmail', 'logRetentionDays', 'natGateways', 'region', 'stage', 'staticEgress', 'syncRateMinutes']);
    expect(byPath.stage).toMatch(/a-z, 0-9 and -/);
    expect(byPath.logRetentionDays).toMatch(/one of 1, 3, 5/);
    expect(byPath.staticEgress).toMatch(/true or false/);
    for (const p of err.problems) expect(p.file).toBe('cdk context');
    expect(err.message).toContain('cdk context: stage:');
  });

  it('reads the tenant file from context, else QIYE_TENANTS_FILE, else config/tenants.json', () => {
    expect(readDeployConfig(ctx({ tenantsFile: 'a.json' }), { QIYE_TENANTS_FILE: 'b.json' }).tenantsFile).toBe(resolve('a.json'));
    expect(readDeployConfig(ctx({}), { QIYE_TENANTS_FILE: 'b.json' }).tenantsFile).toBe(resolve('b.json'));
  });

  it('uses CDK_DEFAULT_ACCOUNT/REGION only as a pair (the CLI guesses us-east-1 without credentials)', () => {
    expect(readDeployConfig(ctx({}), { CDK_DEFAULT_REGION: 'us-east-1' }).env).toBeUndefined();
    expect(readDeployConfig(ctx({}), { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'ap-east-1' }).env).toEqual({ account: '111122223333', region: 'ap-east-1' });
    expect(readDeployConfig(ctx({ region: 'cn-north-1' }), { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'us-east-1' }).env).toEqual({ region: 'cn-north-1' });
  });
});

describe('loadDeployTenants', () => {
  it('validates the file and keeps its raw JSON document for baking into the bundles', () => {
    const t = loadDeployTenants(FIXTURE_TENANTS);
    expect(t.config.tenants.map((x) => x.id)).toEqual(['acme', 'globex-cn']);
    const baked = JSON.parse(t.bakedJson);
    // The raw document: defaults are applied by the function at cold start, not frozen here.
    expect(baked.tenants[0].netease).not.toHaveProperty('apiBaseUrl');
    expect(t.config.tenants[0]!.netease.apiBaseUrl).toMatch(/^https:\/\/apihz\.qiye\.163\.com/);
    expect(t.bakedJson).not.toContain('\n');
  });

  it('derives the security-group ports from the server-side vendor URLs', () => {
    expect(egressPorts(loadDeployTenants(FIXTURE_TENANTS).config.tenants)).toEqual([443, 8443]);
  });
});

describe('infra/app.ts (the cdk entry)', () => {
  const runApp = (env: Record<string, string>) => {
    const outdir = mkdtempSync(join(tmpdir(), 'qiye-app-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CDK_OUTDIR: outdir, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { ...r, outdir };
  };

  it('exits non-zero listing every problem of a bad tenant file (file, path, reason) and synthesizes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qiye-bad-tenants-'));
    const file = join(dir, 'tenants.json');
    writeFileSync(
      file,
      JSON.stringify({
        tenants: [
          { id: 'Bad_Id', netease: { domain: 'not a domain', product: 'p', region: 'sh' } },
          { id: 'acme', netease: { domain: 'acme.example.com', product: 'acme', region: 'hz' }, sync: { source: 'wecom' } },
        ],
      }),
    );
    const r = runApp({ QIYE_TENANTS_FILE: file });
    expect(r.status).not.toBe(0);
    for (const path of ['tenants[0].id', 'tenants[0].netease.domain', 'tenants[0].netease.region', 'tenants[1].sync.source']) {
      expect(r.stderr).toContain(`${file}: ${path}:`);
    }
    expect(r.stderr).toMatch(/invalid \(4 problem\(s\)\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // the problems, not a stack trace
    expect(existsSync(join(r.outdir, 'manifest.json'))).toBe(false);
    expect(readdirSync(r.outdir)).toEqual([]);
  });

  it('exits non-zero on a tenant file that is not JSON, naming line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qiye-bad-json-'));
    const file = join(dir, 'tenants.json');
    writeFileSync(file, '{\n  "tenants": [\n    { "id": "acme", }\n  ]\n}\n');
    const r = runApp({ QIYE_TENANTS_FILE: file });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${file}: line 3, column`);
  });

  it('exits non-zero listing every bad context value before reading the tenant file', () => {
    const r = runApp({ CDK_CONTEXT_JSON: JSON.stringify({ stage: 'PROD!', logRetentionDays: 100, tenantsFile: '/nonexistent/tenants.json' }) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cdk context: stage:');
    expect(r.stderr).toContain('cdk context: logRetentionDays:');
    expect(r.stderr).not.toContain('/nonexistent/tenants.json');
  });
});
