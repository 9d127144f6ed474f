/** Tenant config of the mail features (shared/config/maillists.schema.ts). */
import { describe, expect, it } from 'vitest';
import { tenantSchema } from '../../shared/config/tenant-config.schema';

const base = {
  id: 'acme',
  netease: { domain: 'acme.com', product: 'acme_com', region: 'hz' },
  ekp: { baseUrl: 'https://oa.acme.com/ekp', auth: { type: 'none' } },
};

describe('mail features config', () => {
  it('refuses mailing lists without the open platform, naming the setting', () => {
    const r = tenantSchema.safeParse({ ...base, sync: { mailLists: { enabled: true } } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('sync.mailLists.enabled');
  });

  it('accepts lists with the open platform and fills the defaults', () => {
    const t = tenantSchema.parse({ ...base, netease: { ...base.netease, openPlatform: { appId: 'a', orgOpenId: 'o' } }, sync: { mailLists: { enabled: true }, aliases: { rule: 'pinyin' } } });
    expect(t.sync.mailLists).toEqual({ enabled: true, naming: { rule: 'pinyin', prefix: '', suffix: '' }, includeSubDepartments: false });
    expect(t.sync.aliases).toEqual({ rule: 'pinyin' });
  });

  it('refuses an unknown alias field and a prefix NetEase cannot take', () => {
    expect(tenantSchema.safeParse({ ...base, sync: { aliases: { rule: 'field', field: 'mobile' } } }).success).toBe(false);
    expect(tenantSchema.safeParse({ ...base, netease: { ...base.netease, openPlatform: { appId: 'a', orgOpenId: 'o' } }, sync: { mailLists: { enabled: true, naming: { rule: 'id', prefix: 'Dept @' } } } }).success).toBe(false);
  });

  it('leaves both features off by default', () => {
    const t = tenantSchema.parse(base);
    expect(t.sync.mailLists).toBeUndefined();
    expect(t.sync.aliases).toBeUndefined();
  });
});
