/**
 * Scheduled (every 2 minutes, SCHEDULES in the app manifest): fan out new-mail checks for
 * the people of every tenant with notifications on, to the `notify` queue.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { DynamoNotifyStore } from '../../../shared/adapters/aws/dynamo-notify.store';
import type { NotifyChannel } from '../../../shared/contracts/notify-job';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { NotConfiguredError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { getRuntime, type Runtime } from '../../../shared/runtime/runtime';
import { planNotifications, type PlanNotificationsDeps, type PlanNotificationsResult } from '../../../shared/use-cases/notify/plan-notifications';

export type Deps = PlanNotificationsDeps;

export function makeHandler(deps: Deps): () => Promise<PlanNotificationsResult> {
  return () => planNotifications(deps);
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
  });
  return async () => fn();
});
