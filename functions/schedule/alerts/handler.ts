/**
 * Scheduled (every minute, SCHEDULES in the app manifest): console alerts for parked,
 * failed and stuck runs, silent callbacks and dead letters (shared/use-cases/console/raise-alerts.ts),
 * to each tenant's admins (DingTalk work notice, WeCom app message or group robot) and the alarm topic.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { snsAlarmTopic } from '../../../shared/adapters/aws/sns.alarm-topic';
import { SqsDeadLetterQueues } from '../../../shared/adapters/aws/sqs.dead-letters';
import { createDingtalkClient, type DingtalkClient } from '../../../shared/adapters/dingtalk';
import { postRobotMarkdown } from '../../../shared/adapters/http/robot-webhook';
import { createWecomClient, type WecomClient } from '../../../shared/adapters/wecom';
import { lazyHandler } from '../../../shared/http/http-handler';
import { getRuntime } from '../../../shared/runtime/runtime';
import { makeAlertChannels } from '../../../shared/use-cases/console/alert-channels';
import { raiseAlerts, type AlertDeps, type AlertReport } from '../../../shared/use-cases/console/raise-alerts';

export function makeHandler(deps: AlertDeps): () => Promise<AlertReport> {
  return () => raiseAlerts(deps);
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('alerts');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  const opts = { secrets: rt.secrets, stage: rt.stage, logger: rt.logger };
  const dingtalk = new Map<string, DingtalkClient>();
  const wecom = new Map<string, WecomClient>();
  const channels = makeAlertChannels({
    dingtalk: (t) => dingtalk.get(t.id) ?? dingtalk.set(t.id, createDingtalkClient(t, opts)).get(t.id)!,
    wecom: (t) => wecom.get(t.id) ?? wecom.set(t.id, createWecomClient(t, opts)).get(t.id)!,
    robot: async (t, m) => {
      const secret = await rt.tenantSecret(t.id, 'alerts');
      await postRobotMarkdown({ vendor: t.console.alerts.robot ?? 'dingtalk', webhookUrl: secret.robotWebhookUrl, ...(secret.signSecret ? { signSecret: secret.signSecret } : {}), title: m.title, markdown: m.markdown, now: rt.clock.now() });
    },
    topic: snsAlarmTopic(),
  });
  const deadLetters = SqsDeadLetterQueues.fromEnv();
  const fn = makeHandler({
    tenants: () => rt.tenants.tenants,
    runs: stores.runs,
    once: stores.once,
    cache: stores.cache,
    clock: rt.clock,
    logger: rt.logger,
    channels,
    ...(deadLetters ? { deadLetters } : {}),
    // The HTTP API's URL (CDK and the local stack set it); links are relative without it.
    consoleBaseUrl: (rt.env.QIYE_PUBLIC_BASE_URL ?? '').replace(/\/+$/, ''),
  });
  return async () => fn();
});
