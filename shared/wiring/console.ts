/**
 * The operator console's and the alerts schedule's wiring: the console store and dead-letter
 * queues on AWS, the sign-in identities and CAS of the process's tenant clients, the alert
 * channels (work app, group robot, SNS alarm topic). Links and the OAuth / CAS return
 * addresses come from the HTTP API's configured public URL (QIYE_PUBLIC_BASE_URL,
 * shared/config/public-url.ts), never from a request's Host.
 */
import { DynamoConsoleStore } from '../adapters/aws/dynamo-console.store';
import { snsAlarmTopic } from '../adapters/aws/sns.alarm-topic';
import { SqsDeadLetterQueues } from '../adapters/aws/sqs.dead-letters';
import { postRobotMarkdown } from '../adapters/http/robot-webhook';
import { ConfigError } from '../errors/app-error';
import type { StateStores } from '../ports/state-stores';
import type { Runtime } from '../runtime/runtime';
import type { ConsoleDeps } from '../use-cases/console/console-deps';
import type { AlertDeps } from '../use-cases/console/raise-alerts';
import { consoleKeysFrom } from '../use-cases/console/session';
import type { SyncDeps } from '../use-cases/sync/sync-deps';
import { makeAlertChannels } from './alert-channels';
import type { TenantClients } from './tenant-clients';

/** The console's dependencies; `sync` is the admin's sync engine (runs, approvals, sync now). */
export function consoleDepsOf(rt: Runtime, stores: StateStores, clients: TenantClients, sync: SyncDeps): ConsoleDeps {
  const deadLetters = SqsDeadLetterQueues.fromEnv();
  const consoleBaseUrl = rt.env.QIYE_PUBLIC_BASE_URL;
  return {
    config: rt.tenants,
    logger: rt.logger,
    clock: rt.clock,
    stage: rt.stage,
    store: new DynamoConsoleStore(rt.ddb, rt.tableName, { clock: rt.clock }),
    once: stores.once,
    secrets: rt.secrets,
    sync,
    keys: consoleKeysFrom(rt.secrets, rt.stage),
    signIn: {
      once: stores.once,
      clock: rt.clock,
      oaLinkSecret: async (t) => (await rt.tenantSecret(t.id, 'oa')).linkSecret,
      vendorSso: (t, vendor) => clients.signInIdentity(t, vendor),
      cas: (t) => clients.cas(t),
      ...(consoleBaseUrl ? { consoleBaseUrl } : {}),
    },
    ...(deadLetters ? { deadLetters } : {}),
    tokenCheck: (t) => clients.workAppTokenCheck(t),
  };
}

/** The alerts schedule's dependencies. */
export function alertsDepsOf(rt: Runtime, stores: StateStores, clients: TenantClients): AlertDeps {
  const consoleBaseUrl = rt.env.QIYE_PUBLIC_BASE_URL;
  if (!consoleBaseUrl) {
    throw new ConfigError('Function environment is invalid:', [{ file: 'env', path: 'QIYE_PUBLIC_BASE_URL', reason: 'QIYE_PUBLIC_BASE_URL (the HTTP API URL) is required for the console links in alerts' }]);
  }
  const channels = makeAlertChannels({
    dingtalk: (t) => clients.dingtalkNotifier(t),
    wecom: (t) => clients.wecomNotifier(t),
    robot: async (t, m) => {
      const secret = await rt.tenantSecret(t.id, 'alerts');
      await postRobotMarkdown({ vendor: t.console.alerts.robot ?? 'dingtalk', webhookUrl: secret.robotWebhookUrl, ...(secret.signSecret ? { signSecret: secret.signSecret } : {}), title: m.title, markdown: m.markdown, now: rt.clock.now() });
    },
    topic: snsAlarmTopic(),
  });
  const deadLetters = SqsDeadLetterQueues.fromEnv();
  return {
    tenants: () => rt.tenants.tenants,
    runs: stores.runs,
    once: stores.once,
    cache: stores.cache,
    clock: rt.clock,
    logger: rt.logger,
    channels,
    ...(deadLetters ? { deadLetters } : {}),
    consoleBaseUrl,
  };
}
