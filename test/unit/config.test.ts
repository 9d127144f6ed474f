import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTenantsConfig, loadTenantsFile, parseTenantsConfig } from '../../shared/config/load-config';
import { ConfigError } from '../../shared/errors/app-error';
import { loadEnv } from '../../shared/config/env';

const minimal = {
  tenants: [{ id: 'acme', netease: { domain: 'Acme.COM', product: 'acme_com', region: 'bj' }, ekp: { baseUrl: 'https://oa.acme.com/ekp/', auth: { type: 'none' } } }],
};

function problemsOf(fn: () => unknown): Array<{ path: string; reason: string }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => ({ path: p.path, reason: p.reason }));
  }
  throw new Error('expected a ConfigError');
}

describe('tenant config', () => {
  it('fills region defaults for the NetEase hosts and normalises the domain', () => {
    const cfg = parseTenantsConfig(minimal, 'mem.json');
    const t = cfg.tenants[0]!;
    expect(t.netease.domain).toBe('acme.com');
    expect(t.netease.apiBaseUrl).toBe('https://apibj.qiye.163.com/qiyeservice/api');
    expect(t.netease.ssoEntryUrl).toBe('https://entry.qiye.163.com/domain/oa/Entry');
    expect(t.netease.unreadUrl).toBe('https://cm.qiye.163.com/oaserver/user/getUnreadMsg');
    expect(t.netease.keyBits).toBe(1024);
    expect(t.ekp?.baseUrl).toBe('https://oa.acme.com/ekp');
  });

  it('defaults the sync source to the only configured source', () => {
    expect(parseTenantsConfig(minimal, 'mem.json').tenants[0]!.sync.source).toBe('ekp');
  });

  it('applies the delete threshold\'s percentage only from 10 operations unless configured', () => {
    expect(parseTenantsConfig(minimal, 'mem.json').tenants[0]!.sync.deleteThreshold).toEqual({ count: 50, percent: 5, minimum: 10 });
    const given = parseTenantsConfig({ tenants: [{ ...minimal.tenants[0], sync: { deleteThreshold: { count: 20, percent: 10 } } }] }, 'x.json');
    expect(given.tenants[0]!.sync.deleteThreshold).toEqual({ count: 20, percent: 10, minimum: 10 });
    const zero = parseTenantsConfig({ tenants: [{ ...minimal.tenants[0], sync: { deleteThreshold: { minimum: 0 } } }] }, 'x.json');
    expect(zero.tenants[0]!.sync.deleteThreshold).toEqual({ count: 50, percent: 5, minimum: 0 });
    expect(() => parseTenantsConfig({ tenants: [{ ...minimal.tenants[0], sync: { deleteThreshold: { minimum: -1 } } }] }, 'x.json')).toThrow(/deleteThreshold\.minimum/);
  });

  it('lists every problem with its path, not just the first', () => {
    const problems = problemsOf(() =>
      parseTenantsConfig(
        {
          tenants: [
            { id: 'Bad_Id', netease: { domain: 'not a domain', region: 'sh' }, extra: true },
            { id: 'ok-one', netease: { domain: 'x.com', product: 'p', region: 'hz', apiBaseUrl: 'ftp://x' } },
          ],
        },
        'bad.json',
      ),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['tenants[0].id', 'tenants[0].netease.domain', 'tenants[0].netease.product', 'tenants[0].netease.region', 'tenants[0]', 'tenants[1].netease.apiBaseUrl']),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('refuses duplicate tenant ids and domains', () => {
    const t = minimal.tenants[0]!;
    const problems = problemsOf(() => parseTenantsConfig({ tenants: [t, { ...t }] }, 'dup.json'));
    expect(problems.map((p) => p.path)).toEqual(['tenants[1].id', 'tenants[1].netease.domain']);
  });

  it('refuses a sync source or notification channel the tenant does not configure', () => {
    const problems = problemsOf(() =>
      parseTenantsConfig({ tenants: [{ ...minimal.tenants[0], sync: { source: 'dingtalk' }, notifications: { enabled: true } }] }, 'x.json'),
    );
    expect(problems.map((p) => p.path)).toEqual(['tenants[0].sync.source', 'tenants[0].notifications.channel']);
  });

  it('reports invalid JSON with a line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'tenants.json');
    writeFileSync(file, '{\n  "tenants": [\n    { "id": "a", }\n  ]\n}');
    const problems = problemsOf(() => loadTenantsFile(file));
    expect(problems[0]!.path).toMatch(/^line 3, column \d+$/);
  });

  it('reports a missing file as a problem, not a crash', () => {
    const problems = problemsOf(() => loadTenantsFile('/nonexistent/tenants.json'));
    expect(problems[0]!.reason).toMatch(/ENOENT/);
  });

  it('reads QIYE_TENANTS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify(minimal));
    expect(loadTenantsConfig({ QIYE_TENANTS_FILE: file }).tenants[0]!.id).toBe('acme');
  });

  it('accepts the shipped example and local sandbox configs', () => {
    expect(loadTenantsFile('config/tenants.json').tenants.length).toBeGreaterThan(0);
    const local = loadTenantsFile('config/tenants.local.json');
    for (const t of local.tenants) expect(new URL(t.netease.apiBaseUrl).hostname).toBe('127.0.0.1');
  });
});

describe('function environment', () => {
  it('requires the secrets file when the file backend is chosen', () => {
    const problems = problemsOf(() => loadEnv({ TABLE_NAME: 'qiye-bridge-local', QIYE_SECRETS_BACKEND: 'file' }));
    expect(problems[0]!.path).toBe('QIYE_SECRETS_FILE');
  });

  it('lists every invalid variable', () => {
    const problems = problemsOf(() => loadEnv({ QIYE_STAGE: 'Prod!', QUEUE_URL_SYNC: 'not a url' }));
    expect(problems.map((p) => p.path).sort()).toEqual(['QIYE_STAGE', 'QUEUE_URL_SYNC', 'TABLE_NAME']);
  });
});

describe('tenant config: every problem at once', () => {
  it('reports duplicate ids and domains even when another tenant is invalid', () => {
    const t = { id: 'aa1', netease: { domain: 'a.com', product: 'p', region: 'hz' }, ekp: { baseUrl: 'https://x.example.com', auth: { type: 'none' } } };
    const problems = problemsOf(() => parseTenantsConfig({ tenants: [t, { ...t }, { id: 'bad!', netease: { domain: 'b.com', region: 'xx' } }] }, 'f.json'));
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['tenants[1].id', 'tenants[1].netease.domain', 'tenants[2].id', 'tenants[2].netease.region', 'tenants[2].netease.product']));
  });
});
