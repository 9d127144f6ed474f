/** listTenants and requireTenant (shared/use-cases/list-tenants.ts): the admin API's tenant listing and look-up. */
import { describe, expect, it } from 'vitest';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { NotFoundError } from '../../shared/errors/app-error';
import { listTenants, requireTenant } from '../../shared/use-cases/list-tenants';

const config = {
  tenants: [
    tenantSchema.parse({
      id: 'acme',
      displayName: 'Acme',
      netease: { domain: 'acme.com', product: 'acme_product', region: 'hz', apiBaseUrl: 'http://127.0.0.1:9/api' },
      ekp: { baseUrl: 'http://127.0.0.1:9/ekp', auth: { type: 'none' } },
      wecom: { corpId: 'wwacme', agentId: '1000002' },
      sync: { source: 'ekp' },
    }),
    tenantSchema.parse({ id: 'beta', netease: { domain: 'beta.com', product: 'p', region: 'hz' }, dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' } }),
  ],
};

describe('listTenants', () => {
  it('lists every tenant in config order with its NetEase settings, vendor sections, sync source and secret names', () => {
    const [acme, beta] = listTenants(config, 'prod');
    expect(acme).toMatchObject({
      id: 'acme',
      displayName: 'Acme',
      netease: { domain: 'acme.com', product: 'acme_product', region: 'hz', apiBaseUrl: 'http://127.0.0.1:9/api' },
      sources: ['ekp', 'wecom'],
      syncSource: 'ekp',
    });
    expect(acme!.secrets).toContain('qiye-bridge/prod/acme/netease');
    expect(acme!.secrets.every((n) => n.startsWith('qiye-bridge/prod/acme/'))).toBe(true);
    expect(beta).toMatchObject({ id: 'beta', sources: ['dingtalk'] });
  });

  it('shows no NetEase setting beyond the listed ones (no key material, no rate limits)', () => {
    const [acme] = listTenants(config, 'prod');
    expect(Object.keys(acme!.netease).sort()).toEqual(['apiBaseUrl', 'domain', 'product', 'region', 'ssoEntryUrl']);
  });
});

describe('requireTenant', () => {
  it('returns the configured tenant', () => {
    expect(requireTenant(config, 'beta').id).toBe('beta');
  });

  it('refuses an unknown id with TENANT.UNKNOWN, quoting at most 32 characters of it', () => {
    const err = (() => {
      try {
        return requireTenant(config, 'x'.repeat(100));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'TENANT.UNKNOWN', message: `Unknown tenant "${'x'.repeat(32)}".` });
  });
});
