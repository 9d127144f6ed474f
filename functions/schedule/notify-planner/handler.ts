/**
 * Scheduled (every minute, SCHEDULES in the app manifest): fan out new-mail checks for
 * the people of every tenant with notifications on, to the `notify` queue (each batch twice:
 * at once and 30 s later), and check the vendors' API budgets (80 % / 100 % warnings).
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { DynamoNotifyStore } from '../../../shared/adapters/aws/dynamo-notify.store';
import type { NotifyChannel } from '../../../shared/contracts/notify-job';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { NotConfiguredError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { getRuntime, type Runtime } from '../../../shared/runtime/runtime';
import { emfMetric, usageWiring } from '../../../shared/runtime/usage';
import { checkBudgets } from '../../../shared/use-cases/usage/usage-report';
import { planNotifications, type PlanNotificationsDeps, type PlanNotificationsResult } from '../../../shared/use-cases/notify/plan-notifications';

export type Deps = PlanNotificationsDeps & { metric?(name: string, value: number, dimensions: Record<string, string>): void };

export function makeHandler(deps: Deps): () => Promise<PlanNotificationsResult> {
  return async () => {
    const result = await planNotifications(deps);
    // The budget warnings of tenants with notices (the sync schedules check theirs too).
    if (deps.usage) {
      const usage = deps.usage;
      for (const t of deps.tenants.filter((x) => x.notifications.enabled)) {
        await checkBudgets({ usage, clock: deps.clock, logger: deps.logger, tenant: (id) => deps.tenants.find((x) => x.id === id), ...(deps.metric ? { metric: deps.metric } : {}) }, t.id).catch((err: unknown) =>
          deps.logger.warn('usage check failed', { tenant: t.id, err }),
        );
      }
    }
    return result;
  };
}

/**
 * The channel secret must exist and hold the app secret that sends messages: DingTalk's
 * `appSecret` (asyncsend_v2 uses the app's token), WeCom's self-built app `appSecret`
 * (message/send is refused with the 通讯录同步 secret, reference wecom.md §4-6).
 */
export function secretChannelCheck(rt: Pick<Runtime, 'tenantSecret'>) {
  return async (tenant: TenantConfig, channel: NotifyChannel): Promise<{ ok: true } | { ok: false; reason: string }> => {
    try {
      const secret = await rt.tenantSecret(tenant.id, channel);
      if (!secret.appSecret) return { ok: false, reason: `the tenant's ${channel} secret has no appSecret (the self-built app's secret sends app messages)` };
      return { ok: true };
    } catch (err) {
      if (err instanceof NotConfiguredError) return { ok: false, reason: err.message };
      throw err;
    }
  };
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('notifyPlanner');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  const fn = makeHandler({
    tenants: rt.tenants.tenants,
    mappings: stores.mappings,
    notifyStore: new DynamoNotifyStore(rt.ddb, rt.tableName, { clock: rt.clock }),
    jobs: rt.jobs,
    clock: rt.clock,
    logger: rt.logger,
    channelReady: secretChannelCheck(rt),
    usage: usageWiring(rt).store,
    metric: emfMetric(rt.stage),
  });
  return async () => fn();
});
