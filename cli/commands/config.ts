import { loadTenantsFile } from '../../shared/config/load-config';
import { tenantSecretRefs } from '../../shared/config/secrets';
import type { Command } from './command';

export const configValidate: Command = {
  name: 'config validate',
  summary: 'Validate a tenant config file and list every problem.',
  usage: 'npx qiye-bridge config validate [--file config/tenants.json] [--stage <stage>]',
  options: { file: { type: 'string' } },
  async run({ values }, ctx) {
    const file = typeof values.file === 'string' ? values.file : ctx.tenantsFile;
    const cfg = loadTenantsFile(file); // throws ConfigError listing every problem
    ctx.out(`${file}: OK, ${cfg.tenants.length} tenant(s)`);
    for (const t of cfg.tenants) {
      const sources = (['ekp', 'dingtalk', 'wecom'] as const).filter((k) => t[k]);
      ctx.out(`  ${t.id}: ${t.netease.domain} (${t.netease.region}), sources: ${sources.join(', ') || 'none'}, sync source: ${t.sync.source ?? 'none'}`);
    }
  },
};

export const tenantsList: Command = {
  name: 'tenants list',
  summary: 'List tenants, their NetEase hosts and the secret names to create.',
  usage: 'npx qiye-bridge tenants list [--stage <stage>]',
  async run(_args, ctx) {
    for (const t of ctx.config().tenants) {
      ctx.out(`${t.id}  ${t.displayName ?? ''}`);
      ctx.out(`  NetEase: ${t.netease.domain}, product ${t.netease.product}, region ${t.netease.region}`);
      ctx.out(`    API ${t.netease.apiBaseUrl}`);
      ctx.out(`    SSO ${t.netease.ssoEntryUrl}`);
      ctx.out(`    unread ${t.netease.unreadUrl}`);
      ctx.out(`  secrets: ${tenantSecretRefs(ctx.stage, t).map((r) => r.name).join(', ')}`);
    }
  },
};
