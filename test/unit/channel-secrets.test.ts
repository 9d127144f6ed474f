/**
 * Secret names of extra channels: one naming function (secretName) behind the tenant's list of
 * secrets (tenantSecretRefs), which the CDK stack, `secrets set`, the console and the local
 * sandbox all read; the console shows each channel's secret on its own.
 */
import { describe, expect, it } from 'vitest';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { channelSecretName, tenantChannels } from '../../shared/config/channels';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { secretName, tenantSecretRefs } from '../../shared/config/secrets';
import { secretPresence } from '../../shared/use-cases/console/console-queries';

const tenant = parseTenantsConfig(
  {
    tenants: [
      {
        id: 'group',
        netease: { domain: 'group.example.com', product: 'p', region: 'hz' },
        ekp: { baseUrl: 'https://oa.group.example.com', auth: { type: 'none' } },
        dingtalk: { corpId: 'dinghq', appKey: 'hq', agentId: '1' },
        channels: [
          { id: 'sub', vendor: 'dingtalk', corpId: 'dingsub', appKey: 'sub', agentId: '2' },
          { id: 'labs', vendor: 'wecom', corpId: 'wwlabs', agentId: '3' },
        ],
        sync: { source: 'ekp' },
      },
    ],
  },
  'test',
).tenants[0]!;

describe('extra channels\' secrets', () => {
  it('are named <kind>/<channel id> under the tenant; the top-level section keeps the tenant\'s name', () => {
    expect(secretName('prod', 'group', 'dingtalk')).toBe('qiye-bridge/prod/group/dingtalk');
    expect(secretName('prod', 'group', 'dingtalk', 'dingtalk')).toBe('qiye-bridge/prod/group/dingtalk');
    expect(secretName('prod', 'group', 'dingtalk', 'sub')).toBe('qiye-bridge/prod/group/dingtalk/sub');
    expect(tenantChannels(tenant).map((c) => channelSecretName('prod', 'group', c))).toEqual([
      'qiye-bridge/prod/group/dingtalk',
      'qiye-bridge/prod/group/dingtalk/sub',
      'qiye-bridge/prod/group/wecom/labs',
    ]);
  });

  it('are in the tenant\'s list of secrets, after its own kinds, with their vendor as the kind', () => {
    expect(tenantSecretRefs('prod', tenant)).toEqual([
      { kind: 'netease', name: 'qiye-bridge/prod/group/netease' },
      { kind: 'oa', name: 'qiye-bridge/prod/group/oa' },
      { kind: 'ekp', name: 'qiye-bridge/prod/group/ekp' },
      { kind: 'dingtalk', name: 'qiye-bridge/prod/group/dingtalk' },
      { kind: 'dingtalk', channelId: 'sub', name: 'qiye-bridge/prod/group/dingtalk/sub' },
      { kind: 'wecom', channelId: 'labs', name: 'qiye-bridge/prod/group/wecom/labs' },
    ]);
  });

  it('are shown in the console one by one: present, missing or invalid', async () => {
    const secrets = new MemorySecrets({ 'qiye-bridge/prod/group/dingtalk/sub': { appSecret: 's' }, 'qiye-bridge/prod/group/wecom/labs': { callbackAesKey: 'too-short' } });
    const shown = (await secretPresence(secrets, 'prod', tenant)).filter((s) => s.channelId !== undefined);
    expect(shown).toEqual([
      { kind: 'dingtalk', channelId: 'sub', name: 'qiye-bridge/prod/group/dingtalk/sub', state: 'present' },
      { kind: 'wecom', channelId: 'labs', name: 'qiye-bridge/prod/group/wecom/labs', state: 'invalid' },
    ]);
  });
});
